import numpy as np

from sim.world import SUMMIT, sample_worlds, uniforms


def test_uniform_streams_do_not_depend_on_chunking():
    whole = uniforms(7, "s", 0, 20, 3)
    parts = np.vstack([uniforms(7, "s", 0, 7, 3), uniforms(7, "s", 7, 13, 3)])
    assert np.array_equal(whole, parts)
    assert not np.array_equal(uniforms(7, "s", 0, 5), uniforms(8, "s", 0, 5))
    assert not np.array_equal(uniforms(7, "s", 0, 5), uniforms(7, "t", 0, 5))
    assert whole.min() > 0 and whole.max() < 1


def test_worlds_do_not_depend_on_chunking(flagship):
    a = sample_worlds(flagship, 3, 0, 40)
    b = sample_worlds(flagship, 3, 25, 15)
    assert np.array_equal(a.meetings[25:], b.meetings)
    assert np.array_equal(a.event_day[25:], b.event_day)
    for k in a.sampled:
        assert np.array_equal(a.sampled[k][25:], b.sampled[k])
    assert np.array_equal(a.parties[1].believed_weights[25:], b.parties[1].believed_weights)


def test_world_contents(flagship):
    w = sample_worlds(flagship, 1, 0, 500)
    assert (w.meetings[:, flagship.summit_day] == SUMMIT).all()
    assert w.parties[0].weights.sum(axis=1) == __import__("pytest").approx(1.0)
    lo, hi = flagship.parties[0].reservation.value.support
    assert (w.parties[0].reservation >= lo).all() and (w.parties[0].reservation <= hi).all()
    # believed weights are noisy but normalised
    assert not np.allclose(w.parties[0].believed_weights, w.parties[1].weights)
    assert np.allclose(w.parties[0].believed_weights.sum(axis=1), 1.0)
    fired = w.event_day >= 0
    assert fired.any() and not fired.all()


def test_nominal_world_uses_medians(flagship):
    w = sample_worlds(flagship, 1, 0, 1, nominal=True).row(0)
    assert float(w.parties[0].reservation) == flagship.parties[0].reservation.nominal


def test_common_random_numbers_across_scenarios(flagship):
    from sim.scenario import load_scenario
    from tests.conftest import ROOT
    swap = load_scenario(ROOT / "scenarios" / "us_korea_swap_line.toml")
    a, b = sample_worlds(flagship, 5, 0, 100), sample_worlds(swap, 5, 0, 100)
    assert np.array_equal(a.meetings, b.meetings)
    assert np.array_equal(a.parties[0].reservation, b.parties[0].reservation)
