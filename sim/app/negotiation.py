"""One negotiation on the page, meeting by meeting: the model and its views."""

from __future__ import annotations

import functools
import html
import math
import time
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np
import solara
from mesa.visualization.components.matplotlib_components import PlotMatplotlib
from mesa.visualization.utils import force_update, update_counter

from sim import plots
from sim.app.parts import figure, markup
from sim.model import NegotiationModel
from sim.negotiation import solutions
from sim.scenario import Scenario
from sim.world import CONTACT, SCHEDULED, SUMMIT, sample_worlds


class LiveNegotiation(NegotiationModel):
    """One world of the page's settings, with a Mesa DataCollector of what each side asks
    (its aspiration) and what the other side's latest offer is worth to it, per meeting."""

    def __init__(self, scenario: Scenario, seed: int = 0, replication: int = 0) -> None:
        self.seed, self.replication = int(seed), int(replication)
        super().__init__(scenario, sample_worlds(scenario, self.seed, self.replication, 1).row(0), trace=True)
        reporters: dict[str, Callable[[LiveNegotiation], float]] = {}
        for k, team in enumerate(self.teams):
            reporters[f"{team.label} asks"] = functools.partial(LiveNegotiation.asks, k=k)
            reporters[f"{team.label} is offered"] = functools.partial(LiveNegotiation.offered, k=k)
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    def asks(self, k: int) -> float:
        """What side ``k`` asks for: the utility to it of the terms it aims at (its aspiration)."""
        return float(self.teams[k].aspiration)

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
    markup("<br>".join(lines), style="font-size: 15px; line-height: 1.6")


@solara.component
def Dance(model: LiveNegotiation) -> None:
    """Each side's offers per issue over time."""
    update_counter.get()
    if not any(e.kind == "offer" for e in model.history):
        return
    figure(plots.dance_figure(model), [model.rounds, id(model)])


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
    figure(fig, [model.rounds, id(model)])


@solara.component
def Calendar(model: LiveNegotiation) -> None:
    """Meetings (contacts, scheduled rounds, the summit), events and today."""
    update_counter.get()
    sc, w = model.spec, model.world
    fig = plots.new_figure(9, 1.7)
    ax = fig.subplots()
    styles = {CONTACT: ("contact", "#90a4ae", 8), SCHEDULED: ("scheduled round", "#1f4e9c", 30),
              SUMMIT: ("summit", "black", 60)}
    start = np.datetime64(sc.start)

    def dates(days: Any) -> Any:
        return start + np.asarray(days, dtype="timedelta64[D]")

    for kind, (label, color, size) in styles.items():
        days = np.flatnonzero(w.meetings == kind)
        ax.scatter(dates(days), np.zeros(len(days)), s=size, color=color, label=label,
                   marker="|" if kind == CONTACT else "o")
    for d in (int(d) for d in np.atleast_1d(w.event_day) if d >= 0):
        ax.axvline(dates(d), color="#8e24aa", lw=1)
    if model.day >= 0:
        ax.axvline(dates(model.day), color="#c0392b", lw=2, label="today")
    ax.set_yticks([])
    ax.set_xlim(dates(-1), dates(sc.horizon_day + 1))
    plots.date_axis(ax)
    ax.set_xlabel("purple: events in this world")
    ax.legend(fontsize=7, ncol=4, loc="upper right")
    figure(fig, [model.rounds, id(model)])


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
    markup(f"Settings: {html.escape(settings)}", style="color: #555; font-size: 13px; margin: 4px 0")
    Outcome(model)
    Calendar(model)
    with solara.Columns([3, 2]):
        Dance(model)
        UtilityPlane(model)
    if model.rounds:
        PlotMatplotlib(model, {f"{t.label} {what}": plots.COLORS[k] if what == "asks" else plots.COLORS[k + 2]
                               for k, t in enumerate(model.teams) for what in ("asks", "is offered")},
                       post_process=_asks_and_offers, dependencies=[model.rounds, id(model)])
