"""The page's forecasts: the scenario given its record as of a date, with what-if news.

Pure functions (no Solara). The page's answer is :func:`run_forecast`: exactly what
``python -m sim forecast FILE --as-of D --seed S`` prints for the same settings (the same
particles and target ESS, and a forecast does not depend on the number of workers). What-if
news are record items the user adds (:class:`Hypothetical`): they are written into the
scenario's record and validated like the record file itself, so a bad one gets the
validator's message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from sim.app.settings import PageError
from sim.forecast import priors
from sim.scenario import MILESTONES, Scenario
from sim.scenario.files import toml_value

#: What a page forecast uses: the command line's defaults, so both give the same number.
PARTICLES, TARGET_ESS = 20_000, 2_000
#: Record sections a what-if may add to, with the fields each needs.
KINDS = ("position", "progress", "event", "round")


@dataclasses.dataclass(frozen=True)
class Hypothetical:
    """A record item the user imagines: a reported position, a progress report, one of the
    scenario's events striking, or a round (or the summit) confirmed or cancelled.

    Attributes:
        kind: ``position``, ``progress`` or ``round``.
        date: Its date.
        side, issue, value: A position's side and issue keys and value (a level name for a
            categorical issue).
        apart: A progress report's counts of issues still apart.
        event: The name of the scenario event that strikes on ``date``.
        held: Whether the round takes place (``round``; its date is the round's, the item is
            known from ``announced``).
        announced: When a round's fate became known (None: on its own day).
    """

    kind: str
    date: dt.date
    side: str = ""
    issue: str = ""
    value: float | str = 0.0
    apart: tuple[int, ...] = ()
    event: str = ""
    held: bool = True
    announced: dt.date | None = None

    def entry(self) -> tuple[str, dict[str, Any]]:
        """The record section and table this item adds (validated when the scenario is parsed)."""
        source = "what-if on the page"
        if self.kind == "position":
            return "positions", {"date": self.date, "side": self.side, "issue": self.issue, "value": self.value,
                                 "precision": 1e-9, "source": source}  # the model's own error still applies
        if self.kind == "progress":
            return "progress", {"date": self.date, "issues_apart": list(self.apart), "text": self.label(),
                                "source": source}
        if self.kind == "event":
            return "events", {"name": self.event, "date": self.date, "source": source}
        if self.kind == "round":
            item: dict[str, Any] = {"date": self.date, "held": self.held, "source": source}
            if self.announced is not None:
                item["announced"] = self.announced
            return "rounds", item
        raise PageError(f"unknown kind of record item {self.kind!r} (expected one of: {', '.join(KINDS)})")

    def label(self) -> str:
        """The item in words."""
        if self.kind == "position":
            return f"{self.date}: {self.side} {self.issue} = {self.value}"
        if self.kind == "progress":
            return f"{self.date}: {' or '.join(str(a) for a in self.apart)} issue(s) still apart"
        if self.kind == "event":
            return f"{self.date}: {self.event} strikes"
        when = f" (announced {self.announced})" if self.announced else ""
        return f"{self.date}: round {'held' if self.held else 'cancelled'}{when}"

    @property
    def known_from(self) -> dt.date:
        """The first day a forecast knows it."""
        return self.announced if self.kind == "round" and self.announced else self.date


@dataclasses.dataclass(frozen=True)
class PageForecast:
    """A forecast for the page: the headline milestone by the deadline given the record as of a
    date, the prior beside it, and what produced them."""

    question: str
    deadline: dt.date
    as_of: dt.date | None
    p: float
    low: float
    high: float
    prior: float
    prior_low: float
    prior_high: float
    ess: float
    items: str
    command: str
    warnings: tuple[str, ...] = ()
    priors: str = "the scenario's own judgement"
    track: str = ""  # the learned priors' track record in words ("": none kept)


#: The file name the page gives a what-if's news (``forecast --news``).
NEWS_FILE = "whatif.toml"


def news_file(items: tuple[Hypothetical, ...] | list[Hypothetical]) -> str:
    """The what-if's record items as a news file for ``python -m sim forecast FILE --news``."""
    lines = ["# Imagined record items from the page's what-if tab: python -m sim forecast FILE --news whatif.toml", ""]
    for item in items:
        section, table = item.entry()
        lines += [f"[[{section}]]", *(f"{k} = {toml_value(v)}" for k, v in table.items()), ""]
    return "\n".join(lines)


def record_dates(scenario: Scenario) -> list[dt.date]:
    """The dates a page forecast may be made as of: the record's dates (the timeline's)."""
    return scenario.record.dates() if scenario.record else []


def default_as_of(scenario: Scenario) -> dt.date | None:
    """The scenario's latest record date (None: no record, the forecast is the prior)."""
    dates = record_dates(scenario)
    return dates[-1] if dates else None


