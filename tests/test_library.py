"""The case library: every row builds a valid case, rows are checked with errors that name the
file, the row and the field, and base rates are out of the case's group."""

import dataclasses

import pytest

from sim.forecast.library import build_document, load_library, with_base_rates
from sim.scenario import ScenarioError
from tests.conftest import ROOT, library_table

LIBRARY = ROOT / "scenarios" / "library"
ROW = library_table([{"id": '"x"', "partner": '"X"', "template": '"tariff_threat"', "start": "2025-07-07",
                      "deadline": "2025-08-01", "range": "[0, 25]", "agreement": "2025-07-30",
                      "sources": '["a report"]'}], before_deadline="[14, 2]", after_start="[]")


def test_the_shipped_library_has_thirty_sourced_cases_in_groups():
    cases = load_library()
    assert len(cases) >= 30
    assert all(c.sources and c.group for c in cases)
    assert len({c.group for c in cases}) >= 5
    assert sum(len(c.forecast_dates) for c in cases) >= 60
    happened = [o.headline(c.scenario) for c in cases for o in c.outcomes]
    assert 0 < sum(happened) < len(happened)  # both kinds of outcome


def test_a_row_fills_its_template_in():
    cases = {c.path.rsplit("#", 1)[1]: c for c in load_library()}
    eu = cases["eu_aug1_2025"]
    tariff = eu.scenario.issues[0]
    assert (tariff.low, tariff.high) == (0, 30)
    _, partner = eu.scenario.parties
    assert partner.label == "European Union" and eu.scenario.deadline.isoformat() == "2025-08-01"
    assert eu.outcomes[0].terms == {"tariff": 15.0}
    doc = eu.document
    assert doc["parties"]["us"]["issues"]["tariff"]["best"] == 30  # the template's "high", the row's threat
    assert doc["parties"]["partner"]["issues"]["tariff"]["best"] == 0


@pytest.mark.parametrize("edit, field, problem", [
    (lambda t: t.replace('sources = ["a report"]', "sources = []"), "cases[0].sources", "at least one source"),
    (lambda t: t.replace('template = "tariff_threat"', 'template = "nothing"'), "cases[0].template", "no template"),
    (lambda t: t.replace("range = [0, 25]", "range = [25, 0]"), "cases[0].range", "opening below threat"),
    (lambda t: t.replace("range = [0, 25]\n", ""), "cases[0].range", "needs range"),
    (lambda t: t.replace("agreement = 2025-07-30", 'agreement = "soon"'), "cases[0].agreement", "must be a date"),
    (lambda t: t.replace("agreement = 2025-07-30", "agreement = 2026-09-30"), "cases[0].agreement",
     "outside the scenario's period"),
    (lambda t: t.replace('partner = "X"', 'partner = "X"\ncolour = "red"'), "cases[0].colour", "unknown key"),
    (lambda t: t + t[t.index("[[cases]]"):], "cases[1].id", "also row cases[0]"),
    (lambda t: t.replace("deadline = 2025-08-01", "deadline = 2025-07-01"), "scenario.deadline", "must be after"),
    (lambda t: t.replace("forecast_days_before_deadline = [14, 2]", "forecast_days_before_deadline = [1.5]"),
     "library.forecast_days_before_deadline", "whole numbers"),
])
def test_bad_rows_are_named(tmp_path, edit, field, problem):
    (tmp_path / "templates").mkdir()
    for f in (LIBRARY / "templates").glob("*.toml"):
        (tmp_path / "templates" / f.name).write_text(f.read_text())
    path = tmp_path / "cases.toml"
    path.write_text(edit(ROW))
    with pytest.raises(ScenarioError) as err:
        load_library(path)
    assert err.value.file == str(path)
    assert err.value.field == field and problem in err.value.problem


def test_a_base_rate_does_not_know_its_own_outcome():
    cases = load_library()
    case = cases[0]
    flipped = dataclasses.replace(case, outcomes=tuple(dataclasses.replace(o, reached={}, not_by={"agreement": 10**4})
                                                       for o in case.outcomes))
    again = with_base_rates([flipped, *cases[1:]])
    assert again[0].base_rate == case.base_rate
    assert all(a.base_rate == b.base_rate for a, b in zip(again[1:], cases[1:], strict=True)
               if a.group == case.group)  # nor do the others of its group


def test_build_document_leaves_the_template_unchanged():
    import tomllib

    template = tomllib.loads((LIBRARY / "templates" / "tariff_threat.toml").read_text())
    before = repr(template)
    doc = build_document(template, {"id": "z", "partner": "Z", "start": __import__("datetime").date(2025, 1, 1),
                                    "deadline": __import__("datetime").date(2025, 2, 1), "range": [5, 9]}, 30)
    assert repr(template) == before and "template" not in doc
    assert doc["issues"][0]["low"] == 5 and doc["scenario"]["horizon"].isoformat() == "2025-03-03"
