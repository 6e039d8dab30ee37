"""Peak resident memory of a long run: the sum over the run's whole process tree.

Runs ``python -m sim run`` as a subprocess and samples, every 0.1 s, the
proportional resident set (PSS) of it and all its descendants (from /proc),
reporting the largest sum seen. PSS counts a page shared by the forked workers
and the parent once, not once per process.

    python benchmarks/bench_memory.py --runs 10000000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pss(pid: int) -> int:
    """Proportional set size: resident bytes, with pages shared between processes (the forked
    workers share the parent's) counted once across them, not once per process."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def tree_rss(root: int) -> int:
    """Proportional resident bytes of ``root`` and its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            parents[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
            rss[int(entry)] = pss(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenario", default="scenarios/us_korea_2025.toml")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "sim", "run", args.scenario, "--runs", str(args.runs), "--workers",
               str(args.workers), "--out", f"{tmp}/run", "--quiet", "--no-plots"]
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.1)
        out = proc.stdout.read()
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"run failed ({proc.returncode})")
    print(out.strip().splitlines()[0])
    print(f"{args.runs:,} replications, {args.workers} worker(s): peak resident memory (all processes) "
          f"{peak / 2**20:,.0f} MiB; wall {wall:,.0f} s including the summary")


if __name__ == "__main__":
    main()
