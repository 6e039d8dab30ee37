"""What a backtest writes and shows: ``backtest.json``, the console table, ``reliability.png``,
``pit.png``, and ``docs/BACKTEST.md`` (``python -m sim backtest --report``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from sim import plots, records

#: One colour per forecaster in a reliability diagram.
SERIES_COLORS = (plots.COLORS[0], "#7f8c8d", plots.COLORS[1])
#: How the report names the references.
REFERENCES = {"": "forecast (record)", "_prior": "prior (no record)", "_base": "base rate"}


def lines(rows: list[dict[str, Any]], summary: dict[str, Any]) -> list[str]:
    """The console table: one line per scored forecast, then the mean scores."""
    out = [f"{'case':<34} {'outcome':<12} {'as of':<10} {'happened':<8} {'forecast':>8} {'prior':>6} {'base':>6} "
           f"{'Brier':>6} {'prior':>6} {'base':>6}"]
    for r in rows:
        happened = "yes" if r["happened"] else "no"
        out.append(f"{r['case'][:34]:<34} {r['outcome'][:12]:<12} {r['as_of']:<10} {happened:<8} {r['p']:>8.3f} "
                   f"{r['p_prior']:>6.3f} {r['p_base']:>6.3f} {r['brier']:>6.3f} {r['brier_prior']:>6.3f} "
                   f"{r['brier_base']:>6.3f}")
    out.append(f"mean over {summary['forecasts']} forecasts ({summary['cases']} cases): Brier {summary['brier']:.3f} "
               f"(prior {summary['brier_prior']:.3f}, base rate {summary['brier_base']:.3f}); log score "
               f"{summary['log_score']:.3f} (prior {summary['log_score_prior']:.3f}, base rate "
               f"{summary['log_score_base']:.3f})")
    t = summary["terms"]
    if t["count"]:
        out.append(f"terms: {t['count']} realised values, {t['in50']:.0%} inside the 50% interval, "
                   f"{t['in90']:.0%} inside the 90% interval")
    return out


def write(folder: Path, rows: list[dict[str, Any]], summary: dict[str, Any], settings: dict[str, Any]) -> list[Path]:
    """``backtest.json`` and the figures into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    records.write_json(folder / "backtest.json", {"settings": settings, "summary": summary, "forecasts": rows,
                                                  "git_commit": records.git_commit(), "versions": records.versions()})
    return [plots.save_figure(reliability_figure(summary), folder / "reliability.png"),
            plots.save_figure(pit_figure(summary), folder / "pit.png")]


