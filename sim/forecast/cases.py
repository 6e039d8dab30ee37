"""Backtesting cases: a scenario with its record, the dates to forecast from, and what happened.

A case file is a scenario file (it may ``extends`` another) with a ``[case]`` table::

    [case]
    title = "US–Korea, July round"
    forecast_dates = [2025-07-14, 2025-07-23, 2025-07-28]
    base_rate = { p = 0.53, source = "facts.md, reference class: 8 of 15 partners ..." }

    [[case.outcomes]]               # one per real instance (a reference class lists several)
    label = "Korea"
    agreement = 2025-07-30          # the day a milestone was reached ...
    signed = { not_by = 2025-10-25 }  # ... or a day by which it had not been
    terms = { investment = 350, tariff = 15 }   # realised terms, optional

The scored event is the scenario's headline milestone reached on or before its deadline
(the summit date); every outcome must settle it, and every forecast date must come before
the headline milestone was reached (a forecast is made while the talks are open).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.scenario import MILESTONES, Scenario, ScenarioError, parse_scenario, read_document
from sim.scenario.reader import Reader


@dataclass(frozen=True)
class Outcome:
    """What happened in one real instance of a case.

    Attributes:
        label: Which instance (a partner of a reference class), or the case's title.
        reached: Milestone → the day (since the scenario's start) it was reached.
        not_by: Milestone → a day by which it had not been reached.
        terms: Issue → the value agreed.
    """

    label: str
    reached: dict[str, int]
    not_by: dict[str, int]
    terms: dict[str, float]

    def headline(self, scenario: Scenario) -> bool:
        """Whether the headline milestone was reached on or before the scenario's deadline."""
        day = self.reached.get(scenario.headline)
        return day is not None and day <= scenario.summit_day


@dataclass(frozen=True)
class Case:
    """A backtesting case (see the module docstring)."""

    path: str
    title: str
    scenario: Scenario
    forecast_dates: tuple[dt.date, ...]
    base_rate: float
    base_rate_source: str
    outcomes: tuple[Outcome, ...]
    #: Cases that share a deadline (or are one talk) form a group: a cross-validated backtest
    #: leaves the whole group out when it learns the priors that forecast any of them.
    group: str = ""
    sources: tuple[str, ...] = ()

    @property
    def document(self) -> dict[str, Any]:
        """The scenario's document, which priors learned across cases rebuild it from."""
        return self.scenario.document


def load_case(path: str | Path) -> Case:
    """Read and validate a case file.

    Raises:
        ScenarioError: naming the file, the field and the problem.
    """
    document, sha = read_document(path)
    file = str(path)
    if "case" not in document:
        raise ScenarioError(file, "case", "is required: a case file is a scenario with a [case] table")
    raw = document.pop("case")
    return case_from_document(document, raw, file, sha)


def case_from_document(document: dict[str, Any], raw: Any, file: str, sha: str, where: str = "case",
                       group: str | None = None, sources: tuple[str, ...] = ()) -> Case:
    """A case from a scenario document and its ``[case]`` table (``where`` names that table in
    errors: ``case`` in a case file, ``cases[k]`` in the library's table).

    Raises:
        ScenarioError: naming the file, the field and the problem.
    """
    scenario = parse_scenario(document, file, sha)
    r = _Prefixed(file, where)
    c = r.table(raw, "case", {"title", "forecast_dates", "base_rate", "outcomes", "group"},
                {"forecast_dates", "base_rate", "outcomes"})
    title = r.string(c, "title", "case", default=scenario.title)
    dates = c["forecast_dates"]
    if not isinstance(dates, list) or not dates:
        raise r.fail("case.forecast_dates", "must be a non-empty array of dates")
    forecast_dates = tuple(_date(r, d, f"case.forecast_dates[{k}]", scenario) for k, d in enumerate(dates))
    for k, d in enumerate(forecast_dates):
        if d >= scenario.deadline:  # N3: a forecast after the deadline it forecasts scores as perfect
            raise r.fail(f"case.forecast_dates[{k}]", f"{d} is on or after the deadline {scenario.deadline}: a "
                                                      "forecast is made before the question is settled")
        if d in forecast_dates[:k]:
            raise r.fail(f"case.forecast_dates[{k}]", f"{d} is listed twice (it would count twice)")
    b = r.table(c["base_rate"], "case.base_rate", {"p", "source"}, {"p", "source"})
    base_rate = r.number(b, "p", "case.base_rate", lo=0.0, hi=1.0, dist_ok=False).fixed
    source = r.string(b, "source", "case.base_rate")
    if not isinstance(c["outcomes"], list) or not c["outcomes"]:
        raise r.fail("case.outcomes", "must be a non-empty array of [[case.outcomes]] tables")
    outcomes = tuple(_outcome(r, o, f"case.outcomes[{k}]", scenario, title, forecast_dates)
                     for k, o in enumerate(c["outcomes"]))
    group = group or r.string(c, "group", "case", default=scenario.deadline.isoformat())
    return Case(file, title, scenario, forecast_dates, base_rate, source, outcomes, group, sources)


class _Prefixed(Reader):
    """A reader whose errors name the case's table as ``where`` (``cases[3]`` in the library)."""

    def __init__(self, file: str, where: str) -> None:
        super().__init__(file)
        self.where = where

    def fail(self, path: str, problem: str) -> ScenarioError:
        if self.where != "case" and path.startswith("case.outcomes[0]"):  # a library row is its one outcome
            path = path.replace("case.outcomes[0]", "case", 1)
        if path == "case" or path.startswith("case."):
            path = self.where + path[4:]
        return super().fail(path, problem)


def _date(r: Reader, raw: Any, path: str, scenario: Scenario) -> dt.date:
    """A date inside the scenario's period."""
    if isinstance(raw, dt.datetime) or not isinstance(raw, dt.date):
        raise r.fail(path, f"must be a date like 2025-07-30 (no quotes), got {raw!r}")
    if not scenario.start <= raw <= scenario.horizon:
        raise r.fail(path, f"{raw} lies outside the scenario's period {scenario.start} .. {scenario.horizon}")
    return raw


def _outcome(r: Reader, raw: Any, path: str, sc: Scenario, title: str, dates: tuple[dt.date, ...]) -> Outcome:
    o = r.table(raw, path, {"label", *MILESTONES, "terms"})
    reached: dict[str, int] = {}
    not_by: dict[str, int] = {}
    for m in MILESTONES:
        if m not in o:
            continue
        value = o[m]
        if isinstance(value, dict):
            t = r.table(value, f"{path}.{m}", {"not_by"}, {"not_by"})
            not_by[m] = (_date(r, t["not_by"], f"{path}.{m}.not_by", sc) - sc.start).days
        else:
            reached[m] = (_date(r, value, f"{path}.{m}", sc) - sc.start).days
    order = list(MILESTONES)
    for k, m in enumerate(order):  # milestones in their order: signed after agreed, ratified after signed
        for later in order[k + 1:]:
            if later in reached and ((m in not_by and not_by[m] >= reached[later])
                                     or (m in reached and reached[m] > reached[later])):
                raise r.fail(f"{path}.{later}", f"{later} on {sc.date_of(reached[later])} comes before {m} "
                                                f"({'not by ' if m in not_by else ''}"
                                                f"{sc.date_of(not_by.get(m, reached.get(m, 0)))})")
    head = sc.headline
    if head not in reached and not_by.get(head, -1) < sc.summit_day:
        raise r.fail(f"{path}.{head}", f"the headline milestone must be settled: a date, or not_by on or after "
                                       f"the deadline {sc.deadline}")
    for k, date in enumerate(dates):
        if head in reached and (date - sc.start).days >= reached[head]:
            raise r.fail(f"case.forecast_dates[{k}]", f"{date} is on or after the {MILESTONES[head]} of "
                                                      f"{r.string(o, 'label', path, default=title)} "
                                                      f"({sc.date_of(reached[head])}): nothing left to forecast")
    terms = r.table(o.get("terms", {}), f"{path}.terms", set(sc.issue_keys))
    values = {}
    for key in terms:
        issue = sc.issues[sc.issue_keys.index(key)]
        if issue.levels and isinstance(terms[key], str):  # a category by its name
            values[key] = float(issue.levels.index(r.string(terms, key, f"{path}.terms", choices=issue.levels)))
        else:
            values[key] = r.number(terms, key, f"{path}.terms", lo=issue.low, hi=issue.high, dist_ok=False).fixed
    return Outcome(r.string(o, "label", path, default=title), reached, not_by, values)
