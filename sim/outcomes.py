"""The engines' shared contract: what playing a chunk of worlds produces.

Every engine exposes ``run_worlds(scenario, worlds) -> Outcomes``: one entry per
replication of the chunk, as arrays. The runner picks an engine from a table and
:mod:`sim.records` turns outcomes into rows; neither depends on which engine ran.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

NOT_REACHED = -1  # a milestone day that was not reached; a side code meaning "nobody"
SUMMIT_CLOSE = 2  # closed_by code for the leaders' summit (0 and 1 are the sides)


class Outcomes(NamedTuple):
    """Outcomes of a chunk, one entry per replication (both engines produce these).

    Attributes:
        agreement_day, signed_day, ratified_day: Milestone days since the start, −1 if not reached.
        ratification_failed: The agreement fell outside a required domestic win-set.
        closed_by: −1 none, 0/1 the side that accepted, :data:`SUMMIT_CLOSE` the summit.
        walked_away: −1 none, 0/1 the side that left.
        terms: ``[R, I]`` agreed values, NaN without agreement.
        utilities: ``[R, 2]`` each side's utility of the agreement.
        pareto_distance, nash_distance: Efficiency of the agreement (NaN without one).
        rounds: Meetings held.
        end_day: Last day of the talks (events up to it count as fired).
        standing: ``[R, J, 2, I]`` each side's standing offer at the scenario's observation
            days (its latest offer on or before each day; its opening before its first offer).
        errors: Per replication, the error of one that raised (its outcome is then the
            no-agreement default), or None when none did.
    """

    agreement_day: np.ndarray
    signed_day: np.ndarray
    ratified_day: np.ndarray
    ratification_failed: np.ndarray
    closed_by: np.ndarray
    walked_away: np.ndarray
    terms: np.ndarray
    utilities: np.ndarray
    pareto_distance: np.ndarray
    nash_distance: np.ndarray
    rounds: np.ndarray
    end_day: np.ndarray
    standing: np.ndarray
    errors: list[str | None] | None = None


def from_rows(rows: list[dict[str, Any] | None], n_issues: int, n_observations: int = 0,
              errors: list[str | None] | None = None) -> Outcomes:
    """Per-replication outcomes (dicts from :meth:`sim.model.NegotiationModel.outcome`) as :class:`Outcomes`.

    ``None`` entries (replications that raised) get the no-agreement defaults.
    """
    def col(key: str, default: Any, dtype: Any) -> np.ndarray:
        return np.array([default if o is None else o[key] for o in rows], dtype=dtype)

    def stacked(key: str, shape: tuple[int, ...]) -> np.ndarray:
        empty = np.full(shape, np.nan)
        return np.array([empty if o is None else o[key] for o in rows], dtype=np.float64).reshape(len(rows), *shape)

    return Outcomes(
        col("agreement_day", NOT_REACHED, np.int64), col("signed_day", NOT_REACHED, np.int64),
        col("ratified_day", NOT_REACHED, np.int64), col("ratification_failed", False, np.bool_),
        col("closed_by", NOT_REACHED, np.int64), col("walked_away", NOT_REACHED, np.int64),
        stacked("terms", (n_issues,)), stacked("utilities", (2,)),
        col("pareto_distance", np.nan, np.float64), col("nash_distance", np.nan, np.float64),
        col("rounds", 0, np.int64), col("end_day", NOT_REACHED, np.int64),
        stacked("standing", (n_observations, 2, n_issues)),
        errors if errors and any(e is not None for e in errors) else None,
    )
