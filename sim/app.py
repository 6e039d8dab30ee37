"""The interactive page: how likely is a deal before the summit, and what moves it.

    python -m sim app [--host 127.0.0.1] [--port 8765]

The page answers first: P(the scenario's headline milestone before the summit) with its
95% interval, from a Monte Carlo of the current settings that reruns as soon as a setting
changes. The settings are the scenario's own knobs (:func:`controls`): its declared
uncertainties and levers, each side's concession pace, reservation value and deadline, the
contact rate, the summit date and the shocks. Each starts at *the scenario's distribution*;
moving a slider fixes that input at the slider's value, and "use the scenario's" frees it
again. Every result says which settings produced it.

Tabs:

- **Odds and terms**: the Monte Carlo's milestones, closing days and agreed terms, with the
  records to download (the number of worlds can be raised up to :data:`MAX_PAGE_RUNS`).
- **One negotiation**: one world of the same settings, meeting by meeting (step, play,
  restart): the offers per issue (the "dance"), what each side asks and is offered (Mesa's
  DataCollector drawn by Mesa's matplotlib component), the utility plane with the Pareto
  frontier and the Nash point, and the calendar.

Each browser session has its own settings, model and results. The scenario picker offers
the shipped scenarios and accepts nothing else; an invalid combination of settings shows the
validator's message, never a traceback. The page makes no network requests of its own (no
Markdown component, whose math and diagram scripts come from a CDN), and ``python -m sim
app`` turns off Solara's telemetry and version check.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import html
import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pyarrow as pa
import solara
import solara.lab
from matplotlib.figure import Figure
from mesa.visualization.components.matplotlib_components import PlotMatplotlib
from mesa.visualization.utils import force_update, update_counter

from sim import analysis, plots, records, runner
from sim.model import NegotiationModel
from sim.negotiation import solutions
from sim.scenario import (
    Param,
    Scenario,
    ScenarioError,
    params_by_path,
    parse_scenario,
    read_document,
    scenario_files,
    with_values,
)
from sim.world import CONTACT, SCHEDULED, SUMMIT, sample_worlds

with contextlib.suppress(ImportError, AttributeError):  # also when served by `solara run sim/app.py`
    import solara.server.settings

    solara.server.settings.telemetry.mixpanel_enable = False

DEFAULT_SCENARIO = "us_korea_2025.toml"
#: Replications one Monte Carlo of the page may ask for (the command line has no such cap).
MAX_PAGE_RUNS = int(os.environ.get("SIM_PAGE_MAX_RUNS", 200_000))
DEFAULT_RUNS = 5_000
SUMMIT_PATH = "scenario.deadline"  # the summit control: days after the start, written as a date
FIGURE_DPI = 80  # the page's figures: smaller PNGs, faster steps


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
    origin: dt.date | None = None  # a date-valued setting: its value counts days from this date

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


def configure(name: str, values: Mapping[str, float], shocks: bool = True) -> Scenario:
    """A shipped scenario with the page's settings written in, validated like any scenario file.

    Args:
        name: The scenario's file name (one of :func:`sim.scenario.scenario_files`).
        values: The fixed settings, by :class:`Control` path; the others keep the scenario's values.
        shocks: False switches every event off (dated ones never happen, hazards are zero).

    Raises:
        PageError: for a name that is not a shipped scenario.
        ScenarioError: naming the field and the problem, when the combination is invalid.
    """
    path = scenario_path(name)
    document, sha = read_document(path)
    base = parse_scenario(document, str(path), sha)
    written: dict[str, Any] = {}
    for key, value in values.items():
        if key == SUMMIT_PATH:
            written[key] = base.start + dt.timedelta(days=int(value))
        else:
            written[key] = float(value)
    if not shocks:
        for k, e in enumerate(base.events):
            written[f"events[{k}].{'probability' if e.hazard is None else 'hazard'}"] = 0.0
    return parse_scenario(with_values(document, written), str(path), sha) if written else base


def describe(scenario_name: str, values: Mapping[str, float], shocks: bool, all_controls: tuple[Control, ...]) -> str:
    """Which settings produced a result, in words."""
    by_path = {c.path: c for c in all_controls}
    fixed = [f"{by_path[p].label} = {by_path[p].show(v)}" for p, v in values.items() if p in by_path]
    parts = [scenario_name.removesuffix(".toml")]
    parts.append("with " + "; ".join(fixed) if fixed else "as the scenario has it")
    if not shocks:
        parts.append("no shocks")
    return ", ".join(parts)


# --- the Monte Carlo ---------------------------------------------------------------------------


@dataclasses.dataclass
class MonteCarloResult:
    """A finished Monte Carlo of the page: its summary, figures and records (in memory: the
    temporary folder it ran in is gone)."""

    summary: dict[str, Any]
    figures: dict[str, Figure]
    table: pa.Table
    settings: str


def run_monte_carlo(scenario: Scenario, n: int, seed: int, settings: str = "",
                    progress: Callable[[int], None] | None = None) -> MonteCarloResult:
    """N replications with the command line's runner (in this process), summarised.

    Raises:
        PageError: if ``n`` is not in [1, :data:`MAX_PAGE_RUNS`].
    """
    if not 1 <= n <= MAX_PAGE_RUNS:
        raise PageError(f"the number of worlds must be between 1 and {MAX_PAGE_RUNS:,} on the page "
                        f"(for more: python -m sim run {Path(scenario.path).name} --runs {n})")
    with tempfile.TemporaryDirectory(prefix="sim-app-") as tmp:
        folder = Path(tmp) / "run"
        runner.run(scenario, n=n, seed=seed, out_dir=folder, workers=1, progress=progress, command=["app"])
        runs = folder / records.RUNS
        summary = analysis.summarize(runs, scenario)
        figures = {"milestones": plots.milestones_figure(summary),
                   "closing days": plots.closing_day_figure(runs, scenario),
                   "terms": plots.terms_figure(runs, scenario, summary)}
        table = records.read(runs)
    return MonteCarloResult(summary, figures, table, settings)


# --- one negotiation ---------------------------------------------------------------------------


def _asks(model: NegotiationModel, k: int) -> float:
    return float(model.teams[k].aspiration)


class LiveNegotiation(NegotiationModel):
    """One world of the page's settings, with a Mesa DataCollector of what each side asks
    (its aspiration) and what the other side's latest offer is worth to it, per meeting."""

    def __init__(self, scenario: Scenario, seed: int = 0, replication: int = 0) -> None:
        self.seed, self.replication = int(seed), int(replication)
        super().__init__(scenario, sample_worlds(scenario, self.seed, self.replication, 1).row(0), trace=True)
        reporters: dict[str, Callable[[LiveNegotiation], float]] = {}
        for k, team in enumerate(self.teams):
            reporters[f"{team.label} asks"] = functools.partial(_asks, k=k)
            reporters[f"{team.label} is offered"] = functools.partial(LiveNegotiation.offered, k=k)
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    def offered(self, k: int) -> float:
        """What the other side's latest offer is worth to side ``k`` (NaN before it offers)."""
        other = self.teams[1 - k].offer
        return self.teams[k].value(other) if len(other) else math.nan

    def step(self) -> None:
        """Hold the next meeting and record it."""
        super().step()
        self.datacollector.collect(self)


