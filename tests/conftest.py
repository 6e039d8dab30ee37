"""Shared fixtures: the shipped scenarios and a one-issue split-the-pie scenario builder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from sim.scenario import Scenario, load_scenario, parse_scenario
from sim.validation import split_document

# no per-example deadlines: these machines are shared and noisy; speed is measured in benchmarks/
settings.register_profile("default", deadline=None)
settings.load_profile("default")

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.fixture(scope="session")
def flagship() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "us_korea_2025.toml")


def cli(*args: str, cwd: Path = ROOT, **kw: Any) -> subprocess.CompletedProcess[str]:
    """``python -m sim *args`` in a child process, its output captured as text."""
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, **kw)


def split_data(beta_a: float = 1.0, beta_b: float = 1.0, r_a: float = 0.2, r_b: float = 0.2,
               days: int = 1000, **extra: Any) -> dict[str, Any]:
    """Two time-dependent sides dividing one unit (u_a = x, u_b = 1 - x), meeting every day,
    deadline (summit) on the last day (:func:`sim.validation.split_document`), with top-level
    tables replaced by ``extra``."""
    return split_document(beta_a, beta_b, r_a, r_b, days) | extra


def split_scenario(**kw: Any) -> Scenario:
    return parse_scenario(split_data(**kw), "split.toml")


def library_table(rows: list[dict[str, str]], before_deadline: str = "[7]", after_start: str = "[1]") -> str:
    """A case library's TOML: the date rule, then one ``[[cases]]`` row per dict (values are TOML
    literals, written as given)."""
    out = [f"[library]\nforecast_days_after_start = {after_start}\nforecast_days_before_deadline = {before_deadline}"]
    for row in rows:
        out.append("[[cases]]\n" + "\n".join(f"{k} = {v}" for k, v in row.items()))
    return "\n\n".join(out) + "\n"
