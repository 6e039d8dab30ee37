"""Monte Carlo runs: chunks of replications, worker processes, streamed results.

A run draws worlds chunk by chunk and plays each world out with the engine; the
worker that ran a chunk writes it as one Parquet part of the run's ``runs/``
dataset, named by its first replication. A replication's row depends only on
the seed and its index, so the dataset is identical for any number of workers,
the parent process does no per-row work, and memory stays flat however long the
run. Files are written under temporary names and renamed when complete, so a
folder never holds a half-written file under a final name.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from sim import batch, model, records
from sim.outcomes import Outcomes
from sim.scenario import Scenario
from sim.world import Worlds, sample_worlds

#: The engines, by name: each plays a chunk of worlds and returns their outcomes.
ENGINES: dict[str, Callable[[Scenario, Worlds], Outcomes]] = {"batch": batch.run_worlds, "mesa": model.run_worlds}
#: Replications per chunk by engine: the Mesa engine reports progress often; the batch
#: engine amortises per-chunk costs. Results do not depend on the chunk size.
DEFAULT_CHUNK = {"batch": 25_000, "mesa": 250}
MIN_CHUNK = {"batch": 2_000, "mesa": 50}


def run_replication(scenario: Scenario, seed: int, index: int, engine: str = "mesa") -> dict[str, Any]:
    """Run replication ``index`` of a run with ``seed`` and return its record (a dict).

    The model as a plain function, for tools that drive it one replication at a
    time (EMA Workbench, notebooks). Same result as inside any ``sim run``.
    """
    return run_chunk(scenario, seed, index, 1, engine).to_pylist()[0]


class EngineFallback(RuntimeWarning):
    """The batch engine failed on a chunk, which was replayed on the Mesa engine."""


@dataclass(frozen=True)
class Chunk:
    """A chunk's records, and whether the batch engine failed on it (and Mesa replayed it)."""

    table: pa.Table
    fallback: bool = False