def closed_by_text(model: NegotiationModel) -> str:
    """Who closed the deal, in words ("the leaders at the summit", or a side's label)."""
    labels = {t.key: t.label for t in model.teams}
    return "the leaders at the summit" if model.closed_by == "summit" else labels.get(model.closed_by or "", "—")


def _figure(fig: Figure, dependencies: list[Any] | None = None) -> None:
    solara.FigureMatplotlib(fig, dependencies=dependencies, format="png", dpi=FIGURE_DPI)


def _html(text: str, tag: str = "div", style: str = "") -> None:
    solara.HTML(tag=tag, unsafe_innerHTML=text, style=style)


@solara.component
def Outcome(model: LiveNegotiation) -> None:
    """Where the talks stand: the meeting and its date, each side's position, the outcome."""
    update_counter.get()
    sc = model.spec
    lines = [f"<b>{html.escape(sc.title)}</b> — world {model.replication} of seed {model.seed}"]
    if model.day >= 0:
        lines.append(f"Meeting {model.rounds} on {sc.date_of(model.day):%a %d %b %Y} "
                     f"(the summit: {sc.deadline:%d %b %Y})")
        for k, team in enumerate(model.teams):
            if len(team.offer):
                lines.append(f"{html.escape(team.label)} asks for terms worth {team.aspiration:.2f} to it; "
                             f"the other side's offer is worth {model.offered(k):.2f} to it")
    else:
        lines.append("Press <b>Step</b> or <b>Play</b> to hold the first meeting.")
    if model.agreement is not None:
        u = [team.value(model.agreement) for team in model.teams]
        terms = "; ".join(f"{html.escape(i.label)}: {html.escape(i.describe(x))}"
                          for i, x in zip(sc.issues, model.agreement, strict=True))
        lines.append(f"<b>Agreement in principle on {sc.date_of(model.agreement_day):%d %b %Y}</b>, closed by "
                     f"{html.escape(closed_by_text(model))}: worth {u[0]:.2f} to {html.escape(model.teams[0].label)}"
                     f" and {u[1]:.2f} to {html.escape(model.teams[1].label)}. Terms: {terms}")
    elif model.walked_away:
        label = next(t.label for t in model.teams if t.key == model.walked_away)
        lines.append(f"<b>{html.escape(label)} walked away.</b>")
    elif not model.running:
        lines.append(f"<b>No agreement by {sc.horizon:%d %b %Y}.</b>")
    events = [e.text for e in model.history if e.kind == "event"]
    if events:
        lines.append("Events so far: " + html.escape("; ".join(events)))
    _html("<br>".join(lines), style="font-size: 15px; line-height: 1.6")


