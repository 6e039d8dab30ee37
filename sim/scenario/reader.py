"""The field reader every part of a scenario file is validated with: it checks a value's
type and bounds, registers every numeric field's valid range (what sweeps may vary), and
raises :class:`~sim.scenario.spec.ScenarioError` naming the file, the field's dotted path
and the problem."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sim.distributions import DistributionError, make_dist
from sim.scenario.spec import Bounds, Param, ScenarioError


class Reader:
    """Reads fields of one file, raising :class:`ScenarioError` with the field's path.

    Attributes:
        file: The file named in errors.
        uncertain: Every field given as a distribution, in reading order.
        numbers: Every numeric field read, by dotted path, with its valid range.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.uncertain: list[Param] = []
        self.numbers: dict[str, Bounds] = {}

    def fail(self, path: str, problem: str) -> ScenarioError:
        """The error for the field at ``path`` (to raise)."""
        return ScenarioError(self.file, path, problem)

    def table(
        self, data: Any, path: str, allowed: set[str], required: frozenset[str] | set[str] = frozenset()
    ) -> dict[str, Any]:
        """``data`` checked to be a table with only ``allowed`` keys and every ``required`` one."""
        if not isinstance(data, dict):
            raise self.fail(path, f"must be a table, got {type(data).__name__}")
        for key in data:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                raise self.fail(where, f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for key in sorted(required):
            if key not in data:
                raise self.fail(f"{path}.{key}" if path else key, "is required")
        return data

    def number(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        *,
        default: float | None = None,
        lo: float = -math.inf,
        hi: float = math.inf,
        positive: bool = False,
        dist_ok: bool = True,
        infinite_ok: bool = False,
    ) -> Param:
        """A number (or, if ``dist_ok``, a distribution whose whole support is valid) within
        ``[lo, hi]`` (``positive``: above 0), or ``default`` when absent (required if None).
        ``infinite_ok``: ``inf`` is a value too (e.g. "never walks away")."""
        where = f"{path}.{key}"
        self.numbers[where] = Bounds(lo, hi, positive)
        if key not in data:
            if default is None:
                raise self.fail(where, "is required")
            return Param(where, float(default))
        raw = data[key]
        if isinstance(raw, dict):
            if not dist_ok:
                raise self.fail(where, "must be a fixed number, not a distribution")
            try:
                dist = make_dist(raw)
            except DistributionError as exc:
                raise self.fail(where, str(exc)) from None
            s_lo, s_hi = dist.support
            if s_lo < lo or s_hi > hi or (positive and s_lo <= 0):
                bound = "> 0" if positive and lo <= 0 else f"in [{lo:g}, {hi:g}]"
                extra = "; use truncnormal for a bounded normal" if dist.kind == "normal" else ""
                raise self.fail(
                    where, f"{dist.kind} distribution reaches [{s_lo:g}, {s_hi:g}], must be {bound}{extra}"
                )
            param = Param(where, dist)
            self.uncertain.append(param)
            return param
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.fail(where, f"must be a number or a distribution table, got {raw!r}")
        value = float(raw)
        if not math.isfinite(value) and not (infinite_ok and value == math.inf):
            raise self.fail(where, f"must be finite{' or inf' if infinite_ok else ''}, got {raw!r}")
        if positive and value <= 0:
            raise self.fail(where, f"must be > 0, got {raw!r}")
        if not lo <= value <= hi:
            raise self.fail(where, f"must be in [{lo:g}, {hi:g}], got {raw!r}")
        return Param(where, value)

    def _given(self, data: dict[str, Any], key: str, path: str, default: Any) -> tuple[str, Any, bool]:
        """The field's path, and its raw value or ``default`` (and whether it was given)."""
        where = f"{path}.{key}" if path else key
        if key in data:
            return where, data[key], True
        if default is None:
            raise self.fail(where, "is required")
        return where, default, False

    def string(
        self, data: dict[str, Any], key: str, path: str, *, default: str | None = None,
        choices: tuple[str, ...] | None = None,
    ) -> str:
        """A string (one of ``choices`` if given), or ``default`` when absent (required if None)."""
        where, raw, given = self._given(data, key, path, default)
        if not given:
            return raw
        if not isinstance(raw, str):
            raise self.fail(where, f"must be a string, got {raw!r}")
        if choices is not None and raw not in choices:
            raise self.fail(where, f"unknown value {raw!r} (expected one of: {', '.join(choices)})")
        return raw

    def boolean(self, data: dict[str, Any], key: str, path: str, default: bool) -> bool:
        """``true`` or ``false``, or ``default`` when absent."""
        raw = data.get(key, default)
        if not isinstance(raw, bool):
            raise self.fail(f"{path}.{key}", f"must be true or false, got {raw!r}")
        return raw

    def date(self, data: dict[str, Any], key: str, path: str, default: dt.date | None = None) -> dt.date:
        """A TOML date, or ``default`` when absent (required if None)."""
        where, raw, given = self._given(data, key, path, default)
        if not given:
            return raw
        if isinstance(raw, dt.datetime) or not isinstance(raw, dt.date):
            raise self.fail(where, f"must be a date like 2025-10-29 (no quotes), got {raw!r}")
        return raw
