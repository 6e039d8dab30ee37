import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import NegotiationModel
from sim.outcomes import SUMMIT_CLOSE
from sim.world import sample_worlds
from tests.conftest import split_scenario


def run_one(scenario, seed=0, index=0, trace=False):
    world = sample_worlds(scenario, seed, index, 1).row(0)
    model = NegotiationModel(scenario, world, trace=trace)
    return model, model.run()


@pytest.mark.parametrize("beta, r", [(0.5, 0.2), (2.0, 0.2), (1.0, 0.3), (0.3, 0.1)])
def test_agreement_time_of_two_time_dependent_sides(beta, r):
    # closed form: demands meet at t* = (1 / (2 (1 - r)))^beta, on an even split
    n = 1000
    _, out = run_one(split_scenario(beta_a=beta, beta_b=beta, r_a=r, r_b=r, days=n))
    t_star = (1 / (2 * (1 - r))) ** beta
    assert abs(out["agreement_day"] - n * t_star) <= 2
    assert out["terms"][0] == pytest.approx(0.5, abs=0.01)
    assert out["utilities"] == pytest.approx([0.5, 0.5], abs=0.01)
    assert out["pareto_distance"] == pytest.approx(0.0, abs=1e-12)


def test_boulware_against_conceder():
    # Boulware (beta 0.2) vs Conceder (beta 2), r = 0: they meet near t = 0.697, Boulware keeps ~0.835
    _, out = run_one(split_scenario(beta_a=0.2, beta_b=2.0, r_a=0.0, r_b=0.0, days=1000))
    assert out["agreement_day"] / 1000 == pytest.approx(0.697, abs=0.003)
    assert out["utilities"][0] == pytest.approx(0.835, abs=0.01)


def test_no_zopa_means_no_deal():
    _, out = run_one(split_scenario(r_a=0.6, r_b=0.6, days=100))
    assert out["agreement_day"] == -1 and out["rounds"] == 101


def test_walk_away_after_deadline():
    from sim.scenario import parse_scenario
    from tests.conftest import split_data
    d = split_data(r_a=0.6, r_b=0.6, days=50)
    d["scenario"]["horizon"] = d["scenario"]["deadline"].replace(year=2031)
    d["parties"]["b"]["walk_away_gap"] = 0.05
    model, out = run_one(parse_scenario(d, "w.toml"))
    assert model.walked_away == "b" and out["walked_away"] == 1 and out["agreement_day"] == -1
    assert out["rounds"] == 51  # leaves at the first meeting after its deadline


def test_summit_closes_a_small_gap():
    from sim.scenario import parse_scenario
    from tests.conftest import split_data
    d = split_data(r_a=0.45, r_b=0.45, days=10, beta_a=0.05, beta_b=0.05)
    d["calendar"] = {"contact_rate": 0.0}  # only the summit (day 10)
    for side in ("a", "b"):  # own deadlines far off: both still ask for almost everything
        d["parties"][side]["deadline"] = d["scenario"]["start"].replace(year=2031)
    d["summit"] = {"max_gap": 0.6}
    model, out = run_one(parse_scenario(d, "s.toml"))
    assert model.closed_by == "summit" and out["closed_by"] == SUMMIT_CLOSE and out["agreement_day"] == 10
    assert out["terms"][0] == pytest.approx(0.5)
    d["summit"] = {"max_gap": 0.01}
    _, out = run_one(parse_scenario(d, "s.toml"))
    assert out["agreement_day"] == -1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 10_000))
def test_agreements_respect_reservations_and_limits(flagship, index):
    model, out = run_one(flagship, seed=11, index=index)
    if out["agreement_day"] < 0:
        return
    x = out["terms"]
    for team, u in zip(model.teams, out["utilities"], strict=False):
        assert u >= team.effective.floor - 1e-9
        assert np.all(x >= team.effective.lo - 1e-9) and np.all(x <= team.effective.hi + 1e-9)
    lo = np.array([i.low for i in flagship.issues])
    hi = np.array([i.high for i in flagship.issues])
    assert np.all(x >= lo) and np.all(x <= hi)
    for i, issue in enumerate(flagship.issues):
        if issue.integer:
            assert x[i] == round(x[i])


def test_trace_history_and_offers_in_bounds(flagship):
    model, _ = run_one(flagship, seed=7, index=3, trace=True)
    offers = [e for e in model.history if e.kind == "offer"]
    assert offers and any(e.kind == "meeting" for e in model.history)
    lo = np.array([i.low for i in flagship.issues])
    hi = np.array([i.high for i in flagship.issues])
    for e in offers:
        assert np.all(e.offer >= lo - 1e-9) and np.all(e.offer <= hi + 1e-9)
    # each side's aspiration never rises between meetings with no event in force
    from sim.trace import narrative
    text = narrative(model)
    assert text[0].startswith(flagship.title)


def test_same_world_same_outcome(flagship):
    _, a = run_one(flagship, seed=5, index=17)
    _, b = run_one(flagship, seed=5, index=17)
    assert a["agreement_day"] == b["agreement_day"]
    assert np.array_equal(a["terms"], b["terms"], equal_nan=True)


def test_mesa_batch_run_drives_the_same_replications(flagship):
    import mesa

    from sim.model.batchrun import ReplicationModel
    from sim.runner import run_chunk
    from tests.conftest import ROOT
    rows = mesa.batch_run(ReplicationModel, {"scenario_path": str(ROOT / "scenarios" / "us_korea_2025.toml"),
                                             "run_seed": 4}, rng=range(6), max_steps=10_000, display_progress=False)
    ours = run_chunk(flagship, 4, 0, 6).to_pylist()
    by_rep = {r["rng"]: r for r in rows}
    for k in range(6):
        expected = ours[k]["agreement_day"]
        for m in ("agreement", "signed", "ratified"):  # the milestones and the headline, as a run records them
            assert by_rep[k][f"{m}_day"] == ours[k][f"{m}_day"]
            assert by_rep[k][f"{m}_before_summit"] == bool(ours[k][f"{m}_before_summit"])
        if expected is not None:
            assert by_rep[k]["term.annual_cash"] == pytest.approx(ours[k]["term.annual_cash"], abs=1e-12)
