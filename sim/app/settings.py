"""The page's settings: a scenario's own knobs, and the scenario with the chosen values written in.

Pure functions (no Solara): :func:`controls` lists what a page may set for a scenario, with its
label, unit, range and the scenario's own value; :func:`configure` builds the scenario with the
values a user fixed, validated like any scenario file; :func:`scenario_path` admits the shipped
scenarios by name and nothing else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.scenario import Param, Scenario, params_by_path, parse_scenario, read_document, scenario_files, with_values
from sim.scenario.paths import SUMMIT, with_news

DEFAULT_SCENARIO = "us_korea_2025.toml"
SUMMIT_PATH = SUMMIT  # the summit control: days after the start, written as a date


class PageError(ValueError):
    """A request the page refuses (an unknown scenario name); the message is safe to show."""


def scenario_path(name: str) -> Path:
    """The file of a shipped scenario, by file name; anything else (a path, an unknown name) is refused."""
    files = scenario_files()
    if name not in files:
        raise PageError(f"unknown scenario {name[:80]!r}; choose one of the list")
    return files[name]


# --- the settings: the scenario's own knobs ---------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Control:
    """One setting of the page: a numeric input of the scenario the user may fix.

    Attributes:
        path: The dotted path it sets (or :data:`SUMMIT_PATH`).
        label: What it is, in the scenario's words.
        unit: Unit of its values (``""`` if none).
        low: Smallest value of its slider.
        high: Largest value of its slider.
        step: Slider step.
        default: Where the slider starts: the scenario's value, or its distribution's median.
        prior: What the scenario says, for the label (a number, or a distribution).
        integer: Whole values only.
        origin: For a date-valued setting, the date its value counts days from.
    """

    path: str
    label: str
    unit: str
    low: float
    high: float
    step: float
    default: float
    prior: str
    integer: bool = False
    origin: dt.date | None = None

    def show(self, value: float) -> str:
        """A value with its unit (a date-valued setting as its date)."""
        if self.origin is not None:
            return f"{self.origin + dt.timedelta(days=int(value)):%d %b %Y}"
        text = f"{value:.0f}" if self.integer else f"{value:.3g}"
        return f"{text} {self.unit}".rstrip()


_GENERIC: dict[str, tuple[str, str, float, float]] = {  # path suffix → label, unit, default range
    "tactic.beta": ("concession pace β (< 1 holds firm, > 1 concedes early)", "", 0.1, 3.0),
    "reservation": ("reservation value (what no deal is worth to it)", "", 0.0, 1.0),
    "deadline_offset_days": ("own deadline, days after the summit", "days", -60.0, 120.0),
    "walk_away_gap": ("walks away when the gap exceeds", "", 0.0, 0.5),
}


def _nice_step(span: float) -> float:
    """About a hundredth of the span, rounded to a power of ten."""
    return float(10.0 ** round(math.log10(span / 100))) if span > 0 else 1.0


def _control(path: str, label: str, unit: str, low: float, high: float, param: Param) -> Control:
    if param.uncertain:
        dist = param.value
        default, prior = dist.median, dist.describe()  # type: ignore[union-attr]
        lo, hi = dist.support  # type: ignore[union-attr]
        low, high = (min(low, lo) if math.isfinite(lo) else low), (max(high, hi) if math.isfinite(hi) else high)
    else:
        default, prior = param.fixed, f"{param.fixed:g}"
        if not math.isfinite(default):
            default = high
    integer = path.endswith("_days")
    step = 1.0 if integer else _nice_step(high - low)
    # on the slider's grid: a slider snaps its value to the grid, which would count as a change
    default = float(np.clip(round(default / step) * step, low, high))
    return Control(path, label, unit, float(low), float(high), step, round(default, 10), prior, integer)


def controls(scenario: Scenario) -> tuple[Control, ...]:
    """The page's settings for a scenario: its declared uncertainties and levers (their
    labels and ranges), then each side's pace, reservation value, deadline and walk-away
    gap, the contact rate, and the summit date."""
    params = params_by_path(scenario)
    units = {f"issues.{i.key}": i.unit for i in scenario.issues}
    out: list[Control] = []
    for f in scenario.factors:
        if f.path in params:
            unit = next((u for k, u in units.items() if f".{k}." in f".{f.path}"), "")
            label = f.label.split(" (")[0] if unit and unit in f.label else f.label
            out.append(_control(f.path, label, unit, f.low, f.high, params[f.path]))
    for side in scenario.parties:
        for suffix, (what, unit, lo, hi) in _GENERIC.items():
            path = f"parties.{side.key}.{suffix}"
            if path in params and all(c.path != path for c in out):
                out.append(_control(path, f"{side.label}: {what}", unit, lo, hi, params[path]))
    if "calendar.contact_rate" in params:
        out.append(_control("calendar.contact_rate", "Informal contacts (chance per day)", "", 0.0, 1.0,
                            params["calendar.contact_rate"]))
    out.append(Control(SUMMIT_PATH, f"{scenario.summit_label}: date", "", 1, max(scenario.horizon_day - 1, 1), 1,
                       scenario.summit_day, f"{scenario.deadline:%d %b %Y}", True, scenario.start))
    return tuple(out)


def fixed_values(base: Scenario, values: Mapping[str, float], shocks: bool = True) -> dict[str, float | dt.date]:
    """What the page's settings fix, by dotted path: the controls' values (the summit as a date)
    and, with the shocks off, every event's chance or hazard at zero."""
    out: dict[str, float | dt.date] = {}
    for key, value in values.items():
        out[key] = base.start + dt.timedelta(days=int(value)) if key == SUMMIT_PATH else float(value)
    if not shocks:
        for k, e in enumerate(base.events):
            out[f"events[{k}].{'probability' if e.hazard is None else 'hazard'}"] = 0.0
    return out


