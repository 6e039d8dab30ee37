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
    points/           one JSON file per finished point (while the sweep runs)
    points.parquet    one row per point, when every point is done
    runs/point-<k>/   per-replication records of each point (with --save-runs)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim import analysis, records, runner
from sim.distributions import make_dist
from sim.scenario import Scenario, ScenarioError, read_document
from sim.sweep.design import Design, Factor, point_scenario

RETRIES = 1  # a point that raises is run once more before it is recorded as failed
EXECUTORS = runner.EXECUTORS


class SweepError(ValueError):
    """A sweep folder or request that cannot be run or resumed; the message says why."""


@dataclass(frozen=True)
class Task:
    """A few design points for one worker (picklable, no open files): tasks of ~``TASK_REPLICATIONS``
    replications keep per-task overheads (scheduling, pickling the document) small."""

    points: list[tuple[int, np.ndarray]]  # (index, values)
    document: dict[str, Any]
    file: str
    sha256: str
    paths: list[str]
    seed: int
    runs: int
    engine: str
    keep_runs: bool


TASK_REPLICATIONS = 20_000

#: A point's result: (index, statistics, per-replication table or None, error or None).
PointResult = tuple[int, dict[str, float] | None, pa.Table | None, str | None]


def run_point(task: Task, values: np.ndarray) -> tuple[dict[str, float], pa.Table]:
    """Run one design point: its scenario, validated, over the sweep's worlds."""
    scenario = point_scenario(task.document, task.file, task.sha256, task.paths, values)
    table = runner.run_chunk(scenario, task.seed, 0, task.runs, task.engine)
    return analysis.point_summary(table, scenario), table


def run_task(task: Task) -> list[PointResult]:
    """Run a task's points; a point that raises is reported with its error, the others go on."""
    out: list[PointResult] = []
    for index, values in task.points:
        try:
            stats, table = run_point(task, values)
            out.append((index, stats, table if task.keep_runs else None, None))
        except Exception as exc:
            out.append((index, None, None, "".join(traceback.format_exception_only(exc)).strip()))
    return out


