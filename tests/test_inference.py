"""The sampler (sim.forecast.inference.smc) against posteriors known in closed form."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy.special import ndtri
from threadpoolctl import threadpool_info, threadpool_limits

from sim.forecast.inference import Batch, one_blas_thread, smc
from sim.world import uniforms


def gaussian_simulator(y: np.ndarray, sigma: np.ndarray, seed: int):
    """θ ~ N(0, I) (the probit of its prior uniforms), observed as y ~ N(θ, σ²): the posterior
    is N(y / (1 + σ²), σ² / (1 + σ²)) per coordinate. ``ok`` is always true."""
    d = len(y)

    def simulate(u, first, n):
        if u is None:
            u = uniforms(seed, "param.theta", first, n, d)
        theta = ndtri(u)
        ll = -0.5 * np.square((theta - y) / sigma).sum(axis=1)
        return Batch(u, ll, np.ones(n, dtype=bool), theta)

    return simulate


@pytest.mark.parametrize("y, sigma", [([1.5], [0.5]), ([0.8, -2.0], [0.3, 1.0])])
def test_smc_recovers_a_conjugate_gaussian_posterior(y, sigma):
    y, sigma = np.array(y), np.array(sigma)
    result = smc(gaussian_simulator(y, sigma, 3), seed=3, n0=4000, n=4000, target_ess=2000)
    assert result.reached and result.lam == 1.0 and result.ess >= 2000
    theta = np.concatenate([d.batch.extra for d in result.draws])
    w = result.weights
    mean = w @ theta
    sd = np.sqrt(w @ np.square(theta - mean))
    exact_mean, exact_sd = y / (1 + sigma**2), sigma / np.sqrt(1 + sigma**2)
    # Monte Carlo error on the ESS: a few standard errors of the mean
    assert np.all(np.abs(mean - exact_mean) < 4 * exact_sd / np.sqrt(result.ess))
    assert np.all(np.abs(sd / exact_sd - 1) < 0.06)


def test_smc_without_data_is_the_prior_population():
    result = smc(gaussian_simulator(np.zeros(1), np.array([np.inf]), 5), seed=5, n0=1000, n=1000, target_ess=500)
    assert len(result.draws) == 1 and np.allclose(result.weights, 1 / 1000)


def test_a_hard_condition_is_conditioned_exactly():
    """With θ > 1 as the only evidence, the posterior is N(0, 1) truncated at 1: its weights are
    the prior population's, restricted (the exact conditional frequency)."""
    def simulate(u, first, n):
        if u is None:
            u = uniforms(7, "param.theta", first, n, 1)
        theta = ndtri(u)[:, 0]
        return Batch(u, np.zeros(n), theta > 1, theta)

    result = smc(simulate, seed=7, n0=5000, n=5000, target_ess=200)
    first = result.draws[0].batch
    assert result.ess == pytest.approx(first.ok.sum())
    assert np.all(result.weights[~first.ok] == 0)


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_the_sampler_runs_on_one_blas_thread_and_gives_the_rest_back():
    """Inside a sampler BLAS has one thread (the same bits on any machine), in every thread of
    the process while any sampler runs, and the process's own setting comes back after the last."""
    if not _blas_threads():
        pytest.skip("no BLAS library found by threadpoolctl")
    seen: list[set[int]] = []

    def simulate(u, first, n):
        seen.append(_blas_threads())
        return gaussian_simulator(np.array([1.0]), np.array([0.5]), 2)(u, first, n)

    with threadpool_limits(limits=2, user_api="blas"):
        with one_blas_thread():  # another sampler still running (the page runs several at once)
            smc(simulate, seed=2, n0=500, n=500, target_ess=300)
            assert _blas_threads() == {1}
        assert _blas_threads() == {2}
    assert seen and all(s == {1} for s in seen)


def test_concurrent_samplers_keep_one_blas_thread_until_the_last_ends():
    if not _blas_threads():
        pytest.skip("no BLAS library found by threadpoolctl")
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    during: list[set[int]] = []

    def first() -> None:
        with one_blas_thread():
            first_in.set()
            second_in.wait(60)
        first_out.set()

    def second() -> None:
        with one_blas_thread():
            second_in.set()
            first_out.wait(60)
            during.append(_blas_threads())  # the first has left: still one thread for this one

    with threadpool_limits(limits=2, user_api="blas"):
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        threads[0].start()
        first_in.wait(60)
        threads[1].start()
        for t in threads:
            t.join(120)
        assert during == [{1}] and _blas_threads() == {2}
