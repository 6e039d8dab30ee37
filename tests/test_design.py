"""Designs: shapes, ranges, strata, reproducibility; factor parsing and its errors."""

from __future__ import annotations

import numpy as np
import pytest

from sim.scenario import ScenarioError, parse_scenario, read_document
from sim.sweep.design import DesignError, Factor, declared_factors, make_design, parse_vary, point_scenario
from tests.conftest import ROOT, split_data

BETA, CASH = Factor("parties.us.tactic.beta", 0.2, 2.0), Factor("parties.korea.issues.annual_cash.max", 15, 25)


def test_grid_is_the_full_factorial_of_the_levels(flagship):
    a = parse_vary("us.tactic.beta=0.2:2.0:10", flagship)
    b = parse_vary("korea.issues.annual_cash.max=15,20,25", flagship)
    d = make_design("grid", (a, b))
    assert d.values.shape == (30, 2)
    assert np.allclose(np.unique(d.values[:, 0]), np.linspace(0.2, 2.0, 10))
    assert sorted(set(d.values[:, 1])) == [15, 20, 25]
    assert len({tuple(v) for v in d.values}) == 30


@pytest.mark.parametrize("method", ["lhs", "mc"])
def test_random_designs_fill_the_ranges_and_repeat_with_the_seed(method):
    d = make_design(method, (BETA, CASH), n=50, seed=3)
    assert d.values.shape == (50, 2)
    assert (d.values >= [0.2, 15]).all() and (d.values <= [2.0, 25]).all()
    assert np.array_equal(d.values, make_design(method, (BETA, CASH), n=50, seed=3).values)
    assert not np.array_equal(d.values, make_design(method, (BETA, CASH), n=50, seed=4).values)


def test_lhs_puts_one_point_in_every_stratum_of_every_factor():
    d = make_design("lhs", (BETA, CASH), n=40, seed=1)
    for j, f in enumerate((BETA, CASH)):
        strata = np.floor((d.values[:, j] - f.low) / (f.high - f.low) * 40).astype(int)
        assert sorted(strata) == list(range(40))


def test_sobol_and_morris_designs_have_salib_shapes():
    s = make_design("sobol", (BETA, CASH), n=16, seed=0)
    assert s.values.shape == (16 * (2 + 2), 2)
    assert (s.values >= [0.2, 15]).all() and (s.values <= [2.0, 25]).all()
    m = make_design("morris", (BETA, CASH), n=10, seed=0)
    assert m.values.shape == (10 * (2 + 1), 2)
    with pytest.raises(DesignError, match="power of 2"):
        make_design("sobol", (BETA, CASH), n=24)


@pytest.mark.parametrize("method, n", [("sobol", 1), ("sobol", 8), ("morris", 1), ("morris", 3), ("lhs", 1)])
def test_designs_too_small_for_meaningful_indices_are_refused(method, n):
    # D16: sensitivity --n 1 printed Sobol S1 = 1.378 and Morris sigma = nan without a word
    with pytest.raises(DesignError, match="at least"):
        make_design(method, (BETA, CASH), n=n)


@pytest.mark.parametrize("spec, message", [
    ("us.tactic.betta=0.2:2:3", "unknown parameter 'us.tactic.betta'; did you mean parties.us.tactic.beta"),
    ("us.reservation=0.5:1.5:3", "parties.us.reservation must be in [0, 1], got 1.5"),
    ("us.tactic.beta=0:2:3", "must be > 0, got 0"),
    ("us.tactic.beta=2:1:3", "lo must be below hi"),
    ("us.tactic.beta=1:2:1", "at least 2 levels"),
    ("us.tactic.beta", "expected path=lo:hi:n"),
    ("us.tactic.beta=fast", "cannot read 'fast'"),
])
def test_bad_vary_specs_name_the_parameter_and_the_problem(flagship, spec, message):
    with pytest.raises(DesignError) as err:
        parse_vary(spec, flagship)
    assert message in str(err.value)


def test_a_parameter_varied_twice_is_refused():
    with pytest.raises(DesignError, match="varied twice"):
        make_design("grid", (BETA, BETA))


def test_declared_uncertainties_and_levers(flagship):
    factors = declared_factors(flagship)
    kinds = {f.path: f.kind for f in factors}
    assert kinds["parties.us.reservation"] == "uncertainty" and kinds["summit.max_gap"] == "lever"


def test_a_declared_factor_must_name_a_real_parameter():
    data = split_data() | {"levers": [{"path": "parties.a.tactic.speed", "low": 0, "high": 1}]}
    with pytest.raises(ScenarioError, match=r"levers\[0\]\.path: unknown parameter"):
        parse_scenario(data, "x.toml")
    data = split_data() | {"uncertainties": [{"path": "a.reservation", "low": 0.5, "high": 2}]}
    with pytest.raises(ScenarioError, match=r"uncertainties\[0\]\.high: parties.a.reservation must be in \[0, 1\]"):
        parse_scenario(data, "x.toml")


def test_a_point_scenario_fixes_the_varied_values():
    path = ROOT / "scenarios" / "us_korea_2025.toml"
    document, sha = read_document(path)
    sc = point_scenario(document, str(path), sha, ["parties.us.tactic.beta", "summit.max_gap"], np.array([1.5, 0.1]))
    assert sc.parties[0].tactic.beta.value == 1.5 and sc.summit_max_gap.value == 0.1
    assert "parties.us.tactic.beta" not in {p.path for p in sc.uncertain}
    assert document["parties"]["us"]["tactic"]["beta"]["dist"] == "uniform"  # the document is not modified
