import datetime as dt
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


@pytest.mark.parametrize("day, expected", [(0, 0.0), (80, 0.0), (90, 0.0), (95, 0.05), (100, 0.1), (101, 0.0)])
def test_deadline_pressure_rises_to_the_cost_on_the_day_then_is_sunk(day, expected):
    assert tactics.deadline_pressure(day, 100.0, 0.1, 10.0) == pytest.approx(expected)
    assert tactics.deadline_pressure(day, 100.0, 0.0, 10.0) == 0.0  # no cost: no pressure
    assert tactics.deadline_pressure(day, 100.0, 0.1, 0.0) == 0.0  # no window: never felt


@given(st.floats(0, 1), st.floats(0, 0.5), st.floats(0, 1))
def test_pressure_never_takes_a_side_below_its_floor(aspiration, pressure, floor):
    asks = tactics.pressed(aspiration, pressure, floor)
    assert asks <= aspiration + 1e-12
    assert asks >= min(aspiration, floor) - 1e-12
    assert asks == pytest.approx(max(aspiration - pressure, min(aspiration, floor)))


def _split(cost, r=0.3, extension=None):
    from sim.scenario import parse_scenario
    from sim.validation import split_document

    doc = split_document(0.3, 0.3, r, r, 60, contact_rate=0.5)
    for side in ("a", "b"):
        doc["parties"][side] |= {"deadline_cost": cost, "deadline_window_days": 10,
                                 "deadline_offset_days": {"dist": "uniform", "low": 0, "high": 60}}
    if extension is not None:
        doc["events"] = [{"name": "extended", "party": "a", "date": doc["scenario"]["start"] + dt.timedelta(days=45),
                          "effects": {"deadline_days": extension}}]
    return parse_scenario(doc, "split")


def _closing(scenario, n=4000):
    from sim.validation.core import agreement_days, play

    days = agreement_days(play(scenario, n, seed=1))
    return days, scenario.summit_day


def test_deadline_pressure_crowds_deals_into_the_last_days_when_a_deal_is_possible():
    """Sides whose own deadlines fall after the public one (0–60 days late) close before it only
    when they feel it coming; with no zone of agreement (reservations 0.6 + 0.6 > 1) nobody does."""
    (calm, d), (pressed_days, _) = _closing(_split(0.0)), _closing(_split(0.3))
    last_week = ((pressed_days > d - 7) & (pressed_days <= d)).sum()
    assert last_week > 2 * ((calm > d - 7) & (calm <= d)).sum() + 20
    none, _ = _closing(_split(0.3, r=0.6))
    assert len(none) == 0


def test_a_moved_deadline_moves_the_pressure():
    """An extension announced on day 45 of 60 takes the pressure off the original date."""
    (kept, d), (moved, _) = _closing(_split(0.3)), _closing(_split(0.3, extension=30))
    assert ((moved > d - 7) & (moved <= d)).sum() < ((kept > d - 7) & (kept <= d)).sum() / 2
