"""The protocol's small rules, shared by every engine: who opens a meeting, what the
opponent's last move was, when plans are remade, which events are in force and what
they do, each side's standing offer on an observation day, the leaders' summit, and
the milestones after a deal.

Days are counted from the scenario's start (day 0). An event that has not fired
has fire day −1; a milestone not reached has day −1.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.negotiation import kernel
from sim.negotiation.agenda import EPS, round_nearest
from sim.negotiation.tactics import ZEUTHEN, deadline_pressure, pressed
from sim.negotiation.utility import Preferences, utility, within_limits

NOT_REACHED = -1


class EventEffects(NamedTuple):
    """What each event does to one side while in force: ``[E]`` reservation shifts and β
    factors (0 and 1 for events that do not touch it), ``[E, I]`` shifts of its limits."""

    reservation: np.ndarray
    beta_factor: np.ndarray
    lo_shift: np.ndarray
    hi_shift: np.ndarray
#: A day count beyond any scenario's horizon: later milestones count as not reached (and
#: converting it to an integer cannot overflow, as a huge delay in days would).
NEVER = 1 << 40


@kernel
def opener(first_mover: int, rounds: int) -> int:
    """The side that proposes first at meeting number ``rounds`` (1-based): a fixed side,
    or the sides in turn (side 0 first) when ``first_mover`` is −1."""
    return first_mover if first_mover >= 0 else (rounds - 1) % 2


@kernel
def opponent_move(last: float, previous: float, received: int) -> float:
    """How much the opponent's latest offer gained a side over its previous one, in the side's
    own utility; NaN until it has received two offers."""
    return last - previous if received >= 2 else np.nan


@kernel
def zeuthen_applies(tactic: int, rounds: int) -> bool:
    """Whether a side weighs Zeuthen's risks at meeting ``rounds``: it plays Zeuthen and both
    sides have offered (at an earlier meeting)."""
    return tactic == ZEUTHEN and rounds > 1


@kernel
def limits_changed(lo: np.ndarray, hi: np.ndarray, planned: np.ndarray) -> bool:
    """Whether a side's hard limits differ from those its concession plan was made for
    (``planned[0]``, ``planned[1]``), which are then updated. A plan depends only on both
    sides' limits, so plans are remade exactly when this is true for either side."""
    changed = False
    for i in range(lo.shape[0]):
        if lo[i] != planned[0, i] or hi[i] != planned[1, i]:
            changed = True
            planned[0, i], planned[1, i] = lo[i], hi[i]
    return changed


@kernel
def days_after(day: int, delay: float) -> int:
    """The day ``delay`` days (rounded up) after ``day``, capped at :data:`NEVER`."""
    if not delay < NEVER - day:
        return NEVER
    return day + int(np.ceil(delay - EPS))


@kernel
def update_active(day: float, fire_day: np.ndarray, duration: np.ndarray, active: np.ndarray) -> bool:
    """Set ``active`` to which events are in force on ``day``; return whether that changed."""
    changed = False
    for e in range(fire_day.shape[0]):
        now = fire_day[e] >= 0 and fire_day[e] <= day and day < fire_day[e] + duration[e]
        if now != active[e]:
            active[e] = now
            changed = True
    return changed


@kernel
def public_deadline(day: float, deadline: float, fire_day: np.ndarray, shift: np.ndarray) -> float:
    """The public deadline as the sides see it on ``day``: the scenario's, moved by every event
    that has fired by then (a deadline extended, or brought forward)."""
    out = deadline
    for e in range(fire_day.shape[0]):
        if fire_day[e] >= 0 and fire_day[e] <= day:
            out += shift[e]
    return out


@kernel
def pressure_on(day: float, deadline: float, fire_day: np.ndarray, shift: np.ndarray, cost: float,
                window: float) -> float:
    """A side's deadline pressure on ``day`` (:func:`~sim.negotiation.tactics.deadline_pressure`)
    toward the public deadline as it then stands (:func:`public_deadline`)."""
    return deadline_pressure(day, public_deadline(day, deadline, fire_day, shift), cost, window)


