"""Figures of a run (and of one traced negotiation), as PNG files.

- ``milestones.png``: P(before the summit) and P(by the horizon) per milestone.
- ``closing_day.png``: when agreements close, with the summit marked, and the
  cumulative probability of each milestone by date.
- ``terms.png``: distribution of each agreed term for the headline event (the headline
  milestone reached before the summit), each side's best value and hard limits marked.
- ``utility_plane.png``: each agreement's utilities, with the Pareto frontier,
  the Nash bargaining point and the reservation values of the nominal world.
- ``dance.png`` (trace): each side's offers per issue over time, events marked.

Figures are built on :class:`matplotlib.figure.Figure` (no pyplot state: safe in a
server), and take reference values from the run's summary (:func:`sim.analysis.reference`).
A run whose records carry weights (a forecast) is drawn weighted.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim import records
from sim.analysis import WEIGHT
from sim.scenario import MILESTONES, Scenario

if TYPE_CHECKING:
    from sim.model import NegotiationModel

COLORS = ("#1f4e9c", "#c0392b")  # side A, side B
MILESTONE_COLORS = {"agreement": "#2e7d32", "signed": "#f39c12", "ratified": "#6a1b9a"}
DPI = 110


def new_figure(width: float, height: float) -> Figure:
    """A figure not registered with pyplot (freed with its last reference)."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save_figure(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG, atomically."""
    with records.atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return path


def weights_of(path: Path, where: np.ndarray | None = None) -> np.ndarray | None:
    """The run's importance weights (a forecast's records), or None for a plain run."""
    if WEIGHT not in records.dataset(path).schema.names:
        return None
    return records.column(path, WEIGHT, where)


def _summit_line(ax: Axes, scenario: Scenario, label: bool = True) -> None:
    ax.axvline(pd.Timestamp(scenario.deadline), color="black", ls="--", lw=1)
    if label:
        ax.annotate(scenario.summit_label, (pd.Timestamp(scenario.deadline), 1), xycoords=("data", "axes fraction"),
                    xytext=(3, -12), textcoords="offset points", fontsize=8)


def date_axis(ax: Axes) -> None:
    """Dates on the x axis, concisely labelled."""
    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _size(summary: dict[str, Any]) -> str:
    b = summary["milestones"][summary["headline_milestone"]]["before_summit"]
    return f"ESS {b['ess']:,.0f} of n={b['n']:,}" if "ess" in b else f"n={b['n']:,}"


