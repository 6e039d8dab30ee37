"""Dotted paths to a scenario's numeric fields (``parties.us.tactic.beta``; a side's key
alone is short for ``parties.<side>``): resolving them, suggesting close ones, and writing
values at them into a scenario document (what sweeps and the page do)."""

from __future__ import annotations

import difflib
import re
from typing import Any

from sim.scenario.spec import Bounds, Param, Scenario


def resolve_path(numbers: dict[str, Bounds], path: str) -> str | None:
    """The full dotted path of a numeric field, accepting a side's key as shorthand for
    ``parties.<side>`` (``us.tactic.beta``); None if no such field exists."""
    for candidate in (path, f"parties.{path}"):
        if candidate in numbers:
            return candidate
    return None


def unknown_path_message(numbers: dict[str, Bounds], path: str) -> str:
    """'unknown parameter' with the closest valid paths, for error messages."""
    close = difflib.get_close_matches(path, list(numbers), n=3, cutoff=0.5)
    close += difflib.get_close_matches(f"parties.{path}", list(numbers), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else " (see 'python -m sim params <scenario>')"
    return f"unknown parameter {path!r}{hint}"


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
