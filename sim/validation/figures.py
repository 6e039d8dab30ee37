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


def plot_deadline_calendar(observed: np.ndarray, simulated: np.ndarray, simulated_off: np.ndarray,
                           hazard: np.ndarray, hazard_off: np.ndarray, path: Path) -> str:
    """Days before the deadline of deals within 30 days of it, real and simulated (left); the
    daily hazard of agreement into the deadline, with and without deadline pressure (right)."""
    from sim.plots import COLORS, new_figure

    fig = new_figure(11, 3.8)
    left, right = fig.subplots(1, 2)
    bins = (np.arange(-31, 1) + 0.5).tolist()
    left.hist(-simulated, bins=bins, density=True, color=COLORS[0], alpha=0.7, label="model, deadline pressure")
    left.hist(-simulated_off, bins=bins, density=True, histtype="step", color=COLORS[1], lw=1.5,
              label="model, no deadline pressure")
    counts = np.bincount(observed, minlength=31)[:31] / max(len(observed), 1)
    days = -np.arange(31)
    left.plot(days[counts > 0], counts[counts > 0], "o", color="black", label="real deals (case library)")
    left.set_xlabel("days before the deadline")
    left.set_ylabel("share of deals within 30 days")
    left.legend(fontsize=8, loc="upper left")
    x = -np.arange(len(hazard) - 1, -1, -1)
    right.plot(x, hazard, color=COLORS[0], label="deadline pressure")
    right.plot(x, hazard_off, color=COLORS[1], ls="--", label="no deadline pressure")
    right.set_xlabel("days before the deadline")
    right.set_ylabel("P(agreement that day | open, deal possible)")
    right.legend(fontsize=8, loc="upper left")
    fig.suptitle("Deadline calendar: when deals close, in the model and in real deadline talks")
    from sim.plots import save_figure

    save_figure(fig, path)
    return path.name
