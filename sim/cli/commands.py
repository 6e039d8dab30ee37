"""The commands: each reads its arguments, calls the library, and prints what came of it."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

from sim import analysis, plots, records, runner
from sim.scenario import MILESTONES, Scenario, load_scenario

RESULTS = Path("results")


class UsageError(Exception):
    """Bad command-line input; the message says what and where."""


def _folder(out: str | None, default: Path, *, empty: bool = True) -> Path:
    """The output folder (``--out`` or ``default``), claimed for this process (see
    :func:`sim.records.claim_dir`): checked writable before any work starts."""
    return records.claim_dir(Path(out) if out else default, empty=empty)


def _note(text: str) -> None:
    """A line on stderr, at once (a long wait explained)."""
    print(f"note: {text}", file=sys.stderr, flush=True)


def _write_summary(scenario: Scenario, out_dir: Path, make_plots: bool) -> dict:
    runs = out_dir / records.RUNS
    summary = analysis.summarize(runs, scenario)
    records.write_json(out_dir / "summary.json", summary)
    if make_plots:
        plots.plot_run(runs, scenario, summary, out_dir)
    return summary


def cmd_run(args: argparse.Namespace) -> int:
    """``run``: N replications of a scenario, summarised and plotted."""
    scenario = load_scenario(args.scenario, dict(args.set))
    out_dir = _folder(args.out, records.new_run_dir(RESULTS, scenario))
    runner.warm_up(scenario, args.engine, note=_note)
    with runner.progress_bar(args.runs, "rep", scenario.name, args.quiet) as bar:
        result = runner.run(scenario, n=args.runs, seed=args.seed, out_dir=out_dir, workers=args.workers,
                            chunk_size=args.chunk_size, engine=args.engine, progress=bar.update,
                            settings=dict(args.set))
    if result.interrupted and result.completed == 0:
        print(f"Interrupted before the first chunk finished: nothing to keep ({out_dir}/manifest.json says so).",
              file=sys.stderr)
        return 130
    summary = _write_summary(scenario, out_dir, not args.no_plots)
    print("\n".join(analysis.report(summary)))
    print(f"{result.completed:,} replications in {result.wall_seconds:.1f} s "
          f"({result.completed / max(result.wall_seconds, 1e-9):,.0f}/s, {args.workers} worker(s))")
    print(f"Results: {out_dir}/ (runs/, summary.json, manifest.json"
          + (", milestones.png, closing_day.png, terms.png, utility_plane.png)" if not args.no_plots else ")"))
    if result.interrupted:
        print(f"Interrupted: kept the {result.completed:,} replications of the finished chunks.", file=sys.stderr)
        return 130
    if result.failures:
        print(f"{result.failures:,} replication(s) failed; their errors are in runs/ (column 'error').",
              file=sys.stderr)
        return 1
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    """``forecast``: the scenario conditioned on its record as of a date (or a timeline of them)."""
    import dataclasses

    from sim.forecast import conditioning as forecast
    from sim.forecast import priors
    from sim.forecast import report as forecast_report

    scenario = load_scenario(args.scenario, dict(args.set), args.news)
    if scenario.record is None and args.as_of is not None:
        print(f"note: {scenario.path} has no [record]: the forecast conditions only on no agreement by "
              f"{args.as_of}", file=sys.stderr)
    forecast.evidence(scenario, args.as_of)  # a bad date is refused before anything runs
    settings = {"seed": args.seed, "workers": args.workers, "particles": args.particles,
                "target_ess": args.target_ess, "engine": args.engine}
    learned = priors.load_learned() if args.priors == "learned" else None

    def progress(row: dict) -> None:
        if not args.quiet:
            print(f"  population {row['population']}: {row['particles']:,} particles, λ = {row['lambda']:.3f}, "
                  f"ESS {row['ess']:,.0f}", file=sys.stderr, flush=True)

    if args.timeline:
        folder = _folder(args.out, records.new_run_dir(RESULTS, scenario, "timeline-"))
        runner.warm_up(scenario, args.engine, note=_note)
        dates = 1 + len(forecast_report.timeline_dates(scenario, args.as_of))
        print(f"P({MILESTONES[scenario.headline]} by {scenario.deadline} | record to date), {dates} forecasts:",
              flush=True)
        finished = 0

        def done(r: dict) -> None:
            nonlocal finished
            finished += 1
            news = "; ".join(r["news"])[:70]
            if r["p"] is None:
                print(f"  [{finished}/{dates}] {r['as_of']:<10}  no forecast: the record could not be matched  "
                      f"{news}", flush=True)
            else:
                print(f"  [{finished}/{dates}] {r['as_of'] or 'no record':<10}  {r['p']:.3f} [{r['low']:.3f}, "
                      f"{r['high']:.3f}]  ESS {r['ess']:>8,.0f}  {r['seconds']:5.1f} s  {news}", flush=True)

        rows = forecast_report.timeline(scenario, args.as_of, done=done, priors=args.priors, **settings)
        records.write_json(folder / "timeline.json", {"scenario": scenario.name, "rows": rows, **settings})
        used = priors.in_words(learned)
        plots.save_figure(forecast_report.timeline_figure(scenario, rows, used), folder / "timeline.png")
        print(f"Results: {folder}/ (timeline.json, timeline.png)")
        refused = [r for r in rows if r["p"] is None]
        for r in refused:
            print(f"error: as of {r['as_of']}: {r['refused']}", file=sys.stderr)
        return 1 if refused else 0
    out_dir = _folder(args.out, records.new_run_dir(RESULTS, scenario, f"forecast-{args.as_of or 'prior'}-"))
    runner.warm_up(scenario, args.engine, note=_note)
    t0 = time.perf_counter()
    if learned is not None and not args.quiet:
        print("  with the scenario's own (judgement) priors:", file=sys.stderr, flush=True)
    judgement = forecast.forecast(scenario, args.as_of, progress=progress, **settings)

    def announce(h: priors.Hyper, w: float) -> None:
        if not args.quiet:
            print(f"  with the learned priors' point {h.label()} (weight {w:.3f}):", file=sys.stderr, flush=True)

    fc = priors.forecast(scenario, args.as_of, priors=args.priors, judgement=judgement, announce=announce,
                         progress=progress, **settings)
    extra: dict = {}
    if learned is not None:
        j = judgement.probabilities()[scenario.headline]["forecast"]["before_summit"]
        extra = {"judgement_priors": {"p": j["p"], "low": j["low"], "high": j["high"], "ess": judgement.result.ess},
                 "priors": {"learned": [{**dataclasses.asdict(h), "weight": w}
                                        for h, w in learned.points_for(scenario.kind)],
                            "kind": scenario.kind or None}}
    data = forecast_report.write(fc, out_dir, time.perf_counter() - t0, make_plots=not args.no_plots, extra=extra)
    print(forecast_report.headline(data))
    if learned is not None:
        j = extra["judgement_priors"]
        print(f"  with priors learned across the case library ({learned.describe(scenario.kind)}; "
              "scenarios/library/learned.toml)")
        if learned.track_record is not None:
            print(f"  their track record: {learned.track_record_in_words(scenario.kind)} (docs/BACKTEST.md)")
        print(f"  with the scenario's own judgement priors: {j['p']:.2f} [{j['low']:.2f}, {j['high']:.2f}], "
              f"ESS {j['ess']:,.0f} (--priors judgement)")
    print("\n".join(forecast_report.report(data)[1:]))
    for warning in data["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Results: {out_dir}/ (runs/, forecast.json, summary.json, manifest.json"
          + (", posterior.png, milestones.png, closing_day.png, terms.png, utility_plane.png)" if not args.no_plots
             else ")"))
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    """``backtest``: forecasts of real cases from their dates, scored against what happened."""
    import glob

    from sim.forecast import backtest, backtest_report
    from sim.forecast.cases import load_case

    if args.report or args.cross_validate:
        return _backtest_cross_validated(args)
    if not args.cases:
        raise UsageError("give case files (scenarios/cases/*.toml), or --cross-validate (or --report) to run the "
                         "library and every case file")
    cases = [load_case(p) for p in args.cases or sorted(glob.glob("scenarios/cases/*.toml"))]
    settings = {"seed": args.seed, "workers": args.workers, "particles": args.particles, "target_ess": args.target_ess}
    folder = _folder(args.out, RESULTS / "backtest" / time.strftime("%Y%m%d-%H%M%S"))

    def progress(text: str) -> None:
        if not args.quiet:
            print(f"  {text}", file=sys.stderr, flush=True)

    rows = backtest.run(cases, progress=progress, **settings)
    summary = backtest.summarize(rows)
    backtest_report.write(folder, rows, summary, settings)
    print("\n".join(backtest_report.lines(rows, summary)))
    print(f"Results: {folder}/ (backtest.json, reliability.png, pit.png)")
    return 0


def _backtest_cross_validated(args: argparse.Namespace) -> int:
    """``backtest --cross-validate``: the library and case files, each with priors learned without its group."""
    import shutil

    from sim.forecast import backtest, backtest_report, priors
    from sim.forecast.library import case_files, default_path, load_all

    library = Path(args.library) if args.library else default_path()
    files = [Path(p) for p in args.cases] if args.cases else case_files(library)
    cases = load_all(library, files)  # every row and file validated before anything runs
    settings = {"seed": args.seed, "particles": args.particles, "target_ess": args.target_ess}
    folder = _folder(args.out, RESULTS / "backtest" / time.strftime("cv-%Y%m%d-%H%M%S"))
    total = len(cases) * len(priors.GRID)
    if not args.quiet:
        print(f"{sum(len(c.forecast_dates) for c in cases)} forecast dates of {len(cases)} cases at "
              f"{len(priors.GRID)} grid points: {total:,} tasks on {args.workers} {args.executor} worker(s)",
              file=sys.stderr, flush=True)
    runner.warm_up(cases[0].scenario, note=_note)
    t0 = time.perf_counter()
    step = max(1, total // 20)

    def progress(done: int, n: int) -> None:
        if not args.quiet and (done % step == 0 or done == n):
            print(f"  [{done:,}/{n:,}] {time.perf_counter() - t0:,.0f} s", file=sys.stderr, flush=True)

    g = backtest.grid(cases, workers=args.workers, executor=args.executor, scheduler=args.scheduler,
                      progress=progress, **settings)
    cv = backtest.cross_validate(g)
    cv["seconds"] = time.perf_counter() - t0
    figures = backtest_report.cv_write(folder, cv, settings, cases)
    print("\n".join(backtest_report.cv_lines(cv)))
    print(f"Results: {folder}/ (backtest.json, reliability.png, pit.png, learned_priors.png)")
    sources = [library, *library.parent.glob("templates/*.toml"), *files]
    if args.report or args.write_priors:
        out = library.parent / "learned.toml"
        priors.write_learned(out, np.array(cv["weights"]), fingerprint_=priors.fingerprint(sources),
                             seed=args.seed, particles=args.particles, target_ess=args.target_ess,
                             cases=len(cases), forecasts=cv["summary"]["forecasts"],
                             command="python -m sim " + " ".join(sys.argv[1:]),
                             kinds={kind: np.array(w) for kind, w in cv["kinds"].items()},
                             track_record=backtest.track_record(cv))
        print(f"Learned priors: {out}")
    if args.report:
        docs = Path("docs")
        (docs / "img").mkdir(parents=True, exist_ok=True)
        for fig in figures:
            shutil.copyfile(fig, docs / "img" / f"backtest_{fig.name}")
        with records.atomic_write(docs / "BACKTEST.md") as tmp:
            tmp.write_text(backtest_report.cv_markdown(cv, settings, "python -m sim " + " ".join(sys.argv[1:])))
        print(f"Report: {docs / 'BACKTEST.md'}")
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    """``trace``: one replication told day by day, with its dance plot."""
    from sim.model import NegotiationModel
    from sim.trace import narrative
    from sim.world import sample_worlds

    scenario = load_scenario(args.scenario)
    out_dir = _folder(args.out, RESULTS / scenario.name / f"trace-seed{args.seed}-rep{args.replication}", empty=False)
    model = NegotiationModel(scenario, sample_worlds(scenario, args.seed, args.replication, 1).row(0), trace=True)
    model.run()
    text = narrative(model)
    print("\n".join(text))
    with records.atomic_write(out_dir / "narrative.txt") as tmp:
        tmp.write_text("\n".join(text) + "\n")
    print(f"Dance plot: {plots.plot_dance(model, out_dir / 'dance.png')}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """``plot``: remake a run folder's summary and figures."""
    import json

    folder = Path(args.folder)
    runs_path, manifest_path = folder / records.RUNS, folder / "manifest.json"
    for p in (runs_path, manifest_path):
        if not p.exists():
            raise UsageError(f"{p}: not found; expected a folder written by 'python -m sim run'")
    try:
        manifest = records.read_json(manifest_path)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{manifest_path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or not (args.scenario or manifest.get("scenario_file")):
        raise UsageError(f"{manifest_path}: no scenario_file; give --scenario")
    settings = {k: dt.date.fromisoformat(v) if isinstance(v, str) else v
                for k, v in (manifest.get("settings") or {}).items()}  # the run's --set
    scenario = load_scenario(args.scenario or manifest["scenario_file"], settings)
    names = set(records.dataset(runs_path).schema.names)
    missing = [n for n in records.schema(scenario).names if n not in names]
    if missing:
        raise UsageError(f"{runs_path}: these records are not of {scenario.path} (no column {', '.join(missing[:3])}"
                         f"{'…' if len(missing) > 3 else ''}); give the run's scenario with --scenario")
    if scenario.sha256 != manifest.get("scenario_sha256"):
        print(f"warning: {scenario.path} is not the text this run used (its sha256 differs); plots use its current "
              "text for labels and reference lines", file=sys.stderr)
    summary = _write_summary(scenario, folder, True)
    print("\n".join(analysis.report(summary)))
    print(f"Plots written to {folder}/")
    return 0


def _factors(args: argparse.Namespace, scenario: Scenario) -> tuple:
    from sim.sweep.design import declared_factors, parse_vary, uncertain_factors

    if args.vary:
        return tuple(parse_vary(v, scenario) for v in args.vary)
    return declared_factors(scenario) if args.declared else uncertain_factors(scenario)


def _sweep(args: argparse.Namespace, kind: str) -> int:
    from sim.sweep import report as sweep_report
    from sim.sweep import run as sweep
    from sim.sweep.design import DesignError, make_design

    if args.resume:
        folder = Path(args.resume)
        if args.scenario or args.vary:
            raise UsageError("--resume DIR continues the sweep recorded in DIR; give no scenario or --vary with it")
        try:
            manifest, _ = sweep.load(folder)
        except sweep.SweepError as exc:
            raise UsageError(str(exc)) from None
        records.claim_dir(folder, empty=False)
    else:
        if not args.scenario:
            raise UsageError("give a scenario file (or --resume DIR)")
        scenario = load_scenario(args.scenario)
        method = args.method if kind == "sensitivity" else args.design
        try:
            design = make_design(method, _factors(args, scenario), n=args.n if kind == "sensitivity" else args.points,
                                 seed=args.seed, levels=getattr(args, "levels", 5))
            folder = _folder(args.out, records.new_run_dir(RESULTS, scenario, f"{kind}-"))
            sweep.start(folder, scenario, design, kind=kind, runs=args.runs, seed=args.seed, engine=args.engine,
                        save_runs=args.save_runs, command=sys.argv)
        except (DesignError, sweep.SweepError) as exc:
            raise UsageError(str(exc)) from None
        manifest = records.read_json(folder / "manifest.json")
    runner.warm_up(load_scenario(manifest["scenario_file"]), manifest["engine"], note=_note)
    with runner.progress_bar(manifest["points"], "point", manifest["scenario"], args.quiet) as bar:
        def progress(done: int, total: int) -> None:
            bar.n = done
            bar.refresh()

        try:
            result = sweep.run_sweep(folder, workers=args.workers, executor=args.executor, scheduler=args.scheduler,
                                     progress=progress)
        except sweep.SweepError as exc:
            raise UsageError(str(exc)) from None
    print(f"{result.done:,} of {result.points:,} points ({manifest['runs']:,} replications each) "
          f"in {result.wall_seconds:.1f} s; results in {folder}/")
    if result.interrupted:
        print(f"Interrupted. Continue with: python -m sim {kind} --resume {folder}", file=sys.stderr)
        return 130
    made = sweep_report.finish(folder, milestone=args.milestone, threshold=args.threshold)
    print("\n".join(sweep_report.lines(folder, made, args.milestone, args.threshold)))
    if result.failed:
        print(f"{result.failed} point(s) failed; see the 'error' column of points.parquet", file=sys.stderr)
        return 1
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``sweep``: run a design of points (see :func:`_sweep`)."""
    return _sweep(args, "sweep")


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``sensitivity``: a Sobol or Morris design, with its indices."""
    return _sweep(args, "sensitivity")


def cmd_compare(args: argparse.Namespace) -> int:
    """``compare``: a what-if against a baseline on the same worlds, with paired intervals."""
    from sim.sweep import compare
    from sim.sweep import report as sweep_report

    base, whatif = load_scenario(args.baseline), load_scenario(args.whatif)
    for warning in compare.mismatches(base, whatif):
        print(f"warning: {warning}", file=sys.stderr)
    out_dir = _folder(args.out, records.new_run_dir(RESULTS, base, f"compare-{whatif.name}-"))
    runner.warm_up(base, args.engine, note=_note)
    with runner.progress_bar(2 * args.runs, "rep", f"{whatif.name} vs {base.name}", args.quiet) as bar:
        result = compare.compare(base, whatif, runs=args.runs, seed=args.seed, out_dir=out_dir, workers=args.workers,
                                 engine=args.engine, progress=bar.update)
    print("\n".join(compare.report(result)))
    days = [records.days(out_dir / tag / records.RUNS, f"{base.headline}_day") for tag in ("baseline", "whatif")]
    sweep_report.plot_compare(days, [base, whatif], base.headline, out_dir / "compare.png")
    print(f"Results: {out_dir}/ (compare.json, compare.png, baseline/, whatif/)")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    """``params``: every numeric field of a scenario, by dotted path, with its value and valid range."""
    sc = load_scenario(args.scenario)
    values = {p.path: p for p in sc.uncertain}
    fixed = _fixed_values(sc)
    rows = []
    for path, b in sc.numbers.items():
        rng = f"({b.lo:g}, {b.hi:g}]" if b.positive else f"[{b.lo:g}, {b.hi:g}]"
        if path in values:
            value = str(values[path].value.describe()) if values[path].uncertain else ""  # type: ignore[union-attr]
        else:
            value = f"{fixed[path]:g}" if path in fixed else "(default)"
        rows.append((path, value, rng))
    wp, wv = (max(len(r[k]) for r in rows) for k in (0, 1))
    print(f"{'parameter (dotted path)':<{wp}}  {'value':<{wv}}  valid range")
    for path, value, rng in rows:
        print(f"{path:<{wp}}  {value:<{wv}}  {rng}")
    for f in sc.factors:
        print(f"declared {f.kind}: {f.path} in [{f.low:g}, {f.high:g}]")
    return 0


def _fixed_values(sc: Scenario) -> dict[str, float]:
    """The value of every fixed numeric field."""
    from sim.scenario import params_by_path

    out = {path: p.fixed for path, p in params_by_path(sc).items() if not p.uncertain}
    for k, issue in enumerate(sc.issues):  # the agenda's bounds are plain numbers, not parameters
        out |= {f"issues[{k}].low": issue.low, f"issues[{k}].high": issue.high}
    return out


def cmd_validate(args: argparse.Namespace) -> int:
    """``validate``: the checks against bargaining theory; rewrites docs/VALIDATION.md."""
    from sim import validation

    out = Path(args.out)
    print(f"{len(validation.CHECKS)} groups of checks (a few minutes: the calibration runs 200 forecasts); "
          "each line as it finishes:", flush=True)
    t0 = time.perf_counter()

    def done(c: validation.Check) -> None:
        print(f"{'pass' if c.passed else 'FAIL'}  [{time.perf_counter() - t0:6.1f} s] {c.group} — {c.name}: expected "
              f"{c.expected}, measured {c.measured}", flush=True)

    def starting(name: str) -> None:
        print(f"      [{time.perf_counter() - t0:6.1f} s] running: {name}…", flush=True)

    checks = validation.run_all(out.parent / "img", done=done, starting=starting)
    with records.atomic_write(out) as tmp:
        tmp.write_text(validation.report(checks))
    failed = sum(not c.passed for c in checks)
    print(f"{len(checks) - failed} of {len(checks)} checks pass; report: {out}")
    return 1 if failed else 0


def cmd_app(args: argparse.Namespace) -> int:
    """``app``: serve the interactive page (offline: no telemetry, no version check)."""
    import os

    from sim.app import CULL_TIMEOUT, WARM_UP

    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "SOLARA_KERNEL_CULL_TIMEOUT": CULL_TIMEOUT,
           WARM_UP: "1",  # the first answer computed as the server starts
           # solara warns once per visitor that a cookie cannot be SameSite=None over plain http
           "PYTHONWARNINGS": "ignore:Cookies with samesite=none require https:UserWarning"}
    cmd = [sys.executable, "-m", "solara", "run", "sim.app", "--host", args.host, "--port", str(args.port),
           "--production", "--no-check-version"]
    print(f"Serving the page on http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    os.execve(sys.executable, cmd, env)  # solara's server takes over this process
    return 0  # not reached


def cmd_check(args: argparse.Namespace) -> int:
    """``check``: validate scenario and case files, and the case library's table."""
    from sim.forecast.cases import load_case
    from sim.forecast.library import load_library
    from sim.scenario import find_scenario, read_document

    for path in args.scenarios:
        document, _ = read_document(find_scenario(path))  # read as every file is: safely, with a size cap
        if "library" in document and "cases" in document:
            cases = load_library(find_scenario(path))
            print(f"{path}: ok — a case library of {len(cases)} cases with open forecast dates in "
                  f"{len({c.group for c in cases})} groups, {sum(len(c.forecast_dates) for c in cases)} forecast dates")
            continue
        if "case" in document:
            case = load_case(path)
            print(f"{path}: ok — case {case.title}; {len(case.forecast_dates)} forecast dates, "
                  f"{len(case.outcomes)} outcome(s)")
            continue
        sc = load_scenario(path)
        record = f", a record of {len(sc.record.positions)} positions" if sc.record else ""
        print(f"{path}: ok — {sc.title}; {len(sc.issues)} issues, sides {', '.join(sc.party_keys)}, "
              f"{len(sc.meetings)} scheduled meetings, {len(sc.events)} events, "
              f"{len(sc.uncertain)} uncertain parameters{record}; {sc.start} → summit {sc.deadline} → {sc.horizon}")
    return 0