@kernel
def apply_events(
    active: np.ndarray,
    reservation: float,
    beta: float,
    lo: np.ndarray,
    hi: np.ndarray,
    effects: EventEffects,
    bound_lo: np.ndarray,
    bound_hi: np.ndarray,
    out_lo: np.ndarray,
    out_hi: np.ndarray,
) -> tuple[float, float]:
    """A side's reservation value and β with the active events applied; its hard
    limits are written into ``out_lo`` and ``out_hi``.

    Args:
        active: ``[E]`` which events are in force.
        reservation: Base reservation value.
        beta: Base concession shape β.
        lo: Base lower hard limits ``[I]``.
        hi: Base upper hard limits ``[I]``.
        effects: What each event does to this side.
        bound_lo: The agenda's lower bounds ``[I]``; limits stay inside the bounds.
        bound_hi: The agenda's upper bounds ``[I]``.
        out_lo: Output: the lower limits in force.
        out_hi: Output: the upper limits in force.
    """
    r, b = reservation, beta
    for e in range(active.shape[0]):
        if active[e]:
            r += effects.reservation[e]
            b *= effects.beta_factor[e]
    for i in range(lo.shape[0]):
        new_lo, new_hi = lo[i], hi[i]
        for e in range(active.shape[0]):
            if active[e]:
                new_lo += effects.lo_shift[e, i]
                new_hi += effects.hi_shift[e, i]
        new_lo = min(max(new_lo, bound_lo[i]), bound_hi[i])
        new_hi = min(max(new_hi, bound_lo[i]), bound_hi[i])
        out_lo[i], out_hi[i] = min(new_lo, new_hi), max(new_lo, new_hi)
    return min(max(r, 0.0), 1.0), b


@kernel
def opening(best: np.ndarray, lo: np.ndarray, hi: np.ndarray, out: np.ndarray) -> np.ndarray:
    """A side's opening position, its standing offer before its first offer: its best value
    on each issue, within its hard limits (written into ``out``)."""
    for i in range(best.shape[0]):
        out[i] = min(max(best[i], lo[i]), hi[i])
    return out


@kernel
def record_standing(day: int, observe: np.ndarray, next_obs: int, offers: np.ndarray, out: np.ndarray) -> int:
    """Write the sides' standing offers ``offers`` (``[2, I]``) into ``out[j]`` for every
    observation day ``observe[j] < day`` from ``next_obs`` on; return the next unwritten index.

    Engines call it before a meeting on ``day`` changes the offers, and with :data:`NEVER`
    when the talks end: a side's standing offer on an observation day is its latest offer on
    or before that day.
    """
    j = next_obs
    while j < observe.shape[0] and observe[j] < day:
        out[j, :, :] = offers
        j += 1
    return j


@kernel
def summit_candidate(offer_a: np.ndarray, offer_b: np.ndarray, integer: np.ndarray) -> np.ndarray:
    """The leaders split the difference between the two sides' last offers."""
    return round_nearest(0.5 * (offer_a + offer_b), integer)


@kernel
def summit_accepts(x: np.ndarray, own: Preferences, lo: np.ndarray, hi: np.ndarray, aspiration: float, floor: float,
                   max_gap: float, pressure: float = 0.0) -> bool:
    """A leader takes the split ``x`` if it is acceptable at all (floor, hard limits
    ``lo``..``hi``) and costs at most ``max_gap`` utility below what the side's negotiators now
    ask: its aspiration less its deadline ``pressure`` (:func:`~sim.negotiation.tactics.pressed`)."""
    if not within_limits(x, lo, hi):
        return False
    u = utility(x, own)
    return u >= floor - EPS and pressed(aspiration, pressure, floor) - u <= max_gap + EPS


@kernel
def milestones(
    agreement_day: int,
    signing_delay: float,
    utilities: np.ndarray,
    win_sets: np.ndarray,
    required: np.ndarray,
    ratification_delays: np.ndarray,
    horizon_day: int,
) -> tuple[int, int, bool]:
    """Signed text and domestic ratification after an agreement in principle.

    Putnam's two-level game: an agreement is ratified only if it lies inside the
    domestic win-set of every side whose legislature must approve it.

    Args:
        agreement_day: Day of the agreement in principle (−1 if none).
        signing_delay: Days from agreement to signed text.
        utilities: Per side, its utility of the agreement.
        win_sets: Per side, the least utility its legislature ratifies.
        required: Per side, whether ratification is required.
        ratification_delays: Per side, days from signing to ratification.
        horizon_day: Last simulated day; later milestones count as not reached.

    Returns:
        ``(signed_day, ratified_day, ratification_failed)``, days −1 if not reached.
    """
    if agreement_day < 0:
        return NOT_REACHED, NOT_REACHED, False
    signed = days_after(agreement_day, signing_delay)
    if signed > horizon_day:
        return NOT_REACHED, NOT_REACHED, False
    ratified = signed
    for k in range(utilities.shape[0]):
        if required[k]:
            if utilities[k] < win_sets[k] - EPS:
                return signed, NOT_REACHED, True
            ratified = max(ratified, days_after(signed, ratification_delays[k]))
    return signed, (ratified if ratified <= horizon_day else NOT_REACHED), False
