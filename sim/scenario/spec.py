"""The scenario's frozen types: what a validated scenario file becomes.

Every numeric field is a :class:`Param` (a number or a distribution, with its dotted
path); :class:`Scenario` holds the agenda, both sides, the calendar, events, the
declared sweep factors and, if the file has one, the negotiation record.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from sim.distributions import Dist
from sim.negotiation.agenda import Issue

MILESTONES = {
    "agreement": "agreement in principle",
    "signed": "signed text",
    "ratified": "domestic ratification",
}


class ScenarioError(ValueError):
    """A scenario file is malformed. ``str()`` gives ``file: field: problem``."""

    def __init__(self, file: str, field_path: str, problem: str) -> None:
        self.file, self.field, self.problem = file, field_path, problem
        super().__init__(f"{file}: {field_path}: {problem}" if field_path else f"{file}: {problem}")


class Param(NamedTuple):
    """A numeric scenario parameter: its dotted path and a number or a distribution."""

    path: str
    value: float | Dist

    @property
    def uncertain(self) -> bool:
        """Whether the parameter is a distribution."""
        return isinstance(self.value, Dist)

    @property
    def fixed(self) -> float:
        """The value of a fixed parameter (a :class:`TypeError` for a distribution)."""
        if isinstance(self.value, Dist):
            raise TypeError(f"{self.path} is uncertain, not a fixed number")
        return float(self.value)

    @property
    def nominal(self) -> float:
        """The fixed value, or the distribution's median."""
        return self.value.median if isinstance(self.value, Dist) else float(self.value)

    @property
    def support(self) -> tuple[float, float]:
        """Smallest and largest value it can take."""
        if isinstance(self.value, Dist):
            return self.value.support
        return float(self.value), float(self.value)


@dataclass(frozen=True)
class Tactic:
    """A side's concession tactic (see :mod:`sim.negotiation.tactics`)."""

    kind: str
    family: str
    beta: Param
    kappa: Param
    reciprocity: Param
    min_step: Param
    spread: Param  # 0: logroll (concede where it costs least per unit the other gains); 1: the same share of each


@dataclass(frozen=True)
class Acceptance:
    """A side's acceptance rule (see :mod:`sim.negotiation.acceptance`)."""

    rule: str
    alpha: Param
    beta: Param
    level: Param


@dataclass(frozen=True)
class Ratification:
    """A side's domestic ratification: the second level of Putnam's game."""

    required: bool
    win_set: Param
    delay_days: Param
    anticipated: bool


@dataclass(frozen=True)
class PartySpec:
    """One negotiating side. Per-issue tuples follow the agenda's order."""

    key: str
    label: str
    weights: tuple[Param, ...]
    best: tuple[Param, ...]
    worst: tuple[Param, ...]
    limit_min: tuple[Param, ...]
    limit_max: tuple[Param, ...]
    reservation: Param
    deadline_day: int
    deadline_offset: Param
    walk_away_gap: Param
    deadline_cost: Param  # share of its surplus it gives up to close before the public deadline
    deadline_window: Param  # days before the public deadline it starts to feel it
    tactic: Tactic
    acceptance: Acceptance
    weight_noise: Param
    knows_opponent_limits: bool
    opponent_reservation: Param  # belief about the other side's reservation value (Zeuthen's risk)
    ratification: Ratification


@dataclass(frozen=True)
class Meeting:
    """A scheduled round of talks."""

    day: int
    label: str
    probability: Param


@dataclass(frozen=True)
class EventSpec:
    """A shock that changes one side's stance for a time.

    It fires on ``day`` (with ``probability``) or, if ``hazard`` is set, on a
    random day of ``[window_from, window_until]`` with that daily probability. Its effects on
    the side's stance last ``duration_days``; a move of the public deadline
    (``deadline_shift`` days, for both sides) lasts from the day it fires.
    """

    name: str
    label: str
    party: int
    day: int | None
    hazard: Param | None
    window_from: int
    window_until: int
    probability: Param
    duration_days: Param
    reservation: Param
    beta_factor: Param
    min_shift: tuple[Param, ...]
    max_shift: tuple[Param, ...]
    deadline_shift: Param


class Bounds(NamedTuple):
    """The valid range of a numeric field (``positive``: strictly above ``lo``)."""

    lo: float
    hi: float
    positive: bool = False

    def check(self, value: float) -> str | None:
        """Why ``value`` is not valid for the field, or None if it is."""
        if not math.isfinite(value):
            return f"must be finite, got {value!r}"
        if self.positive and value <= max(self.lo, 0.0):
            return f"must be > {max(self.lo, 0.0):g}, got {value:g}"
        if not self.lo <= value <= self.hi:
            return f"must be in [{self.lo:g}, {self.hi:g}], got {value:g}"
        return None


class FactorSpec(NamedTuple):
    """A parameter a sweep may vary, declared in the scenario: an exogenous uncertainty or a
    policy lever (the distinction of exploratory modelling, as in the EMA Workbench)."""

    path: str
    low: float
    high: float
    kind: str  # "uncertainty" or "lever"
    label: str
    values: tuple[float, ...] = ()  # grid levels, if declared


@dataclass(frozen=True)
class Position:
    """A side's position on one issue as reported on a date: what it asked or offered.

    ``precision`` is the standard deviation of the reporting error, in the issue's units
    (how precisely the report pins the position down, not how firm the side was).
    """

    date: dt.date
    day: int
    side: int
    issue: int
    value: float
    precision: float
    source: str


