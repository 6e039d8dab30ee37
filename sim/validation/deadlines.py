"""Check 10: the deadline effect in the project's own deadline talks, against real ones.

Real deadline talks close in their last days: of the deals in the case library that came
within 30 days of a stated deadline, most came in the last week (:data:`OBSERVED`). The
model's agents must do the same of their own accord — through the deadline pressure of
:func:`sim.negotiation.tactics.deadline_pressure` and the leaders' summit — in the scenarios
written for real deadline talks (the flagship and the backtest cases), while talks with no
zone of agreement still fail.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy import stats

from sim.forecast.library import load_library
from sim.scenario import Scenario, find_scenario, parse_scenario, read_document
from sim.scenario.paths import with_values
from sim.validation.core import Check, play

#: Days before the deadline that count as its last week, and as "near" it at all.
LAST_WEEK, NEAR = 7, 30


class Deal(NamedTuple):
    """A real agreement reached before a stated deadline (``../shared/case-library.md``)."""

    partner: str
    deadline: dt.date
    agreed: dt.date
    source: str

    @property
    def days_before(self) -> int:
        """Days from the agreement to the deadline (0: on the day)."""
        return (self.deadline - self.agreed).days


AUG1, JUL9 = dt.date(2025, 8, 1), dt.date(2025, 7, 9)
#: The deals of the case library that came within 30 days of a stated deadline, as reported.
OBSERVED = (
    Deal("Vietnam", JUL9, dt.date(2025, 7, 2), "case library A: deal announced by Trump Jul 2 (Jul 9 deadline)"),
    Deal("Indonesia", AUG1, dt.date(2025, 7, 15), "case library A: deal Jul 15 (19%)"),
    Deal("Philippines", AUG1, dt.date(2025, 7, 22), "case library A: deal Jul 22 during Marcos's visit"),
    Deal("Japan", AUG1, dt.date(2025, 7, 22), "facts.md, comparison cases: framework Jul 22"),
    Deal("EU", AUG1, dt.date(2025, 7, 27), "case library A: Turnberry deal Jul 27"),
    Deal("South Korea", AUG1, dt.date(2025, 7, 30), "facts.md, calendar: framework Jul 30 (ET)"),
    Deal("Pakistan", AUG1, dt.date(2025, 7, 31), "case library A: deal announced Jul 30–31 (the later date)"),
    Deal("Thailand", AUG1, dt.date(2025, 7, 31), "case library A: deal Jul 31"),
    Deal("Cambodia", AUG1, dt.date(2025, 7, 31), "case library A: deal Jul 31"),
    Deal("Canada (USMCA)", dt.date(2018, 9, 30), dt.date(2018, 9, 30), "case library B: agreement late on Sep 30"),
    Deal("Mexico (migration)", dt.date(2019, 6, 10), dt.date(2019, 6, 7), "case library B: agreement Jun 7, 2019"),
    Deal("China (phase one)", dt.date(2019, 12, 15), dt.date(2019, 12, 13), "case library B: agreed Dec 13, 2019"),
)

#: The project's scenarios of talks against a real public deadline (a tariff date, a summit); the
#: cases whose deadline is only the question's rule (KORUS, US–Japan's MOU) are not among them.
#: ``library:<id>`` is a row of the case library (an Aug 1, 2025 partner on the tariff template).
SCENARIOS = ("us_korea_2025.toml", "cases/us_korea_july.toml", "cases/us_japan_july.toml",
             "library:south_africa_aug1_2025")
REPS = 20_000


def days_before(scenario: Scenario, agreement_day: np.ndarray) -> np.ndarray:
    """Days from each agreement to the scenario's deadline, for agreements on or before it."""
    day = np.asarray(agreement_day, dtype=float)
    day = day[~np.isnan(day)]
    return (scenario.summit_day - day[day <= scenario.summit_day]).astype(int)


def daily_hazard(scenario: Scenario, agreement_day: np.ndarray, window: int = NEAR) -> np.ndarray:
    """P(agreement on day d | none before d), for d = window .. 0 days before the deadline, among
    the worlds that reach an agreement at all by the horizon (those where a deal is possible)."""
    day = np.asarray(agreement_day, dtype=float)
    day = day[~np.isnan(day)]
    out = np.zeros(window + 1)
    for j, before in enumerate(range(window, -1, -1)):
        d = scenario.summit_day - before
        at_risk = (day >= d).sum()
        out[j] = (day == d).sum() / at_risk if at_risk else 0.0
    return out


