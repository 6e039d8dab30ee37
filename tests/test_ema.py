"""EMA Workbench interop: an EMA experiment plays the same replications as a sweep point."""

import builtins

import numpy as np
import pytest

from sim.scenario import read_document
from sim.sweep import run as sweep
from sim.sweep.ema import build_model
from tests.conftest import ROOT

ema_workbench = pytest.importorskip("ema_workbench")
FLAGSHIP = str(ROOT / "scenarios" / "us_korea_2025.toml")


def test_perform_experiments_runs_the_sweeps_replications():
    model = build_model(FLAGSHIP, replications=40, seed=3)
    names = list(model.parameter_paths)
    assert [p.name for p in (*model.uncertainties, *model.levers)] == names
    assert all(name.isidentifier() for name in names)
    experiments, outcomes = ema_workbench.perform_experiments(model, scenarios=3, policies=1)
    document, sha = read_document(FLAGSHIP)
    paths = [model.parameter_paths[name] for name in names]
    for k in range(3):
        values = experiments.loc[k, names].to_numpy(dtype=float)
        task = sweep.Task([(k, values)], document, FLAGSHIP, sha, paths, 3, 40, "batch", False)
        stats, _ = sweep.run_point(task, values)
        assert outcomes["p_agreement"][k] == pytest.approx(stats["p.agreement"], abs=1e-12)
        assert outcomes["p_agreement_by_horizon"][k] == pytest.approx(stats["p.agreement.by_horizon"], abs=1e-12)
    assert np.all((outcomes["p_agreement"] >= 0) & (outcomes["p_agreement"] <= 1))


def test_without_the_extra_the_error_says_what_to_install(monkeypatch):
    real = builtins.__import__

    def no_ema(name, *args, **kwargs):
        if name.startswith("ema_workbench"):
            raise ImportError("no module named ema_workbench")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ema)
    with pytest.raises(ImportError, match=r"negotiation-sim\[ema\]"):
        build_model(FLAGSHIP)
