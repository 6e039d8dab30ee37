"""Figures of a run (and of one traced negotiation), as PNG files.

- ``milestones.png``: P(before the summit) and P(by the horizon) per milestone.
- ``closing_day.png``: when agreements close, with the summit marked, and the
  cumulative probability of each milestone by date.
- ``terms.png``: distribution of the agreed value of each issue.
- ``utility_plane.png``: each agreement's utilities, with the Pareto frontier,
  the Nash bargaining point and the reservation values of the nominal world.
- ``dance.png`` (trace): each side's offers per issue over time, events marked.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.analysis import column, columns, completed  # noqa: E402
from sim.analysis import days as read_days  # noqa: E402
from sim.negotiation import solutions  # noqa: E402
from sim.negotiation.utility import Preferences  # noqa: E402
from sim.scenario import MILESTONES, Scenario  # noqa: E402
from sim.world import sample_worlds  # noqa: E402

if TYPE_CHECKING:
    from sim.model import NegotiationModel

COLORS = ("#1f4e9c", "#c0392b")  # side A, side B
MILESTONE_COLORS = {"agreement": "#2e7d32", "signed": "#f39c12", "ratified": "#6a1b9a"}


def save_figure(fig: plt.Figure, path: Path) -> Path:
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)
    return path


def _summit_line(ax: plt.Axes, scenario: Scenario) -> None:
    ax.axvline(pd.Timestamp(scenario.deadline), color="black", ls="--", lw=1)
    ax.annotate(scenario.summit_label, (pd.Timestamp(scenario.deadline), 1), xycoords=("data", "axes fraction"),
                xytext=(3, -12), textcoords="offset points", fontsize=8)


def plot_milestones(summary: dict[str, Any], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 3.8))
    labels = [m["label"] for m in summary["milestones"].values()]
    x = np.arange(len(labels))
    for k, (key, name) in enumerate((("before_summit", f"by the summit ({summary['summit']})"),
                                     ("by_horizon", f"by {summary['horizon']}"))):
        ps = [m[key] for m in summary["milestones"].values()]
        p = np.array([q["p"] for q in ps])
        err = np.array([[q["p"] - q["low"] for q in ps], [q["high"] - q["p"] for q in ps]])
        ax.bar(x + (k - 0.5) * 0.38, p, 0.38, yerr=err, capsize=3, label=name,
               color=("#2e7d32", "#9ccc65")[k])
        for xi, pi in zip(x, p, strict=False):
            ax.text(xi + (k - 0.5) * 0.38, pi + 0.02, f"{pi:.2f}", ha="center", fontsize=8)
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("probability")
    ax.set_title(f"{summary['title']}\nmilestones reached (95% Wilson intervals, n={summary['replications']:,})",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return save_figure(fig, path)


def closing_day_figure(path: Path, scenario: Scenario) -> plt.Figure:
    ok = completed(path)
    n = max(int(ok.sum()), 1)
    days = pd.date_range(scenario.start, scenario.horizon, freq="D")
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    for k, (m, label) in enumerate(MILESTONES.items()):
        day = read_days(path, f"{m}_day")
        counts = np.bincount(day[(day >= 0) & ok], minlength=len(days))[: len(days)]
        if k == 0:
            ax1.bar(days, counts, width=1.0, align="edge", color=MILESTONE_COLORS[m], alpha=0.85)
        ax2.step(days, np.cumsum(counts) / n, where="post", color=MILESTONE_COLORS[m], label=label)
    ax1.set_ylabel("agreements in principle\nper day")
    _summit_line(ax1, scenario)
    ax1.set_title(f"{scenario.title}: when the deal closes (n={n:,})", fontsize=10)
    ax2.set_ylabel("P(reached by date)")
    ax2.set_ylim(0, 1)
    ax2.axvline(pd.Timestamp(scenario.deadline), color="black", ls="--", lw=1)
    ax2.legend(fontsize=8, loc="lower right")
    ax2.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    return fig


def plot_closing_day(path: Path, scenario: Scenario, out: Path) -> Path:
    """When agreements close (histogram, summit marked) and each milestone's cumulative probability."""
    return save_figure(closing_day_figure(path, scenario), out)


