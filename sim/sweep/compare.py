"""A what-if against a baseline on the same worlds, with paired confidence intervals.

Both scenarios run the same replications with the same seed; wherever they share a
random stream (same parameter paths, calendar, events) they share its draws, so a
difference between them is the effect of what differs, not sampling noise. Every figure
is *what-if minus baseline*: a positive difference means the what-if makes it more likely
or larger. Each milestone's probability before the summit and each common term is compared
replication by replication: the paired interval, and for contrast the interval two
independent runs of the same size would give. A categorical issue is compared by the share
of deals that settle on each of its levels.

Comparing scenarios whose sides, calendars or agendas differ is allowed (one may ask how a
different calendar moves the odds) but :func:`mismatches` says what differs, since the
replications then share fewer draws and "before the summit" means two different dates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sim import analysis, records, runner
from sim.negotiation.agenda import Issue
from sim.scenario import MILESTONES, Scenario

TAGS = ("baseline", "whatif")


def mismatches(baseline: Scenario, whatif: Scenario) -> list[str]:
    """What differs between two scenarios in ways that change what a paired comparison means.

    Returns:
        One sentence per difference (empty when the two share sides, calendar and agenda).
    """
    out: list[str] = []
    b, w = baseline, whatif
    if b.party_keys != w.party_keys:
        out.append(f"the sides differ ({', '.join(b.party_keys)} vs {', '.join(w.party_keys)}): the replications "
                   "share fewer random draws, so the paired interval is less tight")
    for what, x, y in (("start", b.start, w.start), ("summit", b.deadline, w.deadline),
                       ("horizon", b.horizon, w.horizon)):
        if x != y:
            out.append(f"the {what} differs ({x} vs {y}): 'before the summit' means a different date in each")
    if b.headline != w.headline:
        out.append(f"the headline milestone differs ({b.headline} vs {w.headline})")
    issues = {i.key: i for i in w.issues}
    only = [i.key for i in b.issues if i.key not in issues] + [k for k in issues if k not in b.issue_keys]
    if only:
        out.append(f"issues on one agenda only are not compared: {', '.join(only)}")
    comparable = {i.key for i in common_issues(b, w)}
    for i in b.issues:
        j = issues.get(i.key)
        if j is not None and i.key not in comparable:
            out.append(f"issue {i.key!r} has different units or levels ({i.unit or i.levels} vs "
                       f"{j.unit or j.levels}); it is not compared")
    return out


def common_issues(baseline: Scenario, whatif: Scenario) -> list[Issue]:
    """The baseline's issues the what-if shares with the same key, unit and levels (the ones compared)."""
    theirs = {i.key: i for i in whatif.issues}
    return [i for i in baseline.issues
            if (j := theirs.get(i.key)) is not None and (i.unit, i.levels) == (j.unit, j.levels)]


def _masked(path: Path, name: str, keep: np.ndarray) -> np.ndarray:
    """A column as floats, NaN where ``keep`` is false."""
    values = records.column(path, name).astype(np.float64)
    values[~keep] = np.nan
    return values


