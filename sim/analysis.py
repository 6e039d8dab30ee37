"""Summaries of a run: probabilities with Wilson intervals, quantiles of dates and terms.

Summaries read a run's records a few columns at a time (:mod:`sim.records`), so a run of
tens of millions of replications is summarised in bounded memory. Records may carry a
``weight`` column (a forecast's conditioned runs, :mod:`sim.forecast.conditioning`): every figure is
then weighted, and intervals use the effective sample size (ESS) in place of n.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sim import records
from sim.negotiation import solutions
from sim.negotiation.utility import Preferences
from sim.scenario import MILESTONES, Scenario
from sim.world import sample_worlds

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Z95 = 1.959963984540054
WEIGHT = "weight"  # the column of importance weights in a forecast's records


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float, float]:
    """Proportion ``k/n`` with its Wilson score interval (95% by default).

    ``k`` and ``n`` may be fractional (a weighted count and an effective sample size).
    Returns ``(p, low, high)``; all NaN when ``n == 0``.
    """
    if n <= 0:
        return math.nan, math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / denom
    # the interval always contains p; min/max guard against rounding at k = 0 or k = n
    return p, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


def ess(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights, (Σw)² / Σw²."""
    total = float(weights.sum())
    squares = float(np.square(weights).sum())
    return total * total / squares if squares > 0 else 0.0


def equal_weights(weights: np.ndarray | None) -> bool:
    """Whether ``weights`` are absent or all equal (then every figure is the unweighted one,
    exactly: a forecast without a record is the prior run)."""
    return weights is None or len(weights) == 0 or bool(np.all(weights == weights[0]))


def proportion(hit: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float]:
    """The share of ``hit`` with its 95% Wilson interval: ``p``, ``low``, ``high``, the count
    ``k`` and size ``n``; weighted, ``p`` is the weighted share and the interval uses the
    effective sample size (``ess``)."""
    if weights is None or equal_weights(weights):
        k, n = int(hit.sum()), len(hit)
        p, lo, hi = wilson(k, n)
        return {"p": p, "low": lo, "high": hi, "k": k, "n": n} | ({} if weights is None else {"ess": float(n)})
    total = float(weights.sum())
    n_eff = ess(weights)
    p = float(weights[hit].sum() / total) if total > 0 else math.nan
    _, lo, hi = wilson(p * n_eff, n_eff)
    return {"p": p, "low": lo, "high": hi, "k": int(hit.sum()), "n": len(hit), "ess": n_eff}


def quantiles(values: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float] | None:
    """Quantiles (5, 25, 50, 75, 95%) and mean of the non-NaN values (weighted if ``weights``);
    None if there are none."""
    nan = np.isnan(values)
    if weights is not None and not equal_weights(weights):
        v, w = values[~nan], weights[~nan]
        if v.size == 0 or w.sum() <= 0:
            return None
        order = np.argsort(v, kind="stable")
        v, w = v[order], w[order]
        cum = (np.cumsum(w) - 0.5 * w) / w.sum()  # mid-point rule: equal weights give Hazen's quantiles
        qs = np.interp(QUANTILES, cum, v)
        return {f"q{int(q * 100):02d}": float(x) for q, x in zip(QUANTILES, qs, strict=True)} | {
            "mean": float(np.average(v, weights=w))}
    v = values[~nan] if nan.any() else values.copy()  # a copy, so the quantiles may reorder it in place
    del nan
    if v.size == 0:
        return None
    mean = float(v.mean())
    qs = np.quantile(v, QUANTILES, overwrite_input=True)
    return {f"q{int(q * 100):02d}": float(x) for q, x in zip(QUANTILES, qs, strict=True)} | {"mean": mean}


