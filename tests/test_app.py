"""The page: its settings (pure functions), its components (solara.render), and a browser test
that changes every control and checks the answer each one produces."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import ipyvuetify as v
import ipywidgets
import pytest
import solara
import solara.widgets

from sim import app
from sim.app.forecasting import default_as_of, run_forecast
from sim.scenario import ScenarioError
from tests.conftest import ROOT

FLAGSHIP = "us_korea_2025.toml"
CEILING = "parties.korea.issues.annual_cash.max"


# --- settings -------------------------------------------------------------------------------


def test_controls_are_the_scenarios_own_with_its_defaults_and_ranges(flagship):
    by_path = {c.path: c for c in app.controls(flagship)}
    ceiling = by_path[CEILING]
    assert (ceiling.low, ceiling.high, ceiling.unit) == (17, 25, "$B/yr") and ceiling.default == 20.0
    assert ceiling.prior == "truncnormal(mean=20, sd=1.5, low=17, high=25)"
    assert by_path["parties.us.deadline_offset_days"].integer  # the dominant input is on the page
    summit = by_path[app.SUMMIT_PATH]
    assert summit.default == flagship.summit_day and summit.show(summit.default) == "29 Oct 2025"
    japan = {c.path: c for c in app.controls(app.configure("us_japan_2025.toml", {}))}
    assert japan[app.SUMMIT_PATH].show(japan[app.SUMMIT_PATH].default) == "21 Oct 2025"
    assert CEILING not in japan and "parties.japan.tactic.beta" in japan
    for c in by_path.values():  # every default sits on its slider's grid (a snap would count as a change)
        assert c.low <= c.default <= c.high
        assert abs(c.default / c.step - round(c.default / c.step)) < 1e-6


def test_configure_fixes_what_is_set_and_keeps_the_rest_uncertain(flagship):
    sc = app.configure(FLAGSHIP, {CEILING: 25.0, app.SUMMIT_PATH: 95}, shocks=False)
    k = sc.issue_keys.index("annual_cash")
    assert sc.parties[1].limit_max[k].value == 25.0 and sc.summit_day == 95
    assert all((e.hazard or e.probability).value == 0.0 for e in sc.events)
    assert sc.parties[0].reservation == flagship.parties[0].reservation  # still the scenario's distribution
    assert app.configure(FLAGSHIP, {}) == flagship


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", str(ROOT / "scenarios" / FLAGSHIP), "nope.toml",
                                  "records/us_korea_2025.toml"])
def test_only_listed_scenarios_are_read(name):
    # D1: the picker loaded any path the browser sent, and showed tracebacks with server paths
    with pytest.raises(app.PageError, match="unknown scenario"):
        app.configure(name, {})


def test_an_invalid_combination_is_the_validators_message():
    with pytest.raises(ScenarioError, match=r"parties\.korea\.issues\.annual_cash\.max"):
        app.configure(FLAGSHIP, {CEILING: 5.0})


def test_the_monte_carlo_keeps_nothing_on_disk_and_refuses_bad_sizes(flagship):
    before = set(Path(tempfile.gettempdir()).glob("sim-app-*"))
    result = app.run_monte_carlo(flagship, 500, 0, "test")
    assert result.table.num_rows == 500 and set(result.figures) == {"milestones", "closing days", "terms"}
    assert set(Path(tempfile.gettempdir()).glob("sim-app-*")) == before  # D10: a folder leaked per run
    for n in (0, -5, app.MAX_PAGE_RUNS + 1):
        with pytest.raises(app.PageError, match="between 1 and"):
            app.run_monte_carlo(flagship, n, 0)


# --- components -----------------------------------------------------------------------------


def _text(rc) -> str:
    raw = " ".join(str(w.unsafe_innerHTML) for w in rc.find(solara.widgets.HTML).widgets)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", raw))


def _wait(rc, condition, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    while not condition(text := _text(rc)):
        assert time.monotonic() < deadline, text[:2000]
        time.sleep(0.1)
    return text


def _answer(scenario_name: str, values: dict, shocks: bool = True, as_of: dt.date | str | None = "latest",
            seed: int = 0) -> str:
    """The answer the page should show (the forecast given the record), computed here."""
    sc = app.configure(scenario_name, values, shocks)
    f = run_forecast(sc, default_as_of(sc) if as_of == "latest" else as_of, seed)
    return f"{app.percent(f.p)} 95% interval {app.percent(f.low)}–{app.percent(f.high)}"


@solara.component
def _Layout() -> None:
    with solara.AppLayout():  # as the server lays a page out: the sidebar and the app bar have a place
        app.Page()


def _page():
    return solara.render(_Layout(), handle_error=False)[1]


def _settled(text: str) -> bool:
    return "prior (no record)" in text and "updating" not in text and "Forecasting" not in text


def test_the_page_answers_with_the_forecast_given_the_record_and_a_setting_takes_effect():
    rc = _page()
    text = _wait(rc, _settled)
    assert _answer(FLAGSHIP, {}) in text and "as the scenario has it" in text
    assert "given the record to 2025-10-24" in text and "--as-of 2025-10-24 --seed 0" in text
    labels = [w.children for w in rc.find(v.Tab).widgets]
    assert labels == [["What if the news were…"], ["Timeline"], ["Odds and terms"],
                      ["One negotiation, meeting by meeting"], ["Track record"]]
    # the Korean cash ceiling to its top: the answer changes without any reset (it did not, at 93ab331)
    index = [c.path for c in app.controls(app.configure(FLAGSHIP, {}))].index(CEILING)
    rc.find(v.Slider).widgets[index].v_model = 25.0
    text = _wait(rc, lambda t: "ceiling = 25 $B/yr" in t and _settled(t))
    assert _answer(FLAGSHIP, {CEILING: 25.0}) in text
    # beside it, the scenario as it is and how far the setting moved the forecast
    sc, as_it_is = app.configure(FLAGSHIP, {CEILING: 25.0}), app.configure(FLAGSHIP, {})
    moved, before = (run_forecast(x, default_as_of(x), 0) for x in (sc, as_it_is))
    assert f"the scenario as it is: {app.percent(before.p)} [" in text
    assert f"these settings move the forecast by {100 * (moved.p - before.p):+.1f} points" in text


def test_switching_scenario_brings_its_own_settings_and_unlisted_names_are_refused():
    rc = _page()
    _wait(rc, _settled)
    for bad, shown in (("/etc/passwd", "'/etc/passwd'"), (["us_korea_2025.toml"], "\"['us_korea_2025.toml']\"")):
        rc.find(v.Select).widgets[0].v_model = bad  # N5: a list gave a traceback with server paths
        deadline = time.monotonic() + 30
        while not any(f"Unknown scenario {shown}" in str(c) for w in rc.find(v.Alert).widgets for c in w.children):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert rc.find(v.Select).widgets[0].v_model == FLAGSHIP  # the picker shows the scenario still in use
    assert "root:" not in _text(rc) and "as the scenario has it" in _text(rc)
    rc.find(v.Select).widgets[0].v_model = "us_japan_2025.toml"
    text = _wait(rc, lambda t: "by 21 October 2025" in t and _settled(t))
    assert "no record: this is the prior" in text and _answer("us_japan_2025.toml", {}, as_of=None) in text


def test_a_what_if_item_moves_the_forecast_and_a_bad_one_is_refused(flagship):
    from sim.app.forecasting import Hypothetical

    item = Hypothetical("progress", dt.date(2025, 10, 27), apart=(0,))
    sc = app.configure(FLAGSHIP, {}, news=[item.entry()])
    assert len(sc.record.progress) == len(flagship.record.progress) + 1
    moved = run_forecast(sc, item.known_from, 0)
    assert moved.as_of == dt.date(2025, 10, 27) and "4 progress reports" in moved.items
    with pytest.raises(ScenarioError, match="issues_apart"):
        app.configure(FLAGSHIP, {}, news=[Hypothetical("progress", dt.date(2025, 10, 27), apart=(9,)).entry()])
    held = Hypothetical("round", dt.date(2025, 10, 29), held=False, announced=dt.date(2025, 10, 26))
    sc = app.configure(FLAGSHIP, {}, news=[held.entry()])
    assert sc.record.rounds[-1].known_from == (dt.date(2025, 10, 26) - sc.start).days


def test_every_session_has_its_own_negotiation():
    # one model was shared by every visitor at 93ab331
    first = _page()
    second = _page()
    for rc in (first, second):
        assert not rc.find(v.Btn, children=["Step"]).widgets  # drawn only once its tab is opened
        rc.find(v.Tabs).widget.v_model = 3
    first.find(v.Btn, children=["Step"]).widget.click()
    _wait(first, lambda t: "Meeting 1 on" in t)
    assert "Press Step or Play" in _text(second) and "Meeting 1 on" not in _text(second)


def _pngs(rc) -> list[bytes]:
    return [w.value for w in rc.find(ipywidgets.Image).widgets if bytes(w.value[:4]) == b"\x89PNG"]


def test_one_negotiation_steps_to_its_outcome_with_its_views(flagship):
    model = app.LiveNegotiation(flagship, seed=3, replication=5)
    while model.running:
        model.step()
    _, rc = solara.render(app.Outcome(model), handle_error=False)
    text = _text(rc)
    assert ("Agreement in principle on" in text) == (model.agreement is not None)
    if model.agreement is not None:
        assert "closed by" in text and " us" not in text.split("closed by")[1][:4]  # labels, not keys
    assert len(model.datacollector.get_model_vars_dataframe()) == model.rounds + 1
    for view in (app.Dance, app.UtilityPlane, app.Calendar):
        _, rc = solara.render(view(model), handle_error=False)
        assert len(_pngs(rc)) == 1, view.__name__


# --- the browser ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli_forecast(tmp_path: Path, as_of: str, seed: int = 0) -> str:
    """The command line's forecast for the flagship, as the page writes it."""
    return _cli_answer(tmp_path, f"python -m sim forecast scenarios/{FLAGSHIP} --as-of {as_of} --seed {seed}")


