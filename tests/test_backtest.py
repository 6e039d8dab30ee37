"""Backtesting: the scores on synthetic forecasters with known answers, the case files, and a
whole backtest (reproducible)."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from sim.forecast import backtest, backtest_report, priors, scores
from sim.forecast.cases import load_case
from sim.forecast.library import load_library
from sim.scenario import ScenarioError
from sim.validation import split_document
from tests.conftest import ROOT, library_table

CASES = sorted((ROOT / "scenarios" / "cases").glob("*.toml"))


def rows_for(p, y):
    """Scored rows of forecasts ``p`` of outcomes ``y`` (the prior and base rate at 0.5)."""
    return [{"file": "synthetic", "happened": bool(yi), "p": pi, "p_prior": 0.5, "p_base": 0.5,
             "log_score": scores.log_score(pi, bool(yi)), "log_score_prior": math.log(0.5),
             "log_score_base": math.log(0.5), "brier": (pi - yi) ** 2, "brier_prior": 0.25, "brier_base": 0.25,
             "terms": [], "dates": []} for pi, yi in zip(p, y, strict=True)]


def test_a_perfect_forecaster_scores_best():
    y = np.array([1, 0, 1, 1, 0] * 20)
    s = backtest.summarize(rows_for(y.astype(float), y))
    assert s["brier"] == 0 and s["log_score"] == pytest.approx(math.log(1 - scores.EPS))
    assert s["brier_skill_vs_prior"] == 1 and s["brier_skill_vs_base"] == 1


def test_a_constant_forecaster_scores_as_its_constant():
    y = np.array([1, 0] * 50)
    s = backtest.summarize(rows_for(np.full(100, 0.5), y))
    assert s["brier"] == pytest.approx(0.25) and s["log_score"] == pytest.approx(math.log(0.5))
    assert s["brier_skill_vs_prior"] == pytest.approx(0.0)
    assert s["reliability"][2]["count"] == 100 and s["reliability"][2]["observed"] == pytest.approx(0.5)


def test_a_miscalibrated_forecaster_is_caught():
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.5  # things that happen half the time ...
    p = np.full(400, 0.9)      # ... forecast at 90%
    s = backtest.summarize(rows_for(p, y))
    assert s["brier"] > 0.25 and s["brier_skill_vs_prior"] < 0  # worse than a coin
    top = s["reliability"][-1]
    assert top["count"] == 400 and top["forecast"] == pytest.approx(0.9) and abs(top["observed"] - 0.5) < 0.1
    assert abs(scores.spiegelhalter(p, y.astype(float))) > 3


def test_pit_is_uniform_for_draws_from_the_forecast_and_splits_ties():
    rng = np.random.default_rng(1)
    sample, w = rng.random(20_000), np.ones(20_000)
    pits = [scores.pit(sample, w, x) for x in rng.random(500)]
    assert np.histogram(pits, bins=5, range=(0, 1))[0].min() > 60  # ~100 per fifth
    assert scores.pit(np.array([1.0, 2.0, 2.0, 3.0]), np.ones(4), 2.0) == pytest.approx(0.5)
    assert scores.pit(np.array([1.0, np.inf]), np.array([1.0, 3.0]), 5.0) == pytest.approx(0.25)


def test_a_case_whose_outcome_the_model_determines_scores_perfectly(tmp_path):
    # fixed parameters, a meeting every day: agreement on day round(1000 t*) = 625 for β = 1, r = 0.2
    data = split_document(1.0, 1.0, 0.2, 0.2, 1000)
    lines = [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in data["scenario"].items()]
    body = "\n".join(["[scenario]", *lines, "", "[[issues]]", 'key = "x"', "low = 0.0", "high = 1.0"])
    for side in ("a", "b"):
        d = data["parties"][side]
        body += (f"\n[parties.{side}]\nreservation = {d['reservation']}\n[parties.{side}.tactic]\nkind = "
                 f"\"time_dependent\"\nbeta = 1.0\n[parties.{side}.issues.x]\nweight = 1.0\nbest = "
                 f"{d['issues']['x']['best']}\nworst = {d['issues']['x']['worst']}")
    body += ("\n[calendar]\ncontact_rate = 1.0\n[case]\nforecast_dates = [2030-03-01]\nbase_rate = { p = 0.5, "
             "source = \"a coin\" }\n[[case.outcomes]]\nagreement = 2031-09-18\n")
    path = tmp_path / "determined.toml"
    path.write_text(body)
    case = load_case(path)
    rows = backtest.run([case], seed=0, particles=500, target_ess=100)
    assert rows[0]["happened"] and rows[0]["p"] == 1.0 and rows[0]["brier"] == 0.0
    assert rows[0]["dates"][0]["milestone"] == "agreement" and rows[0]["dates"][0]["pit"] == pytest.approx(0.5)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_shipped_cases_load(path):
    case = load_case(path)
    assert case.forecast_dates and case.outcomes and case.base_rate_source
    for outcome in case.outcomes:
        assert outcome.headline(case.scenario) in (True, False)


@pytest.mark.parametrize("edit, field, problem", [
    (lambda t: t.replace("forecast_dates = [2025-07-14, 2025-07-23, 2025-07-28]", "forecast_dates = [2025-07-31]"),
     "case.forecast_dates[0]", "nothing left to forecast"),
    (lambda t: t.replace("agreement = 2025-07-30", "agreement = 2026-07-30"), "case.outcomes[0].agreement",
     "outside the scenario's period"),
    (lambda t: t.replace('base_rate = { p = 0.50, source', 'base_rate = { p = 1.5, source'), "case.base_rate.p",
     "must be in [0, 1]"),
    (lambda t: t.replace("terms = { investment = 350, tariff = 15 }", "terms = { investment = 350, tarif = 15 }"),
     "case.outcomes[0].terms.tarif", "unknown key"),
    (lambda t: t.replace("agreement = 2025-07-30                 # framework", "# no agreement"),
     "case.outcomes[0].agreement", "headline milestone must be settled"),
    # N3: a forecast after its deadline scored as perfect; milestones out of order; a date counted twice
    (lambda t: t.replace("forecast_dates = [2025-07-14, 2025-07-23, 2025-07-28]", "forecast_dates = [2025-08-10]")
     .replace("agreement = 2025-07-30                 # framework", "agreement = { not_by = 2025-10-25 }  #"),
     "case.forecast_dates[0]", "on or after the deadline 2025-08-01"),
    (lambda t: t.replace("forecast_dates = [2025-07-14, 2025-07-23, 2025-07-28]",
                         "forecast_dates = [2025-07-28, 2025-07-14, 2025-07-14]"),
     "case.forecast_dates[2]", "listed twice"),
    (lambda t: t.replace("signed = { not_by = 2025-10-25 }", "signed = 2025-07-20"), "case.outcomes[0].signed",
     "comes before agreement"),
    (lambda t: t.replace("signed = { not_by = 2025-10-25 }", "signed = { not_by = 2025-10-25 }\nratified = 2025-08-15"),
     "case.outcomes[0].ratified", "comes before signed"),
])
def test_bad_cases_are_named(tmp_path, edit, field, problem):
    text = (ROOT / "scenarios" / "cases" / "us_korea_july.toml").read_text()
    path = tmp_path / "bad.toml"
    path.write_text(edit(text))
    with pytest.raises(ScenarioError) as err:
        load_case(path)
    assert err.value.field == field and problem in err.value.problem


def test_the_backtest_is_reproducible_and_writes_its_outputs(tmp_path):
    args = [sys.executable, "-m", "sim", "backtest", "scenarios/cases/us_korea_july.toml",
            "scenarios/cases/korus_2018.toml", "--particles", "2000", "--target-ess", "300", "--seed", "3", "--quiet"]
    a = subprocess.run([*args, "--out", str(tmp_path / "a")], cwd=ROOT, capture_output=True, text=True)
    b = subprocess.run([*args, "--out", str(tmp_path / "b"), "--workers", "2"], cwd=ROOT, capture_output=True,
                       text=True)
    assert a.returncode == 0, a.stderr
    assert a.stdout.splitlines()[:-1] == b.stdout.splitlines()[:-1]  # identical table and scores
    for name in ("backtest.json", "reliability.png", "pit.png"):
        assert (tmp_path / "a" / name).is_file()
    assert "mean over 5 forecasts (2 cases)" in a.stdout


def test_library_forecast_dates_are_days_the_talks_were_open():
    for case in load_library():
        start = case.scenario.start
        assert case.forecast_dates == tuple(sorted(case.forecast_dates))
        for outcome in case.outcomes:
            end = outcome.reached.get("agreement", case.scenario.summit_day)
            assert all(0 < (d - start).days < end for d in case.forecast_dates)


SMALL_LIBRARY = library_table([
    {"id": '"a"', "partner": '"A"', "template": '"tariff_threat"', "start": "2025-07-07", "deadline": "2025-08-01",
     "range": "[0, 25]", "agreement": "2025-07-30", "terms": "{ tariff = 15 }", "sources": '["test"]'},
    {"id": '"b"', "partner": '"B"', "template": '"meeting"', "start": "2019-05-30", "deadline": "2019-06-29",
     "agreement": "{ not_by = 2019-06-29 }", "sources": '["test"]'},
    {"id": '"c"', "partner": '"C"', "template": '"tariff_threat"', "start": "2018-03-22", "deadline": "2018-05-01",
     "range": "[0, 25]", "agreement": "{ not_by = 2018-05-01 }", "sources": '["test"]'},
])


def small_library(tmp_path):
    lib = tmp_path / "library"
    (lib / "templates").mkdir(parents=True)
    for f in (ROOT / "scenarios" / "library" / "templates").glob("*.toml"):
        (lib / "templates" / f.name).write_text(f.read_text())
    (lib / "cases.toml").write_text(SMALL_LIBRARY)
    return lib / "cases.toml"


def cross_validated(tmp_path, library, name, *extra):
    """``backtest --cross-validate`` of ``library`` into ``tmp_path/name``: the run and its backtest.json."""
    r = subprocess.run([sys.executable, "-m", "sim", "backtest", "--cross-validate", "--library", str(library),
                        "--particles", "1000", "--target-ess", "300", "--seed", "2", "--quiet",
                        "--out", str(tmp_path / name), *extra], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r, json.loads((tmp_path / name / "backtest.json").read_text())


def test_the_cross_validated_backtest_is_the_same_on_any_worker_count(tmp_path):
    library = small_library(tmp_path)
    a, ja = cross_validated(tmp_path, library, "a")
    b, jb = cross_validated(tmp_path, library, "b", "--workers", "2")
    assert ja["forecasts"] == jb["forecasts"] and ja["weights"] == jb["weights"] and ja["folds"] == jb["folds"]
    assert ja["summary"]["forecasts"] == 6 and ja["summary"]["groups"] == 3
    assert a.stdout.splitlines()[:-1] == b.stdout.splitlines()[:-1]
    for name in ("reliability.png", "pit.png", "learned_priors.png"):
        assert (tmp_path / "a" / name).is_file()
    assert not (library.parent / "learned.toml").exists()  # only --write-priors or --report write it
    md = backtest_report.cv_markdown(ja, ja["settings"], "python -m sim backtest --report")
    s = ja["summary"]
    assert f"| learned priors, per kind of talk | {s['brier']:.4f} | {s['log_score']:.4f} |" in md
    assert all(f"| {r['case']} |" in md for r in ja["forecasts"])


def test_the_cross_validated_backtest_runs_on_dask(tmp_path):
    pytest.importorskip("distributed")
    library = small_library(tmp_path)
    _, ja = cross_validated(tmp_path, library, "a", "--write-priors")
    _, jb = cross_validated(tmp_path, library, "b", "--workers", "2", "--executor", "dask")
    assert ja["forecasts"] == jb["forecasts"] and ja["weights"] == jb["weights"]
    learned = priors.load_learned(library.parent / "learned.toml")
    assert learned is not None and sum(w for _, w in learned.points) == pytest.approx(1.0, abs=1e-4)
