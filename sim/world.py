"""Worlds: every random draw of a replication, made up front.

A world holds one replication's sampled parameters, meeting days, event days
and belief noise. Each random quantity has a named stream (``param.<path>``,
``calendar.contacts``, ``event.<name>``, ...) and replication *i* always reads
the same positions of that stream: the draws are a function of
``(seed, stream, i)`` only. So a replication's result does not depend on the
number of workers or on chunking, and two scenarios that share a stream name
share its draws (common random numbers).

Streams are PCG64 generators keyed by the run's seed and the stream's name, jumped
ahead exactly (``advance``) to the chunk's first replication; a draw is an
inverse-CDF transform of one uniform.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from sim.distributions import Dist
from sim.negotiation.acceptance import RULES
from sim.negotiation.tactics import FAMILIES, TACTICS
from sim.scenario import EventSpec, Param, Scenario

#: Meeting kinds in :attr:`Worlds.meetings`.
NO_MEETING, CONTACT, SCHEDULED, SUMMIT = 0, 1, 2, 3


def _bits(seed: int, stream: str, first: int, k: int) -> np.random.PCG64:
    bits = np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(stream.encode())]))
    bits.advance(first * k)  # exact jump: replication i always reads draws i*k .. i*k+k-1
    return bits


def uniforms(seed: int, stream: str, first: int, n: int, k: int = 1) -> np.ndarray:
    """Uniforms in (0, 1) for replications ``first .. first+n-1``: shape ``[n, k]``.

    Row *j* depends only on ``(seed, stream, first + j)``.
    """
    u = np.random.Generator(_bits(seed, stream, first, k)).random(n * k).reshape(n, k)
    u += 2.0**-54  # strictly inside (0, 1): inverse CDFs stay finite
    return u


def bernoulli(seed: int, stream: str, first: int, n: int, k: int, p: np.ndarray) -> np.ndarray:
    """Independent events with probability ``p[j]`` (per replication): bools of shape ``[n, k]``.

    Each 64-bit draw gives two 32-bit uniforms, compared with ``p * 2**32`` without
    conversion to floats (the calendar's daily contacts are the bulk of all draws).
    Row *j* depends only on ``(seed, stream, first + j)``.
    """
    half = (k + 1) // 2
    raw = _bits(seed, stream, first, half).random_raw(n * half).view(np.uint32).reshape(n, 2 * half)[:, :k]
    certain = p >= 1.0
    threshold = (np.clip(p, 0.0, 1.0) * 2.0**32).astype(np.uint64).clip(0, 2**32 - 1).astype(np.uint32)
    hit = raw < threshold[:, None]
    if certain.any():
        hit |= certain[:, None]
    return hit


@dataclass(frozen=True)
class PartyWorld[S]:
    """One side's parameters: for a chunk of replications (``S`` = ``np.ndarray``, leading
    axis: replications) or for one replication (``S`` = ``float``, see :meth:`Worlds.rows`).

    Issue-indexed fields have issues on the last axis; event-indexed fields have
    events there (``[..., E]``, or ``[..., E, I]`` for limit shifts). Codes and flags
    (``tactic``, ``family``, ``rule``, ``knows_opponent_limits``, ...) are scalars too.
    """

    weights: np.ndarray
    best: np.ndarray
    worst: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    reservation: S
    deadline: S
    walk_away_gap: S
    deadline_cost: S
    deadline_window: S
    tactic: S
    family: S
    beta: S
    kappa: S
    reciprocity: S
    min_step: S
    spread: S
    rule: S
    accept_alpha: S
    accept_beta: S
    accept_level: S
    believed_weights: np.ndarray
    knows_opponent_limits: S
    believed_opponent_reservation: S
    ratification_required: S
    win_set: S
    ratification_delay: S
    anticipates_ratification: S
    event_reservation: np.ndarray
    event_beta_factor: np.ndarray
    event_lo_shift: np.ndarray
    event_hi_shift: np.ndarray

    def rows(self) -> list[PartyWorld[float]]:
        """Each replication's parameters (scalars as plain Python numbers: compiled functions
        dispatch fastest on them)."""
        columns = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        lists = {k: v.tolist() for k, v in columns.items() if v.ndim == 1}
        return [PartyWorld(**{k: lists[k][j] if k in lists else v[j] for k, v in columns.items()})
                for j in range(len(self.weights))]


@dataclass(frozen=True)
class Worlds[S]:
    """The worlds of replications ``index`` (one row each) of a run with ``seed``
    (``S`` = ``np.ndarray``), or one of them (``S`` = ``float``, see :meth:`rows`)."""

    seed: int
    index: S
    sampled: dict[str, S]
    parties: tuple[PartyWorld[S], PartyWorld[S]]
    meetings: np.ndarray  # [n, days]: NO_MEETING / CONTACT / SCHEDULED / SUMMIT
    event_day: np.ndarray  # [n, E], -1 where the event does not fire
    event_duration: np.ndarray  # [n, E]
    summit_max_gap: S
    signing_delay: S
    deadline_shift: np.ndarray  # [n, E]: days each event moves the public deadline by, once it fires

    def __len__(self) -> int:
        return len(self.meetings)

    def rows(self: Worlds[np.ndarray]) -> list[World]:
        """Every replication of this chunk as a world of its own (no leading axis)."""
        a, b = (p.rows() for p in self.parties)
        index, gap, delay = self.index.tolist(), self.summit_max_gap.tolist(), self.signing_delay.tolist()
        sampled = {k: v.tolist() for k, v in self.sampled.items()}
        return [Worlds(self.seed, index[j], {k: v[j] for k, v in sampled.items()}, (a[j], b[j]), self.meetings[j],
                       self.event_day[j], self.event_duration[j], gap[j], delay[j], self.deadline_shift[j])
                for j in range(len(self))]

    def row(self: Worlds[np.ndarray], j: int) -> World:
        """Replication ``j`` of this chunk as a world of its own."""
        return self.take(np.array([j])).rows()[0]

    def take(self: Worlds[np.ndarray], rows: np.ndarray) -> Worlds[np.ndarray]:
        """The worlds of some replications of this chunk (``rows``: positions or a mask)."""
        def cut(party: PartyWorld[np.ndarray]) -> PartyWorld[np.ndarray]:
            return PartyWorld(**{f.name: getattr(party, f.name)[rows] for f in dataclasses.fields(party)})

        return Worlds(self.seed, self.index[rows], {k: v[rows] for k, v in self.sampled.items()},
                      (cut(self.parties[0]), cut(self.parties[1])), self.meetings[rows], self.event_day[rows],
                      self.event_duration[rows], self.summit_max_gap[rows], self.signing_delay[rows],
                      self.deadline_shift[rows])


#: One replication's world.
type World = Worlds[float]


@dataclass(frozen=True)
class Known:
    """Facts to condition worlds on exactly (a forecast's record, as of its date): the day
    each event in ``fired`` struck; a day by which each event in ``quiet`` had not struck; and
    whether each scheduled round in ``rounds`` (by day) was held."""

    fired: dict[str, int] = dataclasses.field(default_factory=dict)
    quiet: dict[str, int] = dataclasses.field(default_factory=dict)
    rounds: dict[int, bool] = dataclasses.field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fired or self.quiet or self.rounds)


class _Sampler:
    """Turns a scenario's parameters into arrays for one chunk of replications.

    Every draw is an inverse-CDF transform of uniforms from a named stream (uncertain
    parameters: ``param.<path>``), or of ``given`` uniforms for that stream (``stream ->
    [n, k]``: a forecast's particles, :mod:`sim.forecast.inference`).
    """

    def __init__(self, seed: int, first: int, n: int, fixed_u: float | None = None,
                 given: dict[str, np.ndarray] | None = None) -> None:
        self.seed, self.first, self.n, self.fixed_u, self.given = seed, first, n, fixed_u, given or {}
        self.sampled: dict[str, np.ndarray] = {}

    def u(self, stream: str, k: int = 1) -> np.ndarray:
        if stream in self.given:
            return self.given[stream]
        if self.fixed_u is not None:
            return np.full((self.n, k), self.fixed_u)
        return uniforms(self.seed, stream, self.first, self.n, k)

    def bernoulli(self, stream: str, k: int, p: np.ndarray) -> np.ndarray:
        if self.fixed_u is not None:
            return np.broadcast_to((self.fixed_u < p)[:, None], (self.n, k)).copy()
        return bernoulli(self.seed, stream, self.first, self.n, k, p)

    def value(self, p: Param) -> float | np.ndarray:
        """The parameter as a number if it is fixed, else its draws (both broadcast into arrays)."""
        return self(p) if isinstance(p.value, Dist) else float(p.value)

    def __call__(self, p: Param) -> np.ndarray:
        if not isinstance(p.value, Dist):
            return np.full(self.n, float(p.value))
        if p.path not in self.sampled:
            self.sampled[p.path] = p.value.ppf(self.u(f"param.{p.path}")[:, 0])
        return self.sampled[p.path]

    def each(self, params: tuple[Param, ...]) -> np.ndarray:
        return np.stack([self(p) for p in params], axis=-1)


def _normalise(w: np.ndarray) -> np.ndarray:
    return w / np.sum(w, axis=-1, keepdims=True)


def _geometric_wait(u: np.ndarray, hazard: np.ndarray) -> np.ndarray:
    """Days until an event with a daily ``hazard`` fires (0: the first day), by inverse CDF."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # h -> 0 or 1: handled below
        wait = np.floor(np.log(u) / np.log1p(-hazard))
    return np.where(hazard >= 1, 0, np.where(hazard <= 0, np.inf, wait))


def _fire_probability(e: EventSpec, s: _Sampler, day: int) -> np.ndarray:
    """P(the event's day falls on or before ``day``), per replication, given that it occurs."""
    if e.hazard is None:
        return np.full(s.n, 1.0 if e.day is not None and e.day <= day else 0.0)
    h = s(e.hazard)
    last = min(day, e.window_until)
    span = last - e.window_from + 1
    return np.where(span > 0, 1 - np.power(1 - np.clip(h, 0, 1), max(span, 0)), 0.0)


def sample_worlds(scenario: Scenario, seed: int, first: int, n: int, *, nominal: bool = False,
                  given: dict[str, np.ndarray] | None = None, known: Known | None = None) -> Worlds[np.ndarray]:
    """Draw the worlds of replications ``first .. first+n-1``.

    Args:
        scenario: The validated scenario.
        seed: The run's seed (a non-negative integer).
        first: Index of the first replication.
        n: Number of replications.
        nominal: If true, every uniform is 0.5: each distribution sits at its
            median (a single "typical" world, used for reference plots).
        given: Uniforms in (0, 1) to use instead of some streams' (``stream -> [n, k]``, e.g.
            ``param.<path>`` or ``belief.<side>``).
        known: Facts to condition on exactly (:class:`Known`): events and rounds are then
            drawn from their distribution given those facts, with the same uniforms.
    """
    if seed < 0 or first < 0 or n < 0:
        raise ValueError("seed, first and n must be non-negative")
    s = _Sampler(seed, first, n, 0.5 if nominal else None, given)
    n_issues, n_events = len(scenario.issues), len(scenario.events)
    days = scenario.horizon_day + 1

    weights = [_normalise(s.each(p.weights)) for p in scenario.parties]
    parties = []
    for me, spec in enumerate(scenario.parties):
        other = 1 - me
        z = s.u(f"belief.{spec.key}", n_issues)
        sigma = s(spec.weight_noise)[:, None]
        believed = _normalise(weights[other] * np.exp(sigma * ndtri(z) - 0.5 * sigma**2))
        # effects of the events on this side; zero (or a factor of 1) for the other side's events
        ev_res, ev_beta = np.zeros((n, n_events)), np.ones((n, n_events))
        ev_lo, ev_hi = np.zeros((n, n_events, n_issues)), np.zeros((n, n_events, n_issues))
        for k, e in enumerate(scenario.events):
            if e.party == me:
                ev_res[:, k], ev_beta[:, k] = s.value(e.reservation), s.value(e.beta_factor)
                for i in range(n_issues):
                    for out, shift in ((ev_lo, e.min_shift[i]), (ev_hi, e.max_shift[i])):
                        if shift.uncertain or shift.value != 0.0:  # most events shift few limits
                            out[:, k, i] = s.value(shift)
        t, a = spec.tactic, spec.acceptance
        parties.append(PartyWorld(
            weights=weights[me],
            best=s.each(spec.best),
            worst=s.each(spec.worst),
            lo=s.each(spec.limit_min),
            hi=s.each(spec.limit_max),
            reservation=s(spec.reservation),
            deadline=spec.deadline_day + s(spec.deadline_offset),
            walk_away_gap=s(spec.walk_away_gap),
            deadline_cost=s(spec.deadline_cost),
            deadline_window=s(spec.deadline_window),
            tactic=np.full(n, TACTICS[t.kind]),
            family=np.full(n, FAMILIES[t.family]),
            beta=s(t.beta),
            kappa=s(t.kappa),
            reciprocity=s(t.reciprocity),
            min_step=s(t.min_step),
            spread=s(t.spread),
            rule=np.full(n, RULES[a.rule]),
            accept_alpha=s(a.alpha),
            accept_beta=s(a.beta),
            accept_level=s(a.level),
            believed_weights=believed,
            knows_opponent_limits=np.full(n, spec.knows_opponent_limits),
            believed_opponent_reservation=s(spec.opponent_reservation),
            ratification_required=np.full(n, spec.ratification.required),
            win_set=s(spec.ratification.win_set),
            ratification_delay=s(spec.ratification.delay_days),
            anticipates_ratification=np.full(n, spec.ratification.anticipated),
            event_reservation=ev_res,
            event_beta_factor=ev_beta,
            event_lo_shift=ev_lo,
            event_hi_shift=ev_hi,
        ))

    meetings = s.bernoulli("calendar.contacts", days, s(scenario.contact_rate)).view(np.int8)
    meetings *= CONTACT
    if scenario.meetings:
        held = s.u("calendar.meetings", len(scenario.meetings)) < s.each(
            tuple(m.probability for m in scenario.meetings))
        for k, m in enumerate(scenario.meetings):
            if known is not None and m.day in known.rounds:
                held[:, k] = known.rounds[m.day]
            meetings[held[:, k], m.day] = SCHEDULED
    summit = np.ones(n, dtype=bool)
    if scenario.summit_probability is not None:
        summit = s.u("calendar.summit")[:, 0] < s(scenario.summit_probability)
    if known is not None and scenario.summit_day in known.rounds:
        summit[:] = known.rounds[scenario.summit_day]
    meetings[summit, scenario.summit_day] = SUMMIT  # without the summit, the day keeps its contact, if any

    event_day = np.full((n, n_events), -1, dtype=np.int64)
    for k, e in enumerate(scenario.events):
        u = s.u(f"event.{e.name}", 2)
        p = s(e.probability)
        start = e.window_from
        if known is not None and e.name in known.fired:  # it struck on that day
            event_day[:, k] = known.fired[e.name]
            continue
        if known is not None and e.name in known.quiet:  # it had not struck by then: the rest of its law
            by = known.quiet[e.name]
            start = max(start, by + 1)
            q = _fire_probability(e, s, by) * p  # P(struck by then), before the news
            with np.errstate(divide="ignore", invalid="ignore"):
                p = np.where(q < 1, p - q, 0.0) / np.where(q < 1, 1 - q, 1.0)  # P(occurs | not fired by then)
        occurs = u[:, 0] < p
        if e.hazard is None:
            when = np.full(n, e.day)
            occurs &= start <= (e.day if e.day is not None else -1)
        else:
            when = start + _geometric_wait(u[:, 1], s(e.hazard))  # memoryless: the same law from any day
            occurs &= when <= e.window_until
        event_day[:, k] = np.where(occurs, when, -1).astype(np.int64)
    durations = (np.stack([s(e.duration_days) for e in scenario.events], -1)
                 if scenario.events else np.zeros((n, 0)))
    shifts = (np.stack([np.round(s(e.deadline_shift)) for e in scenario.events], -1)
              if scenario.events else np.zeros((n, 0)))

    return Worlds(
        seed=seed,
        index=np.arange(first, first + n),
        sampled=s.sampled,
        parties=(parties[0], parties[1]),
        meetings=meetings,
        event_day=event_day,
        event_duration=durations,
        summit_max_gap=s(scenario.summit_max_gap),
        signing_delay=s(scenario.signing_delay),
        deadline_shift=shifts,
    )
