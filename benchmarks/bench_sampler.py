"""The page's forecasts in a process of their own: one BLAS thread for the sampler (as shipped)
against BLAS's own thread count.

The page's reruns after a setting (``benchmarks/bench_page.py``) are forecasts of the flagship
with one setting at an end of its slider, as of the latest record date, seed 0: the first
``--settings`` of the page's sliders, each timed here without the server and the browser. The
shipped sampler runs its linear algebra on one BLAS thread (:func:`sim.forecast.inference.one_blas_thread`);
``free`` lets BLAS take its default number of threads, as before. Medians over the settings and
``--repeat`` rounds (the machines are shared and noisy), with the ratio.

    python benchmarks/bench_sampler.py
    python benchmarks/bench_sampler.py --repeat 1 --settings 3
"""

from __future__ import annotations

import argparse
import statistics
import time

from threadpoolctl import threadpool_info

from sim import runner
from sim.app import forecasting, settings
from sim.forecast import conditioning, inference

SCENARIO = "us_korea_2025.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--settings", type=int, default=5)
    args = ap.parse_args()
    base = settings.configure(SCENARIO, {})
    runner.warm_up(base)
    as_of = forecasting.default_as_of(base)
    forecasting.run_forecast(base, as_of, 0)  # warm: not timed
    controls = settings.controls(base)[:args.settings]
    scenarios = [settings.configure(SCENARIO, {c.path: c.high}) for c in controls]
    shipped = conditioning.smc
    free = inference.smc.__wrapped__  # type: ignore[attr-defined]  # the sampler without its BLAS limit
    threads = sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})
    times: dict[str, list[float]] = {"one BLAS thread (shipped)": [], f"BLAS's own threads ({threads})": []}
    answers: dict[str, list[float]] = {k: [] for k in times}
    for _ in range(args.repeat):
        for name, smc in zip(times, (shipped, free), strict=True):
            conditioning.smc = smc  # the forecast's own reference to the sampler
            for sc in scenarios:
                t0 = time.perf_counter()
                f = forecasting.run_forecast(sc, as_of, 0)
                times[name].append(time.perf_counter() - t0)
                answers[name].append(round(f.p, 12))
    conditioning.smc = shipped
    for name, t in times.items():
        print(f"{name:28s} median {statistics.median(t):.2f} s over {len(t)} forecasts "
              f"({min(t):.2f}-{max(t):.2f} s)")
    one, own = (statistics.median(t) for t in times.values())
    print(f"ratio: {own / one:.2f}x; the same answers to 12 decimals: {len(set(map(tuple, answers.values()))) == 1}")


if __name__ == "__main__":
    main()
