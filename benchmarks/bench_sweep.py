"""Wall time of a sweep: a 100-point grid × 1,000 replications of the flagship scenario.

Local processes with 1 and 2 workers, and Dask with 2 workers: on a LocalCluster
started by the sweep (cluster start-up included) and on one already running
(``--scheduler``, start-up excluded). Medians of ``--repeat`` runs; results and
the command line go to stdout.

    python benchmarks/bench_sweep.py
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import tqdm

from sim import runner
from sim.scenario import load_scenario
from sim.sweep import run as sweep
from sim.sweep.design import make_design, parse_vary

ROOT = Path(__file__).resolve().parent.parent


def timed(scenario, design, runs: int, repeat: int, **kw) -> float:
    walls = []
    for k in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "s"
            sweep.start(folder, scenario, design, kind="sweep", runs=runs, seed=k, engine="batch", save_runs=False)
            t = time.perf_counter()
            result = sweep.run_sweep(folder, **kw)
            walls.append(time.perf_counter() - t)
            assert result.done == len(design.values) and not result.failed
    return statistics.median(walls)


def main() -> None:
    tqdm.tqdm.monitor_interval = 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--runs", type=int, default=1000)
    args = ap.parse_args()
    sc = load_scenario(ROOT / "scenarios" / "us_korea_2025.toml")
    design = make_design("grid", (parse_vary("us.tactic.beta=0.2:2.0:10", sc),
                                  parse_vary("korea.issues.annual_cash.max=16:25:10", sc)))
    runner.run_replication(sc, 0, 0, "batch")  # compile or load the engine first
    total = len(design.values) * args.runs
    print(f"{len(design.values)} points × {args.runs:,} replications of {sc.name} ({total:,}), "
          f"median of {args.repeat}:")
    rows = [("local, 1 worker", timed(sc, design, args.runs, args.repeat, workers=1)),
            ("local, 2 workers", timed(sc, design, args.runs, args.repeat, workers=2)),
            ("dask LocalCluster, 2 workers (start-up included)",
             timed(sc, design, args.runs, args.repeat, workers=2, executor="dask"))]
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        timed(sc, design, args.runs, 1, executor="dask", scheduler=cluster.scheduler_address)  # warm the workers
        rows.append(("dask, running cluster, 2 workers",
                     timed(sc, design, args.runs, args.repeat, executor="dask", scheduler=cluster.scheduler_address)))
    local2 = rows[1][1]
    for name, wall in rows:
        print(f"  {name:<50} {wall:6.2f} s  {total / wall:>9,.0f} replications/s  {wall / local2 - 1:+.0%} vs local 2")


if __name__ == "__main__":
    main()
