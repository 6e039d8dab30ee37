"""The package's front door: what ``import sim`` offers, and the wings' layout."""

import re
from pathlib import Path

import pytest

import sim


def test_every_front_door_name_resolves_to_its_definition() -> None:
    for name in sim.__all__:
        assert getattr(sim, name) is not None
    assert sim.forecast.forecast.__module__ == "sim.forecast.conditioning"
    assert sim.run.__module__ == "sim.runner"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        sim.nothing  # noqa: B018


def test_the_core_never_imports_a_wing() -> None:
    """Arrows point down the flow: scenario, worlds, engines, runner, records and summaries
    import nothing from the forecasting or sweeping wings."""
    wing = re.compile(r"^\s*(from sim\.(forecast|sweep)|from sim import .*\b(forecast|sweep)\b)", re.M)
    root = Path(sim.__file__).parent
    core = [root / f for f in ("world.py", "batch.py", "runner.py", "records.py", "analysis.py", "outcomes.py",
                               "distributions.py", "plots.py")]
    core += [*(root / "scenario").glob("*.py"), *(root / "model").glob("*.py"), *(root / "negotiation").glob("*.py")]
    offenders = [str(f.relative_to(root)) for f in core if wing.search(f.read_text(encoding="utf-8"))]
    assert not offenders
