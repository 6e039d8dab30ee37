"""The page's Monte Carlo: N replications of the settings, summarised, kept in memory."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
from matplotlib.figure import Figure

from sim import analysis, plots, records, runner
from sim.app.settings import PageError
from sim.scenario import Scenario

#: Replications one Monte Carlo of the page may ask for (the command line has no such cap).
MAX_PAGE_RUNS = int(os.environ.get("SIM_PAGE_MAX_RUNS", 200_000))
DEFAULT_RUNS = 5_000


@dataclasses.dataclass
class MonteCarloResult:
    """A finished Monte Carlo of the page: its summary, figures and records (in memory: the
    temporary folder it ran in is gone)."""

    summary: dict[str, Any]
    figures: dict[str, Figure]
    table: pa.Table
    settings: str


def run_monte_carlo(scenario: Scenario, n: int, seed: int, settings: str = "",
                    progress: Callable[[int], None] | None = None) -> MonteCarloResult:
    """N replications with the command line's runner (in this process), summarised.

    Raises:
        PageError: if ``n`` is not in [1, :data:`MAX_PAGE_RUNS`].
    """
    if not 1 <= n <= MAX_PAGE_RUNS:
        raise PageError(f"the number of worlds must be between 1 and {MAX_PAGE_RUNS:,} on the page "
                        f"(for more: python -m sim run {Path(scenario.path).name} --runs {n})")
    with tempfile.TemporaryDirectory(prefix="sim-app-") as tmp:
        folder = Path(tmp) / "run"
        runner.run(scenario, n=n, seed=seed, out_dir=folder, workers=1, progress=progress, command=["app"])
        runs = folder / records.RUNS
        summary = analysis.summarize(runs, scenario)
        figures = {"milestones": plots.milestones_figure(summary),
                   "closing days": plots.closing_day_figure(runs, scenario),
                   "terms": plots.terms_figure(runs, scenario, summary)}
        table = records.read(runs)
    return MonteCarloResult(summary, figures, table, settings)