@solara.component
def Dance(model: LiveNegotiation) -> None:
    """Each side's offers per issue over time."""
    update_counter.get()
    if not any(e.kind == "offer" for e in model.history):
        return
    _figure(plots.dance_figure(model), [model.rounds, id(model)])


@solara.component
def UtilityPlane(model: LiveNegotiation) -> None:
    """The offers so far on the utility plane, with the Pareto frontier and the Nash point."""
    update_counter.get()
    a, b = model.teams
    ea, eb = a.effective, b.effective
    frontier = solutions.pareto_frontier(a.prefs, b.prefs, np.maximum(ea.lo, eb.lo), np.minimum(ea.hi, eb.hi))
    d = (float(ea.reservation), float(eb.reservation))
    fig = plots.new_figure(4.6, 4.2)
    ax = fig.subplots()
    for side in (0, 1):
        pts = np.array([e.utilities for e in model.history if e.kind == "offer" and e.party == side])
        if len(pts):
            ax.plot(pts[:, 0], pts[:, 1], "o-", ms=3, lw=0.8, color=plots.COLORS[side],
                    label=f"{model.teams[side].label}'s offers")
    if model.agreement is not None:
        ax.plot(a.value(model.agreement), b.value(model.agreement), "D", ms=9, color="black", label="agreement")
    plots.draw_plane(ax, frontier, solutions.nash_point(frontier, *d), d, (a.label, b.label), "this world",
                     "this world")
    _figure(fig, [model.rounds, id(model)])


@solara.component
def Calendar(model: LiveNegotiation) -> None:
    """Meetings (contacts, scheduled rounds, the summit), events and today."""
    update_counter.get()
    sc, w = model.spec, model.world
    fig = plots.new_figure(9, 1.7)
    ax = fig.subplots()
    styles = {CONTACT: ("contact", "#90a4ae", 8), SCHEDULED: ("scheduled round", "#1f4e9c", 30),
              SUMMIT: ("summit", "black", 60)}
    for kind, (label, color, size) in styles.items():
        days = np.flatnonzero(w.meetings == kind)
        ax.scatter(days, np.zeros(len(days)), s=size, color=color, label=label, marker="|" if kind == CONTACT else "o")
    for d in (int(d) for d in np.atleast_1d(w.event_day) if d >= 0):
        ax.axvline(d, color="#8e24aa", lw=1)
    if model.day >= 0:
        ax.axvline(model.day, color="#c0392b", lw=2, label="today")
    ax.set_yticks([])
    ax.set_xlim(-1, sc.horizon_day + 1)
    ax.set_xlabel(f"days since {sc.start:%d %b %Y} (purple: events in this world)")
    ax.legend(fontsize=7, ncol=4, loc="upper right")
    _figure(fig, [model.rounds, id(model)])


def _asks_and_offers(ax: Any) -> None:
    ax.set_ylabel("utility to the side")
    ax.set_ylim(0, 1.02)
    ax.set_title("What each side asks for, and what the other side's offer gives it", fontsize=10)


