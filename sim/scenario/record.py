"""The negotiation record: dated observations of what the sides said and did.

A scenario's ``[record]`` (or a file it names with ``[record] file = "..."``) lists:

- ``[[record.positions]]``: a side's reported position on an issue — ``date``, ``side``,
  ``issue``, ``value`` (a number, or a level name for a categorical issue), ``precision``
  (the standard deviation of the reporting error, in the issue's units) and ``source``;
- ``[[record.events]]``: a scenario event that struck on ``date``, or that had not struck
  (``fired = false``) as of ``checked``;
- ``[[record.rounds]]``: whether a scheduled round (a ``[[calendar.meetings]]`` date, or the
  summit) was ``held``, known from its own day or from the day it was ``announced``
  (confirmed or cancelled in advance);
- ``[[record.progress]]``: how far apart the sides still were on ``date``: ``issues_apart``
  (a count, a list of counts, or ``{ min = …, max = … }``) of the issues on which their
  standing offers differ by more than ``tolerance`` (default 0.1) of the issue's range, a
  report that is right with probability ``reliability`` (default 0.8, at most 0.95), with
  ``text`` and ``source``;
- ``[[record.milestones]]``: a milestone (``agreement``, ``signed``, ``ratified``) reached on
  ``date``: worlds must reach it within ``window_days`` (default 7) up to that date, and a
  forecast after it is of the next milestone;
- ``[[record.news]]``: dated reports that move no modelled number (labels for the timeline).

Every entry is validated like the rest of the scenario; errors name the file (the record
file when the record has its own), the field and the problem. A record that contradicts
itself or its scenario (the same position or round twice, an event on a day the scenario
says it cannot strike) is refused, naming both entries.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sim import limits
from sim.negotiation.agenda import Issue
from sim.scenario.reader import Reader
from sim.scenario.spec import (
    MILESTONES,
    EventFact,
    EventSpec,
    Meeting,
    MilestoneFact,
    News,
    Position,
    Progress,
    Record,
    RoundFact,
)

SECTIONS = ("positions", "events", "rounds", "news", "progress", "milestones")
#: The most a single progress report may be trusted: it can then move a world's odds at most 19-fold.
MAX_RELIABILITY = 0.95


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

    total = sum(len(v) for k, v in top.items() if k in SECTIONS and isinstance(v, list))
    if total > limits.MAX_RECORD_ENTRIES:
        raise r.fail(prefix.rstrip(".") or "record", limits.message("a record of", total, limits.MAX_RECORD_ENTRIES,
                                                                    "SIM_MAX_RECORD_ENTRIES") + " entries")

    def day(d: dict[str, Any], key: str, path: str) -> tuple[dt.date, int]:
        date = r.date(d, key, path)
        if not start <= date <= horizon:
            raise r.fail(f"{path}.{key}", f"{date} lies outside the scenario's period {start} .. {horizon}")
        return date, (date - start).days

    positions = []
    seen: dict[tuple[int, int, int], str] = {}
    for path, d in items("positions"):
        d = r.table(d, path, {"date", "side", "issue", "value", "precision", "source"},
                    {"date", "side", "issue", "value", "precision", "source"})
        date, when = day(d, "date", path)
        side = parties.index(r.string(d, "side", path, choices=parties))
        keys = tuple(i.key for i in issues)
        k = keys.index(r.string(d, "issue", path, choices=keys))
        if (when, side, k) in seen:
            raise r.fail(path, f"{seen[when, side, k]} already reports {parties[side]}'s {keys[k]} on {date}: "
                               "one position per side, issue and day (merge them, with the precision they allow)")
        seen[when, side, k] = path
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
            spec = by_name[name]
            if spec.day is not None and spec.day != when:
                raise r.fail(f"{path}.date", f"the scenario dates {name!r} on {start + dt.timedelta(spec.day)}")
            if spec.day is None and not spec.window_from <= when <= spec.window_until:
                raise r.fail(f"{path}.date", f"the scenario lets {name!r} strike only from "
                                             f"{start + dt.timedelta(spec.window_from)} to "
                                             f"{start + dt.timedelta(spec.window_until)}")
            facts.append(EventFact(name, date, when, None, None, r.string(d, "source", path)))
        else:
            if "date" in d:
                raise r.fail(f"{path}.date", "an event that did not strike has no date; give checked = <date>")
            checked, checked_day = day(d, "checked", path)
            facts.append(EventFact(name, None, None, checked, checked_day, r.string(d, "source", path)))

    scheduled = {m.day for m in meetings}
    rounds = []
    round_paths: dict[int, str] = {}
    for path, d in items("rounds"):
        d = r.table(d, path, {"date", "held", "announced", "source"}, {"date", "source"})
        date, when = day(d, "date", path)
        if when not in scheduled:
            raise r.fail(f"{path}.date", f"no scheduled round ([[calendar.meetings]]) nor the summit on {date}")
        if when in round_paths:
            raise r.fail(f"{path}.date", f"{round_paths[when]} already says whether the round of {date} was held")
        round_paths[when] = path
        announced, known = day(d, "announced", path) if "announced" in d else (date, when)
        if known > when:
            raise r.fail(f"{path}.announced", f"is after the round itself ({date}): a round is known to have "
                                              "been held or not by its own day")
        rounds.append(RoundFact(date, when, r.boolean(d, "held", path, True), r.string(d, "source", path),
                                announced, known))

    progress = []
    progress_paths: dict[int, str] = {}
    for path, d in items("progress"):
        d = r.table(d, path, {"date", "issues_apart", "tolerance", "reliability", "text", "source"},
                    {"date", "issues_apart", "text", "source"})
        date, when = day(d, "date", path)
        if when in progress_paths:
            raise r.fail(f"{path}.date", f"{progress_paths[when]} already reports the progress of {date}: "
                                         "one report per day (keep the more precise one)")
        progress_paths[when] = path
        rel = r.number(d, "reliability", path, default=0.8, lo=0.5, hi=MAX_RELIABILITY, dist_ok=False).fixed
        if rel <= 0.5:
            raise r.fail(f"{path}.reliability", "must be above 0.5 (a report no better than a coin moves nothing)")
        progress.append(Progress(date, when, _apart(r, d, path, len(issues)),
                                 r.number(d, "tolerance", path, default=0.1, lo=0.0, hi=1.0, dist_ok=False).fixed,
                                 rel, r.string(d, "text", path), r.string(d, "source", path)))

    order = tuple(MILESTONES)
    named: dict[str, tuple[MilestoneFact, str]] = {}  # name → the milestone and its item's path
    for path, d in items("milestones"):
        d = r.table(d, path, {"name", "date", "window_days", "source"}, {"name", "date", "source"})
        name = r.string(d, "name", path, choices=order)
        if name in named:
            raise r.fail(f"{prefix}milestones", f"{name!r} is reached twice ({named[name][1]} and {path})")
        date, when = day(d, "date", path)
        window = r.number(d, "window_days", path, default=7.0, lo=0.0, hi=60.0, dist_ok=False).fixed
        if not window.is_integer():
            raise r.fail(f"{path}.window_days", f"must be a whole number of days, got {window:g}")
        named[name] = MilestoneFact(name, date, when, int(window), r.string(d, "source", path)), path
    milestones = [m for m, _ in named.values()]
    for k, m in enumerate(order):
        if m in named:
            earlier = [e for e in order[:k] if e not in named]
            if earlier:
                raise r.fail(named[m][1], f"{m!r} is reached, but not {earlier[0]!r} before it: give its date too")
            later = [e for e in order[k + 1:] if e in named and named[e][0].day < named[m][0].day]
            if later:
                raise r.fail(named[later[0]][1], f"{later[0]!r} on {named[later[0]][0].date} comes before {m!r} "
                                                 f"on {named[m][0].date} ({named[m][1]})")

    news = []
    for path, d in items("news"):
        d = r.table(d, path, {"date", "text", "source"}, {"date", "text", "source"})
        date, when = day(d, "date", path)
        news.append(News(date, when, r.string(d, "text", path), r.string(d, "source", path)))
    return Record(r.file, tuple(sorted(positions, key=lambda p: p.day)), tuple(facts),
                  tuple(sorted(rounds, key=lambda x: x.day)), tuple(sorted(news, key=lambda x: x.day)),
                  tuple(sorted(progress, key=lambda x: x.day)),
                  tuple(sorted(milestones, key=lambda x: x.day)))


def _apart(r: Reader, d: dict[str, Any], path: str, n_issues: int) -> tuple[int, ...]:
    """A progress report's ``issues_apart``: the counts it allows, each in 0 .. ``n_issues``."""
    where, raw = f"{path}.issues_apart", d["issues_apart"]

    def count(x: Any, what: str) -> int:
        if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= n_issues:
            raise r.fail(where, f"{what} must be a whole number of issues from 0 to {n_issues}, got {x!r}")
        return x

    if isinstance(raw, dict):
        r.table(raw, where, {"min", "max"})
        if not raw:
            raise r.fail(where, "give min, max or both")
        lo, hi = count(raw.get("min", 0), "min"), count(raw.get("max", n_issues), "max")
        if lo > hi:
            raise r.fail(where, f"min ({lo}) is above max ({hi})")
        allowed = tuple(range(lo, hi + 1))
    elif isinstance(raw, list):
        if not raw:
            raise r.fail(where, "must list at least one count")
        allowed = tuple(sorted({count(x, "each count") for x in raw}))
    else:
        allowed = (count(raw, "the count"),)
    if len(allowed) == n_issues + 1:
        raise r.fail(where, f"allows every count from 0 to {n_issues}: the report says nothing")
    return allowed


def _value(r: Reader, d: dict[str, Any], path: str, issue: Issue) -> float:
    """A position's value: a number in the issue's range, or a level's name (or index)."""
    raw = d["value"]
    if issue.levels and isinstance(raw, str):
        if raw not in issue.levels:
            raise r.fail(f"{path}.value", f"unknown level {raw!r} of {issue.key} (expected one of: "
                                          f"{', '.join(issue.levels)})")
        return float(issue.levels.index(raw))
    value = r.number(d, "value", path, lo=issue.low, hi=issue.high, dist_ok=False).fixed
    if issue.levels and not value.is_integer():
        raise r.fail(f"{path}.value", f"{issue.key} has levels ({', '.join(issue.levels)}): give a level's name or "
                                      f"its whole index, not {value:g}")
    if not math.isfinite(value):  # pragma: no cover — refused by the reader
        raise r.fail(f"{path}.value", "must be finite")
    return value
