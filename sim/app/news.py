"""The page's forecasting views: the answer given the record as of a date, what-if news, the
timeline of the odds as the news came in, and the model's track record (the backtest)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import solara
import solara.lab

from sim.app.forecasting import KINDS, NEWS_FILE, Hypothetical, PageForecast, news_file
from sim.app.parts import figure, markup, percent
from sim.scenario import Scenario

GREY = "opacity: 0.45"


def interval(p: float, low: float, high: float) -> str:
    """A probability with its 95% interval, in percent."""
    return f"{percent(p)} [{percent(low)}–{percent(high)}]"


@solara.component
def ForecastAnswer(result: PageForecast | None, running: bool, error: str | None, status: str,
                   settings: str, as_it_is: PageForecast | None = None) -> None:
    """The answer, large: P(headline by the deadline) given the record as of the chosen date, the
    prior beside it, the ESS, and what produced it (the record, the settings, the seed, and the
    command that prints the same number); with moved settings, the scenario as it is beside it
    (``as_it_is``). While a new answer runs, the last one stays, greyed."""
    with solara.Card(style="margin-bottom: 8px"):
        if error:
            solara.Error(error)
        if running:
            solara.ProgressLinear(value=True)
            markup(html.escape(status), style="color: #555")
        if result is None:
            return
        given = f", given {result.items}" if result.as_of else f" ({result.items})"
        stale = " (updating…)" if running else ""
        prior = interval(result.prior, result.prior_low, result.prior_high)
        markup(f"<div style='{GREY if running else ''}'>"
               f"<div style='font-size: 17px'>Chance of {html.escape(result.question)} by "
               f"{result.deadline:%d %B %Y}{html.escape(given)}{stale}</div>"
               f"<div style='font-size: 44px; font-weight: 600; line-height: 1.2'>{percent(result.p)}"
               f" <span style='font-size: 20px; font-weight: 400; color: #444'>95% interval "
               f"{percent(result.low)}–{percent(result.high)}</span></div>"
               f"<div style='font-size: 15px'>prior (no record): {prior} · effective sample size "
               f"{result.ess:,.0f}</div>"
               + (f"<div style='font-size: 15px'>the scenario as it is: "
                  f"{interval(as_it_is.p, as_it_is.low, as_it_is.high)}; these settings move the forecast by "
                  f"{100 * (result.p - as_it_is.p):+.1f} points</div>" if as_it_is is not None else "") +
               f"<div style='color: #555; font-size: 13px'>Behavioural priors: {html.escape(result.priors)}.</div>"
               + (f"<div style='color: #555; font-size: 13px'>Their track record: {html.escape(result.track)} "
                  f"(the Track record tab: per case).</div>" if result.track else "") +
               f"<div style='color: #555; font-size: 13px'>Settings: {html.escape(settings)}. The command line "
               f"gives the same number: <code>{html.escape(result.command)}</code></div></div>")
        for w in result.warnings:
            solara.Warning(w)


@solara.component
def WhatIfTab(scenario: Scenario, items: list[Hypothetical], set_items: Callable[[list[Hypothetical]], None],
              current: PageForecast | None, whatif: PageForecast | None, running: bool, error: str | None) -> None:
    """Add imagined record items on later dates and see the forecast move, beside the current one."""
    kind, set_kind = solara.use_state("progress")
    start = (current.as_of if current and current.as_of else scenario.start) + dt.timedelta(days=1)
    picked, set_date = solara.use_state(cast(dt.date | None, None))
    date = picked or min(start, scenario.horizon)  # by default the day after the forecast's date
    side, set_side = solara.use_state(scenario.parties[0].key)
    issue, set_issue = solara.use_state(scenario.issues[0].key)
    value, set_value = solara.use_state(float(scenario.issues[0].low))
    level, set_level = solara.use_state("")
    apart, set_apart = solara.use_state("0: terms agreed")
    held, set_held = solara.use_state(False)
    events = [e.name for e in scenario.events]
    event, set_event = solara.use_state(events[0] if events else "")
    n = len(scenario.issues)
    presets = {"0: terms agreed": (0,), "at most 1: close to a deal": (0, 1), "1 or 2 left": (1, 2),
               "at least 1: not at the final stage": tuple(range(1, n + 1)), f"all {n}: stalled": (n,)}
    chosen = next(i for i in scenario.issues if i.key == issue)
    meeting_days = sorted({m.day for m in scenario.meetings} | {scenario.summit_day})
    meetings = [scenario.date_of(d) for d in meeting_days if scenario.date_of(d) >= date]

    def add() -> None:
        if kind == "position":
            v: float | str = level or chosen.levels[0] if chosen.levels else float(value)
            item = Hypothetical("position", date, side=side, issue=issue, value=v)
        elif kind == "progress":
            item = Hypothetical("progress", date, apart=presets[apart])
        elif kind == "event":
            item = Hypothetical("event", date, event=event)
        else:
            item = Hypothetical("round", meetings[0] if meetings else scenario.deadline, held=held, announced=date)
        set_items([*items, item])

    markup("Imagine news on a later date — a reported position, a progress report, an event striking, a round "
           "or the summit confirmed or cancelled — and see the forecast move. Items are added to the scenario's "
           "record and checked like it.", style="font-size: 14px")
    with solara.Row(style="align-items: center; flex-wrap: wrap"):
        solara.Select("What", values=list(KINDS), value=kind, on_value=set_kind)
        solara.lab.InputDate(date, on_value=lambda d: set_date(d or date), label="On")
        if kind == "position":
            solara.Select("Side", values=[p.key for p in scenario.parties], value=side, on_value=set_side)
            solara.Select("Issue", values=[i.key for i in scenario.issues], value=issue, on_value=set_issue)
            if chosen.levels:
                solara.Select("Level", values=list(chosen.levels), value=level or chosen.levels[0],
                              on_value=set_level)
            else:
                solara.InputFloat(f"Value ({chosen.unit})", value=value, on_value=lambda x: set_value(float(x or 0)))
        elif kind == "progress":
            solara.Select("Issues still apart", values=list(presets), value=apart, on_value=set_apart)
        elif kind == "event":
            solara.Select("Event", values=events, value=event, on_value=set_event)
        else:
            markup(f"the next round on or after that date: {meetings[0] if meetings else 'none'}",
                   style="font-size: 13px")
            solara.Checkbox(label="takes place", value=held, on_value=set_held)
        solara.Button("Add", on_click=add, color="primary",
                      disabled=(kind == "round" and not meetings) or (kind == "event" and not events))
    for k, item in enumerate(items):
        with solara.Row(style="align-items: center"):
            markup(html.escape(item.label()), style="font-size: 14px")
            solara.Button("remove", text=True, small=True,
                          on_click=lambda k=k: set_items([x for j, x in enumerate(items) if j != k]))
    if error:
        solara.Error(error)
    if not items:
        return
    with solara.Row():
        for title, f in (("as the record stands", current), ("with the imagined news", whatif)):
            with solara.Card(title, style="min-width: 320px"):
                if f is None or (running and f is whatif):
                    solara.ProgressLinear(value=True)
                    continue
                markup(f"<div style='font-size: 32px; font-weight: 600'>{percent(f.p)}</div>"
                       f"<div>95% interval {percent(f.low)}–{percent(f.high)} · ESS {f.ess:,.0f}</div>"
                       f"<div style='color: #555; font-size: 13px'>as of {f.as_of}: {html.escape(f.items)}</div>")
    if whatif is not None and current is not None and not running:
        markup(f"The imagined news move the forecast by {100 * (whatif.p - current.p):+.1f} points.",
               style="font-size: 15px; margin-top: 6px")
        with solara.Row(style="align-items: center"):
            solara.FileDownload(lambda: news_file(items).encode(), filename=NEWS_FILE, label=f"Download {NEWS_FILE}")
            markup(f"The command line gives the same number with it: <code>{html.escape(whatif.command)}</code>",
                   style="color: #555; font-size: 13px")


@solara.component
def TimelineTab(scenario: Scenario, rows: list[dict[str, Any]] | None, running: bool, done: int, total: int,
                start: Callable[[], None], fig: Any) -> None:
    """The odds over time as the record came in; choose a point to see the news that moved it."""
    chosen, set_chosen = solara.use_state(-1)
    if scenario.record is None:
        markup("no record: this scenario has no dated news, so its forecast is the prior at every date.")
        return
    with solara.Row(style="align-items: center"):
        solara.Button("Compute the timeline", on_click=start, disabled=running, color="primary")
        markup(f"one forecast per date with news ({total}), the same as "
               f"<code>python -m sim forecast … --timeline</code>", style="font-size: 13px")
    if running:
        solara.ProgressLinear(value=100 * done / max(total, 1))
        markup(f"{done} of {total} forecasts done", style="color: #555")
    if not rows:
        return
    if fig is not None:
        figure(fig)
    dated = [r for r in rows if r["as_of"]]
    labels = [f"{r['as_of']}: {percent(r['p']) if r['p'] is not None else 'no forecast'}" for r in dated]
    with solara.Row(style="flex-wrap: wrap"):
        for k, label in enumerate(labels):
            solara.Button(label, small=True, text=k != chosen, on_click=lambda k=k: set_chosen(k))
    if 0 <= chosen < len(dated):
        r = dated[chosen]
        before = rows[rows.index(r) - 1]
        move = (f"{100 * (r['p'] - before['p']):+.1f} points" if r["p"] is not None and before["p"] is not None
                else "no number")
        news = "".join(f"<li>{html.escape(x)}</li>" for x in r["news"]) or "<li>no new item: the status alone</li>"
        markup(f"<b>{r['as_of']}</b>: {move} since {before['as_of'] or 'the prior'}<ul>{news}</ul>",
               style="font-size: 14px")


@solara.component
def TrackRecordTab(result: dict[str, Any] | None, running: bool, status: str, start: Callable[[], None]) -> None:
    """How far to trust the number: the cross-validated backtest over the case library, as measured."""
    with solara.Row(style="align-items: center"):
        solara.Button("Run the backtest", on_click=start, disabled=running, color="primary")
        markup("every case of the library and every case file forecast from its dates with priors learned without "
               "it, and scored against what happened (<code>python -m sim backtest --cross-validate --workers 2"
               "</code>; about 4 minutes on 2 cores)", style="font-size: 13px")
    if running:
        solara.ProgressLinear(value=True)
        markup(html.escape(status), style="color: #555")
    if result is None:
        markup("No learned priors with a track record (scenarios/library/learned.toml): run the backtest here, "
               "or refit the priors with <code>python -m sim backtest --report</code>.", style="color: #555")
        return
    s = result["summary"]
    markup(f"<div style='font-size: 15px'>{s['forecasts']} forecasts of {s['cases']} cases in {s['groups']} groups, "
           f"each with priors learned without its group: Brier {s['brier']:.3f} (judgement priors "
           f"{s['brier_judgement']:.3f}, base rate {s['brier_base']:.3f}); Brier skill against the base rate "
           f"{s['brier_skill_vs_base']:+.3f}; against the base rate of the kind of talk "
           f"(Brier {s['brier_base_kind']:.3f}) {s['brier_skill_vs_base_kind']:+.3f} (positive: better than the "
           f"reference).</div>"
           f"<div style='color: #555; font-size: 12px'>from {html.escape(result['source'])} "
           f"<code>{html.escape(result['command'])}</code></div>")
    rows = "".join(f"<tr><td>{html.escape(c)}</td><td>{n}</td><td>{b:.3f}</td><td>{bj:.3f}</td><td>{bb:.3f}</td>"
                   f"<td>{bk:.3f}</td><td>{html.escape(why)}</td></tr>"
                   for c, n, b, bj, bb, bk, why in result["cases"])
    markup(f"<style>.sim-table td, .sim-table th {{padding: 3px 14px 3px 0; text-align: left; vertical-align: top}}"
           f"</style><table class='sim-table' style='font-size: 13px'><tr><th>case</th><th>forecasts</th>"
           f"<th>Brier (learned)</th><th>judgement</th><th>base rate</th><th>base rate of the kind</th>"
           f"<th>why it loses to the base rate</th></tr>{rows}</table>")
    figure(result["figure"])


def _track_record(summary: dict[str, Any], cases: list[dict[str, Any]], source: str, command: str) -> dict[str, Any]:
    from sim.forecast import backtest_report

    rows = [(c["case"], c["forecasts"], c["brier"], c["brier_judgement"], c["brier_base"], c["brier_base_kind"],
             backtest_report.why_cv(c)) for c in cases]
    return {"summary": summary, "cases": rows, "figure": backtest_report.cv_reliability_figure(summary),
            "source": source, "command": command}


def learned_track_record(path: Path | None = None) -> dict[str, Any] | None:
    """The track record of the learned priors the page's answer uses: the cross-validated
    backtest they were fitted with, as ``docs/BACKTEST.md`` reports it (None: no learned priors
    file, or one that keeps no track record)."""
    from sim.forecast import priors

    learned = priors.load_learned(path)
    if learned is None or learned.track_record is None:
        return None
    t = learned.track_record
    return _track_record(dict(t["summary"]), list(t["cases"]),
                         f"the backtest behind the learned priors ({path or priors.LEARNED}, fitted {learned.fitted}):",
                         learned.command or "python -m sim backtest --report")


def backtest_result(progress: Callable[[str], None] | None = None, *, library: Path | None = None,
                    workers: int = 2, seed: int = 0, particles: int = 10_000,
                    target_ess: float = 1_000) -> dict[str, Any]:
    """The cross-validated backtest of the library and the case files beside it, as
    ``python -m sim backtest --cross-validate`` runs it."""
    from sim.forecast import backtest
    from sim.forecast.library import load_all

    cases = load_all(library)
    g = backtest.grid(cases, seed=seed, particles=particles, target_ess=target_ess, workers=workers,
                      progress=(lambda d, n: progress(f"{d:,} of {n:,} forecasts (a case at a grid point) done"))
                      if progress else None)
    cv = backtest.cross_validate(g)
    return _track_record(cv["summary"], backtest.by_case(cv["forecasts"]), "this page's run, as",
                         f"python -m sim backtest --cross-validate --workers {workers} --seed {seed}")
