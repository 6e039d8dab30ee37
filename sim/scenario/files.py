"""Scenario files: TOML with an ``extends`` chain, read safely, hashed, and validated.

A file may start with ``extends = "other.toml"`` (relative to itself): it is then the
other file with this file's tables deep-merged over it, so a what-if states only what
it changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sim.scenario.parse import parse_scenario
from sim.scenario.paths import fixed, with_news
from sim.scenario.record import SECTIONS
from sim.scenario.spec import Scenario, ScenarioError


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into ``base``: tables merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "dist" not in value:
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_document(path: str | Path) -> tuple[dict[str, Any], str]:
    """A scenario file's TOML document with its ``extends`` chain merged in and its record
    file inlined, and the sha256 of every file read (what :func:`load_scenario` validates;
    sweeps edit it and validate each point)."""
    data, raw = _read_toml(Path(path))
    return data, hashlib.sha256(raw).hexdigest()


#: Largest scenario or record file read, in bytes (SIM_MAX_FILE_MB raises it).
MAX_FILE_BYTES = int(float(os.environ.get("SIM_MAX_FILE_MB", "64")) * 2**20)


def _read_bytes(path: Path, context: str) -> bytes:
    """A file's bytes, refusing what is not a regular file (a FIFO or a device would block or
    never end) and files over :data:`MAX_FILE_BYTES`."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe or a device?)"
            raise ScenarioError(str(path), "", f"cannot read file: {kind}{context}")
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(str(path), "", f"file is {info.st_size / 2**20:,.0f} MiB, over the "
                                f"{MAX_FILE_BYTES / 2**20:,.0f} MiB limit (set SIM_MAX_FILE_MB to read it){context}")
        return path.read_bytes()
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read file ({exc.strerror}){context}") from None


def _parse_toml(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))  # -sig: a byte-order mark is harmless
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(str(path), "", "not valid TOML: values nested too deeply") from None


def _read_toml(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], bytes]:
    """A TOML document with its ``extends`` chain resolved and its record file inlined, and
    the bytes of every file read."""
    raw = _read_bytes(path, f" (extended by {chain[-1]})" if chain else "")
    data = _parse_toml(path, raw)
    data, raw = _inline_record(path, data, raw)
    if "extends" not in data:
        return data, raw
    base_name = data.pop("extends")
    if not isinstance(base_name, str) or not base_name:
        raise ScenarioError(str(path), "extends", f"must be a file name, got {base_name!r}")
    base_path = (path.parent / base_name).resolve()
    if base_path in chain or base_path == path.resolve():
        loop = " → ".join(p.name for p in (*chain, path.resolve(), base_path))
        raise ScenarioError(str(path), "extends", f"{base_name} leads back to this file (a cycle: {loop})")
    base, base_raw = _read_toml(base_path, (*chain, path.resolve()))
    return _merge(base, data), base_raw + raw


def _inline_record(path: Path, data: dict[str, Any], raw: bytes) -> tuple[dict[str, Any], bytes]:
    """Replace ``[record] file = "..."`` (relative to ``path``) by that file's sections."""
    record = data.get("record")
    if not isinstance(record, dict) or "file" not in record:
        return data, raw
    name = record["file"]
    if not isinstance(name, str) or not name:
        raise ScenarioError(str(path), "record.file", f"must be a file name, got {name!r}")
    if set(record) != {"file"}:
        raise ScenarioError(str(path), "record", "give either file = ... or the record's tables, not both")
    record_path = path.parent / name
    record_raw = _read_bytes(record_path, f" (the record of {path})")
    return data | {"record": _parse_toml(record_path, record_raw) | {"file": str(record_path)}}, raw + record_raw


