"""Backtesting: forecasts from every case's dates, scored against what happened — in sample
(:func:`run`: each case with its own priors) or cross-validated (:func:`cross_validate`: each case
with priors learned from the *other* groups of cases, :mod:`sim.forecast.priors`).

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
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from sim import analysis, runner
from sim.forecast import priors, scores
from sim.forecast.cases import Case, Outcome
from sim.forecast.conditioning import Forecast, RecordNotMatched, forecast
from sim.forecast.library import base_rate_without
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
    out: dict[str, Any] = {"forecasts": len(rows), "cases": len({r["file"] for r in rows}), "happened": int(y.sum()),
                           **_mean_scores(rows, ("", "_prior", "_base"))}
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


def _mean_scores(rows: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, float]:
    """The mean log score and Brier score of each forecaster (``log_score<name>``, ``brier<name>``)."""
    return {f"{score}{name}": float(np.mean([r[f"{score}{name}"] for r in rows]))
            for name in names for score in ("log_score", "brier")}


def _share(flags: list[bool]) -> float:
    return float(np.mean(flags)) if flags else math.nan


def table_rows(rows: list[dict[str, Any]]) -> pa.Table:
    """The scored forecasts as a flat table (one row per case, date and outcome)."""
    keys = ("case", "outcome", "as_of", "question", "happened", "p", "low", "high", "ess", "p_prior", "p_base",
            "log_score", "log_score_prior", "log_score_base", "brier", "brier_prior", "brier_base")
    return pa.table({k: [r[k] for r in rows] for k in keys})


# --- cross-validated: priors learned without the case's group ---------------------------------------


@dataclass
class Grid:
    """Every case's forecasts at every point of the hyperparameter grid.

    Attributes:
        cases: The cases, in order.
        keys: One ``(case, date, outcome)`` index triple per scored forecast.
        p: ``[points, forecasts]``: P(headline by the deadline).
        y: Whether it happened, per forecast.
        refused: ``[points, forecasts]``: the forecast was refused (the record out of reach).
        pits: Per forecast, ``{issue: [points]}`` PITs of the realised terms.
    """

    cases: list[Case]
    keys: list[tuple[int, int, int]]
    p: np.ndarray
    y: np.ndarray
    refused: np.ndarray
    pits: list[dict[str, np.ndarray]]


def _grid_task(task: tuple[int, Case, int, dict[str, Any]]) -> tuple[int, int, list[dict[str, Any]]]:
    """One case at one grid point: every forecast date, scored (refusals marked)."""
    ci, case, k, settings = task
    sc = priors.scenario_with(case.document, priors.GRID[k], case.path)
    rows: list[dict[str, Any]] = []
    for j, date in enumerate(case.forecast_dates):
        try:
            fc = forecast(sc, date, workers=1, **settings)
        except RecordNotMatched as exc:  # the record is out of this point's reach: its likelihood is ~0
            rows += [{"date_index": j, "outcome_index": o, "refused": str(exc)} for o in range(len(case.outcomes))]
            continue
        rows += [{"date_index": j, "outcome_index": o, **score(fc, case, out)} for o, out in enumerate(case.outcomes)]
    return ci, k, rows


def grid(cases: list[Case], *, seed: int, particles: int, target_ess: float, workers: int = 1,
         executor: str = "local", scheduler: str | None = None,
         progress: Callable[[int, int], None] | None = None) -> Grid:
    """Every case forecast from every date at every grid point (tasks of one case and one point run
    on local processes or Dask; results are keyed, so any worker count gives the same grid)."""
    settings = {"seed": seed, "particles": particles, "target_ess": target_ess}
    tasks = [(ci, case, k, settings) for ci, case in enumerate(cases) for k in range(len(priors.GRID))]
    done: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for task, result, exc in runner.run_tasks(_grid_task, tasks, workers, executor=executor, scheduler=scheduler,
                                              name="backtest"):
        if result is None:
            raise RuntimeError(f"{task[1].title} at grid point {task[2]} failed: {exc}") from exc
        done[(result[0], result[1])] = result[2]
        if progress:
            progress(len(done), len(tasks))
    keys = [(ci, j, o) for ci, case in enumerate(cases) for j in range(len(case.forecast_dates))
            for o in range(len(case.outcomes))]
    index = {key: f for f, key in enumerate(keys)}
    n_points = len(priors.GRID)
    p = np.full((n_points, len(keys)), math.nan)
    refused = np.zeros((n_points, len(keys)), dtype=bool)
    pits: list[dict[str, np.ndarray]] = [{} for _ in keys]
    y = np.array([cases[ci].outcomes[o].headline(cases[ci].scenario) for ci, _, o in keys], dtype=float)
    for (ci, k), rows in done.items():
        for row in rows:
            f = index[(ci, row["date_index"], row["outcome_index"])]
            if "refused" in row:
                refused[k, f] = True
                continue
            p[k, f] = row["p"]
            for term in row["terms"]:
                pits[f].setdefault(term["issue"], np.full(n_points, math.nan))[k] = term["pit"]
    return Grid(cases, keys, p, y, refused, pits)


def _learned(g: Grid, w: np.ndarray, f: int) -> tuple[float, np.ndarray]:
    """Forecast ``f`` under the learned priors ``w`` (points that refused it dropped): its
    probability (½ if every point refused) and the weights used."""
    ww = w * ~g.refused[:, f]
    if not ww.sum():
        return 0.5, ww
    return float(priors.mixture(np.nan_to_num(g.p[:, f], nan=0.0), ww / ww.sum())), ww


def cross_validate(g: Grid) -> dict[str, Any]:
    """Each forecast five ways — priors learned without its group from the cases of its kind
    (the product's forecast: :mod:`sim.forecast.priors`), the same from every kind's cases
    ("pooled"), the judgement priors, the base rate out of its group, and the base rate out of its
    group among the talks of its kind — scored; the hyperposteriors of each fold and of the whole
    library. A case of no kind, or of a kind with no case outside its group, takes the pooled priors.

    A refused forecast (the record beyond a point's reach) scores as a probability of ``EPS``
    given to what happened in the fit; scored, it falls back to ½ (no forecast) and is counted.
    """
    log_scores = np.where(g.refused, math.log(scores.EPS),
                          np.vectorize(log_score)(np.nan_to_num(g.p, nan=0.5), g.y.astype(bool)))
    case_of = np.array([ci for ci, _, _ in g.keys])
    per_case = priors.case_log_likelihood(log_scores, case_of)
    groups = list(dict.fromkeys(c.group for c in g.cases))
    of_kind = {kind: [ci for ci, c in enumerate(g.cases) if c.scenario.kind == kind]
               for kind in dict.fromkeys(c.scenario.kind for c in g.cases) if kind}
    folds: dict[str, list[float]] = {}
    fold_kinds: dict[str, dict[str, list[float]]] = {}
    rows = []
    p_judgement = np.nan_to_num(g.p[priors.JUDGEMENT], nan=0.5)
    for group in groups:
        members = [ci for ci, c in enumerate(g.cases) if c.group == group]
        pooled = priors.weights(per_case, without=members)
        folds[group] = pooled.tolist()
        by_kind = {kind: priors.weights(per_case, without=members, only=cases) for kind, cases in of_kind.items()
                   if set(cases) - set(members)}
        fold_kinds[group] = {kind: w.tolist() for kind, w in by_kind.items()
                             if any(g.cases[ci].scenario.kind == kind for ci in members)}
        base, hits, n = base_rate_without(g.cases, group)
        base_of_kind = {kind: base_rate_without([g.cases[k] for k in of_kind[kind]], group) for kind in by_kind}
        for f, (ci, j, o) in enumerate(g.keys):
            if ci not in members:
                continue
            case, y = g.cases[ci], bool(g.y[f])
            kind = case.scenario.kind
            p_learned, ww = _learned(g, by_kind.get(kind, pooled), f)
            p_pooled = _learned(g, pooled, f)[0]
            base_kind, hits_kind, n_kind = base_of_kind.get(kind, (base, hits, n))
            pit_learned = {k: float(np.nansum(ww * np.nan_to_num(v)) / ww.sum()) for k, v in g.pits[f].items()
                           if ww.sum()}
            pj = float(p_judgement[f])
            rows.append({
                "case": case.title, "file": case.path, "group": group, "kind": kind or "(none)",
                "outcome": case.outcomes[o].label, "as_of": case.forecast_dates[j].isoformat(), "happened": y,
                "p": p_learned, "p_pooled": p_pooled, "p_judgement": pj, "p_base": base, "p_base_kind": base_kind,
                "base_source": f"{hits} of {n} outside the group",
                "base_kind_source": f"{hits_kind} of {n_kind} of its kind outside the group",
                "refused": int(g.refused[:, f].sum()), "refused_judgement": bool(g.refused[priors.JUDGEMENT, f]),
                **{f"{rule}{name}": fn(q, y) for name, q in (("", p_learned), ("_pooled", p_pooled),
                                                             ("_judgement", pj), ("_base", base),
                                                             ("_base_kind", base_kind))
                   for rule, fn in (("log_score", log_score), ("brier", scores.brier))},
                "terms": [{"issue": k, "pit": v} for k, v in pit_learned.items()],
                "terms_judgement": [{"issue": k, "pit": float(v[priors.JUDGEMENT])} for k, v in g.pits[f].items()],
            })
    full = priors.weights(per_case)
    kinds = {kind: priors.weights(per_case, only=cases).tolist() for kind, cases in of_kind.items()}
    return {"forecasts": rows, "summary": summarize_cv(rows), "folds": folds, "fold_kinds": fold_kinds,
            "weights": full.tolist(), "kinds": kinds, "grid": [asdict(h) for h in priors.GRID],
            "case_log_likelihood": {g.cases[ci].path: ll.tolist() for ci, ll in per_case.items()}}


def summarize_cv(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean scores of the learned, judgement and base-rate forecasts; skill; calibration; extremes."""
    y = np.array([r["happened"] for r in rows], dtype=float)
    out: dict[str, Any] = {"forecasts": len(rows), "cases": len({r["file"] for r in rows}),
                           "groups": len({r["group"] for r in rows}), "happened": int(y.sum()),
                           **_mean_scores(rows, ("", "_pooled", "_judgement", "_base", "_base_kind"))}
    for ref in ("pooled", "judgement", "base", "base_kind"):
        out[f"brier_skill_vs_{ref}"] = scores.skill(out["brier"], out[f"brier_{ref}"])
    out["brier_skill_judgement_vs_base"] = scores.skill(out["brier_judgement"], out["brier_base"])
    out["brier_skill_pooled_vs_base"] = scores.skill(out["brier_pooled"], out["brier_base"])
    for name in ("", "_pooled", "_judgement"):
        p = np.array([r[f"p{name}"] for r in rows])
        out[f"reliability{name}"] = scores.reliability(p, y, bins=10)
        out[f"extremes{name}"] = scores.extremes(p, y)
    out["refused_judgement"] = int(sum(r["refused_judgement"] for r in rows))
    out["terms"] = {"pit": [t["pit"] for r in rows for t in r["terms"]],
                    "pit_judgement": [t["pit"] for r in rows for t in r["terms_judgement"]]}
    return out


def by_case(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per case: forecasts, how often it happened, mean Brier and log score of the three forecasters."""
    out = []
    for file in dict.fromkeys(r["file"] for r in rows):
        rs = [r for r in rows if r["file"] == file]
        item: dict[str, Any] = {"case": rs[0]["case"], "file": file, "group": rs[0]["group"], "forecasts": len(rs),
                                "happened": sum(r["happened"] for r in rs),
                                "kind": rs[0]["kind"],
                                **_mean_scores(rs, ("", "_pooled", "_judgement", "_base", "_base_kind"))}
        for name in ("", "_pooled", "_judgement", "_base", "_base_kind"):
            item[f"p{name}"] = float(np.mean([r[f"p{name}"] for r in rs]))
        out.append(item)
    return out


def track_record(cv: dict[str, Any]) -> dict[str, Any]:
    """What the learned priors file keeps of a cross-validated backtest (:data:`sim.forecast.priors.TRACK_SUMMARY`):
    its scores over all talks with the reliability bins, per kind of talk, and per case."""
    rows = cv["forecasts"]
    kinds = {}
    for kind in sorted({r["kind"] for r in rows}):
        rs = [r for r in rows if r["kind"] == kind]
        kinds[kind] = {"forecasts": len(rs), "cases": len({r["file"] for r in rs}),
                       "happened": int(sum(r["happened"] for r in rs)), **_mean_scores(rs, ("", "_base", "_base_kind"))}
    summary = cv["summary"]
    return {"summary": {k: summary[k] for k in (*priors.TRACK_SUMMARY, *priors.TRACK_BINS)},
            "kinds": {kind: {k: row[k] for k in priors.TRACK_KIND} for kind, row in kinds.items()},
            "cases": [{k: c[k] for k in priors.TRACK_CASE} for c in by_case(rows)]}
