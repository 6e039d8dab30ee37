"""Known shapes: deadline effect, two-level games, comparison cases (directional, beyond 2 s.e.)."""

from __future__ import annotations

import pytest

from sim import validation


@pytest.mark.parametrize("check", [validation.check_deadline_effect, validation.check_two_level,
                                   validation.check_comparison_cases])
def test_known_shape_holds(check):
    results = check(None)
    failed = [f"{c.name}: expected {c.expected}, measured {c.measured}" for c in results if not c.passed]
    assert not failed, failed


def test_report_has_a_row_per_check_and_the_figures(tmp_path):
    checks = validation.check_solutions(None) + validation.check_zeuthen(tmp_path)
    text = validation.report(checks)
    assert f"**{len(checks)} of {len(checks)} checks pass.**" in text
    assert text.count("| 1. Bargaining solutions |") == 4
    assert "![validation_zeuthen.png](img/validation_zeuthen.png)" in text
    assert (tmp_path / "validation_zeuthen.png").is_file()
