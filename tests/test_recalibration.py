"""The recalibration map: what it does to probabilities, and that its fit recovers a known map."""

import numpy as np
import pytest
from scipy.special import expit, logit

from sim.forecast import recalibration
from sim.forecast.recalibration import Recalibration


def test_the_identity_changes_nothing_and_a_map_is_monotone():
    p = np.array([0.01, 0.2, 0.5, 0.8, 0.99])
    assert np.allclose(recalibration.IDENTITY(p), p)
    assert recalibration.IDENTITY.identity and not Recalibration(0.1, 1.0).identity
    shrink = Recalibration(-0.3, 0.6)
    q = shrink(p)
    assert (np.diff(q) > 0).all()  # an interval's ends map to the interval's
    assert isinstance(shrink(0.2), float) and shrink(0.2) == pytest.approx(float(q[1]))
    assert shrink(0.5) == pytest.approx(float(expit(-0.3)))
    assert shrink(0.0) == pytest.approx(float(expit(-0.3 + 0.6 * logit(recalibration.CLIP))))  # clipped, finite


def test_the_fit_recovers_a_known_miscalibration():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.02, 0.98, 20_000)
    truth = Recalibration(-0.5, 0.5)  # overconfident and too optimistic
    y = rng.random(p.size) < truth(p)
    got = recalibration.fit(p, y)
    assert got.a == pytest.approx(-0.5, abs=0.05) and got.b == pytest.approx(0.5, abs=0.05)


def test_calibrated_forecasts_keep_about_the_identity():
    rng = np.random.default_rng(4)
    p = rng.uniform(0.02, 0.98, 20_000)
    y = rng.random(p.size) < p
    got = recalibration.fit(p, y)
    assert abs(got.a) < 0.05 and abs(got.b - 1) < 0.05


def test_with_little_data_the_prior_holds_the_map_near_the_identity():
    p, y = np.array([0.9, 0.9]), np.array([0.0, 0.0])
    weak = recalibration.fit(p, y, prior_sd=100.0)
    held = recalibration.fit(p, y)
    assert held(0.9) > weak(0.9)  # both pull 0.9 down; the prior pulls less
    assert recalibration.fit(np.array([]), np.array([])) == recalibration.IDENTITY


def test_every_case_weighs_one():
    w = recalibration.case_weights(np.array([0, 0, 0, 1, 2, 2]))
    assert np.allclose(w, [1 / 3, 1 / 3, 1 / 3, 1, 0.5, 0.5])
    # a case with many dates counts as much as one with a single date
    p = np.array([0.9, 0.9, 0.9, 0.9, 0.2])
    y = np.array([0, 0, 0, 0, 1.0])
    case_of = np.array([0, 0, 0, 0, 1])
    by_case = recalibration.fit(p, y, recalibration.case_weights(case_of))
    by_forecast = recalibration.fit(p, y)
    assert by_case(0.9) > by_forecast(0.9)
