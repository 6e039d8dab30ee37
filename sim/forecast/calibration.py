"""Does the forecast's inference work? Simulation-based calibration (Talts et al. 2018).

Draw "true" worlds from the scenario's prior; keep those whose talks are still open on the
forecast date (the question is only asked then); give each the record the model itself
would have produced — every reported position of the real record (same dates, sides,
issues, precisions) read off the true world's standing offers plus Gaussian reporting error
of the stated precision, the events and rounds as they happened in it — and condition on it
exactly as :mod:`sim.forecast.conditioning` does. If the inference is right:

Progress reports are drawn the same way: each names the region of counts of issues apart
that holds the true world's count with the report's reliability, else the other region.

- each uncertain parameter's 50% and 90% posterior intervals cover its true value in 50%
  and 90% of the worlds;
- the forecasts of the headline milestone by the summit are calibrated (Spiegelhalter's z
  test, and reliability bins) and beat the prior (no record) in Brier score.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
from scipy.special import ndtri

from sim import analysis, runner
from sim.forecast.conditioning import Evidence, Job, evidence, issues_apart, simulator, still_open
from sim.forecast.inference import smc
from sim.forecast.scores import brier, reliability, spiegelhalter
from sim.scenario import Scenario
from sim.world import SCHEDULED, SUMMIT, Known, sample_worlds, uniforms

#: Posterior intervals checked: central 50% and 90%.
LEVELS = {"50": (0.25, 0.75), "90": (0.05, 0.95)}


def truths(scenario: Scenario, as_of_day: int, n: int, seed: int,
           reached: dict[str, tuple[int, int]] | None = None) -> list[int]:
    """The replication indices of the first ``n`` prior worlds (of ``seed``) whose talks are
    still open on ``as_of_day``, given the milestones ``reached`` (:func:`sim.forecast.conditioning.still_open`)."""
    found: list[int] = []
    first = 0
    while len(found) < n:
        size = 4 * (n - len(found)) + 16
        out = runner.ENGINES["batch"](scenario, sample_worlds(scenario, seed, first, size))
        found += [first + int(k) for k in np.flatnonzero(still_open(out, as_of_day, reached))]
        first += size
    return found[:n]


def synthetic_evidence(scenario: Scenario, real: Evidence, seed: int, index: int) -> tuple[Evidence, dict[str, Any]]:
    """The record true world ``index`` (of ``seed``) would have produced, shaped like ``real``
    (its positions' dates, sides, issues and precisions; its events and rounds), and the
    world's truth: its sampled parameters and whether the headline was reached by the summit."""
    world = sample_worlds(scenario, seed, index, 1)
    out = runner.ENGINES["batch"](scenario, world)
    standing = out.standing[0, real.obs, real.side, real.issue]
    noise = uniforms(seed, "sbc.noise", index, 1, max(len(real.positions), 1))[0, : len(real.positions)]
    values = standing + real.precision * ndtri(noise)  # the kernel's own sd: report and model error
    positions = tuple(dataclasses.replace(p, value=float(v)) for p, v in zip(real.positions, values, strict=True))
    # each progress report names the region of counts that holds the true count with its
    # reliability, else the other region: the forecast's own model of such reports
    counts = issues_apart(out, real)[0]
    truthful = uniforms(seed, "sbc.progress", index, 1, max(len(real.progress), 1))[0, : len(real.progress)]
    allowed = real.p_allowed.copy()
    for k, c in enumerate(counts):
        if real.p_allowed[k, c] != bool(truthful[k] < real.p_reliability[k]):
            allowed[k] = ~allowed[k]
    listed = {*real.known.fired, *real.known.quiet}  # the events the real record speaks of
    fired = {e.name: int(d) for e, d in zip(scenario.events, world.event_day[0], strict=True)
             if e.name in listed and 0 <= d <= real.day}
    quiet = {name: real.day for name in listed if name not in fired}
    held = {int(d): bool(world.meetings[0, d] in (SCHEDULED, SUMMIT)) for d in real.known.rounds}
    # a milestone is reported on a day of the window after the world reached it (uniform: the
    # forecast's window likelihood is flat over it)
    reached = {}
    for m, (lo, hi) in real.reached.items():
        on, window = int(getattr(out, f"{m}_day")[0]), hi - lo
        lag = int(uniforms(seed, f"sbc.milestone.{m}", index, 1)[0, 0] * (window + 1))
        reached[m] = (on + lag - window, on + lag)
    ev = dataclasses.replace(real, positions=positions, value=values, known=Known(fired, quiet, held),
                             p_allowed=allowed, reached=reached)
    day = getattr(out, f"{ev.question(scenario.headline)}_day")[0]
    truth = {"params": {k: float(v[0]) for k, v in world.sampled.items()},
             "headline": bool(scenario.by_summit(day))}
    return ev, truth


def case(args: tuple[Scenario, Evidence, int, int, int, float]) -> dict[str, Any]:
    """Condition on one true world's synthetic record; its coverage and forecast."""
    scenario, real, seed, index, particles, target_ess = args
    ev, truth = synthetic_evidence(scenario, real, seed, index)
    result = smc(simulator(Job(scenario, seed, ev, records=False), None, 1), seed=seed, n0=particles, n=particles,
                 target_ess=target_ess)
    tables = pa.concat_tables([extra[0] for extra in result.batch.extra])
    w = result.weights
    covered = {}
    for path, value in truth["params"].items():
        x = tables.column(f"param.{path}").to_numpy()
        q = analysis.quantiles(x, w)
        if q is None:
            continue
        covered[path] = {"50": q["q25"] <= value <= q["q75"], "90": q["q05"] <= value <= q["q95"]}
    day = tables.column(f"{ev.question(scenario.headline)}_day").to_numpy()
    hit = scenario.by_summit(day)
    return {"index": index, "truth": truth["headline"], "p": float(w @ hit), "ess": result.ess,
            "covered": covered}


def calibrate(scenario: Scenario, as_of: Any, *, worlds: int = 200, seed: int = 0, particles: int = 1000,
              target_ess: float = 400, workers: int = 1, milestone: str | None = None, window: int = 7,
              progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Simulation-based calibration of forecasts of ``scenario`` as of ``as_of`` (see the module
    docstring): ``worlds`` true worlds, each conditioned on its own synthetic record. With
    ``milestone``, the record also says that milestone was reached (within ``window`` days up to
    its report date): the true worlds are those that reached it by ``as_of`` − ``window``, and
    the forecast is of the next milestone."""
    real = evidence(scenario, as_of)
    truth_reached = None
    if milestone is not None:  # true worlds reached it early enough for a report by as_of
        real = dataclasses.replace(real, reached={milestone: (real.day - 2 * window, real.day - window)})
        truth_reached = {milestone: (0, real.day - window)}
    indices = truths(scenario, real.day, worlds, seed, truth_reached)
    tasks = [(scenario, real, seed, k, particles, target_ess) for k in indices]
    if workers > 1:
        with runner.process_pool(workers) as pool:
            done = {k[3]: fut for k, fut in runner.as_completed_bounded(pool, case, tasks, 2 * workers)}
            results = [done[k].result() for k in indices]
    else:
        results = []
        for t in tasks:
            results.append(case(t))
            if progress:
                progress(len(results))
    prior_table = runner.run_chunk(scenario, seed, 0, 20_000)
    day = prior_table.column(f"{real.question(scenario.headline)}_day").fill_null(-1).to_numpy(zero_copy_only=False)
    prior_p = float(scenario.by_summit(day).mean())
    return summarize(results, prior_p)


def summarize(results: list[dict[str, Any]], prior_p: float) -> dict[str, Any]:
    """Coverage (pooled and per parameter), calibration and Brier scores of calibration cases."""
    y = np.array([r["truth"] for r in results], dtype=float)
    p = np.array([r["p"] for r in results])
    paths = sorted({k for r in results for k in r["covered"]})
    per = {path: {lvl: float(np.mean([r["covered"][path][lvl] for r in results if path in r["covered"]]))
                  for lvl in LEVELS} for path in paths}
    pooled = {lvl: float(np.mean([c[lvl] for r in results for c in r["covered"].values()])) for lvl in LEVELS}
    return {"worlds": len(results), "coverage": pooled, "coverage_by_parameter": per,
            "brier": brier(p, y), "brier_prior": brier(np.full(len(y), prior_p), y), "prior_p": prior_p,
            "spiegelhalter_z": spiegelhalter(p, y), "reliability": reliability(p, y),
            "mean_forecast": float(p.mean()), "frequency": float(y.mean()),
            "ess_median": float(np.median([r["ess"] for r in results]))}
