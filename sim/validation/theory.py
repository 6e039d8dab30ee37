"""Checks 1–5: bargaining theory and the model's closed forms.

1. Nash and Kalai–Smorodinsky solutions on known cases (closed form).
2. Zeuthen's process reaches the Nash solution; the conceder always has the lower Nash product.
3. Alternating offers: Rubinstein's and Ståhl's equilibrium shares, agreement in round 1.
4. Faratin time-dependent pairs: meeting time and split (closed form).
5. Agreement-time distribution under private reservation values (Monte Carlo vs closed form).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sim.scenario import parse_scenario
from sim.theory.classic import rubinstein_share
from sim.theory.models import AlternatingOffersModel, ZeuthenModel
from sim.theory.solutions import kalai_smorodinsky, nash_solution
from sim.validation.core import Check, agreement_days, close, play, split_document
from sim.validation.figures import plot_zeuthen

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
    out.append(close(g, "Nash, u2 = √(1 − x), d = 0: x", 2 / 3, nash_solution(*ROOT_CASE)[0], 1e-6))
    out.append(close(g, "Kalai–Smorodinsky, u2 = √(1 − x), d = 0: x", (math.sqrt(5) - 1) / 2,
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
        out.append(close(g, f"agreement vs Nash solution, {label}", target, x if x is not None else math.nan, 0.01,
                          ".4f"))
        wrong = sum(1 for s in model.history
                    if (s.conceder == 0 and s.nash1 > s.nash2 + 1e-12)
                    or (s.conceder == 1 and s.nash2 > s.nash1 + 1e-12))
        out.append(Check(g, f"conceder has the lower Nash product, {label}", "every step",
                         f"{len(model.history) - wrong:,} of {len(model.history):,} steps", "exact", wrong == 0))
        if fig_dir is not None and d == (0.0, 0.0):
            figure = plot_zeuthen(model, u1, u2, target, fig_dir / "validation_zeuthen.png")
    if figure:
        out[-1].figure = figure
    # the same rule as a scenario tactic: two sides playing "zeuthen" in the negotiation engine
    doc = split_document(days=3000, r_a=0.0, r_b=0.2)
    for side, other_r in (("a", 0.2), ("b", 0.0)):
        doc["parties"][side]["tactic"] = {"kind": "zeuthen", "min_step": 0.001}
        doc["parties"][side]["beliefs"] = {"opponent_reservation": other_r}
    cols = play(parse_scenario(doc, "zeuthen-split"), 1)
    out.append(close(g, "Zeuthen tactic in a scenario (both sides, steps of 0.001), u2 = 1 − x, d = (0, 0.2): "
                      "side 1's utility vs Nash", 0.4, float(cols["utility.a"][0]), 0.01, ".4f"))
    return out


def check_alternating_offers(fig_dir: Path | None) -> list[Check]:
    """Rubinstein δ1=0.9, δ2=0.8: first proposer's share 0.714286 in round 1; Ståhl with common
    δ=0.9 and T rounds: (1 − (−δ)^T)/(1 + δ)."""
    g = "3. Alternating offers"
    model = AlternatingOffersModel(0.9, 0.8)
    shares = model.run() or (math.nan, math.nan)
    out = [close(g, "Rubinstein δ = (0.9, 0.8): first proposer's share", rubinstein_share(0.9, 0.8),
                  shares[0], 1e-6),
           Check(g, "Rubinstein: agreement round", "1", str(model.agreement_round), "exact",
                 model.agreement_round == 1)]
    for T in (1, 2, 3, 10, 11, 50):
        m = AlternatingOffersModel(0.9, 0.9, T)
        s = m.run() or (math.nan, math.nan)
        out.append(close(g, f"Ståhl T = {T}, δ = 0.9: first proposer's share (round {m.agreement_round})",
                          (1 - (-0.9) ** T) / 1.9, s[0] if m.agreement_round == 1 else math.nan, 1e-6))
    return out


def check_faratin(fig_dir: Path | None) -> list[Check]:
    """Two time-dependent sides with u_b = 1 − u_a: demands meet at t* = (1/(2(1−r)))^β on an even
    split; Boulware (β=0.2) against Conceder (β=2), r=0: t*≈0.697, Boulware ≈0.835. N = 1000 days."""
    g = "4. Faratin time-dependent pairs"
    out = []
    n = 1000
    for beta, r in ((0.5, 0.2), (1.0, 0.3), (2.0, 0.2)):
        cols = play(parse_scenario(split_document(beta, beta, r, r, n), "split"), 1)
        t_star = (1 / (2 * (1 - r))) ** beta
        out.append(close(g, f"β = {beta:g}, r = {r:g}: agreement day (N = {n})", n * t_star,
                          float(cols["agreement_day"][0]), 2, ".1f"))
        out.append(close(g, f"β = {beta:g}, r = {r:g}: utility of each side", 0.5, float(cols["utility.a"][0]), 0.01,
                          ".4f"))
    from scipy.optimize import brentq

    t_star = brentq(lambda t: t**5 + t**0.5 - 1, 0, 1)
    cols = play(parse_scenario(split_document(0.2, 2.0, 0.0, 0.0, n), "split"), 1)
    out.append(close(g, "Boulware vs Conceder: agreement day", n * t_star, float(cols["agreement_day"][0]), 2, ".1f"))
    out.append(close(g, "Boulware vs Conceder: Boulware's utility", 1 - t_star**5, float(cols["utility.a"][0]), 0.01,
                      ".4f"))
    return out


def check_agreement_time(fig_dir: Path | None) -> list[Check]:
    """β = 0.2 for both, reservation values i.i.d. uniform on [0, 0.4]: agreement at
    t* = (2 − r_a − r_b)^−β, so P(t* ≥ 0.9) = 1 − s²/0.32 with s = 2 − 0.9^(−1/β), median 1.6^−β."""
    g = "5. Agreement-time distribution"
    n_days, reps = 1000, 20_000
    r = {"dist": "uniform", "low": 0.0, "high": 0.4}
    cols = play(parse_scenario(split_document(0.2, 0.2, r, r, n_days), "split"), reps, seed=1)
    # meetings are daily: agreement on day d means the demands crossed at a time in (d − 1, d]
    day = agreement_days(cols)
    s = 2 - 0.9 ** (-1 / 0.2)
    p_late = 1 - s * s / 0.32
    return [close(g, f"P(agreement at ≥ 90% of the horizon), {reps:,} replications (crossing after day 900)",
                   p_late, float((day > 0.9 * n_days).mean()), 0.01, ".4f"),
            close(g, "median agreement time (crossing at day − ½)", 1.6**-0.2,
                   float(np.median(day - 0.5) / n_days), 0.01, ".4f")]
