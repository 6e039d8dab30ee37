"""Calendar-driven rules: events, the leaders' summit, and the milestones after a deal.

Days are counted from the scenario's start (day 0). An event that has not fired
has fire day −1; a milestone not reached has day −1.
"""

from __future__ import annotations

import numpy as np

from sim.negotiation import kernel
from sim.negotiation.agenda import EPS, round_nearest
from sim.negotiation.utility import utility, within_limits

NOT_REACHED = -1


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
def apply_events(
    active: np.ndarray,
    reservation: float,
    beta: float,
    lo: np.ndarray,
    hi: np.ndarray,
    reservation_shift: np.ndarray,
    beta_factor: np.ndarray,
    lo_shift: np.ndarray,
    hi_shift: np.ndarray,
    bound_lo: np.ndarray,
    bound_hi: np.ndarray,
    out_lo: np.ndarray,
    out_hi: np.ndarray,
) -> tuple[float, float]:
    """A side's reservation value and β with the active events applied; its hard
    limits are written into ``out_lo`` and ``out_hi``.

    Args:
        active: ``[E]`` which events are in force.
        reservation, beta: Base values.
        lo, hi: Base hard limits ``[I]``.
        reservation_shift, beta_factor: Per-event effects on this side ``[E]``
            (0 and 1 for events that do not touch it).
        lo_shift, hi_shift: Per-event shifts of the limits ``[E, I]``.
        bound_lo, bound_hi: The agenda's bounds ``[I]``; limits stay inside them.
    """
    r, b = reservation, beta
    for e in range(active.shape[0]):
        if active[e]:
            r += reservation_shift[e]
            b *= beta_factor[e]
    for i in range(lo.shape[0]):
        new_lo, new_hi = lo[i], hi[i]
        for e in range(active.shape[0]):
            if active[e]:
                new_lo += lo_shift[e, i]
                new_hi += hi_shift[e, i]
        new_lo = min(max(new_lo, bound_lo[i]), bound_hi[i])
        new_hi = min(max(new_hi, bound_lo[i]), bound_hi[i])
        out_lo[i], out_hi[i] = min(new_lo, new_hi), max(new_lo, new_hi)
    return min(max(r, 0.0), 1.0), b


@kernel
def summit_candidate(offer_a: np.ndarray, offer_b: np.ndarray, integer: np.ndarray) -> np.ndarray:
    """The leaders split the difference between the two sides' last offers."""
    return round_nearest(0.5 * (offer_a + offer_b), integer)


@kernel
def summit_accepts(
    x: np.ndarray,
    weights: np.ndarray,
    best: np.ndarray,
    worst: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    aspiration: float,
    floor: float,
    max_gap: float,
) -> bool:
    """A leader takes the split ``x`` if it is acceptable at all (floor, hard limits
    ``lo``..``hi``) and costs at most ``max_gap`` utility below the side's current aspiration."""
    if not within_limits(x, lo, hi):
        return False
    u = utility(x, weights, best, worst)
    return u >= floor - EPS and aspiration - u <= max_gap + EPS


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
        utilities, win_sets, required, ratification_delays: Per side.
        horizon_day: Last simulated day; later milestones count as not reached.

    Returns:
        ``(signed_day, ratified_day, ratification_failed)``, days −1 if not reached.
    """
    if agreement_day < 0:
        return NOT_REACHED, NOT_REACHED, False
    signed = agreement_day + int(np.ceil(signing_delay - EPS))
    if signed > horizon_day:
        return NOT_REACHED, NOT_REACHED, False
    ratified = signed
    for k in range(utilities.shape[0]):
        if required[k]:
            if utilities[k] < win_sets[k] - EPS:
                return signed, NOT_REACHED, True
            ratified = max(ratified, signed + int(np.ceil(ratification_delays[k] - EPS)))
    return signed, (ratified if ratified <= horizon_day else NOT_REACHED), False
