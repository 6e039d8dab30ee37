"""Per-replication records, and every read and write of a results folder.

Both engines produce :class:`~sim.outcomes.Outcomes` (arrays over a chunk's
replications); :func:`chunk_table` turns them, with the chunk's worlds, into an Arrow
table column by column. The schema depends only on the scenario (its issues,
sides, events and uncertain parameters), so every chunk of a run writes the same
columns and types, and an empty or all-failed chunk is still a valid table.

A run's records are a folder of Parquet parts, one per chunk; readers stream them a
column at a time (:func:`column`, :func:`days`, :func:`value_counts`), so summaries of
tens of millions of replications stay in bounded memory. Every file is written
atomically (:func:`atomic_write`): a file that exists under its final name is whole.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import subprocess
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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
        cols[f"{m}_before_summit"] = pa.array(scenario.by_summit(days), pa.bool_(), mask=err)
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


# --- output folders: claimed by one process, checked writable before any work ---------------

LOCK = ".lock"  # held (flock) by the process writing a folder; released when it exits, however


class OutputError(OSError):
    """An output folder that cannot be used: not writable, on a full or read-only disk, or in
    use by another process. ``str()`` names the folder and the reason."""


class FolderInUse(OutputError):
    """Another process holds the folder's lock."""


_held: dict[str, int] = {}  # folder → descriptor of its lock, for the life of this process
_created: set[str] = set()  # folders this process created (removed again if it leaves them empty)


def claim_dir(path: Path, *, empty: bool = True) -> Path:
    """Create ``path`` (or take it, if ``empty`` and it has nothing in it) for this process
    alone: it takes the folder's lock, which another process cannot take until this one exits
    (so two runs never write into one folder), and the lock file proves the folder writable.

    Raises:
        FileExistsError: the folder exists and is not empty (when ``empty``).
        OutputError: the folder cannot be created or written, or another process holds it.
    """
    import fcntl

    path = Path(path)
    key = str(path.resolve())
    if key in _held:
        return path
    if empty and path.exists() and (not path.is_dir() or any(p.name != LOCK for p in path.iterdir())):
        raise FileExistsError(f"{path}: output folder exists and is not empty; choose another --out")
    try:
        if not path.exists():
            path.mkdir(parents=True)
            _created.add(key)
        fd = os.open(path / LOCK, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write here ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise FolderInUse(f"{path}: another process is writing this folder; wait for it or choose another") from None
    _held[key] = fd
    return path


@contextlib.contextmanager
def claimed(path: Path, *, empty: bool = True) -> Iterator[Path]:
    """:func:`claim_dir` for the length of a ``with`` block; the lock is released at its end
    unless this process already held it (a command claims its folder for its whole life)."""
    owned = str(Path(path).resolve()) not in _held
    claim_dir(path, empty=empty)
    try:
        yield Path(path)
    finally:
        if owned:
            release_dir(path)


def release_all() -> None:
    """Release every folder this process holds (at the end of a command)."""
    for key in list(_held):
        release_dir(Path(key))


def release_dir(path: Path) -> None:
    """Give up this process's lock on ``path`` and remove the lock file; a folder this process
    created and left empty (it stopped before writing anything) is removed too."""
    key = str(Path(path).resolve())
    fd = _held.pop(key, None)
    if fd is not None:
        with contextlib.suppress(OSError):
            (Path(path) / LOCK).unlink(missing_ok=True)
            if key in _created and not any(Path(path).iterdir()):
                Path(path).rmdir()
        _created.discard(key)
        os.close(fd)


# --- writing: atomically, under hidden temporary names ---------------------------------------


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path`` through: renamed to ``path`` when the block ends
    without error, deleted otherwise. The name is hidden (dataset readers skip it) and unique
    to the writer, so two writers never share a temporary file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically."""
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file this package wrote."""
    return json.loads(Path(path).read_text())


def write_table(table: pa.Table, path: Path) -> Path:
    """Write ``table`` to one Parquet file atomically, as one row group."""
    strings = [f.name for f in table.schema if f.type == pa.string()]
    with atomic_write(path) as tmp:
        # dictionary-encode only the string columns: for numbers it costs more than it saves
        pq.write_table(table, tmp, compression="zstd", use_dictionary=strings, row_group_size=max(1, table.num_rows))
    return path


def remove_partial(folder: Path) -> None:
    """Delete temporary files left by writers that were stopped (e.g. killed workers)."""
    for tmp in Path(folder).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


# --- provenance ------------------------------------------------------------------------------


def git_commit() -> str | None:
    """The source tree's git commit (with ``-dirty`` if it has local changes), if any."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of Python and of the packages a result depends on (and of ``extra`` ones)."""
    out = {"python": platform.python_version()}
    for pkg in ("negotiation-sim", "mesa", "numpy", "numba", "scipy", "pandas", "pyarrow", "matplotlib", *extra):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def new_run_dir(root: Path, scenario: Scenario, prefix: str = "") -> Path:
    """A fresh ``root/<scenario>/<prefix><timestamp>`` path (suffixed if the second is taken)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / scenario.name / f"{prefix}{stamp}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


# --- a run's records: a folder of Parquet parts, one per chunk -------------------------------


def part_name(first: int) -> str:
    """File name of the part whose first replication is ``first`` (names sort in replication order)."""
    return f"part-{first:012d}.parquet"


def write_part(table: pa.Table, folder: Path, first: int) -> Path:
    """Write a chunk's table as one part of a run's records (see :func:`write_table`)."""
    return write_table(table, Path(folder) / part_name(first))


def parts(path: Path) -> list[Path]:
    """The Parquet files of a run's records in replication order: the parts of a ``runs/``
    folder, or ``path`` itself if it is a single Parquet file."""
    path = Path(path)
    return sorted(path.glob("part-*.parquet")) if path.is_dir() else [path]


class NoRecords(ValueError):
    """A run folder without records (it was stopped before its first chunk was written)."""


def dataset(path: Path) -> ds.Dataset:
    """A run's records (a ``runs/`` folder or one Parquet file) as an Arrow dataset, parts in
    replication order; read it column by column (``to_batches(columns=...)``) to keep memory flat.

    Raises:
        NoRecords: if there are none.
    """
    files = parts(path)
    if not files or not all(f.exists() for f in files):
        raise NoRecords(f"{path}: no replications recorded (was the run stopped before its first chunk?)")
    return ds.dataset([str(p) for p in files], format="parquet")


def count(path: Path) -> tuple[int, int]:
    """Replications recorded in a run's ``runs/`` folder, and how many of them failed (from the
    parts on disk: what a stopped run kept, whatever its parent process counted)."""
    try:
        data = dataset(path)
    except NoRecords:
        return 0, 0
    rows = data.count_rows()
    failed = rows - int(pc.sum(pc.is_null(data.to_table(columns=["error"])["error"])).as_py() or 0)
    return rows, failed


def read(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A run's records as one table, in replication order (small runs and tests; long runs: :func:`dataset`)."""
    return dataset(path).to_table(columns=columns, use_threads=False)


