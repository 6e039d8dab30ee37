"""Checks 6–8: shapes experiments and earlier deals show.

6. Deadline effect (Roth, Murnighan & Schoumaker 1988): agreements pile up at the deadline.
7. Two-level games (Putnam 1988): a wider win-set makes agreement likelier and weakens the side.
8. Comparison cases: US–Japan 2025 against US–Korea 2025; Korea's cash ceiling.
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path

import numpy as np

from sim.scenario import Scenario, find_scenario, load_scenario, parse_scenario
from sim.validation.core import Check, agreement_days, play, split_document
from sim.validation.figures import plot_deadline


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

    def times(days: int, offset: dict | None, seed: int = 2) -> np.ndarray:
        doc = split_document(beta, beta, r, r, days, contact_rate=0.3)
        for side in ("a", "b"):
            if offset:
                doc["parties"][side]["deadline_offset_days"] = offset
        return agreement_days(play(parse_scenario(doc, "deadline"), reps, seed)) / days

    t = times(100, None)
    hist = np.histogram(t, bins=10, range=(0.0, 1.0))[0]
    fail = 1 - len(t) / reps
    out = [Check(g, "closing-time histogram: last tenth is the mode", "mode = last bin",
                 f"last bin {hist[-1] / len(t):.3f} of agreements, next largest {np.sort(hist)[-2] / len(t):.3f}",
                 "exact", int(np.argmax(hist)) == 9),
           Check(g, "some negotiations fail", "> 0", f"{fail:.3f}", "> 2 s.e.",
                 fail > 2 * math.sqrt(fail * (1 - fail) / reps))]
    late = {"dist": "uniform", "low": 0, "high": 10}
    f_long, f_short = (1 - len(times(days, late)) / reps for days in (100, 20))
    se = _se_diff(f_long, f_short, reps, reps)
    out.append(Check(g, "sides' deadlines 0–10 days late: 20-day talks fail more often than 100-day talks",
                     "higher failure rate", f"{f_short:.3f} vs {f_long:.3f} ({(f_short - f_long) / se:.1f} s.e.)",
                     "> 2 s.e.", f_short - f_long > 2 * se))
    tu = times(100, {"dist": "uniform", "low": -40, "high": 40})
    last, last_u = float((t >= 0.9).mean()), float((tu >= 0.9).mean())
    se = _se_diff(last, last_u, len(t), len(tu))
    check = Check(g, "uncertain deadlines weaken the pile-up (share of agreements in the last tenth)", "lower",
                  f"{last_u:.3f} vs {last:.3f} ({(last - last_u) / se:.1f} s.e.)", "> 2 s.e.", last - last_u > 2 * se)
    if fig_dir is not None:
        check.figure = plot_deadline(t, tu, fig_dir / "validation_deadline.png")
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
        cols = play(parse_scenario(doc, f"two-level-{label}"), reps, seed=3)
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
    from sim.scenario import read_document
    from sim.sweep.design import point_scenario

    g = "8. Comparison cases"
    reps = 20_000

    def timing(sc: Scenario) -> tuple[float, float]:
        days = agreement_days(play(sc, reps, seed=4))
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
