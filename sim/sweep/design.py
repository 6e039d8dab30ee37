"""Experimental designs over a scenario's parameters: which values each design point sets.

A *factor* is a numeric scenario field, addressed by its dotted path (as in
``runs/`` column names: ``parties.us.tactic.beta``; a side's key alone is short
for ``parties.<side>``), with a range or a list of levels, or the field's own
distribution. By default a design varies every uncertain input of the scenario over
its own distribution (random designs draw it by inverse CDF; grids take its
quantiles), so "what matters most" is asked of the scenario's assumptions; wider
ranges must be asked for, on the command line (``--vary path=lo:hi:n``,
``path=lo:hi`` or ``path=a,b,c``) or as the scenario's declared ``[[uncertainties]]``
and ``[[levers]]`` (``--declared``). Every factor is checked against the field's valid
range before anything runs, and every design against the size limits
(:mod:`sim.limits`).

Designs: full-factorial grid, Latin hypercube, Monte Carlo, and Sobol (Saltelli)
and Morris designs through SALib. Random designs draw from the run's seed, so a
design is reproducible. A point's scenario is the scenario document with the
point's values written in, validated again as a whole (:func:`point_scenario`).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim import limits
from sim.distributions import Dist
from sim.scenario import Scenario, parse_scenario, resolve_path, unknown_path_message, with_values
from sim.world import uniforms

DESIGNS = ("grid", "lhs", "mc", "sobol", "morris")
MORRIS_LEVELS = 4  # the p = 4 grid recommended by Morris (1991) and Saltelli et al. (2004)


class DesignError(ValueError):
    """A factor or design that cannot run; the message names the parameter and the problem."""


@dataclass(frozen=True)
class Factor:
    """A parameter to vary: its path, range and (for grids) levels, or its distribution."""

    path: str
    low: float
    high: float
    values: tuple[float, ...] = ()
    kind: str = "vary"  # "vary" (command line), "uncertain" (its own distribution), "uncertainty" or "lever"
    dist: Dist | None = None  # varied over this distribution (by inverse CDF), not uniformly over the range

    def at(self, unit: np.ndarray) -> np.ndarray:
        """The factor's values at unit-interval design coordinates."""
        return self.dist.ppf(unit) if self.dist is not None else self.low + unit * (self.high - self.low)


@dataclass(frozen=True)
class Design:
    """Design points: ``values[k, j]`` is factor *j*'s value at point *k*; ``unit`` the same
    points on the unit cube (before each factor's inverse CDF or range)."""

    method: str
    factors: tuple[Factor, ...]
    values: np.ndarray
    n: int  # the method's base sample size (Sobol N, Morris trajectories, LHS/MC points)
    unit: np.ndarray | None = None

    @property
    def paths(self) -> list[str]:
        """The factors' dotted paths, in design column order."""
        return [f.path for f in self.factors]

    def problem(self) -> dict[str, Any]:
        """The SALib problem description of the design's factors (on the unit cube: a factor
        with a distribution is analysed in its quantiles)."""
        return {"num_vars": len(self.factors), "names": self.paths, "bounds": [[0.0, 1.0]] * len(self.factors)}


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse_vary(spec: str, scenario: Scenario) -> Factor:
    """A ``--vary`` argument: ``path=lo:hi:n`` (n levels), ``path=lo:hi`` (a range for
    random designs) or ``path=a,b,c`` (listed levels)."""
    if "=" not in spec:
        raise DesignError(f"--vary {spec!r}: expected path=lo:hi:n, path=lo:hi or path=a,b,c")
    raw_path, rhs = (part.strip() for part in spec.split("=", 1))
    path = resolve_path(scenario.numbers, raw_path)
    if path is None:
        raise DesignError(f"--vary {spec!r}: {unknown_path_message(scenario.numbers, raw_path)}")
    if m := re.fullmatch(rf"({_NUMBER}):({_NUMBER})(?::(\d+))?", rhs):
        low, high = float(m.group(1)), float(m.group(2))
        if not low < high:
            raise DesignError(f"--vary {spec!r}: lo must be below hi")
        values: tuple[float, ...] = ()
        if m.group(3) is not None:
            count = int(m.group(3))
            if count < 2:
                raise DesignError(f"--vary {spec!r}: a range needs at least 2 levels")
            if count > limits.MAX_POINTS:
                raise DesignError(f"--vary {spec!r}: " + limits.message("levels:", count, limits.MAX_POINTS,
                                                                        "SIM_MAX_POINTS"))
            values = tuple(float(v) for v in np.linspace(low, high, count))
    elif re.fullmatch(rf"{_NUMBER}(?:\s*,\s*{_NUMBER})*", rhs):
        values = tuple(dict.fromkeys(float(v) for v in rhs.split(",")))
        low, high = min(values), max(values)
    else:
        raise DesignError(f"--vary {spec!r}: cannot read {rhs!r}; expected lo:hi:n, lo:hi or a,b,c")
    for v in (low, high):
        problem = scenario.numbers[path].check(v)
        if problem:
            raise DesignError(f"--vary {spec!r}: {path} {problem}")
    return Factor(path, low, high, values)


