"""Likelihood-free inference: approximate Bayesian computation by sequential Monte Carlo.

The target is the posterior of a simulator's uncertain inputs θ and its other random draws
ξ given data y, under a Gaussian reporting-error kernel (Wilkinson 2013: ABC with a kernel
is exact inference when the kernel is the observation error)::

    π(θ, ξ | y) ∝ p(θ) p(ξ) 1[consistent(θ, ξ)] exp(ℓ(θ, ξ)),   ℓ = −½ Σ_k ((x_k − y_k) / σ_k)²

where x_k(θ, ξ) is the simulated counterpart of observation k, σ_k its reported precision,
and ``consistent`` a hard condition (the talks still open on the forecast date).

The sampler is adaptive ABC population Monte Carlo (Beaumont et al. 2009; Del Moral, Doucet
& Jasra 2012) with the kernel tempered, ``exp(λ ℓ)`` with λ rising from 0 to 1:

1. Population 0 comes from the prior: replications ``0 .. n0−1`` of the run's seed, exactly
   the worlds ``sim run`` plays. If the data are uninformative, it is the answer (an empty
   record gives the prior run itself; a status alone gives the exact conditional frequency).
2. Each later population is drawn afresh, independently, from a proposal built on the last:
   a multivariate Student t with the last population's weighted mean and covariance, over
   the inputs' probit transforms ``z = Φ⁻¹(u)`` of their prior uniforms, mixed with the prior
   itself (5%, so weights stay bounded). Weights are prior / proposal × kernel.
3. λ rises as far as the effective sample size (ESS) allows — all the way when the ESS stays
   above the target, else until the ESS halves.
4. At λ = 1, populations are pooled (adaptive multiple importance sampling, Cornuet et al.
   2012): each particle is weighed against the mixture of all pooled proposals (the balance
   heuristic), and new populations are drawn from a t fitted to the pool, until the pooled
   ESS reaches the target.

Given its proposal, every particle is an independent draw, so the pooled Kish ESS is a fair
measure of how much the data left of the sample. Every random number comes from named streams of the run's seed
(:func:`sim.world.uniforms`), and each particle's simulation depends only on its inputs and
its replication index: the result is the same for any number of workers.

Why not pyabc, the field's standard? Its samplers evaluate one particle at a time through
Python (this simulator's batch engine plays a whole population in one compiled call, ~100×
faster), and draw from numpy's global random state, so results depend on the worker count
(pyabc issue #400); both break this project's speed and reproducibility guarantees.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import solve_triangular
from scipy.special import gammaln, logsumexp, ndtr, ndtri
from scipy.stats import chi2
from threadpoolctl import OpenBLASController, ThreadpoolController

from sim.world import uniforms

#: Replication indices of population t start at t × STRIDE (distinct nuisance draws per population).
STRIDE = 1 << 32
#: A tempering step keeps at least this ESS (or the target, if lower): the next proposal is
#: fitted to it, and a t in a few dozen dimensions needs a few hundred effective particles.
MIN_STEP_ESS = 1000
#: Populations pooled at a time (the most recent ones): bounds the cost of the balance heuristic.
POOL = 4
U_MIN = 2.0**-53  # uniforms stay strictly inside (0, 1): inverse CDFs stay finite


_BLAS_LOCK = threading.Lock()
_blas_users = 0
_blas_limiter: Any = None


def _control_blas() -> None:
    """Let this thread set OpenBLAS's threads: threadpoolctl (≥ 3.8) lets one thread at a time
    set a process-wide pool and silently ignores the others (:func:`one_blas_thread`'s count,
    under its lock, is what decides here)."""
    OpenBLASController.clear_controlling_thread(force=True)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the sampler's linear algebra on one BLAS thread: in every thread of the process while
    any sampler runs (a count: the page runs several at once), the process's setting restored
    after the last.

    Its matrices are narrow (particles × a few dozen inputs): a multithreaded BLAS spent more
    time waking and waiting for its threads than computing (the page's forecasts: median 2.0 s
    against 2.7 s on 2 cores, ``benchmarks/bench_sampler.py``), and the last bits of its results
    depended on the machine's number of cores, where one thread gives the same bits everywhere.
    """
    global _blas_users, _blas_limiter
    with _BLAS_LOCK:
        if _blas_users == 0:
            _control_blas()
            _blas_limiter = ThreadpoolController().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _blas_users -= 1
            if _blas_users == 0:
                _control_blas()
                _blas_limiter.restore_original_limits()
                _control_blas()  # no thread left in control: the next sampler, or the caller's own limits
                _blas_limiter = None


