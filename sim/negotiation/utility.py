"""Additive utilities over the agenda, and hard limits.

A side values issue *i* linearly between its worst value (0) and its best value
(1), clipped outside; its utility is the weighted sum of these values with
weights summing to one. This is the linear additive utility function used
throughout automated negotiation (Faratin et al. 1998; GENIUS; NegMAS).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.negotiation import kernel
from sim.negotiation.agenda import EPS


class Preferences(NamedTuple):
    """A side's utility function over the agenda: per issue, its weight (summing to one over
    the issues), and the values it scores 1 (``best``) and 0 (``worst``)."""

    weights: np.ndarray
    best: np.ndarray
    worst: np.ndarray


@kernel
def issue_value(x: float, best: float, worst: float) -> float:
    """Value in [0, 1] of one issue: 1 at ``best``, 0 at ``worst``, linear between.

    ``best != worst`` is guaranteed by scenario validation.
    """
    return min(max((x - worst) / (best - worst), 0.0), 1.0)


@kernel
def utility(x: np.ndarray, p: Preferences) -> float:
    """Additive utility of outcome ``x`` to a side with preferences ``p``."""
    u = 0.0
    for i in range(x.shape[0]):
        u += p.weights[i] * issue_value(x[i], p.best[i], p.worst[i])
    return u


@kernel
def within_limits(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
    """Whether every issue of ``x`` lies inside the hard limits ``[lo, hi]``."""
    for i in range(x.shape[0]):
        if x[i] < lo[i] - EPS or x[i] > hi[i] + EPS:
            return False
    return True


@kernel
def acceptance_floor(reservation: float, win_set: float, anticipated: bool) -> float:
    """The least utility a side accepts: its reservation value (BATNA), raised to
    its domestic win-set threshold when the negotiator anticipates ratification."""
    return max(reservation, win_set) if anticipated else reservation
