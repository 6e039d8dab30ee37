"""Monte Carlo runs: chunks of replications, worker processes, streamed results.

A run draws worlds chunk by chunk, plays each world out with the engine, and
appends each finished chunk to ``runs.parquet`` as a row group, in replication
order, so results are identical for any number of workers and memory stays flat.
Files are written under temporary names and renamed when complete, so a folder
never holds a half-written file under a final name.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import itertools
import json
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim import batch, records
from sim.batch import Outcomes
from sim.model import NegotiationModel
from sim.scenario import Scenario
from sim.world import Worlds, sample_worlds

ENGINES = ("batch", "mesa")
#: Replications per chunk by engine: the Mesa engine reports progress often; the batch
#: engine amortises per-chunk costs. Results do not depend on the chunk size.
DEFAULT_CHUNK = {"batch": 10_000, "mesa": 250}
ROW_GROUP = 100_000  # rows per Parquet row group (file metadata stays small for long runs)


def run_replication(scenario: Scenario, seed: int, index: int, engine: str = "mesa") -> dict[str, Any]:
    """Run replication ``index`` of a run with ``seed`` and return its record (a dict).

    The model as a plain function, for tools that drive it one replication at a
    time (EMA Workbench, notebooks). Same result as inside any ``sim run``.
    """
    return run_chunk(scenario, seed, index, 1, engine).to_pylist()[0]


def _mesa_outcomes(scenario: Scenario, worlds: Worlds) -> tuple[Outcomes, list[str | None]]:
    outcomes, errors = [], []
    for world in worlds.rows():
        try:
            outcomes.append(NegotiationModel(scenario, world).run())
            errors.append(None)
        except Exception as exc:  # noqa: BLE001 — recorded, the run goes on
            outcomes.append(None)
            errors.append("".join(traceback.format_exception_only(exc)).strip())
    return batch.stack(outcomes, len(scenario.issues)), errors


def run_chunk(scenario: Scenario, seed: int, first: int, n: int, engine: str = "batch") -> pa.Table:
    """Replications ``first .. first+n-1`` as an Arrow table.

    A replication that raises is recorded with its error instead of stopping the
    chunk: should the batch engine raise, the chunk is replayed replication by
    replication with the Mesa engine, which gives the same outcomes and isolates
    the failing ones.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    worlds = sample_worlds(scenario, seed, first, n)
    if engine == "batch":
        try:
            return records.table(scenario, worlds, batch.run_worlds(scenario, worlds))
        except Exception:  # noqa: BLE001 — replayed below, errors recorded per replication
            pass
    return records.table(scenario, worlds, *_mesa_outcomes(scenario, worlds))


def chunks(n: int, size: int) -> list[tuple[int, int]]:
    """``(first, count)`` pairs covering ``0 .. n-1``."""
    return [(first, min(size, n - first)) for first in range(0, n, size)]


def iter_chunks(
    scenario: Scenario, seed: int, n: int, workers: int, chunk_size: int, engine: str
) -> Iterator[pa.Table]:
    """Yield the run's chunk tables in replication order, computed by ``workers`` processes."""
    plan = chunks(n, chunk_size)
    if workers <= 1:
        for first, count in plan:
            yield run_chunk(scenario, seed, first, count, engine)
        return
    # fork shares the parent's compiled decision functions, so workers start in ~0.1 s instead of ~3 s
    # (spawn re-imports everything and reloads each function from numba's cache). It is used only while
    # the parent runs a single Python thread; the native threads Python then warns about are OpenBLAS's
    # pool, which is fork-safe (it shuts down and restarts through pthread_atfork).
    fork_ok = "fork" in mp.get_all_start_methods() and threading.active_count() == 1
    ctx = mp.get_context("fork" if fork_ok else "spawn")
    # Keep every worker busy (2 chunks queued per worker, refilled as soon as any chunk
    # finishes) while results are yielded in order; at most 8 chunks per worker are held,
    # so memory stays flat however long the run.
    busy, held = 2 * workers, 8 * workers
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*use of fork\\(\\) may lead to deadlocks", category=DeprecationWarning)
        pending: deque[cf.Future] = deque()
        todo = iter(plan)

        def refill() -> None:
            running = sum(not f.done() for f in pending)
            for first, count in itertools.islice(todo, max(0, min(busy - running, held - len(pending)))):
                pending.append(pool.submit(run_chunk, scenario, seed, first, count, engine))

        try:
            refill()
            while pending:
                while not pending[0].done():
                    cf.wait([f for f in pending if not f.done()], return_when=cf.FIRST_COMPLETED)
                    refill()
                table = pending.popleft().result()
                refill()
                yield table
        finally:
            for fut in pending:
                fut.cancel()


