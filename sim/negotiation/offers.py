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
from sim.negotiation.tactics import aspiration, tactic_time
from sim.negotiation.utility import issue_value, utility


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


@kernel
def concession_rank(loss: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Position of each issue in the concession order (0 = conceded first).

    Issues are ranked by gain per unit of loss, highest first; free concessions
    (no loss, some gain) come first, moves that give the opponent nothing come
    last; ties keep agenda order.
    """
    n = loss.shape[0]
    ratio = np.empty(n)
    for i in range(n):
        if gain[i] <= 0.0:
            ratio[i] = -np.inf
        elif loss[i] <= 0.0:
            ratio[i] = np.inf
        else:
            ratio[i] = gain[i] / loss[i]
    rank = np.zeros(n, dtype=np.int64)
    for i in range(n):
        for j in range(n):
            if ratio[j] > ratio[i] or (ratio[j] == ratio[i] and j < i):
                rank[i] += 1
    return rank


@kernel
def concession_plan(
    weights: np.ndarray,
    best: np.ndarray,
    worst: np.ndarray,
    opp_weights: np.ndarray,
    opp_best: np.ndarray,
    opp_worst: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Build a side's concession plan (the fields of :class:`ConcessionPlan`).

    Args:
        weights, best, worst: The side's own preferences.
        opp_weights, opp_best, opp_worst: Its beliefs about the opponent.
        lo, hi: The feasible region the side offers within (its own hard
            limits, intersected with the opponent's limits where it knows them).
    """
    n = weights.shape[0]
    start, end = np.empty(n), np.empty(n)
    loss, gain = np.empty(n), np.empty(n)
    for i in range(n):
        start[i] = min(max(best[i], lo[i]), hi[i])
        worst_f = min(max(worst[i], lo[i]), hi[i])
        end[i] = min(max(opp_best[i], min(start[i], worst_f)), max(start[i], worst_f))
        loss[i] = weights[i] * (issue_value(start[i], best[i], worst[i]) - issue_value(end[i], best[i], worst[i]))
        gain[i] = opp_weights[i] * (
            issue_value(end[i], opp_best[i], opp_worst[i]) - issue_value(start[i], opp_best[i], opp_worst[i])
        )
    rank = concession_rank(loss, gain)
    before = np.zeros(n)
    for i in range(n):
        for j in range(n):
            if rank[j] < rank[i] and gain[j] > 0.0:
                before[i] += loss[j]
    return start, end, loss, gain, before, utility(start, weights, best, worst)


@kernel
def offer_for_target(
    start: np.ndarray,
    end: np.ndarray,
    loss: np.ndarray,
    gain: np.ndarray,
    before: np.ndarray,
    u_max: float,
    target: float,
    integer: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """The offer that gives the side (at least) ``target`` utility, conceding by plan.

    The first six arguments are a :class:`ConcessionPlan`. Integer issues are
    rounded toward the side's own best, so the offer's utility never falls below
    the target. The offer is written into ``out`` (no allocation in hot loops),
    which is returned.
    """
    budget = u_max - target
    for i in range(start.shape[0]):
        if gain[i] <= 0.0:
            f = 0.0
        elif loss[i] <= 0.0:
            f = 1.0
        else:
            f = min(max((budget - before[i]) / loss[i], 0.0), 1.0)
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
) -> tuple[np.ndarray, np.ndarray]:
    """The box a side makes offers in: its own hard limits, narrowed to the
    opponent's where it knows them (and where the two overlap at all)."""
    lo, hi = np.maximum(own_lo, opp_lo), np.minimum(own_hi, opp_hi)
    if knows_opponent_limits and np.all(lo <= hi):
        return lo, hi
    return own_lo.copy(), own_hi.copy()


@kernel
def make_offer(
    day: float,
    deadline: float,
    tactic: int,
    kappa: float,
    beta: float,
    family: int,
    reciprocity: float,
    min_step: float,
    floor: float,
    previous: float,
    opponent_move: float,
    start: np.ndarray,
    end: np.ndarray,
    loss: np.ndarray,
    gain: np.ndarray,
    before: np.ndarray,
    u_max: float,
    integer: np.ndarray,
    weights: np.ndarray,
    best: np.ndarray,
    worst: np.ndarray,
    out: np.ndarray,
) -> tuple[float, float, float]:
    """A side's move at a meeting: its time, aspiration, and offer (written into ``out``).

    Composes :func:`~sim.negotiation.tactics.tactic_time`,
    :func:`~sim.negotiation.tactics.aspiration` and :func:`offer_for_target` so an engine
    makes one call per side per meeting.

    Returns:
        ``(t, aspiration, utility of the offer)``.
    """
    t = tactic_time(day, deadline)
    target = aspiration(tactic, t, kappa, beta, family, u_max, floor, previous, opponent_move, reciprocity, min_step)
    offer_for_target(start, end, loss, gain, before, u_max, target, integer, out)
    return t, target, utility(out, weights, best, worst)
