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
    (lambda d: d["scenario"].update(deadline=dt.date(2029, 1, 1)), "scenario.deadline", "before the start"),
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
