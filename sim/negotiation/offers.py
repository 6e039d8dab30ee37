"""Weight-aware offer generation.

A side that must give up utility to reach its current aspiration concedes first
on the issues where a unit of its own utility buys the opponent the most (by its
belief about the opponent's weights), and last where it cares most. With linear
additive utilities this greedy order solves the side's problem exactly —
maximise the opponent's believed utility subject to the own utility being at
least the aspiration — as a fractional knapsack. Offers therefore lie on the
Pareto frontier whenever beliefs are right.

The order depends only on preferences and limits, so it is computed once as a
concession plan; turning an aspiration into an offer is then one pass over the
issues.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.negotiation import kernel
from sim.negotiation.agenda import round_toward
from sim.negotiation.tactics import TacticParams, aspiration, pressed, tactic_time
from sim.negotiation.utility import Preferences, issue_value, utility


class ConcessionPlan(NamedTuple):
    """How a side concedes, issue by issue.

    Attributes:
        start: The side's best values within the feasible limits (its opening).
        end: How far it would ever move on each issue: toward its worst value but
            never past what the opponent is believed to want most.
        loss: Own utility given up by moving an issue fully from start to end.
        gain: Opponent's believed utility gained by that same move.
        before: Own utility given up on all issues conceded earlier in the order.
        u_max: Own utility of ``start``: the most this side can ask for.
    """

    start: np.ndarray
    end: np.ndarray
    loss: np.ndarray
    gain: np.ndarray
    before: np.ndarray
    u_max: float

    @classmethod
    def build(cls, own: Preferences, believed: Preferences, lo: np.ndarray, hi: np.ndarray) -> ConcessionPlan:
        """Allocate and fill a plan with :func:`concession_plan` (same arguments)."""
        start, end, loss, gain, before = (np.empty(len(own.weights)) for _ in range(5))
        u_max = concession_plan(own, believed, lo, hi, start, end, loss, gain, before)
        return cls(start, end, loss, gain, before, u_max)


@kernel
def _ratio(loss: float, gain: float) -> float:
    if gain <= 0.0:
        return -np.inf  # gives the opponent nothing: never conceded
    if loss <= 0.0:
        return np.inf  # free concession: first
    return gain / loss


@kernel
def precedes(loss_j: float, gain_j: float, j: int, loss_i: float, gain_i: float, i: int) -> bool:
    """Whether issue *j* is conceded before issue *i*: higher gain per unit of own loss
    first, free concessions first, ties in agenda order."""
    rj, ri = _ratio(loss_j, gain_j), _ratio(loss_i, gain_i)
    return rj > ri or (rj == ri and j < i)


@kernel
def concession_plan(
    own: Preferences,
    believed: Preferences,
    lo: np.ndarray,
    hi: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    loss: np.ndarray,
    gain: np.ndarray,
    before: np.ndarray,
) -> float:
    """Build a side's concession plan (the fields of :class:`ConcessionPlan`).

    Args:
        own: The side's own preferences.
        believed: Its beliefs about the opponent's preferences.
        lo: Lower corner of the feasible region the side offers within (its own hard
            limits, intersected with the opponent's limits where it knows them).
        hi: Upper corner of that region.
        start: Output: the opening, best values within the region.
        end: Output: how far the side would ever move on each issue.
        loss: Output: own utility given up by moving each issue fully.
        gain: Output: the opponent's believed gain from that move.
        before: Output: own utility given up on the issues conceded earlier.

    Returns:
        ``u_max``, the utility of ``start``.
    """
    n = own.weights.shape[0]
    best, worst, opp_best, opp_worst = own.best, own.worst, believed.best, believed.worst
    for i in range(n):
        start[i] = min(max(best[i], lo[i]), hi[i])
        worst_f = min(max(worst[i], lo[i]), hi[i])
        end[i] = min(max(opp_best[i], min(start[i], worst_f)), max(start[i], worst_f))
        loss[i] = own.weights[i] * (issue_value(start[i], best[i], worst[i]) - issue_value(end[i], best[i], worst[i]))
        gain[i] = believed.weights[i] * (
            issue_value(end[i], opp_best[i], opp_worst[i]) - issue_value(start[i], opp_best[i], opp_worst[i])
        )
    for i in range(n):
        before[i] = 0.0
        for j in range(n):
            if gain[j] > 0.0 and precedes(loss[j], gain[j], j, loss[i], gain[i], i):
                before[i] += loss[j]
    return utility(start, own)


@kernel
def offer_for_target(plan: ConcessionPlan, target: float, integer: np.ndarray, out: np.ndarray,
                     spread: float = 0.0) -> np.ndarray:
    """The offer that gives the side (at least) ``target`` utility, conceding by ``plan``.

    With ``spread`` 0 the side logrolls: it concedes issue by issue in the plan's order, the
    Pareto-efficient offer when its beliefs are right. With ``spread`` 1 it concedes the same
    share of every issue the other side values (splitting the difference issue by issue, the
    "fixed-pie" habit experiments find in most negotiators: Thompson & Hastie 1990); between,
    a blend of the two, which gives up the same own utility. Free concessions are always made.

    Integer issues are rounded toward the side's own best, so the offer's utility never
    falls below the target. The offer is written into ``out`` (no allocation in hot
    loops), which is returned.
    """
    start, end, loss, gain, before = plan.start, plan.end, plan.loss, plan.gain, plan.before
    budget = plan.u_max - target
    costly = 0.0
    for i in range(start.shape[0]):
        if gain[i] > 0.0 and loss[i] > 0.0:
            costly += loss[i]
    share = min(max(budget / costly, 0.0), 1.0) if costly > 0.0 else 0.0
    for i in range(start.shape[0]):
        if gain[i] <= 0.0:
            f = 0.0
        elif loss[i] <= 0.0:
            f = 1.0
        else:
            f = min(max((budget - before[i]) / loss[i], 0.0), 1.0)
            if spread > 0.0:
                f = (1.0 - spread) * f + spread * share
        x = start[i] + f * (end[i] - start[i])
        out[i] = round_toward(start[i], x) if integer[i] else x
    return out


@kernel
def offer_region(
    own_lo: np.ndarray,
    own_hi: np.ndarray,
    opp_lo: np.ndarray,
    opp_hi: np.ndarray,
    knows_opponent_limits: bool,
    out_lo: np.ndarray,
    out_hi: np.ndarray,
) -> None:
    """The box a side makes offers in, written into ``out_lo``/``out_hi``: its own hard
    limits, narrowed to the opponent's where it knows them (and where the two overlap at all)."""
    overlap = knows_opponent_limits
    for i in range(own_lo.shape[0]):
        if max(own_lo[i], opp_lo[i]) > min(own_hi[i], opp_hi[i]):
            overlap = False
    for i in range(own_lo.shape[0]):
        out_lo[i] = max(own_lo[i], opp_lo[i]) if overlap else own_lo[i]
        out_hi[i] = min(own_hi[i], opp_hi[i]) if overlap else own_hi[i]


@kernel
def make_offer(
    day: float,
    deadline: float,
    tactic: TacticParams,
    floor: float,
    previous: float,
    opponent_move: float,
    plan: ConcessionPlan,
    integer: np.ndarray,
    own: Preferences,
    out: np.ndarray,
    risk_own: float = np.nan,
    risk_other: float = np.nan,
    pressure: float = 0.0,
) -> tuple[float, float, float]:
    """A side's move at a meeting: its time, aspiration, and offer (written into ``out``).

    Composes :func:`~sim.negotiation.tactics.tactic_time`,
    :func:`~sim.negotiation.tactics.aspiration` and :func:`offer_for_target` so an engine
    makes one call per side per meeting. The offer meets the aspiration less the deadline
    ``pressure`` (:func:`~sim.negotiation.tactics.pressed`); the aspiration returned is the
    tactic's own, so the pressure never compounds from one meeting to the next.

    Returns:
        ``(t, aspiration, utility of the offer)``.
    """
    t = tactic_time(day, deadline)
    target = aspiration(tactic, t, plan.u_max, floor, previous, opponent_move, risk_own, risk_other)
    offer_for_target(plan, pressed(target, pressure, floor), integer, out, tactic.spread)
    return t, target, utility(out, own)
