import numpy as np
import pytest

from sim.negotiation import solutions
from sim.negotiation.utility import Preferences as P

ONE = np.ones(1)


def split_frontier():
    return solutions.pareto_frontier(P(ONE, ONE, 0 * ONE), P(ONE, 0 * ONE, ONE), 0 * ONE, ONE)


def test_split_frontier_and_nash():
    f = split_frontier()
    assert f[0] == pytest.approx([1, 0]) and f[-1] == pytest.approx([0, 1])
    # u1 = x, u2 = 1 - x, d = (0, 0.2): NBS (0.4, 0.6)
    assert solutions.nash_point(f, 0.0, 0.2) == pytest.approx((0.4, 0.6), abs=1e-12)
    assert solutions.nash_point(f, 0.0, 0.0) == pytest.approx((0.5, 0.5), abs=1e-12)


def test_two_issue_logroll_frontier_and_nash():
    # A cares 0.8/0.2, B 0.2/0.8: the frontier's kink is at (0.8, 0.8) (each gets its issue)
    w_a, w_b = np.array([0.8, 0.2]), np.array([0.2, 0.8])
    best_a, worst_a = np.ones(2), np.zeros(2)
    f = solutions.pareto_frontier(P(w_a, best_a, worst_a), P(w_b, worst_a, best_a), np.zeros(2), np.ones(2))
    np.testing.assert_allclose(f, [[1.0, 0.0], [0.8, 0.8], [0.0, 1.0]], atol=1e-12)
    assert solutions.nash_point(f, 0.0, 0.0) == pytest.approx((0.8, 0.8))
    # on segment 1 (u_b = 4(1 - u_a)), with d = (0.5, 0): max (u-0.5)*4(1-u) at u = 0.75 -> still kink-bound
    nb = solutions.nash_point(f, 0.5, 0.0)
    assert nb == pytest.approx((0.8, 0.8))
    assert solutions.distance_to_frontier(0.8, 0.8, f) == pytest.approx(0.0)
    assert solutions.distance_to_frontier(0.5, 0.5, f) == pytest.approx(0.3 / np.sqrt(0.68))


def test_distance_to_a_straight_frontier():
    f = split_frontier()
    assert solutions.distance_to_frontier(0.25, 0.25, f) == pytest.approx(0.5 / np.sqrt(2))


def test_no_nash_point_without_gains():
    f = split_frontier()
    assert np.isnan(solutions.nash_point(f, 0.7, 0.7)[0])
