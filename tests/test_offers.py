import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.negotiation import offers, solutions, utility
from sim.negotiation.utility import Preferences as P

N = 4
weights = arrays(np.float64, N, elements=st.floats(0.01, 1)).map(lambda w: w / w.sum())
fractions = arrays(np.float64, N, elements=st.floats(0, 1))


@settings(max_examples=200, deadline=None)
@given(weights, weights, fractions, fractions, st.floats(0, 1), st.lists(st.booleans(), min_size=N, max_size=N))
def test_offers_meet_target_within_limits(w_a, w_b, lo_f, width, target, integer):
    best_a, worst_a = np.array([10.0, 0, 5, 0]), np.array([0.0, 10, 0, 10])
    best_b, worst_b = worst_a, best_a
    lo = np.minimum(best_a, worst_a) + lo_f * 5
    hi = np.minimum(lo + 1 + width * 5, 10.0)
    plan = offers.ConcessionPlan.build(P(w_a, best_a, worst_a), P(w_b, best_b, worst_b), lo, hi)
    x = offers.offer_for_target(plan, target, np.array(integer), np.empty(N))
    assert utility.within_limits(x, lo, hi)
    u = utility.utility(x, P(w_a, best_a, worst_a))
    u_min = plan.u_max - plan.loss.sum()
    assert u >= min(target, plan.u_max) - 1e-9 or u == pytest.approx(u_min)
    # with true beliefs and no rounding, the offer is Pareto-efficient
    if not any(integer):
        f = solutions.pareto_frontier(P(w_a, best_a, worst_a), P(w_b, best_b, worst_b), lo, hi)
        d = solutions.distance_to_frontier(u, utility.utility(x, P(w_b, best_b, worst_b)), f)
        assert d < 1e-9


def test_concedes_first_where_it_cares_least():
    w_a = np.array([0.7, 0.2, 0.1])
    w_b = np.array([1 / 3, 1 / 3, 1 / 3])
    best, worst = np.ones(3), np.zeros(3)
    plan = offers.ConcessionPlan.build(P(w_a, best, worst), P(w_b, worst, best), np.zeros(3), np.ones(3))
    x = offers.offer_for_target(plan, 0.85, np.zeros(3, bool), np.empty(3))
    # gives up 0.15: all of issue 3 (0.1), then a quarter of issue 2 (0.05); never issue 1
    assert x == pytest.approx([1.0, 0.75, 0.0])


def test_integer_issues_round_in_the_proposers_favour():
    w = np.array([0.5, 0.5])
    best, worst = np.array([2.0, 1.0]), np.array([0.0, 0.0])
    plan = offers.ConcessionPlan.build(P(w, best, worst), P(np.array([0.9, 0.1]), worst, best), np.zeros(2),
                                       np.array([2.0, 1.0]))
    x = offers.offer_for_target(plan, 0.6, np.array([True, False]), np.empty(2))
    assert x[0] == 1.0  # 0.4 of utility would mean 1.6 steps down; truncated to 1
    assert utility.utility(x, P(w, best, worst)) >= 0.6


def test_compatible_issue_is_never_conceded():
    w = np.array([0.5, 0.5])
    best, worst = np.array([1.0, 1.0]), np.array([0.0, 0.0])
    opp_best, opp_worst = np.array([0.0, 1.0]), np.array([1.0, 0.0])  # both want issue 2 high
    plan = offers.ConcessionPlan.build(P(w, best, worst), P(w, opp_best, opp_worst), np.zeros(2), np.ones(2))
    x = offers.offer_for_target(plan, 0.0, np.zeros(2, bool), np.empty(2))
    assert x == pytest.approx([0.0, 1.0])


def test_offer_region_uses_known_opponent_limits():
    lo, hi = np.empty(2), np.empty(2)
    offers.offer_region(np.zeros(2), np.ones(2) * 10, np.array([2.0, 0]), np.array([8.0, 5]), True, lo, hi)
    assert list(lo) == [2, 0] and list(hi) == [8, 5]
    offers.offer_region(np.zeros(2), np.ones(2) * 10, np.array([2.0, 0]), np.array([8.0, 5]), False, lo, hi)
    assert list(hi) == [10, 10]
    # no overlap: a side falls back on its own limits even if it knows the other's
    offers.offer_region(np.zeros(2), np.ones(2), np.array([2.0, 0]), np.array([8.0, 5]), True, lo, hi)
    assert list(lo) == [0, 0] and list(hi) == [1, 1]


@settings(max_examples=100, deadline=None)
@given(weights, weights, st.floats(0, 1), st.floats(0, 1))
def test_spread_concessions_give_up_the_same_utility(w_a, w_b, target, spread):
    best_a, worst_a = np.array([10.0, 0, 5, 0]), np.array([0.0, 10, 0, 10])
    plan = offers.ConcessionPlan.build(P(w_a, best_a, worst_a), P(w_b, worst_a, best_a), np.zeros(N), np.full(N, 10.0))
    no_int = np.zeros(N, bool)
    logroll = offers.offer_for_target(plan, target, no_int, np.empty(N))
    spread_out = offers.offer_for_target(plan, target, no_int, np.empty(N), spread)
    u = utility.utility(spread_out, P(w_a, best_a, worst_a))
    assert u == pytest.approx(utility.utility(logroll, P(w_a, best_a, worst_a)), abs=1e-9)
    if spread == 1.0 and plan.u_max > target:  # the same share of every costly issue's range
        shares = (spread_out - plan.start) / (plan.end - plan.start)
        costly = (plan.loss > 0) & (plan.gain > 0)
        assert np.allclose(shares[costly], shares[costly][0])
