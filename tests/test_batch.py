"""The batch engine gives the Mesa engine's outcomes, replication by replication."""

import copy
import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import batch, model, runner
from sim.negotiation.tactics import TACTICS
from sim.scenario import load_scenario, parse_scenario
from sim.world import sample_worlds
from tests.conftest import SCENARIOS

WORLDS = 2000


def assert_same_outcomes(scenario, seed, n=WORLDS):
    worlds = sample_worlds(scenario, seed, 0, n)
    fast = batch.run_worlds(scenario, worlds)
    ref = model.run_worlds(scenario, worlds)
    assert ref.errors is None
    for field in ("agreement_day", "signed_day", "ratified_day", "ratification_failed", "closed_by",
                  "walked_away", "rounds", "end_day"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(ref, field), err_msg=field)
    for field in ("terms", "utilities", "pareto_distance", "nash_distance", "standing"):
        np.testing.assert_allclose(getattr(fast, field), getattr(ref, field), rtol=0, atol=1e-9, err_msg=field)
    return fast


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenarios_agree(path):
    out = assert_same_outcomes(load_scenario(path), seed=2024)
    assert (out.agreement_day >= 0).any()


def _side(draw, key, best, worst, n_issues):
    tactic = draw(st.sampled_from(sorted(TACTICS)))
    family = draw(st.sampled_from(["polynomial", "exponential"]))
    side = {
        "reservation": {"dist": "uniform", "low": 0.0, "high": draw(st.floats(0.1, 0.6))},
        "deadline_offset_days": {"dist": "uniform", "low": -3, "high": draw(st.floats(0, 40))},
        "issues": {},
        "tactic": {"kind": tactic, "family": family,
                   "beta": {"dist": "uniform", "low": 0.1, "high": draw(st.floats(0.2, 4))},
                   "kappa": draw(st.floats(0.01, 0.3)),
                   "reciprocity": draw(st.floats(0.2, 1.5)), "min_step": draw(st.floats(0, 0.1))},
        "acceptance": draw(st.sampled_from([{"rule": "ac_next"}, {"rule": "ac_next", "alpha": 1.05, "beta": -0.02},
                                            {"rule": "ac_const", "level": draw(st.floats(0.3, 0.9))}])),
        "beliefs": {"weight_noise": draw(st.floats(0, 1)), "knows_opponent_limits": draw(st.booleans()),
                    "opponent_reservation": {"dist": "uniform", "low": 0.0, "high": draw(st.floats(0.05, 0.6))}},
        "ratification": {"required": draw(st.booleans()), "win_set": draw(st.floats(0, 0.5)),
                         "delay_days": draw(st.floats(0, 40)), "anticipated": draw(st.booleans())},
    }
    if draw(st.booleans()):
        side["walk_away_gap"] = draw(st.floats(0, 0.3))
    if draw(st.booleans()):  # the public deadline felt coming
        side["deadline_cost"] = {"dist": "uniform", "low": 0.0, "high": draw(st.floats(0.01, 0.4))}
        side["deadline_window_days"] = draw(st.floats(1, 30))
    weights = np.array(draw(st.lists(st.floats(0.05, 1), min_size=n_issues, max_size=n_issues)))
    weights = weights / weights.sum()
    weights[-1] = 1.0 - weights[:-1].sum()
    for k in range(n_issues):
        side["issues"][f"i{k}"] = {"weight": float(weights[k]), "best": best[k], "worst": worst[k]}
    if draw(st.booleans()):
        side["issues"]["i0"]["max" if best[0] > worst[0] else "min"] = 5.0
    return side


