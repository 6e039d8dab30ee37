"""Forecast speed: the flagship forecast, the cost of recording standing offers, the timeline.

- The flagship forecast as of 2025-10-25 (target: ESS ≥ 2,000 in ≤ 60 s on 2 cores, warm).
- Recording each side's standing offer on the record's dates: batch-engine throughput with
  the record and without it (target: ≤ 20% slower).
- The timeline: one forecast per date with news (target: ≥ 10 dates in ≤ 5 minutes).

Every figure is the median of ``--repeat`` runs: the machines are shared and noisy.

    python benchmarks/bench_forecast.py
    python benchmarks/bench_forecast.py --repeat 1 --no-timeline     # a quick look
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import time
from pathlib import Path

from sim import batch, runner
from sim.forecast import conditioning as forecast
from sim.forecast import report as forecast_report
from sim.scenario import load_scenario
from sim.world import sample_worlds

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engine-n", type=int, default=20_000, help="worlds per engine timing")
    ap.add_argument("--no-timeline", action="store_true")
    args = ap.parse_args()
    sc = load_scenario(ROOT / "scenarios" / "us_korea_2025.toml")
    runner.warm_up(sc)

    times, ess = [], []
    for k in range(args.repeat):
        t0 = time.perf_counter()
        fc = forecast.forecast(sc, dt.date(2025, 10, 25), seed=k, workers=args.workers)
        times.append(time.perf_counter() - t0)
        ess.append(fc.result.ess)
    print(f"flagship forecast as of 2025-10-25, {args.workers} workers: median {statistics.median(times):.1f} s "
          f"(runs: {', '.join(f'{t:.1f}' for t in times)} s), ESS median {statistics.median(ess):,.0f} "
          f"(runs: {', '.join(f'{e:,.0f}' for e in ess)})", flush=True)

    bare = dataclasses.replace(sc, record=None)
    worlds = sample_worlds(sc, 1, 0, args.engine_n)
    rates: dict[str, list[float]] = {"with the record": [], "without": []}
    for _ in range(max(5, 5 * args.repeat)):
        for name, s in (("with the record", sc), ("without", bare)):
            t0 = time.perf_counter()
            batch.run_worlds(s, worlds)
            rates[name].append(args.engine_n / (time.perf_counter() - t0))
    with_, without = (statistics.median(v) for v in rates.values())
    print(f"batch engine, {len(sc.observation_days)} observation days: {with_:,.0f}/s with standing offers, "
          f"{without:,.0f}/s without: {100 * (1 - with_ / without):.1f}% slower", flush=True)

    if not args.no_timeline:
        t0 = time.perf_counter()
        rows = forecast_report.timeline(sc, None, seed=0, workers=args.workers)
        print(f"timeline: {len(rows)} forecasts (the prior and {len(rows) - 1} dates with news) in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