def play_chunk(scenario: Scenario, seed: int, first: int, n: int, engine: str = "batch") -> Chunk:
    """Replications ``first .. first+n-1`` as a :class:`Chunk` of records.

    A replication that raises on the Mesa engine is recorded with its error instead of
    stopping the chunk. Should the batch engine raise, the chunk is replayed replication
    by replication on the Mesa engine, which gives the same outcomes and isolates the
    failing ones; the replay is announced with an :class:`EngineFallback` warning.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    worlds = sample_worlds(scenario, seed, first, n)
    if engine == "batch":
        try:
            return Chunk(records.chunk_table(scenario, worlds, ENGINES["batch"](scenario, worlds)))
        except Exception as exc:
            warnings.warn(f"the batch engine failed on replications {first}..{first + n - 1} "
                          f"({type(exc).__name__}: {exc}); replaying them on the Mesa engine (much slower)",
                          EngineFallback, stacklevel=2)
            return Chunk(records.chunk_table(scenario, worlds, ENGINES["mesa"](scenario, worlds)), fallback=True)
    return Chunk(records.chunk_table(scenario, worlds, ENGINES[engine](scenario, worlds)))


def run_chunk(scenario: Scenario, seed: int, first: int, n: int, engine: str = "batch") -> pa.Table:
    """Replications ``first .. first+n-1`` as an Arrow table (see :func:`play_chunk`)."""
    return play_chunk(scenario, seed, first, n, engine).table


def warm_up(scenario: Scenario, engine: str = "batch", note: Callable[[str], None] | None = None) -> None:
    """Compile (or load from numba's cache) the engine's functions once, up front, so workers
    forked later share them and the first chunk's timing is not a compilation. ``note`` is told
    why, if that takes more than two seconds (the first use compiles: about a minute)."""
    timer = None
    if note is not None:
        timer = threading.Timer(2.0, note, args=("compiling the engine on its first use (about a minute; numba "
                                                 "caches it for later runs)…",))
        timer.daemon = True
        timer.start()
    try:
        run_chunk(scenario, 0, 0, 1, engine)
    finally:
        if timer is not None:
            timer.cancel()


def progress_bar(total: int, unit: str, desc: str, quiet: bool = False) -> Any:
    """A tqdm progress bar (hidden when ``quiet`` or not on a terminal) that leaves the
    runner free to fork its workers (no monitor thread)."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0
    return tqdm(total=total, unit=unit, desc=desc, disable=quiet or None)


def chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    """``(first, count)`` pairs covering ``0 .. n-1``, made as they are needed (a huge run does
    not build its whole plan up front)."""
    return ((first, min(size, n - first)) for first in range(0, n, size))


def default_chunk(n: int, engine: str) -> int:
    """Chunk size for a run of ``n``: enough chunks to keep 2+ workers busy, each large enough
    to amortise its per-chunk costs. A function of ``n`` only, so a run's parts do not
    depend on the worker count."""
    return min(DEFAULT_CHUNK[engine], max(MIN_CHUNK[engine], -(-n // 16)))


def write_chunk(scenario: Scenario, seed: int, first: int, n: int, engine: str,
                runs_dir: Path) -> tuple[int, int, int, bool]:
    """Run a chunk and write it as its own part of the runs dataset; return
    ``(first, rows, failures, fallback)``.

    Each worker encodes its own part, so the parent process does no per-row work. The
    part is written under a hidden temporary name (readers skip it) and renamed when
    complete: a part that exists is whole.
    """
    chunk = play_chunk(scenario, seed, first, n, engine)
    records.write_part(chunk.table, runs_dir, first)
    return first, chunk.table.num_rows, chunk.table.num_rows - chunk.table.column("error").null_count, chunk.fallback


@contextlib.contextmanager
def process_pool(workers: int) -> Iterator[cf.ProcessPoolExecutor]:
    """A pool of ``workers`` processes, forked when safe.

    fork shares the parent's compiled decision functions, so workers start in ~0.1 s
    instead of ~3 s (spawn re-imports everything and reloads each function from numba's
    cache). It is used only while the parent runs a single Python thread; the native
    threads Python then warns about are OpenBLAS's pool, which is fork-safe (it shuts
    down and restarts through pthread_atfork).
    """
    fork_ok = "fork" in mp.get_all_start_methods() and threading.active_count() == 1
    ctx = mp.get_context("fork" if fork_ok else "spawn")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_start,
                                initargs=(os.getpid(),)) as pool, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*use of fork\\(\\) may lead to deadlocks",
                                category=DeprecationWarning)
        yield pool


def as_completed_bounded[T](pool: cf.Executor, fn: Callable[[T], Any], tasks: Iterable[T],
                            depth: int) -> Iterator[tuple[T, cf.Future]]:
    """Submit ``fn(task)`` for each task, keeping at most ``depth`` in flight (memory stays
    flat however many tasks there are; a few queued per worker keep every worker busy); yield
    each ``(task, future)`` as it completes. Unstarted tasks are cancelled if the caller stops."""
    todo = iter(tasks)
    running: dict[cf.Future, T] = {}

    def refill() -> None:
        while len(running) < depth and (task := next(todo, None)) is not None:
            running[pool.submit(fn, task)] = task

    try:
        refill()
        while running:
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            finished = [(running.pop(fut), fut) for fut in done]
            refill()
            yield from finished
    finally:
        for fut in running:
            fut.cancel()


#: Where independent tasks (sweep points, backtest forecasts) run: local processes or a Dask cluster.
EXECUTORS = ("local", "dask")


def run_tasks[T, R](fn: Callable[[T], R], tasks: list[T], workers: int, *, executor: str = "local",
                    scheduler: str | None = None, name: str = "task") -> Iterator[tuple[T, R | None,
                                                                                 BaseException | None]]:
    """``fn(task)`` for every task, on ``workers`` local processes or a Dask cluster (a local one
    of ``workers`` processes, or the one at ``scheduler``); yields ``(task, result, None)`` or
    ``(task, None, exception)`` as each finishes, in any order (a caller that needs an order or
    determinism keys results by task). A worker that dies yields its task with the exception."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; expected one of {', '.join(EXECUTORS)}")
    if executor == "dask":
        yield from _dask_tasks(fn, tasks, workers, scheduler, name)
    elif workers <= 1:
        for task in tasks:
            yield task, fn(task), None
    else:
        with process_pool(workers) as pool:
            for task, fut in as_completed_bounded(pool, fn, tasks, 2 * workers):
                exc = fut.exception()
                yield task, None if exc else fut.result(), exc


def _dask_tasks[T, R](fn: Callable[[T], R], tasks: list[T], workers: int, scheduler: str | None,
                      name: str) -> Iterator[tuple[T, R | None, BaseException | None]]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                  dashboard_address=None)
    client = Client(scheduler) if scheduler else Client(cluster)
    try:
        stamp = time.time_ns()
        futures = {client.submit(fn, t, key=f"{name}-{stamp}-{k}", pure=False): t for k, t in enumerate(tasks)}
        for fut in as_completed(futures):
            task = futures[fut]
            exc = fut.exception()
            yield task, None if exc else fut.result(), exc
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _worker_start(parent: int) -> None:
    """A worker ignores Ctrl-C (the parent stops the pool and keeps what finished) and does not
    outlive its parent: killed with it (Linux), or leaving as soon as it notices (elsewhere)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0 and os.getppid() == parent:  # PR_SET_PDEATHSIG
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _chunk_results(
    scenario: Scenario, seed: int, plan: Iterable[tuple[int, int]], workers: int, engine: str, runs_dir: Path
) -> Iterator[tuple[int, int, int, bool]]:
    """Run the planned chunks on ``workers`` processes; yield each chunk's result as it completes."""
    tasks = ((scenario, seed, first, count, engine, runs_dir) for first, count in plan)
    if workers <= 1:
        yield from map(_write_chunk_task, tasks)
        return
    with process_pool(workers) as pool:
        for _, fut in as_completed_bounded(pool, _write_chunk_task, tasks, 2 * workers):  # two queued per worker
            yield fut.result()


def _write_chunk_task(args: tuple[Scenario, int, int, int, str, Path]) -> tuple[int, int, int, bool]:
    return write_chunk(*args)


@dataclass
class RunResult:
    """What :func:`run` wrote and how it went."""

    out_dir: Path
    n: int
    completed: int
    failures: int
    wall_seconds: float
    interrupted: bool


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
    settings: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run ``n`` replications into the dataset ``out_dir/runs/`` (one Parquet part per
    chunk, written by the worker that ran it) and write ``out_dir/manifest.json`` (with the
    ``settings`` the scenario was loaded with, ``--set``'s, so ``plot`` can load it again).

    Ctrl-C stops the run cleanly: the parts finished so far are kept, and the
    manifest says the run was interrupted.
    """
    chunk_size = chunk_size or default_chunk(n, engine)
    with records.claimed(out_dir):
        runs_dir = out_dir / records.RUNS
        runs_dir.mkdir()
        started = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        completed = failures = fallbacks = 0
        interrupted, error = False, None
        workers = min(workers, -(-n // chunk_size))  # no idle processes: at most one per chunk
        try:
            for _, rows, failed, fell_back in _chunk_results(scenario, seed, chunks(n, chunk_size), workers, engine,
                                                             runs_dir):
                completed += rows
                failures += failed
                fallbacks += fell_back
                if progress:
                    progress(rows)
        except KeyboardInterrupt:
            interrupted = True
        except BaseException as exc:  # the disk, a worker lost: the manifest says so, then the error goes on
            error = exc
        finally:
            with contextlib.suppress(OSError):
                records.remove_partial(runs_dir)
        if interrupted or error:  # what the workers wrote while the pool stopped counts: count the parts on disk
            completed, failures = records.count(runs_dir)
        wall = time.perf_counter() - t0
        manifest = {
            "scenario": scenario.name,
            "scenario_file": scenario.path,
            "scenario_sha256": scenario.sha256 or None,  # of the file and its extends chain (see load_scenario)
            "settings": {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in (settings or {}).items()},
            "seed": seed, "replications": n, "completed": completed, "failures": failures,
            "engine_fallbacks": fallbacks,
            "interrupted": interrupted, "workers": workers, "chunk_size": chunk_size, "engine": engine,
            "started_utc": started.isoformat(timespec="seconds"), "wall_seconds": round(wall, 3),
            "replications_per_second": round(completed / wall, 1) if wall > 0 else None,
            "git_commit": records.git_commit(), "versions": records.versions(),
            "command": command if command is not None else sys.argv,
        }
        if error is not None:
            manifest["error"] = "".join(traceback.format_exception_only(error)).strip()
            with contextlib.suppress(OSError):
                records.write_json(out_dir / "manifest.json", manifest)
            raise error
        records.write_json(out_dir / "manifest.json", manifest)
    return RunResult(out_dir, n, completed, failures, wall, interrupted)