def milestones_figure(summary: dict[str, Any]) -> Figure:
    """P(before the summit) and P(by the horizon) per milestone, with 95% intervals."""
    fig = new_figure(7, 3.8)
    ax = fig.subplots()
    labels = [m["label"] for m in summary["milestones"].values()]
    x = np.arange(len(labels))
    for k, (key, name) in enumerate((("before_summit", f"by the summit ({summary['summit']})"),
                                     ("by_horizon", f"by {summary['horizon']}"))):
        ps = [m[key] for m in summary["milestones"].values()]
        p = np.array([q["p"] for q in ps])
        err = np.array([[q["p"] - q["low"] for q in ps], [q["high"] - q["p"] for q in ps]])
        ax.bar(x + (k - 0.5) * 0.38, p, 0.38, yerr=err, capsize=3, label=name, color=("#2e7d32", "#9ccc65")[k])
        for xi, pi in zip(x, p, strict=True):
            ax.text(xi + (k - 0.5) * 0.38, pi + 0.02, f"{pi:.2f}", ha="center", fontsize=8)
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("probability")
    ax.set_title(f"{summary['title']}\nmilestones reached (95% Wilson intervals, {_size(summary)})", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return fig


def closing_day_figure(path: Path, scenario: Scenario) -> Figure:
    """When agreements close (histogram, summit marked) and each milestone's cumulative probability."""
    ok = records.completed(path)
    w = weights_of(path)
    w = np.ones(len(ok)) if w is None else w
    total = max(float(w[ok].sum()), 1e-300)
    days = pd.date_range(scenario.start, scenario.horizon, freq="D")
    fig = new_figure(8, 6)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    for k, (m, label) in enumerate(MILESTONES.items()):
        day = records.days(path, f"{m}_day")
        hit = (day >= 0) & ok
        mass = np.bincount(day[hit], weights=w[hit], minlength=len(days))[: len(days)] / total
        if k == 0:
            ax1.bar(days, mass, width=1.0, align="edge", color=MILESTONE_COLORS[m], alpha=0.85)
        ax2.step(days, np.cumsum(mass), where="post", color=MILESTONE_COLORS[m], label=label)
    ax1.set_ylabel("P(agreement in principle\non the day)")
    _summit_line(ax1, scenario)
    ax1.set_title(f"{scenario.title}: when the deal closes (n={int(ok.sum()):,})", fontsize=10)
    ax2.set_ylabel("P(reached by date)")
    ax2.set_ylim(0, 1)
    _summit_line(ax2, scenario, label=False)
    ax2.legend(fontsize=8, loc="lower right")
    date_axis(ax2)
    return fig


def terms_figure(path: Path, scenario: Scenario, summary: dict[str, Any], which: str = "headline") -> Figure:
    """The distribution of each agreed term over one set of agreements (``which``: the
    ``headline`` event or every agreement ``by_horizon``), each side's best value and hard
    limits (nominal; shaded where uncertain) marked; categorical issues by their level names."""
    chosen = summary["agreements"][which]
    ok = records.completed(path)
    if which == "headline":
        day = records.days(path, f"{scenario.headline}_day")
        where = scenario.by_summit(day) & ok
    else:
        where = records.column(path, "agreement") & ok
    w = weights_of(path, where)
    k = len(scenario.issues)
    cols = min(k, 3)
    rows = -(-k // cols)
    fig = new_figure(4.2 * cols, 3.2 * rows + 0.6)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    ref = summary["reference"]["sides"]
    for ax, issue in zip(axes, scenario.issues, strict=False):
        v = records.column(path, f"term.{issue.key}", where)
        weights = np.ones(len(v)) if w is None else w
        share = weights / max(float(weights.sum()), 1e-300)
        if issue.levels:
            counts = np.bincount(np.round(v).astype(int), weights=share, minlength=len(issue.levels))
            ax.bar(issue.levels, counts[: len(issue.levels)], color="#607d8b")
            ax.tick_params(axis="x", labelsize=7)
        else:
            ax.hist(v, bins=30, range=(issue.low, issue.high), weights=share, color="#607d8b")
            for side, spec in enumerate(ref.values()):
                r = spec["issues"][issue.key]
                ax.axvline(r["best"], color=COLORS[side], lw=1.5, label=f"{spec['label']}: best")
                for bound, default in (("min", issue.low), ("max", issue.high)):
                    lo, hi = r[f"{bound}_range"]
                    if r[bound] != default:  # a hard limit inside the agenda's range
                        ax.axvline(r[bound], color=COLORS[side], lw=1.2, ls="--", label=f"{spec['label']}: limit")
                    if hi > lo:
                        ax.axvspan(lo, hi, color=COLORS[side], alpha=0.08, lw=0)
        ax.set_ylabel("share of agreements")
        ax.set_title(issue.label + (f" ({issue.unit})" if issue.unit else ""), fontsize=9)
    for ax in axes[k:]:
        ax.axis("off")
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", fontsize=8, ncol=min(len(labels), 4))
    size = f"ESS {chosen['ess']:,.0f}" if "ess" in chosen else f"{chosen['n']:,} agreements"
    fig.suptitle(f"Agreed terms: {chosen['set']} ({size}); shaded: the range of an uncertain limit", fontsize=10)
    return fig


def utility_plane_figure(path: Path, scenario: Scenario, summary: dict[str, Any], max_points: int = 20_000) -> Figure:
    """Each agreement's utilities on the plane, with the nominal world's Pareto frontier,
    Nash point and reservation values."""
    a, b = scenario.parties
    agreed = records.column(path, "agreement") & records.completed(path)
    idx = np.flatnonzero(agreed)
    w = weights_of(path, agreed)
    if w is not None and len(idx):  # draw a weighted sample: systematic resampling, deterministic
        cum, m = np.cumsum(w) / w.sum(), min(max_points, len(idx))
        idx = idx[np.minimum(np.searchsorted(cum, (np.arange(m) + 0.5) / m), len(idx) - 1)]
    elif len(idx) > max_points:  # an evenly spaced, deterministic subsample keeps the figure light
        idx = idx[np.linspace(0, len(idx) - 1, max_points).astype(int)]
    u_a, u_b = (records.column(path, f"utility.{p.key}") for p in (a, b))
    ref = summary["reference"]
    fig = new_figure(6, 6)
    ax = fig.subplots()
    note = "weighted sample, " if w is not None else ""
    ax.scatter(u_a[idx], u_b[idx], s=4, alpha=0.25, color="#455a64",
               label=f"agreements ({note}{int(agreed.sum()):,}" + (", subsample)" if len(idx) < agreed.sum() else ")"))
    ranges = (a.reservation.support, b.reservation.support)
    draw_plane(ax, np.array(ref["frontier"]), tuple(ref["nash"]), tuple(ref["reservations"]), (a.label, b.label),
               "nominal world", "median", ranges)
    ax.set_title("Agreements on the utility plane", fontsize=10)
    return fig


def draw_plane(ax: Axes, frontier: np.ndarray, nash: tuple[float, float], d: tuple[float, float],
               labels: tuple[str, str], frontier_note: str, reservation_note: str,
               ranges: tuple[tuple[float, float], tuple[float, float]] | None = None) -> None:
    """The utility plane's frame: the Pareto frontier, the Nash point, both reservation values
    (with their range across worlds shaded, if given), axes and legend (what is plotted on it
    is the caller's)."""
    ax.plot(frontier[:, 0], frontier[:, 1], color="black", lw=1.5, label=f"Pareto frontier ({frontier_note})")
    ax.plot(*nash, marker="*", ms=14, color="#f39c12", ls="none", label="Nash bargaining solution")
    for k in (0, 1):
        line, span = (ax.axvline, ax.axvspan) if k == 0 else (ax.axhline, ax.axhspan)
        line(d[k], color=COLORS[k], ls=":", lw=1, label=f"{labels[k]} reservation ({reservation_note})")
        if ranges is not None and ranges[k][1] > ranges[k][0]:
            span(*ranges[k], color=COLORS[k], alpha=0.06, lw=0)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"utility to {labels[0]}")
    ax.set_ylabel(f"utility to {labels[1]}")
    ax.legend(fontsize=7, loc="lower left")


def plot_run(path: Path, scenario: Scenario, summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """All figures of a run (its records at ``path``), written into ``out_dir``."""
    return [
        save_figure(milestones_figure(summary), out_dir / "milestones.png"),
        save_figure(closing_day_figure(path, scenario), out_dir / "closing_day.png"),
        save_figure(terms_figure(path, scenario, summary), out_dir / "terms.png"),
        save_figure(utility_plane_figure(path, scenario, summary), out_dir / "utility_plane.png"),
    ]


def dance_figure(model: NegotiationModel) -> Figure:
    """One negotiation's "dance": each side's offers per issue over time, events and summit marked."""
    sc = model.spec
    offers = [e for e in model.history if e.kind == "offer"]
    k = len(sc.issues)
    fig = new_figure(9, 1.9 * (k + 1))
    axes = fig.subplots(k + 1, 1, sharex=True)
    for i, issue in enumerate(sc.issues):
        ax = axes[i]
        for side in (0, 1):
            pts = [(pd.Timestamp(sc.date_of(e.day)), e.offer[i])
                   for e in offers if e.party == side and e.offer is not None]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, ys, marker="o", ms=3, color=COLORS[side], label=sc.parties[side].label)
        if model.agreement is not None:
            ax.plot(pd.Timestamp(sc.date_of(model.agreement_day)), model.agreement[i], marker="*", ms=12,
                    color="#2e7d32", ls="none", label="agreement")
        ax.set_ylim(issue.low - 0.05 * (issue.high - issue.low), issue.high + 0.05 * (issue.high - issue.low))
        if issue.levels:
            ax.set_yticks(range(len(issue.levels)), [name.replace("_", " ") for name in issue.levels], fontsize=7)
        ax.set_ylabel(issue.label if len(issue.label) <= 22 else issue.key.replace("_", " "), fontsize=8)
        if issue.unit:
            ax.set_title(issue.unit, fontsize=7, loc="left", pad=2)
    ax = axes[-1]
    for side in (0, 1):
        pts = [(pd.Timestamp(sc.date_of(e.day)), e.extra["aspiration"]) for e in offers if e.party == side]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, color=COLORS[side], drawstyle="steps-post", label=f"{sc.parties[side].label} aspiration")
    ax.set_ylabel("aspiration\n(own utility)", fontsize=8)
    ax.set_ylim(0, 1.05)
    for n, a in enumerate(axes):
        _summit_line(a, sc, label=n == 0)
        for e in model.history:
            if e.kind == "event":
                a.axvline(pd.Timestamp(sc.date_of(e.day)), color="#8e24aa", lw=1, alpha=0.6)
    axes[0].legend(fontsize=7, loc="upper right")
    axes[-1].legend(fontsize=7, loc="lower left")
    last = max([sc.deadline] + [sc.date_of(e.day) for e in model.history])  # the talks so far, and the summit
    axes[-1].set_xlim(pd.Timestamp(sc.start) - pd.Timedelta(days=2), pd.Timestamp(last) + pd.Timedelta(days=5))
    date_axis(axes[-1])
    outcome = ("agreement on " + sc.date_of(model.agreement_day).isoformat()) if model.agreement is not None \
        else ("walk-away" if model.walked_away else ("talks in progress" if model.running else "no agreement"))
    fig.suptitle(f"{sc.title}\nreplication {int(model.world.index)}: {outcome} (purple lines: events)", fontsize=9)
    return fig


def plot_dance(model: NegotiationModel, path: Path) -> Path:
    """One negotiation's "dance" (see :func:`dance_figure`), saved to ``path``."""
    return save_figure(dance_figure(model), path)
