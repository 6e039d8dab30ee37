"""Concession tactics: how a side's aspiration moves over time.

A tactic returns the side's *aspiration* (target utility) at a meeting; offer
generation turns it into an offer. The families are those of Faratin, Sierra
and Jennings (1998):

- **time-dependent**: aspiration falls from the opening toward the reservation
  value as the side's deadline nears, by α(t) (polynomial or exponential, with
  κ the initial concession and β the shape: Boulware β < 1, linear β = 1,
  Conceder β > 1);
- **tit-for-tat** (behaviour-dependent, relative): the side gives up as much of
  its own utility as the opponent's last move gave it, times a reciprocity
  factor, plus an optional minimum step so two tit-for-tat sides do not freeze;
- **hardliner**: stays at its opening (α ≡ κ) whatever happens;
- **Zeuthen** (1930): a side concedes (by ``min_step`` of its range) at a meeting only if
  its risk limit — the share of its demand it would lose by taking the other's offer — is
  no larger than the other's (both concede when equal), judged with its beliefs about the
  other side's utilities and reservation value. Harsanyi (1956) showed this reaches the
  Nash bargaining solution.

Whatever its tactic, a side also feels the **public deadline** coming (the date a tariff
starts, or the leaders' summit that wants a deliverable): :func:`deadline_pressure` is the
share of its surplus it gives up to close before that date, rising from nothing ``window``
days before it to the side's cost of missing it on the day itself, and gone once the date
has passed (the cost is then sunk). It lowers what the side asks for and holds out for, never
below its floor (:func:`pressed`): deals crowd into the last days where a zone of agreement
exists, and talks with none still fail. This is the deadline effect of Roth, Murnighan &
Schoumaker (1988) and of Fuchs & Skrzypacz (2013), where the deadline ends the value of
waiting; Cramton & Tracy (1992) found about 31% of union contract settlements on the
deadline day.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.negotiation import kernel
from sim.negotiation.utility import Preferences, utility

TIME_DEPENDENT, TIT_FOR_TAT, HARDLINER, ZEUTHEN = 0, 1, 2, 3
#: Tactic names accepted in scenario files, mapped to their codes.
TACTICS = {"time_dependent": TIME_DEPENDENT, "tit_for_tat": TIT_FOR_TAT, "hardliner": HARDLINER, "zeuthen": ZEUTHEN}

POLYNOMIAL, EXPONENTIAL = 0, 1
#: α(t) families accepted in scenario files.
FAMILIES = {"polynomial": POLYNOMIAL, "exponential": EXPONENTIAL}


class TacticParams(NamedTuple):
    """A side's tactic at a meeting.

    Attributes:
        kind: Tactic code (:data:`TACTICS`).
        family: α(t) family code (:data:`FAMILIES`).
        kappa, beta: Faratin's κ (also the hardliner's and tit-for-tat's opening
            concession) and β (after the events in force).
        reciprocity: Tit-for-tat's mirroring factor.
        min_step: Tit-for-tat's minimum concession per meeting, and Zeuthen's step, as a
            fraction of ``u_max − reservation``.
        spread: How the side spreads a concession over the issues (see
            :func:`sim.negotiation.offers.offer_for_target`): 0 logrolls, 1 concedes the same
            share of every issue.
    """

    kind: int
    family: int
    kappa: float
    beta: float
    reciprocity: float
    min_step: float
    spread: float = 0.0


@kernel
def alpha_polynomial(t: float, kappa: float, beta: float) -> float:
    """Faratin's polynomial α(t) = κ + (1 − κ) t^(1/β), with t in [0, 1]."""
    t = min(max(t, 0.0), 1.0)
    return kappa + (1.0 - kappa) * t ** (1.0 / beta)


@kernel
def alpha_exponential(t: float, kappa: float, beta: float) -> float:
    """Faratin's exponential α(t) = exp((1 − t)^β ln κ), κ > 0."""
    t = min(max(t, 0.0), 1.0)
    return np.exp((1.0 - t) ** beta * np.log(kappa))


