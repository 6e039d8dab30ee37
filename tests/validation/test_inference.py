"""The forecast's inference: exact at its limits, calibrated on the flagship's record shape
(simulation-based calibration over 200 true worlds; the same rows as docs/VALIDATION.md)."""

from sim import validation


def test_the_inference_is_exact_and_calibrated():
    results = validation.check_inference(None)
    assert len(results) == 6
    failed = [f"{c.name}: expected {c.expected}, measured {c.measured}" for c in results if not c.passed]
    assert not failed, failed


def test_progress_reports_and_milestones_are_calibrated():
    results = validation.check_record_items(None)
    assert len(results) == 6
    failed = [f"{c.name}: expected {c.expected}, measured {c.measured}" for c in results if not c.passed]
    assert not failed, failed
