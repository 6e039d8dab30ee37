"""Classical bargaining protocols as Mesa models: Zeuthen agents and equilibrium
alternating-offers agents.

They play on a one-dimensional agreement space — an outcome ``x`` in ``[lo, hi]``
with side 1's utility ``u1(x)`` rising and side 2's ``u2(x)`` falling — and use the
decision rules of :mod:`sim.theory.classic`. The validation suite checks them
against what bargaining theory proves (Harsanyi: Zeuthen's process reaches the Nash
bargaining solution; Rubinstein and Ståhl: the equilibrium shares).
"""

from __future__ import annotations

from typing import NamedTuple

import mesa
import numpy as np

from sim.theory.classic import (
    Utility,
    rubinstein_share,
    spe_accepts,
    stahl_shares,
    zeuthen_conceder,
    zeuthen_concession,
)


class ZeuthenStep(NamedTuple):
    """One round: both demands, who conceded (0, 1 or 2 for both) and each demand's Nash product."""

    x1: float
    x2: float
    conceder: int
    nash1: float
    nash2: float


class ZeuthenAgent(mesa.Agent):
    """A side that demands an outcome and concedes by Zeuthen's rule."""

    def __init__(self, model: ZeuthenModel, side: int, demand: float) -> None:
        super().__init__(model)
        self.side = side
        self.demand = demand

    def concede(self) -> None:
        """Move this side's demand by Zeuthen's concession rule."""
        m = self.model
        x1, x2 = m.sides[0].demand, m.sides[1].demand
        self.demand = zeuthen_concession(self.side, x1, x2, m.u1, m.u2, m.d, m.grid)


class ZeuthenModel(mesa.Model):
    """Two Zeuthen agents, opening at their ideal outcomes, until their demands meet.

    Args:
        u1, u2: Utilities over ``x`` (u1 rising, u2 falling).
        d: Disagreement utilities.
        lo, hi: The agreement space; side 1 opens at ``hi``, side 2 at ``lo``.
        grid_points: Resolution of concessions.
    """

    def __init__(self, u1: Utility, u2: Utility, d: tuple[float, float] = (0.0, 0.0), lo: float = 0.0,
                 hi: float = 1.0, grid_points: int = 20_001, max_rounds: int = 100_000) -> None:
        super().__init__()
        self.u1, self.u2, self.d = u1, u2, d
        self.grid = np.linspace(lo, hi, grid_points)
        self.sides = (ZeuthenAgent(self, 0, hi), ZeuthenAgent(self, 1, lo))
        self.history: list[ZeuthenStep] = []
        self.agreement: float | None = None
        self.max_rounds = max_rounds

    def nash_product(self, x: float) -> float:
        """The Nash product of outcome ``x`` over the disagreement point."""
        return max(self.u1(x) - self.d[0], 0.0) * max(self.u2(x) - self.d[1], 0.0)

    def step(self) -> None:
        """Hold one round: both sides compare risk limits; the one less willing to risk conflict concedes."""
        x1, x2 = self.sides[0].demand, self.sides[1].demand
        if x1 <= x2:  # demands met or crossed: agreement
            self.agreement = x2 if x1 < x2 else x1
            self.running = False
            return
        who = zeuthen_conceder(x1, x2, self.u1, self.u2, self.d)
        self.history.append(ZeuthenStep(x1, x2, who, self.nash_product(x1), self.nash_product(x2)))
        for agent in self.sides if who == 2 else (self.sides[who],):
            agent.concede()
        if len(self.history) >= self.max_rounds:
            self.running = False

    def run(self) -> float | None:
        """Run until the demands meet; return the agreed outcome (None if they never do)."""
        while self.running:
            self.step()
        return self.agreement


class EquilibriumAgent(mesa.Agent):
    """A side playing the subgame-perfect strategy of the alternating-offers game."""

    def __init__(self, model: AlternatingOffersModel, side: int, delta: float) -> None:
        super().__init__(model)
        self.side, self.delta = side, delta

    def propose(self, t: int) -> float:
        """The share of the pie it offers to keep as proposer in round ``t``."""
        return self.model.proposer_share(t)

    def accepts(self, offered: float, t: int) -> bool:
        """Whether it accepts ``offered`` as responder in round ``t``."""
        return spe_accepts(offered, self.delta, self.model.proposer_share(t + 1))


class AlternatingOffersModel(mesa.Model):
    """Rubinstein (``rounds=None``) or Ståhl (``rounds=T``) bargaining over a pie of 1 between
    two equilibrium agents; side 1 proposes first. One step is one round."""

    def __init__(self, delta1: float, delta2: float, rounds: int | None = None) -> None:
        super().__init__()
        self.sides = (EquilibriumAgent(self, 0, delta1), EquilibriumAgent(self, 1, delta2))
        self.rounds = rounds
        self._stahl = stahl_shares(delta1, delta2, rounds) if rounds else None
        self.t = 1
        self.agreement_round: int | None = None
        self.shares: tuple[float, float] | None = None  # (side 1, side 2) of the undiscounted pie

    def proposer_share(self, t: int) -> float:
        """The equilibrium share of round ``t``'s proposer (0 after the last round)."""
        if self.rounds is not None and self._stahl is not None:
            return float(self._stahl[t - 1]) if t <= self.rounds else 0.0
        proposer = self.sides[(t - 1) % 2]
        responder = self.sides[t % 2]
        return rubinstein_share(proposer.delta, responder.delta)

    def step(self) -> None:
        """Hold one round: the proposer offers its equilibrium share; the responder accepts or rejects."""
        proposer, responder = self.sides[(self.t - 1) % 2], self.sides[self.t % 2]
        keep = proposer.propose(self.t)
        if responder.accepts(1.0 - keep, self.t):
            self.agreement_round = self.t
            self.shares = (keep, 1.0 - keep) if proposer.side == 0 else (1.0 - keep, keep)
            self.running = False
        elif self.rounds is not None and self.t >= self.rounds:
            self.running = False  # the last offer was refused: conflict
        self.t += 1

    def run(self) -> tuple[float, float] | None:
        """Run to agreement or the last round; return the shares agreed (None without agreement)."""
        while self.running:
            self.step()
        return self.shares
