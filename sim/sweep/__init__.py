"""The sweeping wing: many variants of one scenario, and what their differences say.

- :mod:`~sim.sweep.design` — which values each design point sets (grids, Latin hypercube,
  Monte Carlo, Sobol/Saltelli, Morris), checked against the size limits;
- :mod:`~sim.sweep.run` — every point run resumably, on local processes or a Dask cluster;
- :mod:`~sim.sweep.sensitivity` — Sobol and Morris indices (SALib), scenario discovery (PRIM);
- :mod:`~sim.sweep.report` — a sweep's figures and table;
- :mod:`~sim.sweep.compare` — a what-if against its baseline on common random numbers;
- :mod:`~sim.sweep.ema` — the model as an EMA Workbench model, for its richer analyses.
"""

from sim.sweep.design import Design, DesignError, Factor, make_design
from sim.sweep.run import SweepError, SweepResult, run_sweep

__all__ = ["Design", "DesignError", "Factor", "SweepError", "SweepResult", "make_design", "run_sweep"]
