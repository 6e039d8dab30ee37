"""Forecasts conditioned on the record: exactness at the limits, reproducibility, the record's
validation, and exact conditioning of calendar facts."""

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest

from sim import analysis, runner
from sim.forecast import conditioning as forecast
from sim.scenario import ScenarioError, load_scenario, parse_scenario, read_document, with_values
from sim.world import Known, sample_worlds
from tests.conftest import ROOT, cli

FLAGSHIP = ROOT / "scenarios" / "us_korea_2025.toml"


def test_without_a_record_the_forecast_is_the_prior_run(flagship):
    fc = forecast.forecast(flagship, None, seed=3, particles=2000, target_ess=500)
    run = runner.run_chunk(flagship, 3, 0, 2000)
    assert fc.posterior.drop_columns(["weight", "log_likelihood"]).equals(run)
    assert np.all(fc.posterior.column("weight").to_numpy() == 1.0) and fc.result.ess == pytest.approx(2000)
    for m in fc.probabilities().values():
        assert m["forecast"]["before_summit"]["p"] == m["prior"]["before_summit"]["p"]


def test_no_agreement_by_a_date_alone_gives_the_exact_conditional_frequency(flagship):
    from sim import batch

    bare = dataclasses.replace(flagship, record=None)  # nothing but the status
    as_of = dt.date(2025, 10, 1)
    fc = forecast.forecast(bare, as_of, seed=5, particles=4000, target_ess=500)
    out = batch.run_worlds(bare, sample_worlds(bare, 5, 0, 4000))  # the prior run's worlds
    open_ = forecast.still_open(out, (as_of - bare.start).days)
    hit = (out.agreement_day >= 0) & (out.agreement_day <= bare.summit_day)
    assert 0 < open_.sum() < 4000
    assert fc.probabilities()["agreement"]["forecast"]["before_summit"]["p"] == pytest.approx(hit[open_].mean(),
                                                                                             abs=1e-12)
    assert fc.result.ess == pytest.approx(open_.sum())


def test_the_record_moves_the_forecast_and_is_reproduced(flagship):
    fc = forecast.forecast(flagship, dt.date(2025, 10, 25), seed=7, particles=4000, target_ess=800)
    assert fc.result.ess >= 800 and fc.result.reached
    assert all(f["z_rms"] < 2.5 for f in fc.fit if "z_rms" in f), fc.fit  # every reported position reproduced
    w = fc.posterior.column("weight").to_numpy()
    day = fc.posterior.column("agreement_day").fill_null(-1).to_numpy(zero_copy_only=False)
    assert np.all((day < 0) | (day > (dt.date(2025, 10, 25) - flagship.start).days))  # still open on the date
    assert w.min() > 0
    # the Oct 24 asks: the posterior's US standing on annual cash is near the reported $25B
    us_cash = [f for f in fc.fit if f["date"] == "2025-10-24" and f["side"] == "us" and f["issue"] == "annual_cash"]
    assert abs(us_cash[0]["simulated_mean"] - 25) < 2


def test_forecasts_do_not_depend_on_workers(flagship):
    kw = {"seed": 2, "particles": 3000, "target_ess": 400}
    one = forecast.forecast(flagship, dt.date(2025, 9, 30), workers=1, **kw)
    two = forecast.forecast(flagship, dt.date(2025, 9, 30), workers=2, **kw)
    assert one.posterior.equals(two.posterior) and one.result.ess == two.result.ess


def test_evidence_as_of_a_date(flagship):
    ev = forecast.evidence(flagship, dt.date(2025, 9, 10))
    assert {p.date for p in ev.positions} == {dt.date(2025, 7, 31)}
    day = (dt.date(2025, 9, 10) - flagship.start).days
    assert ev.known.fired == {"georgia_raid": 36, "japan_mou": 36}
    assert ev.known.quiet == {"tariff_ultimatum": day, "swap_line": day, "tariff_threat": day}
    assert set(ev.known.rounds) == {26}  # Aug 25 only
    late = forecast.evidence(flagship, dt.date(2025, 10, 25))
    assert late.known.quiet["swap_line"] == (dt.date(2025, 10, 24) - flagship.start).days  # as checked
    with pytest.raises(forecast.ForecastError, match="outside the scenario"):
        forecast.evidence(flagship, dt.date(2026, 1, 5))