def milestone_stats(day: np.ndarray, ok: np.ndarray, summit_day: int,
                    weights: np.ndarray | None = None) -> dict[str, Any]:
    """One milestone over a run: P(reached on or before the summit), P(reached by the horizon),
    and quantiles of the day it is reached. ``day`` is −1 where it was not reached; rows that
    are not ``ok`` (replications that raised) are left out. The one place both run summaries
    and sweep points compute these."""
    d = day[ok]
    w = None if weights is None else weights[ok]
    reached = d >= 0
    return {
        "before_summit": proportion(reached & (d <= summit_day), w),
        "by_horizon": proportion(reached, w),
        "closing_day": quantiles(d[reached].astype(np.float64), None if w is None else w[reached]),
    }


def _issue_summary(issue: Any, values: np.ndarray, weights: np.ndarray | None) -> dict[str, Any]:
    out: dict[str, Any] = {"label": issue.label, "unit": issue.unit}
    if issue.levels:  # categories: the share of each, by name
        w = np.ones(len(values)) if weights is None else weights
        total = float(w.sum())
        idx = np.round(values).astype(int)
        out["shares"] = {name: (float(w[idx == k].sum() / total) if total > 0 else None)
                         for k, name in enumerate(issue.levels)}
        return out
    return out | (quantiles(values, weights) or {})


def _agreements(path: Path, scenario: Scenario, where: np.ndarray, weights: np.ndarray | None,
                label: str) -> dict[str, Any]:
    """Terms and utilities of the agreements selected by ``where``."""
    w = None if weights is None else weights[where]
    out: dict[str, Any] = {"set": label, "n": int(where.sum())}
    if w is not None:
        out["ess"] = ess(w)
    out["terms"] = {i.key: _issue_summary(i, records.column(path, f"term.{i.key}", where), w) for i in scenario.issues}
    out["utilities"] = {p.key: quantiles(records.column(path, f"utility.{p.key}", where), w) for p in scenario.parties}
    return out


def reference(scenario: Scenario) -> dict[str, Any]:
    """Reference values of the scenario's nominal world (every distribution at its median)
    for figures: each side's best value and hard limits per issue (with the limits' range
    where uncertain), reservation values, the Pareto frontier and the Nash point."""
    w = sample_worlds(scenario, 0, 0, 1, nominal=True).row(0)
    a, b = w.parties
    pa, pb = Preferences(a.weights, a.best, a.worst), Preferences(b.weights, b.best, b.worst)
    frontier = solutions.pareto_frontier(pa, pb, np.maximum(a.lo, b.lo), np.minimum(a.hi, b.hi))
    reservations = (float(a.reservation), float(b.reservation))
    sides = {}
    for spec, side in zip(scenario.parties, w.parties, strict=True):
        sides[spec.key] = {"label": spec.label, "reservation": float(side.reservation), "issues": {
            issue.key: {"best": float(side.best[i]), "min": float(side.lo[i]), "max": float(side.hi[i]),
                        "min_range": list(spec.limit_min[i].support), "max_range": list(spec.limit_max[i].support)}
            for i, issue in enumerate(scenario.issues)}}
    return {"sides": sides, "frontier": frontier.tolist(),
            "nash": list(solutions.nash_point(frontier, *reservations)), "reservations": list(reservations)}