@dataclass
class RunResult:
    """What :func:`run` wrote and how it went."""

    out_dir: Path
    n: int
    completed: int
    failures: int
    wall_seconds: float
    interrupted: bool


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temporary file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)


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


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("negotiation-sim", "mesa", "numpy", "numba", "scipy", "pandas", "pyarrow", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def new_run_dir(root: Path, scenario: Scenario) -> Path:
    """A fresh ``root/<scenario>/<timestamp>`` folder (suffixed if the second is taken)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / scenario.name / stamp
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{stamp}-{k}")
    return path


def run(
    scenario: Scenario,
    *,
    n: int,
    seed: int,
    out_dir: Path,
    workers: int = 1,
    chunk_size: int | None = None,
    engine: str = "batch",
    progress: Callable[[int], None] | None = None,
    command: list[str] | None = None,
) -> RunResult:
    """Run ``n`` replications and stream them to ``out_dir/runs.parquet``; write the manifest.

    Ctrl-C stops the run cleanly: the chunks finished so far are kept, and the
    manifest says the run was interrupted.
    """
    chunk_size = chunk_size or DEFAULT_CHUNK[engine]
    out_dir.mkdir(parents=True, exist_ok=False)
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    final, tmp = out_dir / "runs.parquet", out_dir / "runs.parquet.partial"
    completed = failures = 0
    interrupted = False
    pending: list[pa.Table] = []  # chunks not yet written: row groups of >= ROW_GROUP rows read faster
    buffered = 0
    schema = records.schema(scenario)
    # dictionary-encode only the string columns: for numbers it costs more than it saves
    strings = [f.name for f in schema if f.type == pa.string()]
    with pq.ParquetWriter(tmp, schema, compression="zstd", use_dictionary=strings) as writer:
        try:
            for table in iter_chunks(scenario, seed, n, workers, chunk_size, engine):
                pending.append(table)
                buffered += table.num_rows
                if buffered >= ROW_GROUP:
                    writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP)
                    pending.clear()
                    buffered = 0
                completed += table.num_rows
                failures += table.num_rows - table.column("error").null_count
                if progress:
                    progress(table.num_rows)
        except KeyboardInterrupt:
            interrupted = True
        if pending:
            writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP)
    os.replace(tmp, final)
    wall = time.perf_counter() - t0
    write_json(out_dir / "manifest.json", {
        "scenario": scenario.name,
        "scenario_file": scenario.path,
        "scenario_sha256": scenario.sha256 or None,  # of the file and its extends chain (see load_scenario)
        "seed": seed, "replications": n, "completed": completed, "failures": failures,
        "interrupted": interrupted, "workers": workers, "chunk_size": chunk_size, "engine": engine,
        "started_utc": started.isoformat(timespec="seconds"), "wall_seconds": round(wall, 3),
        "replications_per_second": round(completed / wall, 1) if wall > 0 else None,
        "git_commit": git_commit(), "versions": versions(),
        "command": command if command is not None else sys.argv,
    })
    return RunResult(out_dir, n, completed, failures, wall, interrupted)
