import pandas as pd
import pytest

from sim import analysis


def test_wilson_known_values():
    p, lo, hi = analysis.wilson(63, 100)
    assert p == 0.63
    assert lo == pytest.approx(0.5322, abs=1e-4) and hi == pytest.approx(0.7181, abs=1e-4)
    assert analysis.wilson(0, 50)[1] == 0.0 and analysis.wilson(50, 50)[2] == 1.0
    assert analysis.wilson(0, 0)[0] != analysis.wilson(0, 0)[0]  # NaN


def test_summary_of_a_run(flagship, tmp_path):
    import pyarrow.parquet as pq

    from sim.runner import run_chunk
    runs = run_chunk(flagship, 3, 0, 200)
    pq.write_table(runs, tmp_path / "runs.parquet")
    s = analysis.summarize(tmp_path / "runs.parquet", flagship)
    runs = runs.to_pandas()
    m = s["milestones"]["agreement"]
    assert m["before_summit"]["n"] == 200
    assert 0 <= m["before_summit"]["low"] <= m["before_summit"]["p"] <= m["before_summit"]["high"] <= 1
    assert m["before_summit"]["p"] <= m["by_horizon"]["p"]
    assert s["milestones"]["signed"]["by_horizon"]["p"] <= m["by_horizon"]["p"]
    assert sum(s["outcomes"].values()) == 200
    assert analysis.headline(s).startswith("P(agreement in principle by 2025-10-29) = ")
    assert isinstance(runs, pd.DataFrame)