@dataclass
class Batch:
    """A population's simulated particles: the uniforms of their uncertain inputs ``u``
    (``[n, d]``), the kernel's log ``ll`` (ℓ), whether each is ``ok`` (consistent), and what
    else the simulator returns per particle (``extra``, e.g. their records)."""

    u: np.ndarray
    ll: np.ndarray
    ok: np.ndarray
    extra: Any = None


#: ``simulate(u, first, n) -> Batch``: particles ``first .. first+n−1`` (their replication
#: indices); ``u`` None means "draw the inputs from their own streams" (population 0).
Simulator = Callable[[np.ndarray | None, int, int], Batch]


@dataclass
class Draw:
    """A population: its simulated particles, their probit inputs ``z``, and the proposal they
    were drawn from (None: the prior)."""

    number: int
    batch: Batch
    z: np.ndarray
    proposal: Proposal | None
    _densities: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def density_of(self, other: Draw) -> np.ndarray:
        """Log of ``other``'s proposal density at this population's particles (cached: pooled
        weights need every pair, again at every step)."""
        if other.number not in self._densities:
            q = other.proposal
            self._densities[other.number] = log_prior(self.z) if q is None else q.log_density(self.z)
        return self._densities[other.number]

    @property
    def log_prior(self) -> np.ndarray:
        """Log of the prior density at this population's particles."""
        return self.density_of(_PRIOR)


@dataclass
class Result:
    """The posterior sample: the populations drawn at λ = 1, pooled, with their weights
    (the balance heuristic over their proposals; summing to 1), and the path to it."""

    draws: list[Draw]
    weights: np.ndarray
    ess: float
    lam: float
    history: list[dict[str, float]] = field(default_factory=list)
    simulations: int = 0
    reached: bool = False  # λ = 1 with the ESS at least the target

    @property
    def batch(self) -> Batch:
        """The pooled particles (in population order)."""
        b = [d.batch for d in self.draws]
        return Batch(np.concatenate([x.u for x in b]), np.concatenate([x.ll for x in b]),
                     np.concatenate([x.ok for x in b]), [x.extra for x in b])


_PRIOR = Draw(-1, Batch(np.empty((0, 0)), np.empty(0), np.empty(0, dtype=bool)), np.empty((0, 0)), None)
"""Stands for the prior as a proposal (population 0's)."""


def kish_ess(log_w: np.ndarray) -> tuple[np.ndarray, float]:
    """Normalised weights from log-weights (−inf allowed) and their Kish ESS."""
    finite = np.isfinite(log_w)
    if not finite.any():
        return np.zeros(len(log_w)), 0.0
    w = np.exp(log_w - log_w[finite].max(), where=finite, out=np.zeros(len(log_w)))
    w /= w.sum()
    return w, float(1.0 / np.square(w).sum())


def next_lambda(log_base: np.ndarray, ll: np.ndarray, lam: float, min_ess: float) -> float:
    """The largest λ' in [λ, 1] whose weights ``log_base + λ' ℓ`` keep an ESS of ``min_ess``
    (λ itself when even it falls short; 1 when 1 keeps it). Bisection."""
    if kish_ess(log_base + ll)[1] >= min_ess:
        return 1.0
    lo, hi = lam, 1.0
    for _ in range(30):  # to within 1e-9
        mid = 0.5 * (lo + hi)
        if kish_ess(log_base + mid * ll)[1] >= min_ess:
            lo = mid
        else:
            hi = mid
    return lo


