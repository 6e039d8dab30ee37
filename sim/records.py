"""Per-replication records: one tidy row per replication, with a fixed schema.

Both engines produce :class:`~sim.outcomes.Outcomes` (arrays over a chunk's
replications); :func:`chunk_table` turns them, with the chunk's worlds, into an Arrow
table column by column. The schema depends only on the scenario (its issues,
sides, events and uncertain parameters), so every chunk of a run writes the same
columns and types, and an empty or all-failed chunk is still a valid table.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from sim.outcomes import SUMMIT_CLOSE, Outcomes
from sim.scenario import MILESTONES, Scenario
from sim.world import Worlds

_EPOCH = dt.date(1970, 1, 1)
RUNS = "runs"  # a run's dataset folder: one Parquet part per chunk


def schema(scenario: Scenario) -> pa.Schema:
    """The Arrow schema of a run's records for ``scenario``."""
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


def _status(out: Outcomes) -> tuple[np.ndarray, np.ndarray]:
    agreed = out.agreement_day >= 0
    status = np.select(
        [~agreed & (out.walked_away >= 0), ~agreed, out.ratification_failed, out.ratified_day >= 0,
         out.signed_day >= 0],
        ["walk_away", "no_agreement", "ratification_failed", "ratified", "signed"], "agreed").astype(object)
    reason = np.select([~agreed & (out.walked_away >= 0), ~agreed, out.ratification_failed],
                       ["walk_away", "deadline", "ratification_failed"], "").astype(object)
    reason[reason == ""] = None
    return status, reason


def _fired_names(fired: np.ndarray, names: list[str]) -> np.ndarray:
    """``;``-joined names of the fired events per row (patterns looked up, not joined per row)."""
    if not names:
        return np.full(len(fired), "", dtype=object)
    codes = fired.astype(np.int64) @ (1 << np.arange(len(names), dtype=np.int64))
    uniq, inverse = np.unique(codes, return_inverse=True)
    labels = np.array([";".join(n for k, n in enumerate(names) if c >> k & 1) for c in uniq], dtype=object)
    return labels[inverse]


def chunk_table(scenario: Scenario, worlds: Worlds, out: Outcomes) -> pa.Table:
    """The chunk's rows of the run's records.

    Args:
        scenario: The scenario.
        worlds: The chunk's worlds.
        out: The engine's outcomes for those worlds (a replication that raised has its
            error in ``out.errors``, and null outcome columns).
    """
    n = len(worlds)
    errors = out.errors
    err = np.array([e is not None for e in errors], dtype=bool) if errors else np.zeros(n, dtype=bool)
    cols: dict[str, pa.Array] = {
        "replication": pa.array(worlds.index, pa.int64()),
        "seed": pa.array(np.full(n, worlds.seed), pa.int64()),
    }
    for p in scenario.uncertain:
        cols[f"param.{p.path}"] = pa.array(worlds.sampled[p.path], pa.float64())
    status, reason = _status(out)
    status[err] = "error"
    reason[err] = None
    cols["status"], cols["no_deal_reason"] = pa.array(status, pa.string()), pa.array(reason, pa.string())
    start = (scenario.start - _EPOCH).days
    for m, days in zip(MILESTONES, (out.agreement_day, out.signed_day, out.ratified_day), strict=True):
        reached = days >= 0
        cols[m] = pa.array(reached, pa.bool_(), mask=err)
        cols[f"{m}_date"] = pa.array((start + days).astype(np.int32), pa.date32(), mask=~reached | err)
        cols[f"{m}_day"] = pa.array(days.astype(np.int32), pa.int32(), mask=~reached | err)
        cols[f"{m}_before_summit"] = pa.array(reached & (days <= scenario.summit_day), pa.bool_(), mask=err)
    cols["ratification_failed"] = pa.array(out.ratification_failed, pa.bool_(), mask=err)
    names = np.empty(SUMMIT_CLOSE + 2, dtype=object)  # looked up by code + 1: -1 none, 0/1 a side, summit
    names[1], names[2], names[SUMMIT_CLOSE + 1] = scenario.parties[0].key, scenario.parties[1].key, "summit"
    cols["closed_by"] = pa.array(names[out.closed_by + 1], pa.string())
    cols["walked_away"] = pa.array(names[out.walked_away + 1], pa.string())

    def floats(x: np.ndarray) -> pa.Array:
        return pa.array(x, pa.float64(), mask=np.isnan(x) | err)

    for k, issue in enumerate(scenario.issues):
        cols[f"term.{issue.key}"] = floats(out.terms[:, k])
    for k, party in enumerate(scenario.parties):
        cols[f"utility.{party.key}"] = floats(out.utilities[:, k])
    cols["pareto_distance"], cols["nash_distance"] = floats(out.pareto_distance), floats(out.nash_distance)
    cols["rounds"] = pa.array(out.rounds.astype(np.int32), pa.int32(), mask=err)
    fired = (worlds.event_day >= 0) & (worlds.event_day <= out.end_day[:, None])
    cols["events"] = pa.array(_fired_names(fired, [e.name for e in scenario.events]), pa.string(), mask=err)
    for k, e in enumerate(scenario.events):
        cols[f"event.{e.name}"] = pa.array(fired[:, k], pa.bool_(), mask=err)
    cols["error"] = pa.array(errors if errors else [None] * n, pa.string())
    return pa.table(cols, schema=schema(scenario))


# --- storage: a run's records are a folder of Parquet parts, one per chunk ------------------


def part_name(first: int) -> str:
    """File name of the part whose first replication is ``first`` (names sort in replication order)."""
    return f"part-{first:012d}.parquet"


def write_table(table: pa.Table, path: Path) -> Path:
    """Write ``table`` to one Parquet file atomically: under a hidden temporary name (dataset
    readers skip names starting with a dot), then renamed; one row group."""
    tmp = path.with_name(f".{path.name}.tmp")
    strings = [f.name for f in table.schema if f.type == pa.string()]
    # dictionary-encode only the string columns: for numbers it costs more than it saves
    pq.write_table(table, tmp, compression="zstd", use_dictionary=strings, row_group_size=max(1, table.num_rows))
    os.replace(tmp, path)
    return path


def write_part(table: pa.Table, folder: Path, first: int) -> Path:
    """Write a chunk's table as one part of a run's records (see :func:`write_table`)."""
    return write_table(table, folder / part_name(first))


def remove_partial(folder: Path) -> None:
    """Delete temporary files of parts that were being written when a run stopped."""
    for tmp in folder.glob(".part-*.tmp"):
        tmp.unlink(missing_ok=True)


def parts(path: Path) -> list[Path]:
    """The Parquet files of a run's records in replication order: the parts of a ``runs/``
    folder, or ``path`` itself if it is a single Parquet file."""
    path = Path(path)
    return sorted(path.glob("part-*.parquet")) if path.is_dir() else [path]


def dataset(path: Path) -> ds.Dataset:
    """A run's records (a ``runs/`` folder or one Parquet file) as an Arrow dataset, parts in
    replication order; read it column by column (``to_batches(columns=...)``) to keep memory flat."""
    return ds.dataset([str(p) for p in parts(path)], format="parquet")


def read(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A run's records as one table, in replication order (small runs and tests; long runs: :func:`dataset`)."""
    return dataset(path).to_table(columns=columns, use_threads=False)
