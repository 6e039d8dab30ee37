"""Priors learned across cases: how hyperparameters rescale a scenario, the hyperposterior, the
mixture of forecasts, the learned priors file, and cross-validation that never sees the held-out
group's outcomes."""

import dataclasses
import math

import numpy as np
import pytest

from sim.forecast import backtest, conditioning, priors
from sim.forecast.library import load_library
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import ROOT

DOC = {"parties": {
    "us": {"reservation": {"dist": "uniform", "low": 0.2, "high": 0.7}, "deadline_cost": {"dist": "uniform",
           "low": 0.0, "high": 0.2}, "tactic": {"beta": {"dist": "uniform", "low": 0.1, "high": 1.0}}},
    "other": {"reservation": 0.9, "tactic": {"beta": 2.0}}}}


def test_the_judgement_point_changes_nothing():
    assert priors.apply(DOC, priors.Hyper()) == DOC
    assert priors.GRID[priors.JUDGEMENT] == priors.Hyper()


def test_hyperparameters_rescale_every_side():
    doc = priors.apply(DOC, priors.Hyper(reservation_shift=0.15, pressure_scale=2.5, pace_scale=2.0))
    us, other = doc["parties"]["us"], doc["parties"]["other"]
    assert us["reservation"] == {"dist": "uniform", "low": pytest.approx(0.35), "high": pytest.approx(0.85)}
    assert us["deadline_cost"]["high"] == pytest.approx(0.5)
    assert us["tactic"]["beta"] == {"dist": "uniform", "low": pytest.approx(0.2), "high": pytest.approx(2.0)}
    assert other["reservation"] == pytest.approx(0.99)  # kept inside its valid range
    assert other["tactic"]["beta"] == 4.0
    assert "deadline_cost" not in other  # a side that feels no deadline still feels none
    assert priors.apply(DOC, priors.Hyper(pressure_scale=0.0))["parties"]["us"]["deadline_cost"] == 0.0
    assert DOC["parties"]["us"]["reservation"]["low"] == 0.2  # the input is not touched


def test_rescaled_priors_stay_valid_distributions():
    doc = {"parties": {"a": {"reservation": {"dist": "uniform", "low": 0.9, "high": 0.95},
                             "deadline_cost": {"dist": "truncnormal", "mean": 0.1, "sd": 0.05, "low": 0, "high": 0.3}},
                       "b": {"deadline_cost": {"dist": "normal", "mean": 0.1, "sd": 0.02}}}}
    out = priors.apply(doc, priors.Hyper(reservation_shift=0.15, pressure_scale=2.5))
    assert out["parties"]["a"]["reservation"] == pytest.approx(0.99)  # pushed past the edge: a point on it
    assert out["parties"]["a"]["deadline_cost"]["high"] == pytest.approx(0.75)
    assert out["parties"]["b"]["deadline_cost"] == {"dist": "normal", "mean": pytest.approx(0.25),
                                                    "sd": pytest.approx(0.05)}


def test_the_hyperposterior_weighs_the_cases_it_is_given():
    per_case = {"a": np.zeros(len(priors.GRID)), "b": np.zeros(len(priors.GRID))}
    per_case["a"][3] = 5.0
    w = priors.weights(per_case)
    assert w.sum() == pytest.approx(1.0) and w.argmax() == 3
    assert np.allclose(priors.weights(per_case, without=["a"]), 1 / len(priors.GRID))  # only b: flat
    per_case["b"][4] = 2.0
    w = priors.weights(per_case)
    assert (w[(w > 0)] >= priors.MIN_WEIGHT).all()


def test_a_mixture_of_forecasts_gives_the_weighted_probability():
    case = next(c for c in load_library() if c.path.endswith("#eu_aug1_2025"))
    parts = []
    for h, w in ((priors.Hyper(), 0.3), (priors.Hyper(pressure_scale=2.5, pace_scale=2.0), 0.7)):
        sc = priors.scenario_with(case.document, h, case.path)
        parts.append((conditioning.forecast(sc, case.forecast_dates[1], seed=1, particles=2000, target_ess=500), w))
    mixed = conditioning.combine(parts)
    p = [fc.probabilities()["agreement"]["forecast"]["before_summit"]["p"] for fc, _ in parts]
    got = mixed.probabilities()["agreement"]["forecast"]["before_summit"]["p"]
    assert got == pytest.approx(0.3 * p[0] + 0.7 * p[1], abs=1e-9)
    assert mixed.result.ess <= sum(fc.result.ess for fc, _ in parts)


