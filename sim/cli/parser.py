"""The command line's arguments: every command, its options, and their checks."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from sim import limits
from sim.cli import commands as c

ENGINES = ("batch", "mesa")
MILESTONES = ("agreement", "signed", "ratified")
DESIGNS = ("grid", "lhs", "mc", "sobol", "morris")
EXECUTORS = ("local", "dask")


def _count(bound: int, variable: str, what: str) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            n = int(value.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
        if n > bound:
            raise argparse.ArgumentTypeError(limits.message(what, n, bound, variable))
        return n

    return parse


chunk_size = _count(limits.MAX_RUNS, "SIM_MAX_RUNS", "--chunk-size")
runs = _count(limits.MAX_RUNS, "SIM_MAX_RUNS", "--runs")
points = _count(limits.MAX_POINTS, "SIM_MAX_POINTS", "the design size")
particles = _count(limits.MAX_PARTICLES, "SIM_MAX_PARTICLES", "--particles")
workers = _count(limits.MAX_WORKERS, "SIM_MAX_WORKERS", "--workers")


def seed(value: str) -> int:
    """A run seed: a whole number in [0, 2^63) (it is stored with every record as int64)."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if not 0 <= n < 2**63:
        raise argparse.ArgumentTypeError(f"must be in [0, 2^63), got {n}")
    return n


def date(value: str) -> dt.date:
    """A date like 2025-10-25."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2025-10-25, got {value!r}") from None


def setting(value: str) -> tuple[str, float | dt.date]:
    """``PATH=VALUE``: a parameter fixed at a number, or the summit's date (``scenario.deadline``)."""
    path, sep, raw = value.partition("=")
    if not sep or not path.strip():
        raise argparse.ArgumentTypeError(f"expected PATH=VALUE, e.g. parties.us.reservation=0.5, got {value!r}")
    try:
        x = float(raw)
    except ValueError:
        try:
            return path.strip(), dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{path.strip()}: expected a number or a date like 2025-10-29, "
                                             f"got {raw!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"{path.strip()}: expected a finite number, got {raw!r}")
    return path.strip(), x


def _add_set(p: argparse.ArgumentParser) -> None:
    """``--set PATH=VALUE`` (``run`` and ``forecast``)."""
    p.add_argument("--set", type=setting, action="append", default=[], metavar="PATH=VALUE",
                   help="fix a parameter at a value, as the page's settings do (repeatable; "
                        "'python -m sim params FILE' lists the paths; scenario.deadline=DATE moves the summit)")


