"""Shared fixtures: the shipped scenarios and a one-issue split-the-pie scenario builder."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from sim.scenario import Scenario, load_scenario, parse_scenario

# no per-example deadlines: these machines are shared and noisy; speed is measured in benchmarks/
settings.register_profile("default", deadline=None)
settings.load_profile("default")

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.fixture(scope="session")
def flagship() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "us_korea_2025.toml")


@pytest.fixture(scope="session")
def july() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "us_korea_from_july.toml")


def split_data(beta_a: float = 1.0, beta_b: float = 1.0, r_a: float = 0.2, r_b: float = 0.2,
               days: int = 1000, **extra: Any) -> dict[str, Any]:
    """Two time-dependent sides dividing one unit (u_a = x, u_b = 1 - x), meeting every day,
    deadline (summit) on the last day."""
    start = dt.date(2030, 1, 1)
    side = {"tactic": {"kind": "time_dependent", "beta": 1.0}}
    data: dict[str, Any] = {
        "scenario": {"name": "split", "start": start, "deadline": start + dt.timedelta(days=days),
                     "horizon": start + dt.timedelta(days=days), "first_mover": "a"},
        "issues": [{"key": "x", "low": 0.0, "high": 1.0}],
        "parties": {
            "a": copy.deepcopy(side) | {"reservation": r_a, "issues": {"x": {"weight": 1.0, "best": 1.0, "worst": 0.0}}},
            "b": copy.deepcopy(side) | {"reservation": r_b, "issues": {"x": {"weight": 1.0, "best": 0.0, "worst": 1.0}}},
        },
        "calendar": {"contact_rate": 1.0},
    }
    data["parties"]["a"]["tactic"]["beta"] = beta_a
    data["parties"]["b"]["tactic"]["beta"] = beta_b
    for key, value in extra.items():
        data[key] = value
    return data


def split_scenario(**kw: Any) -> Scenario:
    return parse_scenario(split_data(**kw), "split.toml")
