import contextlib
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from sim import records, runner
from sim.model import NegotiationModel
from tests.conftest import ROOT, cli


def test_run_replication_matches_a_chunk(flagship):
    table = runner.run_chunk(flagship, 9, 10, 5).to_pylist()  # batch engine
    assert runner.run_replication(flagship, 9, 12) == table[2]  # Mesa engine


def test_same_seed_same_file_any_workers(flagship, tmp_path):
    a = runner.run(flagship, n=120, seed=4, out_dir=tmp_path / "a", workers=1, chunk_size=50)
    b = runner.run(flagship, n=120, seed=4, out_dir=tmp_path / "b", workers=2, chunk_size=25)
    m = runner.run(flagship, n=120, seed=4, out_dir=tmp_path / "m", workers=2, chunk_size=40, engine="mesa")
    ta, tb = records.read(a.out_dir / "runs"), records.read(b.out_dir / "runs")
    assert ta.equals(tb) and ta.equals(records.read(m.out_dir / "runs"))
    assert ta.num_rows == 120 and ta.column("replication").to_pylist() == list(range(120))
    c = runner.run(flagship, n=120, seed=5, out_dir=tmp_path / "c", chunk_size=50)
    assert not records.read(c.out_dir / "runs").equals(ta)
    manifest = json.loads((a.out_dir / "manifest.json").read_text())
    assert manifest["seed"] == 4 and manifest["replications"] == 120 and manifest["failures"] == 0
    assert manifest["scenario_sha256"] == flagship.sha256 and "mesa" in manifest["versions"]
    assert [p.name for p in records.parts(a.out_dir / "runs")] == ["part-000000000000.parquet",
                                                                    "part-000000000050.parquet",
                                                                    "part-000000000100.parquet"]
    assert not list(a.out_dir.rglob("*.tmp"))


def test_a_failing_replication_is_recorded_and_the_run_goes_on(flagship, tmp_path, monkeypatch):
    original = NegotiationModel.run

    def flaky(self):
        if int(self.world.index) == 3:
            raise RuntimeError("boom")
        return original(self)

    def broken(*args):
        raise FloatingPointError("batch engine failed")

    monkeypatch.setattr(NegotiationModel, "run", flaky)
    monkeypatch.setitem(runner.ENGINES, "batch", broken)  # the batch engine falls back to Mesa per replication
    for engine in runner.ENGINES:
        with pytest.warns(runner.EngineFallback) if engine == "batch" else contextlib.nullcontext():
            result = runner.run(flagship, n=10, seed=1, out_dir=tmp_path / engine, engine=engine)
        manifest = json.loads((tmp_path / engine / "manifest.json").read_text())
        assert manifest["engine_fallbacks"] == (1 if engine == "batch" else 0)
        df = pd.read_parquet(tmp_path / engine / "runs")
        assert result.failures == 1 and len(df) == 10
        assert df.loc[3, "status"] == "error" and "boom" in df.loc[3, "error"]
        assert df["error"].isna().sum() == 9
        assert df.loc[3, ["agreement", "rounds"]].isna().all() and df.loc[4, "agreement"] in (True, False)


def test_cli_run_and_plot(tmp_path):
    out = tmp_path / "run"
    r = cli("run", "scenarios/us_korea_2025.toml", "--runs", "300", "--seed", "7", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "P(agreement in principle by 2025-10-29) = " in r.stdout.splitlines()[0]
    assert (out / "runs").is_dir() and records.parts(out / "runs")
    for name in ("summary.json", "manifest.json", "milestones.png", "closing_day.png",
                 "terms.png", "utility_plane.png"):
        assert (out / name).is_file(), name
    (out / "terms.png").unlink()
    r = cli("plot", str(out))
    assert r.returncode == 0, r.stderr and (out / "terms.png").is_file()


def test_cli_trace(tmp_path):
    r = cli("trace", "scenarios/us_korea_2025.toml", "--seed", "7", "--replication", "42", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "Jul 30 framework" in r.stdout and "offers" in r.stdout
    assert (tmp_path / "dance.png").is_file() and (tmp_path / "narrative.txt").is_file()


@pytest.mark.parametrize("body, field", [
    ("[scenario]\nname = 'x'\n", "issues"),
    ('extends = "us_korea_2025.toml"\n[parties.us]\nreservation = 1.5\n', "parties.us.reservation"),
])
def test_cli_bad_scenario_exits_2_and_writes_nothing(tmp_path, body, field):
    bad = ROOT / "scenarios" / "_bad_test.toml"
    bad.write_text(body)
    try:
        out = tmp_path / "never"
        r = cli("run", str(bad), "--runs", "10", "--out", str(out))
    finally:
        bad.unlink()
    assert r.returncode == 2
    assert f"_bad_test.toml: {field}:" in r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_cli_refuses_a_non_empty_out(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    r = cli("run", "scenarios/us_korea_2025.toml", "--runs", "5", "--out", str(tmp_path))
    assert r.returncode == 2 and "not empty" in r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_the_batch_engine_runs_as_plain_python():
    # NUMBA_DISABLE_JIT=1 (debugging, coverage): the same outcomes as the compiled engine
    code = ("import numpy as np; from sim import batch; from sim.scenario import load_scenario; "
            "from sim.world import sample_worlds; sc = load_scenario('scenarios/us_korea_2025.toml'); "
            "out = batch.run_worlds(sc, sample_worlds(sc, 3, 0, 8)); print(out.agreement_day.tolist(), "
            "np.nansum(out.terms).round(9))")
    plain = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "NUMBA_DISABLE_JIT": "1"})
    compiled = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == compiled.stdout