def load_scenario(path: str | Path, values: Mapping[str, Any] | None = None,
                  news: str | Path | None = None) -> Scenario:
    """Read and validate a scenario TOML file.

    A file may start with ``extends = "other.toml"`` (relative to itself): it is then
    the other file with this file's tables deep-merged over it, so a what-if states
    only what it changes.

    Args:
        path: The file.
        values: Parameters fixed at values (``--set PATH=VALUE``; see :func:`sim.scenario.paths.fixed`).
        news: A news file (:func:`read_news`, ``--news``): record items added to the record; the
            scenario's sha256 then covers it too.

    Raises:
        ScenarioError: if the file is missing, is not valid TOML, or fails validation (with
            the values and the news written in).
    """
    path = Path(path)
    data, sha = read_document(path)
    if news is not None:
        items, raw = read_news(news)
        data, sha = with_news(data, items), hashlib.sha256(bytes.fromhex(sha) + raw).hexdigest()
    try:
        scenario = parse_scenario(data, str(path), sha)
        return parse_scenario(fixed(data, scenario, dict(values)), str(path), sha) if values else scenario
    except ScenarioError as exc:
        if news is None:
            raise
        raise _in_news(exc, data, items, Path(news)) from None


def _in_news(exc: ScenarioError, data: dict[str, Any], items: list[tuple[str, dict[str, Any]]],
             news: Path) -> ScenarioError:
    """A record error from a news file's item, named by the news file and the item's place in it
    (the items come last in their sections); any other, with the news file mentioned."""
    match = re.fullmatch(r"(?:record\.)?(\w+)\[(\d+)\](.*)", exc.field)
    if match:
        section, k, rest = match.group(1), int(match.group(2)), match.group(3)
        added = sum(1 for s, _ in items if s == section)
        merged = (data.get("record") or {}).get(section, [])
        first = len(merged) - added if isinstance(merged, list) else 0
        if added and k >= first:
            return ScenarioError(str(news), f"{section}[{k - first}]{rest}", exc.problem)
    return ScenarioError(exc.file, exc.field, f"{exc.problem} (with the record items of {news})")


def read_news(path: str | Path) -> tuple[list[tuple[str, dict[str, Any]]], bytes]:
    """A news file (``forecast --news``, or the page's what-if download): record items to add to a
    scenario's record, as ``[[positions]]``, ``[[progress]]``, ``[[events]]``, ``[[rounds]]``,
    ``[[news]]`` or ``[[milestones]]`` tables written as in a record (validated with it). Returns
    the items (section, table) and the file's bytes."""
    path = Path(path)
    raw = _read_bytes(path, " (a news file)")
    data = _parse_toml(path, raw)
    items: list[tuple[str, dict[str, Any]]] = []
    for section, entries in data.items():
        if section not in SECTIONS:
            raise ScenarioError(str(path), section, f"is not a record section (expected: {', '.join(SECTIONS)})")
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ScenarioError(str(path), section, f"must be an array of [[{section}]] tables")
        items += [(section, e) for e in entries]
    if not items:
        raise ScenarioError(str(path), "", f"no record items (expected [[{']], [['.join(SECTIONS)}]] tables)")
    return items, raw


def toml_value(value: Any) -> str:
    """A value as TOML (what the project writes: news files, learned priors): a string, a number
    (full precision; nan), a boolean, a date, an array, or an inline table."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    x = float(value)
    return "nan" if math.isnan(x) else repr(x)


def scenario_dirs() -> list[Path]:
    """Where scenario files are looked up by name: ``$SIM_SCENARIOS`` if set, ``./scenarios``
    (the working directory), and the source checkout's ``scenarios/`` (an installed package
    keeps working from any folder that has them)."""
    dirs = [Path(os.environ["SIM_SCENARIOS"])] if os.environ.get("SIM_SCENARIOS") else []
    dirs += [Path.cwd() / "scenarios", Path(__file__).resolve().parents[2] / "scenarios"]
    out: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def scenario_files() -> dict[str, Path]:
    """The shipped scenarios by file name (the first of :func:`scenario_dirs` that has each)."""
    found: dict[str, Path] = {}
    for d in scenario_dirs():
        for p in sorted(d.glob("*.toml")):
            found.setdefault(p.name, p)
    return dict(sorted(found.items()))


def find_scenario(name: str | Path) -> Path:
    """A scenario file by path, or by bare file name in :func:`scenario_dirs`.

    Raises:
        ScenarioError: if there is no such file.
    """
    path = Path(name)
    if path.exists() or path.parent != Path("."):
        return path
    shipped = scenario_files()
    if path.name in shipped:
        return shipped[path.name]
    raise ScenarioError(str(name), "", "no such file (nor a scenario of that name in: "
                        + ", ".join(str(d) for d in scenario_dirs()) + ")")
