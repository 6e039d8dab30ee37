"""The cross-validated backtest and the learned priors: how long, and whether they reproduce.

- The whole fit plus the cross-validated backtest: every case of the library and every case
  file at every grid point (target: ≤ 30 min on 2 cores).
- One flagship forecast with the learned priors, as of 2025-10-25 (target: ≤ 60 s, ESS ≥ 2,000).
- Determinism: the same seed on 1 and on 2 workers gives identical forecasts and weights.

Every timing is the median of ``--repeat`` runs (the machines are shared and noisy).

    python benchmarks/bench_backtest.py                    # one full backtest per worker count (~10 min)
    python benchmarks/bench_backtest.py --repeat 3 --workers 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path

import numpy as np

from sim import runner
from sim.forecast import backtest, priors
from sim.forecast.library import load_all
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-determinism", action="store_true", help="skip the 1-worker run")
    args = ap.parse_args()
    cases = load_all(ROOT / "scenarios" / "library" / "cases.toml")
    runner.warm_up(cases[0].scenario)
    settings = {"seed": 0, "particles": 10_000, "target_ess": 1_000}
    times, result = [], None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        g = backtest.grid(cases, workers=args.workers, **settings)
        result = backtest.cross_validate(g)
        times.append(time.perf_counter() - t0)
    assert result is not None
    s = result["summary"]
    print(f"fit + cross-validated backtest, {s['forecasts']} forecasts of {s['cases']} cases × {len(priors.GRID)} "
          f"grid points, {args.workers} workers: median {statistics.median(times):,.0f} s of {len(times)}")
    print(f"  Brier learned {s['brier']:.4f}, judgement {s['brier_judgement']:.4f}, base {s['brier_base']:.4f}; "
          f"skill vs base {s['brier_skill_vs_base']:+.3f}")
    if not args.no_determinism:
        other = backtest.cross_validate(backtest.grid(cases, workers=1, **settings))
        same = (other["forecasts"] == result["forecasts"] and np.array_equal(other["weights"], result["weights"])
                and other["kinds"] == result["kinds"])
        print(f"  1 worker and {args.workers} workers give identical forecasts and weights: {same}")
    sc = load_scenario(ROOT / "scenarios" / "us_korea_2025.toml")
    learned = priors.load_learned()
    ftimes, ess = [], 0.0
    for _ in range(max(args.repeat, 3)):
        t0 = time.perf_counter()
        fc = priors.forecast(sc, dt.date(2025, 10, 25), seed=7, workers=args.workers)
        ftimes.append(time.perf_counter() - t0)
        ess = fc.result.ess
    p = fc.probabilities()["agreement"]["forecast"]["before_summit"]
    print(f"flagship forecast with the learned priors ({learned.describe(sc.kind) if learned else 'none written'}): "
          f"median {statistics.median(ftimes):.1f} s of {len(ftimes)}, ESS {ess:,.0f}, p {p['p']:.3f}")


if __name__ == "__main__":
    main()
