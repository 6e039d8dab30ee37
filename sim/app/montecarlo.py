"""The page's Monte Carlo: N replications of the settings, summarised, kept in memory."""

from __future__ import annotations

import atexit
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from matplotlib.figure import Figure

from sim import analysis, plots, records, runner
from sim.app.settings import PageError
from sim.scenario import Scenario

#: Replications one Monte Carlo of the page may ask for (the command line has no such cap).
MAX_PAGE_RUNS = int(os.environ.get("SIM_PAGE_MAX_RUNS", 200_000))
DEFAULT_RUNS = 5_000
#: The page's temporary folders are named after the server's process id, so that a later
#: server can remove those of a server that was killed.
PREFIX = "sim-app-"
_ACTIVE: set[str] = set()


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
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-") as tmp:
        _ACTIVE.add(tmp)
        folder = Path(tmp) / "run"
        runner.run(scenario, n=n, seed=seed, out_dir=folder, workers=1, progress=progress, command=["app"])
        runs = folder / records.RUNS
        summary = analysis.summarize(runs, scenario)
        figures = {"milestones": plots.milestones_figure(summary),
                   "closing days": plots.closing_day_figure(runs, scenario),
                   "terms": plots.terms_figure(runs, scenario, summary)}
        table = records.read(runs)
    _ACTIVE.discard(tmp)
    return MonteCarloResult(summary, figures, table, settings)


def paired(whatif: MonteCarloResult, baseline: MonteCarloResult, headline: str) -> dict[str, float]:
    """What-if minus baseline of P(headline before the summit), paired on the same worlds (both
    Monte Carlos ran with the same seed: common random numbers), with its 95% interval."""
    column = f"{headline}_before_summit"

    def hits(r: MonteCarloResult) -> np.ndarray:
        return r.table.column(column).to_numpy(zero_copy_only=False).astype(np.float64)

    return analysis.paired_difference(hits(whatif), hits(baseline))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep_stale() -> None:
    """Remove the page's temporary folders whose server is gone (killed mid-run, even by kill -9)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        pid = folder.name.removeprefix(PREFIX).split("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _clean_active() -> None:
    """At exit (a stopped server), remove the folders of Monte Carlos still running."""
    for tmp in list(_ACTIVE):
        shutil.rmtree(tmp, ignore_errors=True)


atexit.register(_clean_active)
sweep_stale()
