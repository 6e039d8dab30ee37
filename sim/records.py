"""Per-replication records: one tidy row per replication, with a fixed schema.

The schema depends only on the scenario (its issues, sides, events and uncertain
parameters), so every chunk of a run writes the same columns and types, and an
empty or all-failed chunk is still a valid table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from sim.negotiation.calendar import NOT_REACHED
from sim.scenario import MILESTONES, Scenario
from sim.world import Worlds

DAY_KEYS = {"agreement": "agreement_day", "signed": "signed_day", "ratified": "ratified_day"}


def schema(scenario: Scenario) -> pa.Schema:
    """The Arrow schema of ``runs.parquet`` for ``scenario``."""
    fields = [("replication", pa.int64()), ("seed", pa.int64())]
    fields += [(f"param.{p.path}", pa.float64()) for p in scenario.uncertain]
    fields += [("status", pa.string()), ("no_deal_reason", pa.string())]
    for m in MILESTONES:
        fields += [(m, pa.bool_()), (f"{m}_date", pa.date32()), (f"{m}_day", pa.int32()),
                   (f"{m}_before_summit", pa.bool_())]
    fields += [("ratification_failed", pa.bool_()), ("closed_by", pa.string()), ("walked_away", pa.string())]
    fields += [(f"term.{i.key}", pa.float64()) for i in scenario.issues]
    fields += [(f"utility.{p.key}", pa.float64()) for p in scenario.parties]
    fields += [("pareto_distance", pa.float64()), ("nash_distance", pa.float64()), ("rounds", pa.int32())]
    fields += [("events", pa.string())] + [(f"event.{e.name}", pa.bool_()) for e in scenario.events]
    fields += [("error", pa.string())]
    return pa.schema(fields)


def _status(out: dict[str, Any]) -> tuple[str, str | None]:
    if out["agreement_day"] == NOT_REACHED:
        return ("walk_away", "walk_away") if out["walked_away"] else ("no_agreement", "deadline")
    if out["ratification_failed"]:
        return "ratification_failed", "ratification_failed"
    if out["ratified_day"] != NOT_REACHED:
        return "ratified", None
    return ("signed", None) if out["signed_day"] != NOT_REACHED else ("agreed", None)


def record(scenario: Scenario, world: Worlds, out: dict[str, Any] | None, error: str | None = None) -> dict[str, Any]:
    """Flatten one replication's outcome into a row of :func:`schema`.

    Args:
        scenario: The scenario.
        world: The replication's world (a row of :class:`Worlds`).
        out: The engine's outcome, or None if the replication raised.
        error: The error message when it raised.
    """
    row: dict[str, Any] = {"replication": int(world.index), "seed": int(world.seed)}
    row.update({f"param.{p.path}": float(world.sampled[p.path]) for p in scenario.uncertain})
    if out is None:
        row.update(status="error", error=error or "unknown error")
        return row
    row["status"], row["no_deal_reason"] = _status(out)
    for m, key in DAY_KEYS.items():
        day = int(out[key])
        reached = day != NOT_REACHED
        row[m] = reached
        row[f"{m}_day"] = day if reached else None
        row[f"{m}_date"] = scenario.date_of(day) if reached else None
        row[f"{m}_before_summit"] = reached and day <= scenario.summit_day
    row["ratification_failed"] = bool(out["ratification_failed"])
    row["closed_by"], row["walked_away"] = out["closed_by"], out["walked_away"]
    for issue, v in zip(scenario.issues, out["terms"], strict=False):
        row[f"term.{issue.key}"] = None if np.isnan(v) else float(v)
    for party, u in zip(scenario.parties, out["utilities"], strict=False):
        row[f"utility.{party.key}"] = None if np.isnan(u) else float(u)
    for k in ("pareto_distance", "nash_distance"):
        row[k] = None if np.isnan(out[k]) else float(out[k])
    row["rounds"] = int(out["rounds"])
    row["events"] = ";".join(out["events"])
    row.update({f"event.{e.name}": e.name in out["events"] for e in scenario.events})
    row["error"] = None
    return row


def to_table(scenario: Scenario, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows of :func:`record` as an Arrow table with the scenario's schema."""
    sch = schema(scenario)
    return pa.Table.from_pydict({f.name: [r.get(f.name) for r in rows] for f in sch}, schema=sch)

