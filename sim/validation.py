"""Validation: does the simulator reproduce what bargaining theory proves, and the shapes
experiments and earlier deals show?

Each check runs the model (or its bargaining-theory components) and compares a
measured number with an expected one within a stated tolerance:

1. Nash and Kalai–Smorodinsky solutions on known cases (closed form).
2. Zeuthen's process reaches the Nash solution; the conceder always has the lower Nash product.
3. Alternating offers: Rubinstein's and Ståhl's equilibrium shares, agreement in round 1.
4. Faratin time-dependent pairs: meeting time and split (closed form).
5. Agreement-time distribution under private reservation values (Monte Carlo vs closed form).
6. Deadline effect (Roth, Murnighan & Schoumaker 1988): agreements pile up at the deadline.
7. Two-level games (Putnam 1988): a wider win-set makes agreement likelier and weakens the side.
8. Comparison cases: US–Japan 2025 against US–Korea 2025; Korea's cash ceiling.

``python -m sim validate`` runs them all and writes ``docs/VALIDATION.md`` with figures;
``tests/validation/`` asserts that every check passes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from sim import runner
from sim.scenario import Scenario, find_scenario, load_scenario, parse_scenario
from sim.theory.classic import rubinstein_share
from sim.theory.models import AlternatingOffersModel, ZeuthenModel
from sim.theory.solutions import kalai_smorodinsky, nash_solution


@dataclass
class Check:
    """One validation result: what was expected, what the model gave, and whether that is within tolerance."""

    group: str
    name: str
    expected: str
    measured: str
    tolerance: str
    passed: bool
    figure: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _close(group: str, name: str, expected: float, measured: float, tol: float, fmt: str = ".6f") -> Check:
    return Check(group, name, f"{expected:{fmt}}", f"{measured:{fmt}}", f"±{tol:g}", abs(measured - expected) <= tol)


# --- scenarios for the checks: one issue, a unit to divide --------------------------------------


def split_document(beta_a: Any = 1.0, beta_b: Any = 1.0, r_a: Any = 0.0, r_b: Any = 0.0, days: int = 1000,
                   contact_rate: Any = 1.0) -> dict[str, Any]:
    """Two time-dependent sides dividing one unit (u_a = x, u_b = 1 − x), deadline on the last day."""
    start = dt.date(2030, 1, 1)
    end = start + dt.timedelta(days=days)

    def side(best: float, r: Any, beta: Any) -> dict[str, Any]:
        return {"reservation": r, "tactic": {"kind": "time_dependent", "beta": beta},
                "issues": {"x": {"weight": 1.0, "best": best, "worst": 1.0 - best}}}

    return {
        "scenario": {"name": "split", "start": start, "deadline": end, "horizon": end, "first_mover": "a"},
        "issues": [{"key": "x", "low": 0.0, "high": 1.0}],
        "parties": {"a": side(1.0, r_a, beta_a), "b": side(0.0, r_b, beta_b)},
        "calendar": {"contact_rate": contact_rate},
    }


def _play(scenario: Scenario, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` replications with the batch engine, as numpy columns."""
    table = runner.run_chunk(scenario, seed, 0, n, "batch")
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names
            if name in ("agreement_day", "utility.a", "utility.b", "agreement", "ratified_day", "status")}


def _agreement_days(cols: dict[str, np.ndarray]) -> np.ndarray:
    day = cols["agreement_day"]
    return np.asarray(day[~np.isnan(day.astype(float))], dtype=float)


# --- 1-3: bargaining theory ---------------------------------------------------------------------

LINEAR = (lambda x: x, lambda x: 1.0 - x, (0.0, 0.2))
ROOT_CASE = (lambda x: x, lambda x: math.sqrt(max(1.0 - x, 0.0)), (0.0, 0.0))


def check_solutions(fig_dir: Path | None) -> list[Check]:
    """Nash and Kalai–Smorodinsky solutions: u1=x, u2=1−x, d=(0, 0.2): both (0.4, 0.6);
    u1=x, u2=√(1−x), d=0: NBS x=2/3, KS x=(√5−1)/2."""
    g = "1. Bargaining solutions"
    out = []
    for solver, label in ((nash_solution, "Nash"), (kalai_smorodinsky, "Kalai–Smorodinsky")):
        _, a, b = solver(*LINEAR)
        out.append(Check(g, f"{label}, u2 = 1 − x, d = (0, 0.2)", "(0.4, 0.6)", f"({a:.7f}, {b:.7f})", "±1e-6",
                         abs(a - 0.4) <= 1e-6 and abs(b - 0.6) <= 1e-6))
    out.append(_close(g, "Nash, u2 = √(1 − x), d = 0: x", 2 / 3, nash_solution(*ROOT_CASE)[0], 1e-6))
    out.append(_close(g, "Kalai–Smorodinsky, u2 = √(1 − x), d = 0: x", (math.sqrt(5) - 1) / 2,
                      kalai_smorodinsky(*ROOT_CASE)[0], 1e-6))
    return out


