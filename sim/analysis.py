"""Summaries of a run: probabilities with Wilson intervals, quantiles of dates and terms."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

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


def _quantiles(values: pd.Series) -> dict[str, float] | None:
    v = values.dropna().to_numpy(dtype=float)
    if v.size == 0:
        return None
    return {f"q{int(q * 100):02d}": float(x) for q, x in zip(QUANTILES, np.quantile(v, QUANTILES), strict=False)} | {
        "mean": float(v.mean())}


def _prob(k: int, n: int) -> dict[str, float]:
    p, lo, hi = wilson(k, n)
    return {"p": p, "low": lo, "high": hi, "k": k, "n": n}


def summarize(runs: pd.DataFrame, scenario: Scenario) -> dict[str, Any]:
    """The run's ``summary.json``: per milestone P(before summit) and P(by horizon)
    with 95% Wilson intervals and closing-day quantiles; quantiles of each agreed
    term and utility; outcome counts; events; efficiency of agreements.

    Replications that raised are excluded from probabilities and counted apart.
    """
    ok = runs[runs["status"] != "error"]
    n = len(ok)
    out: dict[str, Any] = {
        "scenario": scenario.name, "title": scenario.title,
        "start": scenario.start.isoformat(), "summit": scenario.deadline.isoformat(),
        "horizon": scenario.horizon.isoformat(), "headline_milestone": scenario.headline,
        "replications": int(len(runs)), "failures": int(len(runs) - n), "milestones": {},
    }
    for m, label in MILESTONES.items():
        days = ok.loc[ok[m].astype(bool), f"{m}_day"]
        q = _quantiles(days)
        out["milestones"][m] = {
            "label": label,
            "before_summit": _prob(int(ok[f"{m}_before_summit"].sum()), n),
            "by_horizon": _prob(int(ok[m].sum()), n),
            "closing_day": q,
            "closing_date": None if q is None else {
                k: scenario.date_of(int(round(v))).isoformat() for k, v in q.items() if k != "mean"},
        }
    agreed = ok[ok["agreement"].astype(bool)]
    out["terms"] = {i.key: {"label": i.label, "unit": i.unit, **(_quantiles(agreed[f"term.{i.key}"]) or {})}
                    for i in scenario.issues}
    out["utilities"] = {p.key: _quantiles(agreed[f"utility.{p.key}"]) for p in scenario.parties}
    dist = agreed["pareto_distance"].dropna()
    out["efficiency"] = {
        "pareto_distance": _quantiles(dist),
        "share_on_frontier": float((dist <= 1e-6).mean()) if len(dist) else None,
        "nash_distance": _quantiles(agreed["nash_distance"]),
    }
    out["outcomes"] = {k: int(v) for k, v in ok["status"].value_counts().sort_index().items()}
    out["closed_by"] = {k: int(v) for k, v in agreed["closed_by"].value_counts().sort_index().items()}
    out["events"] = {e.name: float(ok[f"event.{e.name}"].mean()) if n else None for e in scenario.events}
    out["rounds"] = _quantiles(ok["rounds"])
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
