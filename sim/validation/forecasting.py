"""Check 9: the forecast's inference (:mod:`sim.forecast.conditioning`, :mod:`sim.forecast.inference`).

- With no record, the forecast is the prior run itself, replication by replication.
- With only "no agreement by D", it is the exact conditional frequency among the prior run's worlds.
- Simulation-based calibration of the record items beyond positions (progress reports and
  milestones reached) on a one-issue split where they bite.
- Simulation-based calibration on the flagship's record shape (:mod:`sim.forecast.calibration`):
  200 true worlds from the prior, each conditioned on its own synthetic record; the 50% and
  90% posterior intervals of every uncertain parameter must cover the truth at their
  nominal rates (±5 points, pooled over parameters), the forecasts of the headline by the
  summit must be calibrated (Spiegelhalter's |z| < 2) and beat the prior in Brier score.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path
from typing import Any

from sim import runner
from sim.forecast import calibration
from sim.forecast import conditioning as forecast
from sim.scenario import find_scenario, load_scenario
from sim.validation.core import Check
from sim.validation.figures import plot_reliability
from sim.world import sample_worlds

AS_OF = dt.date(2025, 10, 25)  # the seed's date
WORLDS = 200


def check_inference(fig_dir: Path | None) -> list[Check]:
    """The forecast is exact at its limits and calibrated on the flagship's record shape."""
    g = "9. Forecast inference"
    sc = load_scenario(find_scenario("us_korea_2025.toml"))
    prior = forecast.forecast(sc, None, seed=3, particles=2000, target_ess=500)
    same = prior.posterior.drop_columns(["weight", "log_likelihood"]).equals(runner.run_chunk(sc, 3, 0, 2000))
    out = [Check(g, "no record: the forecast is the prior run (2,000 replications)", "identical rows",
                 "identical" if same else "different", "exact", same)]
    bare, as_of = dataclasses.replace(sc, record=None), dt.date(2025, 10, 1)
    fc = forecast.forecast(bare, as_of, seed=5, particles=4000, target_ess=500)
    o = runner.ENGINES["batch"](bare, sample_worlds(bare, 5, 0, 4000))
    open_ = forecast.still_open(o, (as_of - bare.start).days)
    expected = float(bare.by_summit(o.agreement_day)[open_].mean())
    got = fc.probabilities()["agreement"]["forecast"]["before_summit"]["p"]
    out.append(Check(g, f"no agreement by {as_of} alone: P(agreement by the summit)",
                     f"{expected:.6f} (frequency among the {int(open_.sum()):,} open worlds)", f"{got:.6f}", "1e-12",
                     abs(got - expected) <= 1e-12))
    workers = 2 if (os.cpu_count() or 1) > 1 else 1
    sbc = calibration.calibrate(sc, AS_OF, worlds=WORLDS, seed=11, particles=1000, target_ess=400, workers=workers)
    what = f"{WORLDS} true worlds, their own records as of {AS_OF}"
    for level, nominal in (("50", 0.5), ("90", 0.9)):
        cover = sbc["coverage"][level]
        out.append(Check(g, f"{level}% posterior intervals cover the truth ({what}; pooled over "
                         f"{len(sbc['coverage_by_parameter'])} parameters)", f"{nominal:.2f}", f"{cover:.3f}",
                         "±0.05", abs(cover - nominal) <= 0.05, details=sbc["coverage_by_parameter"]))
    z = sbc["spiegelhalter_z"]
    out.append(Check(g, f"forecasts of the headline by the summit are calibrated ({what})",
                     "|Spiegelhalter z| < 2", f"z = {z:.2f} (mean forecast {sbc['mean_forecast']:.3f}, "
                     f"frequency {sbc['frequency']:.3f})", "2", abs(z) < 2))
    check = Check(g, f"forecasts beat the prior (no record) in Brier score ({what})",
                  f"below the prior's {sbc['brier_prior']:.4f}", f"{sbc['brier']:.4f}", "lower",
                  sbc["brier"] < sbc["brier_prior"], details={"reliability": sbc["reliability"]})
    if fig_dir is not None:
        check.figure = plot_reliability(sbc["reliability"], (sbc["brier"], sbc["brier_prior"]),
                                        fig_dir / "validation_calibration.png")
    out.append(check)
    return out


def items_scenario() -> Any:
    """A one-issue split (time-dependent sides, uncertain paces and reservation values, a
    signing delay) whose record has a progress report and whose talks often end in an
    agreement before the forecast date: the shape the record items' calibration needs."""
    from sim.scenario import parse_scenario
    from sim.validation.core import split_document

    doc = split_document({"dist": "uniform", "low": 0.2, "high": 2.0}, {"dist": "uniform", "low": 0.2, "high": 2.0},
                         {"dist": "uniform", "low": 0.0, "high": 0.6}, {"dist": "uniform", "low": 0.0, "high": 0.6},
                         days=120, contact_rate=0.3)
    start = doc["scenario"]["start"]
    for side in ("a", "b"):  # own deadlines from 60 days before the talks' end to their end
        doc["parties"][side]["deadline_offset_days"] = {"dist": "uniform", "low": -60, "high": 0}
    doc["scenario"]["deadline"] = start + dt.timedelta(days=90)
    doc["signing"] = {"delay_days": {"dist": "uniform", "low": 0, "high": 40}}
    doc["record"] = {"progress": [{"date": start + dt.timedelta(days=30), "issues_apart": 0, "tolerance": 0.2,
                                   "text": "terms agreed", "source": "synthetic"}]}
    return parse_scenario(doc, "record-items")


def check_record_items(fig_dir: Path | None) -> list[Check]:
    """Simulation-based calibration of the record items that are not positions: a progress
    report (the sides' offers within a tolerance, right with probability 0.8) on its own, and
    with a milestone reached (an agreement reported within 10 days of when it came; the forecast
    is then of the signed text), each over 200 true worlds of a one-issue split."""
    g = "9. Forecast inference"
    sc = items_scenario()
    workers = 2 if (os.cpu_count() or 1) > 1 else 1
    out = []
    for label, milestone, day in (("a progress report", None, 40),
                                  ("a progress report and an agreement reached", "agreement", 70)):
        sbc = calibration.calibrate(sc, sc.start + dt.timedelta(days=day), worlds=WORLDS, seed=13, particles=1000,
                                    target_ess=400, workers=workers, milestone=milestone, window=10)
        what = f"{WORLDS} true worlds, their own records: {label}"
        for level, nominal in (("50", 0.5), ("90", 0.9)):
            cover = sbc["coverage"][level]
            out.append(Check(g, f"{level}% posterior intervals cover the truth ({what})", f"{nominal:.2f}",
                             f"{cover:.3f}", "±0.05", abs(cover - nominal) <= 0.05))
        z = sbc["spiegelhalter_z"]
        out.append(Check(g, f"forecasts are calibrated ({what})", "|Spiegelhalter z| < 2",
                         f"z = {z:.2f} (mean forecast {sbc['mean_forecast']:.3f}, frequency {sbc['frequency']:.3f})",
                         "2", abs(z) < 2))
    return out