def summarize(path: Path, scenario: Scenario) -> dict[str, Any]:
    """The run's ``summary.json``: per milestone P(before summit) and P(by horizon)
    with 95% Wilson intervals and closing-day quantiles; the agreed terms and utilities of
    the headline event (the headline milestone before the summit) and of every agreement by
    the horizon; outcome counts; events; efficiency of agreements; reference values.

    Replications that raised are excluded from probabilities and counted apart. With a
    ``weight`` column every figure is weighted (see the module docstring).
    """
    ok = records.completed(path)
    weighted = WEIGHT in records.dataset(path).schema.names
    weights: np.ndarray | None = records.column(path, WEIGHT) if weighted else None
    agreed = records.column(path, "agreement") & ok
    n = int(ok.sum())
    out: dict[str, Any] = {
        "scenario": scenario.name, "title": scenario.title,
        "start": scenario.start.isoformat(), "summit": scenario.deadline.isoformat(),
        "horizon": scenario.horizon.isoformat(), "headline_milestone": scenario.headline,
        "replications": len(ok), "failures": int(len(ok) - n), "weighted": weighted, "milestones": {},
    }
    if weights is not None:
        out["ess"] = ess(weights[ok])
    headline_set = np.zeros(len(ok), dtype=bool)
    for m, label in MILESTONES.items():
        day = records.days(path, f"{m}_day")
        stats = milestone_stats(day, ok, scenario.summit_day, weights)
        if m == scenario.headline:
            headline_set = scenario.by_summit(day) & ok
        del day
        q = stats["closing_day"]
        out["milestones"][m] = {"label": label, **stats, "closing_date": None if q is None else {
            k: scenario.date_of(round(v)).isoformat() for k, v in q.items() if k != "mean"}}
    head = MILESTONES[scenario.headline]
    out["agreements"] = {
        "headline": _agreements(path, scenario, headline_set, weights, f"{head} by {scenario.deadline} (the headline)"),
        "by_horizon": _agreements(path, scenario, agreed, weights, f"agreement in principle by {scenario.horizon}"),
    }
    w_agreed = None if weights is None else weights[agreed]
    dist = records.column(path, "pareto_distance", agreed)
    out["efficiency"] = {
        "set": out["agreements"]["by_horizon"]["set"],
        "pareto_distance": quantiles(dist, w_agreed),
        "share_on_frontier": (float(np.average(dist <= 1e-6, weights=w_agreed)) if dist.size else None),
        "nash_distance": quantiles(records.column(path, "nash_distance", agreed), w_agreed),
    }
    del dist
    out["outcomes"] = records.value_counts(path, "status", ok)
    out["closed_by"] = records.value_counts(path, "closed_by", agreed)
    w_ok = None if weights is None else weights[ok]
    out["events"] = {e.name: float(np.average(records.column(path, f"event.{e.name}", ok), weights=w_ok)) if n else None
                     for e in scenario.events}
    out["rounds"] = quantiles(records.column(path, "rounds", ok), w_ok)
    out["reference"] = reference(scenario)
    return out


def headline(summary: dict[str, Any]) -> str:
    """The answer in one line, e.g. ``P(agreement in principle by 2025-10-29) = 0.63 [0.62, 0.64], n=10,000``."""
    m = summary["milestones"][summary["headline_milestone"]]
    b = m["before_summit"]
    size = f"ESS={b['ess']:,.0f} of {b['n']:,}" if "ess" in b else f"n={b['n']:,}"
    return f"P({m['label']} by {summary['summit']}) = {b['p']:.2f} [{b['low']:.2f}, {b['high']:.2f}], {size}"


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
    median and mean of each term and utility over the headline deals (the headline milestone
    reached before the summit, as in :func:`summarize`); counts."""
    status = table.column("status")
    ok = pc.not_equal(status, "error").fill_null(True).to_numpy(zero_copy_only=False)
    n = int(ok.sum())
    row: dict[str, float] = {"n": n, "failures": int(len(ok) - n)}
    for m in MILESTONES:
        day = table.column(f"{m}_day").fill_null(-1).to_numpy(zero_copy_only=False)
        stats = milestone_stats(day, ok, scenario.summit_day)
        b = stats["before_summit"]
        row |= {f"p.{m}": b["p"], f"p.{m}.low": b["low"], f"p.{m}.high": b["high"],
                f"p.{m}.by_horizon": stats["by_horizon"]["p"]}
        if m == scenario.headline:
            closing = stats["closing_day"] or {}
            for q in ("q05", "q25", "q50", "q75", "q95"):
                row[f"closing_day.{q}"] = closing.get(q, math.nan)
    agreed = table.column(f"{scenario.headline}_before_summit").fill_null(False).to_numpy(zero_copy_only=False) & ok
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
