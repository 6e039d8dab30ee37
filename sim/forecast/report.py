"""What a forecast writes and shows: its folder, its console report, and its figures.

Folder (``results/<scenario>/forecast-<as of>-<timestamp>/``)::

    runs/            the posterior sample's records (a Parquet dataset, like a run's), with
                     each particle's `weight` (mean 1) and `log_likelihood` (the record's kernel)
    summary.json     the run summary, weighted by the posterior (intervals on the ESS)
    forecast.json    prior and forecast per milestone, the ESS, the sampler's path, the record
                     used, how well each observation is reproduced, each parameter's prior and
                     posterior, warnings
    manifest.json    scenario file and sha256, seed, settings, versions, git commit
    posterior.png    each uncertain parameter's prior and posterior, and the agreed terms
                     given the record beside the prior's
    milestones.png  closing_day.png  terms.png  utility_plane.png   (weighted)

A timeline (``forecast --timeline``) writes ``timeline.json`` and ``timeline.png``: the
forecast as of every date with news, drawn as the odds over time.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import analysis, plots, records
from sim.forecast.conditioning import Forecast
from sim.scenario import MILESTONES, Scenario, param_label


def parameters(fc: Forecast) -> dict[str, dict[str, Any]]:
    """Each uncertain parameter's prior and posterior: mean and 5/50/95% quantiles, and
    whether the posterior piles up at an edge of the prior's range (the record pushing
    against the prior: a sign the judgement may be too narrow)."""
    w = fc.posterior.column(analysis.WEIGHT).to_numpy()
    out = {}
    for p in fc.scenario.uncertain:
        col = f"param.{p.path}"
        prior = fc.prior.column(col).to_numpy()
        post = fc.posterior.column(col).to_numpy()
        lo, hi = p.support
        span = hi - lo if math.isfinite(hi - lo) and hi > lo else None
        edge = None
        if span:  # a third of the posterior in the outer tenth of the range (a uniform prior puts a tenth there)
            share = {"low": float(w[post <= lo + 0.1 * span].sum() / w.sum()),
                     "high": float(w[post >= hi - 0.1 * span].sum() / w.sum())}
            edge = next((side for side, s in share.items() if s > 1 / 3), None)
        out[p.path] = {"prior": analysis.quantiles(prior), "posterior": analysis.quantiles(post, w), "edge": edge}
    return out


def summary(fc: Forecast, seconds: float) -> dict[str, Any]:
    """``forecast.json``."""
    ev, sc, r = fc.evidence, fc.scenario, fc.result
    known = ev.known
    return {
        "scenario": sc.name, "title": sc.title, "as_of": None if ev.as_of is None else ev.as_of.isoformat(),
        "summit": sc.deadline.isoformat(), "horizon": sc.horizon.isoformat(),
        "headline_milestone": ev.question(sc.headline),
        "seed": fc.seed, "ess": r.ess, "target_reached": r.reached, "particles": fc.posterior.num_rows,
        "simulations": r.simulations, "seconds": round(seconds, 2), "populations": r.history,
        "record": None if sc.record is None else sc.record.file,
        "evidence": {"positions": len(ev.positions), "events_struck": known.fired, "events_not_yet": known.quiet,
                     "rounds": {sc.date_of(d).isoformat(): held for d, held in known.rounds.items()},
                     "milestones_reached": {m: sc.date_of(hi).isoformat() for m, (_, hi) in ev.reached.items()},
                     "status": None if ev.as_of is None else _status(ev, sc)},
        "probabilities": fc.probabilities(), "fit": fc.fit, "parameters": parameters(fc), "warnings": fc.warnings,
    }


def _status(ev: Any, sc: Scenario) -> str:
    """The status a forecast conditions on, in words."""
    done = [f"{MILESTONES[m]} on {sc.date_of(hi)}" for m, (_, hi) in ev.reached.items()]
    nxt = ev.question("agreement")
    return "; ".join([*done, f"no {MILESTONES[nxt]} and nobody gone by {ev.as_of}"])


def report(data: dict[str, Any]) -> list[str]:
    """The forecast for the terminal: each milestone given the record, beside the prior."""
    ev = data["evidence"]
    what = (f"as of {data['as_of']}: {ev['positions']} reported positions, {len(ev['events_struck'])} events "
            f"struck, {len(ev['events_not_yet'])} not (yet), {len(ev['rounds'])} rounds; {ev['status']}"
            if data["as_of"] else "with no record (the prior)")
    lines = [f"Forecast of {data['scenario']} {what}",
             f"  {'':<24} {'given the record':<24} prior (no record)"]
    for m in data["probabilities"].values():
        f, p = m["forecast"]["before_summit"], m["prior"]["before_summit"]
        lines.append(f"  {m['label']:<24} {f['p']:.3f} [{f['low']:.3f}, {f['high']:.3f}]   "
                     f"{p['p']:.3f} [{p['low']:.3f}, {p['high']:.3f}]   by {data['summit']}")
    lines.append(f"  effective sample size {data['ess']:,.0f} of {data['particles']:,} particles "
                 f"({data['simulations']:,} simulations, {data['seconds']:.1f} s)")
    return lines


def headline(data: dict[str, Any]) -> str:
    """The answer in one line."""
    m = data["probabilities"][data["headline_milestone"]]
    f, p = m["forecast"]["before_summit"], m["prior"]["before_summit"]
    given = f" | record to {data['as_of']}" if data["as_of"] else ""
    return (f"P({m['label']} by {data['summit']}{given}) = {f['p']:.2f} [{f['low']:.2f}, {f['high']:.2f}] "
            f"(prior {p['p']:.2f}), ESS {data['ess']:,.0f}")


def write(fc: Forecast, out_dir: Path, seconds: float, *, make_plots: bool = True,
          command: list[str] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write a forecast's folder (see the module docstring); return ``forecast.json``'s content
    (with ``extra``'s keys added: e.g. the judgement priors' forecast beside the learned one)."""
    out_dir.mkdir(parents=True, exist_ok=True)  # claimed (empty) by the caller, or new
    runs = out_dir / records.RUNS
    runs.mkdir()
    records.write_part(fc.posterior, runs, 0)
    run_summary = analysis.summarize(runs, fc.scenario)
    records.write_json(out_dir / "summary.json", run_summary)
    data = summary(fc, seconds) | (extra or {})
    records.write_json(out_dir / "forecast.json", data)
    records.write_json(out_dir / "manifest.json", {
        "kind": "forecast", "scenario": fc.scenario.name, "scenario_file": fc.scenario.path,
        "scenario_sha256": fc.scenario.sha256 or None, "as_of": data["as_of"], "seed": fc.seed,
        "particles": data["particles"], "git_commit": records.git_commit(), "versions": records.versions(),
        "command": command if command is not None else sys.argv,
    })
    if make_plots:
        plots.plot_run(runs, fc.scenario, run_summary, out_dir)
        plots.save_figure(posterior_figure(fc, data), out_dir / "posterior.png")
    return data


