"""Command-line interface: ``python -m sim <command>`` (run, forecast, sweep, sensitivity, compare, trace, plot,
validate, app, check, params).

Exit codes: 0 success; 1 some replications failed; 2 bad input (scenario file,
arguments, results folder); 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from sim import analysis, plots, records, runner
from sim.scenario import MILESTONES, Scenario, ScenarioError, load_scenario

RESULTS = Path("results")


class UsageError(Exception):
    """Bad command-line input; the message says what and where."""


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _seed(value: str) -> int:
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {n}")
    return n


def _fresh_dir(path: Path) -> Path:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UsageError(f"{path}: output folder exists and is not empty; choose another --out")
    if path.is_dir():
        path.rmdir()  # runner creates it, so a crash leaves no empty folder behind
    return path


def _write_summary(scenario: Scenario, out_dir: Path, make_plots: bool) -> dict:
    runs = out_dir / records.RUNS
    summary = analysis.summarize(runs, scenario)
    records.write_json(out_dir / "summary.json", summary)
    if make_plots:
        plots.plot_run(runs, scenario, summary, out_dir)
    return summary


def cmd_run(args: argparse.Namespace) -> int:
    """``run``: N replications of a scenario, summarised and plotted."""
    scenario = load_scenario(args.scenario)
    out_dir = _fresh_dir(Path(args.out)) if args.out else records.new_run_dir(RESULTS, scenario)
    runner.warm_up(scenario, args.engine)
    with runner.progress_bar(args.runs, "rep", scenario.name, args.quiet) as bar:
        result = runner.run(scenario, n=args.runs, seed=args.seed, out_dir=out_dir, workers=args.workers,
                            chunk_size=args.chunk_size, engine=args.engine, progress=bar.update)
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


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2025-10-25, got {value!r}") from None


def cmd_forecast(args: argparse.Namespace) -> int:
    """``forecast``: the scenario conditioned on its record as of a date (or a timeline of them)."""
    import time

    from sim import forecast, forecast_report

    scenario = load_scenario(args.scenario)
    if scenario.record is None and not args.timeline and args.as_of is not None:
        print(f"note: {scenario.path} has no [record]: the forecast conditions only on no agreement by "
              f"{args.as_of}", file=sys.stderr)
    settings = {"seed": args.seed, "workers": args.workers, "particles": args.particles,
                "target_ess": args.target_ess, "engine": args.engine}

    def progress(row: dict) -> None:
        if not args.quiet:
            print(f"  population {row['population']}: {row['particles']:,} particles, λ = {row['lambda']:.3f}, "
                  f"ESS {row['ess']:,.0f}", file=sys.stderr, flush=True)

    try:
        forecast.evidence(scenario, args.as_of)  # a bad date is refused before anything runs
        runner.warm_up(scenario, args.engine)
        if args.timeline:
            folder = _fresh_dir(Path(args.out)) if args.out else records.new_run_dir(RESULTS, scenario, "timeline-")
            rows = forecast_report.timeline(scenario, args.as_of, **settings)
            folder.mkdir(parents=True)
            records.write_json(folder / "timeline.json", {"scenario": scenario.name, "rows": rows, **settings})
            plots.save_figure(forecast_report.timeline_figure(scenario, rows), folder / "timeline.png")
            print(f"P({MILESTONES[scenario.headline]} by {scenario.deadline} | record to date):")
            for r in rows:
                print(f"  {r['as_of'] or 'no record':<10}  {r['p']:.3f} [{r['low']:.3f}, {r['high']:.3f}]  "
                      f"ESS {r['ess']:>8,.0f}  {'; '.join(r['news'])[:70]}")
            print(f"Results: {folder}/ (timeline.json, timeline.png)")
            return 0
        out_dir = _fresh_dir(Path(args.out)) if args.out else records.new_run_dir(
            RESULTS, scenario, f"forecast-{args.as_of or 'prior'}-")
        t0 = time.perf_counter()
        fc = forecast.forecast(scenario, args.as_of, progress=progress, **settings)
        data = forecast_report.write(fc, out_dir, time.perf_counter() - t0, make_plots=not args.no_plots)
    except forecast.ForecastError as exc:
        raise UsageError(str(exc)) from None
    print(forecast_report.headline(data))
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
    import shutil

    from sim import backtest, backtest_report
    from sim.cases import load_case

    paths = args.cases or (sorted(glob.glob("scenarios/cases/*.toml")) if args.report else [])
    if not paths:
        raise UsageError("give case files (scenarios/cases/*.toml), or --report to run them all")
    cases = [load_case(p) for p in paths]  # every file validated before anything runs
    settings = {"seed": args.seed, "workers": args.workers, "particles": args.particles, "target_ess": args.target_ess}
    folder = _fresh_dir(Path(args.out)) if args.out else RESULTS / "backtest" / records.new_run_dir(
        Path("."), cases[0].scenario).name

    def progress(text: str) -> None:
        if not args.quiet:
            print(f"  {text}", file=sys.stderr, flush=True)

    rows = backtest.run(cases, progress=progress, **settings)
    summary = backtest.summarize(rows)
    figures = backtest_report.write(folder, rows, summary, settings)
    print("\n".join(backtest_report.lines(rows, summary)))
    print(f"Results: {folder}/ (backtest.json, reliability.png, pit.png)")
    if args.report:
        docs = Path("docs")
        (docs / "img").mkdir(parents=True, exist_ok=True)
        for fig in figures:
            shutil.copyfile(fig, docs / "img" / f"backtest_{fig.name}")
        with records.atomic_write(docs / "BACKTEST.md") as tmp:
            tmp.write_text(backtest_report.markdown(rows, summary, settings, cases))
        print(f"Report: {docs / 'BACKTEST.md'}")
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    """``trace``: one replication told day by day, with its dance plot."""
    from sim.model import NegotiationModel
    from sim.trace import narrative
    from sim.world import sample_worlds

    scenario = load_scenario(args.scenario)
    out_dir = Path(args.out) if args.out else RESULTS / scenario.name / f"trace-seed{args.seed}-rep{args.replication}"
    world = sample_worlds(scenario, args.seed, args.replication, 1).row(0)
    model = NegotiationModel(scenario, world, trace=True)
    model.run()
    text = narrative(model)
    print("\n".join(text))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "narrative.txt").write_text("\n".join(text) + "\n")
    path = plots.plot_dance(model, out_dir / "dance.png")
    print(f"Dance plot: {path}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """``plot``: remake a run folder's summary and figures."""
    folder = Path(args.folder)
    runs_path, manifest_path = folder / records.RUNS, folder / "manifest.json"
    for p in (runs_path, manifest_path):
        if not p.exists():
            raise UsageError(f"{p}: not found; expected a folder written by 'python -m sim run'")
    manifest = records.read_json(manifest_path)
    scenario = load_scenario(args.scenario or manifest["scenario_file"])
    if scenario.sha256 != manifest.get("scenario_sha256"):
        print(f"warning: {scenario.path} has changed since this run; plots use its current text "
              "for labels and reference lines", file=sys.stderr)
    summary = _write_summary(scenario, folder, True)
    print("\n".join(analysis.report(summary)))
    print(f"Plots written to {folder}/")
    return 0


