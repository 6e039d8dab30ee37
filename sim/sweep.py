"""Sweeps: run every point of a design, resumably, on local processes or a Dask cluster.

Each design point is the scenario with the point's values written in; it runs
replications ``0 .. runs-1`` with the sweep's seed, so every point plays the same
worlds (common random numbers) and differences between points are not sampling
noise. A point's result — one row of statistics, see
:func:`sim.analysis.point_summary` — is written to ``points/`` as soon as it
arrives, atomically; a sweep stopped in any way (Ctrl-C, SIGKILL, a lost machine)
resumes from its folder and finishes with every point exactly once. A point that
raises is retried, then recorded as failed with its error, and the sweep goes on.

Folder (``results/<scenario>/sweep-<timestamp>/``)::

    manifest.json     what was asked (scenario, design, seed, runs, engine), status
    design.parquet    the design points' parameter values
    points/           one Parquet file per finished point (while the sweep runs)
    points.parquet    one row per point, when every point is done
    runs/point-<k>/   per-replication records of each point (with --save-runs)
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import os
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim import analysis, records, runner
from sim.design import Design, Factor, point_scenario
from sim.scenario import Scenario, read_document

RETRIES = 1  # a point that raises is run once more before it is recorded as failed
EXECUTORS = ("local", "dask")


class SweepError(ValueError):
    """A sweep folder or request that cannot be run or resumed; the message says why."""


@dataclass(frozen=True)
class PointTask:
    """Everything a worker needs to run one design point (picklable, no open files)."""

    index: int
    document: dict[str, Any]
    file: str
    sha256: str
    paths: list[str]
    values: np.ndarray
    seed: int
    runs: int
    engine: str
    keep_runs: bool


def run_point(task: PointTask) -> tuple[int, dict[str, float], pa.Table | None]:
    """Run one design point: its scenario, validated, over the sweep's worlds."""
    scenario = point_scenario(task.document, task.file, task.sha256, task.paths, task.values)
    table = runner.run_chunk(scenario, task.seed, 0, task.runs, task.engine)
    return task.index, analysis.point_summary(table, scenario), table if task.keep_runs else None


# --- executors: submit tasks, yield (task, result or exception) as they finish ---------------


Outcome = tuple[PointTask, tuple | None, BaseException | None]


def _local(tasks: list[PointTask], workers: int) -> Iterator[Outcome]:
    if workers <= 1:
        for task in tasks:
            try:
                yield task, run_point(task), None
            except Exception as exc:  # noqa: BLE001 — recorded by the caller
                yield task, None, exc
        return
    with runner.process_pool(workers) as pool:
        todo = iter(tasks)
        running: dict[cf.Future, PointTask] = {}

        def refill() -> None:  # two points queued per worker
            while len(running) < 2 * workers and (task := next(todo, None)) is not None:
                running[pool.submit(run_point, task)] = task

        try:
            refill()
            while running:
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    task = running.pop(fut)
                    exc = fut.exception()
                    yield task, None if exc else fut.result(), exc
                refill()
        finally:
            for fut in running:
                fut.cancel()


def _dask(tasks: list[PointTask], workers: int, scheduler: str | None) -> Iterator[Outcome]:
    from dask.distributed import Client, LocalCluster, as_completed

    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = {client.submit(run_point, t, key=f"point-{t.index}-{time.time_ns()}", pure=False): t for t in tasks}
        for fut in as_completed(futures):
            task = futures[fut]
            exc = fut.exception()
            yield task, None if exc else fut.result(), exc
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """What :func:`run_sweep` did."""

    out_dir: Path
    points: int
    done: int
    failed: int
    wall_seconds: float
    interrupted: bool


def _point_file(folder: Path, index: int) -> Path:
    return folder / "points" / f"point-{index:06d}.parquet"