@dataclass(frozen=True)
class EventFact:
    """What was known of a scenario event: it struck on ``date``, or (``date`` None) it had
    not struck by ``checked``."""

    name: str
    date: dt.date | None
    day: int | None
    checked: dt.date | None
    checked_day: int | None
    source: str


@dataclass(frozen=True)
class RoundFact:
    """Whether a scheduled round (a ``[[calendar.meetings]]`` date, or the summit) takes place,
    as known from ``announced`` (the day it was confirmed or cancelled; its own day by default)."""

    date: dt.date
    day: int
    held: bool
    source: str
    announced: dt.date  # when it became known: its own date unless confirmed or cancelled in advance
    known_from: int  # that date's day


@dataclass(frozen=True)
class MilestoneFact:
    """A milestone reached on ``date`` (an agreement in principle announced, a text signed):
    worlds must reach it within ``window`` days up to that date, and the forecast is then of
    the next milestone."""

    name: str
    date: dt.date
    day: int
    window: int
    source: str


@dataclass(frozen=True)
class Progress:
    """A report of how far apart the sides still were on a date ("one or two issues left",
    "close to a deal", "terms agreed", "not at the final stage").

    It counts the issues on which the sides' standing offers still differ by more than
    ``tolerance`` of the issue's range, and says that count lies in ``apart``. Such reports are
    right with probability ``reliability`` (else the count lies outside ``apart``): one report
    can shift the odds of a world by at most ``reliability / (1 − reliability)``.
    """

    date: dt.date
    day: int
    apart: tuple[int, ...]
    tolerance: float
    reliability: float
    text: str
    source: str


@dataclass(frozen=True)
class News:
    """A dated report that moves no modelled number (a label for the timeline)."""

    date: dt.date
    day: int
    text: str
    source: str


@dataclass(frozen=True)
class Record:
    """The negotiation record: what each side said and did, with dates and sources.

    A forecast as of a date conditions on the entries dated on or before it, and on the
    talks being still open then (no agreement, nobody gone).
    """

    file: str
    positions: tuple[Position, ...] = ()
    events: tuple[EventFact, ...] = ()
    rounds: tuple[RoundFact, ...] = ()
    news: tuple[News, ...] = ()
    progress: tuple[Progress, ...] = ()
    milestones: tuple[MilestoneFact, ...] = ()

    def dates(self) -> list[dt.date]:
        """Every date with an entry, ascending (the timeline's forecast dates)."""
        dates = {p.date for p in self.positions} | {n.date for n in self.news}
        dates |= {r.announced for r in self.rounds}
        dates |= {p.date for p in self.progress} | {m.date for m in self.milestones}
        dates |= {e.date for e in self.events if e.date is not None}
        return sorted(dates)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Build it with :func:`load_scenario` or :func:`parse_scenario`."""

    path: str
    sha256: str
    name: str
    title: str
    description: str
    start: dt.date
    deadline: dt.date
    horizon: dt.date
    first_mover: int  # index of the side that opens every meeting; -1: alternate
    headline: str
    #: The kind of talk (e.g. ``meeting``, ``tariff_threat``: the case library's templates): priors
    #: learned across cases are learned per kind (:mod:`sim.forecast.priors`); "" for none.
    kind: str
    summit_label: str
    issues: tuple[Issue, ...]
    parties: tuple[PartySpec, PartySpec]
    meetings: tuple[Meeting, ...]
    contact_rate: Param
    summit_max_gap: Param
    signing_delay: Param
    events: tuple[EventSpec, ...]
    #: The chance the leaders' summit takes place (None: certain).
    summit_probability: Param | None = None
    uncertain: tuple[Param, ...] = field(default=())
    #: Every numeric field, by dotted path, with its valid range: what a sweep may vary.
    numbers: dict[str, Bounds] = field(default_factory=dict, compare=False)
    #: Declared sweep factors (``[[uncertainties]]`` and ``[[levers]]``), in file order.
    factors: tuple[FactorSpec, ...] = field(default=())
    #: The negotiation record (dated positions, events, rounds, news), if the file has one.
    record: Record | None = None
    #: The document it was validated from (a copy): what rescaled priors rebuild it from
    #: (:mod:`sim.forecast.priors`), keeping the page's settings and what-ifs.
    document: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def observation_days(self) -> tuple[int, ...]:
        """Days (since the start) on which engines record each side's standing offer: the
        record's position and progress dates, ascending."""
        if self.record is None:
            return ()
        return tuple(sorted({p.day for p in self.record.positions} | {p.day for p in self.record.progress}))

    @property
    def observation_days_array(self) -> np.ndarray:
        """:attr:`observation_days` as an int64 array (what the engines take)."""
        return np.array(self.observation_days, dtype=np.int64)

    @property
    def summit_day(self) -> int:
        """The summit's day (the deadline), counted from the start."""
        return (self.deadline - self.start).days

    @property
    def horizon_day(self) -> int:
        """The last simulated day, counted from the start."""
        return (self.horizon - self.start).days

    def by_summit(self, day: Any) -> Any:
        """Whether a milestone reached on ``day`` (−1 if never; an int or an array) came on or
        before the summit: the headline's "before the deadline"."""
        return (day >= 0) & (day <= self.summit_day)

    def date_of(self, day: int) -> dt.date:
        """The calendar date of a day counted from the start."""
        return self.start + dt.timedelta(days=int(day))

    @property
    def issue_keys(self) -> tuple[str, ...]:
        """The issues' keys, in agenda order."""
        return tuple(i.key for i in self.issues)

    @property
    def party_keys(self) -> tuple[str, str]:
        """The two sides' keys, side A first."""
        return (self.parties[0].key, self.parties[1].key)
