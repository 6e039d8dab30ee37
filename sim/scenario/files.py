"""Scenario files: TOML with an ``extends`` chain, read safely, hashed, and validated.

A file may start with ``extends = "other.toml"`` (relative to itself): it is then the
other file with this file's tables deep-merged over it, so a what-if states only what
it changes.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from pathlib import Path
from typing import Any

from sim.scenario.parse import parse_scenario
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
    """A scenario file's TOML document with its ``extends`` chain merged in, and its sha256
    (what :func:`load_scenario` validates; sweeps edit it and validate each point)."""
    data, raw = _read_toml(Path(path))
    return data, hashlib.sha256(raw).hexdigest()


def _read_toml(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], bytes]:
    """A TOML document with its ``extends`` chain resolved, and the bytes of every file read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        where = f" (extended by {chain[-1]})" if chain else ""
        raise ScenarioError(str(path), "", f"cannot read file ({exc.strerror}){where}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    if "extends" not in data:
        return data, raw
    base_name = data.pop("extends")
    if not isinstance(base_name, str):
        raise ScenarioError(str(path), "extends", f"must be a file name, got {base_name!r}")
    base_path = (path.parent / base_name).resolve()
    if base_path in chain or base_path == path.resolve():
        raise ScenarioError(str(path), "extends", f"{base_name} extends itself (a cycle)")
    base, base_raw = _read_toml(base_path, (*chain, path.resolve()))
    return _merge(base, data), base_raw + raw


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    A file may start with ``extends = "other.toml"`` (relative to itself): it is then
    the other file with this file's tables deep-merged over it, so a what-if states
    only what it changes.

    Raises:
        ScenarioError: if the file is missing, is not valid TOML, or fails validation.
    """
    path = Path(path)
    data, raw = _read_toml(path)
    return parse_scenario(data, str(path), hashlib.sha256(raw).hexdigest())


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
