"""Sweeps: common random numbers, monotone curves, executors agree, failures, SIGKILL + resume, compare."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim import analysis
from sim.sweep import report as sweep_report
from sim.sweep import run as sweep
from sim.sweep.design import Factor, make_design
from tests.conftest import ROOT, cli

FLAGSHIP = ROOT / "scenarios" / "us_korea_2025.toml"


def new_sweep(tmp_path, name, flagship, factors, runs=300, method="grid", **kw):
    folder = tmp_path / name
    sweep.start(folder, flagship, make_design(method, factors, **kw), kind="sweep", runs=runs, seed=5,
                engine="batch", save_runs=False)
    return folder


def table(folder):
    return pq.read_table(folder / "points.parquet")


def test_a_monotone_parameter_gives_a_monotone_curve(flagship, tmp_path):
    # a wider summit bridge accepts every deal a narrower one did: on common worlds, P cannot fall
    folder = new_sweep(tmp_path, "gap", flagship, (Factor("summit.max_gap", 0.0, 0.3, (0.0, 0.05, 0.1, 0.2, 0.3)),))
    result = sweep.run_sweep(folder)
    assert result.done == 5 and result.failed == 0 and not result.interrupted
    p = table(folder).column("p.agreement").to_numpy()
    assert (np.diff(p) >= 0).all() and p[-1] > p[0] + 0.02  # deadline pressure closes some gaps first
    assert (folder / "curves.png").exists() is False  # figures come from finish()
    made = sweep_report.finish(folder)
    assert (folder / "curves.png").is_file() and made["figures"]


def test_results_do_not_depend_on_workers(flagship, tmp_path):
    factors = (Factor("parties.us.tactic.beta", 0.3, 1.5, (0.3, 0.9, 1.5)),
               Factor("summit.max_gap", 0.0, 0.2, (0.0, 0.2)))
    one, two = new_sweep(tmp_path, "one", flagship, factors), new_sweep(tmp_path, "two", flagship, factors)
    sweep.run_sweep(one, workers=1)
    sweep.run_sweep(two, workers=2)
    assert table(one).equals(table(two))
    assert table(one).num_rows == 6 and not list((one / "points").iterdir())


def test_dask_local_cluster_equals_local_processes(flagship, tmp_path):
    pytest.importorskip("distributed")
    factors = (Factor("parties.korea.tactic.beta", 0.3, 1.5, (0.3, 1.5)),
               Factor("summit.max_gap", 0.0, 0.2, (0.0, 0.2)))
    local, dask = new_sweep(tmp_path, "local", flagship, factors), new_sweep(tmp_path, "dask", flagship, factors)
    sweep.run_sweep(local, workers=2)
    sweep.run_sweep(dask, workers=2, executor="dask")
    assert table(local).equals(table(dask))
    assert json.loads((dask / "manifest.json").read_text())["executor"] == "dask"


def test_a_failing_point_is_retried_then_recorded_and_the_sweep_goes_on(flagship, tmp_path, monkeypatch):
    calls = []
    original = sweep.run_point

    def flaky(batch, values):
        calls.append(float(values[0]))
        if values[0] == 0.1:
            raise RuntimeError("point exploded")
        return original(batch, values)

    monkeypatch.setattr(sweep, "run_point", flaky)
    folder = new_sweep(tmp_path, "f", flagship, (Factor("summit.max_gap", 0.0, 0.2, (0.0, 0.1, 0.2)),))
    result = sweep.run_sweep(folder)
    t = table(folder).to_pandas()
    assert result.failed == 1 and calls.count(0.1) == 1 + sweep.RETRIES
    assert list(t["status"]) == ["ok", "failed", "ok"] and "point exploded" in t.loc[1, "error"]
    assert t.loc[1, "attempts"] == 2 and np.isnan(t.loc[1, "p.agreement"]) and t.loc[2, "p.agreement"] >= 0


def test_sigkill_then_resume_gives_the_uninterrupted_table(flagship, tmp_path):
    factors = (Factor("parties.us.tactic.beta", 0.2, 2.0, tuple(np.linspace(0.2, 2.0, 12))),
               Factor("summit.max_gap", 0.0, 0.2, (0.0, 0.1, 0.2)))
    reference = new_sweep(tmp_path, "ref", flagship, factors, runs=4000)
    sweep.run_sweep(reference, workers=2)

    folder = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sim", "sweep", str(FLAGSHIP), "--vary", "us.tactic.beta=0.2:2.0:12",
           "--vary", "summit.max_gap=0,0.1,0.2", "--runs", "4000", "--seed", "5", "--out", str(folder), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((folder / "points").glob("point-*.json"))) < 4:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list((folder / "points").glob("point-*.json")))
    assert 4 <= finished < 36 and not (folder / "points.parquet").exists()

    r = cli("sweep", "--resume", str(folder), "--quiet")
    assert r.returncode == 0, r.stderr
    assert table(folder).equals(table(reference))
    assert json.loads((folder / "manifest.json").read_text())["status"] == "complete"
    assert (folder / "heatmap.png").is_file()


def test_cli_bad_vary_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "never"
    r = cli("sweep", str(FLAGSHIP), "--vary", "us.tactic.betta=0.2:2:3", "--out", str(out))
    assert r.returncode == 2 and "unknown parameter 'us.tactic.betta'" in r.stderr and "Traceback" not in r.stderr
    r = cli("sweep", str(FLAGSHIP), "--vary", "korea.reservation=0.2:1.4:3", "--out", str(out))
    assert r.returncode == 2 and "parties.korea.reservation must be in [0, 1], got 1.4" in r.stderr
    assert not out.exists()


def test_cli_sensitivity_morris(flagship, tmp_path):
    out = tmp_path / "morris"
    r = cli("sensitivity", str(FLAGSHIP), "--method", "morris", "--n", "6", "--runs", "200", "--declared",
            "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    si = json.loads((out / "sensitivity.json").read_text())
    assert si["method"] == "morris" and si["names"] == [f.path for f in flagship.factors]
    assert (out / "sensitivity.png").is_file() and all(m >= 0 for m in si["mu_star"])


def test_paired_interval_covers_the_truth_and_is_narrower_than_unpaired():
    rng = np.random.default_rng(0)
    u = rng.random(20_000)
    a, b = (u < 0.50).astype(float), (u < 0.45).astype(float)  # same worlds; true difference 0.05
    d = analysis.paired_difference(a, b)
    assert d["low"] <= 0.05 <= d["high"]
    assert d["high"] - d["low"] < 0.5 * (d["unpaired_high"] - d["unpaired_low"])
    covered = 0
    for k in range(200):  # coverage of the paired interval is close to 95%
        u = np.random.default_rng(k).random(2_000)
        d = analysis.paired_difference((u < 0.5).astype(float), (u < 0.45).astype(float))
        covered += d["low"] <= 0.05 <= d["high"]
    assert covered >= 180


def test_cli_compare_on_common_worlds(tmp_path):
    out = tmp_path / "cmp"
    r = cli("compare", str(FLAGSHIP), str(ROOT / "scenarios" / "us_korea_swap_line.toml"), "--runs", "3000",
            "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    result = json.loads((out / "compare.json").read_text())
    d = result["milestones"]["agreement"]
    assert d["high"] - d["low"] < d["unpaired_high"] - d["unpaired_low"]
    assert (out / "compare.png").is_file() and "paired 95%" in r.stdout
    # what-if minus baseline: the swap line raises Korea's cash ceiling, so deals get likelier (it read -0.04)
    assert d["diff"] > 0 and d["mean_a"] > d["mean_b"] and result["difference"] == "what-if minus baseline"
    assert "us_korea_swap_line − us_korea_2025 (what-if minus baseline)" in r.stdout
    assert "annual_cash ($B/yr)" in r.stdout and result["terms"]["annual_cash"]["unit"] == "$B/yr"
    # a categorical issue by the share of deals on each level, not as a number
    levels = result["levels"]["project_selection"]["by_level"]
    assert "project_selection" not in result["terms"] and len(levels) == 3
    assert sum(v["diff"] for v in levels.values()) == pytest.approx(0, abs=1e-9)
    assert (out / "baseline" / "runs").is_dir() and (out / "whatif" / "runs").is_dir()
    assert not r.stderr.count("warning")


def test_compare_says_what_differs_between_unlike_scenarios(tmp_path):
    # D17: US–Korea against US–Japan printed "same worlds" and paired terms by key, without a word
    r = cli("compare", str(FLAGSHIP), str(ROOT / "scenarios" / "us_japan_2025.toml"), "--runs", "200",
            "--out", str(tmp_path / "c"), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "warning: the sides differ" in r.stderr and "warning: the summit differs" in r.stderr


def test_sweep_prints_its_points_and_says_when_prim_finds_no_box(tmp_path):
    out = tmp_path / "s"
    r = cli("sweep", str(FLAGSHIP), "--vary", "us.tactic.beta=0.2:2:3", "--runs", "200", "--out", str(out),
            "--threshold", "0", "--quiet")
    assert r.returncode == 0, r.stderr
    table = r.stdout.split("by design point")[1].splitlines()
    assert "tactic.beta" in table[1] and len([ln for ln in table[2:5] if "[" in ln]) == 3
    # every point has P >= 0: the box is the whole space, and it says so (the CLI printed a box)
    assert "Scenario discovery" in r.stdout and ("no box found" in r.stdout or "too few points" in r.stdout)


def test_sensitivity_by_default_varies_every_uncertain_input_over_its_distribution(flagship, tmp_path):
    # the default was the 7 declared factors, over lever ranges 3-4x wider than the scenario's own
    out = tmp_path / "sobol"
    r = cli("sensitivity", str(FLAGSHIP), "--n", "16", "--runs", "100", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    si = json.loads((out / "sensitivity.json").read_text())
    assert si["names"] == [p.path for p in flagship.uncertain]
    _, design = sweep.load(out)
    for j, p in enumerate(flagship.uncertain):
        lo, hi = p.value.support
        assert lo <= design.values[:, j].min() and design.values[:, j].max() <= hi
        assert design.values[:, j] == pytest.approx(p.value.ppf(design.unit[:, j]))
    assert "Sobol indices" in r.stdout and "deadline_offset_days" in r.stdout