def _write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def _point_row(task: PointTask, stats: dict[str, float] | None, error: str | None, attempts: int) -> pa.Table:
    row: dict[str, Any] = {"point": task.index}
    row |= {f"param.{p}": float(v) for p, v in zip(task.paths, task.values, strict=True)}
    row |= {"status": "failed" if error else "ok", "error": error, "attempts": attempts}
    row |= stats or {}
    return pa.Table.from_pylist([row], schema=None)


def start(folder: Path, scenario: Scenario, design: Design, *, kind: str, runs: int, seed: int, engine: str,
          save_runs: bool, extra: dict[str, Any] | None = None, command: list[str] | None = None) -> None:
    """Create a sweep folder: its manifest (everything :func:`run_sweep` needs to resume) and design."""
    if engine not in runner.ENGINES:
        raise SweepError(f"unknown engine {engine!r}")
    folder.mkdir(parents=True, exist_ok=False)
    (folder / "points").mkdir()
    design_table = pa.table({"point": np.arange(len(design.values))}
                            | {f"param.{p}": design.values[:, j] for j, p in enumerate(design.paths)})
    _write_atomic(design_table, folder / "design.parquet")
    runner.write_json(folder / "manifest.json", {
        "kind": kind, "scenario": scenario.name, "scenario_file": scenario.path,
        "scenario_sha256": scenario.sha256, "design": design.method, "n": design.n,
        "factors": [f.__dict__ | {"values": list(f.values)} for f in design.factors],
        "points": len(design.values), "runs": runs, "seed": seed, "engine": engine, "save_runs": save_runs,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "status": "running",
        "git_commit": runner.git_commit(), "versions": runner.versions() | _extra_versions(),
        "command": command or [], **(extra or {}),
    })