def port(value: str) -> int:
    """A TCP port."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 1 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"must be in [1, 65535], got {n}")
    return n


def share(value: str) -> float:
    """A probability in [0, 1]."""
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {value!r}") from None
    if math.isnan(x) or not 0 <= x <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return x


def _prog() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name if name and name not in ("__main__.py", "-c") and not name.endswith(".py") else "python -m sim"


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line (with where to find help), exit 2."""

    def error(self, message: str) -> NoReturn:
        """Print the problem and how to get help; exit 2 (bad input)."""
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    p = Parser(prog=_prog(), description="An agent-based simulator of two-party negotiations "
                                "against a deadline: Monte Carlo runs, forecasts conditioned on the record, "
                                "backtests, sweeps.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="Monte Carlo: N replications of a scenario")
    r.add_argument("scenario", help="scenario TOML file")
    r.add_argument("--runs", type=runs, default=1000, help="number of replications (default 1000)")
    r.add_argument("--seed", type=seed, default=0, help="run seed (default 0)")
    r.add_argument("--workers", type=workers, default=1, help="worker processes (default 1)")
    r.add_argument("--chunk-size", type=chunk_size, help="replications per chunk (default: n/16, within 2,000-25,000 "
                                                        "for batch, 50-250 for mesa)")
    r.add_argument("--engine", choices=ENGINES, default="batch",
                   help="batch: compiled, fast (default); mesa: the reference Mesa model, same results")
    r.add_argument("--out", help="output folder (default results/<scenario>/<timestamp>/)")
    r.add_argument("--no-plots", action="store_true", help="skip the figures")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_set(r)
    r.set_defaults(func=c.cmd_run)

    f = sub.add_parser("forecast", help="forecast conditioned on the scenario's record as of a date")
    f.add_argument("scenario", help="scenario TOML file (its [record] is the evidence)")
    f.add_argument("--as-of", type=date, help="forecast date: the record up to it, and no agreement by it "
                                               "(default: no record, the prior)")
    f.add_argument("--priors", choices=("learned", "judgement"), default="learned",
                   help="behavioural priors: learned across the case library (default, scenarios/library/learned.toml) "
                        "or the scenario's own judgement")
    f.add_argument("--timeline", action="store_true", help="a forecast as of every date with news (up to --as-of)")
    f.add_argument("--seed", type=seed, default=0, help="run seed (default 0)")
    f.add_argument("--workers", type=workers, default=1, help="worker processes (default 1)")
    f.add_argument("--particles", type=particles, default=20_000,
                   help="particles per population, and replications of the prior (default 20,000)")
    f.add_argument("--target-ess", type=particles, default=2_000, help="effective sample size to reach (default 2,000)")
    f.add_argument("--engine", choices=ENGINES, default="batch")
    f.add_argument("--out", help="output folder (default results/<scenario>/forecast-<date>-<timestamp>/)")
    f.add_argument("--no-plots", action="store_true", help="skip the figures")
    f.add_argument("--quiet", action="store_true", help="no progress lines")
    f.add_argument("--news", metavar="FILE", help="record items to add to the scenario's record, a what-if: "
                   "[[positions]], [[progress]], [[events]], [[rounds]] tables as in a record (the page's "
                   "what-if tab writes one)")
    _add_set(f)
    f.set_defaults(func=c.cmd_forecast)

    bt = sub.add_parser("backtest", help="score forecasts of real cases (scenarios/cases/) against what happened")
    bt.add_argument("cases", nargs="*", help="case files (with --report and none: scenarios/cases/*.toml)")
    bt.add_argument("--seed", type=seed, default=0)
    bt.add_argument("--workers", type=workers, default=1)
    bt.add_argument("--particles", type=particles, default=10_000, help="particles per population (default 10,000)")
    bt.add_argument("--target-ess", type=particles, default=1_000, help="effective sample size per forecast")
    bt.add_argument("--out", help="output folder (default results/backtest/<timestamp>/)")
    bt.add_argument("--report", action="store_true",
                    help="cross-validate the whole library and case files, and write docs/BACKTEST.md, its figures "
                         "and the learned priors (scenarios/library/learned.toml)")
    bt.add_argument("--cross-validate", action="store_true",
                    help="forecast every case with priors learned without its group (the library and case files)")
    bt.add_argument("--library", help="the case library's table (default scenarios/library/cases.toml)")
    bt.add_argument("--executor", choices=EXECUTORS, default="local", help="where forecasts run: local processes "
                                                                          "or a Dask cluster")
    bt.add_argument("--scheduler", help="a Dask scheduler's address (with --executor dask; default: a local cluster)")
    bt.add_argument("--write-priors", action="store_true",
                    help="write the priors learned on everything to scenarios/library/learned.toml")
    bt.add_argument("--quiet", action="store_true")
    bt.set_defaults(func=c.cmd_backtest)

    t = sub.add_parser("trace", help="one replication, day by day, with its 'dance' plot")
    t.add_argument("scenario")
    t.add_argument("--seed", type=seed, default=0)
    t.add_argument("--replication", type=seed, default=0, help="replication index within the run")
    t.add_argument("--out", help="folder for dance.png and narrative.txt")
    t.set_defaults(func=c.cmd_trace)

    pl = sub.add_parser("plot", help="(re)make the summary and figures of a run folder")
    pl.add_argument("folder")
    pl.add_argument("--scenario", help="scenario file (default: the one recorded in the manifest)")
    pl.set_defaults(func=c.cmd_plot)

    for name, helptext in (("sweep", "parameter sweep over a design (grid, lhs, mc, sobol, morris)"),
                           ("sensitivity", "global sensitivity analysis (Sobol or Morris, through SALib)")):
        w = sub.add_parser(name, help=helptext)
        w.add_argument("scenario", nargs="?", help="scenario TOML file")
        w.add_argument("--vary", action="append", default=[], metavar="PATH=SPEC",
                       help="a parameter and its levels: path=lo:hi:n, path=a,b,c, or path=lo:hi (random designs); "
                            "repeatable; default: every uncertain input over its own distribution")
        w.add_argument("--declared", action="store_true",
                       help="vary the scenario's [[uncertainties]] and [[levers]] over their declared ranges "
                            "(which may be wider than its distributions) instead")
        if name == "sweep":
            w.add_argument("--design", choices=DESIGNS, default="grid", help="design (default grid)")
            w.add_argument("--points", type=points, help="points of an lhs/mc design; base N of sobol/morris")
            w.add_argument("--levels", type=points, default=5, help="grid levels of a factor given as lo:hi")
        else:
            w.add_argument("--method", choices=("sobol", "morris"), default="sobol")
            w.add_argument("--n", type=points, default=64,
                           help="base sample: Sobol N (a power of 2, at least 16; N(d+2) points) or Morris "
                                "trajectories (at least 4)")
        w.add_argument("--runs", type=runs, default=500, help="replications per point (default 500)")
        w.add_argument("--seed", type=seed, default=0)
        w.add_argument("--workers", type=workers, default=1)
        w.add_argument("--engine", choices=ENGINES, default="batch")
        w.add_argument("--executor", choices=EXECUTORS, default="local",
                       help="local processes (default) or a Dask cluster (LocalCluster unless --scheduler)")
        w.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786")
        w.add_argument("--out", help="output folder (default results/<scenario>/<kind>-<timestamp>/)")
        w.add_argument("--resume", metavar="DIR", help="continue the sweep recorded in DIR")
        w.add_argument("--save-runs", action="store_true", help="also keep every point's per-replication records")
        w.add_argument("--milestone", choices=MILESTONES, default="agreement",
                       help="outcome for curves, sensitivity and discovery (default agreement)")
        w.add_argument("--threshold", type=share, default=0.5, help="scenario discovery: P(deal) at least this")
        w.add_argument("--quiet", action="store_true")
        w.set_defaults(func=c.cmd_sweep if name == "sweep" else c.cmd_sensitivity)

    cp = sub.add_parser("compare", help="a what-if against a baseline on the same worlds, with paired intervals")
    cp.add_argument("baseline", help="the baseline scenario")
    cp.add_argument("whatif", help="the what-if scenario")
    cp.add_argument("--runs", type=runs, default=10_000)
    cp.add_argument("--seed", type=seed, default=0)
    cp.add_argument("--workers", type=workers, default=1)
    cp.add_argument("--engine", choices=ENGINES, default="batch")
    cp.add_argument("--out")
    cp.add_argument("--quiet", action="store_true")
    cp.set_defaults(func=c.cmd_compare)

    pp = sub.add_parser("params", help="a scenario's numeric parameters: path, value, valid range")
    pp.add_argument("scenario")
    pp.set_defaults(func=c.cmd_params)

    v = sub.add_parser("validate", help="check the model against bargaining theory; write docs/VALIDATION.md")
    v.add_argument("--out", default="docs/VALIDATION.md", help="report path (figures go to img/ beside it)")
    v.set_defaults(func=c.cmd_validate)

    ap_ = sub.add_parser("app", help="the interactive page (Mesa SolaraViz) in the browser")
    ap_.add_argument("--host", default="127.0.0.1")
    ap_.add_argument("--port", type=port, default=8765)
    ap_.set_defaults(func=c.cmd_app)

    ck = sub.add_parser("check", help="validate scenario and case files")
    ck.add_argument("scenarios", nargs="+")
    ck.set_defaults(func=c.cmd_check)
    return p
