"""Summaries of a run: probabilities with Wilson intervals, quantiles of dates and terms.

Summaries read a run's records (:func:`sim.records.dataset`) a few columns at a time, so a run of tens of
millions of replications is summarised in bounded memory.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sim import records
from sim.scenario import MILESTONES, Scenario

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float, float]:
    """Proportion ``k/n`` with its Wilson score interval (95% by default).

    Returns ``(p, low, high)``; all NaN when ``n == 0``.
    """
    if n == 0:
        return math.nan, math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # the interval always contains p; min/max guard against rounding at k = 0 or k = n
    return p, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


BATCH = 1 << 20


def _batches(path: Path, name: str):
    # one fragment and one batch in flight: summaries favour memory over read-ahead
    return records.dataset(path).to_batches(batch_size=BATCH, columns=[name], use_threads=False,
                                            batch_readahead=1, fragment_readahead=1)


def _stream(path: Path, name: str, convert, where: np.ndarray | None = None) -> np.ndarray:
    """One column of a run's records, read batch by batch into a preallocated array (a
    whole-column read of a long run costs several times the column's size); with ``where``,
    only the rows where it is true are kept."""
    size = records.dataset(path).count_rows() if where is None else int(where.sum())
    out = None
    pos = row = 0
    for batch in _batches(path, name):
        part = convert(batch.column(0))
        if where is not None:
            part = part[where[row:row + len(part)]]
            row += batch.num_rows
        if out is None:
            out = np.empty(size, dtype=part.dtype)
        out[pos:pos + len(part)] = part
        pos += len(part)
    return out if out is not None else np.empty(0)


def _numbers(col):
    if col.type == "bool":
        return col.fill_null(False).to_numpy(zero_copy_only=False)
    return col.cast("float64").to_numpy(zero_copy_only=False)


def column(path: Path, name: str, where: np.ndarray | None = None) -> np.ndarray:
    """A numeric or flag column as a numpy array (nulls as NaN, or False for flags); with
    ``where``, only the selected rows."""
    return _stream(path, name, _numbers, where)


def days(path: Path, name: str) -> np.ndarray:
    """A day column as int32, −1 where the milestone was not reached (half the memory of floats)."""
    return _stream(path, name, lambda col: col.fill_null(-1).to_numpy(zero_copy_only=False))


def columns(path: Path, names: list[str]) -> dict[str, np.ndarray]:
    """Several columns, see :func:`column`."""
    return {name: column(path, name) for name in names}


def completed(path: Path) -> np.ndarray:
    """Which replications ran without error (compared in Arrow: no Python strings per row)."""
    return _stream(path, "status", lambda col: pc.not_equal(col, "error").fill_null(True).to_numpy(zero_copy_only=False))


def quantiles(values: np.ndarray) -> dict[str, float] | None:
    """Quantiles (5, 25, 50, 75, 95%) and mean of the non-NaN values; None if there are none."""
    nan = np.isnan(values)
    v = values[~nan] if nan.any() else values.copy()  # a copy, so the quantiles may reorder it in place
    del nan
    if v.size == 0:
        return None
    mean = float(v.mean())
    qs = np.quantile(v, QUANTILES, overwrite_input=True)
    return {f"q{int(q * 100):02d}": float(x) for q, x in zip(QUANTILES, qs, strict=True)} | {"mean": mean}


def _prob(k: int, n: int) -> dict[str, float]:
    p, lo, hi = wilson(k, n)
    return {"p": p, "low": lo, "high": hi, "k": k, "n": n}


def _counts(path: Path, name: str, where: np.ndarray) -> dict[str, int]:
    """How often each value of a string column occurs among the rows ``where`` is true."""
    totals: dict[str, int] = {}
    pos = 0
    for batch in _batches(path, name):
        col = batch.column(0)
        part = col.filter(pa.array(where[pos:pos + len(col)]))
        pos += len(col)
        for c in pc.value_counts(part.drop_null()).to_pylist():
            totals[c["values"]] = totals.get(c["values"], 0) + int(c["counts"])
    return dict(sorted(totals.items()))


def summarize(path: Path, scenario: Scenario) -> dict[str, Any]:
    """The run's ``summary.json``: per milestone P(before summit) and P(by horizon)
    with 95% Wilson intervals and closing-day quantiles; quantiles of each agreed
    term and utility; outcome counts; events; efficiency of agreements.

    Replications that raised are excluded from probabilities and counted apart.
    """
    ok = completed(path)
    agreed = columns(path, ["agreement"])["agreement"] & ok
    n = int(ok.sum())
    out: dict[str, Any] = {
        "scenario": scenario.name, "title": scenario.title,
        "start": scenario.start.isoformat(), "summit": scenario.deadline.isoformat(),
        "horizon": scenario.horizon.isoformat(), "headline_milestone": scenario.headline,
        "replications": int(len(ok)), "failures": int(len(ok) - n), "milestones": {},
    }
    for m, label in MILESTONES.items():
        day = days(path, f"{m}_day")
        reached = (day >= 0) & ok
        q = quantiles(day[reached].astype(np.float64))
        before = int((reached & (day <= scenario.summit_day)).sum())
        del day
        out["milestones"][m] = {
            "label": label,
            "before_summit": _prob(before, n),
            "by_horizon": _prob(int(reached.sum()), n),
            "closing_day": q,
            "closing_date": None if q is None else {
                k: scenario.date_of(int(round(v))).isoformat() for k, v in q.items() if k != "mean"},
        }
    out["terms"] = {}
    for i in scenario.issues:
        values = column(path, f"term.{i.key}", agreed)
        out["terms"][i.key] = {"label": i.label, "unit": i.unit, **(quantiles(values) or {})}
    out["utilities"] = {p.key: quantiles(column(path, f"utility.{p.key}", agreed)) for p in scenario.parties}
    dist = column(path, "pareto_distance", agreed)
    out["efficiency"] = {
        "pareto_distance": quantiles(dist),
        "share_on_frontier": float((dist <= 1e-6).mean()) if dist.size else None,
    }
    del dist
    out["efficiency"]["nash_distance"] = quantiles(column(path, "nash_distance", agreed))
    out["outcomes"] = _counts(path, "status", ok)
    out["closed_by"] = _counts(path, "closed_by", agreed)
    out["events"] = {e.name: float(column(path, f"event.{e.name}", ok).mean()) if n else None
                     for e in scenario.events}
    out["rounds"] = quantiles(column(path, "rounds", ok))
    return out


def headline(summary: dict[str, Any]) -> str:
    """The answer in one line, e.g. ``P(agreement in principle by 2025-10-29) = 0.63 [0.62, 0.64], n=10,000``."""
    m = summary["milestones"][summary["headline_milestone"]]
    b = m["before_summit"]
    return (f"P({m['label']} by {summary['summit']}) = {b['p']:.2f} [{b['low']:.2f}, {b['high']:.2f}], "
            f"n={b['n']:,}")


def report(summary: dict[str, Any]) -> list[str]:
    """A few lines for the terminal: every milestone, before the summit and by the horizon."""
    lines = [headline(summary)]
    for m in summary["milestones"].values():
        b, h = m["before_summit"], m["by_horizon"]
        median = (m["closing_date"] or {}).get("q50", "—")
        lines.append(f"  {m['label']:<24} by summit {b['p']:.3f} [{b['low']:.3f}, {b['high']:.3f}]   "
                     f"by {summary['horizon']} {h['p']:.3f}   median date {median}")
    return lines


# --- design points and comparisons -------------------------------------------------------


def point_summary(table: pa.Table, scenario: Scenario) -> dict[str, float]:
    """One design point's results as a flat row: per milestone P(before summit) with its 95%
    Wilson interval and P(by horizon); closing-day quantiles of the headline milestone; the
    median and mean of each agreed term; mean utilities; counts."""
    status = table.column("status")
    ok = pc.not_equal(status, "error").fill_null(True).to_numpy(zero_copy_only=False)
    n = int(ok.sum())
    row: dict[str, float] = {"n": n, "failures": int(len(ok) - n)}
    for m in MILESTONES:
        day = table.column(f"{m}_day").fill_null(-1).to_numpy(zero_copy_only=False)
        reached = (day >= 0) & ok
        p, lo, hi = wilson(int((reached & (day <= scenario.summit_day)).sum()), n)
        row |= {f"p.{m}": p, f"p.{m}.low": lo, f"p.{m}.high": hi,
                f"p.{m}.by_horizon": wilson(int(reached.sum()), n)[0]}
    day = table.column(f"{scenario.headline}_day").fill_null(-1).to_numpy(zero_copy_only=False)
    closing = quantiles(day[(day >= 0) & ok].astype(np.float64)) or {}
    for q in ("q05", "q25", "q50", "q75", "q95"):
        row[f"closing_day.{q}"] = closing.get(q, math.nan)
    agreed = table.column("agreement").fill_null(False).to_numpy(zero_copy_only=False) & ok
    for name in [f"term.{i.key}" for i in scenario.issues] + [f"utility.{p.key}" for p in scenario.parties]:
        values = table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)[agreed]
        row[f"{name}.q50"] = float(np.median(values)) if values.size else math.nan
        row[f"{name}.mean"] = float(values.mean()) if values.size else math.nan
    return row


def paired_difference(a: np.ndarray, b: np.ndarray, z: float = Z95) -> dict[str, float]:
    """Mean of ``a - b`` over pairs measured on the same worlds, with its paired 95% interval,
    and the interval two independent samples of the same sizes would give (for contrast).

    NaN pairs (e.g. a term where either run has no agreement) are dropped from both.
    """
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep].astype(np.float64), b[keep].astype(np.float64)
    n = int(keep.sum())
    if n < 2:
        return {"diff": math.nan, "low": math.nan, "high": math.nan, "unpaired_low": math.nan,
                "unpaired_high": math.nan, "n": n, "mean_a": math.nan, "mean_b": math.nan}
    d = a - b
    diff = float(d.mean())
    half = z * float(d.std(ddof=1)) / math.sqrt(n)
    half_unpaired = z * math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / n)
    return {"diff": diff, "low": diff - half, "high": diff + half, "unpaired_low": diff - half_unpaired,
            "unpaired_high": diff + half_unpaired, "n": n, "mean_a": float(a.mean()), "mean_b": float(b.mean())}


def prim_box(x: np.ndarray, hit: np.ndarray, *, alpha: float = 0.05, min_mass: float = 0.05) -> dict[str, Any]:
    """Scenario discovery by PRIM (Friedman & Fisher 1999): a box of input space where
    ``hit`` (e.g. P(deal) ≥ a threshold) is concentrated.

    Starting from the whole sample, each step peels the ``alpha`` share of points off one
    face of the box — the peel that leaves the highest density of hits — until fewer than
    ``min_mass`` of the points remain or no peel raises the density.

    Args:
        x: Design points, ``[points, factors]``.
        hit: Boolean per point.

    Returns:
        ``low``/``high`` bounds per factor, ``density`` (share of hits inside), ``coverage``
        (share of all hits inside), ``mass`` (share of points inside) and the peeling
        ``trajectory`` of (coverage, density, mass).
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
            "trajectory": trajectory}


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

        from sim.design import MORRIS_LEVELS

        si = morris.analyze(problem, x, y, num_levels=MORRIS_LEVELS, conf_level=0.95, seed=seed)
        keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    else:
        raise ValueError(f"unknown sensitivity method {method!r}")
    return {"method": method, "names": list(problem["names"])} | {k: [float(v) for v in si[k]] for k in keys}
