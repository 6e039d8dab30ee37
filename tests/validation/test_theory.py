"""Closed-form checks: bargaining solutions, Zeuthen, alternating offers, Faratin pairs, agreement times."""

from __future__ import annotations

import math

import pytest

from sim import validation
from sim.negotiation.solutions import nash_point
from sim.theory.classic import risk_limit, stahl_shares
from sim.theory.models import AlternatingOffersModel, ZeuthenModel
from sim.theory.solutions import kalai_smorodinsky, nash_solution, polyline_frontier


@pytest.mark.parametrize("check", [validation.check_solutions, validation.check_zeuthen,
                                   validation.check_alternating_offers, validation.check_faratin,
                                   validation.check_agreement_time])
def test_closed_form_check_passes(check):
    results = check(None)
    assert results
    failed = [f"{c.name}: expected {c.expected}, measured {c.measured} ({c.tolerance})"
              for c in results if not c.passed]
    assert not failed, failed


def test_solvers_on_a_polyline_agree_with_the_exact_segment_solution():
    import numpy as np

    frontier = np.array([[1.0, 0.0], [0.7, 0.6], [0.3, 0.9], [0.0, 1.0]])
    _, a, b = nash_solution(*polyline_frontier(frontier)[:2], (0.1, 0.1), *polyline_frontier(frontier)[2:])
    assert (a, b) == pytest.approx(nash_point(frontier, 0.1, 0.1), abs=1e-6)
    _, a, b = kalai_smorodinsky(*polyline_frontier(frontier)[:2], (0.0, 0.0), *polyline_frontier(frontier)[2:])
    assert a == pytest.approx(b, abs=1e-9)  # equal shares of equal ideal gains (1, 1)


def test_risk_limit_and_conceder_follow_the_nash_products():
    u1, u2 = (lambda x: x), (lambda x: math.sqrt(1 - x))
    model = ZeuthenModel(u1, u2, grid_points=2001)
    model.run()
    assert model.history[0].conceder in (0, 1, 2)
    assert risk_limit(0.5, 0.5, 0.0) == 0.0 and risk_limit(0.0, 0.0, 0.0) == 1.0
    # Harsanyi: risk limits order exactly as the Nash products of the sides' own demands
    for s in model.history[::50]:
        r1 = risk_limit(u1(s.x1), u1(s.x2), 0.0)
        r2 = risk_limit(u2(s.x2), u2(s.x1), 0.0)
        assert (r1 < r2) == (s.nash1 < s.nash2) or math.isclose(s.nash1, s.nash2, abs_tol=1e-12)


def test_stahl_converges_to_rubinstein_and_refused_last_offers_end_in_conflict():
    shares = stahl_shares(0.9, 0.8, 201)
    assert shares[0] == pytest.approx((1 - 0.8) / (1 - 0.9 * 0.8), abs=1e-6)
    m = AlternatingOffersModel(0.9, 0.8, rounds=2)
    assert m.run() == pytest.approx((0.2, 0.8)) and m.agreement_round == 1
    with pytest.raises(ValueError):
        stahl_shares(0.9, 0.9, 0)
