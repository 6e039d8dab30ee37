"""Recalibration learned across cases: the model's probability of the headline event mapped to a
calibrated one.

An ensemble's probabilities are rarely calibrated as they come: weather services post-process
theirs with statistics of the ensemble's own past forecasts (model output statistics); Platt
scaling does the same for classifiers. Here the map is logistic in the log-odds::

    logit p' = a + b · logit p

(``b < 1`` pulls overconfident forecasts towards the middle, ``a`` moves them all up or down). It
is fitted to the library's forecasts and what happened, each forecast weighted by one over its
case's number of forecasts (a talk counts once, as in the priors' composite likelihood), with a
weak Gaussian prior around the identity (``a ~ N(0, 1)``, ``b ~ N(1, 1)``): the maximum a
posteriori point. The forecasts it is fitted to are themselves out of sample — each made with
priors learned without its own group — so that it corrects the forecasts a user will see, not
the in-sample fit; the cross-validated backtest fits it without the scored group as well
(nested, :func:`sim.forecast.backtest.cross_validate`).

It applies to the probability of the headline milestone by the deadline only: the question the
library scores. The worlds, their terms and every other figure stay the model's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit

#: Probabilities are clipped to [CLIP, 1 − CLIP] before their log-odds are taken (a Monte Carlo 0
#: means "below about 1/ESS", not impossible).
CLIP = 1e-3
#: The prior's standard deviation of ``a`` and of ``b − 1``.
PRIOR_SD = 1.0


@dataclass(frozen=True)
class Recalibration:
    """The map ``logit p' = a + b · logit p`` (the identity by default)."""

    a: float = 0.0
    b: float = 1.0

    def __call__(self, p: np.ndarray | float) -> np.ndarray | float:
        """``p`` recalibrated: a scalar for a scalar, an array for an array. Monotone, so an
        interval's ends map to the recalibrated interval's."""
        x = logit(np.clip(np.asarray(p, dtype=float), CLIP, 1 - CLIP))
        out = expit(self.a + self.b * x)
        return float(out) if np.ndim(out) == 0 else out

    @property
    def identity(self) -> bool:
        """Whether the map changes nothing."""
        return self.a == 0.0 and self.b == 1.0

    def describe(self) -> str:
        """The map in words."""
        return f"logit p' = {self.a:+.2f} + {self.b:.2f} × logit p"


#: The map that changes nothing.
IDENTITY = Recalibration()


def case_weights(case_of: np.ndarray) -> np.ndarray:
    """One over the number of forecasts of each forecast's case: every case weighs 1 in all."""
    _, inverse, counts = np.unique(case_of, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def fit(p: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, prior_sd: float = PRIOR_SD) -> Recalibration:
    """The maximum a posteriori map for forecasts ``p`` of outcomes ``y`` (see the module docstring).

    Args:
        p: Forecast probabilities.
        y: What happened (0/1).
        weight: Each forecast's weight (default 1).
        prior_sd: The prior's standard deviation of ``a`` and ``b − 1``.
    """
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    w = np.ones_like(p) if weight is None else np.asarray(weight, dtype=float)
    if not len(p):
        return IDENTITY
    x = logit(np.clip(p, CLIP, 1 - CLIP))

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = theta
        z = a + b * x
        # −log likelihood of Bernoulli(σ(z)), written stably: log(1 + e^z) − y z
        nll = float(np.sum(w * (np.logaddexp(0.0, z) - y * z)))
        r = w * (expit(z) - y)
        penalty = 0.5 * (a**2 + (b - 1) ** 2) / prior_sd**2
        grad = np.array([r.sum() + a / prior_sd**2, (r * x).sum() + (b - 1) / prior_sd**2])
        return nll + penalty, grad

    res = minimize(loss, np.array([0.0, 1.0]), jac=True, method="BFGS", options={"gtol": 1e-9})
    a, b = (float(v) for v in res.x)
    return Recalibration(a, b)
