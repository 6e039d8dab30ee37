"""The model as an EMA Workbench ``ReplicatorModel`` (the optional ``ema`` extra).

:func:`build_model` turns a scenario's declared ``[[uncertainties]]`` and ``[[levers]]``
into EMA parameters and its milestones into outcomes, so EMA's samplers,
``perform_experiments`` and analyses (its full PRIM with pasting and the trade-off
curve, CART, feature scoring) run on this simulator. Replication *i* of an experiment
is replication *i* of ``python -m sim run --seed S`` with the experiment's values written
into the scenario: the same worlds a sweep point plays (common random numbers), so an
experiment's outcome equals the sweep's for the same values.

    from ema_workbench import perform_experiments
    from ema_workbench.analysis import prim
    from sim.sweep.ema import build_model

    model = build_model("scenarios/us_korea_2025.toml", replications=200, seed=7)
    experiments, outcomes = perform_experiments(model, scenarios=100)
    x = experiments[list(model.parameter_paths)]  # columns named by ema_name(path)
    box = prim.Prim(x, outcomes["p_agreement"] >= 0.5, threshold=0.6)

The built-in :func:`sim.sweep.sensitivity.prim_box` is a simplified, peeling-only PRIM for the
sweep's default figure; use EMA's for the full analysis.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from sim import runner
from sim.scenario import MILESTONES, Scenario, load_scenario, read_document
from sim.sweep.design import point_scenario


def ema_name(path: str) -> str:
    """An EMA parameter name (a Python identifier) for a dotted path: ``parties.us.reservation``
    → ``parties__us__reservation``, ``events[2].hazard`` → ``events_2__hazard``."""
    return re.sub(r"\[(\d+)\]", r"_\1_", path).replace(".", "__")


class ScenarioFunction:
    """What EMA calls per replication: ``f(replication=i, **values) -> outcomes`` (picklable,
    so EMA's multiprocessing evaluator can send it to its workers)."""

    def __init__(self, path: str | Path, seed: int, paths: dict[str, str], engine: str = "batch") -> None:
        self.path, self.seed, self.paths, self.engine = str(path), seed, paths, engine
        self.document, self.sha256 = read_document(path)
        self._scenarios: dict[tuple[tuple[str, float], ...], Scenario] = {}

    def scenario(self, values: dict[str, float]) -> Scenario:
        """The scenario with ``values`` (dotted path → number) written in, validated (cached)."""
        key = tuple(sorted((k, float(v)) for k, v in values.items()))
        if key not in self._scenarios:
            paths = [k for k, _ in key]
            self._scenarios[key] = point_scenario(self.document, self.path, self.sha256, paths,
                                                  np.array([v for _, v in key]))
        return self._scenarios[key]

    def __call__(self, replication: int, **values: Any) -> dict[str, float]:
        """Replication ``replication`` with ``values`` (EMA names → numbers): each milestone reached
        before the summit and by the horizon, as 0 or 1."""
        scenario = self.scenario({self.paths[name]: v for name, v in values.items() if name in self.paths})
        row = runner.run_chunk(scenario, self.seed, int(replication), 1, self.engine).to_pylist()[0]
        out = {f"{m}_before_summit": float(bool(row[f"{m}_before_summit"])) for m in MILESTONES}
        out |= {f"{m}_by_horizon": float(bool(row[m])) for m in MILESTONES}
        return out


def build_model(path: str | Path, *, replications: int = 100, seed: int = 0, engine: str = "batch") -> Any:
    """An EMA ``ReplicatorModel`` of the scenario at ``path``.

    Its uncertainties and levers are the scenario's declared ``[[uncertainties]]`` and
    ``[[levers]]`` (EMA parameters named by :func:`ema_name`; ``model.parameter_paths`` maps
    each name to its dotted path);
    its outcomes are, per milestone, ``p_<milestone>`` = P(reached before the summit) and
    ``p_<milestone>_by_horizon``, means over ``replications`` replications.

    Raises:
        ImportError: without the ``ema`` extra (``pip install 'negotiation-sim[ema]'``).
    """
    try:
        from ema_workbench import CategoricalParameter, RealParameter, ReplicatorModel, ScalarOutcome
    except ImportError as exc:
        raise ImportError("sim.sweep.ema needs EMA Workbench: pip install 'negotiation-sim[ema]'") from exc
    scenario = load_scenario(path)
    paths = {ema_name(f.path): f.path for f in scenario.factors}
    model = ReplicatorModel(scenario.name, function=ScenarioFunction(path, seed, paths, engine))

    def parameter(f: Any) -> Any:
        if f.values:
            return CategoricalParameter(ema_name(f.path), list(f.values))
        return RealParameter(ema_name(f.path), f.low, f.high)

    model.uncertainties = [parameter(f) for f in scenario.factors if f.kind == "uncertainty"]
    model.levers = [parameter(f) for f in scenario.factors if f.kind == "lever"]
    model.outcomes = [ScalarOutcome(f"p_{m}", variable_name=f"{m}_before_summit", function=np.mean)
                      for m in MILESTONES]
    model.outcomes += [ScalarOutcome(f"p_{m}_by_horizon", variable_name=f"{m}_by_horizon", function=np.mean)
                       for m in MILESTONES]
    model.replications = [{"replication": i} for i in range(replications)]
    model.parameter_paths = paths
    return model
