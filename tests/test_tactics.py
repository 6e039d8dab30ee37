import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.negotiation import tactics

TD, TFT, HL = tactics.TIME_DEPENDENT, tactics.TIT_FOR_TAT, tactics.HARDLINER


def asp(kind, t, kappa, beta, family, u_max, reservation, previous, move, reciprocity, min_step, risk_own, risk_other):
    """The aspiration kernel with the tactic's parameters spelled out."""
    tactic = tactics.TacticParams(kind, family, kappa, beta, reciprocity, min_step)
    return tactics.aspiration(tactic, t, u_max, reservation, previous, move, risk_own, risk_other)


@pytest.mark.parametrize("t, kappa, beta, expected", [
    (0.0, 0.0, 0.5, 0.0), (1.0, 0.0, 0.5, 1.0), (0.5, 0.0, 1.0, 0.5),
    (0.5, 0.0, 0.5, 0.25), (0.5, 0.0, 2.0, math.sqrt(0.5)), (0.5, 0.1, 2.0, 0.1 + 0.9 * math.sqrt(0.5)),
])
def test_faratin_polynomial(t, kappa, beta, expected):
    assert tactics.alpha_polynomial(t, kappa, beta) == pytest.approx(expected, abs=1e-12)


def test_faratin_exponential():
    assert tactics.alpha_exponential(0.0, 0.1, 1.0) == pytest.approx(0.1)
    assert tactics.alpha_exponential(1.0, 0.1, 1.0) == pytest.approx(1.0)
    assert tactics.alpha_exponential(0.5, 0.1, 2.0) == pytest.approx(math.exp(0.25 * math.log(0.1)))


def test_boulware_concedes_less_early_than_conceder():
    a = tactics.alpha_polynomial
    assert a(0.5, 0, 0.2) < a(0.5, 0, 1) < a(0.5, 0, 5)


@given(st.floats(0.05, 5), st.floats(0, 0.9), st.integers(0, 1), st.floats(0, 1),
       st.lists(st.floats(0, 1.5), min_size=2, max_size=30))
def test_time_dependent_aspiration_never_rises(beta, kappa, family, reservation, times):
    if family == tactics.EXPONENTIAL and kappa == 0:
        kappa = 0.01
    prev = math.inf
    for t in sorted(times):
        a = asp(TD, t, kappa, beta, family, 1.0, reservation, math.nan, math.nan, 1.0, 0.0, math.nan, math.nan)
        assert a <= prev + 1e-12
        assert min(reservation, 1.0) - 1e-12 <= a <= 1.0 + 1e-12
        prev = a
    # at the deadline the side stands at its reservation value
    end = asp(TD, 1.0, kappa, beta, family, 1.0, reservation, math.nan, math.nan, 1, 0, math.nan, math.nan)
    assert end == pytest.approx(reservation)


def test_hardliner_and_tit_for_tat():
    assert asp(HL, 0.9, 0.0, 1.0, 0, 0.8, 0.2, 0.8, 0.3, 1.0, 0.0, math.nan, math.nan) == pytest.approx(0.8)
    first = asp(TFT, 0.0, 0.0, 1.0, 0, 0.8, 0.2, math.nan, math.nan, 1.0, 0.0, math.nan, math.nan)
    assert first == pytest.approx(0.8)
    # mirrors the opponent's move (in own utility), times reciprocity, plus the minimum step
    nxt = asp(TFT, 0.1, 0.0, 1.0, 0, 0.8, 0.2, 0.8, 0.1, 0.5, 0.1, math.nan, math.nan)
    assert nxt == pytest.approx(0.8 - 0.05 - 0.1 * 0.6)
    # a hardening opponent (negative move) earns no concession, and the floor holds
    assert asp(TFT, 0.1, 0.0, 1.0, 0, 0.8, 0.2, 0.5, -0.2, 1.0, 0.0, math.nan, math.nan) == pytest.approx(0.5)
    assert asp(TFT, 0.1, 0.0, 1.0, 0, 0.8, 0.2, 0.25, 0.5, 1.0, 0.0, math.nan, math.nan) == pytest.approx(0.2)


def test_zeuthen_concedes_only_when_less_willing_to_risk_conflict():
    z = tactics.ZEUTHEN
    assert asp(z, 0.0, 0.0, 1.0, 0, 0.9, 0.1, math.nan, math.nan, 1.0, 0.01, math.nan, math.nan) == 0.9
    # own risk 0.3 <= other's 0.5: concede by 1% of the range; otherwise hold
    assert asp(z, 0.5, 0.0, 1.0, 0, 0.9, 0.1, 0.8, math.nan, 1.0, 0.01, 0.3, 0.5) == pytest.approx(0.792)
    assert asp(z, 0.5, 0.0, 1.0, 0, 0.9, 0.1, 0.8, math.nan, 1.0, 0.01, 0.5, 0.3) == 0.8
    assert asp(z, 0.5, 0.0, 1.0, 0, 0.9, 0.1, 0.8, math.nan, 1.0, 0.01, 0.4, 0.4) == pytest.approx(0.792)
    assert tactics.risk_limit(0.8, 0.2, 0.0) == pytest.approx(0.75) and tactics.risk_limit(0.1, 0.0, 0.2) == 1.0
