"""Reference bargaining solutions on any frontier given as functions.

For frontiers that are not polylines (non-linear utilities), and as the reference the
validation suite checks the model against. A frontier is parameterised by an outcome x in
[lo, hi] along which u1 rises and u2 falls (any Pareto frontier can be so parameterised).
The model's own, compiled solutions on polyline frontiers are in
:mod:`sim.negotiation.solutions`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, minimize_scalar


def _feasible_range(u1, u2, d: tuple[float, float], lo: float, hi: float) -> tuple[float, float]:
    """The sub-interval of [lo, hi] where both utilities are at least the disagreement point."""
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