def posterior_figure(fc: Forecast, data: dict[str, Any]) -> Any:
    """Each uncertain parameter's prior and posterior, and the agreed terms (the headline
    event) given the record beside the prior's."""
    sc = fc.scenario
    params = sc.uncertain
    terms = list(sc.issues)
    cols = 4
    rows = -(-len(params) // cols) + -(-len(terms) // cols)
    fig = plots.new_figure(3.4 * cols, 2.4 * rows + 0.8)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    w = fc.posterior.column(analysis.WEIGHT).to_numpy()
    for ax, p in zip(axes, params, strict=False):
        prior = fc.prior.column(f"param.{p.path}").to_numpy()
        post = fc.posterior.column(f"param.{p.path}").to_numpy()
        lo, hi = np.nanmin(prior), np.nanmax(prior)
        bins = np.linspace(lo, hi, 31) if hi > lo else 10
        ax.hist(prior, bins=bins, density=True, color="#bbbbbb", label="prior")
        ax.hist(post, bins=bins, weights=w, density=True, histtype="step", lw=1.8, color=plots.COLORS[0],
                label="given the record")
        edge = data["parameters"][p.path]["edge"]
        title = textwrap.shorten(param_label(sc, p.path), 48, placeholder="…")
        ax.set_title(title + (f"\n(piles at the {edge} edge)" if edge else ""), fontsize=8, parse_math=False)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    start = -(-len(params) // cols) * cols
    for ax in axes[len(params):start]:
        ax.axis("off")
    head = _headline_mask(fc.prior, sc), _headline_mask(fc.posterior, sc)
    for ax, issue in zip(axes[start:], terms, strict=False):
        prior_v = fc.prior.column(f"term.{issue.key}").to_numpy(zero_copy_only=False)[head[0]]
        post_v = fc.posterior.column(f"term.{issue.key}").to_numpy(zero_copy_only=False)[head[1]]
        bins = np.arange(len(issue.levels) + 1) - 0.5 if issue.levels else np.linspace(issue.low, issue.high, 31)
        if len(prior_v):
            ax.hist(prior_v, bins=bins, density=True, color="#bbbbbb", label="prior")
        if len(post_v) and w[head[1]].sum() > 0:
            ax.hist(post_v, bins=bins, weights=w[head[1]], density=True, histtype="step", lw=1.8,
                    color=plots.COLORS[1], label="given the record")
        if issue.levels:
            ax.set_xticks(range(len(issue.levels)), [name.replace("_", " ") for name in issue.levels], fontsize=7)
        ax.set_title(f"agreed {issue.label}" + (f" ({issue.unit})" if issue.unit else ""), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    for ax in axes[start + len(terms):]:
        ax.axis("off")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{sc.title}\nwhat the record as of {data['as_of']} says: parameters (blue) and the terms of "
                 f"deals by the summit (red), against the prior (grey); ESS {data['ess']:,.0f}", fontsize=9)
    return fig


def _headline_mask(table: Any, sc: Scenario) -> np.ndarray:
    """The headline deals: the headline milestone reached by the summit (the records' own flag)."""
    return table.column(f"{sc.headline}_before_summit").fill_null(False).to_numpy(zero_copy_only=False)


# --- the timeline: the forecast as of every date with news ------------------------------------------


def labels(sc: Scenario, date: dt.date) -> list[str]:
    """Short labels of the record's entries on ``date`` (for the timeline)."""
    rec = sc.record
    if rec is None:
        return []
    out = []
    for p in rec.positions:
        if p.date == date:
            issue = sc.issues[p.issue]
            value = issue.levels[round(p.value)] if issue.levels else f"{p.value:g}{issue.unit_suffix}"
            out.append(f"{sc.parties[p.side].label}: {issue.label} {value}")
    events = {e.name: e.label for e in sc.events}
    out += [events.get(e.name, e.name) for e in rec.events if e.date == date]
    day = (date - sc.start).days
    out += [("round held" if r.held else "round cancelled") if r.known_from == r.day
            else f"round of {r.date:%b %d} {'confirmed' if r.held else 'cancelled'}"
            for r in rec.rounds if r.known_from == day]
    out += [f"progress: {p.text}" for p in rec.progress if p.date == date]
    out += [f"{MILESTONES[m.name]} reached" for m in rec.milestones if m.date == date]
    out += [n.text for n in rec.news if n.date == date]
    return out


def timeline_row(fc: Forecast, data: dict[str, Any]) -> dict[str, Any]:
    """One date of the timeline: the headline's forecast and prior, the ESS, the news."""
    m = data["probabilities"][data["headline_milestone"]]
    f = m["forecast"]["before_summit"]
    as_of = fc.evidence.as_of
    return {"as_of": data["as_of"], "question": data["headline_milestone"], "p": f["p"], "low": f["low"],
            "high": f["high"], "ess": data["ess"],
            "prior": m["prior"]["before_summit"]["p"], "warnings": data["warnings"],
            "news": [] if as_of is None else labels(fc.scenario, as_of)}


def timeline_figure(sc: Scenario, rows: list[dict[str, Any]], priors: str = "") -> Any:
    """The odds of the headline by the summit over time, as the record grew: one forecast per
    date with news (interval shaded), each numbered, with that date's news listed under the plot
    by number (so no label overlaps another or runs past the figure); the prior dashed."""
    dated = [r for r in rows if r["as_of"] and r["p"] is not None]
    notes = [r for r in dated if r["news"]]
    fig = plots.new_figure(11, 5.2 + 0.19 * len(notes))
    ax, text = fig.subplots(2, 1, height_ratios=[5.2, 0.2 + 0.19 * len(notes)])
    text.axis("off")
    prior = rows[0]["prior"]
    ylabel = f"P({MILESTONES[sc.headline]} by {sc.deadline:%d %b %Y})"
    ax.set_title(f"{sc.title}\nhow the odds moved as the news came in"
                 + (f" (behavioural priors: {priors})" if priors else ""), fontsize=10)
    if not dated:  # nothing dated to condition on (yet): the prior is the whole story
        ax.axhline(prior, color="grey", ls="--", lw=1, label=f"prior, no record ({prior:.2f})")
        ax.text(0.5, 0.5, "no dated record entries up to this date: the forecast is the prior",
                transform=ax.transAxes, ha="center", fontsize=9, color="#555555")
        ax.set_ylim(0, min(1.0, max(0.05, prior * 1.5)))
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8, loc="upper left")
        return fig
    x = pd.to_datetime([r["as_of"] for r in dated])
    p = np.array([r["p"] for r in dated])
    # each forecast stands until the next news (the last one until the summit)
    end = max(x[-1], pd.Timestamp(sc.deadline))
    xs = x.append(pd.DatetimeIndex([end]))
    low, high = [r["low"] for r in dated], [r["high"] for r in dated]
    ax.fill_between(xs, [*low, low[-1]], [*high, high[-1]], step="post", color=plots.COLORS[0], alpha=0.2,
                    label="95% interval (on the ESS)")
    ax.step(xs, [*p, p[-1]], where="post", color=plots.COLORS[0], lw=2, label="forecast given the record to date")
    ax.plot(x, p, "o", color=plots.COLORS[0], ms=5)
    ax.axhline(prior, color="grey", ls="--", lw=1, label=f"prior, no record ({prior:.2f})")
    ax.axvline(pd.Timestamp(sc.deadline), color="black", ls="--", lw=1)
    ax.annotate(sc.summit_label, (pd.Timestamp(sc.deadline), 1), xycoords=("data", "axes fraction"),
                xytext=(-3, -12), textcoords="offset points", ha="right", fontsize=8)
    lines = []
    for k, r in enumerate(notes, start=1):
        xi = pd.Timestamp(r["as_of"])
        ax.annotate(str(k), (xi, r["p"]), xytext=(0, 7 if k % 2 else -13), textcoords="offset points", ha="center",
                    fontsize=7, color="#333333")  # alternately above and below: neighbours do not collide
        lines.append(textwrap.shorten(f"{k}. {xi:%d %b}: " + "; ".join(r["news"]), 150, placeholder="…"))
    text.text(0.0, 1.0, "\n".join(lines), va="top", ha="left", fontsize=7, transform=text.transAxes,
              parse_math=False)
    top = max(0.05, float(max(r["high"] for r in dated)) * 1.2, prior * 1.3)
    ax.set_ylim(0, min(1.0, top))
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, loc="upper left")
    plots.date_axis(ax)
    return fig