@kernel
def alpha(t: float, kappa: float, beta: float, family: int) -> float:
    """α(t) for the given family code (polynomial or exponential)."""
    if family == EXPONENTIAL:
        return alpha_exponential(t, kappa, beta)
    return alpha_polynomial(t, kappa, beta)


@kernel
def tactic_time(day: float, deadline_day: float) -> float:
    """Normalised time t = day / deadline in [0, 1] (day 0 is the scenario start;
    deadlines fall after it by scenario validation)."""
    return min(max(day / deadline_day, 0.0), 1.0)


@kernel
def risk_limit(u_own_demand: float, u_other_offer: float, d: float) -> float:
    """Zeuthen's risk limit: the largest probability of conflict a side would accept rather
    than take the other's offer, (u(own demand) − u(other's offer)) / (u(own demand) − d);
    1 when its demand is worth no more than conflict."""
    gain = u_own_demand - d
    if gain <= 0.0:
        return 1.0
    return max(0.0, (u_own_demand - u_other_offer) / gain)


@kernel
def zeuthen_risks(own_last: np.ndarray, other_last: np.ndarray, own: Preferences, believed: Preferences,
                  reservation: float, believed_other_reservation: float) -> tuple[float, float]:
    """Both risk limits at the sides' last offers, as one side sees them: its own from its
    utilities (``own``), the other's from its beliefs about the other's preferences
    (``believed``) and reservation value."""
    mine = risk_limit(utility(own_last, own), utility(other_last, own), reservation)
    theirs = risk_limit(utility(other_last, believed), utility(own_last, believed), believed_other_reservation)
    return mine, theirs


@kernel
def aspiration(tactic: TacticParams, t: float, u_max: float, reservation: float, previous: float,
               opponent_move: float, risk_own: float, risk_other: float) -> float:
    """A side's aspiration at this meeting, for any tactic.

    Args:
        tactic: The side's tactic and its parameters.
        t: Normalised time toward the side's own deadline.
        u_max: Best utility the side can ask for within the feasible limits.
        reservation: The side's floor now (reservation value after events).
        previous: Aspiration at the previous meeting; NaN before the first.
        opponent_move: Gain, in own utility, between the opponent's last two
            offers (NaN when there is no such pair).
        risk_own: Zeuthen's risk limit of this side at the last offers (NaN before there are any).
        risk_other: The other side's risk limit, as this side believes it.
    """
    kind = tactic.kind
    a = alpha(t, tactic.kappa, tactic.beta, tactic.family) if kind == TIME_DEPENDENT else tactic.kappa
    scheduled = u_max - a * (u_max - reservation)
    step = tactic.min_step * max(u_max - reservation, 0.0)
    if kind == ZEUTHEN and not np.isnan(previous):
        if risk_own <= risk_other:  # less willing to risk conflict (NaN: no comparison yet): concede
            return min(max(previous - step, reservation), max(u_max, reservation))
        return previous
    if kind != TIT_FOR_TAT or np.isnan(previous):
        return scheduled
    move = tactic.reciprocity * opponent_move if opponent_move > 0.0 else 0.0  # NaN → no move
    return min(max(previous - move - step, reservation), max(u_max, reservation))


@kernel
def deadline_pressure(day: float, deadline_day: float, cost: float, window: float) -> float:
    """Utility a side gives up on ``day`` to close before the public deadline on ``deadline_day``:
    ``cost`` × (1 − days left / ``window``), from 0 when ``window`` days remain to ``cost`` on the
    day itself; 0 before the window, after the deadline, and when ``cost`` or ``window`` is 0."""
    left = deadline_day - day
    if cost <= 0.0 or window <= 0.0 or left < 0.0 or left >= window:
        return 0.0
    return cost * (1.0 - left / window)


@kernel
def pressed(aspiration: float, pressure: float, floor: float) -> float:
    """What a side asks for under deadline ``pressure``: its aspiration less the pressure, but
    never below its ``floor`` (nor above the aspiration, when that is already below it)."""
    return max(aspiration - pressure, min(aspiration, floor))