def _factors(args: argparse.Namespace, scenario: Scenario) -> tuple:
    from sim.design import declared_factors, parse_vary

    return tuple(parse_vary(v, scenario) for v in args.vary) if args.vary else declared_factors(scenario)


def _sweep(args: argparse.Namespace, kind: str) -> int:
    from sim import sweep, sweep_report
    from sim.design import DesignError, make_design

    if args.resume:
        folder = Path(args.resume)
        if args.scenario or args.vary:
            raise UsageError("--resume DIR continues the sweep recorded in DIR; give no scenario or --vary with it")
        try:
            manifest, _ = sweep.load(folder)
        except sweep.SweepError as exc:
            raise UsageError(str(exc)) from None
    else:
        if not args.scenario:
            raise UsageError("give a scenario file (or --resume DIR)")
        scenario = load_scenario(args.scenario)
        method = args.method if kind == "sensitivity" else args.design
        try:
            design = make_design(method, _factors(args, scenario), n=args.n if kind == "sensitivity" else args.points,
                                 seed=args.seed, levels=getattr(args, "levels", 5))
            folder = _fresh_dir(Path(args.out)) if args.out else records.new_run_dir(RESULTS, scenario, f"{kind}-")
            sweep.start(folder, scenario, design, kind=kind, runs=args.runs, seed=args.seed, engine=args.engine,
                        save_runs=args.save_runs, command=sys.argv)
        except (DesignError, sweep.SweepError) as exc:
            raise UsageError(str(exc)) from None
        manifest = records.read_json(folder / "manifest.json")
    runner.warm_up(load_scenario(manifest["scenario_file"]), manifest["engine"])
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
    if "sensitivity" in made:
        si = made["sensitivity"]
        cols = ("S1", "ST") if si["method"] == "sobol" else ("mu_star", "sigma")
        print(f"  {'parameter':<44} {cols[0]:>8} {cols[1]:>8}")
        for k, name in enumerate(si["names"]):
            print(f"  {name:<44} {si[cols[0]][k]:>8.3f} {si[cols[1]][k]:>8.3f}")
    if "discovery" in made and made["discovery"]["found"]:
        box = made["discovery"]
        print(f"  PRIM box where P({args.milestone} before summit) >= {args.threshold:g}: density "
              f"{box['density']:.2f}, coverage {box['coverage']:.2f}")
        _, design = sweep.load(folder)
        for f, lo, hi in zip(design.factors, box["low"], box["high"], strict=True):
            if hi - lo < 0.99 * (f.high - f.low):  # only the factors the box restricts
                print(f"    {f.path}: [{lo:.4g}, {hi:.4g}] of [{f.low:g}, {f.high:g}]")
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
    """``compare``: two scenarios on the same worlds, with paired intervals."""
    from sim import compare, sweep_report

    a, b = load_scenario(args.a), load_scenario(args.b)
    out_dir = _fresh_dir(Path(args.out)) if args.out else records.new_run_dir(RESULTS, a, f"compare-{b.name}-")
    runner.warm_up(a, args.engine)
    with runner.progress_bar(2 * args.runs, "rep", f"{a.name} vs {b.name}", args.quiet) as bar:
        result = compare.compare(a, b, runs=args.runs, seed=args.seed, out_dir=out_dir, workers=args.workers,
                                 engine=args.engine, progress=bar.update)
    print("\n".join(compare.report(result)))
    days = [records.days(out_dir / tag / records.RUNS, f"{a.headline}_day") for tag in ("a", "b")]
    sweep_report.plot_compare(days, [a, b], a.headline, out_dir / "compare.png")
    print(f"Results: {out_dir}/ (compare.json, compare.png, a/, b/)")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    """``params``: every numeric field of a scenario, by dotted path, with its range."""
    sc = load_scenario(args.scenario)
    uncertain = {p.path for p in sc.uncertain}
    print(f"{'parameter (dotted path)':<56} valid range")
    for path, b in sc.numbers.items():
        rng = f"({b.lo:g}, {b.hi:g}]" if b.positive else f"[{b.lo:g}, {b.hi:g}]"
        print(f"{path:<56} {rng}{'   uncertain' if path in uncertain else ''}")
    for f in sc.factors:
        print(f"declared {f.kind}: {f.path} in [{f.low:g}, {f.high:g}]")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``validate``: the checks against bargaining theory; rewrites docs/VALIDATION.md."""
    from sim import validation

    out = Path(args.out)
    checks = validation.run_all(out.parent / "img")
    with records.atomic_write(out) as tmp:
        tmp.write_text(validation.report(checks))
    for c in checks:
        print(f"{'pass' if c.passed else 'FAIL'}  {c.group} — {c.name}: expected {c.expected}, measured {c.measured}")
    failed = sum(not c.passed for c in checks)
    print(f"{len(checks) - failed} of {len(checks)} checks pass; report: {out}")
    return 1 if failed else 0


def cmd_app(args: argparse.Namespace) -> int:
    """``app``: serve the interactive page."""
    import os

    app = Path(__file__).with_name("app.py")
    cmd = [sys.executable, "-m", "solara", "run", str(app), "--host", args.host, "--port", str(args.port),
           "--production"]
    print(f"Serving the page on http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    os.execv(sys.executable, cmd)  # solara's server takes over this process
    return 0  # not reached


def cmd_check(args: argparse.Namespace) -> int:
    """``check``: validate scenario files."""
    for path in args.scenarios:
        sc = load_scenario(path)
        print(f"{path}: ok — {sc.title}; {len(sc.issues)} issues, sides {', '.join(sc.party_keys)}, "
              f"{len(sc.meetings)} scheduled meetings, {len(sc.events)} events, "
              f"{len(sc.uncertain)} uncertain parameters; {sc.start} → summit {sc.deadline} → {sc.horizon}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    p = argparse.ArgumentParser(prog="python -m sim", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="Monte Carlo: N replications of a scenario")
    r.add_argument("scenario", help="scenario TOML file")
    r.add_argument("--runs", type=_positive, default=1000, help="number of replications (default 1000)")
    r.add_argument("--seed", type=_seed, default=0, help="run seed (default 0)")
    r.add_argument("--workers", type=_positive, default=1, help="worker processes (default 1)")
    r.add_argument("--chunk-size", type=_positive, help="replications per chunk (default: n/16, within 2,000-25,000 "
                                                         "for batch, 50-250 for mesa)")
    r.add_argument("--engine", choices=runner.ENGINES, default="batch",
                   help="batch: compiled, fast (default); mesa: the reference Mesa model, same results")
    r.add_argument("--out", help="output folder (default results/<scenario>/<timestamp>/)")
    r.add_argument("--no-plots", action="store_true", help="skip the figures")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)

    f = sub.add_parser("forecast", help="forecast conditioned on the scenario's record as of a date")
    f.add_argument("scenario", help="scenario TOML file (its [record] is the evidence)")
    f.add_argument("--as-of", type=_date, help="forecast date: the record up to it, and no agreement by it "
                                                "(default: no record, the prior)")
    f.add_argument("--timeline", action="store_true", help="a forecast as of every date with news (up to --as-of)")
    f.add_argument("--seed", type=_seed, default=0, help="run seed (default 0)")
    f.add_argument("--workers", type=_positive, default=1, help="worker processes (default 1)")
    f.add_argument("--particles", type=_positive, default=20_000,
                   help="particles per population, and replications of the prior (default 20,000)")
    f.add_argument("--target-ess", type=_positive, default=2_000, help="effective sample size to reach (default 2,000)")
    f.add_argument("--engine", choices=runner.ENGINES, default="batch")
    f.add_argument("--out", help="output folder (default results/<scenario>/forecast-<date>-<timestamp>/)")
    f.add_argument("--no-plots", action="store_true", help="skip the figures")
    f.add_argument("--quiet", action="store_true", help="no progress lines")
    f.set_defaults(func=cmd_forecast)

    bt = sub.add_parser("backtest", help="score forecasts of real cases (scenarios/cases/) against what happened")
    bt.add_argument("cases", nargs="*", help="case files (with --report and none: scenarios/cases/*.toml)")
    bt.add_argument("--seed", type=_seed, default=0)
    bt.add_argument("--workers", type=_positive, default=1)
    bt.add_argument("--particles", type=_positive, default=10_000, help="particles per population (default 10,000)")
    bt.add_argument("--target-ess", type=_positive, default=1_000, help="effective sample size per forecast")
    bt.add_argument("--out", help="output folder (default results/backtest/<timestamp>/)")
    bt.add_argument("--report", action="store_true", help="also write docs/BACKTEST.md and its figures")
    bt.add_argument("--quiet", action="store_true")
    bt.set_defaults(func=cmd_backtest)

    t = sub.add_parser("trace", help="one replication, day by day, with its 'dance' plot")
    t.add_argument("scenario")
    t.add_argument("--seed", type=_seed, default=0)
    t.add_argument("--replication", type=_seed, default=0, help="replication index within the run")
    t.add_argument("--out", help="folder for dance.png and narrative.txt")
    t.set_defaults(func=cmd_trace)

    pl = sub.add_parser("plot", help="(re)make the summary and figures of a run folder")
    pl.add_argument("folder")
    pl.add_argument("--scenario", help="scenario file (default: the one recorded in the manifest)")
    pl.set_defaults(func=cmd_plot)

    from sim.design import DESIGNS
    from sim.sweep import EXECUTORS

    for name, helptext in (("sweep", "parameter sweep over a design (grid, lhs, mc, sobol, morris)"),
                           ("sensitivity", "global sensitivity analysis (Sobol or Morris, through SALib)")):
        w = sub.add_parser(name, help=helptext)
        w.add_argument("scenario", nargs="?", help="scenario TOML file")
        w.add_argument("--vary", action="append", default=[], metavar="PATH=SPEC",
                       help="a parameter and its levels: path=lo:hi:n, path=a,b,c, or path=lo:hi (random designs); "
                            "repeatable; default: the scenario's [[uncertainties]] and [[levers]]")
        if name == "sweep":
            w.add_argument("--design", choices=DESIGNS, default="grid", help="design (default grid)")
            w.add_argument("--points", type=_positive, help="points of an lhs/mc design; base N of sobol/morris")
            w.add_argument("--levels", type=_positive, default=5, help="grid levels of a factor given as lo:hi")
        else:
            w.add_argument("--method", choices=("sobol", "morris"), default="sobol")
            w.add_argument("--n", type=_positive, default=64,
                           help="base sample: Sobol N (a power of 2; N(d+2) points) or Morris trajectories")
        w.add_argument("--runs", type=_positive, default=500, help="replications per point (default 500)")
        w.add_argument("--seed", type=_seed, default=0)
        w.add_argument("--workers", type=_positive, default=1)
        w.add_argument("--engine", choices=runner.ENGINES, default="batch")
        w.add_argument("--executor", choices=EXECUTORS, default="local",
                       help="local processes (default) or a Dask cluster (LocalCluster unless --scheduler)")
        w.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786")
        w.add_argument("--out", help="output folder (default results/<scenario>/<kind>-<timestamp>/)")
        w.add_argument("--resume", metavar="DIR", help="continue the sweep recorded in DIR")
        w.add_argument("--save-runs", action="store_true", help="also keep every point's per-replication records")
        w.add_argument("--milestone", choices=tuple(MILESTONES), default="agreement",
                       help="outcome for curves, sensitivity and discovery (default agreement)")
        w.add_argument("--threshold", type=float, default=0.5, help="scenario discovery: P(deal) at least this")
        w.add_argument("--quiet", action="store_true")
        w.set_defaults(func=cmd_sweep if name == "sweep" else cmd_sensitivity)

    cp = sub.add_parser("compare", help="two scenarios on the same worlds, paired intervals")
    cp.add_argument("a")
    cp.add_argument("b")
    cp.add_argument("--runs", type=_positive, default=10_000)
    cp.add_argument("--seed", type=_seed, default=0)
    cp.add_argument("--workers", type=_positive, default=1)
    cp.add_argument("--engine", choices=runner.ENGINES, default="batch")
    cp.add_argument("--out")
    cp.add_argument("--quiet", action="store_true")
    cp.set_defaults(func=cmd_compare)

    pp = sub.add_parser("params", help="list a scenario's numeric parameters (what --vary can address)")
    pp.add_argument("scenario")
    pp.set_defaults(func=cmd_params)

    v = sub.add_parser("validate", help="check the model against bargaining theory; write docs/VALIDATION.md")
    v.add_argument("--out", default="docs/VALIDATION.md", help="report path (figures go to img/ beside it)")
    v.set_defaults(func=cmd_validate)

    ap_ = sub.add_parser("app", help="the interactive page (Mesa SolaraViz) in the browser")
    ap_.add_argument("--host", default="127.0.0.1")
    ap_.add_argument("--port", type=_positive, default=8765)
    ap_.set_defaults(func=cmd_app)

    c = sub.add_parser("check", help="validate scenario files")
    c.add_argument("scenarios", nargs="+")
    c.set_defaults(func=cmd_check)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (see the module docstring)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
