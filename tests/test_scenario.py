import copy
import datetime as dt

import pytest

from sim.scenario import ScenarioError, load_scenario, parse_scenario
from tests.conftest import SCENARIOS, split_data


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenarios_load(path):
    sc = load_scenario(path)
    assert len(sc.parties) == 2 and sc.issues
    assert sc.start <= sc.deadline <= sc.horizon
    assert len(sc.sha256) == 64


def test_flagship_agenda_covers_the_open_terms(flagship):
    keys = set(flagship.issue_keys)
    assert {"cash_share", "annual_cash", "project_selection", "us_profit_share", "auto_tariff"} <= keys
    assert flagship.deadline == dt.date(2025, 10, 29) and flagship.start == dt.date(2025, 7, 30)


def test_extends_merges_over_the_base(flagship):
    from tests.conftest import ROOT
    swap = load_scenario(ROOT / "scenarios" / "us_korea_swap_line.toml")
    k = swap.issue_keys.index("annual_cash")
    assert swap.parties[1].limit_max[k].support == (24.0, 30.0)
    assert swap.parties[0] == flagship.parties[0]  # untouched side is identical


def _mutate(fn):
    data = split_data()
    fn(data)
    return data


@pytest.mark.parametrize("mutate, field, problem", [
    (lambda d: d["parties"]["a"].update(colour="red"), "parties.a.colour", "unknown key"),
    (lambda d: d["parties"]["a"].update(reservation=1.2), "parties.a.reservation", "must be in [0, 1]"),
    (lambda d: d["parties"]["a"].update(reservation={"dist": "normal", "mean": 0.3, "sd": 0.1}),
     "parties.a.reservation", "use truncnormal"),
    (lambda d: d["parties"]["a"]["tactic"].update(kind="nice"), "parties.a.tactic.kind", "unknown value 'nice'"),
    (lambda d: d["parties"]["a"]["tactic"].update(beta=0), "parties.a.tactic.beta", "must be > 0"),
    (lambda d: d["scenario"].update(deadline=dt.date(2029, 1, 1)), "scenario.deadline", "must be after the start"),
    # D15: a deadline on the start day was blamed on a field not in the file
    (lambda d: d["scenario"].update(deadline=d["scenario"]["start"]), "scenario.deadline", "must be after the start"),
    # D2: the name becomes a folder under results/
    (lambda d: d["scenario"].update(name="../../escaped"), "scenario.name", "letters, digits"),
    (lambda d: d["scenario"].update(name="/tmp/abs"), "scenario.name", "letters, digits"),
    (lambda d: d["scenario"].update(name="a\x00b"), "scenario.name", "letters, digits"),
    (lambda d: d["scenario"].update(name="x" * 300), "scenario.name", "1–80"),
    (lambda d: d["scenario"].update(name=""), "scenario.name", "letters, digits"),
    # D9: the engines hold a calendar of one entry per day
    (lambda d: d["scenario"].update(horizon=dt.date(9999, 12, 31)), "scenario.horizon", "SIM_MAX_HORIZON_DAYS"),
    # D4: every weight of a side can be 0 in the same world
    (lambda d: d["parties"]["a"]["issues"]["x"].update(weight={"dist": "choice", "values": [0.0, 1.0]}),
     "parties.a.issues", "can all be zero"),
    (lambda d: d["issues"].append({"key": "y", "low": 0, "high": 1}), "parties.a.issues.y", "every side must value"),
    (lambda d: d["parties"]["a"]["issues"]["x"].update(best=2.0), "parties.a.issues.x.best", "must be in [0, 1]"),
    (lambda d: d["parties"]["a"]["issues"]["x"].update(weight=0.7), "parties.a.issues", "must sum to 1"),
    (lambda d: d["parties"]["a"]["issues"]["x"].update(min=0.8, max=0.2), "parties.a.issues.x.max", "below min"),
    (lambda d: d["parties"].pop("b"), "parties", "exactly two sides"),
    (lambda d: d.update(events=[{"name": "e", "party": "zz", "date": dt.date(2030, 1, 5),
                                 "effects": {"reservation": 0.1}}]), "events[0].party", "unknown value"),
    (lambda d: d.update(events=[{"name": "e", "party": "a", "effects": {"reservation": 0.1}}]),
     "events[0]", "exactly one of date"),
    (lambda d: d["parties"]["a"]["tactic"].update(family="exponential", kappa=0.0), "parties.a.tactic.kappa",
     "kappa > 0"),
])
def test_bad_fields_are_named(mutate, field, problem):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(_mutate(mutate), "bad.toml")
    assert err.value.file == "bad.toml"
    assert err.value.field == field
    assert problem in err.value.problem
    assert str(err.value).startswith(f"bad.toml: {field}: ")