def reliability_figure(summary: dict[str, Any], series: tuple[tuple[str, str], ...] = (("", "forecasts"),),
                       title: str | None = None) -> Any:
    """Forecast probability bins against the observed frequency, one line per forecaster in
    ``series`` (the suffix of its ``reliability``/``brier`` keys, its label); counts on the first."""
    fig = plots.new_figure(6, 5.5)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="perfect calibration")
    for k, (name, label) in enumerate(series):
        used = [b for b in summary[f"reliability{name}"] if b["count"]]
        ax.plot([b["forecast"] for b in used], [b["observed"] for b in used], "o-", color=SERIES_COLORS[k],
                label=f"{label} (Brier {summary[f'brier{name}']:.3f})", alpha=1.0 if k == 0 else 0.6)
        for b in used if k == 0 else ():
            ax.annotate(f"n={b['count']}", (b["forecast"], b["observed"]), xytext=(5, -10),
                        textcoords="offset points", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("forecast probability (bin mean)")
    ax.set_ylabel("observed frequency")
    ax.set_title(title or f"Backtest: reliability of {summary['forecasts']} forecasts ({summary['cases']} cases)",
                 fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def pit_figure(summary: dict[str, Any]) -> Any:
    """Histograms of the PITs of realised terms and milestone dates (uniform if calibrated)."""
    fig = plots.new_figure(9, 3.6)
    axes = fig.subplots(1, 2)
    for ax, key, label in ((axes[0], "terms", "realised terms"), (axes[1], "dates", "milestone dates")):
        values = [v for v in summary[key]["pit"] if v is not None and not math.isnan(v)]
        ax.hist(values, bins=np.linspace(0, 1, 6), color=plots.COLORS[0], alpha=0.8)
        if values:
            ax.axhline(len(values) / 5, color="grey", ls="--", lw=1, label="uniform (calibrated)")
            ax.legend(fontsize=8)
        ax.set_xlabel("PIT")
        ax.set_ylabel("count")
        ax.set_title(f"{label} ({len(values)})", fontsize=10)
    fig.suptitle("Where what happened fell in the forecast distributions", fontsize=10)
    return fig


# --- the cross-validated backtest ---------------------------------------------------------------

#: The three forecasters of a cross-validated backtest, as the report names them.
FORECASTERS = {"": "learned priors, per kind of talk", "_pooled": "learned priors, all kinds pooled",
               "_judgement": "judgement priors", "_base": "base rate", "_base_kind": "base rate of the kind"}


def cv_lines(cv: dict[str, Any]) -> list[str]:
    """The console summary of a cross-validated backtest."""
    s = cv["summary"]
    out = [f"{s['forecasts']} forecasts of {s['cases']} cases in {s['groups']} groups (each forecast with priors "
           f"learned without its group); the event happened in {s['happened']}."]
    for name, label in FORECASTERS.items():
        out.append(f"  {label:<32} Brier {s[f'brier{name}']:.4f}   log score {s[f'log_score{name}']:+.4f}")
    out.append(f"Brier skill of the learned priors (per kind): {s['brier_skill_vs_base']:+.3f} against the base "
               f"rate, {s['brier_skill_vs_base_kind']:+.3f} against the base rate of the kind, "
               f"{s['brier_skill_vs_pooled']:+.3f} against the pooled priors, {s['brier_skill_vs_judgement']:+.3f} "
               f"against the judgement priors (against the base rate, pooled: {s['brier_skill_pooled_vs_base']:+.3f}; "
               f"judgement: {s['brier_skill_judgement_vs_base']:+.3f}).")
    e = s["extremes"]
    out.append(f"Confident misses (learned): {e['below_low_happened']} below {e['low']:.2f} that happened, "
               f"{e['above_high_not']} above {e['high']:.2f} that did not ({e['share']:.1%} of forecasts).")
    return out


def cv_write(folder: Path, cv: dict[str, Any], settings: dict[str, Any], cases: list[Any]) -> list[Path]:
    """``backtest.json`` and the cross-validated figures into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    records.write_json(folder / "backtest.json", {"settings": settings, "cross_validated": True, **cv,
                                                  "git_commit": records.git_commit(), "versions": records.versions()})
    return [plots.save_figure(cv_reliability_figure(cv["summary"]), folder / "reliability.png"),
            plots.save_figure(cv_pit_figure(cv["summary"]), folder / "pit.png"),
            plots.save_figure(learned_priors_figure(cv["kinds"], cases), folder / "learned_priors.png")]


def cv_reliability_figure(summary: dict[str, Any]) -> Any:
    """Reliability of the learned and the judgement priors' forecasts (10 bins, with counts)."""
    return reliability_figure(summary, (("", "learned priors, per kind"), ("_pooled", "learned priors, pooled"),
                                        ("_judgement", "judgement priors")),
                              f"Cross-validated: {summary['forecasts']} forecasts, {summary['cases']} cases")


def cv_pit_figure(summary: dict[str, Any]) -> Any:
    """Histograms of the realised terms' PITs (uniform if the terms' forecasts are calibrated)."""
    fig = plots.new_figure(6, 3.5)
    ax = fig.subplots()
    bins = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    for k, (key, label) in enumerate((("pit", "learned priors"), ("pit_judgement", "judgement priors"))):
        values = [v for v in summary["terms"][key] if v == v]
        ax.hist(values, bins=bins, histtype="step", lw=2, color=plots.COLORS[k], label=f"{label} (n={len(values)})")
    n = len([v for v in summary["terms"]["pit"] if v == v])
    ax.axhline(n / 5, color="grey", ls="--", lw=1, label="uniform")
    ax.set_xlabel("PIT of the realised terms")
    ax.set_ylabel("count")
    ax.legend(fontsize=8)
    return fig


def learned_priors_figure(kinds: dict[str, list[float]], cases: list[Any]) -> Any:
    """The learned priors beside the judgement priors, one row per kind of talk: the
    hyperposterior over the grid, and the densities of the rescaled priors (the US side of the
    kind's first case) under the judgement and under the learned mixture."""
    from sim.distributions import make_dist
    from sim.forecast import priors

    fig = plots.new_figure(12, 3.2 * max(1, len(kinds)) + 0.6)
    axes = np.atleast_2d(fig.subplots(max(1, len(kinds)), 4, squeeze=False))
    for row, (kind, weights) in zip(axes, kinds.items(), strict=False):
        w = np.array(weights)
        order = np.argsort(-w)[: max(1, int((w > 0).sum()))]
        short = [f"{h.reservation_shift:+.2f} / ×{h.pressure_scale:g} / ×{h.pace_scale:g}"
                 for h in (priors.GRID[k] for k in order)]
        row[0].barh(short[::-1], w[order][::-1], color=plots.COLORS[0])
        row[0].set_xlabel("hyperposterior weight")
        row[0].set_ylabel("reservation / pressure / pace", fontsize=8)
        row[0].tick_params(axis="y", labelsize=7)
        row[0].set_title(f"learned from the {kind.replace('_', ' ')} talks", fontsize=9)
        case = next(c for c in cases if c.scenario.kind == kind)
        side = next(iter(case.document["parties"]))
        fields = (("reservation value", ("reservation",)), ("deadline cost (share of surplus)", ("deadline_cost",)),
                  ("concession exponent β", ("tactic", "beta")))
        for ax, (label, path) in zip(row[1:], fields, strict=True):
            grid_x = np.linspace(0, 2.2 if "β" in label else 1, 400)
            for k, (name, mix) in enumerate((("judgement", [(priors.Hyper(), 1.0)]),
                                             ("learned", [(priors.GRID[i], w[i]) for i in order]))):
                dens = np.zeros_like(grid_x)
                for h, weight in mix:
                    value: Any = priors.apply(case.document, h)["parties"][side]
                    for key in path:
                        value = value.get(key) if isinstance(value, dict) else None
                    if isinstance(value, dict):
                        dens += weight * np.gradient(make_dist(value).cdf(grid_x), grid_x)
                ax.plot(grid_x, dens, color=plots.COLORS[k], lw=2, label=name, ls="-" if k else "--")
            ax.set_title(f"{label} ({kind.replace('_', ' ')})" + ("\n(pressure ×0: none, not drawn)"
                         if "cost" in label and any(priors.GRID[i].pressure_scale == 0 for i in order) else ""),
                         fontsize=9)
            ax.set_yticks([])
            ax.legend(fontsize=8)
    fig.suptitle("Behavioural priors: judgement and learned across the case library, per kind of talk (US side)",
                 fontsize=10)
    return fig


def cv_markdown(cv: dict[str, Any], settings: dict[str, Any], command: str) -> str:
    """``docs/BACKTEST.md`` for a cross-validated backtest."""
    from sim.forecast import backtest, priors

    s = cv["summary"]
    rows = cv["forecasts"]
    lines = ["# Backtest", "",
             f"Generated by `{command}` (do not edit by hand). Every case of the library "
             "(`scenarios/library/cases.toml`, built from `scenarios/library/templates/`) and every case file "
             "(`scenarios/cases/`) forecast from each of its dates at each of the 27 points of the hyperparameter "
             f"grid (seed {settings['seed']}, {settings['particles']:,} particles per population, target ESS "
             f"{settings['target_ess']:,}); then, for each group of cases, priors learned from the *other* groups "
             "only (leave-one-group-out: talks that share a deadline or are rounds of one talk leave together), "
             "learned from the cases of the same kind of talk (`kind`: `meeting` or `tariff_threat`) and, for "
             "comparison, from every kind pooled; the base rates from the other groups too (all talks, and those "
             "of the same kind). The numbers are as measured.", "",
             f"**{s['forecasts']} forecasts of {s['cases']} cases in {s['groups']} groups; the event happened in "
             f"{s['happened']}.**", "",
             "| | Brier (lower is better) | log score (higher is better) |", "|---|---:|---:|"]
    for name, label in FORECASTERS.items():
        lines.append(f"| {label} | {s[f'brier{name}']:.4f} | {s[f'log_score{name}']:.4f} |")
    e, ej = s["extremes"], s["extremes_judgement"]
    lines += ["", f"Brier skill of the learned priors per kind (what `python -m sim forecast` and the page use): "
              f"**{s['brier_skill_vs_base']:+.3f} against the base rate**, {s['brier_skill_vs_base_kind']:+.3f} "
              f"against the base rate of the kind, {s['brier_skill_vs_pooled']:+.3f} against the priors learned "
              f"from all kinds pooled and {s['brier_skill_vs_judgement']:+.3f} against the judgement priors. Pooled, "
              f"the learned priors' skill against the base rate is {s['brier_skill_pooled_vs_base']:+.3f}; the "
              f"judgement priors' {s['brier_skill_judgement_vs_base']:+.3f}.", "",
              f"Confident misses: the learned priors gave below {e['low']:.2f} to {e['below_low_happened']} events "
              f"that happened and above {e['high']:.2f} to {e['above_high_not']} that did not ({e['share']:.1%} of the "
              f"forecasts); the judgement priors {ej['below_low_happened']} and {ej['above_high_not']} "
              f"({ej['share']:.1%}).", "",
              "![Reliability](img/backtest_reliability.png)", "",
              "![Learned priors](img/backtest_learned_priors.png)", "",
              "![PIT of realised terms](img/backtest_pit.png)", "",
              "## The learned priors", "",
              "The hyperposteriors over the grid, fitted on the whole library (what `python -m sim forecast` uses "
              "by default, `scenarios/library/learned.toml`): per kind of talk, and pooled (for a scenario of no "
              "kind):", "",
              "| fitted on | reservation shift | pressure × | pace × | weight |", "|---|---:|---:|---:|---:|"]
    for name, ws in (*((f"{kind} talks", w) for kind, w in cv["kinds"].items()), ("all cases, pooled", cv["weights"])):
        for h, w in zip(priors.GRID, ws, strict=True):
            if w > 0:
                lines.append(f"| {name} | {h.reservation_shift:+.2f} | {h.pressure_scale:g} | {h.pace_scale:g} | "
                             f"{w:.3f} |")
    lines += ["", "Per fold (the priors each group was forecast with, per kind):", "",
              "| group left out | kind | points (weight) |", "|---|---|---|"]
    for group, by_kind in cv["fold_kinds"].items():
        for kind, w in by_kind.items():
            pts = "; ".join(f"{priors.GRID[k].label()} ({x:.2f})"
                            for k, x in sorted(enumerate(w), key=lambda kv: -kv[1]) if x > 0)
            lines.append(f"| {group} | {kind} | {pts} |")
    lines += ["", "## Per case", "",
              "Mean Brier and log score of each case's forecasts; where the learned priors lose to the base rate "
              "(in Brier score), why.", "",
              "| case | kind | group | forecasts | happened | mean p (learned) | Brier learned | pooled | judgement "
              "| base rate | base rate of the kind | log score learned | judgement | base rate "
              "| why it loses to the base rate |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for c in backtest.by_case(rows):
        why = why_cv(c)
        lines.append(f"| {c['case']} | {c['kind']} | {c['group']} | {c['forecasts']} | {c['happened']} | "
                     f"{c['p']:.2f} | {c['brier']:.3f} | {c['brier_pooled']:.3f} | {c['brier_judgement']:.3f} | "
                     f"{c['brier_base']:.3f} | {c['brier_base_kind']:.3f} | "
                     f"{c['log_score']:.3f} | {c['log_score_judgement']:.3f} | {c['log_score_base']:.3f} | {why} |")
    lines += ["", "## Sources", "", "Each library row lists the public reporting that confirms it "
              "(`sources` in `scenarios/library/cases.toml`); case files cite theirs in their headers.", ""]
    return "\n".join(lines)


def why_cv(c: dict[str, Any]) -> str:
    """One sentence on why a case's learned-prior forecasts lose to the base rate (``—`` if they do not)."""
    if c["brier"] <= c["brier_base"]:
        return "—"
    rate = c["happened"] / c["forecasts"]
    side = "too low" if c["p"] < rate else "too high"
    return (f"its forecasts ({c['p']:.2f} on average) were {side} for a talk that "
            f"{'closed' if rate >= 0.5 else 'did not close'} by its deadline, where the base rate said "
            f"{c['p_base']:.2f}: the record before its dates said nothing that set it apart from the talks the "
            f"priors were learned on")