def test_known_events_are_conditioned_exactly(flagship):
    swap = flagship.events[[e.name for e in flagship.events].index("swap_line")]
    k = flagship.events.index(swap)
    by = 60
    w = sample_worlds(flagship, 4, 0, 50_000, known=Known(quiet={"swap_line": by}, fired={"georgia_raid": 36}))
    assert np.all((w.event_day[:, k] < 0) | (w.event_day[:, k] > by))
    assert np.all(w.event_day[:, 0] == 36)
    prior = sample_worlds(flagship, 4, 0, 50_000).event_day[:, k]
    not_by = (prior < 0) | (prior > by)
    expected = ((prior > by) & (prior >= 0)).sum() / not_by.sum()  # P(strikes later | not by `by`)
    assert (w.event_day[:, k] >= 0).mean() == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("change, field, problem", [
    ({"side": "japan"}, "positions[0].side", "unknown value 'japan'"),
    ({"issue": "tariffs"}, "positions[0].issue", "unknown value 'tariffs'"),
    ({"value": 120}, "positions[0].value", "must be in [50, 90]"),
    ({"date": dt.date(2025, 6, 1)}, "positions[0].date", "outside the scenario's period"),
    ({"precision": 0}, "positions[0].precision", "must be > 0"),
    ({"precision": -2}, "positions[0].precision", "must be > 0"),
])
def test_bad_records_are_named(change, field, problem):
    document, sha = read_document(FLAGSHIP)
    record = dict(document["record"])
    record["positions"] = [record["positions"][0] | change, *record["positions"][1:]]
    with pytest.raises(ScenarioError) as err:
        parse_scenario(document | {"record": record}, str(FLAGSHIP), sha)
    assert err.value.file.endswith("records/us_korea_2025.toml")
    assert err.value.field == field and problem in err.value.problem


def test_record_events_and_rounds_are_checked_against_the_scenario():
    document, sha = read_document(FLAGSHIP)
    cases = [({"events": [{"name": "moon_landing", "date": dt.date(2025, 9, 1), "source": "x"}]}, "events[0].name"),
             ({"events": [{"name": "georgia_raid", "date": dt.date(2025, 9, 5), "source": "x"}]}, "events[0].date"),
             ({"rounds": [{"date": dt.date(2025, 9, 2), "source": "x"}]}, "rounds[0].date"),
             ({"events": [{"name": "swap_line", "fired": False, "source": "x"}]}, "events[0].checked")]
    for section, field in cases:
        with pytest.raises(ScenarioError) as err:
            parse_scenario(document | {"record": {"file": "r.toml"} | section}, str(FLAGSHIP), sha)
        assert err.value.field == field


def test_an_inline_record_names_the_scenario_file(flagship):
    document, sha = read_document(FLAGSHIP)
    bad = with_values(document, {"record": {"positions": [{"date": dt.date(2025, 8, 1), "side": "us",
                                                           "issue": "cash_share", "value": 50, "precision": -1,
                                                           "source": "x"}]}})
    with pytest.raises(ScenarioError) as err:
        parse_scenario(bad, "inline.toml", sha)
    assert err.value.file == "inline.toml" and err.value.field == "record.positions[0].precision"


