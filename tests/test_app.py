"""The page: settings → scenario, component tests (solara.render), and one browser test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import ipyvuetify as v
import ipywidgets
import pytest
import solara

from sim import app
from tests.conftest import ROOT


def test_settings_are_written_into_the_scenario():
    sc = app.configure("us_korea_2025.toml", beta_a=1.5, beta_b=0.3, reservation_a=0.4, reservation_b=0.2,
                       limit=22.0, contact_rate=0.9, summit_day=95, shocks=False)
    us, korea = sc.parties
    assert us.tactic.beta.value == 1.5 and korea.tactic.beta.value == 0.3
    assert korea.limit_max[1].value == 22.0 and sc.summit_day == 95 and sc.contact_rate.value == 0.9
    assert all(e.hazard is None or e.hazard.value == 0.0 for e in sc.events)


def test_invalid_settings_show_the_validators_message_not_a_traceback():
    model = app.LiveNegotiation(summit_day=170)  # after the horizon
    assert model.error and "scenario.horizon" in model.error and not model.running
    _, rc = solara.render(app.Outcome(model), handle_error=False)
    alert = rc.find(v.Alert).widget
    assert "Invalid settings" in alert.children[0] and "scenario.horizon" in alert.children[0]


def _markdown(rc) -> str:
    return " ".join(w.template for w in rc.find(v.VuetifyTemplate).widgets if isinstance(w.template, str))


def _pngs(rc) -> list[bytes]:
    return [w.value for w in rc.find(ipywidgets.Image).widgets if bytes(w.value[:4]) == b"\x89PNG"]


def test_one_negotiation_steps_and_its_views_render():
    model = app.LiveNegotiation(seed=3, replication=5)
    _, rc = solara.render(app.Outcome(model), handle_error=False)
    assert "Press <strong>Step</strong>" in _markdown(rc)
    model.step()
    _, rc = solara.render(app.Outcome(model), handle_error=False)
    assert "Meeting 1 on" in _markdown(rc) and "aspiration" in _markdown(rc)
    while model.running:
        model.step()
    _, rc = solara.render(app.Outcome(model), handle_error=False)
    assert ("Agreement in principle on" in _markdown(rc)) == (model.agreement is not None)
    for view in (app.Dance, app.UtilityPlane, app.Calendar):
        _, rc = solara.render(view(model), handle_error=False)
        assert len(_pngs(rc)) == 1, view.__name__


def test_monte_carlo_panel_runs_and_shows_the_probability():
    model = app.LiveNegotiation()
    _, rc = solara.render(app.MonteCarlo(model), handle_error=False)
    rc.find(v.Btn, children=["Run Monte Carlo"]).widget.click()
    deadline = time.monotonic() + 60
    while "P(agreement in principle by" not in _markdown(rc) and time.monotonic() < deadline:
        time.sleep(0.2)  # the run is in a thread; the panel re-renders when it ends
    text = _markdown(rc)
    assert "P(agreement in principle by 2025-10-29) = " in text and "n=1,000" in text
    assert len(_pngs(rc)) == 2  # closing days and terms
    labels = [c for b in rc.find(v.Btn).widgets for c in b.children if isinstance(c, str)]
    assert "Download summary.json" in labels and "Download runs.csv" in labels


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_browser_changes_a_setting_and_runs_a_monte_carlo(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium package is needed (.ci/run installs it)"
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "sim", "app", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("the page's server did not start")
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"], headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
            page.get_by_role("button", name="Step").wait_for(timeout=120_000)
            page.get_by_text("Shocks on").click()  # change a parameter: no shocks
            page.wait_for_timeout(500)
            assert not page.get_by_label("Shocks on").is_checked()
            page.get_by_role("tab", name="Page 1").click()
            page.get_by_label("Replications").fill("1000")
            page.get_by_label("Replications").press("Enter")
            page.get_by_role("button", name="Run Monte Carlo").click()
            page.get_by_text("P(agreement in principle by").wait_for(timeout=120_000)
            assert "n=1,000" in page.inner_text("body")
            assert page.locator(".v-card img").count() >= 2  # closing-day histogram and terms
            if os.environ.get("SIM_APP_SCREENSHOT"):
                page.screenshot(path=os.environ["SIM_APP_SCREENSHOT"], full_page=False)
            browser.close()
    finally:
        os.killpg(server.pid, 9)
        server.wait()