def check_zeuthen(fig_dir: Path | None) -> list[Check]:
    """Two Zeuthen agents end within 0.01 of the Nash solution, and at every step the side
    that concedes is the one whose own demand has the lower Nash product."""
    g = "2. Zeuthen's strategy"
    out = []
    figure = None
    for label, (u1, u2, d) in (("u2 = 1 − x, d = (0, 0.2)", LINEAR), ("u2 = √(1 − x), d = 0", ROOT_CASE)):
        model = ZeuthenModel(u1, u2, d)
        x = model.run()
        target = nash_solution(u1, u2, d)[0]
        out.append(_close(g, f"agreement vs Nash solution, {label}", target, x if x is not None else math.nan, 0.01,
                          ".4f"))
        wrong = sum(1 for s in model.history
                    if (s.conceder == 0 and s.nash1 > s.nash2 + 1e-12)
                    or (s.conceder == 1 and s.nash2 > s.nash1 + 1e-12))
        out.append(Check(g, f"conceder has the lower Nash product, {label}", "every step",
                         f"{len(model.history) - wrong:,} of {len(model.history):,} steps", "exact", wrong == 0))
        if fig_dir is not None and d == (0.0, 0.0):
            figure = _plot_zeuthen(model, u1, u2, target, fig_dir / "validation_zeuthen.png")
    if figure:
        out[-1].figure = figure
    # the same rule as a scenario tactic: two sides playing "zeuthen" in the negotiation engine
    doc = split_document(days=3000, r_a=0.0, r_b=0.2)
    for side, other_r in (("a", 0.2), ("b", 0.0)):
        doc["parties"][side]["tactic"] = {"kind": "zeuthen", "min_step": 0.001}
        doc["parties"][side]["beliefs"] = {"opponent_reservation": other_r}
    cols = _play(parse_scenario(doc, "zeuthen-split"), 1)
    out.append(_close(g, "Zeuthen tactic in a scenario (both sides, steps of 0.001), u2 = 1 − x, d = (0, 0.2): "
                      "side 1's utility vs Nash", 0.4, float(cols["utility.a"][0]), 0.01, ".4f"))
    return out


def check_alternating_offers(fig_dir: Path | None) -> list[Check]:
    """Rubinstein δ1=0.9, δ2=0.8: first proposer's share 0.714286 in round 1; Ståhl with common
    δ=0.9 and T rounds: (1 − (−δ)^T)/(1 + δ)."""
    g = "3. Alternating offers"
    model = AlternatingOffersModel(0.9, 0.8)
    shares = model.run() or (math.nan, math.nan)
    out = [_close(g, "Rubinstein δ = (0.9, 0.8): first proposer's share", rubinstein_share(0.9, 0.8),
                  shares[0], 1e-6),
           Check(g, "Rubinstein: agreement round", "1", str(model.agreement_round), "exact",
                 model.agreement_round == 1)]
    for T in (1, 2, 3, 10, 11, 50):
        m = AlternatingOffersModel(0.9, 0.9, T)
        s = m.run() or (math.nan, math.nan)
        out.append(_close(g, f"Ståhl T = {T}, δ = 0.9: first proposer's share (round {m.agreement_round})",
                          (1 - (-0.9) ** T) / 1.9, s[0] if m.agreement_round == 1 else math.nan, 1e-6))
    return out


# --- 4-5: the negotiation model against closed forms ----------------------------------------------


def check_faratin(fig_dir: Path | None) -> list[Check]:
    """Two time-dependent sides with u_b = 1 − u_a: demands meet at t* = (1/(2(1−r)))^β on an even
    split; Boulware (β=0.2) against Conceder (β=2), r=0: t*≈0.697, Boulware ≈0.835. N = 1000 days."""
    g = "4. Faratin time-dependent pairs"
    out = []
    n = 1000
    for beta, r in ((0.5, 0.2), (1.0, 0.3), (2.0, 0.2)):
        cols = _play(parse_scenario(split_document(beta, beta, r, r, n), "split"), 1)
        t_star = (1 / (2 * (1 - r))) ** beta
        out.append(_close(g, f"β = {beta:g}, r = {r:g}: agreement day (N = {n})", n * t_star,
                          float(cols["agreement_day"][0]), 2, ".1f"))
        out.append(_close(g, f"β = {beta:g}, r = {r:g}: utility of each side", 0.5, float(cols["utility.a"][0]), 0.01,
                          ".4f"))
    from scipy.optimize import brentq

    t_star = brentq(lambda t: t**5 + t**0.5 - 1, 0, 1)
    cols = _play(parse_scenario(split_document(0.2, 2.0, 0.0, 0.0, n), "split"), 1)
    out.append(_close(g, "Boulware vs Conceder: agreement day", n * t_star, float(cols["agreement_day"][0]), 2, ".1f"))
    out.append(_close(g, "Boulware vs Conceder: Boulware's utility", 1 - t_star**5, float(cols["utility.a"][0]), 0.01,
                      ".4f"))
    return out