def test_points_share_the_particles_in_proportion_to_their_weights():
    assert priors.allocation(0.8, 20_000, 2_000) == {"particles": 16_000, "target_ess": 1_600}
    small = priors.allocation(0.01, 20_000, 2_000)
    assert small == {"particles": priors.MIN_POINT_PARTICLES, "target_ess": priors.MIN_POINT_ESS}
    assert priors.allocation(0.01, 1_000, 100) == {"particles": 1_000, "target_ess": 100}  # never above the whole


def test_a_mixture_of_unequal_samples_keeps_the_priors_shares():
    case = next(c for c in load_library() if c.path.endswith("#eu_aug1_2025"))
    parts = []
    for h, w, n in ((priors.Hyper(), 0.25, 1000), (priors.Hyper(pressure_scale=2.5), 0.75, 3000)):
        sc = priors.scenario_with(case.document, h, case.path)
        parts.append((conditioning.forecast(sc, case.forecast_dates[0], seed=1, particles=n, target_ess=200), w))
    mixed = conditioning.combine(parts)
    assert mixed.prior.num_rows == 4000  # 1,000 and 3,000 rows: all of both, in the shares 1:3
    p = [fc.probabilities()["agreement"]["prior"]["before_summit"]["p"] for fc, _ in parts]
    got = mixed.probabilities()["agreement"]["prior"]["before_summit"]["p"]
    assert got == pytest.approx(0.25 * p[0] + 0.75 * p[1], abs=1e-9)


def test_the_learned_priors_file_is_current_and_valid():
    """A library changed since the last fit must be refitted (`python -m sim backtest --report`)."""
    learned = priors.load_learned()
    assert learned is not None
    lib = ROOT / "scenarios" / "library"
    files = [lib / "cases.toml", *lib.glob("templates/*.toml"), *(ROOT / "scenarios" / "cases").glob("*.toml")]
    assert learned.library_sha256 == priors.fingerprint(files)
    assert sum(w for _, w in learned.points) == pytest.approx(1.0, abs=1e-4)
    # its track record is the backtest docs/BACKTEST.md reports (written by the same command)
    assert learned.track_record is not None
    report = (ROOT / "docs" / "BACKTEST.md").read_text(encoding="utf-8")
    s = learned.track_record["summary"]
    for name, key in (("learned priors, per kind of talk", "brier"), ("base rate", "brier_base"),
                      ("base rate of the kind", "brier_base_kind")):
        assert f"| {name} | {s[key]:.4f} |" in report, name
    assert f"**{s['forecasts']} forecasts of {s['cases']} cases" in report


def _track(kinds: dict[str, int]) -> dict:
    bins = [{"low": k / 10, "high": (k + 1) / 10, "count": k % 2, "forecast": math.nan if k % 2 == 0 else k / 10 + 0.05,
             "observed": math.nan if k % 2 == 0 else 0.5} for k in range(10)]
    summary = {k: 0.25 + j / 100 for j, k in enumerate(priors.TRACK_SUMMARY)}
    summary.update(forecasts=12, cases=3, groups=2, happened=5, brier=0.25, brier_base=0.3, brier_base_kind=0.2,
                   **dict.fromkeys(priors.TRACK_BINS, bins))
    return {"summary": summary,
            "kinds": {kind: {"forecasts": n, "cases": 1, "happened": 1, "brier": 0.2, "brier_base": 0.3,
                             "brier_base_kind": 0.1} for kind, n in kinds.items()},
            "cases": [{"case": 'Korea "July" round, 2025 — Gyeongju', "kind": "meeting", "forecasts": 4,
                       "happened": 2, "brier": 0.21, "brier_judgement": 0.3, "brier_base": 0.25,
                       "brier_base_kind": 0.2, "p": 0.4, "p_base": 0.5}]}


