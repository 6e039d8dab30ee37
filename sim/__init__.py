"""An agent-based simulator of two-party negotiations against a deadline.

The flow follows the data: a scenario file is loaded and validated
(:mod:`sim.scenario`), worlds are sampled from the run's seed (:mod:`sim.world`),
an engine plays each world out (:mod:`sim.model`, the Mesa engine, and :mod:`sim.batch`,
its vectorised twin; both built on the pure decision functions of :mod:`sim.negotiation`),
the runner streams per-replication records to disk (:mod:`sim.runner`, :mod:`sim.records`),
and summaries and plots are made from them (:mod:`sim.analysis`, :mod:`sim.plots`).

Two wings build on that core:

- :mod:`sim.forecast` — the forecast given the dated record, the case library, priors
  learned across it, and the backtest;
- :mod:`sim.sweep` — designs, sweeps, sensitivity and what-if comparisons.

Around them: :mod:`sim.validation` (the model against theory and data), :mod:`sim.cli`
(``python -m sim``) and :mod:`sim.app` (the Solara page).

The front door — what a user imports::

    import datetime
    from pathlib import Path

    import sim

    scenario = sim.load_scenario("scenarios/us_korea_2025.toml")
    result = sim.run(scenario, n=10_000, seed=0, out_dir=Path("results/demo"))
    print(sim.summarize(result.out_dir / "runs", scenario)["milestones"]["agreement"])
    fc = sim.forecast.forecast(scenario, datetime.date(2025, 10, 25), seed=7)

Names resolve lazily, so ``import sim`` stays cheap (the engines compile on first use).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Front-door name → the module that defines it.
_FRONT_DOOR = {
    "load_scenario": "sim.scenario", "parse_scenario": "sim.scenario", "Scenario": "sim.scenario",
    "ScenarioError": "sim.scenario", "sample_worlds": "sim.world", "run": "sim.runner",
    "run_replication": "sim.runner", "summarize": "sim.analysis", "load_case": "sim.forecast.cases",
    "load_library": "sim.forecast.library", "run_sweep": "sim.sweep.run", "compare": "sim.sweep.compare",
}

__all__ = ["__version__", "forecast", "sweep", *_FRONT_DOOR]


def __getattr__(name: str) -> Any:
    if name in _FRONT_DOOR:
        return getattr(importlib.import_module(_FRONT_DOOR[name]), name)
    if name in ("forecast", "sweep"):
        return importlib.import_module(f"sim.{name}")
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
