"""The negotiation record: dated observations of what the sides said and did.

A scenario's ``[record]`` (or a file it names with ``[record] file = "..."``) lists:

- ``[[record.positions]]``: a side's reported position on an issue — ``date``, ``side``,
  ``issue``, ``value`` (a number, or a level name for a categorical issue), ``precision``
  (the standard deviation of the reporting error, in the issue's units) and ``source``;
- ``[[record.events]]``: a scenario event that struck on ``date``, or that had not struck
  (``fired = false``) as of ``checked``;
- ``[[record.rounds]]``: whether a scheduled round (a ``[[calendar.meetings]]`` date) was
  ``held``;
- ``[[record.news]]``: dated reports that move no modelled number (labels for the timeline).

Every entry is validated like the rest of the scenario; errors name the file (the record
file when the record has its own), the field and the problem.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sim.negotiation.agenda import Issue
from sim.scenario.reader import Reader
from sim.scenario.spec import EventFact, EventSpec, Meeting, News, Position, Record, RoundFact

SECTIONS = ("positions", "events", "rounds", "news")


def parse_record(raw: Any, scenario_file: str, parties: tuple[str, ...], issues: tuple[Issue, ...],
                 events: tuple[EventSpec, ...], meetings: list[Meeting], start: dt.date,
                 horizon: dt.date) -> Record:
    """Validate a ``[record]`` table (inlined from its own file, if it named one)."""
    own_file = isinstance(raw, dict) and "file" in raw
    r = Reader(str(raw["file"]) if own_file else scenario_file)
    prefix = "" if own_file else "record."
    top = r.table(raw, "record" if not own_file else "", {"file", *SECTIONS})

    def items(section: str) -> list[tuple[str, dict[str, Any]]]:
        entries = top.get(section, [])
        if not isinstance(entries, list):
            raise r.fail(f"{prefix}{section}", f"must be an array of [[{prefix}{section}]] tables")
        return [(f"{prefix}{section}[{n}]", e) for n, e in enumerate(entries)]

    def day(d: dict[str, Any], key: str, path: str) -> tuple[dt.date, int]:
        date = r.date(d, key, path)
        if not start <= date <= horizon:
            raise r.fail(f"{path}.{key}", f"{date} lies outside the scenario's period {start} .. {horizon}")
        return date, (date - start).days

    positions = []
    for path, d in items("positions"):
        d = r.table(d, path, {"date", "side", "issue", "value", "precision", "source"},
                    {"date", "side", "issue", "value", "precision", "source"})
        date, when = day(d, "date", path)
        side = parties.index(r.string(d, "side", path, choices=parties))
        keys = tuple(i.key for i in issues)
        k = keys.index(r.string(d, "issue", path, choices=keys))
        positions.append(Position(date, when, side, k, _value(r, d, path, issues[k]),
                                  r.number(d, "precision", path, positive=True, lo=0.0, dist_ok=False).fixed,
                                  r.string(d, "source", path)))

    by_name = {e.name: e for e in events}
    facts: list[EventFact] = []
    for path, d in items("events"):
        d = r.table(d, path, {"name", "date", "fired", "checked", "source"}, {"name", "source"})
        name = r.string(d, "name", path, choices=tuple(by_name))
        if name in {f.name for f in facts}:
            raise r.fail(f"{path}.name", f"event {name!r} is already in the record")
        if r.boolean(d, "fired", path, True):
            if "checked" in d:
                raise r.fail(f"{path}.checked", "goes with fired = false (the date it was known not to have struck)")
            date, when = day(d, "date", path)
            scheduled_day = by_name[name].day
            if scheduled_day is not None and scheduled_day != when:
                raise r.fail(f"{path}.date", f"the scenario dates {name!r} on {start + dt.timedelta(scheduled_day)}")
            facts.append(EventFact(name, date, when, None, None, r.string(d, "source", path)))
        else:
            if "date" in d:
                raise r.fail(f"{path}.date", "an event that did not strike has no date; give checked = <date>")
            checked, checked_day = day(d, "checked", path)
            facts.append(EventFact(name, None, None, checked, checked_day, r.string(d, "source", path)))

    scheduled = {m.day for m in meetings}
    rounds = []
    for path, d in items("rounds"):
        d = r.table(d, path, {"date", "held", "source"}, {"date", "source"})
        date, when = day(d, "date", path)
        if when not in scheduled:
            raise r.fail(f"{path}.date", f"no scheduled round ([[calendar.meetings]]) on {date}")
        rounds.append(RoundFact(date, when, r.boolean(d, "held", path, True), r.string(d, "source", path)))

    news = []
    for path, d in items("news"):
        d = r.table(d, path, {"date", "text", "source"}, {"date", "text", "source"})
        date, when = day(d, "date", path)
        news.append(News(date, when, r.string(d, "text", path), r.string(d, "source", path)))
    return Record(r.file, tuple(sorted(positions, key=lambda p: p.day)), tuple(facts),
                  tuple(sorted(rounds, key=lambda x: x.day)), tuple(sorted(news, key=lambda x: x.day)))


def _value(r: Reader, d: dict[str, Any], path: str, issue: Issue) -> float:
    """A position's value: a number in the issue's range, or a level's name (or index)."""
    raw = d["value"]
    if issue.levels and isinstance(raw, str):
        if raw not in issue.levels:
            raise r.fail(f"{path}.value", f"unknown level {raw!r} of {issue.key} (expected one of: "
                                          f"{', '.join(issue.levels)})")
        return float(issue.levels.index(raw))
    value = r.number(d, "value", path, lo=issue.low, hi=issue.high, dist_ok=False).fixed
    if not math.isfinite(value):  # pragma: no cover — refused by the reader
        raise r.fail(f"{path}.value", "must be finite")
    return value
