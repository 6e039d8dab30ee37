"""The command line under hostile input and faults (the reliability report's D5–D13, D16, D17):
every case ends in one ``error:`` line and a documented exit code, or in a correct result."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from sim import records
from sim.cli import EXIT_ENVIRONMENT, EXIT_INPUT, EXIT_INTERRUPTED, main
from tests.conftest import ROOT, cli

FLAGSHIP = "scenarios/us_korea_2025.toml"


def _clean_error(r: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert r.returncode == code, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), r.stderr
    for w in words:
        assert w in r.stderr, (w, r.stderr)


def _debris(folder: Path) -> list[Path]:
    """Temporary files left behind (every writer writes through hidden ``.*.tmp`` names)."""
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


@pytest.mark.parametrize("args, words", [
    (["run", FLAGSHIP, "--seed", str(2**63)], ["--seed", "must be in [0, 2^63)"]),
    (["run", FLAGSHIP, "--seed", str(2**128)], ["--seed"]),
    (["run", FLAGSHIP, "--runs", "1000000000000"], ["--runs", "over the limit", "SIM_MAX_RUNS"]),
    (["run", FLAGSHIP, "--runs", "0"], ["must be at least 1"]),
    (["run", FLAGSHIP, "--workers", "1000"], ["SIM_MAX_WORKERS"]),
    (["app", "--port", "70000"], ["--port", "[1, 65535]"]),
    (["sweep", FLAGSHIP, "--threshold", "nan"], ["--threshold"]),
    (["sensitivity", FLAGSHIP, "--n", "1099511627776"], ["--n", "SIM_MAX_POINTS"]),
    (["sweep", FLAGSHIP, "--vary", "us.tactic.beta=0.5:1:1000000"], ["levels", "SIM_MAX_POINTS"]),
    (["sweep", FLAGSHIP, "--vary", "us.tactic.beta=0.2:2:99999999999999999999"], ["levels"]),
    (["sensitivity", FLAGSHIP, "--n", "1"], ["at least 16"]),
    (["sensitivity", FLAGSHIP, "--method", "morris", "--n", "1"], ["at least 4"]),
    (["forecast", FLAGSHIP, "--as-of", "2025-13-01"], ["--as-of", "2025-10-25"]),
    (["forecast", FLAGSHIP, "--set", "parties.us.reservation"], ["--set", "PATH=VALUE"]),
    (["forecast", FLAGSHIP, "--set", "parties.us.reservation=high"], ["--set", "a number or a date"]),
    (["run", FLAGSHIP, "--set", "parties.us.reservation=nan"], ["--set", "finite"]),
    (["run", FLAGSHIP, "--set", "parties.us.reservaton=0.5"], ["parties.us.reservaton", "not a parameter",
                                                              "did you mean parties.us.reservation"]),
    (["run", FLAGSHIP, "--set", "parties.us.reservation=7"], ["parties.us.reservation"]),
    (["run", FLAGSHIP, "--set", "scenario.deadline=0.5"], ["scenario.deadline", "a date like"]),
])
def test_bad_arguments_are_one_error_line_and_exit_2(tmp_path, args, words):
    out = tmp_path / "never"
    r = cli(*args, *(["--out", str(out)] if args[0] != "app" else []))
    _clean_error(r, EXIT_INPUT, *words)
    assert not out.exists()


def test_the_largest_seed_works(tmp_path):
    r = cli("run", FLAGSHIP, "--seed", str(2**63 - 1), "--runs", "20", "--out", str(tmp_path / "r"), "--quiet",
            "--no-plots")
    assert r.returncode == 0, r.stderr


def test_an_unwritable_out_is_an_environment_error(tmp_path):
    (tmp_path / "file").write_text("x")
    r = cli("run", FLAGSHIP, "--runs", "20", "--out", str(tmp_path / "file" / "x"))
    _clean_error(r, EXIT_ENVIRONMENT, "cannot write here", "Not a directory")


def test_a_folder_another_process_writes_is_refused(tmp_path):
    # D8: two runs racing for one --out; the lock makes the loser's answer clean
    folder = tmp_path / "busy"
    records.claim_dir(folder)
    try:
        r = cli("run", FLAGSHIP, "--runs", "20", "--out", str(folder))
        _clean_error(r, EXIT_ENVIRONMENT, "another process is writing this folder")
        assert [p.name for p in folder.iterdir()] == [records.LOCK]
    finally:
        records.release_dir(folder)
    assert not folder.exists()  # created by this process and left empty: removed on release


def test_a_full_disk_is_an_environment_error_with_a_manifest_and_no_debris(tmp_path, monkeypatch, capsys):
    written = []

    def write_part(table, folder, first):  # the second chunk hits a full disk
        if written:
            raise OSError(errno.ENOSPC, "No space left on device", str(folder / "part.parquet"))
        written.append(first)
        return records.write_table(table, Path(folder) / records.part_name(first))

    monkeypatch.setattr(records, "write_part", write_part)
    out = tmp_path / "full"
    code = main(["run", FLAGSHIP, "--runs", "400", "--chunk-size", "200", "--out", str(out), "--quiet", "--no-plots"])
    err = capsys.readouterr().err
    assert code == EXIT_ENVIRONMENT and "No space left on device" in err and "Traceback" not in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["completed"] == 200 and "No space left" in manifest["error"]
    assert ds.dataset(out / "runs").count_rows() == 200 and not _debris(out)


def _default_sigint() -> None:
    # a job started in the background (CI, nohup) inherits SIGINT ignored; Ctrl-C is what is tested
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)


def _wait_for(condition, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not condition():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.05)


def _parts(folder: Path) -> int:
    return len(list((folder / "runs").glob("part-*.parquet"))) if (folder / "runs").is_dir() else 0


def test_ctrl_c_before_the_first_chunk_exits_130_and_plot_says_why(tmp_path):
    # D5: it was a traceback and exit 1; plot on the folder another traceback
    out = tmp_path / "c"
    p = _start(["run", FLAGSHIP, "--runs", "3000000", "--chunk-size", "3000000", "--out", str(out), "--quiet"])
    _wait_for(lambda: (out / "runs").is_dir())
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == EXIT_INTERRUPTED and "Traceback" not in err and "nothing to keep" in err
    assert json.loads((out / "manifest.json").read_text())["interrupted"] is True
    _clean_error(cli("plot", str(out)), EXIT_INPUT, "no replications recorded")


def test_sigint_to_the_parent_alone_counts_what_the_workers_wrote(tmp_path):
    # D6: the manifest said 50,000 while 150,000 were on disk; D19: a worker traceback on Ctrl-C
    out = tmp_path / "p"
    p = _start(["run", FLAGSHIP, "--runs", "3000000", "--workers", "2", "--out", str(out), "--quiet", "--no-plots"])
    _wait_for(lambda: _parts(out) >= 2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == EXIT_INTERRUPTED and "Traceback" not in err
    manifest = json.loads((out / "manifest.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    rows = ds.dataset(out / "runs").count_rows()
    assert manifest["completed"] == rows == summary["replications"] and f"kept the {rows:,} replications" in err


def test_workers_die_with_their_parent(tmp_path):
    # D7: after kill -9 of the parent, workers lived on and kept writing
    out = tmp_path / "k"
    p = _start(["run", FLAGSHIP, "--runs", "3000000", "--workers", "2", "--out", str(out), "--quiet", "--no-plots"])
    _wait_for(lambda: _parts(out) >= 1)
    children = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
    assert children
    p.kill()
    p.wait()

    def gone(pid: str) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
        except FileNotFoundError:
            return True

    _wait_for(lambda: all(gone(c) for c in children), timeout=10)


@pytest.mark.parametrize("manifest, words", [
    ("{bad", ["not valid JSON"]),
    ("{}", ["no scenario_file"]),
    ("[1]", ["no scenario_file"]),
])
def test_plot_on_a_damaged_folder_is_a_clean_error(tmp_path, manifest, words):
    out = tmp_path / "r"
    assert cli("run", FLAGSHIP, "--runs", "50", "--out", str(out), "--quiet", "--no-plots").returncode == 0
    (out / "manifest.json").write_text(manifest)
    _clean_error(cli("plot", str(out)), EXIT_INPUT, *words)


def test_plot_with_another_scenario_is_a_clean_error(tmp_path):
    out = tmp_path / "r"
    assert cli("run", FLAGSHIP, "--runs", "50", "--out", str(out), "--quiet", "--no-plots").returncode == 0
    _clean_error(cli("plot", str(out), "--scenario", "scenarios/us_japan_2025.toml"), EXIT_INPUT,
                 "not of scenarios/us_japan_2025.toml")


def test_a_sweep_being_resumed_cannot_be_resumed_twice(tmp_path):
    # D13: two resumes at once; one crashed on a shared temporary name
    out = tmp_path / "s"
    r = cli("sweep", FLAGSHIP, "--vary", "us.tactic.beta=0.2:2:3", "--runs", "50", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    records.claim_dir(out, empty=False)
    try:
        _clean_error(cli("sweep", "--resume", str(out), "--quiet"), EXIT_ENVIRONMENT, "another process")
    finally:
        records.release_dir(out)


def test_an_unreachable_dask_scheduler_stops_the_sweep_cleanly(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "d"
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    r = cli("sweep", FLAGSHIP, "--vary", "us.tactic.beta=0.2:2:3", "--runs", "50", "--executor", "dask",
            "--scheduler", "tcp://127.0.0.1:9", "--out", str(out), "--quiet", env=env)
    _clean_error(r, EXIT_ENVIRONMENT, "tcp://127.0.0.1:9")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "stopped" and "127.0.0.1:9" in manifest["error"]


def test_a_scenario_that_is_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "s.toml"
    os.mkfifo(fifo)
    _clean_error(cli("check", str(fifo), timeout=60), EXIT_INPUT, "not a regular file")


def test_params_shows_every_value(tmp_path):
    r = cli("params", FLAGSHIP)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines()[1:] if line and not line.startswith("declared")}
    assert "uniform(low=0.3, high=0.75)" in rows["parties.us.reservation"]
    assert rows["parties.us.issues.cash_share.weight"].split()[1] == "0.3"
    assert "(default)" not in r.stdout and all(len(line.split()) >= 3 for line in rows.values())


def test_params_output_to_a_closed_pipe_is_quiet():
    p = subprocess.Popen(f"{sys.executable} -m sim params {FLAGSHIP} | head -1", shell=True, cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=120)
    assert out.startswith("parameter") and "Error" not in err and "Traceback" not in err


def test_check_reads_the_case_library_and_names_a_bad_row(tmp_path):
    r = cli("check", "scenarios/library/cases.toml")
    assert r.returncode == 0, r.stderr
    assert "a case library of" in r.stdout
    (tmp_path / "templates").mkdir()
    for f in (ROOT / "scenarios" / "library" / "templates").glob("*.toml"):
        (tmp_path / "templates" / f.name).write_text(f.read_text())
    text = (ROOT / "scenarios" / "library" / "cases.toml").read_text()
    (tmp_path / "cases.toml").write_text(text.replace('id = "vietnam_jul9_2025"', 'id = "uk_jul9_2025"'))
    _clean_error(cli("check", str(tmp_path / "cases.toml")), EXIT_INPUT, "cases[1].id")


def test_set_fixes_a_parameter_and_plot_loads_the_run_with_it(tmp_path):
    """``--set`` fixes what the page's settings fix; the run's manifest keeps it, and ``plot``
    loads the scenario with it (its summit moved: the figures' reference line follows)."""
    out = tmp_path / "r"
    r = cli("run", FLAGSHIP, "--runs", "300", "--quiet", "--no-plots", "--out", str(out),
            "--set", "parties.korea.reservation=0.75", "--set", "scenario.deadline=2025-11-20")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"] == {"parties.korea.reservation": 0.75, "scenario.deadline": "2025-11-20"}
    summary = json.loads((out / "summary.json").read_text())
    assert "2025-11-20" in json.dumps(summary)  # P(by the summit) is by the moved summit
    names = ds.dataset(out / "runs").schema.names
    assert "param.parties.korea.reservation" not in names and "param.parties.us.reservation" in names
    r = cli("plot", str(out))
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr


@pytest.mark.parametrize("text, words", [
    ("[[headlines]]\ndate = 2025-10-25\n", ["headlines", "not a record section"]),
    ("positions = 3\n", ["positions", "array of [[positions]]"]),
    ("", ["no record items"]),
    ("[[positions]]\nside = \"us\"\nissue = \"annual_cash\"\nvalue = 20\n",
     ["whatif.toml: positions[0].date"]),  # the news file's own item, by its place in the file
    ("[[progress]]\ndate = 2025-10-25\nissues_apart = [1]\nsource = \"a\"\ntext = \"x\"\n"
     "[[progress]]\ndate = 2025-10-26\nissues_apart = [9]\nsource = \"b\"\ntext = \"y\"\n",
     ["whatif.toml: progress[1].issues_apart"]),
])
def test_a_bad_news_file_is_one_error_naming_it(tmp_path, text, words):
    news = tmp_path / "whatif.toml"
    news.write_text(text, encoding="utf-8")
    out = tmp_path / "never"
    r = cli("forecast", FLAGSHIP, "--as-of", "2025-10-25", "--news", str(news), "--out", str(out))
    _clean_error(r, EXIT_INPUT, *words)
    assert not out.exists()
