"""The record's items beyond positions: progress reports (parsed, refused when bad, weighed with
their reliability, and calibrated), and the record's consistency with itself and its scenario."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.forecast import conditioning as forecast
from sim.scenario import ScenarioError, parse_scenario, read_document
from tests.conftest import ROOT

FLAGSHIP = ROOT / "scenarios" / "us_korea_2025.toml"
OCT19 = {"date": dt.date(2025, 10, 19), "issues_apart": [1, 2], "text": "one or two issues left", "source": "x"}


def _parse(**sections):
    document, sha = read_document(FLAGSHIP)
    return parse_scenario(document | {"record": {"file": "r.toml"} | sections}, str(FLAGSHIP), sha)


def _refused(**sections) -> ScenarioError:
    with pytest.raises(ScenarioError) as err:
        _parse(**sections)
    return err.value


def test_progress_reports_are_parsed_in_every_form():
    sc = _parse(progress=[OCT19, OCT19 | {"date": dt.date(2025, 10, 22), "issues_apart": {"min": 1}},
                          OCT19 | {"date": dt.date(2025, 10, 15), "issues_apart": 0, "tolerance": 0.2,
                                   "reliability": 0.9}])
    p15, p19, p22 = sc.record.progress
    assert p19.apart == (1, 2) and p19.tolerance == 0.1 and p19.reliability == 0.8
    assert p22.apart == (1, 2, 3, 4, 5)
    assert p15.apart == (0,) and p15.tolerance == 0.2 and p15.reliability == 0.9
    assert {p.day for p in sc.record.progress} <= set(sc.observation_days)
    assert dt.date(2025, 10, 22) in sc.record.dates()


@pytest.mark.parametrize("change, field, problem", [
    ({"issues_apart": 6}, "progress[0].issues_apart", "from 0 to 5"),
    ({"issues_apart": [1, 1.5]}, "progress[0].issues_apart", "whole number"),
    ({"issues_apart": []}, "progress[0].issues_apart", "at least one count"),
    ({"issues_apart": {"min": 3, "max": 1}}, "progress[0].issues_apart", "above max"),
    ({"issues_apart": {"min": 0}}, "progress[0].issues_apart", "says nothing"),
    ({"issues_apart": {"least": 1}}, "progress[0].issues_apart.least", "unknown key"),
    ({"reliability": 0.99}, "progress[0].reliability", "must be in [0.5, 0.95]"),
    ({"reliability": 0.5}, "progress[0].reliability", "above 0.5"),
    ({"tolerance": -0.1}, "progress[0].tolerance", "must be in [0, 1]"),
    ({"date": dt.date(2026, 3, 1)}, "progress[0].date", "outside the scenario's period"),
])
def test_bad_progress_reports_are_named(change, field, problem):
    err = _refused(progress=[OCT19 | change])
    assert err.file == "r.toml" and err.field == field and problem in err.problem, err


def test_a_record_that_contradicts_itself_is_refused_naming_both_items():
    pos = {"date": dt.date(2025, 10, 24), "side": "us", "issue": "annual_cash", "value": 25, "precision": 1.5,
           "source": "x"}
    err = _refused(positions=[pos, pos | {"value": 45}])
    assert err.field == "positions[1]" and "positions[0] already reports us's annual_cash" in err.problem
    err = _refused(positions=[pos, pos])  # the same report twice would count twice
    assert err.field == "positions[1]"
    held = {"date": dt.date(2025, 8, 25), "source": "x"}
    err = _refused(rounds=[held, held | {"held": False}])
    assert err.field == "rounds[1].date" and "rounds[0] already says" in err.problem
    err = _refused(progress=[OCT19, OCT19 | {"issues_apart": 0}])
    assert err.field == "progress[1].date" and "progress[0]" in err.problem


def test_a_record_that_contradicts_its_scenario_is_refused():
    early = {"name": "swap_line", "date": dt.date(2025, 8, 1), "source": "x"}  # the scenario's window opens Sep 12
    err = _refused(events=[early])
    assert err.field == "events[0].date" and "only from 2025-09-12" in err.problem
    level = {"date": dt.date(2025, 9, 11), "side": "us", "issue": "project_selection", "value": 1.5,
             "precision": 0.5, "source": "x"}
    err = _refused(positions=[level])
    assert err.field == "positions[0].value" and "a level's name or its whole index" in err.problem


def test_a_record_too_large_for_the_machine_is_refused(monkeypatch):
    from sim import limits

    monkeypatch.setattr(limits, "MAX_RECORD_ENTRIES", 3)
    err = _refused(progress=[OCT19 | {"date": dt.date(2025, 10, d)} for d in (1, 2, 3, 4)])
    assert "SIM_MAX_RECORD_ENTRIES" in err.problem


def test_issues_apart_counts_the_issues_beyond_each_reports_tolerance(flagship):
    sc = _parse(progress=[OCT19])
    ev = forecast.evidence(sc, dt.date(2025, 10, 25))
    assert ev.p_allowed.tolist() == [[False, True, True, False, False, False]]
    span = np.array([i.high - i.low for i in sc.issues])
    assert np.allclose(ev.p_tolerance[0], 0.1 * span)

    class Out:  # two replications' standing offers on the report's day, [R, J, 2, I]
        standing = np.zeros((2, len(sc.observation_days), 2, 5))
        agreement_day = np.zeros(2)

    j = ev.p_obs[0]
    Out.standing[0, j, 1] = 0.5 * span  # every issue half its range apart
    Out.standing[1, j, 1] = 0.05 * span  # within tolerance everywhere...
    Out.standing[1, j, 1, 1] = 0.2 * span[1]  # ...but annual cash
    counts = forecast.issues_apart(Out, ev)
    assert counts[:, 0].tolist() == [5, 1]
    ll, x = forecast.log_likelihood(Out, ev)
    assert ll[1] - ll[0] == pytest.approx(np.log(0.8) - np.log(0.2))  # the odds move by ρ / (1 − ρ), no more
    assert x[:, -1].tolist() == [5.0, 1.0]


def test_a_progress_report_moves_the_forecast_toward_worlds_it_describes(flagship):
    """A report that the sides are 0 or 1 issues apart makes worlds close to a deal likelier:
    the forecast of agreement by the summit rises, and the posterior count of issues apart falls."""
    document, sha = read_document(FLAGSHIP)
    bare = parse_scenario(document | {"record": {"file": "r.toml"}}, str(FLAGSHIP), sha)
    close = _parse(progress=[OCT19 | {"issues_apart": [0, 1], "date": dt.date(2025, 10, 22), "reliability": 0.95}])
    kw = {"seed": 4, "particles": 4000, "target_ess": 600}
    without = forecast.forecast(bare, dt.date(2025, 10, 22), **kw)
    with_ = forecast.forecast(close, dt.date(2025, 10, 22), **kw)
    p0 = without.probabilities()["agreement"]["forecast"]["before_summit"]["p"]
    p1 = with_.probabilities()["agreement"]["forecast"]["before_summit"]["p"]
    assert p1 > p0
    fit = next(f for f in with_.fit if "progress" in f)
    assert fit["share_consistent"] > 0.1  # the 19-fold weight pulls consistent worlds up from a few percent


def test_a_summit_that_may_not_happen_is_confirmed_or_cancelled_on_a_date():
    """The summit has a chance of taking place; a round confirmed (or cancelled) in advance is
    known from the day it was announced, and conditions the worlds exactly from then."""
    from sim.scenario import with_values
    from sim.world import SUMMIT, sample_worlds

    document, sha = read_document(FLAGSHIP)
    doubtful = with_values(document, {"summit.probability": 0.5})
    summit = dt.date(2025, 10, 29)
    cancelled = {"date": summit, "held": False, "announced": dt.date(2025, 10, 20), "source": "x"}
    sc = parse_scenario(doubtful | {"record": {"file": "r.toml", "rounds": [cancelled]}}, str(FLAGSHIP), sha)
    worlds = sample_worlds(sc, 1, 0, 4000)
    held = worlds.meetings[:, sc.summit_day] == SUMMIT
    assert 0.45 < held.mean() < 0.55
    assert dt.date(2025, 10, 20) in sc.record.dates()
    before, after = forecast.evidence(sc, dt.date(2025, 10, 19)), forecast.evidence(sc, dt.date(2025, 10, 20))
    assert sc.summit_day not in before.known.rounds and after.known.rounds[sc.summit_day] is False
    gone = sample_worlds(sc, 1, 0, 4000, known=after.known)
    assert not (gone.meetings[:, sc.summit_day] == SUMMIT).any()
    kw = {"seed": 3, "particles": 3000, "target_ess": 400}
    p_before = forecast.forecast(sc, dt.date(2025, 10, 19), **kw).probabilities()["agreement"]["forecast"]
    p_after = forecast.forecast(sc, dt.date(2025, 10, 20), **kw).probabilities()["agreement"]["forecast"]
    assert p_after["before_summit"]["p"] < p_before["before_summit"]["p"]  # no leaders to close the gap
    err = _refused(rounds=[cancelled | {"announced": dt.date(2025, 10, 30)}])
    assert err.field == "rounds[0].announced" and "after the round itself" in err.problem


def test_a_milestone_reached_conditions_exactly_and_the_forecast_is_of_the_next():
    """An agreement reported on Oct 22 (within a week): the forecast is of the signed text, and
    equals its frequency among the prior run's worlds that agreed in that week and had not
    signed by the forecast date."""
    from sim import runner
    from sim.world import sample_worlds

    reached = {"name": "agreement", "date": dt.date(2025, 10, 22), "source": "x"}
    sc = _parse(milestones=[reached])
    as_of = dt.date(2025, 10, 23)
    ev = forecast.evidence(sc, as_of)
    assert ev.question("agreement") == "signed" and ev.question("ratified") == "ratified"
    fc = forecast.forecast(sc, as_of, seed=6, particles=20_000, target_ess=200)
    out = runner.ENGINES["batch"](sc, sample_worlds(sc, 6, 0, 20_000))
    day, a = (as_of - sc.start).days, out.agreement_day
    ok = (a >= day - 8) & (a <= day - 1) & ~((out.signed_day >= 0) & (out.signed_day <= day))
    ok &= ~((out.walked_away >= 0) & (out.end_day <= day))
    assert 200 <= ok.sum() == pytest.approx(fc.result.ess)
    expected = sc.by_summit(out.signed_day)[ok].mean()
    assert fc.probabilities()["signed"]["forecast"]["before_summit"]["p"] == pytest.approx(expected, abs=1e-12)
    from sim.forecast import report as forecast_report

    data = forecast_report.summary(fc, 0.0)
    assert data["headline_milestone"] == "signed" and "agreement in principle on 2025-10-22" in \
        data["evidence"]["status"]


@pytest.mark.parametrize("milestones, field, problem", [
    ([{"name": "signed", "date": dt.date(2025, 10, 1), "source": "x"}], "milestones[0]", "not 'agreement' before"),
    ([{"name": "agreement", "date": dt.date(2025, 10, 1), "source": "x"},
      {"name": "signed", "date": dt.date(2025, 9, 1), "source": "x"}], "milestones[1]", "comes before 'agreement'"),
    ([{"name": "agreement", "date": dt.date(2025, 10, 1), "source": "x"},
      {"name": "agreement", "date": dt.date(2025, 10, 2), "source": "x"}], "milestones", "reached twice"),
    ([{"name": "deal", "date": dt.date(2025, 10, 1), "source": "x"}], "milestones[0].name", "unknown value"),
    ([{"name": "agreement", "date": dt.date(2025, 10, 1), "window_days": 2.5, "source": "x"}],
     "milestones[0].window_days", "whole number"),
])
def test_milestones_out_of_order_are_refused(milestones, field, problem):
    err = _refused(milestones=milestones)
    assert err.field == field and problem in err.problem, err