def _extra_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in ("SALib", "dask", "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def load(folder: Path) -> tuple[dict[str, Any], Design]:
    """A sweep folder's manifest and design (for resuming and plotting)."""
    path = folder / "manifest.json"
    if not path.is_file() or not (folder / "design.parquet").is_file():
        raise SweepError(f"{folder}: not a sweep folder (no manifest.json and design.parquet)")
    manifest = json.loads(path.read_text())
    table = pq.read_table(folder / "design.parquet")
    factors = tuple(Factor(f["path"], f["low"], f["high"], tuple(f["values"]), f["kind"]) for f in manifest["factors"])
    values = np.column_stack([table.column(f"param.{f.path}").to_numpy() for f in factors])
    return manifest, Design(manifest["design"], factors, values, manifest["n"])


def run_sweep(
    folder: Path,
    *,
    workers: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run (or resume) the sweep recorded in ``folder`` until every point is done.

    Points already in ``points/`` are skipped. ``progress(done, total)`` is called as points finish.
    """
    manifest, design = load(folder)
    document, sha = read_document(manifest["scenario_file"])
    if sha != manifest["scenario_sha256"]:
        raise SweepError(f"{manifest['scenario_file']} has changed since the sweep started (sha256 differs); "
                         "resuming would mix two scenarios. Start a new sweep.")
    for tmp in (folder / "points").glob(".point-*.tmp"):
        tmp.unlink()
    total = len(design.values)
    done = {int(p.stem.split("-")[1]) for p in (folder / "points").glob("point-*.parquet")}
    if (folder / "points.parquet").is_file():
        done = set(range(total))
    tasks = [PointTask(k, document, manifest["scenario_file"], sha, design.paths, design.values[k], manifest["seed"],
                       manifest["runs"], manifest["engine"], manifest["save_runs"])
             for k in range(total) if k not in done]
    t0 = time.perf_counter()
    attempts = {t.index: 0 for t in tasks}
    interrupted = False
    if progress:
        progress(len(done), total)
    queue = tasks
    try:
        while queue:
            retry = []
            outcomes = _dask(queue, workers, scheduler) if executor == "dask" else _local(queue, workers)
            for task, result, exc in outcomes:
                attempts[task.index] += 1
                if exc is not None and attempts[task.index] <= RETRIES:
                    retry.append(task)
                    continue
                if exc is not None:
                    error = "".join(traceback.format_exception_only(exc)).strip()
                    row = _point_row(task, None, error, attempts[task.index])
                else:
                    _, stats, table = result
                    if table is not None:
                        run_dir = folder / records.RUNS / f"point-{task.index:06d}"
                        run_dir.mkdir(parents=True, exist_ok=True)
                        records.write_part(table, run_dir, 0)
                    row = _point_row(task, stats, None, attempts[task.index])
                _write_atomic(row, _point_file(folder, task.index))
                done.add(task.index)
                if progress:
                    progress(len(done), total)
            queue = retry
    except KeyboardInterrupt:
        interrupted = True
    if not interrupted and len(done) == total and not (folder / "points.parquet").is_file():
        parts = sorted((folder / "points").glob("point-*.parquet"))
        table = pa.concat_tables([pq.read_table(p) for p in parts], promote_options="default")
        _write_atomic(table, folder / "points.parquet")
        for p in parts:
            p.unlink()
    manifest["status"] = "interrupted" if interrupted else "complete"
    status = points(folder).column("status").to_pylist() if done else []
    manifest["failed_points"] = status.count("failed")
    manifest["executor"], manifest["workers"] = executor if not scheduler else f"dask:{scheduler}", workers
    runner.write_json(folder / "manifest.json", manifest)
    return SweepResult(folder, total, len(done), manifest["failed_points"], time.perf_counter() - t0, interrupted)


def points(folder: Path) -> pa.Table:
    """The sweep's point table (``points.parquet``, or the points finished so far), by point."""
    if (folder / "points.parquet").is_file():
        return pq.read_table(folder / "points.parquet")
    parts = sorted((folder / "points").glob("point-*.parquet"))
    if not parts:
        raise SweepError(f"{folder}: no finished points yet")
    return pa.concat_tables([pq.read_table(p) for p in parts], promote_options="default")


def finish(folder: Path, *, milestone: str = "agreement", threshold: float = 0.5) -> dict[str, Any]:
    """Figures and analyses of a complete sweep: curves, heat map (two grid factors),
    sensitivity indices (Sobol/Morris designs), and the PRIM scenario-discovery box."""
    from sim import sweep_plots

    manifest, design = load(folder)
    df = points(folder).to_pandas()
    ok = df[df["status"] == "ok"]
    paths = design.paths
    made: dict[str, Any] = {"figures": []}
    if ok.empty:
        return made
    grid = design.method == "grid"
    made["figures"].append(sweep_plots.plot_curves(ok, paths, milestone, grid, folder / "curves.png"))
    if grid and len(paths) == 2:
        made["figures"].append(sweep_plots.plot_heatmap(ok, paths[0], paths[1], milestone, folder / "heatmap.png"))
    if design.method in ("sobol", "morris"):
        y = df.sort_values("point")[f"p.{milestone}"].to_numpy(dtype=float)
        indices = analysis.sensitivity(design.method, design.problem(), design.values, y, manifest["seed"])
        indices["output"] = f"{milestone} before summit"
        runner.write_json(folder / "sensitivity.json", indices)
        made["sensitivity"] = indices
        made["figures"].append(sweep_plots.plot_sensitivity(indices, folder / "sensitivity.png"))
    hit = ok[f"p.{milestone}"].to_numpy() >= threshold
    if len(ok) >= 10 and 0 < hit.sum():
        box = analysis.prim_box(ok[[f"param.{p}" for p in paths]].to_numpy(), hit)
        box |= {"factors": paths, "threshold": threshold, "output": f"p.{milestone}"}
        runner.write_json(folder / "discovery.json", box)
        made["discovery"] = box
        made["figures"].append(sweep_plots.plot_discovery(ok, paths, box, milestone, threshold, folder / "discovery.png"))
    return made