def declared_factors(scenario: Scenario) -> tuple[Factor, ...]:
    """The scenario's ``[[uncertainties]]`` and ``[[levers]]`` as factors (over their declared
    ranges, which may be wider than the scenario's own distributions)."""
    return tuple(Factor(f.path, f.low, f.high, f.values, f.kind) for f in scenario.factors)


def uncertain_factors(scenario: Scenario) -> tuple[Factor, ...]:
    """Every uncertain input of the scenario, over its own distribution (the default factors)."""
    out = []
    for p in scenario.uncertain:
        assert isinstance(p.value, Dist)
        lo, hi = p.value.support
        out.append(Factor(p.path, lo, hi, (), "uncertain", p.value))
    return tuple(out)


def grid_size(factors: tuple[Factor, ...], levels: int) -> int:
    """Points of a full-factorial grid (without building it)."""
    return math.prod(len(f.values) or levels for f in factors)


def make_design(method: str, factors: tuple[Factor, ...], *, n: int | None = None, seed: int = 0,
                levels: int = 5) -> Design:
    """Build a design.

    Args:
        method: ``grid``, ``lhs``, ``mc``, ``sobol`` or ``morris``.
        factors: What to vary (at least one; distinct paths).
        n: Points for ``lhs``/``mc``; base sample N for ``sobol`` (N·(d+2) points, a power
            of 2) and trajectories for ``morris`` (N·(d+1) points).
        seed: Seed of the random designs.
        levels: Grid levels of a factor given only as a range.
    """
    if method not in DESIGNS:
        raise DesignError(f"unknown design {method!r}; expected one of {', '.join(DESIGNS)}")
    if not factors:
        raise DesignError("nothing to vary: the scenario has no uncertain inputs; give --vary path=...")
    paths = [f.path for f in factors]
    if len(set(paths)) != len(paths):
        raise DesignError(f"a parameter is varied twice: {', '.join(p for p in paths if paths.count(p) > 1)}")
    if method == "grid":
        if (size := grid_size(factors, levels)) > limits.MAX_POINTS:
            raise DesignError(limits.message(f"a grid over {len(factors)} factors has", size, limits.MAX_POINTS,
                                             "SIM_MAX_POINTS") + "; vary fewer factors or use --design lhs --points N")
        quantiles = (np.arange(levels) + 0.5) / levels  # a distribution's grid levels: its quantiles
        axes = [f.values or tuple(f.at(quantiles) if f.dist is not None else np.linspace(f.low, f.high, levels))
                for f in factors]
        values = np.array(list(itertools.product(*axes)), dtype=float)
        return Design(method, factors, values, len(values))
    minimum = {"sobol": 16, "morris": 4}.get(method, 2)
    if n is None or n < minimum:
        raise DesignError(f"the {method} design needs --points/--n of at least {minimum} (fewer gives "
                          f"meaningless results)")
    d = len(factors)
    size = {"sobol": n * (d + 2), "morris": n * (d + 1)}.get(method, n)
    if size > limits.MAX_POINTS:
        raise DesignError(limits.message(f"the {method} design has", size, limits.MAX_POINTS, "SIM_MAX_POINTS"))
    if method == "mc":
        unit = uniforms(seed, "design.mc", 0, n, d)
    elif method == "lhs":
        # one point per stratum of every factor, strata paired by random permutations
        u = uniforms(seed, "design.lhs", 0, n, 2 * d)
        strata = np.argsort(u[:, :d], axis=0)
        unit = (strata + u[:, d:]) / n
    elif method == "sobol":
        from SALib.sample import sobol

        if n & (n - 1):
            raise DesignError(f"the sobol design needs --n a power of 2 (Sobol' sequence balance), got {n}")
        unit = sobol.sample({"num_vars": d, "names": paths, "bounds": [[0.0, 1.0]] * d}, n,
                            calc_second_order=False, scramble=True, seed=seed)
    else:
        from SALib.sample import morris

        unit = morris.sample({"num_vars": d, "names": paths, "bounds": [[0.0, 1.0]] * d}, n,
                             num_levels=MORRIS_LEVELS, seed=seed)
    values = np.column_stack([f.at(unit[:, j]) for j, f in enumerate(factors)])
    return Design(method, factors, values, n, unit)


def point_scenario(document: dict[str, Any], file: str, sha256: str, paths: list[str], values: np.ndarray) -> Scenario:
    """The scenario of one design point: ``document`` with ``paths`` set to ``values``, validated.

    Raises:
        ScenarioError: if the combination is invalid (e.g. a limit pushed past another).
    """
    doc = with_values(document, {path: float(value) for path, value in zip(paths, values, strict=True)})
    return parse_scenario(doc, file, sha256)
