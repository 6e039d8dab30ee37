"""Bargaining solutions on the utility plane: Pareto frontier and Nash point.

With linear additive utilities over a box of feasible outcomes, the Pareto
frontier is the path that moves issues one at a time from side A's best to side
B's best, in order of B's gain per unit of A's loss: exactly side A's concession
plan with true beliefs (:func:`sim.negotiation.offers.concession_plan`). The
frontier is the polyline through those vertices.
"""

from __future__ import annotations

import numpy as np

from sim.negotiation import kernel
from sim.negotiation.offers import concession_plan, precedes
from sim.negotiation.utility import Preferences, utility


@kernel
def frontier_into(a: Preferences, b: Preferences, lo: np.ndarray, hi: np.ndarray, work: np.ndarray,
                  out: np.ndarray) -> np.ndarray:
    """Vertices of the Pareto frontier of sides ``a`` and ``b`` over the box ``[lo, hi]``,
    written into ``out`` (``[n_issues + 1, 2]``, as (u_a, u_b)).

    Vertices run from A's ideal (within ``[lo, hi]``) to B's ideal; consecutive
    vertices coincide where an issue's move changes nothing. ``work`` is a
    ``[5, n_issues]`` scratch array.
    """
    start, end, loss, gain, before = work[0], work[1], work[2], work[3], work[4]
    u_max = concession_plan(a, b, lo, hi, start, end, loss, gain, before)
    n = loss.shape[0]
    out[:, :] = 0.0
    for i in range(n):  # the move of issue i is step number rank(i) along the frontier
        if gain[i] > 0.0:
            rank = 0
            for j in range(n):
                if precedes(loss[j], gain[j], j, loss[i], gain[i], i):
                    rank += 1
            out[rank + 1, 0], out[rank + 1, 1] = loss[i], gain[i]
    out[0, 0], out[0, 1] = u_max, utility(start, b)
    for k in range(n):  # steps to vertices
        out[k + 1, 0] = out[k, 0] - out[k + 1, 0]
        out[k + 1, 1] = out[k, 1] + out[k + 1, 1]
    return out


@kernel
def pareto_frontier(a: Preferences, b: Preferences, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Vertices of the Pareto frontier, ``[n_issues + 1, 2]`` as (u_a, u_b) (see :func:`frontier_into`)."""
    n = a.weights.shape[0]
    return frontier_into(a, b, lo, hi, np.empty((5, n)), np.empty((n + 1, 2)))


@kernel
def distance_to_frontier(u_a: float, u_b: float, frontier: np.ndarray) -> float:
    """Euclidean distance from the point ``(u_a, u_b)`` to the frontier polyline.

    Zero means the agreement is Pareto-efficient; a positive value is how much
    utility the two sides together left on the table.
    """
    best = np.inf
    for k in range(frontier.shape[0] - 1):
        x0, y0 = frontier[k, 0], frontier[k, 1]
        dx, dy = frontier[k + 1, 0] - x0, frontier[k + 1, 1] - y0
        dd = dx * dx + dy * dy
        s = 0.0 if dd == 0.0 else min(max(((u_a - x0) * dx + (u_b - y0) * dy) / dd, 0.0), 1.0)
        gx, gy = u_a - x0 - s * dx, u_b - y0 - s * dy
        best = min(best, np.sqrt(gx * gx + gy * gy))
    return best


@kernel
def nash_point(frontier: np.ndarray, d_a: float, d_b: float) -> tuple[float, float]:
    """The Nash bargaining solution on the frontier: max (u_a − d_a)(u_b − d_b).

    Solved exactly on each segment (the product is quadratic along a segment).
    Returns NaNs where no frontier point is at least the disagreement point.
    """
    best, bx, by = -np.inf, np.nan, np.nan
    for k in range(frontier.shape[0] - 1):
        x0, y0 = frontier[k, 0] - d_a, frontier[k, 1] - d_b
        dx, dy = frontier[k + 1, 0] - frontier[k, 0], frontier[k + 1, 1] - frontier[k, 1]
        for c in range(3):  # both ends of the segment, and the product's stationary point on it
            if c < 2:
                s = float(c)
            elif dx * dy != 0.0:
                s = min(max(-(x0 * dy + y0 * dx) / (2.0 * dx * dy), 0.0), 1.0)
            else:
                continue
            x, y = x0 + s * dx, y0 + s * dy
            if x >= 0.0 and y >= 0.0 and x * y > best:
                best, bx, by = x * y, x + d_a, y + d_b
    return bx, by


@kernel
def agreement_quality(
    x: np.ndarray,
    a: Preferences,
    b: Preferences,
    lo_a: np.ndarray,
    hi_a: np.ndarray,
    lo_b: np.ndarray,
    hi_b: np.ndarray,
    reservation_a: float,
    reservation_b: float,
    work: np.ndarray,
    frontier: np.ndarray,
) -> tuple[float, float, float, float]:
    """Both sides' utilities of agreement ``x``, its distance to the Pareto frontier of
    the jointly feasible region (both sides' limits on the day of agreement), and its
    distance to the Nash bargaining point with the reservation values as disagreement point.

    ``work`` (``[7, n_issues]``) and ``frontier`` (``[n_issues + 1, 2]``) are scratch arrays,
    so engines can call this without allocating.

    Returns:
        ``(u_a, u_b, pareto_distance, nash_distance)``.
    """
    u_a, u_b = utility(x, a), utility(x, b)
    lo, hi = work[5], work[6]
    for i in range(x.shape[0]):
        lo[i], hi[i] = max(lo_a[i], lo_b[i]), min(hi_a[i], hi_b[i])
    frontier_into(a, b, lo, hi, work, frontier)
    n_a, n_b = nash_point(frontier, reservation_a, reservation_b)
    return u_a, u_b, distance_to_frontier(u_a, u_b, frontier), np.sqrt((u_a - n_a) ** 2 + (u_b - n_b) ** 2)
