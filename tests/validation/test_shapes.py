"""Known shapes: deadline effect, two-level games, comparison cases (directional, beyond 2 s.e.)."""

from __future__ import annotations

import pytest

from sim import validation


@pytest.mark.parametrize("check", [validation.check_deadline_effect, validation.check_two_level,
                                   validation.check_comparison_cases, validation.check_deadline_calendar])
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


def test_deadline_hazard_counts_only_worlds_still_open():
    from sim.scenario import load_scenario
    from sim.validation.deadlines import daily_hazard, days_before

    sc = load_scenario("scenarios/us_korea_2025.toml")
    d = sc.summit_day
    days = [d, d, d - 1, d - 3, d + 5, float("nan")]
    assert sorted(days_before(sc, days).tolist()) == [0, 0, 1, 3]
    h = daily_hazard(sc, days, window=3)  # 3, 2, 1, 0 days before
    # 3 days before: 5 worlds at risk (those agreeing from then on), 1 agrees; 2 days: none;
    # 1 day: 1 of 4; on the day: 2 of 3 (one agrees after the deadline)
    assert h.tolist() == [1 / 5, 0.0, 1 / 4, 2 / 3]
