"""The interactive page: watch one negotiation, or run a Monte Carlo, from the browser.

    python -m sim app [--host 127.0.0.1] [--port 8765]     # or: solara run sim/app.py

Mesa's :class:`~mesa.visualization.SolaraViz` drives one negotiation — step or play
it meeting by meeting — with the controls of :data:`MODEL_PARAMS`: the scenario,
each side's concession pace (β) and reservation value, the second side's hard
limit on the issue its scenario declares uncertain, the contact rate, the summit
day and whether shocks can happen. The components show the offers per issue
moving toward each other (the "dance"), the latest offers on the utility plane
with the Pareto frontier and the Nash point, the calendar, and the outcome. The
Monte Carlo panel runs N replications of the same settings with the CLI's runner
and shows P(milestone before the summit) with its interval, the closing-day
histogram and the agreed terms, with the tables to download.

A combination of settings the scenario rules out (say, a summit after the
horizon) is shown as the validator's message on the page, not as a traceback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim import analysis, plots, records, runner
from sim.model import NegotiationModel
from sim.negotiation import solutions
from sim.scenario import MILESTONES, Scenario, ScenarioError, load_scenario, parse_scenario, read_document, with_values
from sim.world import CONTACT, SCHEDULED, SUMMIT, sample_worlds

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = ROOT / "scenarios"
DEFAULT_SCENARIO = "us_korea_2025.toml"


def scenario_files() -> list[str]:
    """The page's scenario picker: the shipped scenarios' file names."""
    return sorted(p.name for p in SCENARIO_DIR.glob("*.toml"))


def limit_path(scenario: Scenario) -> str | None:
    """The second side's hard limit a page slider sets: the first one its scenario declares as a
    sweep factor (for the flagship, Korea's annual cash ceiling), if any."""
    b = scenario.parties[1].key
    for f in scenario.factors:
        if f.path.startswith(f"parties.{b}.issues.") and f.path.endswith((".max", ".min")):
            return f.path
    return None


def configure(scenario_file: str, *, beta_a: float, beta_b: float, reservation_a: float, reservation_b: float,
              limit: float, contact_rate: float, summit_day: int, shocks: bool) -> Scenario:
    """The scenario with the page's settings written in, validated like any scenario file.

    Raises:
        ScenarioError: naming the field and the problem, when the combination is invalid.
    """
    path = SCENARIO_DIR / scenario_file
    document, sha = read_document(path)
    base = parse_scenario(document, str(path), sha)
    a, b = base.party_keys
    values: dict[str, Any] = {f"parties.{a}.tactic.beta": beta_a, f"parties.{b}.tactic.beta": beta_b,
                              f"parties.{a}.reservation": reservation_a, f"parties.{b}.reservation": reservation_b,
                              "calendar.contact_rate": contact_rate,
                              "scenario.deadline": base.start + dt.timedelta(days=int(summit_day))}
    if (lp := limit_path(base)) is not None:
        values[lp] = limit
    if not shocks:  # every event switched off: dated ones never happen, hazards are zero
        for k, e in enumerate(base.events):
            values[f"events[{k}].{'probability' if e.hazard is None else 'hazard'}"] = 0.0
    return parse_scenario(with_values(document, values), str(path), sha)


#: The page's starting settings (the flagship's medians), shared by the model and its controls.
DEFAULTS: dict[str, Any] = {"scenario_file": DEFAULT_SCENARIO, "seed": 0, "replication": 0, "beta_a": 0.45,
                            "beta_b": 1.0, "reservation_a": 0.375, "reservation_b": 0.325, "limit": 20.0,
                            "contact_rate": 0.15, "summit_day": 91, "shocks": True}


class LiveNegotiation(NegotiationModel):
    """One negotiation built from the page's controls (keyword arguments, as SolaraViz needs).

    If the settings are invalid, the model is the scenario as written, stopped, with
    ``error`` set to the validator's message.
    """

    def __init__(self, scenario_file: str = DEFAULTS["scenario_file"], seed: int = DEFAULTS["seed"],
                 replication: int = DEFAULTS["replication"], beta_a: float = DEFAULTS["beta_a"],
                 beta_b: float = DEFAULTS["beta_b"], reservation_a: float = DEFAULTS["reservation_a"],
                 reservation_b: float = DEFAULTS["reservation_b"], limit: float = DEFAULTS["limit"],
                 contact_rate: float = DEFAULTS["contact_rate"], summit_day: int = DEFAULTS["summit_day"],
                 shocks: bool = DEFAULTS["shocks"]) -> None:
        self.settings: dict[str, Any] = {
            "scenario_file": scenario_file, "beta_a": beta_a, "beta_b": beta_b, "reservation_a": reservation_a,
            "reservation_b": reservation_b, "limit": limit, "contact_rate": contact_rate, "summit_day": summit_day,
            "shocks": shocks}
        self.error: str | None = None
        self.seed, self.replication = int(seed), int(replication)
        try:
            scenario = configure(**self.settings)
        except ScenarioError as exc:
            self.error = str(exc)
            scenario = load_scenario(SCENARIO_DIR / scenario_file)
        world = sample_worlds(scenario, self.seed, self.replication, 1).row(0)
        super().__init__(scenario, world, trace=True)
        if self.error:
            self.running = False


MODEL_PARAMS: dict[str, Any] = {
    "scenario_file": {"type": "Select", "value": DEFAULTS["scenario_file"], "values": scenario_files(),
                      "label": "Scenario"},
    "seed": {"type": "InputText", "value": DEFAULTS["seed"], "label": "Seed"},
    "replication": {"type": "InputText", "value": DEFAULTS["replication"], "label": "Replication (world)"},
    "beta_a": {"type": "SliderFloat", "value": DEFAULTS["beta_a"], "min": 0.1, "max": 3.0, "step": 0.05,
               "label": "β, side A (<1 Boulware)"},
    "beta_b": {"type": "SliderFloat", "value": DEFAULTS["beta_b"], "min": 0.1, "max": 3.0, "step": 0.05,
               "label": "β, side B"},
    "reservation_a": {"type": "SliderFloat", "value": DEFAULTS["reservation_a"], "min": 0.0, "max": 1.0, "step": 0.025,
                      "label": "Reservation, side A"},
    "reservation_b": {"type": "SliderFloat", "value": DEFAULTS["reservation_b"], "min": 0.0, "max": 1.0, "step": 0.025,
                      "label": "Reservation, side B"},
    "limit": {"type": "SliderFloat", "value": DEFAULTS["limit"], "min": 10.0, "max": 50.0, "step": 0.5,
              "label": "Hard limit, side B"},
    "contact_rate": {"type": "SliderFloat", "value": DEFAULTS["contact_rate"], "min": 0.0, "max": 1.0, "step": 0.05,
                     "label": "Contact rate (per day)"},
    "summit_day": {"type": "SliderInt", "value": DEFAULTS["summit_day"], "min": 1, "max": 180, "step": 1,
                   "label": "Summit day (from start)"},
    "shocks": {"type": "Checkbox", "value": DEFAULTS["shocks"], "label": "Shocks on"},
}


# --- one negotiation ------------------------------------------------------------------------


def _show(fig) -> None:
    """Render a matplotlib figure on the page as a PNG."""
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def Outcome(model: LiveNegotiation) -> None:
    """Where the talks stand: the day, the latest offers, the outcome; or the settings' error."""
    update_counter.get()
    if model.error:
        solara.Error(f"Invalid settings: {model.error}")
        return
    sc = model.spec
    lines = [f"**{sc.title}** — world {model.replication} of seed {model.seed}"]
    if model.day >= 0:
        lines.append(f"Meeting {model.rounds} on {sc.date_of(model.day)} (summit {sc.deadline})")
        for team in model.teams:
            if len(team.offer):
                lines.append(f"- {team.label}: aspiration {team.aspiration:.3f}, its offer is worth "
                             f"{team.offer_utility:.3f} to it")
    else:
        lines.append("Press **Step** or **Play** to hold the first meeting.")
    if model.agreement is not None:
        u = [team.value(model.agreement) for team in model.teams]
        lines.append(f"**Agreement in principle on {sc.date_of(model.agreement_day)}** (closed by "
                     f"{model.closed_by}): utilities {u[0]:.3f} / {u[1]:.3f}")
    elif model.walked_away:
        lines.append(f"**{model.walked_away} walked away.**")
    elif not model.running:
        lines.append("**No agreement by the horizon.**")
    events = [e.text for e in model.history if e.kind == "event"]
    if events:
        lines.append("Events so far: " + "; ".join(events))
    solara.Markdown("\n\n".join(lines))


@solara.component
def Dance(model: LiveNegotiation) -> None:
    """Each side's offers per issue over time, and their aspirations."""
    update_counter.get()
    if model.error or not any(e.kind == "offer" for e in model.history):
        return
    fig = plots.dance_figure(model)
    _show(fig)


@solara.component
def UtilityPlane(model: LiveNegotiation) -> None:
    """The offers so far on the utility plane, with the Pareto frontier and the Nash point."""
    update_counter.get()
    if model.error:
        return
    a, b = model.teams
    p, q = a.params, b.params
    if a.effective is None:
        own = (p.lo, p.hi, q.lo, q.hi)
    else:
        own = (a.effective.lo, a.effective.hi, b.effective.lo, b.effective.hi)
    frontier = solutions.pareto_frontier(a.prefs, b.prefs,
                                         np.maximum(own[0], own[2]), np.minimum(own[1], own[3]))
    d = (float(p.reservation), float(q.reservation))
    fig = plots.new_figure(5, 4.6)
    ax = fig.subplots()
    for side in (0, 1):
        pts = np.array([e.utilities for e in model.history if e.kind == "offer" and e.party == side])
        if len(pts):
            ax.plot(pts[:, 0], pts[:, 1], "o-", ms=3, lw=0.8, color=plots.COLORS[side],
                    label=f"{model.teams[side].label}'s offers")
    if model.agreement is not None:
        ax.plot(a.value(model.agreement), b.value(model.agreement), "D", ms=9, color="black", label="agreement")
    nash = solutions.nash_point(frontier, *d)
    plots.draw_plane(ax, frontier, nash, d, (a.label, b.label), "this world", "this world")
    _show(fig)


@solara.component
def Calendar(model: LiveNegotiation) -> None:
    """Meetings (contacts, scheduled rounds, the summit), events and today."""
    update_counter.get()
    if model.error:
        return
    sc, w = model.spec, model.world
    fig = plots.new_figure(8, 1.6)
    ax = fig.subplots()
    styles = {CONTACT: ("contact", "#90a4ae", 8), SCHEDULED: ("scheduled round", "#1f4e9c", 30),
              SUMMIT: ("summit", "black", 60)}
    for kind, (label, color, size) in styles.items():
        days = np.flatnonzero(w.meetings == kind)
        ax.scatter(days, np.zeros(len(days)), s=size, color=color, label=label, marker="|" if kind == CONTACT else "o")
    fired = [int(d) for d in np.atleast_1d(w.event_day) if d >= 0]
    for d in fired:
        ax.axvline(d, color="#8e24aa", lw=1)
    if model.day >= 0:
        ax.axvline(model.day, color="#c0392b", lw=2, label="today")
    ax.set_yticks([])
    ax.set_xlim(-1, sc.horizon_day + 1)
    ax.set_xlabel(f"days since {sc.start} (purple: events in this world)")
    ax.legend(fontsize=7, ncol=4, loc="upper right")
    _show(fig)


# --- Monte Carlo ----------------------------------------------------------------------------


@dataclasses.dataclass
class MonteCarloResult:
    """A finished Monte Carlo of the page: its summary, folder and scenario."""
    summary: dict[str, Any]
    folder: Path
    scenario: Scenario


def run_monte_carlo(scenario: Scenario, n: int, seed: int, progress=None) -> MonteCarloResult:
    """N replications with the CLI's runner (one process) into a temporary folder, summarised."""
    folder = Path(tempfile.mkdtemp(prefix="sim-app-")) / "run"
    runner.run(scenario, n=n, seed=seed, out_dir=folder, workers=1, progress=progress, command=["app"])
    summary = analysis.summarize(folder / records.RUNS, scenario)
    return MonteCarloResult(summary, folder, scenario)


@solara.component
def MonteCarlo(model: LiveNegotiation) -> None:
    """Run N replications of the page's settings; P per milestone, closing days, terms, downloads."""
    n, set_n = solara.use_state(1000)
    done, set_done = solara.use_state(0)
    run_id, set_run_id = solara.use_state(0)  # each press of the button is a new run

    def work() -> MonteCarloResult | None:
        if run_id == 0 or model.error:
            return None
        total = [0]

        def progress(k: int) -> None:
            total[0] += k
            set_done(total[0])

        return run_monte_carlo(model.spec, int(n), model.seed, progress)

    result = solara.use_thread(work, dependencies=[run_id])  # runs in a thread, in the page's context
    running = result.state == solara.ResultState.RUNNING

    with solara.Card("Monte Carlo"):
        solara.InputInt("Replications", value=n, on_value=set_n)
        solara.Button("Run Monte Carlo", on_click=lambda: (set_done(0), set_run_id(run_id + 1)), disabled=running,
                      color="primary")
        if model.error:
            solara.Error(f"Cannot run: {model.error}")
        elif running:
            solara.ProgressLinear(value=100 * done / max(int(n), 1))
            solara.Text(f"{done:,} of {int(n):,} replications")
        elif result.state == solara.ResultState.ERROR:
            solara.Error(f"The run failed: {result.error}")
        elif result.value is not None:
            MonteCarloView(result.value)


@solara.component
def MonteCarloView(result: MonteCarloResult) -> None:
    """A finished Monte Carlo: the answer, a table per milestone, figures and downloads."""
    s = result.summary
    lines = [f"**{analysis.headline(s)}**", "", "| milestone | P(before summit) | 95% interval | P(by horizon) |",
             "|---|---:|---|---:|"]
    for m in MILESTONES:
        x = s["milestones"][m]
        b = x["before_summit"]
        lines.append(f"| {x['label']} | {b['p']:.3f} | [{b['low']:.3f}, {b['high']:.3f}] "
                     f"| {x['by_horizon']['p']:.3f} |")
    solara.Markdown("\n".join(lines))
    runs = result.folder / records.RUNS
    fig = plots.closing_day_figure(runs, result.scenario)
    _show(fig)
    fig = plots.terms_figure(runs, result.scenario, result.summary)
    _show(fig)

    def runs_csv() -> bytes:
        buf = io.StringIO()
        records.read(runs).to_pandas().to_csv(buf, index=False)
        return buf.getvalue().encode()

    with solara.Row():
        solara.FileDownload(lambda: json.dumps(s, indent=2, default=str).encode(), filename="summary.json",
                            label="Download summary.json")
        solara.FileDownload(runs_csv, filename="runs.csv", label="Download runs.csv")


page = SolaraViz(
    LiveNegotiation(),
    components=[(Outcome, 0), (Calendar, 0), (Dance, 0), (UtilityPlane, 0), (MonteCarlo, 1)],
    model_params=MODEL_PARAMS,
    name="Negotiation simulator",
    play_interval=300,
)
Page = page