def test_the_learned_priors_file_keeps_its_track_record(tmp_path):
    path = tmp_path / "learned.toml"
    w = np.zeros(len(priors.GRID))
    w[priors.JUDGEMENT] = 1.0
    track = _track({"meeting": 4, "(none)": 8})
    priors.write_learned(path, w, fingerprint_="x", seed=0, particles=10, target_ess=5, cases=3, forecasts=12,
                         command='python -m sim backtest --report --library "a b.toml"', track_record=track)
    learned = priors.load_learned(path)
    assert learned is not None and learned.track_record is not None
    assert learned.command == 'python -m sim backtest --report --library "a b.toml"'
    got = learned.track_record
    assert got["cases"] == track["cases"] and got["kinds"] == track["kinds"]  # quotes and accents kept
    for k in priors.TRACK_SUMMARY:
        assert got["summary"][k] == track["summary"][k], k  # full precision
    bins = got["summary"]["reliability"]
    assert [b["count"] for b in bins] == [b["count"] for b in track["summary"]["reliability"]]
    assert math.isnan(bins[0]["forecast"]) and bins[1]["forecast"] == track["summary"]["reliability"][1]["forecast"]
    words = learned.track_record_in_words("meeting")
    assert "12 forecasts of 3 past deadline talks scored Brier 0.250, against 0.300 for a base rate and 0.200" in words
    assert "on the 1 meeting talks (4 forecasts), 0.200 against 0.300 and 0.100" in words
    assert "meeting" not in learned.track_record_in_words("tariff_threat")


def test_a_malformed_track_record_is_named(tmp_path):
    path = tmp_path / "learned.toml"
    w = np.zeros(len(priors.GRID))
    w[priors.JUDGEMENT] = 1.0
    priors.write_learned(path, w, fingerprint_="x", seed=0, particles=10, target_ess=5, cases=3, forecasts=12,
                         command="test", track_record=_track({"meeting": 4}))
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("brier_base_kind = ", "brier_base_kindx = ", 1), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"track_record\.brier_base_kind: is missing"):
        priors.load_learned(path)
    path.write_text(good.replace("brier = 0.2\n", 'brier = "low"\n', 1), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"track_record\.by_kind\.meeting\.brier: must be a number"):
        priors.load_learned(path)


def test_a_malformed_learned_file_is_named(tmp_path):
    path = tmp_path / "learned.toml"
    path.write_text("[[points]]\nreservation_shift = 0.3\npressure_scale = 1\npace_scale = 1\nweight = 1\n")
    with pytest.raises(ScenarioError, match="not a grid point"):
        priors.load_learned(path)
    path.write_text("[[points]]\nreservation_shift = 0\npressure_scale = 1\npace_scale = 1\nweight = 0.5\n")
    with pytest.raises(ScenarioError, match="sum to 1"):
        priors.load_learned(path)
    path.write_text("[[points]]\nreservation_shift = 0\npressure_scale = 1\npace_scale = 1\nweight = 1\n"
                    "[[kinds.meeting.points]]\nreservation_shift = 0\npressure_scale = 7\npace_scale = 1\nweight = 1\n")
    with pytest.raises(ScenarioError, match=r"kinds\.meeting\.points\[0\]"):
        priors.load_learned(path)


def test_each_kind_of_talk_has_its_own_learned_priors(tmp_path):
    path = tmp_path / "learned.toml"
    pooled, meeting = np.zeros(len(priors.GRID)), np.zeros(len(priors.GRID))
    pooled[priors.JUDGEMENT] = 1.0
    meeting[[0, 5]] = [0.25, 0.75]
    priors.write_learned(path, pooled, fingerprint_="x", seed=0, particles=10, target_ess=5, cases=2, forecasts=2,
                         command="test", kinds={"meeting": meeting})
    learned = priors.load_learned(path)
    assert learned is not None
    assert learned.points_for("meeting") == ((priors.GRID[0], 0.25), (priors.GRID[5], 0.75))
    assert learned.points_for("tariff_threat") == learned.points_for("") == ((priors.Hyper(), 1.0),)
    assert learned.describe("meeting").startswith("the meeting talks: ")


def test_the_hyperposterior_of_a_kind_is_learned_from_that_kind_only():
    per_case = {"a": np.zeros(len(priors.GRID)), "b": np.zeros(len(priors.GRID))}
    per_case["a"][3] = 5.0
    per_case["b"][7] = 5.0
    assert priors.weights(per_case, only=["b"]).argmax() == 7
    assert priors.weights(per_case, only=["a", "b"], without=["a"]).argmax() == 7
    assert set(np.flatnonzero(priors.weights(per_case))) == {3, 7}


