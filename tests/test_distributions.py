import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.distributions import DistributionError, make_dist

U = np.linspace(0.001, 0.999, 999)


@pytest.mark.parametrize("spec", [
    {"dist": "uniform", "low": 2, "high": 5},
    {"dist": "truncnormal", "mean": 20, "sd": 1.5, "low": 17, "high": 25},
    {"dist": "triangular", "low": 0, "mode": 10, "high": 45},
    {"dist": "beta", "a": 2, "b": 5, "low": 1, "high": 3},
    {"dist": "choice", "values": [1, 4, 9], "weights": [1, 1, 2]},
])
def test_draws_stay_in_support_and_are_monotone(spec):
    d = make_dist(spec)
    x = d.ppf(U)
    lo, hi = d.support
    assert x.min() >= lo and x.max() <= hi
    assert np.all(np.diff(x) >= 0)  # an inverse CDF is non-decreasing


def test_known_quantiles():
    assert make_dist({"dist": "uniform", "low": 2, "high": 6}).median == pytest.approx(4)
    normal = make_dist({"dist": "normal", "mean": 1, "sd": 2})
    assert normal.ppf(np.array([0.975]))[0] == pytest.approx(1 + 2 * 1.959964)
    tri = make_dist({"dist": "triangular", "low": 0, "mode": 0, "high": 1})
    assert tri.ppf(np.array([0.75]))[0] == pytest.approx(0.5)  # F(x) = 1 - (1 - x)^2
    ch = make_dist({"dist": "choice", "values": [1, 4, 9], "weights": [1, 1, 2]})
    assert list(ch.ppf(np.array([0.1, 0.4, 0.6, 0.9]))) == [1, 4, 9, 9]


@given(st.floats(0.01, 0.99))
def test_beta_matches_scipy(u):
    from scipy import stats
    d = make_dist({"dist": "beta", "a": 2.5, "b": 1.5})
    assert d.ppf(np.array([u]))[0] == pytest.approx(stats.beta(2.5, 1.5).ppf(u), rel=1e-9)


@pytest.mark.parametrize("spec, message", [
    ({"dist": "gamma", "k": 1}, "unknown distribution"),
    ({"dist": "uniform", "low": 1}, "needs high"),
    ({"dist": "uniform", "low": 1, "high": 0}, "low must be < high"),
    ({"dist": "normal", "mean": 0, "sd": -1}, "sd must be > 0"),
    ({"dist": "uniform", "low": 0, "high": 1, "mode": 0.5}, "does not take mode"),
    ({"dist": "triangular", "low": 0, "mode": 2, "high": 1}, "mode must lie"),
    ({"dist": "choice", "values": []}, "non-empty"),
])
def test_bad_specs_are_refused(spec, message):
    with pytest.raises(DistributionError, match=message):
        make_dist(spec)