def terms_figure(path: Path, scenario: Scenario) -> plt.Figure:
    agreed = columns(path, ["agreement"])["agreement"]
    k = len(scenario.issues)
    cols = min(k, 3)
    rows = -(-k // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    world = sample_worlds(scenario, 0, 0, 1, nominal=True).row(0)
    for ax, (i, issue) in zip(axes.flat, enumerate(scenario.issues), strict=False):
        v = column(path, f"term.{issue.key}")[agreed]
        if issue.levels:
            counts = np.bincount(np.round(v).astype(int), minlength=len(issue.levels))
            ax.bar(issue.levels, counts / max(len(v), 1), color="#607d8b")
            ax.tick_params(axis="x", labelsize=7)
        else:
            ax.hist(v, bins=30, range=(issue.low, issue.high), color="#607d8b")
            for side, party in enumerate(world.parties):
                ax.axvline(party.best[i], color=COLORS[side], lw=1.5,
                           label=f"{scenario.parties[side].label} best")
        ax.set_title(f"{issue.label}" + (f" ({issue.unit})" if issue.unit else ""), fontsize=9)
    for ax in list(axes.flat)[k:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    for ax in axes.flat:
        if not handles:
            handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower right", fontsize=8)
    fig.suptitle(f"Agreed terms ({int(agreed.sum()):,} agreements)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_terms(path: Path, scenario: Scenario, out: Path) -> Path:
    """The distribution of each agreed term."""
    return save_figure(terms_figure(path, scenario), out)


def nominal_frontier(scenario: Scenario) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """Pareto frontier, Nash point and reservation values of the scenario's nominal world."""
    w = sample_worlds(scenario, 0, 0, 1, nominal=True).row(0)
    a, b = w.parties
    frontier = solutions.pareto_frontier(Preferences(a.weights, a.best, a.worst), Preferences(b.weights, b.best, b.worst),
                                         np.maximum(a.lo, b.lo), np.minimum(a.hi, b.hi))
    d = (float(a.reservation), float(b.reservation))
    return frontier, solutions.nash_point(frontier, *d), d


def plot_utility_plane(path: Path, scenario: Scenario, out: Path, max_points: int = 20_000) -> Path:
    a, b = scenario.parties
    c = columns(path, ["agreement", f"utility.{a.key}", f"utility.{b.key}"])
    idx = np.flatnonzero(c["agreement"])
    if len(idx) > max_points:  # an evenly spaced, deterministic subsample keeps the figure light
        idx = idx[np.linspace(0, len(idx) - 1, max_points).astype(int)]
    frontier, nash, d = nominal_frontier(scenario)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.scatter(c[f"utility.{a.key}"][idx], c[f"utility.{b.key}"][idx], s=4, alpha=0.25, color="#455a64",
               label=f"agreements ({int(c['agreement'].sum()):,}" + (", subsample)" if len(idx) == max_points else ")"))
    draw_plane(ax, frontier, nash, d, (a.label, b.label), "nominal world", "median")
    ax.set_title("Agreements on the utility plane", fontsize=10)
    return save_figure(fig, out)


def draw_plane(ax: plt.Axes, frontier: np.ndarray, nash: tuple[float, float], d: tuple[float, float],
               labels: tuple[str, str], frontier_note: str, reservation_note: str) -> None:
    """The utility plane's frame: the Pareto frontier, the Nash point, both reservation values,
    axes and legend (what is plotted on it is the caller's)."""
    ax.plot(frontier[:, 0], frontier[:, 1], color="black", lw=1.5, label=f"Pareto frontier ({frontier_note})")
    ax.plot(*nash, marker="*", ms=14, color="#f39c12", ls="none", label="Nash bargaining solution")
    for k, line in enumerate((ax.axvline, ax.axhline)):
        line(d[k], color=COLORS[k], ls=":", lw=1, label=f"{labels[k]} reservation ({reservation_note})")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"utility to {labels[0]}")
    ax.set_ylabel(f"utility to {labels[1]}")
    ax.legend(fontsize=7, loc="lower left")


def plot_run(path: Path, scenario: Scenario, summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """All figures of a run (its records at ``path``), written into ``out_dir``."""
    return [
        plot_milestones(summary, out_dir / "milestones.png"),
        plot_closing_day(path, scenario, out_dir / "closing_day.png"),
        plot_terms(path, scenario, out_dir / "terms.png"),
        plot_utility_plane(path, scenario, out_dir / "utility_plane.png"),
    ]


def dance_figure(model: NegotiationModel) -> plt.Figure:
    """One negotiation's "dance": each side's offers per issue over time, events and summit marked."""
    sc = model.spec
    offers = [e for e in model.history if e.kind == "offer"]
    k = len(sc.issues)
    fig, axes = plt.subplots(k + 1, 1, figsize=(9, 1.9 * (k + 1)), sharex=True)
    for i, issue in enumerate(sc.issues):
        ax = axes[i]
        for side in (0, 1):
            pts = [(pd.Timestamp(sc.date_of(e.day)), e.offer[i]) for e in offers if e.party == side]
            if pts:
                xs, ys = zip(*pts, strict=False)
                ax.plot(xs, ys, marker="o", ms=3, color=COLORS[side], label=sc.parties[side].label)
        if model.agreement is not None:
            ax.plot(pd.Timestamp(sc.date_of(model.agreement_day)), model.agreement[i], marker="*", ms=12,
                    color="#2e7d32", ls="none", label="agreement")
        ax.set_ylim(issue.low - 0.05 * (issue.high - issue.low), issue.high + 0.05 * (issue.high - issue.low))
        if issue.levels:
            ax.set_yticks(range(len(issue.levels)), issue.levels, fontsize=7)
        ax.set_ylabel(f"{issue.key}\n({issue.unit})" if issue.unit else issue.key, fontsize=8)
    ax = axes[-1]
    for side in (0, 1):
        pts = [(pd.Timestamp(sc.date_of(e.day)), e.extra["aspiration"]) for e in offers if e.party == side]
        if pts:
            xs, ys = zip(*pts, strict=False)
            ax.plot(xs, ys, color=COLORS[side], drawstyle="steps-post", label=f"{sc.parties[side].label} aspiration")
    ax.set_ylabel("aspiration\n(own utility)", fontsize=8)
    ax.set_ylim(0, 1.05)
    for a in axes:
        _summit_line(a, sc)
        for e in model.history:
            if e.kind == "event":
                a.axvline(pd.Timestamp(sc.date_of(e.day)), color="#8e24aa", lw=1, alpha=0.6)
    axes[0].legend(fontsize=7, loc="upper right")
    axes[-1].legend(fontsize=7, loc="lower left")
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    outcome = ("agreement on " + sc.date_of(model.agreement_day).isoformat()) if model.agreement is not None \
        else ("walk-away" if model.walked_away else ("talks in progress" if model.running else "no agreement"))
    axes[0].set_title(f"{sc.title}\nreplication {int(model.world.index)}: {outcome} "
                      "(purple lines: events)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_dance(model: NegotiationModel, path: Path) -> Path:
    """One negotiation's "dance" (see :func:`dance_figure`), saved to ``path``."""
    return save_figure(dance_figure(model), path)