@solara.component
def NegotiationTab(scenario: Scenario, seed: int, settings: str) -> None:
    """One world of the settings, meeting by meeting: step, play, restart."""
    replication, set_replication = solara.use_state(0)
    restarts, set_restarts = solara.use_state(0)
    playing, set_playing = solara.use_state(False)
    model = solara.use_memo(lambda: LiveNegotiation(scenario, seed, replication),
                            dependencies=[id(scenario), seed, replication, restarts])

    def step() -> None:
        if model.running:
            model.step()
        force_update()

    def play(cancel: Any) -> None:
        import time

        while playing and model.running and not cancel.is_set():
            model.step()
            force_update()
            time.sleep(0.4)
        set_playing(False)

    solara.use_thread(play, dependencies=[playing, id(model)])
    with solara.Row(style="align-items: center; flex-wrap: wrap"):
        solara.Button("Step", on_click=step, disabled=playing or not model.running, color="primary")
        solara.Button("Pause" if playing else "Play", on_click=lambda: set_playing(not playing),
                      disabled=not model.running and not playing, color="primary")
        solara.Button("Restart", on_click=lambda: (set_playing(False), set_restarts(restarts + 1)))
        solara.InputInt("World (replication)", value=replication,
                        on_value=lambda v: set_replication(max(0, min(int(v or 0), 10**9))),
                        style="max-width: 180px")
    _html(f"Settings: {html.escape(settings)}", style="color: #555; font-size: 13px; margin: 4px 0")
    Outcome(model)
    Calendar(model)
    with solara.Columns([3, 2]):
        Dance(model)
        UtilityPlane(model)
    if model.rounds:
        PlotMatplotlib(model, {f"{t.label} {what}": plots.COLORS[k] if what == "asks" else plots.COLORS[k + 2]
                               for k, t in enumerate(model.teams) for what in ("asks", "is offered")},
                       post_process=_asks_and_offers, dependencies=[model.rounds, id(model)])


# --- the page ------------------------------------------------------------------------------


def _percent(p: float) -> str:
    return f"{100 * p:.0f}%" if p >= 0.01 or p == 0 else f"{100 * p:.1f}%"


@solara.component
def Answer(result: MonteCarloResult | None, running: bool, error: str | None, done: int, n: int) -> None:
    """The answer, large: P(headline milestone before the summit), its interval, and what produced it."""
    with solara.Card(style="margin-bottom: 8px"):
        if error:
            solara.Error(error)
        if running:
            solara.ProgressLinear(value=100 * done / max(n, 1))
            _html(f"Simulating {n:,} worlds… {done:,} done", style="color: #555")
        if result is None:
            return
        s = result.summary
        m = s["milestones"][s["headline_milestone"]]
        b = m["before_summit"]
        summit = dt.date.fromisoformat(str(s["summit"]))
        stale = " (updating…)" if running else ""
        _html(f"<div style='font-size: 17px'>Chance of {html.escape(m['label'])} by {summit:%d %B %Y}"
              f"{stale}</div><div style='font-size: 44px; font-weight: 600; line-height: 1.2'>{_percent(b['p'])}"
              f" <span style='font-size: 20px; font-weight: 400; color: #444'>95% interval "
              f"{_percent(b['low'])}–{_percent(b['high'])}</span></div>"
              f"<div style='font-size: 15px'>by {dt.date.fromisoformat(str(s['horizon'])):%d %B %Y}: "
              f"{_percent(m['by_horizon']['p'])} · {b['n']:,} simulated worlds</div>"
              f"<div style='color: #555; font-size: 13px'>Settings: {html.escape(result.settings)}</div>")


@solara.component
def TermsTab(result: MonteCarloResult | None) -> None:
    """The Monte Carlo in full: every milestone, closing days, agreed terms, downloads."""
    if result is None:
        return
    s = result.summary
    rows = "".join(
        f"<tr><td>{html.escape(x['label'])}</td><td>{x['before_summit']['p']:.3f}</td>"
        f"<td>[{x['before_summit']['low']:.3f}, {x['before_summit']['high']:.3f}]</td>"
        f"<td>{x['by_horizon']['p']:.3f}</td></tr>" for x in s["milestones"].values())
    _html(f"<style>.sim-table td, .sim-table th {{padding: 4px 18px 4px 0; text-align: left}}</style>"
          f"<table class='sim-table' style='font-size: 15px'><tr><th>milestone</th><th>P(before the summit)</th>"
          f"<th>95% interval</th><th>P(by {s['horizon']})</th></tr>"
          f"{rows}</table><div style='color: #555; font-size: 13px'>Settings: {html.escape(result.settings)}</div>")
    for name, fig in result.figures.items():
        with solara.Card(name.capitalize(), style="width: 100%"):
            _figure(fig)

    def runs_csv() -> bytes:
        buf = io.StringIO()
        result.table.to_pandas().to_csv(buf, index=False)
        return buf.getvalue().encode()

    with solara.Row():
        solara.FileDownload(lambda: json.dumps(s, indent=2, default=str).encode(), filename="summary.json",
                            label="Download summary.json")
        solara.FileDownload(runs_csv, filename="runs.csv", label="Download runs.csv")