@dataclass(frozen=True)
class Proposal:
    """A defensive multivariate-t proposal in probit space (Hesterberg 1995; Cappé et al. 2008):
    with probability ``1 − eps`` a Student-t draw around the particles' weighted mean with
    their weighted covariance, else a draw from the prior N(0, I), which bounds every weight."""

    mean: np.ndarray  # [d]
    chol: np.ndarray  # [d, d], lower Cholesky factor of the t's scale matrix
    dof: float = 10.0
    eps: float = 0.05

    @classmethod
    def fit(cls, z: np.ndarray, weights: np.ndarray, dof: float = 10.0, eps: float = 0.05) -> Proposal:
        """The t whose covariance is the weighted covariance of the particles ``z``.

        In many dimensions a kernel density estimate, as in Beaumont et al. 2009, makes the
        weights collapse: its narrow kernels around a few thousand centres match the target poorly.
        """
        d = z.shape[1]
        mean = weights @ z
        cov = ((z - mean).T * weights) @ (z - mean) + 1e-9 * np.eye(d)
        return cls(mean, np.linalg.cholesky(cov * (dof - 2.0) / dof), dof, eps)

    def sample(self, seed: int, stream: str, first: int, n: int) -> np.ndarray:
        """``n`` draws (``[n, d]``), particle *j* from uniforms of ``(seed, stream, first + j)``."""
        d = len(self.mean)
        u = uniforms(seed, stream, first, n, d + 2)
        z = ndtri(u[:, 2:])
        from_t = u[:, 0] >= self.eps
        scale = np.sqrt(self.dof / chi2.ppf(u[:, 1], self.dof))
        z[from_t] = self.mean + (z[from_t] @ self.chol.T) * scale[from_t, None]
        return z

    def log_density(self, z: np.ndarray) -> np.ndarray:
        """Log q(z) of each row of ``z``."""
        d, nu = len(self.mean), self.dof
        y = solve_triangular(self.chol, (z - self.mean).T, lower=True, check_finite=False).T  # z is finite
        delta = np.square(y).sum(axis=1)
        log_t = (gammaln((nu + d) / 2) - gammaln(nu / 2) - 0.5 * d * math.log(nu * math.pi)
                 - float(np.log(np.diag(self.chol)).sum()) - 0.5 * (nu + d) * np.log1p(delta / nu))
        return np.logaddexp(math.log1p(-self.eps) + log_t, math.log(self.eps) + log_prior(z))


def log_prior(z: np.ndarray) -> np.ndarray:
    """Log of the prior, the standard normal density, in probit space."""
    return -0.5 * np.square(z).sum(axis=1) - 0.5 * z.shape[1] * math.log(2 * math.pi)


def to_uniform(z: np.ndarray) -> np.ndarray:
    """Probit space back to the inputs' prior uniforms, strictly inside (0, 1)."""
    return np.clip(ndtr(z), U_MIN, 1.0 - U_MIN)


def to_probit(u: np.ndarray) -> np.ndarray:
    """The inputs' prior uniforms to probit space."""
    return ndtri(np.clip(u, U_MIN, 1.0 - U_MIN))


