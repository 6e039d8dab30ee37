"""Probability distributions for uncertain scenario parameters.

Every distribution is sampled by its inverse CDF from uniforms supplied by the
caller (see :mod:`sim.world`). This keeps one uniform per draw at a fixed place
in a counter-based stream, so a replication's draws do not depend on how
replications are chunked, and two scenarios can share the same uniforms
(common random numbers). The mathematics is :mod:`scipy.stats`' (its frozen
distributions, :meth:`Dist.frozen`: e.g. a tail-accurate truncated normal); this
module adds the scenario file's names, validation and messages, and ``choice``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

#: Names accepted as ``dist = "..."`` in a scenario file, with their parameters.
DIST_PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (required parameters, optional parameters)
    "uniform": (("low", "high"), ()),
    "normal": (("mean", "sd"), ()),
    "truncnormal": (("mean", "sd", "low", "high"), ()),
    "triangular": (("low", "mode", "high"), ()),
    "beta": (("a", "b"), ("low", "high")),
    "choice": (("values",), ("weights",)),
}


class DistributionError(ValueError):
    """A distribution specification is malformed (the message says how)."""


@dataclass(frozen=True)
class Dist:
    """A univariate distribution, sampled by inverse CDF.

    Attributes:
        kind: One of :data:`DIST_PARAMS`.
        params: The distribution's parameters, validated by :func:`make_dist`.
    """

    kind: str
    params: tuple[tuple[str, Any], ...]

    def frozen(self) -> Any:
        """The :mod:`scipy.stats` frozen distribution (None for ``choice``, a discrete
        distribution on listed values)."""
        return _frozen(self.kind, self.params)

    def describe(self) -> str:
        """The distribution as people write it, e.g. ``uniform(low=0.3, high=0.75)``."""
        def fmt(v: Any) -> str:
            return "[" + ", ".join(f"{x:g}" for x in v) + "]" if isinstance(v, tuple | list) else f"{v:g}"

        order = [*DIST_PARAMS[self.kind][0], *DIST_PARAMS[self.kind][1]]
        params = sorted(self.params, key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        return f"{self.kind}({', '.join(f'{k}={fmt(v)}' for k, v in params)})"

    @property
    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution can produce."""
        p = dict(self.params)
        match self.kind:
            case "uniform" | "truncnormal" | "triangular":
                return float(p["low"]), float(p["high"])
            case "beta":
                return float(p.get("low", 0.0)), float(p.get("high", 1.0))
            case "choice":
                return float(min(p["values"])), float(max(p["values"]))
            case _:
                return -np.inf, np.inf

    @property
    def median(self) -> float:
        """The value at u = 0.5, used for the scenario's nominal world."""
        return float(self.ppf(np.array([0.5]))[0])

    def _choices(self) -> tuple[np.ndarray, np.ndarray]:
        """A ``choice`` distribution's values and their probabilities."""
        p = dict(self.params)
        values = np.asarray(p["values"], dtype=float)
        w = np.asarray(p.get("weights") or [1.0] * len(values), dtype=float)
        return values, w / w.sum()

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: map uniforms in (0, 1) to draws of this distribution."""
        u = np.asarray(u, dtype=float)
        if self.kind == "choice":
            values, w = self._choices()
            cum = np.cumsum(w)
            idx = np.searchsorted(cum, u, side="right")
            return values[np.minimum(idx, len(values) - 1)]
        lo, hi = self.support
        return np.clip(self.frozen().ppf(u), lo, hi)  # clip: rounding may not leave the support

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """The distribution function (for ``choice``, the share of weight at or below ``x``)."""
        x = np.asarray(x, dtype=float)
        if self.kind == "choice":
            values, w = self._choices()
            return (w[None, :] * (values[None, :] <= x.reshape(-1, 1))).sum(axis=1).reshape(x.shape)
        return self.frozen().cdf(x)


@functools.lru_cache(maxsize=1024)
def _frozen(kind: str, params: tuple[tuple[str, Any], ...]) -> Any:
    """A :mod:`scipy.stats` frozen distribution (made once: freezing one costs far more than a
    vectorised ppf of a chunk)."""
    p = dict(params)
    match kind:
        case "uniform":
            return stats.uniform(loc=p["low"], scale=p["high"] - p["low"])
        case "normal":
            return stats.norm(loc=p["mean"], scale=p["sd"])
        case "truncnormal":
            return stats.truncnorm((p["low"] - p["mean"]) / p["sd"], (p["high"] - p["mean"]) / p["sd"],
                                   loc=p["mean"], scale=p["sd"])
        case "triangular":
            return stats.triang((p["mode"] - p["low"]) / (p["high"] - p["low"]), loc=p["low"],
                                scale=p["high"] - p["low"])
        case "beta":
            lo, hi = p.get("low", 0.0), p.get("high", 1.0)
            return stats.beta(p["a"], p["b"], loc=lo, scale=hi - lo)
    return None


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DistributionError(f"parameter {name!r} must be a number, got {value!r}")
    if not np.isfinite(value):
        raise DistributionError(f"parameter {name!r} must be finite, got {value!r}")
    return float(value)


def make_dist(spec: dict[str, Any]) -> Dist:
    """Build a :class:`Dist` from a scenario's inline table, checking it fully.

    Args:
        spec: e.g. ``{"dist": "triangular", "low": 15, "mode": 20, "high": 25}``.

    Raises:
        DistributionError: unknown kind, missing or unknown parameters, or
            parameters that do not define a distribution (``sd <= 0``, ``low > high``...).
    """
    spec = dict(spec)
    kind = spec.pop("dist", None)
    if kind not in DIST_PARAMS:
        raise DistributionError(
            f"unknown distribution {kind!r}; expected one of {', '.join(DIST_PARAMS)}"
        )
    required, optional = DIST_PARAMS[kind]
    missing = [k for k in required if k not in spec]
    if missing:
        raise DistributionError(f"{kind} needs {', '.join(missing)}")
    unknown = sorted(set(spec) - set(required) - set(optional))
    if unknown:
        raise DistributionError(f"{kind} does not take {', '.join(unknown)}")

    params: dict[str, Any] = {}
    if kind == "choice":
        values = spec["values"]
        if not isinstance(values, list) or not values:
            raise DistributionError("choice needs a non-empty list of values")
        params["values"] = tuple(_number("values", v) for v in values)
        if "weights" in spec:
            weights = spec["weights"]
            if not isinstance(weights, list) or len(weights) != len(values):
                raise DistributionError("choice weights must be a list as long as values")
            ws = tuple(_number("weights", w) for w in weights)
            if min(ws) < 0 or sum(ws) <= 0:
                raise DistributionError("choice weights must be >= 0 and not all zero")
            params["weights"] = ws
        return Dist(kind, tuple(sorted(params.items())))

    for name, value in spec.items():
        params[name] = _number(name, value)
    if "sd" in params and params["sd"] <= 0:
        raise DistributionError(f"sd must be > 0, got {params['sd']}")
    for name in ("a", "b"):
        if name in params and params[name] <= 0:
            raise DistributionError(f"{name} must be > 0, got {params[name]}")
    lo, hi = params.get("low"), params.get("high")
    if lo is not None and hi is not None and not lo < hi:
        raise DistributionError(f"low must be < high, got low={lo}, high={hi}")
    if kind == "triangular" and not lo <= params["mode"] <= hi:
        raise DistributionError(f"mode must lie in [low, high], got {params['mode']}")
    if kind == "truncnormal" and (
        special.ndtr((hi - params["mean"]) / params["sd"])
        - special.ndtr((lo - params["mean"]) / params["sd"])
        < 1e-12
    ):
        raise DistributionError("truncnormal [low, high] holds no probability mass")
    return Dist(kind, tuple(sorted(params.items())))
