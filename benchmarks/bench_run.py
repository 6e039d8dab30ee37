"""Replications per second of the shipped scenarios, for every engine.

For each scenario: the batch engine with 1 and 2 workers, the Mesa engine with 1
and 2 workers (``runner.run``: worlds, engine, records and writing runs.parquet
included; pool start-up included for 2 workers), and ``mesa.batch_run`` driving
the same model (:class:`sim.model.batchrun.ReplicationModel`, 1 process). Then the
two-worker scaling of each engine on the flagship scenario. Every figure is the
median of ``--repeat`` runs: the machines are shared and noisy, so compare medians
and ratios, not single runs.

    python benchmarks/bench_run.py                 # the README's table
    python benchmarks/bench_run.py --repeat 1 --batch-n 20000 --mesa-n 500   # a quick look
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import mesa
import tqdm

from sim import runner
from sim.model.batchrun import ReplicationModel
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def rate(scenario, n: int, workers: int, engine: str, repeat: int) -> float:
    rates = []
    for k in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            res = runner.run(scenario, n=n, seed=k, out_dir=Path(tmp) / "r", workers=workers, engine=engine, command=[])
        rates.append(res.completed / res.wall_seconds)
    return statistics.median(rates)


def batch_run_rate(path: Path, n: int, repeat: int) -> float:
    rates = []
    for k in range(repeat):
        t = time.perf_counter()
        mesa.batch_run(ReplicationModel, {"scenario_path": str(path), "run_seed": k}, rng=range(n),
                       max_steps=10**6, number_processes=1, display_progress=False)
        rates.append(n / (time.perf_counter() - t))
    return statistics.median(rates)


def main() -> None:
    # mesa.batch_run creates a tqdm bar (even when hidden), whose monitor thread would make the
    # runner start its workers by spawn instead of fork for the rest of the benchmark
    tqdm.tqdm.monitor_interval = 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch-n", type=int, default=200_000, help="replications per batch-engine run")
    ap.add_argument("--mesa-n", type=int, default=3_000, help="replications per Mesa-engine / batch_run run")
    ap.add_argument("--scaling-batch-n", type=int, default=1_000_000)
    ap.add_argument("--scaling-mesa-n", type=int, default=20_000)
    ap.add_argument("--scaling-scenario", default="us_korea_2025.toml")
    ap.add_argument("--scaling-only", action="store_true", help="only the two-worker scaling lines")
    args = ap.parse_args()

    print(f"replications/s, median of {args.repeat} (batch n={args.batch_n:,}; Mesa and mesa.batch_run "
          f"n={args.mesa_n:,})\n")
    print("| scenario | batch, 1 worker | batch, 2 workers | Mesa, 1 worker | Mesa, 2 workers | mesa.batch_run |")
    print("|---|---:|---:|---:|---:|---:|")
    for path in [] if args.scaling_only else sorted((ROOT / "scenarios").glob("*.toml")):
        sc = load_scenario(path)
        for engine in runner.ENGINES:
            runner.run_replication(sc, 0, 0, engine)  # compile or load the engine first
        cells = [rate(sc, args.batch_n, w, "batch", args.repeat) for w in (1, 2)]
        cells += [rate(sc, args.mesa_n, w, "mesa", args.repeat) for w in (1, 2)]
        cells.append(batch_run_rate(path, args.mesa_n, args.repeat))
        print(f"| {path.name} | " + " | ".join(f"{c:,.0f}" for c in cells) + " |", flush=True)

    sc = load_scenario(ROOT / "scenarios" / args.scaling_scenario)
    runner.run_replication(sc, 0, 0, "batch")
    print()
    for engine, n in (("batch", args.scaling_batch_n), ("mesa", args.scaling_mesa_n)):
        one, two = (rate(sc, n, w, engine, args.repeat) for w in (1, 2))
        print(f"{args.scaling_scenario}, {engine} engine, n={n:,}: 1 worker {one:,.0f}/s, "
              f"2 workers {two:,.0f}/s, ratio {two / one:.2f}x", flush=True)


if __name__ == "__main__":
    main()
