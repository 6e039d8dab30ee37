"""Backtesting: forecasts from every case's dates, scored against what happened.

For every case and forecast date, :func:`sim.forecast.conditioning.forecast` conditions the case's
scenario on its record up to that date; each real outcome is then scored:

- the headline event (the headline milestone by the scenario's deadline): the log score
  (ln of the probability given to what happened) and the Brier score, beside the same
  scores of two references — the prior (the scenario with no record) and the base rate the
  case declares with its source;
- each realised term: its probability integral transform (PIT) in the forecast's terms
  distribution — the deals by the deadline if the deal came by then, else every deal by the
  horizon — and whether it falls inside the 50% and 90% central intervals;
- each milestone reached: the PIT of its day in the forecast's distribution of that day
  (worlds where it is never reached sit beyond the horizon).

A PIT is a randomised-free mid-point PIT, P(X < x) + ½ P(X = x), so ties (integer terms,
days) count half. Calibrated forecasts give PITs uniform on [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from sim import analysis
from sim.forecast import scores
from sim.forecast.cases import Case, Outcome
from sim.forecast.conditioning import Forecast, forecast
from sim.forecast.scores import log_score, pit
from sim.scenario import MILESTONES


def _term_scores(fc: Forecast, outcome: Outcome, hit: bool) -> list[dict[str, Any]]:
    sc, table = fc.scenario, fc.posterior
    w = table.column(analysis.WEIGHT).to_numpy()
    chosen = table.column(f"{sc.headline}_before_summit" if hit else "agreement").fill_null(False).to_numpy(
        zero_copy_only=False)
    out = []
    for key, value in outcome.terms.items():
        x = table.column(f"term.{key}").to_numpy(zero_copy_only=False)[chosen]
        ww = w[chosen]
        q = analysis.quantiles(x, ww) or {}
        out.append({"issue": key, "value": value, "pit": pit(x, ww, value), "median": q.get("q50", math.nan),
                    "in50": bool(q and q["q25"] <= value <= q["q75"]),
                    "in90": bool(q and q["q05"] <= value <= q["q95"]),
                    "set": "deals by the deadline" if hit else "every deal by the horizon"})
    return out


def _date_scores(fc: Forecast, outcome: Outcome) -> list[dict[str, Any]]:
    table, sc = fc.posterior, fc.scenario
    w = table.column(analysis.WEIGHT).to_numpy()
    out = []
    for m, day in outcome.reached.items():
        days = table.column(f"{m}_day").fill_null(-1).to_numpy(zero_copy_only=False).astype(float)
        days[days < 0] = math.inf  # never reached: beyond the horizon
        out.append({"milestone": m, "date": sc.date_of(day).isoformat(), "pit": pit(days, w, float(day))})
    return out


def score(fc: Forecast, case: Case, outcome: Outcome) -> dict[str, Any]:
    """One forecast of one outcome, scored (see the module docstring)."""
    probs = fc.probabilities()[fc.scenario.headline]
    p, p_prior = probs["forecast"]["before_summit"], probs["prior"]["before_summit"]
    y = outcome.headline(fc.scenario)
    return {
        "case": case.title, "file": case.path, "outcome": outcome.label,
        "as_of": None if fc.evidence.as_of is None else fc.evidence.as_of.isoformat(),
        "question": f"{MILESTONES[fc.scenario.headline]} by {fc.scenario.deadline}", "happened": y,
        "p": p["p"], "low": p["low"], "high": p["high"], "ess": fc.result.ess, "p_prior": p_prior["p"],
        "p_base": case.base_rate,
        "log_score": log_score(p["p"], y), "log_score_prior": log_score(p_prior["p"], y),
        "log_score_base": log_score(case.base_rate, y),
        "brier": (p["p"] - y) ** 2, "brier_prior": (p_prior["p"] - y) ** 2, "brier_base": (case.base_rate - y) ** 2,
        "terms": _term_scores(fc, outcome, y), "dates": _date_scores(fc, outcome), "warnings": fc.warnings,
    }


def run(cases: list[Case], *, progress: Callable[[str], None] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    """Every case's forecasts, scored: one row per case, forecast date and outcome.
    ``kwargs`` go to :func:`sim.forecast.conditioning.forecast` (seed, workers, particles, target_ess)."""
    rows = []
    for case in cases:
        for date in case.forecast_dates:
            if progress:
                progress(f"{case.title}: forecast as of {date}")
            fc = forecast(case.scenario, date, **kwargs)
            rows += [score(fc, case, outcome) for outcome in case.outcomes]
    return rows


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean scores against both references, skill, calibration, PIT coverage."""
    y = np.array([r["happened"] for r in rows], dtype=float)
    out: dict[str, Any] = {"forecasts": len(rows), "cases": len({r["file"] for r in rows}), "happened": int(y.sum())}
    for name in ("", "_prior", "_base"):
        out[f"log_score{name}"] = float(np.mean([r[f"log_score{name}"] for r in rows]))
        out[f"brier{name}"] = float(np.mean([r[f"brier{name}"] for r in rows]))
    for ref in ("prior", "base"):  # Brier skill: 1 − B / B_ref (> 0: better than the reference)
        b_ref = out[f"brier_{ref}"]
        out[f"brier_skill_vs_{ref}"] = scores.skill(out["brier"], b_ref)
    p = np.array([r["p"] for r in rows])
    out["reliability"] = scores.reliability(p, y, bins=5)
    terms = [t for r in rows for t in r["terms"]]
    dates = [d for r in rows for d in r["dates"]]
    out["terms"] = {"count": len(terms), "in50": _share([t["in50"] for t in terms]),
                    "in90": _share([t["in90"] for t in terms]), "pit": [t["pit"] for t in terms]}
    out["dates"] = {"count": len(dates), "pit": [d["pit"] for d in dates]}
    return out


def _share(flags: list[bool]) -> float:
    return float(np.mean(flags)) if flags else math.nan


def table_rows(rows: list[dict[str, Any]]) -> pa.Table:
    """The scored forecasts as a flat table (one row per case, date and outcome)."""
    keys = ("case", "outcome", "as_of", "question", "happened", "p", "low", "high", "ess", "p_prior", "p_base",
            "log_score", "log_score_prior", "log_score_base", "brier", "brier_prior", "brier_base")
    return pa.table({k: [r[k] for r in rows] for k in keys})
