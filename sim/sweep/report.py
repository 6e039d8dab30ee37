"""The report of a finished sweep (:func:`finish`), and figures of sweeps, sensitivity
analyses and scenario comparisons, as PNG files.

- ``curves.png``: P(milestone before the summit) against each varied parameter, with
  its 95% interval band (grid: the mean over the other factors' levels; random
  designs: each point, and a binned mean).
- ``heatmap.png``: P(milestone before the summit) over two grid factors.
- ``sensitivity.png``: Sobol first-order and total indices, or Morris μ* and σ, with
  confidence intervals.
- ``discovery.png``: the PRIM box where P(deal) ≥ the threshold, on its two most
  restricted factors.
- ``compare.png``: closing-day distributions of two scenarios on the same worlds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from sim import records
from sim.plots import COLORS, new_figure, save_figure
from sim.scenario import MILESTONES, Scenario
from sim.sweep import run as sweep
from sim.sweep import sensitivity


def finish(folder: Path, *, milestone: str = "agreement", threshold: float = 0.5) -> dict[str, Any]:
    """Figures and analyses of a complete sweep: curves, heat map (two grid factors),
    sensitivity indices (Sobol/Morris designs), and the PRIM scenario-discovery box
    (``found`` false when no box concentrates the points where P ≥ ``threshold``)."""
    manifest, design = sweep.load(folder)
    df = sweep.points(folder).to_pandas()
    ok = df[df["status"] == "ok"]
    paths = design.paths
    made: dict[str, Any] = {"figures": []}
    if ok.empty:
        return made
    grid = design.method == "grid"
    made["figures"].append(plot_curves(ok, paths, milestone, grid, folder / "curves.png"))
    if grid and len(paths) == 2:
        made["figures"].append(plot_heatmap(ok, paths[0], paths[1], milestone, folder / "heatmap.png"))
    if design.method in ("sobol", "morris"):
        y = df.sort_values("point")[f"p.{milestone}"].to_numpy(dtype=float)
        unit = design.unit if design.unit is not None else design.values
        indices = sensitivity.sensitivity(design.method, design.problem(), unit, y, manifest["seed"])
        indices["output"] = f"{milestone} before summit"
        records.write_json(folder / "sensitivity.json", indices)
        made["sensitivity"] = indices
        made["figures"].append(plot_sensitivity(indices, folder / "sensitivity.png"))
    hit = ok[f"p.{milestone}"].to_numpy() >= threshold
    made["hits"] = int(hit.sum())
    if len(ok) >= 10 and hit.sum() > 0:
        box = sensitivity.prim_box(ok[[f"param.{p}" for p in paths]].to_numpy(), hit)
        box |= {"factors": paths, "threshold": threshold, "output": f"p.{milestone}"}
        records.write_json(folder / "discovery.json", box)
        made["discovery"] = box
        if box["found"]:
            made["figures"].append(plot_discovery(ok, paths, box, milestone, threshold, folder / "discovery.png"))
    return made


TABLE_ROWS = 40  # a longer sweep prints its extremes; points.parquet holds every point


def lines(folder: Path, made: dict[str, Any], milestone: str = "agreement", threshold: float = 0.5) -> list[str]:
    """A finished sweep as terminal lines: the point table (every point of a small design, the
    lowest and highest of a large one), the sensitivity indices, and the scenario-discovery box
    (or why there is none)."""
    _, design = sweep.load(folder)
    df = sweep.points(folder).to_pandas().sort_values("point")
    name = MILESTONES[milestone]
    out = [f"P({name} before the summit) by design point, with its 95% interval:"]
    shown = df
    if len(df) > TABLE_ROWS:
        ranked = df.sort_values(f"p.{milestone}", na_position="first")
        shown = pd.concat([ranked.head(TABLE_ROWS // 4), ranked.tail(TABLE_ROWS // 4)])
        out[0] = (f"P({name} before the summit): the {TABLE_ROWS // 4} lowest and {TABLE_ROWS // 4} highest of "
                  f"{len(df):,} points (all in points.parquet):")
    widths = [max(10, min(len(_short(p)), 28)) for p in design.paths]
    out.append("  " + f"{'point':>6}  " + "  ".join(f"{_short(p)[-w:]:>{w}}" for p, w in zip(design.paths, widths,
                                                                                             strict=True))
               + f"  {'P':>6}  95% interval")
    for _, row in shown.iterrows():
        cells = "  ".join(f"{row[f'param.{p}']:>{w}.4g}" for p, w in zip(design.paths, widths, strict=True))
        if row["status"] != "ok":
            out.append(f"  {int(row['point']):>6}  {cells}  failed: {str(row['error'])[:60]}")
            continue
        p, lo, hi = row[f"p.{milestone}"], row[f"p.{milestone}.low"], row[f"p.{milestone}.high"]
        out.append(f"  {int(row['point']):>6}  {cells}  {p:>6.3f}  [{lo:.3f}, {hi:.3f}]")
    if "sensitivity" in made:
        si = made["sensitivity"]
        if si["method"] == "sobol":
            cols, confs, title = ("S1", "ST"), ("S1_conf", "ST_conf"), "Sobol indices (first order, total)"
        else:
            cols, confs, title = ("mu_star", "sigma"), ("mu_star_conf", ""), "Morris μ* (mean |effect|) and σ"
        out.append(f"{title} of P({si['output']}), ± 95% confidence; inputs on their unit scale:")
        order = np.argsort(-np.asarray(si[cols[1]]))
        for k in order:
            conf = f" ± {si[confs[0]][k]:.3f}" if confs[0] else ""
            conf2 = f" ± {si[confs[1]][k]:.3f}" if confs[1] else ""
            out.append(f"  {_short(si['names'][k]):<48} {cols[0]} {si[cols[0]][k]:>6.3f}{conf:<9}  "
                       f"{cols[1]} {si[cols[1]][k]:>6.3f}{conf2}")
    hits = made.get("hits", 0)
    if hits == 0:
        out.append(f"Scenario discovery: no point has P ≥ {threshold:g}; no box to find.")
    elif "discovery" not in made:
        out.append(f"Scenario discovery: {hits} point(s) with P ≥ {threshold:g}, too few points (< 10) for PRIM.")
    elif not made["discovery"]["found"]:
        out.append(f"Scenario discovery: no box found — no region of the design holds a higher share of points "
                   f"with P ≥ {threshold:g} ({hits} of {len(df)}) than the whole design.")
    else:
        box = made["discovery"]
        out.append(f"Scenario discovery (PRIM): where P ≥ {threshold:g}, a box with density {box['density']:.2f} "
                   f"(share of its points that qualify) and coverage {box['coverage']:.2f} (share of qualifying "
                   "points inside):")
        for f, lo, hi in zip(design.factors, box["low"], box["high"], strict=True):
            if hi - lo < 0.99 * (f.high - f.low):  # only the factors the box restricts
                out.append(f"  {f.path}: [{lo:.4g}, {hi:.4g}] of [{f.low:g}, {f.high:g}]")
    figures = ", ".join(Path(p).name for p in made.get("figures", []))
    if figures:
        out.append(f"Figures: {figures}")
    return out


def _short(path: str) -> str:
    return path.removeprefix("parties.")


def plot_curves(df: pd.DataFrame, paths: list[str], milestone: str, grid: bool, out: Path) -> Path:
    """P(milestone before the summit) against each factor, with its interval band."""
    k = len(paths)
    cols = min(k, 3)
    fig = new_figure(4.2 * cols, 3.6 * -(-k // cols))
    axes = np.atleast_2d(fig.subplots(-(-k // cols), cols, squeeze=False, sharey=True))
    p, lo, hi = df[f"p.{milestone}"], df[f"p.{milestone}.low"], df[f"p.{milestone}.high"]
    for ax, path in zip(axes.ravel(), paths, strict=False):
        x = df[f"param.{path}"]
        if grid:
            g = pd.DataFrame({"x": x, "p": p, "lo": lo, "hi": hi}).groupby("x").mean()
            ax.fill_between(g.index, g["lo"], g["hi"], color=COLORS[0], alpha=0.2, label="95% interval")
            ax.plot(g.index, g["p"], marker="o", ms=3, color=COLORS[0],
                    label="P" if k == 1 else "P (mean over other factors)")
        else:
            ax.vlines(x, lo, hi, color=COLORS[0], alpha=0.15, lw=1)
            ax.scatter(x, p, s=6, color=COLORS[0], alpha=0.6, label="design points (95% intervals)")
            bins = np.linspace(x.min(), x.max(), 11)
            mid = 0.5 * (bins[1:] + bins[:-1])
            which = np.clip(np.digitize(x, bins) - 1, 0, 9)
            means = [p[which == b].mean() if (which == b).any() else np.nan for b in range(10)]
            ax.plot(mid, means, color=COLORS[1], lw=2, label="binned mean")
        ax.set_xlabel(_short(path), fontsize=8)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[k:]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel(f"P({MILESTONES[milestone]}\nbefore summit)")
    axes[0][0].legend(fontsize=7)
    return save_figure(fig, out)


def plot_heatmap(df: pd.DataFrame, x_path: str, y_path: str, milestone: str, out: Path) -> Path:
    """P(milestone before the summit) over two grid factors (mean over any others)."""
    table = df.pivot_table(index=f"param.{y_path}", columns=f"param.{x_path}", values=f"p.{milestone}", aggfunc="mean")
    fig = new_figure(6.5, 5)
    ax = fig.subplots()
    im = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(table.shape[1]), [f"{v:g}" for v in table.columns], fontsize=7, rotation=45)
    ax.set_yticks(range(table.shape[0]), [f"{v:g}" for v in table.index], fontsize=7)
    for (i, j), v in np.ndenumerate(table.to_numpy()):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v < 0.6 else "black")
    ax.set_xlabel(_short(x_path))
    ax.set_ylabel(_short(y_path))
    fig.colorbar(im, ax=ax, label=f"P({MILESTONES[milestone]} before summit)")
    return save_figure(fig, out)


def plot_sensitivity(indices: dict[str, Any], out: Path) -> Path:
    """Sobol S1 and ST (or Morris μ* and σ) per factor, with confidence intervals."""
    names = [_short(n) for n in indices["names"]]
    x = np.arange(len(names))
    fig = new_figure(max(5, 1.1 * len(names) + 2), 4)
    ax = fig.subplots()
    bars: tuple[tuple[str, str | None, str], ...]
    if indices["method"] == "sobol":
        bars = (("S1", "S1_conf", "first order"), ("ST", "ST_conf", "total"))
        ax.set_ylabel("Sobol index")
    else:
        bars = (("mu_star", "mu_star_conf", "μ* (mean |elementary effect|)"), ("sigma", None, "σ (interactions)"))
        ax.set_ylabel("elementary effect on P")
    for k, (key, conf, label) in enumerate(bars):
        err = np.array(indices[conf]) if conf else None
        ax.bar(x + (k - 0.5) * 0.38, indices[key], 0.38, yerr=err, capsize=3, label=label, color=COLORS[k])
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    ax.axhline(0, color="black", lw=0.8)
    ax.legend(fontsize=8)
    ax.set_title(f"Sensitivity of P({indices['output']}) ({indices['method']}, 95% confidence)", fontsize=10)
    return save_figure(fig, out)


def plot_discovery(df: pd.DataFrame, paths: list[str], box: dict[str, Any], milestone: str, threshold: float,
                   out: Path) -> Path:
    """The PRIM box on the two factors it restricts most, points coloured by P ≥ threshold."""
    x = df[[f"param.{p}" for p in paths]].to_numpy()
    span = x.max(axis=0) - x.min(axis=0)
    restriction = 1 - (np.array(box["high"]) - np.array(box["low"])) / np.where(span > 0, span, 1)
    order = np.argsort(-restriction)
    i, j = (order[0], order[1]) if len(paths) > 1 else (order[0], order[0])
    hit = df[f"p.{milestone}"].to_numpy() >= threshold
    fig = new_figure(6, 5)
    ax = fig.subplots()
    ax.scatter(x[~hit, i], x[~hit, j], s=10, color="#bbbbbb", label=f"P < {threshold:g}")
    ax.scatter(x[hit, i], x[hit, j], s=10, color=COLORS[0], label=f"P ≥ {threshold:g}")
    ax.add_patch(Rectangle((box["low"][i], box["low"][j]), box["high"][i] - box["low"][i],
                               box["high"][j] - box["low"][j], fill=False, lw=2, color=COLORS[1], label="PRIM box"))
    ax.set_xlabel(_short(paths[i]))
    ax.set_ylabel(_short(paths[j]))
    ax.set_title(f"Where P({MILESTONES[milestone]} before summit) ≥ {threshold:g}: density {box['density']:.2f}, "
                 f"coverage {box['coverage']:.2f}", fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, out)


def plot_compare(days: list[np.ndarray], scenarios: list[Scenario], milestone: str, out: Path) -> Path:
    """Closing-day histograms of two scenarios (same worlds), the summit marked."""
    fig = new_figure(8, 4)
    ax = fig.subplots()
    start = min(s.start for s in scenarios)
    for k, (d, sc) in enumerate(zip(days, scenarios, strict=True)):
        reached = d[d >= 0]
        dates = pd.to_datetime([sc.date_of(int(v)) for v in np.unique(reached)])
        counts = np.array([(reached == v).sum() for v in np.unique(reached)]) / max(len(d), 1)
        ax.bar(dates + pd.Timedelta(hours=10 * k - 5), counts, width=0.4, color=COLORS[k], alpha=0.8,
               label=f"{sc.name} (P by horizon {len(reached) / max(len(d), 1):.2f})")
    ax.axvline(pd.Timestamp(scenarios[0].deadline), color="black", ls="--", lw=1, label=scenarios[0].summit_label)
    ax.set_xlim(left=pd.Timestamp(start))
    ax.set_ylabel("share of replications")
    ax.set_title(f"When {MILESTONES[milestone]} is reached, on the same worlds", fontsize=10)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    return save_figure(fig, out)