def describe_record(scenario: Scenario, as_of: dt.date | None) -> str:
    """What a forecast as of ``as_of`` conditions on, in words."""
    if scenario.record is None or as_of is None:
        return "no record: this is the prior"
    day = (as_of - scenario.start).days
    rec = scenario.record
    counts = [(len([p for p in rec.positions if p.day <= day]), "reported positions"),
              (len([p for p in rec.progress if p.day <= day]), "progress reports"),
              (len([m for m in rec.milestones if m.day <= day]), "milestones reached"),
              (len([e for e in rec.events if (e.day if e.day is not None else e.checked_day or 0) <= day]),
               "events"),
              (len([r for r in rec.rounds if r.known_from <= day]), "rounds")]
    said = ", ".join(f"{n} {what}" for n, what in counts if n)
    return f"the record to {as_of} ({said or 'nothing yet'}) and no deal by then"


def run_forecast(scenario: Scenario, as_of: dt.date | None, seed: int,
                 progress: Callable[[dict[str, float]], None] | None = None, options: str = "") -> PageForecast:
    """The forecast the command line gives for this scenario, date and seed (``options``: the
    ``--set`` options that fix what the page's settings fix, :func:`sim.app.settings.set_options`).

    Raises:
        sim.forecast.conditioning.RecordNotMatched: when the record cannot be matched (no number is given).
    """
    # in the server's own process: a forecast does not depend on the number of workers, and a
    # process pool shared by a threaded server measured slower here (benchmarks/bench_page.py)
    fc = priors.forecast(scenario, as_of, seed=seed, workers=1, particles=PARTICLES, target_ess=TARGET_ESS,
                         progress=progress)  # with the learned priors, as the command line by default
    # the figures forecast.json holds (sim.forecast.report.summary), without the parameters' quantiles
    question = fc.evidence.question(scenario.headline)
    m = fc.probabilities()[question]
    learned = priors.load_learned()
    f, p = m["forecast"]["before_summit"], m["prior"]["before_summit"]
    date = f" --as-of {as_of}" if as_of else ""
    return PageForecast(MILESTONES[question], scenario.deadline, as_of, f["p"], f["low"], f["high"], p["p"], p["low"],
                        p["high"], fc.result.ess, describe_record(scenario, as_of),
                        f"python -m sim forecast {scenario_path_name(scenario)}{date} --seed {seed}{options}",
                        tuple(fc.warnings), _priors_used(learned, scenario.kind),
                        learned.track_record_in_words(scenario.kind) if learned is not None else "")


#: Forecasts the server keeps, by what produced them (a forecast is a function of them alone).
CACHE_SIZE = 256
_CACHE: OrderedDict[Hashable, PageForecast] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_RUNNING: dict[Hashable, threading.Event] = {}  # forecasts being computed, set when each ends


def _priors_used(learned: priors.Learned | None, kind: str) -> str:
    if learned is None:
        return "the scenario's own judgement (no learned priors written)"
    return f"learned across the case library ({learned.describe(kind)})"


def cached_forecast(key: Hashable, scenario: Scenario, as_of: dt.date | None, seed: int,
                    progress: Callable[[dict[str, float]], None] | None = None, options: str = "") -> PageForecast:
    """:func:`run_forecast`, kept for every visitor by ``key`` (the scenario's name, settings and
    record items, the date and the seed: all that the forecast depends on), the least recently
    used dropped beyond :data:`CACHE_SIZE`. A forecast another thread is computing (another
    visitor's, or the server's warm-up) is waited for, not computed twice; if that one stops
    (superseded, or refused), this one computes it."""
    while True:
        with _CACHE_LOCK:
            if key in _CACHE:
                _CACHE.move_to_end(key)
                return _CACHE[key]
            running = _RUNNING.get(key)
            if running is None:
                running = _RUNNING[key] = threading.Event()
                break
        running.wait()
    try:
        result = run_forecast(scenario, as_of, seed, progress, options)
        with _CACHE_LOCK:
            _CACHE[key] = result
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
        return result
    finally:
        with _CACHE_LOCK:
            del _RUNNING[key]
        running.set()


def forecast_key(name: str, values: Mapping[str, float], shocks: bool, as_of: dt.date | None, seed: int,
                 items: tuple[Hypothetical, ...] = ()) -> tuple[Any, ...]:
    """What a page forecast depends on (its :func:`cached_forecast` key): the scenario's name, the
    settings, the what-if items, the date and the seed."""
    return (name, tuple(sorted(values.items())), shocks, items, as_of, seed)


def scenario_path_name(scenario: Scenario) -> str:
    """The scenario's file as the command line is given it (relative to the working folder)."""
    from pathlib import Path

    path = Path(scenario.path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
