"""Acceptance rules: whether a side takes the offer on the table.

Every rule is bounded by the side's floor (its reservation value, or its
domestic win-set when it anticipates ratification) and by its hard limits:
no rule accepts an agreement worse than no deal, or one the side cannot carry out.

- **AC_next** (Baarslag et al. 2014): accept when α·u(offer) + β is at least the
  utility of the offer the side would make next.
- **AC_const**: accept any offer worth at least a fixed level.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.negotiation import kernel
from sim.negotiation.agenda import EPS
from sim.negotiation.utility import Preferences, utility, within_limits

AC_NEXT, AC_CONST = 0, 1
#: Acceptance rule names accepted in scenario files.
RULES = {"ac_next": AC_NEXT, "ac_const": AC_CONST}


class AcceptanceParams(NamedTuple):
    """A side's acceptance rule: its code (:data:`RULES`), AC_next's α (``scale``) and β
    (``shift``), and AC_const's threshold (``level``)."""

    rule: int
    scale: float
    shift: float
    level: float


@kernel
def accepts(rule: AcceptanceParams, u_offer: float, u_own_next: float, floor: float, feasible: bool) -> bool:
    """Whether a side accepts an offer worth ``u_offer`` to it.

    Args:
        rule: The side's acceptance rule.
        u_offer: The offer's utility to this side.
        u_own_next: Utility of the offer this side would make next.
        floor: Least acceptable utility (reservation, or win-set if anticipated).
        feasible: Whether the offer lies inside this side's hard limits.
    """
    if not feasible or u_offer < floor - EPS:
        return False
    if rule.rule == AC_CONST:
        return u_offer >= rule.level - EPS
    return rule.scale * u_offer + rule.shift >= u_own_next - EPS


@kernel
def evaluate_offer(x: np.ndarray, own: Preferences, lo: np.ndarray, hi: np.ndarray, rule: AcceptanceParams,
                   u_own_next: float, floor: float) -> tuple[float, bool]:
    """A side's reading of an offer: its own utility of it, and whether it accepts
    (:func:`accepts` with the side's true utility and hard limits ``lo``..``hi``)."""
    u = utility(x, own)
    return u, accepts(rule, u, u_own_next, floor, within_limits(x, lo, hi))


@kernel
def walks_away(t: float, u_offer: float, reservation: float, gap: float) -> bool:
    """A side leaves the table once its deadline has passed (t ≥ 1) and the
    opponent's latest offer is still more than ``gap`` below its reservation value."""
    return t >= 1.0 and u_offer < reservation - gap