def check_agreement_time(fig_dir: Path | None) -> list[Check]:
    """β = 0.2 for both, reservation values i.i.d. uniform on [0, 0.4]: agreement at
    t* = (2 − r_a − r_b)^−β, so P(t* ≥ 0.9) = 1 − s²/0.32 with s = 2 − 0.9^(−1/β), median 1.6^−β."""
    g = "5. Agreement-time distribution"
    n_days, reps = 1000, 20_000
    r = {"dist": "uniform", "low": 0.0, "high": 0.4}
    cols = _play(parse_scenario(split_document(0.2, 0.2, r, r, n_days), "split"), reps, seed=1)
    # meetings are daily: agreement on day d means the demands crossed at a time in (d − 1, d]
    day = _agreement_days(cols)
    s = 2 - 0.9 ** (-1 / 0.2)
    p_late = 1 - s * s / 0.32
    return [_close(g, f"P(agreement at ≥ 90% of the horizon), {reps:,} replications (crossing after day 900)",
                   p_late, float((day > 0.9 * n_days).mean()), 0.01, ".4f"),
            _close(g, "median agreement time (crossing at day − ½)", 1.6**-0.2,
                   float(np.median(day - 0.5) / n_days), 0.01, ".4f")]


# --- 6-8: known shapes ----------------------------------------------------------------------------


def _se_diff(p1: float, p2: float, n1: int, n2: int) -> float:
    return max(math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2), 1e-12)


def check_deadline_effect(fig_dir: Path | None) -> list[Check]:
    """Mostly Boulware sides (β ~ U[0.1, 0.6]) with private reservation values (~U[0, 0.6]),
    meeting on 30% of days: agreements pile up just before the deadline (the last tenth of the
    time is the mode) and some fail. When the sides misjudge their time by the same few days
    (own deadlines 0–10 days after the talks end), a shorter horizon fails more often; when
    each side's deadline is uncertain (±40% of the horizon), the pile-up weakens."""
    g = "6. Deadline effect"
    reps = 20_000
    beta = {"dist": "uniform", "low": 0.1, "high": 0.6}
    r = {"dist": "uniform", "low": 0.0, "high": 0.6}

    def play(days: int, offset: dict | None, seed: int = 2) -> np.ndarray:
        doc = split_document(beta, beta, r, r, days, contact_rate=0.3)
        for side in ("a", "b"):
            if offset:
                doc["parties"][side]["deadline_offset_days"] = offset
        return _agreement_days(_play(parse_scenario(doc, "deadline"), reps, seed)) / days

    t = play(100, None)
    hist = np.histogram(t, bins=10, range=(0.0, 1.0))[0]
    fail = 1 - len(t) / reps
    out = [Check(g, "closing-time histogram: last tenth is the mode", "mode = last bin",
                 f"last bin {hist[-1] / len(t):.3f} of agreements, next largest {np.sort(hist)[-2] / len(t):.3f}",
                 "exact", int(np.argmax(hist)) == 9),
           Check(g, "some negotiations fail", "> 0", f"{fail:.3f}", "> 2 s.e.",
                 fail > 2 * math.sqrt(fail * (1 - fail) / reps))]
    late = {"dist": "uniform", "low": 0, "high": 10}
    f_long, f_short = (1 - len(play(days, late)) / reps for days in (100, 20))
    se = _se_diff(f_long, f_short, reps, reps)
    out.append(Check(g, "sides' deadlines 0–10 days late: 20-day talks fail more often than 100-day talks",
                     "higher failure rate", f"{f_short:.3f} vs {f_long:.3f} ({(f_short - f_long) / se:.1f} s.e.)",
                     "> 2 s.e.", f_short - f_long > 2 * se))
    tu = play(100, {"dist": "uniform", "low": -40, "high": 40})
    last, last_u = float((t >= 0.9).mean()), float((tu >= 0.9).mean())
    se = _se_diff(last, last_u, len(t), len(tu))
    check = Check(g, "uncertain deadlines weaken the pile-up (share of agreements in the last tenth)", "lower",
                  f"{last_u:.3f} vs {last:.3f} ({(last - last_u) / se:.1f} s.e.)", "> 2 s.e.", last - last_u > 2 * se)
    if fig_dir is not None:
        check.figure = _plot_deadline(t, tu, fig_dir / "validation_deadline.png")
    out.append(check)
    return out