@one_blas_thread()
def smc(simulate: Simulator, *, seed: int, n0: int, n: int, target_ess: float, rho: float = 0.5,
        max_populations: int = 20, max_n: int | None = None,
        progress: Callable[[dict[str, float]], None] | None = None) -> Result:
    """Run the sampler (see the module docstring): temper from the prior to λ = 1 with
    fresh populations from t proposals, then add populations at λ = 1 (adaptive multiple
    importance sampling, Cornuet et al. 2012: every particle weighed against the mixture of
    all the proposals so far) until the pooled ESS reaches ``target_ess``.

    Args:
        simulate: The simulator (see :data:`Simulator`).
        seed: The run's seed; every draw of the sampler comes from its named streams.
        n0: Particles of population 0 (the prior).
        n: Particles of each tempering population (the pooling populations grow, up to
            ``max_n``, to what the last one's efficiency says the target needs).
        target_ess: The effective sample size the posterior sample should reach.
        rho: A tempering step lets the ESS fall to this share of its last value.
        max_populations: Stop after this many populations, target reached or not.
        max_n: Largest population (default ``10 n``).
        progress: Called with each population's summary (for a progress display).
    """
    max_n = max_n or 10 * n
    draw = Draw(0, simulate(None, 0, n0), np.empty((n0, 0)), None)
    draw.z = to_probit(draw.batch.u)
    pool = [draw]
    log_base = _pooled(pool, lam=0.0, log=True)
    lam = _level(log_base, draw.batch.ll, 0.0, rho, target_ess, n0)
    history: list[dict[str, float]] = []
    simulations = n0
    _log(history, draw, lam, kish_ess(log_base + lam * draw.batch.ll)[1], simulations, progress)
    floor = min(target_ess, MIN_STEP_ESS)
    t, size = 1, n
    while t < max_populations:
        weights, ess = _pooled(pool, lam)
        if (lam >= 1.0 and ess >= target_ess) or ess < 2:
            break
        proposal = Proposal.fit(np.concatenate([d.z for d in pool]), weights)
        if lam >= 1.0:  # at the target: as many particles as the last population's efficiency says are needed
            last = _pooled([pool[-1]], 1.0)[1] / len(pool[-1].z)
            size = int(min(max_n, max(n, math.ceil(1.2 * (target_ess - ess) / max(last, 1e-6)))))
        z = proposal.sample(seed, f"abc.{t}.proposal", 0, size)
        pool = [*pool[-(POOL - 1):], Draw(t, simulate(to_uniform(z), t * STRIDE, size), z, proposal)]
        simulations += size
        ll = np.concatenate([d.batch.ll for d in pool])
        log_base = _pooled(pool, lam=0.0, log=True)
        if lam < 1.0:
            if kish_ess(log_base + lam * ll)[1] < floor:  # too few effective particles yet: more, same λ
                size = min(max_n, 2 * size)
            else:
                lam = _level(log_base, ll, lam, rho, target_ess, len(ll), floor)
        _log(history, pool[-1], lam, kish_ess(log_base + lam * ll)[1], simulations, progress)
        t += 1
    if lam < 1.0:  # out of populations: what the last pool says of the posterior itself, however thin
        pool = pool[-1:]
    weights, ess = _pooled(pool, 1.0)
    return Result(pool, weights, ess, lam, history, simulations, reached=lam >= 1.0 and ess >= target_ess)


def _pooled(pool: list[Draw], lam: float = 1.0, log: bool = False) -> Any:
    """Weights of the pooled populations at tempering level ``lam``: prior × kernel^λ over the
    balance heuristic's mixture of their proposals (Veach & Guibas 1995; Cornuet et al. 2012).
    ``log``: the log-weights instead of ``(weights, ESS)``."""
    ok = np.concatenate([d.batch.ok for d in pool])
    ll = np.concatenate([d.batch.ll for d in pool])
    total = len(ok)
    log_mix = logsumexp(np.stack([math.log(len(q.z) / total) + np.concatenate([d.density_of(q) for d in pool])
                                  for q in pool]), axis=0)
    log_w = np.where(ok, np.concatenate([d.log_prior for d in pool]) + lam * ll - log_mix, -np.inf)
    return log_w if log else kish_ess(log_w)


def _level(log_base: np.ndarray, ll: np.ndarray, lam: float, rho: float, target_ess: float, size: int,
           floor: float = 0.0) -> float:
    """How far to temper a population: all the way if the ESS stays above the target (or half
    the population), else until it falls to ``rho`` of its value at the last level, but not
    below ``floor`` (a proposal fitted to fewer effective particles would be poor)."""
    if kish_ess(log_base + ll)[1] >= min(target_ess, rho * size):
        return 1.0
    return next_lambda(log_base, ll, lam, max(floor, rho * kish_ess(log_base + lam * ll)[1]))


def _log(history: list[dict[str, float]], draw: Draw, lam: float, ess: float, simulations: int,
         progress: Callable[[dict[str, float]], None] | None) -> None:
    row = {"population": draw.number, "particles": len(draw.z), "consistent": int(draw.batch.ok.sum()),
           "lambda": lam, "ess": ess, "simulations": simulations}
    history.append(row)
    if progress:
        progress(row)
