"""The checks' common parts: a check's result, and the one-issue scenarios many checks play."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim import runner
from sim.scenario import Scenario


@dataclass
class Check:
    """One validation result: what was expected, what the model gave, and whether that is within tolerance."""

    group: str
    name: str
    expected: str
    measured: str
    tolerance: str
    passed: bool
    figure: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def close(group: str, name: str, expected: float, measured: float, tol: float, fmt: str = ".6f") -> Check:
    """A check that ``measured`` is within ``tol`` of ``expected``."""
    return Check(group, name, f"{expected:{fmt}}", f"{measured:{fmt}}", f"±{tol:g}", abs(measured - expected) <= tol)


def split_document(beta_a: Any = 1.0, beta_b: Any = 1.0, r_a: Any = 0.0, r_b: Any = 0.0, days: int = 1000,
                   contact_rate: Any = 1.0) -> dict[str, Any]:
    """Two time-dependent sides dividing one unit (u_a = x, u_b = 1 − x), deadline on the last day."""
    start = dt.date(2030, 1, 1)
    end = start + dt.timedelta(days=days)

    def side(best: float, r: Any, beta: Any) -> dict[str, Any]:
        return {"reservation": r, "tactic": {"kind": "time_dependent", "beta": beta},
                "issues": {"x": {"weight": 1.0, "best": best, "worst": 1.0 - best}}}

    return {
        "scenario": {"name": "split", "start": start, "deadline": end, "horizon": end, "first_mover": "a"},
        "issues": [{"key": "x", "low": 0.0, "high": 1.0}],
        "parties": {"a": side(1.0, r_a, beta_a), "b": side(0.0, r_b, beta_b)},
        "calendar": {"contact_rate": contact_rate},
    }


def play(scenario: Scenario, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` replications with the batch engine, as numpy columns."""
    table = runner.run_chunk(scenario, seed, 0, n, "batch")
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names
            if name in ("agreement_day", "utility.a", "utility.b", "agreement", "ratified_day", "status")}


def agreement_days(cols: dict[str, np.ndarray]) -> np.ndarray:
    """The agreement days of the replications that agreed (as floats)."""
    day = cols["agreement_day"]
    return np.asarray(day[~np.isnan(day.astype(float))], dtype=float)