def _tasks(points: list[tuple[int, np.ndarray]], workers: int, **common: Any) -> list[Task]:
    size = max(1, min(-(-TASK_REPLICATIONS // common["runs"]), -(-len(points) // (4 * workers))))
    return [Task(points[k:k + size], **common) for k in range(0, len(points), size)]


# --- executors: submit tasks, yield (task, results or None, exception or None) as they finish


Outcome = tuple[Task, list[PointResult] | None, BaseException | None]


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
    return folder / "points" / f"point-{index:06d}.json"


def _write_point(folder: Path, index: int, values: np.ndarray, paths: list[str], stats: dict[str, float] | None,
                 error: str | None, attempts: int) -> None:
    """A finished point as one small JSON file (floats round-trip exactly), written atomically."""
    row: dict[str, Any] = {"point": index}
    row |= {f"param.{p}": float(v) for p, v in zip(paths, values, strict=True)}
    row |= {"status": "failed" if error else "ok", "error": error, "attempts": attempts}
    row |= stats or {}
    records.write_json(_point_file(folder, index), row)


def _point_rows(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((folder / "points").glob("point-*.json"))]


def check_points(scenario: Scenario, design: Design) -> None:
    """Validate every design point's scenario before anything runs.

    Raises:
        SweepError: naming the first point whose scenario is invalid, with its values.
    """
    document, sha = read_document(scenario.path)
    for k, values in enumerate(design.values):
        try:
            point_scenario(document, scenario.path, sha, design.paths, values)
        except ScenarioError as exc:
            point = ", ".join(f"{p}={v:g}" for p, v in zip(design.paths, values, strict=True))
            raise SweepError(f"design point {k} ({point}) is not a valid scenario: {exc}") from None


def start(folder: Path, scenario: Scenario, design: Design, *, kind: str, runs: int, seed: int, engine: str,
          save_runs: bool, extra: dict[str, Any] | None = None, command: list[str] | None = None) -> None:
    """Create a sweep folder: its manifest (everything :func:`run_sweep` needs to resume) and design.
    Every point is validated first (:func:`check_points`): nothing is written for an invalid design."""
    if engine not in runner.ENGINES:
        raise SweepError(f"unknown engine {engine!r}")
    check_points(scenario, design)
    with records.claimed(folder):
        _write_start(folder, scenario, design, kind=kind, runs=runs, seed=seed, engine=engine, save_runs=save_runs,
                     extra=extra, command=command)


def _write_start(folder: Path, scenario: Scenario, design: Design, *, kind: str, runs: int, seed: int, engine: str,
                 save_runs: bool, extra: dict[str, Any] | None, command: list[str] | None) -> None:
    (folder / "points").mkdir()
    columns = {"point": np.arange(len(design.values))}
    columns |= {f"param.{p}": design.values[:, j] for j, p in enumerate(design.paths)}
    if design.unit is not None:  # the unit-cube coordinates: what the sensitivity indices are computed on
        columns |= {f"unit.{p}": design.unit[:, j] for j, p in enumerate(design.paths)}
    records.write_table(pa.table(columns), folder / "design.parquet")
    records.write_json(folder / "manifest.json", {
        "kind": kind, "scenario": scenario.name, "scenario_file": scenario.path,
        "scenario_sha256": scenario.sha256, "design": design.method, "n": design.n,
        "factors": [_factor_json(f) for f in design.factors],
        "points": len(design.values), "runs": runs, "seed": seed, "engine": engine, "save_runs": save_runs,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "status": "running",
        "git_commit": records.git_commit(), "versions": records.versions(("SALib", "dask", "distributed")),
        "command": command or [], **(extra or {}),
    })


def load(folder: Path) -> tuple[dict[str, Any], Design]:
    """A sweep folder's manifest and design (for resuming and plotting)."""
    path = folder / "manifest.json"
    if not path.is_file() or not (folder / "design.parquet").is_file():
        raise SweepError(f"{folder}: not a sweep folder (no manifest.json and design.parquet)")
    manifest = json.loads(path.read_text())
    table = pq.read_table(folder / "design.parquet")
    factors = tuple(Factor(f["path"], f["low"], f["high"], tuple(f["values"]), f["kind"],
                           make_dist(f["dist"]) if f.get("dist") else None) for f in manifest["factors"])
    values = np.column_stack([table.column(f"param.{f.path}").to_numpy() for f in factors])
    unit = None
    if f"unit.{factors[0].path}" in table.column_names:
        unit = np.column_stack([table.column(f"unit.{f.path}").to_numpy() for f in factors])
    return manifest, Design(manifest["design"], factors, values, manifest["n"], unit)


def _factor_json(f: Factor) -> dict[str, Any]:
    """A factor as the manifest stores it (its distribution as a scenario file writes one)."""
    out = {"path": f.path, "low": f.low, "high": f.high, "values": list(f.values), "kind": f.kind}
    if f.dist is not None:
        out["dist"] = {"dist": f.dist.kind} | {k: list(v) if isinstance(v, tuple) else v for k, v in f.dist.params}
    return out


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
    The folder is locked while the sweep runs (see :func:`sim.records.claim_dir`): a second
    process resuming it at the same time is refused.
    """
    with records.claimed(folder, empty=False):
        return _run_sweep(folder, workers=workers, executor=executor, scheduler=scheduler, progress=progress)


def _run_sweep(folder: Path, *, workers: int, executor: str, scheduler: str | None,
               progress: Callable[[int, int], None] | None) -> SweepResult:
    manifest, design = load(folder)
    document, sha = read_document(manifest["scenario_file"])
    if sha != manifest["scenario_sha256"]:
        raise SweepError(f"{manifest['scenario_file']} has changed since the sweep started (sha256 differs); "
                         "resuming would mix two scenarios. Start a new sweep.")
    records.remove_partial(folder / "points")  # a point being written when the sweep stopped
    total = len(design.values)
    done = {int(p.stem.split("-")[1]) for p in (folder / "points").glob("point-*.json")}
    if (folder / "points.parquet").is_file():
        done = set(range(total))
    todo = [(k, design.values[k]) for k in range(total) if k not in done]
    common = {"document": document, "file": manifest["scenario_file"], "sha256": sha, "paths": design.paths,
              "seed": manifest["seed"], "runs": manifest["runs"], "engine": manifest["engine"],
              "keep_runs": manifest["save_runs"]}
    t0 = time.perf_counter()
    attempts = dict.fromkeys((k for k, _ in todo), 0)
    interrupted = False
    if progress:
        progress(len(done), total)
    try:
        while todo:
            retry = []
            tasks = _tasks(todo, workers, **common)
            outcomes = runner.run_tasks(run_task, tasks, workers, executor=executor, scheduler=scheduler, name="sweep")
            for task, results, exc in outcomes:
                if results is None:
                    lost = "".join(traceback.format_exception_only(exc)).strip() if exc else "lost"
                    results = [(index, None, None, lost) for index, _ in task.points]
                for (index, stats, table, error), (_, values) in zip(results, task.points, strict=True):
                    attempts[index] += 1
                    if error is not None and attempts[index] <= RETRIES:
                        retry.append((index, values))
                        continue
                    if table is not None:
                        run_dir = folder / records.RUNS / f"point-{index:06d}"
                        run_dir.mkdir(parents=True, exist_ok=True)
                        records.write_part(table, run_dir, 0)
                    _write_point(folder, index, values, design.paths, stats, error, attempts[index])
                    done.add(index)
                    if progress:
                        progress(len(done), total)
            todo = sorted(retry, key=lambda p: p[0])
    except KeyboardInterrupt:
        interrupted = True
    except BaseException as exc:  # the disk, the network, a bug: the manifest must not say "running"
        manifest["status"] = "stopped"
        manifest["error"] = "".join(traceback.format_exception_only(exc)).strip()
        with contextlib.suppress(OSError):
            records.write_json(folder / "manifest.json", manifest)
        raise
    if not interrupted and len(done) == total and not (folder / "points.parquet").is_file():
        records.write_table(points(folder), folder / "points.parquet")
        for p in (folder / "points").glob("point-*.json"):
            p.unlink()
    manifest["status"] = "interrupted" if interrupted else "complete"
    status = points(folder).column("status").to_pylist() if done else []
    manifest["failed_points"] = status.count("failed")
    manifest["executor"], manifest["workers"] = executor if not scheduler else f"dask:{scheduler}", workers
    records.write_json(folder / "manifest.json", manifest)
    return SweepResult(folder, total, len(done), manifest["failed_points"], time.perf_counter() - t0, interrupted)


def points(folder: Path) -> pa.Table:
    """The sweep's point table (``points.parquet``, or the points finished so far), by point."""
    if (folder / "points.parquet").is_file():
        return pq.read_table(folder / "points.parquet")
    rows = _point_rows(folder)
    if not rows:
        raise SweepError(f"{folder}: no finished points yet")
    # failed points have no statistics: their columns are filled with nulls (NaN for numbers)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    table = pa.Table.from_pylist([{k: row.get(k) for k in columns} for row in rows])
    return table.set_column(table.schema.get_field_index("error"), "error",
                            table.column("error").cast(pa.string()))