def _cli_answer(tmp_path: Path, command: str) -> str:
    """What ``command`` (a ``python -m sim forecast`` line, as the page shows it) prints, as the page writes it."""
    args = shlex.split(command)
    assert args[:4] == ["python", "-m", "sim", "forecast"], command
    out = tmp_path / f"cli-{len(list(tmp_path.glob('cli-*')))}"
    r = subprocess.run([sys.executable, *args[1:], "--no-plots", "--quiet", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    data = json.loads((out / "forecast.json").read_text())
    f = data["probabilities"]["agreement"]["forecast"]["before_summit"]
    return f"{app.percent(f['p'])} 95% interval {app.percent(f['low'])}–{app.percent(f['high'])}"


def test_browser_the_page_gives_the_command_lines_forecast_and_its_what_ifs(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium package is needed (make test installs it)"
    from playwright.sync_api import sync_playwright

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "sim", "app", "--port", str(port)], cwd=ROOT, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"the page's server did not start: {log.read_text()}")
                time.sleep(0.5)
        controls = app.controls(app.configure(FLAGSHIP, {}))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"], headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            outside, errors = [], []
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "ws://127.0.0.1",
                                                                                          "blob:", "data:")) else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base, timeout=120_000)
            answer = page.locator(".v-card").first

            def settled(*must: str) -> str:
                t0 = time.monotonic()
                while True:
                    text = " ".join(answer.inner_text().split())
                    if _settled(text) and all(m in text for m in must):
                        return text
                    assert time.monotonic() - t0 < 180, text
                    page.wait_for_timeout(200)

            # the answer is the command line's forecast for the same scenario, date and seed
            text = settled("as the scenario has it", "--as-of 2025-10-24 --seed 0")
            assert _cli_forecast(tmp_path, "2025-10-24") in text
            assert page.title() == "Negotiation simulator"
            assert page.get_by_role("tab", name="Home").count() == 0  # no stray HOME / PAGE tabs
            # moving the as-of date changes it, to the command line's forecast as of that date
            slot = "xpath=ancestor::div[contains(@class, 'v-input__slot')]"
            as_of = page.get_by_label("Forecast as of").locator(slot)
            as_of.click()
            page.get_by_role("option", name="2025-10-22").click()
            text = settled("--as-of 2025-10-22")
            assert _cli_forecast(tmp_path, "2025-10-22") in text
            as_of.click()
            page.get_by_role("option", name="2025-10-24").click()
            first = settled("--as-of 2025-10-24")
            # an imagined item moves the forecast; removing it restores the page as it was
            page.get_by_role("button", name="Add").click()
            page.get_by_text("The imagined news move the forecast by").wait_for(timeout=180_000)
            assert "1 issue(s) still apart" not in page.inner_text("body")
            assert "0 issue(s) still apart" in page.inner_text("body")
            assert "--news whatif.toml" in page.inner_text("body")  # the what-if names its command
            page.get_by_role("button", name="remove").click()
            page.get_by_text("The imagined news move the forecast by").wait_for(state="detached", timeout=60_000)
            assert settled() == first
            # a setting changes the answer (none did, at 93ab331), and reset restores it: the first, the
            # cash ceiling and the last control (configure() is tested on every one above)
            sliders = page.get_by_role("slider")
            assert sliders.count() == len(controls)
            chosen = sorted({0, [c.path for c in controls].index(CEILING), len(controls) - 1})
            for k, c in ((k, controls[k]) for k in chosen):
                sliders.nth(k).focus()
                sliders.nth(k).press("End")  # the slider's top: the control fixed at its highest value
                settled(f"{c.label} = {c.show(c.high)}")
                if k == 0:  # the command the page shows (with --set) prints the number it shows
                    text = settled()
                    command = re.search(r"gives the same number: (python -m sim forecast .*?--seed \d+(?: --set \S+)*)",
                                        text)
                    assert command and "--set" in command.group(1), text
                    assert _cli_answer(tmp_path, command.group(1)) in text, c.path
                page.get_by_role("button", name="reset").nth(k).click()
                assert settled("as the scenario has it") == first
            page.get_by_role("tab", name="One negotiation, meeting by meeting").click()
            page.get_by_role("button", name="Step").click()
            page.get_by_text("Meeting 1 on").wait_for(timeout=60_000)
            if os.environ.get("SIM_APP_SCREENSHOT"):
                page.screenshot(path=os.environ["SIM_APP_SCREENSHOT"])
            # a second visitor starts afresh
            other = browser.new_page(viewport={"width": 1400, "height": 1000})
            other.goto(base, timeout=120_000)
            other.get_by_role("tab", name="One negotiation, meeting by meeting").click()
            other.get_by_text("Press Step or Play").wait_for(timeout=60_000)
            browser.close()
        assert not outside, f"the page went online: {outside[:5]}"
        assert not errors, errors
        server_log = log.read_text()
        assert "Traceback" not in server_log and "New version of Solara" not in server_log
    finally:
        os.killpg(server.pid, 9)
        server.wait()