def load(name: str, pressure: bool = True) -> Scenario:
    """A scenario of :data:`SCENARIOS` (a case file's ``[case]`` table left out); with
    ``pressure`` False, neither side feels the deadline coming (``deadline_cost = 0``)."""
    if name.startswith("library:"):
        case = next(c for c in load_library() if c.path.endswith("#" + name.split(":", 1)[1]))
        document, sha, path = copy.deepcopy(case.document), "", Path(case.path)
    else:
        path = find_scenario(SCENARIOS[0]).parent / name
        document, sha = read_document(path)
        document.pop("case", None)
    if not pressure:
        document = with_values(document, {f"parties.{k}.deadline_cost": 0.0 for k in document.get("parties", {})})
    return parse_scenario(document, str(path), sha)


def _share(before: np.ndarray) -> tuple[float, int]:
    near = before[before <= NEAR]
    return (float((near <= LAST_WEEK).mean()) if len(near) else float("nan")), len(near)


def check_deadline_calendar(fig_dir: Path | None) -> list[Check]:
    """The project's deadline scenarios (the flagship and the backtest cases, each at its prior)
    against the deals of the case library that came within 30 days of a deadline: the share of
    those deals that came in the last week, and the whole distribution of days before the
    deadline (two-sample Kolmogorov–Smirnov); and, among worlds where a deal is possible, a daily
    hazard of agreement that rises into the deadline, which it does not without the agents'
    deadline pressure."""
    g = "10. Deadline calendar"
    observed = np.array([d.days_before for d in OBSERVED if d.days_before <= NEAR])
    sims, flat, hazards, hazards_off = [], [], [], []
    for name in SCENARIOS:
        sc, sc_off = load(name), load(name, pressure=False)
        day = play(sc, REPS, seed=10)["agreement_day"]
        day_off = play(sc_off, REPS, seed=10)["agreement_day"]
        sims.append(days_before(sc, day))
        flat.append(days_before(sc_off, day_off))
        hazards.append(daily_hazard(sc, day))
        hazards_off.append(daily_hazard(sc_off, day_off))
    simulated, simulated_off = np.concatenate(sims), np.concatenate(flat)
    p_obs, n_obs = _share(observed)
    p_sim, _ = _share(simulated)
    p_off, _ = _share(simulated_off)
    # the observed share against what n_obs deals drawn from the model would show (binomial, 95%)
    lo, hi = stats.binom.ppf([0.025, 0.975], n_obs, p_sim) / n_obs
    out = [Check(g, f"share of deals within {NEAR} days of the deadline that came in its last {LAST_WEEK} days",
                 f"observed {p_obs:.2f} ({n_obs} deals) inside the model's 95% range",
                 f"model {p_sim:.2f} → range [{lo:.2f}, {hi:.2f}] for {n_obs} deals; "
                 f"without deadline pressure {p_off:.2f}", "95% binomial range", bool(lo <= p_obs <= hi))]
    near = simulated[simulated <= NEAR]
    ks = stats.ks_2samp(observed, near, method="asymp")
    ks_off = stats.ks_2samp(observed, simulated_off[simulated_off <= NEAR], method="asymp")
    out.append(Check(g, "days before the deadline of deals within 30 days: model vs case library (KS)",
                     "same distribution", f"D = {ks.statistic:.2f}, p = {ks.pvalue:.2f}; without deadline pressure "
                     f"D = {ks_off.statistic:.2f}, p = {ks_off.pvalue:.2f}", "p > 0.05",
                     bool(ks.pvalue > 0.05)))
    h, h_off = np.mean(hazards, axis=0), np.mean(hazards_off, axis=0)
    late, early = h[-LAST_WEEK:].mean(), h[: NEAR + 1 - LAST_WEEK].mean()
    late_off, early_off = h_off[-LAST_WEEK:].mean(), h_off[: NEAR + 1 - LAST_WEEK].mean()
    ratio = late / early if early > 0 else math.inf
    ratio_off = late_off / early_off if early_off > 0 else math.inf
    check = Check(g, "daily hazard of agreement, last week vs the three weeks before (deal possible)",
                  "rises into the deadline (ratio > 2)",
                  f"{ratio:.1f}× ({late:.3f} vs {early:.3f}); without deadline pressure {ratio_off:.1f}×",
                  "ratio > 2", bool(ratio > 2))
    if fig_dir is not None:
        from sim.validation.figures import plot_deadline_calendar

        check.figure = plot_deadline_calendar(observed, near, simulated_off[simulated_off <= NEAR], h, h_off,
                                              fig_dir / "validation_deadline_calendar.png")
    out.append(check)
    return out
