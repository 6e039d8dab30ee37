"""The page: the answer first, the settings beside it, the Monte Carlo and one negotiation in tabs."""

from __future__ import annotations

import datetime as dt
import functools
import html
import io
import json
import threading
import time
from collections.abc import Callable
from typing import Any, cast

import solara
import solara.lab

from sim.app.forecasting import (
    NEWS_FILE,
    PARTICLES,
    TARGET_ESS,
    Hypothetical,
    PageForecast,
    cached_forecast,
    forecast_key,
    record_dates,
    scenario_path_name,
)
from sim.app.montecarlo import DEFAULT_RUNS, MAX_PAGE_RUNS, MonteCarloResult, paired, run_monte_carlo
from sim.app.negotiation import NegotiationTab
from sim.app.news import ForecastAnswer, TimelineTab, TrackRecordTab, WhatIfTab, backtest_result, learned_track_record
from sim.app.parts import figure, markup, percent
from sim.app.settings import (
    DEFAULT_SCENARIO,
    Control,
    PageError,
    configure,
    controls,
    describe,
    scenario_path,
    set_options,
)
from sim.forecast import priors
from sim.forecast import report as forecast_report
from sim.scenario import Scenario, ScenarioError, scenario_files

#: Seconds between two progress notes of one forecast (each re-renders the page).
STATUS_EVERY = 1.0


def stop_if(cancel: threading.Event) -> None:
    """Stop a computation the page no longer needs (its settings changed, its session closed) at its
    next progress report. Cooperative: Solara's default, intrusive cancel traces every line the
    thread runs, which made a forecast take twice as long in the server as on its own."""
    if cancel.is_set():
        raise solara.util.CancelledError()