def check_two_level(fig_dir: Path | None) -> list[Check]:
    """Putnam's two-level game: side B's agreement must be ratified at home, and its negotiator
    anticipates it. A wider domestic win-set (a lower utility threshold) makes agreement more
    likely and lowers B's share of the gains."""
    g = "7. Two-level games"
    reps = 20_000
    r = {"dist": "uniform", "low": 0.0, "high": 0.6}
    rows = {}
    for label, win in (("narrow", 0.55), ("wide", 0.35)):
        doc = split_document(0.5, 0.5, r, r, 100, contact_rate=0.3)
        doc["parties"]["b"]["ratification"] = {"required": True, "win_set": win, "anticipated": True}
        cols = _play(parse_scenario(doc, f"two-level-{label}"), reps, seed=3)
        agreed = cols["agreement"].astype(bool)
        rows[label] = (float(agreed.mean()), cols["utility.b"][agreed].astype(float))
    (p_n, u_n), (p_w, u_w) = rows["narrow"], rows["wide"]
    se_p = _se_diff(p_n, p_w, reps, reps)
    se_u = max(math.sqrt(u_n.var() / len(u_n) + u_w.var() / len(u_w)), 1e-12)
    return [Check(g, "wider win-set: agreement more likely", "higher P(agreement)",
                  f"{p_w:.3f} vs {p_n:.3f} ({(p_w - p_n) / se_p:.1f} s.e.)", "> 2 s.e.", p_w - p_n > 2 * se_p),
            Check(g, "wider win-set: lower share for that side", "lower mean utility of B",
                  f"{u_w.mean():.3f} vs {u_n.mean():.3f} ({(u_n.mean() - u_w.mean()) / se_u:.1f} s.e.)", "> 2 s.e.",
                  u_n.mean() - u_w.mean() > 2 * se_u)]


def check_comparison_cases(fig_dir: Path | None) -> list[Check]:
    """US–Japan 2025 (no binding annual cash ceiling) closes sooner than US–Korea 2025 over the
    same 91-day window from the framework; and raising Korea's annual cash ceiling does not slow
    agreement (mean days to agreement) or make it less likely before the summit."""
    from sim.design import point_scenario
    from sim.scenario import read_document

    g = "8. Comparison cases"
    reps = 20_000

    def timing(sc: Scenario) -> tuple[float, float]:
        days = _agreement_days(_play(sc, reps, seed=4))
        return float((days <= sc.summit_day).sum() / reps), float(days.mean())

    japan = load_scenario(find_scenario("us_japan_2025.toml"))
    korea_path = find_scenario("us_korea_2025.toml")
    (pj, mj), (pk, mk) = timing(japan), timing(load_scenario(korea_path))
    se = _se_diff(pj, pk, reps, reps)
    out = [Check(g, "US–Japan vs US–Korea: P(agreement by the deadline)", "Japan higher",
                 f"{pj:.3f} vs {pk:.3f} ({(pj - pk) / se:.1f} s.e.)", "> 2 s.e.", pj - pk > 2 * se),
           Check(g, "US–Japan vs US–Korea: mean days from framework to agreement", "Japan sooner",
                 f"{mj:.1f} vs {mk:.1f}", "> 1 day", mj < mk - 1)]
    document, sha = read_document(korea_path)
    ceilings = (17.0, 20.0, 23.0, 26.0)
    rows = [timing(point_scenario(document, str(korea_path), sha, ["parties.korea.issues.annual_cash.max"],
                                  np.array([cap]))) for cap in ceilings]
    p, mean = [r[0] for r in rows], [r[1] for r in rows]
    label = ", ".join(f"{c:g}" for c in ceilings)
    out.append(Check(g, f"Korea's ceiling {label} $B/yr: mean days to agreement", "non-increasing (±1 day)",
                     ", ".join(f"{m:.1f}" for m in mean), "±1 day", all(b <= a + 1 for a, b in pairwise(mean))))
    se = _se_diff(p[0], p[-1], reps, reps)
    out.append(Check(g, f"Korea's ceiling {label} $B/yr: P(agreement by the summit)", "non-decreasing",
                     ", ".join(f"{x:.3f}" for x in p), "2 s.e.",
                     all(b >= a - 2 * se for a, b in pairwise(p))))
    return out


