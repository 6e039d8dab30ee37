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
from sim.negotiation.utility import utility


@kernel
def frontier_into(
    w_a: np.ndarray,
    best_a: np.ndarray,
    worst_a: np.ndarray,
    w_b: np.ndarray,
    best_b: np.ndarray,
    worst_b: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    work: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """Vertices of the Pareto frontier, written into ``out`` (``[n_issues + 1, 2]``, as (u_a, u_b)).

    Vertices run from A's ideal (within ``[lo, hi]``) to B's ideal; consecutive
    vertices coincide where an issue's move changes nothing. ``work`` is a
    ``[5, n_issues]`` scratch array.
    """
    start, end, loss, gain, before = work[0], work[1], work[2], work[3], work[4]
    u_max = concession_plan(w_a, best_a, worst_a, w_b, best_b, worst_b, lo, hi, start, end, loss, gain, before)
    n = loss.shape[0]
    out[:, :] = 0.0
    for i in range(n):  # the move of issue i is step number rank(i) along the frontier
        if gain[i] > 0.0:
            rank = 0
            for j in range(n):
                if precedes(loss[j], gain[j], j, loss[i], gain[i], i):
                    rank += 1
            out[rank + 1, 0], out[rank + 1, 1] = loss[i], gain[i]
    out[0, 0], out[0, 1] = u_max, utility(start, w_b, best_b, worst_b)
    for k in range(n):  # steps to vertices
        out[k + 1, 0] = out[k, 0] - out[k + 1, 0]
        out[k + 1, 1] = out[k, 1] + out[k + 1, 1]
    return out


@kernel
def pareto_frontier(
    w_a: np.ndarray,
    best_a: np.ndarray,
    worst_a: np.ndarray,
    w_b: np.ndarray,
    best_b: np.ndarray,
    worst_b: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:
    """Vertices of the Pareto frontier, ``[n_issues + 1, 2]`` as (u_a, u_b) (see :func:`frontier_into`)."""
    n = w_a.shape[0]
    return frontier_into(w_a, best_a, worst_a, w_b, best_b, worst_b, lo, hi, np.empty((5, n)), np.empty((n + 1, 2)))


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
    w_a: np.ndarray,
    best_a: np.ndarray,
    worst_a: np.ndarray,
    w_b: np.ndarray,
    best_b: np.ndarray,
    worst_b: np.ndarray,
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
    u_a, u_b = utility(x, w_a, best_a, worst_a), utility(x, w_b, best_b, worst_b)
    lo, hi = work[5], work[6]
    for i in range(x.shape[0]):
        lo[i], hi[i] = max(lo_a[i], lo_b[i]), min(hi_a[i], hi_b[i])
    frontier_into(w_a, best_a, worst_a, w_b, best_b, worst_b, lo, hi, work, frontier)
    n_a, n_b = nash_point(frontier, reservation_a, reservation_b)
    return u_a, u_b, distance_to_frontier(u_a, u_b, frontier), np.sqrt((u_a - n_a) ** 2 + (u_b - n_b) ** 2)


# --- bargaining solutions on any frontier given as functions -------------------------------
#
# For frontiers that are not polylines (non-linear utilities), and as the reference the
# validation suite checks the model against. A frontier is parameterised by an outcome x in
# [lo, hi] along which u1 rises and u2 falls (any Pareto frontier can be so parameterised).


def _feasible_range(u1, u2, d: tuple[float, float], lo: float, hi: float) -> tuple[float, float]:
    """The sub-interval of [lo, hi] where both utilities are at least the disagreement point."""
    from scipy.optimize import brentq

    a = lo if u1(lo) >= d[0] else brentq(lambda x: u1(x) - d[0], lo, hi, xtol=1e-15)
    b = hi if u2(hi) >= d[1] else brentq(lambda x: u2(x) - d[1], lo, hi, xtol=1e-15)
    if a > b:
        raise ValueError("no outcome gives both sides at least their disagreement utility")
    return a, b


def nash_solution(u1, u2, d: tuple[float, float] = (0.0, 0.0), lo: float = 0.0,
                  hi: float = 1.0) -> tuple[float, float, float]:
    """The Nash bargaining solution: the outcome maximising (u1 − d1)(u2 − d2).

    Returns:
        ``(x, u1(x), u2(x))``. The product is maximised by bounded scalar search (Brent),
        which finds the maximum of the quasi-concave product of a concave frontier.
    """
    from scipy.optimize import minimize_scalar

    a, b = _feasible_range(u1, u2, d, lo, hi)
    res = minimize_scalar(lambda x: -(u1(x) - d[0]) * (u2(x) - d[1]), bounds=(a, b), method="bounded",
                          options={"xatol": 1e-12})
    return float(res.x), float(u1(res.x)), float(u2(res.x))


def kalai_smorodinsky(u1, u2, d: tuple[float, float] = (0.0, 0.0), lo: float = 0.0,
                      hi: float = 1.0) -> tuple[float, float, float]:
    """The Kalai–Smorodinsky solution: the frontier point where each side gets the same share
    of its ideal gain (its best utility among outcomes the other side accepts, over d).

    Returns:
        ``(x, u1(x), u2(x))``.
    """
    from scipy.optimize import brentq

    a, b = _feasible_range(u1, u2, d, lo, hi)
    ideal1, ideal2 = u1(b) - d[0], u2(a) - d[1]
    x = brentq(lambda x: (u1(x) - d[0]) / ideal1 - (u2(x) - d[1]) / ideal2, a, b, xtol=1e-15)
    return float(x), float(u1(x)), float(u2(x))


def polyline_frontier(vertices: np.ndarray):
    """A polyline frontier (e.g. from :func:`pareto_frontier`, running from A's ideal to B's)
    as ``(u1, u2, lo, hi)`` for the solvers above, with u1 rising along the parameter."""
    v = np.asarray(vertices, dtype=float)[::-1]
    s = np.arange(len(v), dtype=float)

    def u1(x: float) -> float:
        return float(np.interp(x, s, v[:, 0]))

    def u2(x: float) -> float:
        return float(np.interp(x, s, v[:, 1]))

    return u1, u2, 0.0, float(len(v) - 1)
