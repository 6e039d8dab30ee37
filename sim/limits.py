"""Upper bounds on sizes, so that a typo cannot exhaust the machine, and how to go beyond them.

Each bound can be raised with its environment variable (the message says which): e.g.
``SIM_MAX_RUNS=100000000000 python -m sim run ...``.
"""

from __future__ import annotations

import os


def _bound(name: str, default: int) -> int:
    try:
        return int(float(os.environ.get(name, default)))
    except ValueError:
        return default


#: Days from a scenario's start to its horizon: engines hold a calendar of one entry per day
#: and replication (about 10 years).
MAX_HORIZON_DAYS = _bound("SIM_MAX_HORIZON_DAYS", 3660)
#: Replications of one run or sweep point (at ~100,000/s, a day's computing).
MAX_RUNS = _bound("SIM_MAX_RUNS", 10_000_000_000)
#: Points of a sweep design, and levels of one factor of a grid.
MAX_POINTS = _bound("SIM_MAX_POINTS", 100_000)
#: Particles per population of a forecast (a forecast also refuses sizes its estimate of the
#: memory needed says the machine cannot hold: :func:`sim.forecast.conditioning.memory_needed`).
MAX_PARTICLES = _bound("SIM_MAX_PARTICLES", 2_000_000)
#: Entries of a negotiation record (positions, events, rounds, progress reports, news): every
#: position and progress date is a day on which every particle records both sides' offers.
MAX_RECORD_ENTRIES = _bound("SIM_MAX_RECORD_ENTRIES", 2_000)
#: Worker processes.
MAX_WORKERS = _bound("SIM_MAX_WORKERS", 256)


def message(what: str, value: int, bound: int, variable: str) -> str:
    """'too large' with the bound and how to raise it."""
    return f"{what} {value:,} is over the limit of {bound:,} (set {variable} to raise it)"