CHECKS: tuple[Callable[[Path | None], list[Check]], ...] = (
    check_solutions, check_zeuthen, check_alternating_offers, check_faratin, check_agreement_time,
    check_deadline_effect, check_two_level, check_comparison_cases,
)


# --- figures and the report -----------------------------------------------------------------------


def _plot_zeuthen(model: ZeuthenModel, u1, u2, target: float, path: Path) -> str:
    from sim.plots import COLORS, new_figure

    xs = np.linspace(0, 1, 400)
    fig = new_figure(5.5, 5)
    ax = fig.subplots()
    ax.plot([u1(x) for x in xs], [u2(x) for x in xs], color="#888888", label="Pareto frontier")
    steps = model.history[:: max(1, len(model.history) // 60)]
    ax.plot([u1(s.x1) for s in steps], [u2(s.x1) for s in steps], "o", ms=3, color=COLORS[0], label="side 1's demands")
    ax.plot([u1(s.x2) for s in steps], [u2(s.x2) for s in steps], "o", ms=3, color=COLORS[1], label="side 2's demands")
    ax.plot([u1(target)], [u2(target)], "*", ms=14, color="#2e7d32", label="Nash bargaining solution")
    return _finish(fig, ax, ("u1 = x", "u2 = √(1 − x)"), "Zeuthen's concessions reach the Nash solution", path)


def _plot_deadline(t: np.ndarray, tu: np.ndarray, path: Path) -> str:
    from sim.plots import COLORS, new_figure

    fig = new_figure(7, 3.8)
    ax = fig.subplots()
    bins = np.linspace(0.0, 1.0, 21).tolist()
    ax.hist(t, bins=bins, color=COLORS[0], alpha=0.75, label="common deadline", density=True)
    ax.hist(tu, bins=bins, color=COLORS[1], alpha=0.5, label="each side's deadline uncertain", density=True)
    ax.axvline(1.0, color="black", ls="--", lw=1)
    return _finish(fig, ax, ("agreement time (share of the time to the deadline)", "density"),
                   "Deadline effect: agreements pile up just before the deadline", path)


def _finish(fig: Any, ax: Any, labels: tuple[str, str], title: str, path: Path) -> str:
    """Label, title and save a validation figure; its file name (for the report)."""
    from sim.plots import save_figure

    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    save_figure(fig, path)
    return path.name


def run_all(fig_dir: Path | None = None) -> list[Check]:
    """Every check, in order (figures into ``fig_dir`` if given)."""
    if fig_dir is not None:
        fig_dir.mkdir(parents=True, exist_ok=True)
    return [c for check in CHECKS for c in check(fig_dir)]


def report(checks: list[Check]) -> str:
    """``docs/VALIDATION.md``: the checks as a table, with their figures."""
    passed = sum(c.passed for c in checks)
    lines = [
        "# Validation",
        "",
        "Generated by `python -m sim validate` (do not edit by hand); the same checks run in CI as",
        "`tests/validation/`. Each row compares what the model (or its bargaining-theory components:",
        "`sim/negotiation/solutions.py`, `sim/theory/`) gives",
        "with what theory, experiments or earlier deals lead us to expect. Monte Carlo checks use the",
        "batch engine, which gives the Mesa engine's outcomes exactly (`tests/test_batch.py`).",
        "",
        f"**{passed} of {len(checks)} checks pass.**",
        "",
        "| group | check | expected | measured | tolerance | pass |",
        "|---|---|---|---|---|:-:|",
    ]
    for c in checks:
        lines.append(f"| {c.group} | {c.name} | {c.expected} | {c.measured} | {c.tolerance} | "
                     f"{'✅' if c.passed else '❌'} |")
    lines.append("")
    for check in CHECKS:
        lines += [f"- **{check.__name__.removeprefix('check_').replace('_', ' ')}**: "
                  + " ".join((check.__doc__ or "").split())]
    figures = [c.figure for c in checks if c.figure]
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{f}](img/{f})" for f in figures]
    lines += ["", "## What the checks do not show", "",
              "They show that the mechanics are right — the solvers, the concession dynamics, the",
              "equilibrium play, the time and ratification logic — and that the model has the",
              "qualitative shapes found in experiments and in earlier deals. They do not calibrate the",
              "flagship scenario: its reservation values, tactics and limits remain documented",
              "judgements (see `docs/MODEL.md`, *Verification and fitness for purpose*).", ""]
    return "\n".join(lines)
