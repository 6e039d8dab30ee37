"""Classical bargaining theory: Zeuthen's concession rule and alternating offers with discounting.

Pure functions on a one-dimensional agreement space (an outcome ``x`` in
``[lo, hi]`` with utilities ``u1(x)`` rising and ``u2(x)`` falling along it). They
are the rules of the equilibrium agents in :mod:`sim.theory.models` and the
reference values of the validation suite (:mod:`sim.validation`).

- **Zeuthen (1930)**: each side's *risk limit* is the share of its demand it would
  lose by accepting the other's: ``(u_i(own) − u_i(other)) / (u_i(own) − d_i)``.
  The side whose risk limit is smaller (less willing to risk conflict) concedes,
  by the least amount that makes the other side the one to concede next.
  Harsanyi (1956) showed the side with the smaller risk limit is the one whose own
  proposal has the lower Nash product, so the process converges to the Nash
  bargaining solution.
- **Alternating offers with discounting**: Ståhl (1972) for T rounds, solved by
  backward induction; Rubinstein (1982) for the infinite horizon, where the first
  proposer's share is ``(1 − δ2) / (1 − δ1 δ2)`` and agreement is immediate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.negotiation.tactics import risk_limit  # the same rule the Zeuthen tactic uses in scenarios

__all__ = ["risk_limit", "rubinstein_share", "spe_accepts", "stahl_shares", "zeuthen_conceder", "zeuthen_concession"]

Utility = Callable[[float], float]


def zeuthen_conceder(x1: float, x2: float, u1: Utility, u2: Utility, d: tuple[float, float]) -> int:
    """Which side concedes at offers ``x1`` (side 1's demand) and ``x2`` (side 2's):
    0 or 1 for the side with the smaller risk limit, 2 when they are equal (both concede)."""
    r1 = risk_limit(u1(x1), u1(x2), d[0])
    r2 = risk_limit(u2(x2), u2(x1), d[1])
    if np.isclose(r1, r2, rtol=0.0, atol=1e-12):
        return 2
    return 0 if r1 < r2 else 1


def zeuthen_concession(side: int, x1: float, x2: float, u1: Utility, u2: Utility, d: tuple[float, float],
                       grid: np.ndarray) -> float:
    """The conceding side's new demand: the least move along ``grid`` (outcomes between the two
    demands) after which the other side's risk limit is the smaller one — or, if there is none,
    the other side's offer (acceptance)."""
    if side == 0:  # side 1 demands high x and concedes downward
        for x in grid[(grid < x1) & (grid >= x2)][::-1]:
            if risk_limit(u2(x2), u2(x), d[1]) < risk_limit(u1(x), u1(x2), d[0]):
                return float(x)
        return x2
    for x in grid[(grid > x2) & (grid <= x1)]:
        if risk_limit(u1(x1), u1(x), d[0]) < risk_limit(u2(x), u2(x1), d[1]):
            return float(x)
    return x1


def stahl_shares(delta1: float, delta2: float, rounds: int) -> np.ndarray:
    """Subgame-perfect proposer shares of a pie of 1 in Ståhl's T-round alternating-offers game.

    Side 1 proposes in odd rounds (1, 3, ...), side 2 in even rounds; if the last round's
    offer is refused both get 0. Backward induction: the last proposer takes everything,
    and the proposer of round t offers the responder exactly what the responder would get
    as next round's proposer, discounted by the responder's δ.

    Returns:
        ``shares[t-1]``: the share the proposer of round *t* keeps, t = 1 … T.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    shares = np.empty(rounds)
    shares[-1] = 1.0
    for t in range(rounds - 1, 0, -1):  # round t (1-based) has index t - 1
        responder_delta = delta2 if t % 2 == 1 else delta1
        shares[t - 1] = 1.0 - responder_delta * shares[t]
    return shares


def rubinstein_share(delta1: float, delta2: float) -> float:
    """The first proposer's share in Rubinstein's infinite-horizon game: (1 − δ2)/(1 − δ1 δ2)."""
    return (1.0 - delta2) / (1.0 - delta1 * delta2)


def spe_accepts(offered: float, delta_own: float, next_share: float) -> bool:
    """The equilibrium responder accepts a share at least what it gets by proposing next
    round, discounted (indifference resolved in favour of accepting)."""
    return offered >= delta_own * next_share - 1e-15
