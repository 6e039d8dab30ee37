"""Acceptance rules: whether a side takes the offer on the table.

Every rule is bounded by the side's floor (its reservation value, or its
domestic win-set when it anticipates ratification) and by its hard limits:
no rule accepts an agreement worse than no deal, or one the side cannot carry out.

- **AC_next** (Baarslag et al. 2014): accept when α·u(offer) + β is at least the
  utility of the offer the side would make next.
- **AC_const**: accept any offer worth at least a fixed level.
"""

from __future__ import annotations

import numpy as np

from sim.negotiation import kernel
from sim.negotiation.agenda import EPS
from sim.negotiation.utility import utility, within_limits

AC_NEXT, AC_CONST = 0, 1
#: Acceptance rule names accepted in scenario files.
RULES = {"ac_next": AC_NEXT, "ac_const": AC_CONST}


@kernel
def accepts(
    rule: int,
    u_offer: float,
    u_own_next: float,
    floor: float,
    feasible: bool,
    scale: float,
    shift: float,
    level: float,
) -> bool:
    """Whether a side accepts an offer worth ``u_offer`` to it.

    Args:
        rule: Rule code (:data:`RULES`).
        u_offer: The offer's utility to this side.
        u_own_next: Utility of the offer this side would make next.
        floor: Least acceptable utility (reservation, or win-set if anticipated).
        feasible: Whether the offer lies inside this side's hard limits.
        scale, shift: AC_next's α and β.
        level: AC_const's threshold.
    """
    if not feasible or u_offer < floor - EPS:
        return False
    if rule == AC_CONST:
        return u_offer >= level - EPS
    return scale * u_offer + shift >= u_own_next - EPS


@kernel
def evaluate_offer(
    x: np.ndarray,
    weights: np.ndarray,
    best: np.ndarray,
    worst: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    rule: int,
    u_own_next: float,
    floor: float,
    scale: float,
    shift: float,
    level: float,
) -> tuple[float, bool]:
    """A side's reading of an offer: its own utility of it, and whether it accepts
    (:func:`accepts` with the side's true utility and hard limits)."""
    u = utility(x, weights, best, worst)
    return u, accepts(rule, u, u_own_next, floor, within_limits(x, lo, hi), scale, shift, level)


@kernel
def walks_away(t: float, u_offer: float, reservation: float, gap: float) -> bool:
    """A side leaves the table once its deadline has passed (t ≥ 1) and the
    opponent's latest offer is still more than ``gap`` below its reservation value."""
    return t >= 1.0 and u_offer < reservation - gap
