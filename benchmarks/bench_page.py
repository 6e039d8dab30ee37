"""The page's speed and memory, in a headless browser against ``python -m sim app`` on loopback.

- The first visitor of a fresh server, as soon as it answers (``python -m sim app`` computes the
  first answer as it starts). First answer: from opening the page to the forecast given the
  record (a warm server: the default answer is kept); a rerun after a setting changes
  (a different setting each time: never from the cache), and after the forecast date changes
  (targets: 5 s, 3 s, 60 s).
- Memory: the server's resident memory before and after ``--sessions`` tabs opened (each
  waiting for its answer) and closed, once the closed sessions are freed (target: ± 50 MiB).

Medians of ``--repeat`` runs: the machines are shared and noisy. Needs Debian's chromium.

    python benchmarks/bench_page.py
    python benchmarks/bench_page.py --repeat 3 --sessions 10
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rss_mib(pid: int) -> float:
    """A process's resident memory, with its children's (the server's), in MiB."""
    total = 0
    for p in [pid, *(int(c) for c in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                                      text=True).stdout.split())]:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sessions", type=int, default=20)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "sim", "app", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while True:
            try:
                urllib.request.urlopen(base, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"], headless=True)

            def answered(page, must: str = "") -> None:
                page.wait_for_function(
                    "m => { const t = document.body.innerText; return t.includes('prior (no record)') && "
                    "!t.includes('updating') && !t.includes('Forecasting') && t.includes(m) }", arg=must,
                    timeout=300_000, polling=100)

            warm = browser.new_page()
            t0 = time.perf_counter()
            warm.goto(base)
            answered(warm)  # the server's warm-up computed it (or is computing it) as the server started
            fresh = time.perf_counter() - t0
            warm.close()
            first, rerun, as_of = [], [], []
            for k in range(args.repeat):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                t0 = time.perf_counter()
                page.goto(base)
                answered(page)
                first.append(time.perf_counter() - t0)
                slider = page.get_by_role("slider").nth(k)  # a setting not asked before: not in the cache
                slider.focus()
                t0 = time.perf_counter()
                slider.press("End")
                answered(page, " = ")
                rerun.append(time.perf_counter() - t0)
                page.get_by_role("button", name="reset").nth(k).click()
                answered(page, "as the scenario has it")
                slot = page.get_by_label("Forecast as of").locator(
                    "xpath=ancestor::div[contains(@class, 'v-input__slot')]")
                slot.click()
                t0 = time.perf_counter()
                page.get_by_role("option", name="2025-10-15").click()
                answered(page, "--as-of 2025-10-15")
                as_of.append(time.perf_counter() - t0)
                page.close()
            time.sleep(45)  # the benchmark's own sessions freed (30 s after closing)
            before = rss_mib(server.pid)
            for _ in range(args.sessions):
                page = browser.new_page()
                page.goto(base)
                answered(page)
                page.close()
            time.sleep(45)
            after = rss_mib(server.pid)
            browser.close()
    finally:
        server.kill()
        server.wait()
    print(f"first visitor, as soon as the server answers: {fresh:.1f} s (once)")
    print(f"first answer after opening the page: median {statistics.median(first):.1f} s "
          f"({', '.join(f'{x:.1f}' for x in first)})")
    print(f"rerun after a setting changes:        median {statistics.median(rerun):.1f} s "
          f"({', '.join(f'{x:.1f}' for x in rerun)})")
    print(f"rerun after the forecast date changes: median {statistics.median(as_of):.1f} s "
          f"({', '.join(f'{x:.1f}' for x in as_of)})")
    print(f"server memory: {before:,.0f} MiB before {args.sessions} sessions, {after:,.0f} MiB after they closed "
          f"({after - before:+,.0f} MiB)")


if __name__ == "__main__":
    main()
