"""Command-line interface: ``python -m sim <command>`` (or the ``negotiation-sim`` script).

Commands: run, forecast, backtest, trace, plot, sweep, sensitivity, compare, params, check,
validate, app. Exit codes:

- 0: done;
- 1: some replications or sweep points failed (their errors are recorded with the results),
  or a forecast's sampler could not reproduce its record (no number is given);
- 2: bad input — a scenario, record or case file, an argument, a results folder (the message
  names the file or option, the field and the problem; nothing is written);
- 3: the environment — the output folder cannot be written (read-only, no permission, disk
  full) or another process is writing it, or a Dask scheduler cannot be reached;
- 130: interrupted (what finished is kept, and the manifest says so).
"""

from __future__ import annotations

import sys

from sim.cli.commands import UsageError
from sim.cli.parser import build_parser

EXIT_OK, EXIT_FAILURES, EXIT_INPUT, EXIT_ENVIRONMENT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

__all__ = ["EXIT_ENVIRONMENT", "EXIT_FAILURES", "EXIT_INPUT", "EXIT_INTERRUPTED", "EXIT_OK", "UsageError",
           "build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (see the module docstring)."""
    from sim import records
    from sim.forecast.conditioning import ForecastError, RecordNotMatched
    from sim.scenario import ScenarioError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, UsageError, ForecastError, records.NoRecords, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except RecordNotMatched as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURES
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:  # the output folder, the disk, the network: not the user's input
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        records.release_all()
