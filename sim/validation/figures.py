"""The validation report's figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def plot_zeuthen(model: Any, u1: Any, u2: Any, target: float, path: Path) -> str:
    """Two Zeuthen agents' demands on the utility plane, converging to the Nash solution."""
    from sim.plots import COLORS, new_figure

    xs = np.linspace(0, 1, 400)
    fig = new_figure(5.5, 5)
    ax = fig.subplots()
    ax.plot([u1(x) for x in xs], [u2(x) for x in xs], color="#888888", label="Pareto frontier")
    steps = model.history[:: max(1, len(model.history) // 60)]
    ax.plot([u1(s.x1) for s in steps], [u2(s.x1) for s in steps], "o", ms=3, color=COLORS[0], label="side 1's demands")
    ax.plot([u1(s.x2) for s in steps], [u2(s.x2) for s in steps], "o", ms=3, color=COLORS[1], label="side 2's demands")
    ax.plot([u1(target)], [u2(target)], "*", ms=14, color="#2e7d32", label="Nash bargaining solution")
    return finish(fig, ax, ("u1 = x", "u2 = √(1 − x)"), "Zeuthen's concessions reach the Nash solution", path)


def plot_deadline(t: np.ndarray, tu: np.ndarray, path: Path) -> str:
    """Agreement times with a common deadline and with uncertain ones."""
    from sim.plots import COLORS, new_figure

    fig = new_figure(7, 3.8)
    ax = fig.subplots()
    bins = np.linspace(0.0, 1.0, 21).tolist()
    ax.hist(t, bins=bins, color=COLORS[0], alpha=0.75, label="common deadline", density=True)
    ax.hist(tu, bins=bins, color=COLORS[1], alpha=0.5, label="each side's deadline uncertain", density=True)
    ax.axvline(1.0, color="black", ls="--", lw=1)
    return finish(fig, ax, ("agreement time (share of the time to the deadline)", "density"),
                   "Deadline effect: agreements pile up just before the deadline", path)


def finish(fig: Any, ax: Any, labels: tuple[str, str], title: str, path: Path) -> str:
    """Label, title and save a validation figure; its file name (for the report)."""
    from sim.plots import save_figure

    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    save_figure(fig, path)
    return path.name


def plot_reliability(bins: list[dict[str, float]], brier: tuple[float, float], path: Path) -> str:
    """Forecast probability bins against observed frequency, with counts (calibration cases)."""
    from sim.plots import COLORS, new_figure

    fig = new_figure(5.5, 5)
    ax = fig.subplots()
    used = [b for b in bins if b["count"]]
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="perfect calibration")
    ax.plot([b["forecast"] for b in used], [b["observed"] for b in used], "o-", color=COLORS[0],
            label=f"forecasts (Brier {brier[0]:.3f}; prior's {brier[1]:.3f})")
    for b in used:
        ax.annotate(str(b["count"]), (b["forecast"], b["observed"]), xytext=(4, -10), textcoords="offset points",
                    fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    return finish(fig, ax, ("forecast probability (bin mean)", "observed frequency"),
                  "Calibration of forecasts on the flagship's record (counts per bin)", path)