@st.composite
def scenarios(draw):
    n_issues = draw(st.integers(1, 4))
    start = dt.date(2030, 1, 1)
    summit = draw(st.integers(5, 40))
    data = {
        "scenario": {"name": "random", "start": start, "deadline": start + dt.timedelta(days=summit),
                     "horizon": start + dt.timedelta(days=summit + draw(st.integers(0, 40))),
                     "first_mover": draw(st.sampled_from(["alternate", "a", "b"]))},
        "issues": [{"key": f"i{k}", "low": 0, "high": 10, "integer": draw(st.booleans())} for k in range(n_issues)],
        "calendar": {"contact_rate": draw(st.floats(0.1, 1.0)),
                     "meetings": [{"date": start + dt.timedelta(days=2), "probability": 0.7}]},
        "summit": {"max_gap": draw(st.floats(0, 0.3))},
        "signing": {"delay_days": {"dist": "triangular", "low": 0, "mode": 3, "high": 20}},
    }
    best_a = [10.0] * n_issues
    worst_a = [0.0] * n_issues
    compatible = draw(st.booleans()) and n_issues > 1  # one issue both sides want high
    best_b = [0.0 if not (compatible and k == n_issues - 1) else 10.0 for k in range(n_issues)]
    worst_b = [10.0 - b for b in best_b]
    data["parties"] = {"a": _side(draw, "a", best_a, worst_a, n_issues),
                       "b": _side(draw, "b", best_b, worst_b, n_issues)}
    horizon_days = (data["scenario"]["horizon"] - start).days
    reports = {(start + dt.timedelta(days=draw(st.integers(0, horizon_days))), draw(st.sampled_from("ab")),
                f"i{draw(st.integers(0, n_issues - 1))}") for _ in range(draw(st.integers(0, 4)))}
    data["record"] = {"positions": [  # standing offers are recorded on these days, by both engines
        {"date": date, "side": side, "issue": issue, "value": 5.0, "precision": 1.0, "source": "test"}
        for date, side, issue in sorted(reports)]}
    data["events"] = [
        {"name": "dated", "party": "a", "date": start + dt.timedelta(days=3), "probability": 0.5,
         "duration_days": 10, "effects": {"reservation": 0.1, "beta_factor": 0.5}},
        {"name": "hazard", "party": "b", "hazard": draw(st.floats(0, 0.2)),
         "effects": {"reservation": -0.1, "max": {"i0": 3.0}, "min": {"i0": -2.0}}},
        {"name": "extension", "party": "a", "hazard": draw(st.floats(0, 0.2)),  # the deadline moved
         "effects": {"deadline_days": draw(st.integers(-min(10, horizon_days), min(30, horizon_days)))}},
    ]
    return parse_scenario(copy.deepcopy(data), "random.toml")


@settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios(), st.integers(0, 2**31))
def test_random_scenarios_agree(scenario, seed):
    assert_same_outcomes(scenario, seed)


def test_runner_engines_write_the_same_rows(flagship):
    a = runner.run_chunk(flagship, 3, 100, 300, "batch")
    b = runner.run_chunk(flagship, 3, 100, 300, "mesa")
    assert a.equals(b)


@pytest.mark.parametrize("tactic", sorted(TACTICS))
@pytest.mark.parametrize("family", ["polynomial", "exponential"])
@pytest.mark.parametrize("rule", ["ac_next", "ac_const"])
def test_every_tactic_family_and_rule_agree(tactic, family, rule):
    import tomllib

    from tests.conftest import ROOT
    data = tomllib.loads((ROOT / "scenarios" / "us_korea_2025.toml").read_text())
    for side in data["parties"].values():
        side["tactic"] |= {"kind": tactic, "family": family, "kappa": 0.05, "min_step": 0.02}
        side["acceptance"] = {"rule": rule, "level": 0.5}
        side["walk_away_gap"] = 0.1
        side["ratification"] = {"required": True, "win_set": 0.3, "delay_days": 20, "anticipated": True}
    out = assert_same_outcomes(parse_scenario(data, "grid.toml"), seed=99, n=500)
    assert out.rounds.min() >= 1


def test_every_chunk_shape_uses_one_compiled_loop(flagship):
    # a chunk of 1, a scenario with one issue and no events: the same array types, so
    # no recompilation (each new signature costs half a minute in a fresh checkout)
    from sim import batch, runner
    from sim.scenario import parse_scenario
    from sim.validation import split_document

    runner.run_chunk(flagship, 0, 0, 3)
    runner.run_chunk(flagship, 0, 0, 1)
    runner.run_chunk(parse_scenario(split_document(days=50), "split"), 0, 0, 1)
    assert len(batch._play_all.signatures) == 1
