"""Drive the model with Mesa's own ``mesa.batch_run``.

``mesa.batch_run`` builds a model from keyword parameters and an ``rng`` value per
run. :class:`ReplicationModel` takes a scenario file and a run seed as parameters
and reads ``rng`` as the replication index, so replication *i* is the very world
``python -m sim run --seed S`` plays as its replication *i*::

    import mesa
    from sim.model.batchrun import ReplicationModel
    rows = mesa.batch_run(ReplicationModel, {"scenario_path": "scenarios/us_korea_2025.toml", "run_seed": 7},
                          rng=range(1000), max_steps=10_000, display_progress=False)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import lru_cache

import mesa

from sim.model.model import NegotiationModel
from sim.scenario import MILESTONES, Scenario, load_scenario
from sim.world import sample_worlds


def _term(model: NegotiationModel, k: int) -> float | None:
    return None if model.agreement is None else float(model.agreement[k])


def _day(model: ReplicationModel, key: str) -> int | None:
    day = int(model.result[key])
    return day if day >= 0 else None


def _before_summit(model: ReplicationModel, key: str) -> bool:
    return bool(model.spec.by_summit(int(model.result[key])))


@lru_cache(maxsize=8)
def _scenario(path: str) -> Scenario:
    return load_scenario(path)


class ReplicationModel(NegotiationModel):
    """Replication ``rng`` of a run with ``run_seed`` of the scenario at ``scenario_path``.

    Its DataCollector records the outcome when the negotiation ends: each milestone's day
    (``agreement_day``, ``signed_day``, ``ratified_day``; None if not reached) and whether it
    came by the summit (``agreement_before_summit``..., the headline), who closed or walked
    away, the number of meetings and the agreed terms.
    """

    def __init__(self, scenario_path: str, run_seed: int = 0, rng: int = 0) -> None:
        scenario = _scenario(scenario_path)
        super().__init__(scenario, sample_worlds(scenario, run_seed, int(rng), 1).row(0))
        self.result: dict = {}
        milestones: dict[str, Callable[[ReplicationModel], object]] = {}
        for m in MILESTONES:  # as in a run's records: the day (None if not reached) and the headline flag
            milestones[f"{m}_day"] = functools.partial(_day, key=f"{m}_day")
            milestones[f"{m}_before_summit"] = functools.partial(_before_summit, key=f"{m}_day")
        self.datacollector = mesa.DataCollector(model_reporters={
            **milestones,
            "closed_by": lambda m: m.closed_by,
            "walked_away": lambda m: m.walked_away,
            "rounds": lambda m: m.rounds,
            **{f"term.{issue.key}": functools.partial(_term, k=k) for k, issue in enumerate(scenario.issues)},
        })
        if not self.running:  # no meeting at all: the outcome is already final
            self._finish()

    def _finish(self) -> None:
        self.result = self.outcome()
        self.datacollector.collect(self)

    def step(self) -> None:
        """Hold the next meeting; record the outcome when the talks end."""
        super().step()
        if not self.running:
            self._finish()
