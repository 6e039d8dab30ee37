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

from sim.negotiation.acceptance import RULES
from sim.negotiation.tactics import FAMILIES, TACTICS
from sim.scenario import Param, Scenario

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
class PartyWorld:
    """One side's parameters in each replication (leading axis: replications).

    Issue-indexed fields have issues on the last axis; event-indexed fields have
    events there (``[..., E]``, or ``[..., E, I]`` for limit shifts).
    """

    weights: np.ndarray
    best: np.ndarray
    worst: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    reservation: np.ndarray
    deadline: np.ndarray
    walk_away_gap: np.ndarray
    tactic: np.ndarray
    family: np.ndarray
    beta: np.ndarray
    kappa: np.ndarray
    reciprocity: np.ndarray
    min_step: np.ndarray
    rule: np.ndarray
    accept_alpha: np.ndarray
    accept_beta: np.ndarray
    accept_level: np.ndarray
    believed_weights: np.ndarray
    knows_opponent_limits: np.ndarray
    believed_opponent_reservation: np.ndarray
    ratification_required: np.ndarray
    win_set: np.ndarray
    ratification_delay: np.ndarray
    anticipates_ratification: np.ndarray
    event_reservation: np.ndarray
    event_beta_factor: np.ndarray
    event_lo_shift: np.ndarray
    event_hi_shift: np.ndarray


@dataclass(frozen=True)
class Worlds:
    """The worlds of replications ``index`` (one row each) of a run with ``seed``."""

    seed: int
    index: np.ndarray
    sampled: dict[str, np.ndarray]
    parties: tuple[PartyWorld, PartyWorld]
    meetings: np.ndarray  # [n, days]: NO_MEETING / CONTACT / SCHEDULED / SUMMIT
    event_day: np.ndarray  # [n, E], -1 where the event does not fire
    event_duration: np.ndarray  # [n, E]
    summit_max_gap: np.ndarray
    signing_delay: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def row(self, j: int) -> Worlds:
        """Replication ``j`` of this chunk as a world without the leading axis."""
        return _take(_as_lists(self), j)

    def rows(self) -> list[Worlds]:
        """Every replication of this chunk as a world without the leading axis."""
        lists = _as_lists(self)
        return [_take(lists, j) for j in range(len(self))]


def _as_lists(obj):
    # per-replication scalars become lists of plain Python numbers, once per chunk:
    # compiled functions dispatch fastest on them
    if isinstance(obj, np.ndarray):
        return obj.tolist() if obj.ndim == 1 else obj
    if isinstance(obj, dict):
        return {k: _as_lists(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_as_lists(o) for o in obj)
    if dataclasses.is_dataclass(obj):
        return {"__class__": type(obj), **{f.name: _as_lists(getattr(obj, f.name)) for f in _FIELDS[type(obj)]}}
    return obj


def _take(obj, j):
    if isinstance(obj, list | np.ndarray):
        return obj[j]
    if isinstance(obj, tuple):
        return tuple(_take(o, j) for o in obj)
    if isinstance(obj, dict):
        if "__class__" in obj:
            cls = obj["__class__"]
            return cls(**{k: (v if k == "seed" else _take(v, j)) for k, v in obj.items() if k != "__class__"})
        return {k: _take(v, j) for k, v in obj.items()}
    return obj


_FIELDS = {cls: dataclasses.fields(cls) for cls in (PartyWorld, Worlds)}


class _Sampler:
    """Turns a scenario's parameters into arrays for one chunk of replications."""

    def __init__(self, seed: int, first: int, n: int, fixed_u: float | None = None) -> None:
        self.seed, self.first, self.n, self.fixed_u = seed, first, n, fixed_u
        self.sampled: dict[str, np.ndarray] = {}

    def u(self, stream: str, k: int = 1) -> np.ndarray:
        if self.fixed_u is not None:
            return np.full((self.n, k), self.fixed_u)
        return uniforms(self.seed, stream, self.first, self.n, k)

    def bernoulli(self, stream: str, k: int, p: np.ndarray) -> np.ndarray:
        if self.fixed_u is not None:
            return np.broadcast_to((self.fixed_u < p)[:, None], (self.n, k)).copy()
        return bernoulli(self.seed, stream, self.first, self.n, k, p)

    def value(self, p: Param) -> float | np.ndarray:
        """The parameter as a number if it is fixed, else its draws (both broadcast into arrays)."""
        return self(p) if p.uncertain else float(p.value)

    def __call__(self, p: Param) -> np.ndarray:
        if not p.uncertain:
            return np.full(self.n, float(p.value))
        if p.path not in self.sampled:
            self.sampled[p.path] = p.value.ppf(self.u(f"param.{p.path}")[:, 0])
        return self.sampled[p.path]

    def each(self, params: tuple[Param, ...]) -> np.ndarray:
        return np.stack([self(p) for p in params], axis=-1)


def _normalise(w: np.ndarray) -> np.ndarray:
    return w / np.sum(w, axis=-1, keepdims=True)


def sample_worlds(scenario: Scenario, seed: int, first: int, n: int, *, nominal: bool = False) -> Worlds:
    """Draw the worlds of replications ``first .. first+n-1``.

    Args:
        scenario: The validated scenario.
        seed: The run's seed (a non-negative integer).
        first: Index of the first replication.
        n: Number of replications.
        nominal: If true, every uniform is 0.5: each distribution sits at its
            median (a single "typical" world, used for reference plots).
    """
    if seed < 0 or first < 0 or n < 0:
        raise ValueError("seed, first and n must be non-negative")
    s = _Sampler(seed, first, n, 0.5 if nominal else None)
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
            tactic=np.full(n, TACTICS[t.kind]),
            family=np.full(n, FAMILIES[t.family]),
            beta=s(t.beta),
            kappa=s(t.kappa),
            reciprocity=s(t.reciprocity),
            min_step=s(t.min_step),
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
            meetings[held[:, k], m.day] = SCHEDULED
    meetings[:, scenario.summit_day] = SUMMIT

    event_day = np.full((n, n_events), -1, dtype=int)
    for k, e in enumerate(scenario.events):
        u = s.u(f"event.{e.name}", 2)
        occurs = u[:, 0] < s(e.probability)
        if e.hazard is None:
            when = np.full(n, e.day)
        else:
            h = s(e.hazard)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # h -> 0 or 1: handled below
                wait = np.floor(np.log(u[:, 1]) / np.log1p(-h))
            wait = np.where(h >= 1, 0, np.where(h <= 0, np.inf, wait))
            when = e.window_from + wait
            occurs &= when <= e.window_until
        event_day[:, k] = np.where(occurs, when, -1).astype(int)
    durations = (np.stack([s(e.duration_days) for e in scenario.events], -1)
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
    )
