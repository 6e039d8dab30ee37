"""The interactive page: how likely is a deal before the summit, and what moves it.

    python -m sim app [--host 127.0.0.1] [--port 8765]

The page answers first: P(the scenario's headline milestone before the summit) *given the
record* as of a date the user picks (by default the record's latest date), with the prior
beside it and the effective sample size — the number ``python -m sim forecast FILE --as-of D
--seed S`` prints for the same settings (the page says so, with the command). A scenario with
no record says "no record: this is the prior". The settings are the scenario's own knobs
(:func:`controls`): its declared uncertainties and levers, each side's concession pace,
reservation value and deadline, the contact rate, the summit date and the shocks. Each starts
at *the scenario's distribution*; moving a slider fixes that input at the slider's value, and
"use the scenario's" frees it again. Every result says which settings, record and date
produced it; while a new answer runs, the last one stays, greyed, under a progress bar.

Tabs:

- **What if the news were…**: imagined record items (a position, a progress report, a round or
  the summit confirmed or cancelled) on later dates, and the forecast with them beside the
  current one.
- **Timeline**: the odds over time as the record came in; each point shows the news that moved it.
- **Odds and terms**: the Monte Carlo of the settings (no record; it runs once the tab has been
  opened): milestones, closing days and agreed terms, with the records to download (up to
  :data:`MAX_PAGE_RUNS` worlds), and what-if minus the scenario as it is when a setting moved.

- **One negotiation**: one world of the same settings, meeting by meeting (step, play,
  restart): the offers per issue (the "dance"), what each side asks and is offered (Mesa's
  DataCollector drawn by Mesa's matplotlib component), the utility plane with the Pareto
  frontier and the Nash point, and the calendar.
- **Track record**: the cross-validated backtest the learned priors were fitted with (kept
  beside them in ``scenarios/library/learned.toml``), as measured, so a user can see how far to
  trust the number; the answer's card says it in one line.

Forecasts are kept by what produced them (:func:`sim.app.forecasting.cached_forecast`): a second
visitor, or a setting moved back, gets its answer at once; ``python -m sim app`` computes the
first answer as the server starts (:func:`warm_up`).

Each browser session has its own settings, model and results. The scenario picker offers
the shipped scenarios and accepts nothing else; an invalid combination of settings shows the
validator's message, never a traceback. The page makes no network requests of its own (no
Markdown component, whose math and diagram scripts come from a CDN), and ``python -m sim
app`` turns off Solara's telemetry and version check.

Rooms, as in Mesa's examples (a model, its page):

- :mod:`~sim.app.settings`: the scenario's knobs and the scenario with the chosen values (pure);
- :mod:`~sim.app.forecasting`: the page's forecasts and what-if news (pure);
- :mod:`~sim.app.news`: the forecast's views (the answer, what-ifs, timeline, track record);
- :mod:`~sim.app.montecarlo`: the page's Monte Carlo, in memory;
- :mod:`~sim.app.negotiation`: one negotiation (a Mesa model with a DataCollector) and its views;
- :mod:`~sim.app.page`: the page itself (:func:`Page`);
- :mod:`~sim.app.parts`: small shared pieces.

Serve it with ``python -m sim app``, which listens on 127.0.0.1 only. Solara's own ``solara run``
takes its address from ``$HOST``, which some shells set to the machine's name: served on any
address but loopback, the page shows only a refusal (give ``--host 127.0.0.1``).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import threading
from collections.abc import Callable

import solara

from sim.app.montecarlo import DEFAULT_RUNS, MAX_PAGE_RUNS, MonteCarloResult, run_monte_carlo
from sim.app.negotiation import Calendar, Dance, LiveNegotiation, NegotiationTab, Outcome, UtilityPlane
from sim.app.page import Page
from sim.app.parts import percent
from sim.app.settings import (
    DEFAULT_SCENARIO,
    SUMMIT_PATH,
    Control,
    PageError,
    configure,
    controls,
    describe,
    scenario_path,
)

#: How long a closed tab's session is kept for a reconnect before it is freed.
CULL_TIMEOUT = "30s"

with contextlib.suppress(ImportError, AttributeError):  # also when served by `solara run sim.app`
    import solara.server.settings

    solara.server.settings.telemetry.mixpanel_enable = False
    # a closed tab's session (its settings, model, results and figures) is freed after this
    # (Solara keeps it 24 h by default, for a reconnect: the server grew with every visitor)
    solara.server.settings.kernel.cull_timeout = CULL_TIMEOUT

#: How long after a session closes the server hands freed memory back to the system.
TRIM_DELAY = 2.0


def release_memory() -> None:
    """Collect garbage and give the heap's free pages back to the system (glibc's ``malloc_trim``;
    elsewhere only the collection). A session's arrays are freed when it closes, but glibc keeps
    the freed pages in its per-thread arenas, so the server's resident memory would not fall."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _on_session() -> Callable[[], None]:
    """On a session's start: what to do when it closes (release its memory, once its state is dropped)."""
    def closed() -> None:
        timer = threading.Timer(TRIM_DELAY, release_memory)
        timer.daemon = True
        timer.start()
    return closed


solara.lifecycle.on_kernel_start(_on_session)

#: Set by ``python -m sim app`` for its server: compute the page's first answer as the server starts.
WARM_UP = "SIM_APP_WARM_UP"


def warm_up() -> None:
    """The page's first answer (the default scenario as it is, its latest record date, seed 0),
    computed into the forecasts every visitor shares, so the first visitor does not wait for it
    (nor for the engine to compile). A visitor who comes sooner waits for this one."""
    import sys

    from sim.app.forecasting import cached_forecast, default_as_of, forecast_key

    try:
        base = configure(DEFAULT_SCENARIO, {})
        as_of = default_as_of(base)
        cached_forecast(forecast_key(DEFAULT_SCENARIO, {}, True, as_of, 0), base, as_of, 0)
    except Exception as exc:  # the first visitor then computes it, and sees the error
        print(f"warning: the page's first answer was not computed ahead: {exc}", file=sys.stderr)


if os.environ.get(WARM_UP) == "1":
    threading.Thread(target=warm_up, name="sim-warm-up", daemon=True).start()

LOOPBACK = ("127.0.0.1", "localhost", "::1", "")


def served_on_loopback() -> bool:
    """Whether the server listens on loopback only (Solara's ``run`` names its address in
    ``$SERVER_NAME``; ``python -m sim app`` always gives 127.0.0.1)."""
    return os.environ.get("SERVER_NAME", "") in LOOPBACK


@solara.component
def Refused() -> None:
    """What a server listening beyond loopback shows instead of the page."""
    solara.Error("This page serves on 127.0.0.1 only. Start it with `python -m sim app` (or `solara run sim.app "
                 "--host 127.0.0.1`): this server listens on another address, which $HOST may have set.")


#: One page at "/" (without it, Solara makes a route of every submodule that has a Page: the
#: stray "HOME / PAGE" tabs); a server listening beyond loopback (N10) serves only a refusal.
routes = [solara.Route(path="/", component=Page if served_on_loopback() else Refused, label="Negotiation simulator")]

__all__ = [
    "DEFAULT_RUNS", "DEFAULT_SCENARIO", "MAX_PAGE_RUNS", "SUMMIT_PATH", "Calendar", "Control", "Dance",
    "LiveNegotiation", "MonteCarloResult", "NegotiationTab", "Outcome", "Page", "PageError", "Refused",
    "UtilityPlane", "configure", "controls", "describe", "percent", "routes", "run_monte_carlo", "scenario_path",
    "served_on_loopback", "warm_up",
]