def set_options(base: Scenario, values: Mapping[str, float], shocks: bool = True) -> str:
    """The command line's ``--set`` options that fix what the page's settings fix ("" if none)."""
    return "".join(f" --set {shlex.quote(f'{k}={v.isoformat() if isinstance(v, dt.date) else repr(v)}')}"
                   for k, v in fixed_values(base, values, shocks).items())


def configure(name: str, values: Mapping[str, float], shocks: bool = True,
              news: Sequence[tuple[str, dict[str, Any]]] = ()) -> Scenario:
    """A shipped scenario with the page's settings written in, validated like any scenario file.

    Args:
        name: The scenario's file name (one of :func:`sim.scenario.scenario_files`).
        values: The fixed settings, by :class:`Control` path; the others keep the scenario's values.
        shocks: False switches every event off (dated ones never happen, hazards are zero).
        news: Record items to add (section, table), e.g. a what-if's; validated like the record.

    Raises:
        PageError: for a name that is not a shipped scenario.
        ScenarioError: naming the field and the problem, when the combination is invalid.
    """
    path = scenario_path(name)
    document, sha = read_document(path)
    base = parse_scenario(document, str(path), sha)
    written: dict[str, Any] = fixed_values(base, values, shocks)
    if news:
        document = with_news(document, news)
    return parse_scenario(with_values(document, written), str(path), sha) if written or news else base


def describe(scenario_name: str, values: Mapping[str, float], shocks: bool, all_controls: tuple[Control, ...]) -> str:
    """Which settings produced a result, in words."""
    by_path = {c.path: c for c in all_controls}
    fixed = [f"{by_path[p].label} = {by_path[p].show(v)}" for p, v in values.items() if p in by_path]
    parts = [scenario_name.removesuffix(".toml")]
    parts.append("with " + "; ".join(fixed) if fixed else "as the scenario has it")
    if not shocks:
        parts.append("no shocks")
    return ", ".join(parts)
