"""What a sweep's points say: which factors matter (Sobol and Morris indices, through SALib)
and where in the design space the outcome concentrates (scenario discovery by PRIM)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.sweep.design import MORRIS_LEVELS


def prim_box(x: np.ndarray, hit: np.ndarray, *, alpha: float = 0.05, min_mass: float = 0.05) -> dict[str, Any]:
    """Scenario discovery by a simplified PRIM (Friedman & Fisher 1999; peeling only, no
    pasting, the last box of the trajectory): a box of input space where ``hit`` (e.g.
    P(deal) ≥ a threshold) is concentrated. For the full analysis (trade-off curve, pasting,
    box inspection) use EMA Workbench's ``prim.Prim`` on ``points.parquet`` (see :mod:`sim.sweep.ema`).

    Starting from the whole sample, each step peels the ``alpha`` share of points off one
    face of the box — the peel that leaves the highest density of hits — until fewer than
    ``min_mass`` of the points remain or no peel raises the density.

    Args:
        x: Design points, ``[points, factors]``.
        hit: Boolean per point.
        alpha: Share of the points inside the box peeled off at each step.
        min_mass: Stop when fewer than this share of the points remain inside.

    Returns:
        ``low``/``high`` bounds per factor, ``density`` (share of hits inside), ``coverage``
        (share of all hits inside), ``mass`` (share of points inside), the peeling
        ``trajectory`` of (coverage, density, mass), and ``found``: false when no peel
        raised the density (the box is the whole space: nothing was discovered).
    """
    hit = np.asarray(hit, dtype=bool)
    n, d = x.shape
    inside = np.ones(n, dtype=bool)
    low, high = x.min(axis=0).astype(float), x.max(axis=0).astype(float)
    total = max(int(hit.sum()), 1)

    def stats(mask: np.ndarray) -> tuple[float, float, float]:
        return float(hit[mask].sum() / total), float(hit[mask].mean()), float(mask.mean())

    trajectory = [stats(inside)]
    while hit.any() and inside.mean() > min_mass:
        best = None
        for j in range(d):
            values = x[inside, j]
            for side, cut in (("low", np.quantile(values, alpha)), ("high", np.quantile(values, 1 - alpha))):
                keep = inside & ((x[:, j] >= cut) if side == "low" else (x[:, j] <= cut))
                if keep.sum() == inside.sum() or keep.sum() < max(1, min_mass * n):
                    continue
                density = hit[keep].mean()
                if best is None or density > best[0]:
                    best = (density, j, side, cut, keep)
        if best is None or best[0] <= hit[inside].mean():
            break
        _, j, side, cut, inside = best
        if side == "low":
            low[j] = cut
        else:
            high[j] = cut
        trajectory.append(stats(inside))
    coverage, density, mass = stats(inside)
    return {"low": low.tolist(), "high": high.tolist(), "coverage": coverage, "density": density, "mass": mass,
            "trajectory": trajectory, "found": len(trajectory) > 1}


def sensitivity(method: str, problem: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    """Sobol first-order and total indices, or Morris μ* and σ, of output ``y`` over a
    SALib design ``x``, with 95% bootstrap confidence intervals (SALib)."""
    if np.isnan(y).any():
        raise ValueError(f"{int(np.isnan(y).sum())} design point(s) have no result (failed); "
                         "a sensitivity analysis needs every point")
    if method == "sobol":
        from SALib.analyze import sobol

        si = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed)
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    elif method == "morris":
        from SALib.analyze import morris

        si = morris.analyze(problem, x, y, num_levels=MORRIS_LEVELS, conf_level=0.95, seed=seed)
        keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    else:
        raise ValueError(f"unknown sensitivity method {method!r}")
    return {"method": method, "names": list(problem["names"])} | {k: [float(v) for v in si[k]] for k in keys}