READ_BATCH = 1 << 20


def _record_batches(path: Path, name: str) -> Iterator[pa.RecordBatch]:
    # one fragment and one batch in flight: summaries favour memory over read-ahead
    return dataset(path).to_batches(batch_size=READ_BATCH, columns=[name], use_threads=False,
                                    batch_readahead=1, fragment_readahead=1)


def _stream(path: Path, name: str, convert: Callable[[pa.Array], np.ndarray],
            where: np.ndarray | None = None) -> np.ndarray:
    """One column of a run's records, read batch by batch into a preallocated array (a
    whole-column read of a long run costs several times the column's size); with ``where``,
    only the rows where it is true are kept."""
    size = dataset(path).count_rows() if where is None else int(where.sum())
    out = None
    pos = row = 0
    for batch in _record_batches(path, name):
        part = convert(batch.column(0))
        if where is not None:
            part = part[where[row:row + len(part)]]
            row += batch.num_rows
        if out is None:
            out = np.empty(size, dtype=part.dtype)
        out[pos:pos + len(part)] = part
        pos += len(part)
    return out if out is not None else np.empty(0)


def _numbers(col: pa.Array) -> np.ndarray:
    if col.type == "bool":
        return col.fill_null(False).to_numpy(zero_copy_only=False)
    return col.cast("float64").to_numpy(zero_copy_only=False)


def column(path: Path, name: str, where: np.ndarray | None = None) -> np.ndarray:
    """A numeric or flag column as a numpy array (nulls as NaN, or False for flags); with
    ``where``, only the selected rows."""
    return _stream(path, name, _numbers, where)


def days(path: Path, name: str) -> np.ndarray:
    """A day column as int32, −1 where the milestone was not reached (half the memory of floats)."""
    return _stream(path, name, lambda col: col.fill_null(-1).to_numpy(zero_copy_only=False))


def columns(path: Path, names: list[str]) -> dict[str, np.ndarray]:
    """Several columns, see :func:`column`."""
    return {name: column(path, name) for name in names}


def completed(path: Path) -> np.ndarray:
    """Which replications ran without error (compared in Arrow: no Python strings per row)."""
    return _stream(path, "status",
                   lambda col: pc.not_equal(col, "error").fill_null(True).to_numpy(zero_copy_only=False))


def value_counts(path: Path, name: str, where: np.ndarray) -> dict[str, int]:
    """How often each value of a string column occurs among the rows ``where`` is true."""
    totals: dict[str, int] = {}
    pos = 0
    for batch in _record_batches(path, name):
        col = batch.column(0)
        part = col.filter(pa.array(where[pos:pos + len(col)]))
        pos += len(col)
        for c in pc.value_counts(part.drop_null()).to_pylist():
            totals[c["values"]] = totals.get(c["values"], 0) + int(c["counts"])
    return dict(sorted(totals.items()))
