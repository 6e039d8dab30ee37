"""Proper scoring rules for probability forecasts, in one place.

- :func:`log_score` and :func:`brier` score a forecast probability of a yes/no event
  (the log score is the one local proper rule: it rewards the probability given to what
  happened; Brier is bounded and robust to a single 0 given to what happened);
- :func:`skill` compares a score with a reference's (Brier skill, 1 − B / B_ref);
- :func:`pit` is the probability integral transform of a realised value in a weighted sample;
- :func:`reliability` and :func:`spiegelhalter` say whether probabilities are calibrated;
- :func:`extremes` counts confident misses (below 0.05 for what happened, above 0.95 for
  what did not).
"""

from __future__ import annotations

import math

import numpy as np

#: Probabilities are clipped to [EPS, 1 − EPS] for the log score (a 0 given to what happened
#: would score −∞; a Monte Carlo estimate of 0 means "below about 1/ESS").
EPS = 1e-4


def log_score(p: float, y: bool) -> float:
    """The log score (higher is better): ln of the probability given to what happened."""
    q = min(max(p, EPS), 1 - EPS)
    return math.log(q if y else 1 - q)


def brier(p: np.ndarray | float, y: np.ndarray | float) -> float:
    """The Brier score (lower is better): mean squared error of probabilities ``p`` of outcomes ``y``."""
    return float(np.mean(np.square(np.asarray(p, dtype=float) - np.asarray(y, dtype=float))))


def skill(score: float, reference: float) -> float:
    """Brier skill against a reference: 1 − B / B_ref (> 0: better than the reference)."""
    return 1 - score / reference if reference > 0 else math.nan


def pit(values: np.ndarray, weights: np.ndarray, x: float) -> float:
    """The mid-point probability integral transform of ``x`` in the weighted sample ``values``:
    P(X < x) + ½ P(X = x), so ties (integer terms, days) count half."""
    total = float(weights.sum())
    if total <= 0:
        return math.nan
    below = float(weights[values < x].sum())
    tied = float(weights[values == x].sum())
    return (below + 0.5 * tied) / total


def spiegelhalter(p: np.ndarray, y: np.ndarray) -> float:
    """Spiegelhalter's (1986) z statistic of calibration: ~N(0, 1) if the forecasts ``p`` are
    calibrated for outcomes ``y``."""
    var = float(np.sum(np.square(1 - 2 * p) * p * (1 - p)))
    return float(np.sum((y - p) * (1 - 2 * p)) / math.sqrt(var)) if var > 0 else math.nan


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Forecast probability bins: count, mean forecast and observed frequency of each."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    return [{"low": float(edges[b]), "high": float(edges[b + 1]), "count": int((which == b).sum()),
             "forecast": float(p[which == b].mean()) if (which == b).any() else math.nan,
             "observed": float(y[which == b].mean()) if (which == b).any() else math.nan}
            for b in range(bins)]


def extremes(p: np.ndarray, y: np.ndarray, low: float = 0.05, high: float = 0.95) -> dict[str, float]:
    """Confident misses: the share of all forecasts that gave below ``low`` to what happened or
    above ``high`` to what did not (a calibrated forecaster has few)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=bool)
    below = int(((p < low) & y).sum())
    above = int(((p > high) & ~y).sum())
    n = len(p)
    return {"below_low_happened": below, "above_high_not": above, "share": (below + above) / n if n else math.nan,
            "low": low, "high": high}