def test_file_errors(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read file"):
        load_scenario(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario\nname = 1")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)
    loop = tmp_path / "loop.toml"
    loop.write_text('extends = "loop.toml"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(loop)


@pytest.mark.parametrize("key", ["summit", "alternate"])
def test_side_keys_that_collide_with_keywords_are_refused(key):
    # D14: closed_by = "summit" could not tell the side from the leaders' summit
    data = split_data()
    data["parties"][key] = data["parties"].pop("a")
    data["scenario"]["first_mover"] = key
    with pytest.raises(ScenarioError, match="reserved"):
        parse_scenario(data, "bad.toml")


def test_a_never_walking_side_may_say_so_with_inf():
    # D15: the code's own default (never walk away) was refused as "must be finite"
    data = split_data()
    data["parties"]["a"]["walk_away_gap"] = float("inf")
    sc = parse_scenario(data, "inf.toml")
    assert sc.parties[0].walk_away_gap.value == float("inf")


def test_a_byte_order_mark_is_read_and_deep_nesting_refused(tmp_path):
    from tests.conftest import ROOT

    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + (ROOT / "scenarios" / "us_japan_2025.toml").read_bytes())
    assert load_scenario(bom).name
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ScenarioError, match="nested"):
        load_scenario(deep)


def test_day_counts_do_not_overflow_for_huge_delays():
    # D3: a ratification delay of 1e19 days wrapped round int64: P(ratified by the horizon) was 0.845
    from sim import batch
    from sim.world import sample_worlds

    data = split_data(r_a=0.1, r_b=0.1, days=60)
    data["parties"]["b"]["ratification"] = {"required": True, "win_set": 0.0, "delay_days": 1e19}
    data["signing"] = {"delay_days": 1.0}
    sc = parse_scenario(data, "delay.toml")
    out = batch.run_worlds(sc, sample_worlds(sc, 0, 0, 200))
    assert (out.agreement_day >= 0).mean() > 0.9
    assert (out.ratified_day < 0).all() and not out.ratification_failed.any()
    data["signing"] = {"delay_days": 1e19}
    data["parties"]["b"]["ratification"]["delay_days"] = 1.0
    sc = parse_scenario(data, "signing.toml")
    out = batch.run_worlds(sc, sample_worlds(sc, 0, 0, 200))
    assert (out.signed_day < 0).all() and (out.ratified_day < 0).all() and not out.ratification_failed.any()


def test_weights_may_be_uncertain_and_are_then_normalised():
    data = split_data()
    data["issues"].append({"key": "y", "low": 0, "high": 1})
    for side, best in (("a", 1.0), ("b", 0.0)):
        data["parties"][side]["issues"]["x"]["weight"] = {"dist": "uniform", "low": 0.2, "high": 0.8}
        data["parties"][side]["issues"]["y"] = {"weight": 0.5, "best": best, "worst": 1 - best}
    sc = parse_scenario(copy.deepcopy(data), "w.toml")
    from sim.world import sample_worlds
    w = sample_worlds(sc, 1, 0, 50)
    assert w.parties[0].weights.sum(axis=1) == pytest.approx(1.0)
