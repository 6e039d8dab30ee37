"""Dotted paths to a scenario's numeric fields (``parties.us.tactic.beta``; a side's key
alone is short for ``parties.<side>``): resolving them, suggesting close ones, and writing
values at them into a scenario document (what sweeps and the page do)."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Sequence
from typing import Any

from sim.scenario.spec import Bounds, Param, Scenario, ScenarioError


def resolve_path(numbers: dict[str, Bounds], path: str) -> str | None:
    """The full dotted path of a numeric field, accepting a side's key as shorthand for
    ``parties.<side>`` (``us.tactic.beta``); None if no such field exists."""
    for candidate in (path, f"parties.{path}"):
        if candidate in numbers:
            return candidate
    return None


def unknown_path_message(numbers: dict[str, Bounds], path: str) -> str:
    """'unknown parameter' with the closest valid paths, for error messages."""
    return f"unknown parameter {path!r}{_closest(list(numbers), path)}"


def _closest(paths: list[str], path: str) -> str:
    """'; did you mean ...?' with the valid paths closest to ``path`` (or where to list them)."""
    close = difflib.get_close_matches(path, paths, n=3, cutoff=0.5)
    close += difflib.get_close_matches(f"parties.{path}", paths, n=3, cutoff=0.5)
    return f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else " (see 'python -m sim params <scenario>')"


def split_path(path: str) -> list[str]:
    """The parts of a dotted path: ``events[2].hazard`` → ``["events", "[2]", "hazard"]``."""
    return re.findall(r"[^.\[\]]+|\[\d+\]", path)


def _with(node: Any, parts: list[str], value: Any) -> Any:
    """A copy of ``node`` with ``value`` at ``parts``: only the tables and arrays along the path
    are copied, the rest is shared (documents are never modified in place)."""
    part, rest = parts[0], parts[1:]
    if part.startswith("["):
        items = list(node)
        k = int(part[1:-1])
        items[k] = _with(items[k], rest, value) if rest else value
        return items
    table = dict(node)
    if rest:
        child = table.get(part)
        if not isinstance(child, dict | list) or (isinstance(child, dict) and "dist" in child):
            child = [] if rest[0].startswith("[") else {}  # a distribution or a default is replaced
        table[part] = _with(child, rest, value)
    else:
        table[part] = value
    return table


def with_values(document: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A scenario document with each dotted path set to its value (a number, a date, a
    distribution table...), replacing what was there; ``document`` itself is not modified.
    Validate the result with :func:`~sim.scenario.parse.parse_scenario`."""
    for path, value in values.items():
        document = _with(document, split_path(path), value)
    return document


def params_by_path(scenario: Scenario) -> dict[str, Param]:
    """Every numeric parameter of a scenario (fixed or uncertain) by its dotted path."""
    from dataclasses import fields, is_dataclass

    out: dict[str, Param] = {}

    def walk(node: Any) -> None:
        if isinstance(node, Param):
            out[node.path] = node
        elif isinstance(node, tuple | list):
            for item in node:
                walk(item)
        elif is_dataclass(node):
            for f in fields(node):
                walk(getattr(node, f.name))

    walk(scenario)
    return out


#: What a parameter's path means, in words (the last part of a side's, or a scenario-wide one).
FIELD_WORDS = {
    "reservation": "reservation value", "deadline_offset_days": "own deadline (days after the summit)",
    "walk_away_gap": "walk-away gap", "deadline_cost": "cost of missing the deadline",
    "deadline_window_days": "feels the deadline (days ahead)", "tactic.beta": "concession pace β",
    "tactic.kappa": "initial concession κ", "tactic.spread": "spreads concessions (0 logrolls, 1 evenly)",
    "tactic.reciprocity": "reciprocity", "tactic.min_step": "minimum step",
    "ratification.win_set": "domestic win-set", "ratification.delay_days": "days to ratify",
    "beliefs.weight_noise": "noise in its beliefs", "beliefs.opponent_reservation": "believed opponent reservation",
    "calendar.contact_rate": "informal contacts (chance per day)", "summit.max_gap": "leaders' bridge at the summit",
    "summit.probability": "chance the summit takes place", "signing.delay_days": "days from agreement to a signed text",
}


def param_label(scenario: Scenario, path: str) -> str:
    """A parameter's path in words, with the scenario's own labels: a declared factor's label,
    or the side's and the issue's labels with what the field is."""
    for f in scenario.factors:
        if f.path == path and f.label:
            return f.label
    parts = path.split(".")
    side = ""
    if parts[0] == "parties" and len(parts) > 2:
        sides = {p.key: p.label for p in scenario.parties}
        side, parts = sides.get(parts[1], parts[1]) + ": ", parts[2:]
    if parts[0] == "issues" and len(parts) == 3:
        issues = {i.key: i.label for i in scenario.issues}
        what = {"max": "ceiling", "min": "floor", "weight": "weight", "best": "best value", "worst": "worst value"}
        return f"{side}{issues.get(parts[1], parts[1])}: {what.get(parts[2], parts[2])}"
    rest = ".".join(parts)
    return f"{side}{FIELD_WORDS.get(rest, rest)}"


#: The summit's date, which ``--set`` and the page's settings fix like a parameter (a date).
SUMMIT = "scenario.deadline"


def fixed(document: dict[str, Any], scenario: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """``document`` (``scenario``'s) with parameters fixed at values, as ``--set PATH=VALUE`` and the
    page's settings fix them: each path a numeric parameter of the scenario (a number) or
    :data:`SUMMIT` (a date). Validate the result with :func:`~sim.scenario.parse.parse_scenario`.

    Raises:
        ScenarioError: naming the path, for one that is not a parameter or a value of the wrong type.
    """
    params = params_by_path(scenario)
    for path, value in values.items():
        if path == SUMMIT:
            if not isinstance(value, dt.date):
                raise ScenarioError(scenario.path, path, f"the summit's date is a date like 2025-10-29, not {value!r}")
        elif path not in params:
            hint = _closest(list(params), path)
            raise ScenarioError(scenario.path, path, f"is not a parameter of the scenario{hint}")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(scenario.path, path, f"must be a number, not {value!r}")
    return with_values(document, values)


def with_news(document: dict[str, Any], news: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """``document`` with record items added after its record's own (a what-if's news: each a
    record section and its table); an event that strikes supersedes its "not struck yet" entries
    up to that day. Validate the result with :func:`~sim.scenario.parse.parse_scenario`."""
    record = dict(document.get("record") or {})
    for section, entry in news:
        kept = record.get(section, [])
        when = entry.get("date") if isinstance(entry, dict) else None
        if section == "events" and isinstance(when, dt.date) and isinstance(kept, list):
            kept = [e for e in kept if not (isinstance(e, dict) and e.get("name") == entry.get("name")
                                            and e.get("fired") is False
                                            and isinstance(checked := e.get("checked", when), dt.date)
                                            and checked <= when)]
        record[section] = [*kept, entry]
    return document | {"record": record}