@solara.component
def ControlInput(control: Control, value: float | None, on_value: Callable[[float | None], None]) -> None:
    """A slider for one setting; its label shows the value, or that the scenario's distribution is used."""
    shown = control.default if value is None else value
    state = control.show(shown) if value is not None else f"the scenario's: {control.prior}"
    _html(f"<b>{html.escape(control.label)}</b>: {html.escape(state)}", style="font-size: 13px; margin-top: 6px")
    with solara.Row(style="align-items: center"):
        def moved(v: float) -> None:
            if value is not None or abs(float(v) - shown) > control.step / 2:  # not the slider's own snapping
                on_value(float(v))

        if control.integer:
            solara.SliderInt("", value=int(shown), min=int(control.low), max=int(control.high), step=int(control.step),
                             on_value=moved)
        else:
            solara.SliderFloat("", value=shown, min=control.low, max=control.high, step=control.step, on_value=moved)
        solara.Button("reset", on_click=lambda: on_value(None), text=True, small=True, disabled=value is None)


@solara.component
def Page() -> None:
    """The whole page, with one set of settings, one model and one Monte Carlo per session."""
    name, set_name = solara.use_state(DEFAULT_SCENARIO)
    empty: dict[str, float] = {}
    values, set_values = solara.use_state(empty)  # path → fixed value; absent: the scenario's own
    shocks, set_shocks = solara.use_state(True)
    seed, set_seed = solara.use_state(0)
    n, set_n = solara.use_state(DEFAULT_RUNS)
    done, set_done = solara.use_state(0)
    notice, set_notice = solara.use_state("")

    base = solara.use_memo(lambda: configure(name, {}), dependencies=[name])
    all_controls = solara.use_memo(lambda: controls(base), dependencies=[name])
    key = (name, tuple(sorted(values.items())), shocks)

    def build() -> tuple[Scenario | None, str | None]:
        try:
            return configure(name, values, shocks), None
        except (ScenarioError, PageError) as exc:
            return None, str(exc).replace(str(scenario_path(name)), name)

    scenario, invalid = solara.use_memo(build, dependencies=[key])
    settings = describe(name, values, shocks, all_controls)

    def simulate() -> MonteCarloResult | None:
        if scenario is None:
            return None
        total = [0]

        def progress(k: int) -> None:
            total[0] += k
            set_done(total[0])

        set_done(0)
        return run_monte_carlo(scenario, n, seed, f"{settings}; seed {seed}", progress)

    result = solara.use_thread(simulate, dependencies=[key, n, seed])
    running = result.state == solara.ResultState.RUNNING
    last: Any = solara.use_ref(None)  # the latest finished result, shown (marked "updating") while the next one runs
    if result.state == solara.ResultState.FINISHED:
        last.current = result.value
    shown = None if scenario is None or result.state == solara.ResultState.ERROR else last.current
    error = invalid or (f"The Monte Carlo failed: {result.error}" if result.state == solara.ResultState.ERROR
                        else None)

    def choose(value: str) -> None:
        if value not in scenario_files():  # a browser may send anything: only the listed names
            set_notice(f"Unknown scenario {str(value)[:80]!r}: choose one of the list.")
            return
        set_notice("")
        set_name(value)
        set_values({})  # each scenario brings its own settings

    def fix(path: str, value: float | None) -> None:
        updated = {k: v for k, v in values.items() if k != path}
        if value is not None:
            updated[path] = value
        set_values(updated)

    solara.Title("Negotiation simulator")
    with solara.AppBar():
        solara.AppBarTitle(f"Negotiation simulator — {base.title}")
    with solara.Sidebar():
        solara.Select("Scenario", values=list(scenario_files()), value=name, on_value=choose)
        if notice:
            solara.Warning(notice)
        _html(html.escape(base.description[:400]), style="font-size: 12px; color: #555")
        solara.Button("Use the scenario's values for everything", on_click=lambda: (set_values({}), set_shocks(True)),
                      disabled=not values and shocks, small=True)
        for c in all_controls:
            ControlInput(c, values.get(c.path), functools.partial(fix, c.path))
        solara.Checkbox(label="Shocks (the scenario's events) can happen", value=shocks, on_value=set_shocks)
        solara.InputInt("Seed", value=seed, on_value=lambda v: set_seed(max(0, min(int(v or 0), 2**63 - 1))))
        solara.InputInt("Simulated worlds", value=n, on_value=lambda v: set_n(int(v or 0)))
        if not 1 <= n <= MAX_PAGE_RUNS:
            solara.Warning(f"Between 1 and {MAX_PAGE_RUNS:,} worlds on the page; for more, use the command line.")
    Answer(shown, running, error, done, n)
    if scenario is None:
        return
    with solara.lab.Tabs():
        with solara.lab.Tab("Odds and terms"):
            TermsTab(shown)
        with solara.lab.Tab("One negotiation, meeting by meeting"):
            NegotiationTab(scenario, seed, f"{settings}; seed {seed}")
