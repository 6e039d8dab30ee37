"""The agenda: the issues under negotiation, their bounds and units."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.negotiation import kernel

#: Tolerance for comparing utilities and issue values computed in floating point.
EPS = 1e-9


@dataclass(frozen=True)
class Issue:
    """One issue on the agenda.

    Attributes:
        key: Identifier used in scenario files and result columns.
        label: Human-readable name.
        unit: Unit of the issue's values (e.g. ``"%"``, ``"$B/yr"``).
        low: Smallest admissible value.
        high: Largest admissible value.
        integer: Whether only whole values can be agreed (categorical issues are
            integer issues whose values index ``levels``).
        levels: Names of the categories, for categorical issues.
    """

    key: str
    label: str
    unit: str
    low: float
    high: float
    integer: bool = False
    levels: tuple[str, ...] = ()

    def describe(self, value: float) -> str:
        """Format a value of this issue for people (category name or number with unit)."""
        if self.levels:
            return self.levels[round(value)]
        digits = 0 if self.integer else 1
        return f"{value:.{digits}f}{self.unit_suffix}"

    @property
    def unit_suffix(self) -> str:
        """The unit as written after a number ("%" without a space)."""
        return "" if not self.unit else (self.unit if self.unit == "%" else f" {self.unit}")


@kernel
def round_toward(start: float, x: float) -> float:
    """Round ``x`` to a whole value on the side of ``start`` (for integer issues).

    Used so that a proposer never gives away more than it planned: the move from
    ``start`` (its best) is truncated, not rounded.
    """
    delta = x - start
    return start + np.trunc(delta + np.sign(delta) * EPS)


@kernel
def round_nearest(x: np.ndarray, integer: np.ndarray) -> np.ndarray:
    """Round integer issues of ``x`` to the nearest whole value (ties to even)."""
    out = x.copy()
    for i in range(x.shape[0]):
        if integer[i]:
            out[i] = np.round(x[i])
    return out
