"""Command-line interface: ``python -m sim {run,trace,plot,check}``.

Exit codes: 0 success; 1 some replications failed; 2 bad input (scenario file,
arguments, results folder); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim import analysis, plots, records, runner
from sim.scenario import Scenario, ScenarioError, load_scenario

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
    runner.write_json(out_dir / "summary.json", summary)
    if make_plots:
        plots.plot_run(runs, scenario, summary, out_dir)
    return summary


def cmd_run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    out_dir = _fresh_dir(Path(args.out)) if args.out else runner.new_run_dir(RESULTS, scenario)
    runner.run_replication(scenario, args.seed, 0, args.engine)  # compile (or load) the engine once, up front
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: lets the runner fork its workers

    with tqdm(total=args.runs, unit="rep", desc=scenario.name, disable=args.quiet or None) as bar:
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


def cmd_trace(args: argparse.Namespace) -> int:
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
    folder = Path(args.folder)
    runs_path, manifest_path = folder / records.RUNS, folder / "manifest.json"
    for p in (runs_path, manifest_path):
        if not p.exists():
            raise UsageError(f"{p}: not found; expected a folder written by 'python -m sim run'")
    manifest = json.loads(manifest_path.read_text())
    scenario = load_scenario(args.scenario or manifest["scenario_file"])
    if scenario.sha256 != manifest.get("scenario_sha256"):
        print(f"warning: {scenario.path} has changed since this run; plots use its current text "
              "for labels and reference lines", file=sys.stderr)
    summary = _write_summary(scenario, folder, True)
    print("\n".join(analysis.report(summary)))
    print(f"Plots written to {folder}/")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    for path in args.scenarios:
        sc = load_scenario(path)
        print(f"{path}: ok — {sc.title}; {len(sc.issues)} issues, sides {', '.join(sc.party_keys)}, "
              f"{len(sc.meetings)} scheduled meetings, {len(sc.events)} events, "
              f"{len(sc.uncertain)} uncertain parameters; {sc.start} → summit {sc.deadline} → {sc.horizon}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sim", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="Monte Carlo: N replications of a scenario")
    r.add_argument("scenario", help="scenario TOML file")
    r.add_argument("--runs", type=_positive, default=1000, help="number of replications (default 1000)")
    r.add_argument("--seed", type=_seed, default=0, help="run seed (default 0)")
    r.add_argument("--workers", type=_positive, default=1, help="worker processes (default 1)")
    r.add_argument("--chunk-size", type=_positive, help="replications per chunk (default: 10,000 batch, 250 mesa)")
    r.add_argument("--engine", choices=runner.ENGINES, default="batch",
                   help="batch: compiled, fast (default); mesa: the reference Mesa model, same results")
    r.add_argument("--out", help="output folder (default results/<scenario>/<timestamp>/)")
    r.add_argument("--no-plots", action="store_true", help="skip the figures")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)

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

    c = sub.add_parser("check", help="validate scenario files")
    c.add_argument("scenarios", nargs="+")
    c.set_defaults(func=cmd_check)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