def test_cross_validation_never_sees_the_held_out_outcomes():
    """Flipping what happened in one group changes no forecast of that group (only its scores)."""
    by_group: dict = {}
    for c in load_library():
        by_group.setdefault(c.group, []).append(c)
    cases = [c for cs in by_group.values() for c in cs[:2]]
    keys = [(ci, 0, 0) for ci in range(len(cases))]
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, size=(len(priors.GRID), len(keys)))
    y = rng.integers(0, 2, size=len(keys)).astype(float)
    grid = backtest.Grid(cases, keys, p, y, np.zeros_like(p, dtype=bool), [{} for _ in keys])
    group = cases[0].group
    never = {"reached": {}, "not_by": {"agreement": 10**4}}
    flipped_cases = [dataclasses.replace(c, outcomes=tuple(dataclasses.replace(o, **never) for o in c.outcomes))
                     if c.group == group else c for c in cases]
    y2 = y.copy()
    for f, (ci, _, _) in enumerate(keys):
        if cases[ci].group == group:
            y2[f] = 0.0
    a = backtest.cross_validate(grid)
    b = backtest.cross_validate(dataclasses.replace(grid, cases=flipped_cases, y=y2))
    same = [(ra["p"], ra["p_pooled"], ra["p_base"], ra["p_base_kind"]) for ra in a["forecasts"] if ra["group"] == group]
    assert same == [(rb["p"], rb["p_pooled"], rb["p_base"], rb["p_base_kind"]) for rb in b["forecasts"]
                    if rb["group"] == group]
    assert not math.isnan(a["summary"]["brier"])
    # and a kind's forecasts are learned from that kind only: the other kind's outcomes move only the pooled
    kind = cases[0].scenario.kind
    other = next(c.scenario.kind for c in cases if c.scenario.kind != kind)
    y3 = np.array([1.0 - v if cases[ci].scenario.kind == other else v for v, (ci, _, _) in zip(y, keys, strict=True)])
    c = backtest.cross_validate(dataclasses.replace(grid, y=y3))
    assert ([r["p"] for r in a["forecasts"] if r["kind"] == kind]
            == [r["p"] for r in c["forecasts"] if r["kind"] == kind])
    assert [r["p_pooled"] for r in a["forecasts"]] != [r["p_pooled"] for r in c["forecasts"]]


def test_a_scenario_is_forecast_with_the_priors_of_its_kind():
    flagship = load_scenario(ROOT / "scenarios" / "us_korea_2025.toml")
    assert flagship.kind == "meeting"
    meeting = ((priors.Hyper(pressure_scale=2.5), 0.6), (priors.Hyper(pace_scale=2.0), 0.4))
    learned = priors.Learned(((priors.Hyper(), 1.0),), "", "", {"meeting": meeting})
    built = priors.learned_scenarios(flagship, learned)
    assert [w for _, w in built] == [0.6, 0.4]
    assert built[0][0].document["parties"] != flagship.document["parties"]  # rescaled
    none = priors.learned_scenarios(dataclasses.replace(flagship, kind=""), learned)
    assert [w for _, w in none] == [1.0] and none[0][0].document == flagship.document


def test_a_kind_with_no_learned_priors_is_warned_of(monkeypatch):
    case = next(c for c in load_library() if c.path.endswith("#eu_aug1_2025"))
    learned = priors.Learned(((priors.Hyper(), 1.0),), "", "", {"meeting": ((priors.Hyper(), 1.0),)})
    monkeypatch.setattr(priors, "load_learned", lambda: learned)
    sc = dataclasses.replace(case.scenario, kind="meting")
    fc = priors.forecast(sc, case.forecast_dates[0], seed=1, particles=2000, target_ess=200)
    assert any("'meting' has no learned priors (known: meeting)" in w for w in fc.warnings)
    fc = priors.forecast(dataclasses.replace(sc, kind="meeting"), case.forecast_dates[0], seed=1, particles=2000,
                         target_ess=200)
    assert not any("no learned priors" in w for w in fc.warnings)