def timeline_dates(sc: Scenario, until: dt.date | None) -> list[dt.date]:
    """The timeline's forecast dates: every date of the record up to ``until``, then ``until``
    itself (the status alone — no agreement yet — is news too), ascending."""
    dates = [d for d in (sc.record.dates() if sc.record else []) if until is None or d <= until]
    return [*dates, until] if until is not None and until not in dates else dates


def timeline(sc: Scenario, until: dt.date | None, *, done: Callable[[dict[str, Any]], None] | None = None,
             **kwargs: Any) -> list[dict[str, Any]]:
    """The forecast with no record (the prior), then as of every date of :func:`timeline_dates`:
    one row each (see :func:`timeline_row`), passed to ``done`` as it finishes. A
    date whose record the sampler cannot reproduce gets a row with no number (``p`` None) and
    the reason (``refused``). ``kwargs`` go to :func:`sim.forecast.priors.forecast` (``priors``: learned
    by default)."""
    import time

    from sim.forecast.conditioning import RecordNotMatched
    from sim.forecast.priors import forecast

    dates: list[dt.date | None] = [None, *timeline_dates(sc, until)]
    rows: list[dict[str, Any]] = []
    for as_of in dates:
        t0 = time.perf_counter()
        try:
            fc = forecast(sc, as_of, **kwargs)
            row = timeline_row(fc, summary(fc, time.perf_counter() - t0))
        except RecordNotMatched as exc:
            row = {"as_of": as_of.isoformat() if as_of else None, "p": None, "low": None, "high": None, "ess": None,
                   "prior": rows[0]["prior"] if rows else None, "warnings": [], "refused": str(exc),
                   "news": [] if as_of is None else labels(sc, as_of)}
        row["seconds"] = round(time.perf_counter() - t0, 2)
        rows.append(row)
        if done:
            done(row)
    return rows