def compare(baseline: Scenario, whatif: Scenario, *, runs: int, seed: int, out_dir: Path, workers: int = 1,
            engine: str = "batch", progress: Callable[[int], Any] | None = None) -> dict[str, Any]:
    """Run both scenarios on the same seeds and compare them.

    Args:
        baseline: The scenario compared against.
        whatif: The changed scenario.
        runs: Replications of each.
        seed: The run seed (the same for both: common random numbers).
        out_dir: Folder for ``baseline/``, ``whatif/`` and ``compare.json``.
        workers: Worker processes.
        engine: ``"batch"`` or ``"mesa"``.
        progress: Called with the number of replications each finished chunk adds.

    Returns:
        The comparison (also in ``compare.json``): for each milestone the paired difference
        (what-if − baseline) of P(before the summit); for each common numeric issue the paired
        difference of the agreed value over the worlds where both reach the headline milestone
        before the summit; for each common categorical issue the difference in the share of
        those deals settling on each level.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    results = [runner.run(sc, n=runs, seed=seed, out_dir=out_dir / tag, workers=workers, engine=engine,
                          progress=progress) for tag, sc in zip(TAGS, (baseline, whatif), strict=True)]
    paths = [r.out_dir / records.RUNS for r in results]
    warnings = mismatches(baseline, whatif)
    out: dict[str, Any] = {"baseline": baseline.name, "whatif": whatif.name, "baseline_file": baseline.path,
                           "whatif_file": whatif.path, "runs": runs, "seed": seed, "engine": engine,
                           "difference": "what-if minus baseline", "warnings": warnings, "milestones": {},
                           "terms": {}, "levels": {}}
    ran = [records.completed(p) for p in paths]  # replications that raised count as NaN, not as "no"
    for m in MILESTONES:
        b, w = (_masked(p, f"{m}_before_summit", ok) for p, ok in zip(paths, ran, strict=True))
        out["milestones"][m] = analysis.paired_difference(w, b)
    head = baseline.headline
    deal = [records.column(p, f"{head}_before_summit").astype(bool) for p in paths]
    out["terms_set"] = f"worlds where both reach {MILESTONES[head]} before the summit"
    for issue in common_issues(baseline, whatif):
        b, w = (_masked(p, f"term.{issue.key}", d) for p, d in zip(paths, deal, strict=True))
        if issue.levels:
            both = ~(np.isnan(b) | np.isnan(w))
            out["levels"][issue.key] = {
                "label": issue.label,
                "by_level": {name: analysis.paired_difference((w[both] == k).astype(float),
                                                              (b[both] == k).astype(float))
                             for k, name in enumerate(issue.levels)}}
        else:
            out["terms"][issue.key] = analysis.paired_difference(w, b) | {"unit": issue.unit, "label": issue.label}
    records.write_json(out_dir / "compare.json", out)
    return out


def report(result: dict[str, Any]) -> list[str]:
    """The comparison as terminal lines (differences are what-if − baseline)."""
    rows: list[tuple[str, dict[str, Any], float, str]] = []  # name, difference, scale, baseline → what-if
    for m, d in result["milestones"].items():
        rows.append((MILESTONES[m], d, 100, f"{d['mean_b']:.3f} → {d['mean_a']:.3f}"))
    terms_at = len(rows)
    for key, d in result["terms"].items():
        unit = f" {d['unit']}" if d["unit"] else ""
        rows.append((f"{key}{f' ({d['unit']})' if d['unit'] else ''}", d, 1,
                     f"{d['mean_b']:.2f}{unit} → {d['mean_a']:.2f}{unit} (n={d['n']:,})"))
    for key, cat in result["levels"].items():
        for name, d in cat["by_level"].items():
            rows.append((f"{key} = {name} (% of deals)", d, 100,
                         f"{100 * d['mean_b']:.1f}% → {100 * d['mean_a']:.1f}% (n={d['n']:,})"))
    w = max(len(r[0]) for r in rows)
    lines = [f"{result['whatif']} − {result['baseline']} (what-if minus baseline), same {result['runs']:,} seeds "
             f"(seed {result['seed']}):",
             f"  {'P(before the summit), points':<{w}}  {'diff':>7}  {'paired 95%':<18}  {'unpaired 95%':<18}  "
             "baseline → what-if"]
    for k, (name, d, scale, tail) in enumerate(rows):
        if k == terms_at:
            lines.append(f"  terms, on {result['terms_set']}:")
        x = [d[c] * scale for c in ("diff", "low", "high", "unpaired_low", "unpaired_high")]
        lines.append(f"  {name:<{w}}  {x[0]:>+7.2f}  {f'[{x[1]:+.2f}, {x[2]:+.2f}]':<18}  "
                     f"{f'[{x[3]:+.2f}, {x[4]:+.2f}]':<18}  {tail}")
    return lines
