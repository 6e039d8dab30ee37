"""Replications per second of the shipped scenarios (Mesa engine), one and two workers.

Each figure is the median of ``--repeat`` runs of ``runner.run`` (worlds, engine,
records and writing runs.parquet included; worker start-up included for 2 workers).
The machines are shared and noisy: compare medians and ratios, not single runs.

    python benchmarks/bench_run.py                    # all scenarios, n=3000, and the 2-worker scaling run
    python benchmarks/bench_run.py --scaling-n 20000  # the issue's scaling check
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from sim import runner
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def rate(scenario, n: int, workers: int, repeat: int) -> float:
    rates = []
    for k in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            res = runner.run(scenario, n=n, seed=k, out_dir=Path(tmp) / "r", workers=workers, command=[])
        rates.append(res.completed / res.wall_seconds)
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scaling-n", type=int, default=20000)
    ap.add_argument("--scaling-scenario", default="us_korea_from_july.toml")
    args = ap.parse_args()

    print(f"| scenario | reps/s, 1 worker (n={args.n:,}, median of {args.repeat}) |")
    print("|---|---:|")
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        sc = load_scenario(path)
        runner.run_replication(sc, 0, 0)  # compile/load the decision functions first
        print(f"| {path.name} | {rate(sc, args.n, 1, args.repeat):,.0f} |", flush=True)

    sc = load_scenario(ROOT / "scenarios" / args.scaling_scenario)
    one = rate(sc, args.scaling_n, 1, args.repeat)
    two = rate(sc, args.scaling_n, 2, args.repeat)
    print(f"\n{args.scaling_scenario}, n={args.scaling_n:,}: 1 worker {one:,.0f}/s, 2 workers {two:,.0f}/s, "
          f"ratio {two / one:.2f}x")


if __name__ == "__main__":
    main()