def test_every_control_at_its_top_is_a_valid_scenario():
    base = app.configure(FLAGSHIP, {})
    for c in app.controls(base):
        sc = app.configure(FLAGSHIP, {c.path: c.high})
        assert sc != base, c.path


def test_the_track_record_is_the_cross_validated_backtest(tmp_path):
    from sim.app.news import backtest_result, learned_track_record
    from tests.test_backtest import small_library

    library = small_library(tmp_path)
    result = backtest_result(library=library, workers=1, particles=1000, target_ess=300)
    s = result["summary"]
    assert s["cases"] == len(result["cases"]) == 3 and s["forecasts"] == 6 and s["groups"] == 3
    for case, _n, b, _bj, bb, _bk, why in result["cases"]:
        assert (why == "—") == (b <= bb), case  # a reason exactly where a case loses to its base rate
    learned = library.parent / "learned.toml"
    assert learned_track_record(learned) is None  # no learned priors written yet
    r = subprocess.run([sys.executable, "-m", "sim", "backtest", "--cross-validate", "--library", str(library),
                        "--particles", "1000", "--target-ess", "300", "--quiet", "--write-priors",
                        "--out", str(tmp_path / "results" / "cv-1")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    shown = learned_track_record(learned)  # what a fresh clone's page shows: kept with the priors
    assert shown is not None and shown["cases"] == result["cases"]  # the page shows what the command line measured
    assert all(shown["summary"][k] == s[k] for k in ("brier", "brier_judgement", "brier_base", "brier_base_kind"))
    assert shown["summary"]["reliability"][0]["count"] == s["reliability"][0]["count"]
    assert "--write-priors" in shown["command"] and str(learned) in shown["source"]


def test_a_killed_servers_temporary_folders_are_removed_by_the_next(tmp_path, monkeypatch):
    from sim.app import montecarlo

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / f"{montecarlo.PREFIX}999999999-abc"  # no such process
    ours = tmp_path / f"{montecarlo.PREFIX}{os.getpid()}-abc"
    other = tmp_path / "sim-apple"
    for folder in (dead, ours, other):
        folder.mkdir()
    montecarlo.sweep_stale()
    assert not dead.exists() and ours.exists() and other.exists()


def test_a_moved_setting_shows_its_paired_difference_against_the_scenario_as_it_is(flagship):
    from sim.app.montecarlo import paired

    base = app.run_monte_carlo(flagship, 2000, 3)
    moved = app.run_monte_carlo(app.configure(FLAGSHIP, {CEILING: 25.0}), 2000, 3)
    d = paired(moved, base, flagship.headline)
    hits = [r.table.column("agreement_before_summit").to_numpy(zero_copy_only=False).astype(float).mean()
            for r in (moved, base)]
    assert d["diff"] == pytest.approx(hits[0] - hits[1]) and d["low"] < d["diff"] < d["high"]
    assert d["high"] - d["low"] < d["unpaired_high"] - d["unpaired_low"]  # the same worlds: a narrower interval


def test_an_imagined_event_is_checked_against_the_scenario(flagship):
    from sim.app.forecasting import Hypothetical

    ok = Hypothetical("event", dt.date(2025, 10, 26), event="swap_line")
    assert app.configure(FLAGSHIP, {}, news=[ok.entry()]).record.events[-1].name == "swap_line"
    with pytest.raises(ScenarioError, match="georgia_raid"):  # a dated event struck on another day
        app.configure(FLAGSHIP, {}, news=[Hypothetical("event", dt.date(2025, 10, 26), event="georgia_raid").entry()])


def test_forecasts_are_kept_by_what_produced_them(flagship, monkeypatch):
    from sim.app import forecasting

    calls = []
    monkeypatch.setattr(forecasting, "run_forecast",
                        lambda sc, as_of, seed, progress=None, options="": calls.append(seed) or seed)
    monkeypatch.setattr(forecasting, "_CACHE", forecasting.OrderedDict())
    monkeypatch.setattr(forecasting, "CACHE_SIZE", 2)
    for seed in (1, 1, 2, 1, 3, 2):
        assert forecasting.cached_forecast(("k", seed), flagship, None, seed) == seed
    assert calls == [1, 2, 3, 2]  # the third 1 was kept; 2 had been dropped for 3 (two at most)


def test_a_what_ifs_news_file_gives_the_command_line_the_pages_number(tmp_path):
    from sim.app.forecasting import Hypothetical, news_file

    items = [Hypothetical("progress", dt.date(2025, 10, 25), apart=(0, 1)),
             Hypothetical("position", dt.date(2025, 10, 25), side="us", issue="annual_cash", value=22.5)]
    sc = app.configure(FLAGSHIP, {}, True, [i.entry() for i in items])
    page = run_forecast(sc, dt.date(2025, 10, 25), 0, options=" --news whatif.toml")
    assert page.command.endswith("--as-of 2025-10-25 --seed 0 --news whatif.toml")
    (tmp_path / "whatif.toml").write_text(news_file(items), encoding="utf-8")
    command = page.command.replace("whatif.toml", str(tmp_path / "whatif.toml"))
    shown = f"{app.percent(page.p)} 95% interval {app.percent(page.low)}–{app.percent(page.high)}"
    assert _cli_answer(tmp_path, command) == shown


def test_a_forecast_being_computed_is_waited_for_not_computed_twice(flagship, monkeypatch):
    from sim.app import forecasting

    started, release, calls = threading.Event(), threading.Event(), []

    def slow(sc, as_of, seed, progress=None, options=""):
        calls.append(seed)
        started.set()
        assert release.wait(60)
        if seed == 13:
            raise RuntimeError("superseded")  # as a stopped computation does
        return seed

    monkeypatch.setattr(forecasting, "run_forecast", slow)
    monkeypatch.setattr(forecasting, "_CACHE", forecasting.OrderedDict())
    for seed, expected_calls in ((12, [12]), (13, [13, 13])):
        calls.clear()
        started.clear()
        release.clear()
        got: list = []

        def ask(seed=seed, got=got):
            try:
                got.append(forecasting.cached_forecast(("k", seed), flagship, None, seed))
            except RuntimeError as exc:
                got.append(str(exc))

        first = threading.Thread(target=ask)
        first.start()
        assert started.wait(60)
        second = threading.Thread(target=ask)  # the same key while the first computes it
        second.start()
        time.sleep(0.5)
        assert calls == [seed]  # the second waits
        release.set()
        first.join(60)
        second.join(60)
        assert calls == expected_calls  # computed once; again only when the first one stopped
        assert got == ([12, 12] if seed == 12 else ["superseded", "superseded"])
    assert not forecasting._RUNNING


def test_the_servers_warm_up_is_the_pages_first_answer(monkeypatch):
    from sim.app import forecasting

    real, calls = forecasting.run_forecast, []
    monkeypatch.setattr(forecasting, "run_forecast", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    monkeypatch.setattr(forecasting, "_CACHE", forecasting.OrderedDict())
    app.warm_up()
    assert len(calls) == 1
    rc = _page()
    assert _answer(FLAGSHIP, {}) in _wait(rc, _settled)
    assert len(calls) == 1  # the page's first answer came from the warm-up


def test_the_monte_carlo_runs_once_its_tab_is_open_and_shows_the_paired_difference(tmp_path):
    rc = _page()
    _wait(rc, _settled)
    assert "Monte Carlo of these settings" not in _text(rc)  # not computed behind the answer's back
    rc.find(v.Tabs).widget.v_model = 2
    _wait(rc, lambda t: "Monte Carlo of these settings" in t and "Simulating" not in t)
    index = [c.path for c in app.controls(app.configure(FLAGSHIP, {}))].index(CEILING)
    rc.find(v.Slider).widgets[index].v_model = 25.0
    text = _wait(rc, lambda t: "What-if minus the scenario as it is" in t)
    assert "paired on the same 5,000 worlds" in text
    # the command the Monte Carlo names prints its number
    command = re.search(r"gives the same numbers: (python -m sim run \S+ --runs \d+ --seed \d+(?: --set \S+)*)", text)
    assert command and f"--set {CEILING}=25.0" in command.group(1), text
    shown = re.search(r"no record: chance of agreement in principle by [^\n]*?(\d+(?:\.\d)?%) 95% interval", text)
    r = subprocess.run([sys.executable, *shlex.split(command.group(1))[1:], "--no-plots", "--quiet", "--out",
                        str(tmp_path / "run")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    b = json.loads((tmp_path / "run" / "summary.json").read_text())["milestones"]["agreement"]["before_summit"]
    assert shown and shown.group(1) == app.percent(b["p"]), (shown, b)


def test_a_server_beyond_loopback_serves_only_a_refusal(monkeypatch):
    # N10: `solara run sim.app` listened wherever $HOST said
    for host, ok in (("127.0.0.1", True), ("localhost", True), ("0.0.0.0", False), ("myhost", False)):
        monkeypatch.setenv("SERVER_NAME", host)
        assert app.served_on_loopback() is ok
    monkeypatch.delenv("SERVER_NAME")
    assert app.served_on_loopback()
    _, rc = solara.render(app.Refused(), handle_error=False)
    assert "serves on 127.0.0.1 only" in str(rc.find(v.Alert).widget.children)


def test_a_superseded_forecast_stops_at_its_next_progress_report(flagship):
    import threading

    from sim.app.page import stop_if

    cancel = threading.Event()
    reports: list[int] = []

    def report(row: dict) -> None:
        reports.append(int(row["population"]))
        if len(reports) == 2:
            cancel.set()  # the settings changed while it ran
        stop_if(cancel)

    with pytest.raises(solara.util.CancelledError):
        run_forecast(flagship, dt.date(2025, 10, 24), 0, report)
    assert len(reports) == 2  # stopped at the report after the change, not at the end