def test_cli_forecast_writes_its_folder(tmp_path):
    out = tmp_path / "fc"
    r = cli("forecast", "scenarios/us_korea_2025.toml", "--as-of", "2025-09-20", "--particles", "3000",
            "--target-ess", "500", "--seed", "1", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("P(agreement in principle by 2025-10-29 | record to 2025-09-20) = ")
    for name in ("forecast.json", "summary.json", "manifest.json", "posterior.png", "terms.png"):
        assert (out / name).is_file(), name
    data = json.loads((out / "forecast.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["weighted"] and data["evidence"]["positions"] == 5
    p = data["probabilities"]["agreement"]["forecast"]["before_summit"]["p"]
    assert summary["milestones"]["agreement"]["before_summit"]["p"] == pytest.approx(p, abs=1e-12)
    assert analysis.headline(summary).startswith("P(agreement in principle by 2025-10-29) = ")


@pytest.mark.parametrize("args, message", [
    (["--as-of", "2024-01-01"], "lies outside the scenario's period"),
    (["--as-of", "tomorrow"], "expected a date like 2025-10-25"),
])
def test_cli_forecast_refuses_bad_dates(tmp_path, args, message):
    out = tmp_path / "never"
    r = cli("forecast", "scenarios/us_korea_2025.toml", *args, "--out", str(out), "--quiet")
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_a_scenario_can_be_loaded_with_its_record(flagship):
    assert flagship.record is not None and len(flagship.record.positions) == 14
    assert flagship.observation_days == tuple(sorted({p.day for p in flagship.record.positions}
                                                     | {p.day for p in flagship.record.progress}))
    assert load_scenario(FLAGSHIP).sha256 == flagship.sha256


def test_a_record_the_sampler_cannot_match_gets_no_number(tmp_path):
    """N1: one particle (or a collapse of the weights) never prints P = 1.00: exit 1 with the reason."""
    out = tmp_path / "p1"
    r = cli("forecast", "scenarios/us_korea_2025.toml", "--as-of", "2025-10-25", "--particles", "1",
            "--target-ess", "1", "--no-plots", "--out", str(out), "--quiet")
    assert r.returncode == 1, r.stderr
    assert "no forecast: the sampler could not reproduce the record" in r.stderr and "Traceback" not in r.stderr
    assert "P(" not in r.stdout and not out.exists()


def test_a_tiny_precision_cannot_pin_a_world_down(flagship):
    """A report's precision near 0 leaves the model's own error in the kernel: no collapse."""
    ev = forecast.evidence(flagship, dt.date(2025, 10, 25))
    span = np.array([i.high - i.low for i in flagship.issues])
    assert np.all(ev.precision >= forecast.MODEL_ERROR * span[ev.issue] - 1e-12)
    tight = dataclasses.replace(flagship.record, positions=tuple(
        dataclasses.replace(p, precision=1e-300) for p in flagship.record.positions))
    ev = forecast.evidence(dataclasses.replace(flagship, record=tight), dt.date(2025, 10, 25))
    assert np.allclose(ev.precision, forecast.MODEL_ERROR * span[ev.issue])


def test_forecasts_too_large_for_the_machine_are_refused(tmp_path, flagship):
    """N4: the size is checked against the machine's memory before anything runs (exit 2)."""
    assert forecast.memory_needed(flagship, 2_000_000, 2) > forecast.physical_memory()
    assert forecast.memory_needed(flagship, 20_000, 2) < 2 * 2**30  # the default fits in 2 GiB
    out = tmp_path / "big"
    r = cli("forecast", "scenarios/us_korea_2025.toml", "--as-of", "2025-10-25", "--particles", "2000000",
            "--out", str(out), "--quiet")
    assert r.returncode == 2 and "GiB" in r.stderr and "use fewer particles" in r.stderr, r.stderr
    assert not out.exists()


def test_a_timeline_with_no_news_is_the_prior_then_the_status(tmp_path):
    """N2: a scenario with no record (or an --as-of before its first entry) gets a timeline, one
    line per forecast date as it finishes."""
    out = tmp_path / "tl"
    r = cli("forecast", "scenarios/us_japan_2025.toml", "--timeline", "--as-of", "2025-09-01", "--particles",
            "2000", "--target-ess", "200", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "[1/2] no record" in r.stdout and "[2/2] 2025-09-01" in r.stdout
    rows = json.loads((out / "timeline.json").read_text())["rows"]
    assert [row["as_of"] for row in rows] == [None, "2025-09-01"]
    assert (out / "timeline.png").is_file()