@solara.component
def Answer(result: MonteCarloResult | None, running: bool, error: str | None, done: int, n: int) -> None:
    """The Monte Carlo of the settings (no record): P(headline milestone before the summit), its
    interval, and what produced it."""
    with solara.Card(style="margin-bottom: 8px"):
        if error:
            solara.Error(error)
        if running:
            solara.ProgressLinear(value=100 * done / max(n, 1))
            markup(f"Simulating {n:,} worlds… {done:,} done", style="color: #555")
        if result is None:
            return
        s = result.summary
        m = s["milestones"][s["headline_milestone"]]
        b = m["before_summit"]
        summit = dt.date.fromisoformat(str(s["summit"]))
        stale = " (updating…)" if running else ""
        markup(f"<div style='font-size: 17px'>Monte Carlo of these settings, no record: chance of "
               f"{html.escape(m['label'])} by {summit:%d %B %Y}"
               f"{stale}</div><div style='font-size: 30px; font-weight: 600; line-height: 1.2'>{percent(b['p'])}"
               f" <span style='font-size: 20px; font-weight: 400; color: #444'>95% interval "
               f"{percent(b['low'])}–{percent(b['high'])}</span></div>"
               f"<div style='font-size: 15px'>by {dt.date.fromisoformat(str(s['horizon'])):%d %B %Y}: "
               f"{percent(m['by_horizon']['p'])} · {b['n']:,} simulated worlds</div>"
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
    markup(f"<style>.sim-table td, .sim-table th {{padding: 4px 18px 4px 0; text-align: left}}</style>"
           f"<table class='sim-table' style='font-size: 15px'><tr><th>milestone</th><th>P(before the summit)</th>"
           f"<th>95% interval</th><th>P(by {s['horizon']})</th></tr>"
           f"{rows}</table><div style='color: #555; font-size: 13px'>Settings: {html.escape(result.settings)}</div>")
    for name, fig in result.figures.items():
        with solara.Card(name.capitalize(), style="width: 100%"):
            figure(fig)

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
    markup(f"<b>{html.escape(control.label)}</b>: {html.escape(state)}", style="font-size: 13px; margin-top: 6px")
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
    """The whole page, with one set of settings, one model and one set of results per session."""
    name, set_name = solara.use_state(DEFAULT_SCENARIO)
    empty: dict[str, float] = {}
    values, set_values = solara.use_state(empty)  # path → fixed value; absent: the scenario's own
    shocks, set_shocks = solara.use_state(True)
    seed, set_seed = solara.use_state(0)
    n, set_n = solara.use_state(DEFAULT_RUNS)
    done, set_done = solara.use_state(0)
    notice, set_notice = solara.use_state("")
    refusals, set_refusals = solara.use_state(0)  # remakes the picker after a refused value
    none: list[Hypothetical] = []
    items, set_items = solara.use_state(none)
    status, set_status = solara.use_state("")

    base = solara.use_memo(lambda: configure(name, {}), dependencies=[name])
    all_controls = solara.use_memo(lambda: controls(base), dependencies=[name])
    dates = record_dates(base)
    as_of_text, set_as_of = solara.use_state("")
    as_of = _as_of(as_of_text, dates, base)
    key = (name, tuple(sorted(values.items())), shocks)

    def build() -> tuple[Scenario | None, str | None]:
        try:
            return configure(name, values, shocks), None
        except (ScenarioError, PageError) as exc:
            return None, str(exc).replace(str(scenario_path(name)), name)

    scenario, invalid = solara.use_memo(build, dependencies=[key])
    settings = describe(name, values, shocks, all_controls)
    options = set_options(base, values, shocks)  # the command line's --set for these settings

    shown_at: Any = solara.use_ref(0.0)

    def progress(row: dict[str, float]) -> None:
        # at most once a second: each status re-renders the page (in this thread), and a forecast reports dozens of
        # populations (its points' one after another)
        now = time.monotonic()
        if now - shown_at.current < STATUS_EVERY:
            return
        shown_at.current = now
        set_status(f"Forecasting: population {int(row['population']) + 1}, {int(row['particles']):,} particles, "
                   f"effective sample size {row['ess']:,.0f} (the first forecast also compiles the engine)")

    asked = (key, as_of, seed)
    produced_by = f"{settings}; seed {seed}"

    def forecast_now(cancel: threading.Event) -> tuple[Any, PageForecast | None, str, PageForecast | None]:
        if scenario is None:
            return asked, None, produced_by, None
        set_status("Forecasting… (the first forecast also compiles the engine, up to a minute)")

        def reported(row: dict[str, float]) -> None:
            stop_if(cancel)
            progress(row)

        answer = cached_forecast(forecast_key(name, values, shocks, as_of, seed), scenario, as_of, seed, reported,
                                 options)
        # beside a moved setting, the scenario as it is (usually kept already: the page's first answer)
        as_it_is = (cached_forecast(forecast_key(name, {}, True, as_of, seed), base, as_of, seed, reported)
                    if values or not shocks else None)
        return asked, answer, produced_by, as_it_is

    answer = solara.use_thread(forecast_now, dependencies=[asked], intrusive_cancel=False)
    last: Any = solara.use_ref(None)  # the latest finished answer, shown greyed while the next one runs
    # an answer counts only for the settings it was asked with (a new thread may not have started yet)
    done_answer = answer.value if answer.state == solara.ResultState.FINISHED else None
    fresh = done_answer is not None and done_answer[0] == asked
    if done_answer is not None and fresh:
        last.current = done_answer[1:]
    answer_error = _error(answer, "The forecast")

    def whatif_now(cancel: threading.Event) -> tuple[PageForecast | None, str | None]:
        if not items or scenario is None:
            return None, None
        try:
            sc = configure(name, values, shocks, [i.entry() for i in items])
        except (ScenarioError, PageError) as exc:
            return None, f"That item is refused: {str(exc).replace(str(scenario_path(name)), name)}"
        when = max([as_of or sc.start, *(i.known_from for i in items)])
        return cached_forecast(forecast_key(name, values, shocks, when, seed, tuple(items)), sc, when, seed,
                               lambda _: stop_if(cancel), f"{options} --news {NEWS_FILE}"), None  # the card offers it

    whatif = solara.use_thread(whatif_now, dependencies=[key, as_of, seed, tuple(items)], intrusive_cancel=False)
    finished = whatif.value if whatif.state == solara.ResultState.FINISHED and whatif.value else (None, None)
    whatif_value, whatif_refused = finished

    tab, set_tab = solara.use_state(0)
    # a tab is drawn (and the Monte Carlo run) once it has been opened: before, its figures and models,
    # redrawn at every change, would only slow the answer
    opened, set_opened = solara.use_state(frozenset({0}))
    monte_carlo = ODDS_TAB in opened

    def simulate(cancel: threading.Event) -> MonteCarloResult | None:
        if scenario is None or not monte_carlo:
            return None
        total = [0]

        def counted(k: int) -> None:
            stop_if(cancel)
            total[0] += k
            set_done(total[0])

        set_done(0)
        command = f"python -m sim run {scenario_path_name(scenario)} --runs {n} --seed {seed}{options}"
        return run_monte_carlo(scenario, n, seed, f"{settings}; seed {seed}. The command line gives the same "
                                                  f"numbers: {command}", counted)

    result = solara.use_thread(simulate, dependencies=[key, n, seed, monte_carlo], intrusive_cancel=False)
    changed = bool(values) or not shocks

    def simulate_baseline(cancel: threading.Event) -> MonteCarloResult | None:
        if not (changed and monte_carlo):
            return None
        return run_monte_carlo(base, n, seed, f"{name} as the scenario has it; seed {seed}", lambda _: stop_if(cancel))

    baseline = solara.use_thread(simulate_baseline, dependencies=[name, changed, n, seed, monte_carlo],
                                 intrusive_cancel=False)
    running = result.state == solara.ResultState.RUNNING
    last_mc: Any = solara.use_ref(None)
    if result.state == solara.ResultState.FINISHED:
        last_mc.current = result.value
    shown = None if scenario is None or result.state == solara.ResultState.ERROR else last_mc.current
    mc_error = _error(result, "The Monte Carlo")

    timeline_rows, set_timeline_rows = solara.use_state(cast(list[dict[str, Any]] | None, None))
    timeline_done, set_timeline_done = solara.use_state(0)
    timeline_go, set_timeline_go = solara.use_state(0)

    def timeline_now(cancel: threading.Event) -> Any:
        if not timeline_go or scenario is None:
            return None
        rows: list[dict[str, Any]] = []

        def one(row: dict[str, Any]) -> None:
            stop_if(cancel)
            rows.append(row)
            set_timeline_done(len(rows))

        set_timeline_done(0)
        out = forecast_report.timeline(scenario, as_of, done=one, seed=seed, workers=1, particles=PARTICLES,
                                       target_ess=TARGET_ESS, progress=lambda _: stop_if(cancel))
        set_timeline_rows(out)
        return forecast_report.timeline_figure(scenario, out, priors.in_words(priors.load_learned()))

    timeline = solara.use_thread(timeline_now, dependencies=[timeline_go], intrusive_cancel=False)
    backtest_go, set_backtest_go = solara.use_state(0)
    backtest_status, set_backtest_status = solara.use_state("")

    def track_now(cancel: threading.Event) -> dict[str, Any] | None:
        if TRACK_TAB not in opened:
            return None

        def status_(text: str) -> None:
            stop_if(cancel)
            set_backtest_status(text)

        return backtest_result(status_) if backtest_go else learned_track_record()

    track = solara.use_thread(track_now, dependencies=[backtest_go, TRACK_TAB in opened], intrusive_cancel=False)

    def choose(value: Any) -> None:
        if not isinstance(value, str) or value not in scenario_files():  # a browser may send anything
            set_notice(f"Unknown scenario {str(value)[:80]!r}: choose one of the list.")
            set_refusals(refusals + 1)
            return
        set_notice("")
        set_name(value)
        set_values({})  # each scenario brings its own settings, record and news
        set_as_of("")
        set_items([])
        set_timeline_rows(None)

    def fix(path: str, value: float | None) -> None:
        updated = {k: v for k, v in values.items() if k != path}
        if value is not None:
            updated[path] = value
        set_values(updated)

    solara.Title("Negotiation simulator")
    with solara.AppBar():
        solara.AppBarTitle(f"Negotiation simulator — {base.title}")
    with solara.Sidebar():
        solara.Select("Scenario", values=list(scenario_files()), value=name, on_value=choose).key(f"pick{refusals}")
        if notice:
            solara.Warning(notice)
        markup(html.escape(base.description[:400]), style="font-size: 12px; color: #555")
        if dates:
            solara.Select("Forecast as of", values=[d.isoformat() for d in dates],
                          value=as_of.isoformat() if as_of else dates[-1].isoformat(), on_value=set_as_of)
        else:
            markup("no record: the forecast is the prior", style="font-size: 13px")
        solara.Button("Use the scenario's values for everything", on_click=lambda: (set_values({}), set_shocks(True)),
                      disabled=not values and shocks, small=True)
        for c in all_controls:
            ControlInput(c, values.get(c.path), functools.partial(fix, c.path))
        solara.Checkbox(label="Shocks (the scenario's events) can happen", value=shocks, on_value=set_shocks)
        solara.InputInt("Seed", value=seed, on_value=lambda v: set_seed(max(0, min(int(v or 0), 2**63 - 1))))
        solara.InputInt("Simulated worlds", value=n, on_value=lambda v: set_n(int(v or 0)))
        if not 1 <= n <= MAX_PAGE_RUNS:
            solara.Warning(f"Between 1 and {MAX_PAGE_RUNS:,} worlds on the page; for more, use the command line.")
    shown_answer, shown_settings, as_it_is = (last.current if last.current and scenario is not None
                                              else (None, "", None))
    ForecastAnswer(shown_answer, not fresh and answer_error is None and scenario is not None, invalid or answer_error,
                   status, shown_settings, as_it_is)
    if scenario is None:
        return
    def open_tab(i: int) -> None:
        set_tab(i)
        set_opened(opened | {i})

    with solara.lab.Tabs(value=tab, on_value=open_tab):
        with solara.lab.Tab("What if the news were…"):
            WhatIfTab(scenario, items, set_items, shown_answer, whatif_value,
                      whatif.state == solara.ResultState.RUNNING, whatif_refused or _error(whatif, "The what-if"))
        with solara.lab.Tab("Timeline"):
            if TIMELINE_TAB in opened:
                TimelineTab(scenario, timeline_rows, timeline.state == solara.ResultState.RUNNING, timeline_done,
                            1 + len(forecast_report.timeline_dates(scenario, as_of)),
                            lambda: set_timeline_go(timeline_go + 1),
                            timeline.value if timeline.state == solara.ResultState.FINISHED else None)
        with solara.lab.Tab("Odds and terms"):
            Answer(shown, running, mc_error, done, n)
            if changed and not running and shown is not None and baseline.state == solara.ResultState.FINISHED \
                    and baseline.value is not None and baseline.value.table.num_rows == shown.table.num_rows:
                d = paired(shown, baseline.value, base.headline)
                markup(f"What-if minus the scenario as it is: <b>{100 * d['diff']:+.1f} points</b> (95% interval "
                       f"{100 * d['low']:+.1f} to {100 * d['high']:+.1f}; paired on the same {d['n']:,} worlds, as "
                       f"<code>python -m sim compare</code> does)", style="font-size: 15px; margin: 4px 0 8px 0")
            TermsTab(shown)
        with solara.lab.Tab("One negotiation, meeting by meeting"):
            if NEGOTIATION_TAB in opened:
                NegotiationTab(scenario, seed, f"{settings}; seed {seed}")
        with solara.lab.Tab("Track record"):
            if TRACK_TAB in opened:
                TrackRecordTab(track.value if track.state == solara.ResultState.FINISHED else None,
                               track.state == solara.ResultState.RUNNING, backtest_status,
                               lambda: set_backtest_go(backtest_go + 1))


#: The positions of the tabs drawn only once opened ("Odds and terms" runs its Monte Carlo then).
TIMELINE_TAB, ODDS_TAB, NEGOTIATION_TAB, TRACK_TAB = 1, 2, 3, 4


def _as_of(text: str, dates: list[dt.date], scenario: Scenario) -> dt.date | None:
    """The forecast date the page uses: the one chosen if it is a record date, else the latest."""
    if not dates:
        return None
    try:
        chosen = dt.date.fromisoformat(text) if isinstance(text, str) and text else None
    except ValueError:
        chosen = None
    return chosen if chosen in dates else dates[-1]


def _error(result: Any, what: str) -> str | None:
    """A failed computation's message (the reason, never a traceback)."""
    if result.state != solara.ResultState.ERROR:
        return None
    return f"{what} gave no number: {result.error}"
