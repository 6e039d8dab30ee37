"""Compare two scenarios on the same worlds, with paired confidence intervals.

Both scenarios run the same replications with the same seed; wherever they share a
random stream (same parameter paths, calendar, events) they share its draws, so a
difference between them is the effect of what differs, not sampling noise. Each
milestone's probability and each common term is compared replication by
replication: the paired interval, and for contrast the interval two independent
runs of the same size would give.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sim import analysis, records, runner
from sim.scenario import MILESTONES, Scenario


def _flags(path: Path, name: str) -> np.ndarray:
    """A bool column as floats, NaN for replications that raised."""
    values = records.column(path, name).astype(np.float64)
    values[~records.completed(path)] = np.nan
    return values


def compare(a: Scenario, b: Scenario, *, runs: int, seed: int, out_dir: Path, workers: int = 1,
            engine: str = "batch", progress=None) -> dict[str, Any]:
    """Run both scenarios into ``out_dir/a`` and ``out_dir/b`` and return the comparison (also
    written to ``out_dir/compare.json``)."""
    out_dir.mkdir(parents=True, exist_ok=False)
    results = [runner.run(sc, n=runs, seed=seed, out_dir=out_dir / tag, workers=workers, engine=engine,
                          progress=progress) for tag, sc in (("a", a), ("b", b))]
    pa_, pb = (r.out_dir / records.RUNS for r in results)
    out: dict[str, Any] = {"a": a.name, "b": b.name, "a_file": a.path, "b_file": b.path, "runs": runs, "seed": seed,
                           "engine": engine, "milestones": {}, "terms": {}}
    for m in MILESTONES:
        out["milestones"][m] = analysis.paired_difference(_flags(pa_, f"{m}_before_summit"),
                                                          _flags(pb, f"{m}_before_summit"))
    common = [i for i in a.issue_keys if i in b.issue_keys]
    for key in common:
        out["terms"][key] = analysis.paired_difference(records.column(pa_, f"term.{key}"),
                                                       records.column(pb, f"term.{key}"))
    records.write_json(out_dir / "compare.json", out)
    return out


def report(result: dict[str, Any]) -> list[str]:
    """The comparison as terminal lines."""
    lines = [f"{result['a']} − {result['b']}, same {result['runs']:,} worlds (seed {result['seed']}):",
             "  P(before summit)          difference   paired 95%          unpaired 95%"]
    for m, d in result["milestones"].items():
        lines.append(f"  {MILESTONES[m]:<24} {d['diff']:+.4f}     [{d['low']:+.4f}, {d['high']:+.4f}]   "
                     f"[{d['unpaired_low']:+.4f}, {d['unpaired_high']:+.4f}]   "
                     f"({d['mean_a']:.3f} vs {d['mean_b']:.3f})")
    if result["terms"]:
        lines.append("  terms (both agreed)       difference   paired 95%          unpaired 95%")
    for key, d in result["terms"].items():
        lines.append(f"  {key:<24} {d['diff']:+.4f}     [{d['low']:+.4f}, {d['high']:+.4f}]   "
                     f"[{d['unpaired_low']:+.4f}, {d['unpaired_high']:+.4f}]   (n={d['n']:,})")
    return lines
