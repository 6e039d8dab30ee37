"""Forecasts that condition on the negotiation record, as of any date.

A forecast as of day D asks: given everything the record says up to D — each side's
reported positions, the shocks that struck and those that did not, the rounds that took
place — and that the talks were still open on D (no agreement, nobody gone), what follows?

- Facts about the calendar enter exactly: an event's day and a round's taking place are
  drawn from their distribution given what is known (:class:`sim.world.Known`).
- Positions enter through a Gaussian kernel on the gap between each side's simulated
  standing offer on the report's date and the reported value. Its standard deviation adds
  the model's own error (:data:`MODEL_ERROR` of the issue's range: a standing offer is a
  stylised stand-in for what a side says in public) to the report's precision in quadrature,
  so no single report, however precise, can pin a world down more tightly than the model
  can (Kennedy & O'Hagan 2001's model discrepancy).
- Progress reports ("one or two issues left") enter through the number of issues on which
  the sides' standing offers still differ by more than the report's tolerance: a report is
  right with its stated reliability (at most 0.95), so it moves a world's odds at most 19-fold.
- The status enters as a hard condition.
- :func:`sim.forecast.inference.smc` weighs (and re-draws) worlds until the weighted sample
  reproduces the record; the milestones' probabilities are then read off that sample, with
  Wilson intervals on its effective sample size (ESS).

The prior (the same scenario with no record) is reported beside every figure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from sim import analysis, records, runner
from sim.forecast.inference import Batch, Result, smc
from sim.outcomes import Outcomes
from sim.scenario import MILESTONES, Position, Progress, Scenario
from sim.world import Known, sample_worlds, uniforms

#: Below this ESS a forecast is refused: the record could not be matched.
MIN_ESS = 200
#: The model's own error in a reported position, as a share of the issue's range (see above).
MODEL_ERROR = 0.05
#: Particles per simulation task (workers take tasks of this size).
TASK = 5000


#: No forecast rests on fewer effective particles than this, whatever the target.
MIN_ESS_ABSOLUTE = 30
#: Pooled particles at the most, as a multiple of --particles (the prior run, then populations
#: of up to 10×: see :func:`sim.forecast.inference.smc`), and the copies a forecast holds of each.
POOLED, COPIES = 11, 5


class ForecastError(ValueError):
    """A forecast that cannot be made as asked (e.g. a date outside the scenario)."""


class RecordNotMatched(RuntimeError):
    """The sampler could not reproduce the record: no forecast is given (exit 1)."""


def ess_floor(target_ess: float) -> float:
    """The least ESS a forecast may rest on: half the target, at most :data:`MIN_ESS` and at
    least :data:`MIN_ESS_ABSOLUTE`."""
    return max(MIN_ESS_ABSOLUTE, min(MIN_ESS, target_ess / 2))


def memory_needed(scenario: Scenario, particles: int, workers: int) -> int:
    """About how many bytes a forecast of ``particles`` holds at its peak: each pooled particle's
    record (its sampled parameters, outcomes and terms) and standing offers on the observation
    days, and each worker's task of :data:`TASK` particles."""
    n_issues, n_obs = len(scenario.issues), len(scenario.observation_days)
    row = 8 * (len(scenario.uncertain) + 4 * n_issues + 30 + n_obs * 2 * n_issues)
    task = 8 * min(TASK, particles) * (n_obs * 2 * n_issues + scenario.horizon_day + 64)
    return particles * POOLED * COPIES * row + 2 * max(workers, 1) * task


def physical_memory() -> int:
    """This machine's memory in bytes (0 if unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover — not POSIX
        return 0


@dataclass(frozen=True)
class Evidence:
    """The record as of a date, ready to weigh worlds with.

    Attributes:
        as_of: The forecast date (None: no record, no status: the prior).
        day: Its day since the scenario's start (−1 without a date).
        positions: The positions reported on or before it.
        obs, side, issue, value, precision: Per position, the index of its day among the
            scenario's observation days, and the side, issue, value and the kernel's standard
            deviation (the report's precision and the model's error, in quadrature).
        known: Events and rounds known for certain by then.
        reached: Milestones the record says were reached by then: name → (first, last) day of
            the window the worlds must reach it in.
        progress: The progress reports dated on or before it.
        p_obs, p_allowed, p_tolerance, p_reliability: Per progress report, the index of its
            day among the observation days, which counts of issues apart it allows (``[P, I+1]``),
            its tolerance in each issue's units (``[P, I]``) and its reliability.
    """

    as_of: dt.date | None
    day: int
    positions: tuple[Position, ...]
    obs: np.ndarray
    side: np.ndarray
    issue: np.ndarray
    value: np.ndarray
    precision: np.ndarray
    known: Known
    progress: tuple[Progress, ...] = ()
    p_obs: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    p_allowed: np.ndarray = field(default_factory=lambda: np.empty((0, 0), dtype=bool))
    p_tolerance: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    p_reliability: np.ndarray = field(default_factory=lambda: np.empty(0))
    reached: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """No record and no status: the forecast is the prior run."""
        return self.as_of is None

    def question(self, headline: str) -> str:
        """The milestone a forecast is of: the scenario's ``headline``, or the first one after
        those the record says were reached, if later."""
        order = list(MILESTONES)
        after = [m for m in order if m not in self.reached]
        nxt = after[0] if after else order[-1]
        return max(headline, nxt, key=order.index)


def evidence(scenario: Scenario, as_of: dt.date | None) -> Evidence:
    """The scenario's record up to ``as_of`` (inclusive) as :class:`Evidence`.

    Raises:
        ForecastError: if ``as_of`` lies outside the scenario's period.
    """
    if as_of is None:
        ints, floats = np.empty(0, dtype=int), np.empty(0, dtype=float)
        return Evidence(None, -1, (), ints, ints, ints, floats, floats, Known())
    if not scenario.start <= as_of <= scenario.horizon:
        raise ForecastError(f"--as-of {as_of} lies outside the scenario's period "
                            f"{scenario.start} .. {scenario.horizon}")
    day = (as_of - scenario.start).days
    record = scenario.record
    positions = tuple(p for p in record.positions if p.day <= day) if record else ()
    obs_days = scenario.observation_days
    fired: dict[str, int] = {}
    quiet: dict[str, int] = {}
    rounds: dict[int, bool] = {}
    for e in record.events if record else ():
        if e.day is not None:  # it struck on e.day: known once that day has come, else "not yet"
            if e.day <= day:
                fired[e.name] = e.day
            else:
                quiet[e.name] = day
        elif e.checked_day is not None:
            quiet[e.name] = min(e.checked_day, day)
    for r in record.rounds if record else ():
        if r.known_from <= day:
            rounds[r.day] = r.held
    span = np.array([i.high - i.low for i in scenario.issues])
    reports = tuple(p for p in record.progress if p.day <= day) if record else ()
    allowed = np.zeros((len(reports), len(scenario.issues) + 1), dtype=bool)
    for k, p in enumerate(reports):
        allowed[k, list(p.apart)] = True
    reached = {m.name: (m.day - m.window, m.day) for m in (record.milestones if record else ()) if m.day <= day}
    return Evidence(as_of, day, positions, np.array([obs_days.index(p.day) for p in positions], dtype=int),
                    np.array([p.side for p in positions], dtype=int), np.array([p.issue for p in positions], dtype=int),
                    np.array([p.value for p in positions], dtype=float),
                    np.array([math.hypot(p.precision, MODEL_ERROR * span[p.issue]) for p in positions], dtype=float),
                    Known(fired, quiet, rounds), reports, np.array([obs_days.index(p.day) for p in reports], dtype=int),
                    allowed, np.array([p.tolerance * span for p in reports]).reshape(len(reports), len(span)),
                    np.array([p.reliability for p in reports], dtype=float), reached)


def simulated(out: Outcomes, ev: Evidence) -> np.ndarray:
    """Each replication's counterpart of every observation: the side's standing offer on the
    issue on the report's day (``[R, K]``)."""
    return out.standing[:, ev.obs, ev.side, ev.issue]


def issues_apart(out: Outcomes, ev: Evidence) -> np.ndarray:
    """Each replication's count, on each progress report's day, of the issues on which the two
    sides' standing offers differ by more than the report's tolerance (``[R, P]``)."""
    if not len(ev.progress):
        return np.zeros((len(out.agreement_day), 0), dtype=int)
    standing = out.standing[:, ev.p_obs]  # [R, P, 2, I]
    return (np.abs(standing[:, :, 0] - standing[:, :, 1]) > ev.p_tolerance[None]).sum(axis=2)


def log_likelihood(out: Outcomes, ev: Evidence) -> tuple[np.ndarray, np.ndarray]:
    """Each replication's log-likelihood of the record's positions and progress reports, and
    its counterparts of them: the positions' (:func:`simulated`), then the progress reports'
    counts of issues apart (``[R, K + P]``)."""
    x = simulated(out, ev)
    ll = -0.5 * np.square((x - ev.value) / ev.precision).sum(axis=1)
    counts = issues_apart(out, ev)
    if len(ev.progress):
        said = np.take_along_axis(ev.p_allowed[None], counts[:, :, None], axis=2)[:, :, 0]
        ll += np.where(said, np.log(ev.p_reliability), np.log1p(-ev.p_reliability)).sum(axis=1)
    return ll, np.hstack([x, counts.astype(float)])


def still_open(out: Outcomes, day: int, reached: dict[str, tuple[int, int]] | None = None) -> np.ndarray:
    """Which replications had neither an agreement nor a walk-out on or before ``day`` — or,
    given the milestones a record says were ``reached`` (name → the window of days it came in),
    reached each in its window and the next not by ``day``, nobody gone."""
    reached = reached or {}
    ok = ~((out.walked_away >= 0) & (out.end_day <= day))
    for m in MILESTONES:
        d = getattr(out, f"{m}_day")
        if m not in reached:
            return ok & ~((d >= 0) & (d <= day))
        lo, hi = reached[m]
        ok &= (d >= lo) & (d <= hi)
    return ok


@dataclass(frozen=True)
class Job:
    """What every simulation task needs (picklable: sent to worker processes)."""

    scenario: Scenario
    seed: int
    evidence: Evidence
    engine: str = "batch"
    records: bool = True  # False: only the sampled parameters and milestone days (calibration's needs)


def inferred(scenario: Scenario) -> list[tuple[str, int]]:
    """The random streams a forecast infers, with their widths: every uncertain parameter, and
    each side's noisy beliefs about the other's priorities (they decide which issues it
    concedes first, so the record informs them too). The other draws (contacts, event days
    after the forecast date, delays) stay fresh for every particle."""
    out = [(f"param.{p.path}", 1) for p in scenario.uncertain]
    out += [(f"belief.{p.key}", len(scenario.issues)) for p in scenario.parties if p.weight_noise.support[1] > 0]
    return out


def simulate_task(args: tuple[Job, np.ndarray | None, int, int]) -> Batch:
    """Simulate particles ``first .. first+n−1``: their worlds, outcomes, records and fit."""
    job, u, first, n = args
    sc, ev = job.scenario, job.evidence
    streams = inferred(sc)
    if u is None:  # every draw from its own stream: exactly the worlds of `sim run`
        u = np.column_stack([uniforms(job.seed, s, first, n, k) for s, k in streams]) if streams else np.empty((n, 0))
        worlds = sample_worlds(sc, job.seed, first, n, known=ev.known)
    else:
        cuts = np.cumsum([0] + [k for _, k in streams])
        given = {s: u[:, cuts[j]:cuts[j + 1]] for j, (s, _) in enumerate(streams)}
        worlds = sample_worlds(sc, job.seed, first, n, given=given, known=ev.known)
    out = runner.ENGINES[job.engine](sc, worlds)
    ll, x = log_likelihood(out, ev)
    ok = still_open(out, ev.day, ev.reached) if not ev.empty else np.ones(n, dtype=bool)
    if job.records:
        return Batch(u, ll, ok, (records.chunk_table(sc, worlds, out), x))
    light = {f"param.{k}": v for k, v in worlds.sampled.items()} | {
        "agreement_day": out.agreement_day, "signed_day": out.signed_day, "ratified_day": out.ratified_day}
    return Batch(u, ll, ok, (pa.table(light), x))


def _concat(parts: list[Batch]) -> Batch:
    return Batch(np.concatenate([p.u for p in parts]), np.concatenate([p.ll for p in parts]),
                 np.concatenate([p.ok for p in parts]),
                 (pa.concat_tables([p.extra[0] for p in parts]), np.concatenate([p.extra[1] for p in parts])))


@contextmanager
def workers_pool(workers: int) -> Iterator[Any]:
    """A process pool for every population of a forecast (None: simulate in this process)."""
    with runner.process_pool(workers) if workers > 1 else nullcontext() as pool:
        yield pool


def simulator(job: Job, pool: Any, workers: int) -> Callable[[np.ndarray | None, int, int], Batch]:
    """A :data:`sim.forecast.inference.Simulator` for ``job``, on ``pool`` (or in this process)."""
    def simulate(u: np.ndarray | None, first: int, n: int) -> Batch:
        tasks = [(job, None if u is None else u[k:k + TASK], first + k, min(TASK, n - k)) for k in range(0, n, TASK)]
        if pool is None:
            return _concat([simulate_task(t) for t in tasks])
        done = {id(t): fut for t, fut in runner.as_completed_bounded(pool, simulate_task, tasks, 2 * workers)}
        return _concat([done[id(t)].result() for t in tasks])  # in particle order, whatever finished first

    return simulate


@dataclass
class Forecast:
    """A forecast: the prior run, the posterior sample, and how the record was fitted."""

    scenario: Scenario
    evidence: Evidence
    seed: int
    prior: pa.Table
    posterior: pa.Table  # the posterior sample's records, with `weight` and `log_likelihood` columns
    result: Result
    fit: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def probabilities(self) -> dict[str, dict[str, Any]]:
        """Per milestone, P(reached on or before the summit) and by the horizon: the prior
        (no record) and the forecast given the record, each with its 95% interval."""
        sc = self.scenario
        out = {}
        w = self.posterior.column(analysis.WEIGHT).to_numpy()
        for m, label in MILESTONES.items():
            stats = {}
            for name, table, weights in (("prior", self.prior, None), ("forecast", self.posterior, w)):
                day = table.column(f"{m}_day").fill_null(-1).to_numpy(zero_copy_only=False)
                ok = table.column("error").is_null().to_numpy(zero_copy_only=False)
                s = analysis.milestone_stats(day, ok, sc.summit_day, weights)
                stats[name] = {"before_summit": s["before_summit"], "by_horizon": s["by_horizon"]}
            out[m] = {"label": label, **stats}
        return out


def forecast(scenario: Scenario, as_of: dt.date | None, *, seed: int = 0, workers: int = 1,
             particles: int = 20_000, target_ess: float = 2_000, engine: str = "batch",
             progress: Callable[[dict[str, float]], None] | None = None) -> Forecast:
    """Forecast ``scenario`` as of ``as_of`` given its record (None: no record, the prior).

    Args:
        scenario: The scenario (its record, if any, is the evidence).
        as_of: The forecast date: the record up to it, inclusive, and no agreement by it.
        seed: The run's seed (the prior run is ``sim run --seed seed``'s first ``particles``).
        workers: Worker processes.
        particles: Size of the prior run and of each later population.
        target_ess: The effective sample size to reach.
        engine: ``batch`` or ``mesa`` (same results).
        progress: Called with each population's summary.
    """
    ev = evidence(scenario, as_of)
    need, have = memory_needed(scenario, particles, workers), physical_memory()
    if have and need > 0.75 * have:
        raise ForecastError(f"--particles {particles:,} needs about {need / 2**30:,.1f} GiB for this scenario and "
                            f"record, more than this machine's {have / 2**30:,.1f} GiB allow: use fewer particles")
    with workers_pool(workers) as pool:
        # the prior: the scenario with no record (the same worlds as `sim run --seed seed`)
        prior = simulator(Job(scenario, seed, evidence(scenario, None), engine), pool, workers)(None, 0, particles)
        result = smc(simulator(Job(scenario, seed, ev, engine), pool, workers), seed=seed, n0=particles, n=particles,
                     target_ess=target_ess, progress=progress)
    floor = ess_floor(target_ess)
    if not (result.lam >= 1.0 and result.ess >= floor and np.isfinite(result.weights).all()
            and result.weights.sum() > 0):
        raise RecordNotMatched(
            f"no forecast: the sampler could not reproduce the record to {as_of} (effective sample size "
            f"{result.ess:,.0f}, below the floor of {floor:,.0f}, after {result.simulations:,} simulations"
            f"{'' if result.lam >= 1.0 else f', tempering stopped at λ = {result.lam:.2f} of 1'}). A number from "
            f"so few worlds would be confidently wrong. Rerun with more particles (--particles {4 * particles:,}), "
            f"and check that the record's precisions and reliabilities are not tighter than the reports allow and "
            f"that no entry contradicts the scenario")
    pooled = result.batch
    # particles under 1/1,000 of the mean weight carry under 0.1% of the posterior together: left out
    keep = result.weights * len(result.weights) >= 1e-3
    weights = result.weights[keep] / result.weights[keep].sum()
    if np.ptp(weights) <= 1e-12 * weights.max():  # equal weights (no record): exactly those of the prior run
        weights = np.full(len(weights), 1.0 / len(weights))
    table = pa.concat_tables([extra[0] for extra in pooled.extra]).filter(pa.array(keep))
    x = np.concatenate([extra[1] for extra in pooled.extra])[keep]
    mean_one = np.ones(len(weights)) if analysis.equal_weights(weights) else weights * len(weights)
    posterior = table.append_column(analysis.WEIGHT, pa.array(mean_one, pa.float64())).append_column(
        "log_likelihood", pa.array(pooled.ll[keep], pa.float64()))
    fc = Forecast(scenario, ev, seed, prior.extra[0], posterior, result)
    fc.fit = _fit(ev, x, weights, scenario)
    fc.warnings = _warnings(fc, particles, target_ess)
    return fc


def _fit(ev: Evidence, x: np.ndarray, weights: np.ndarray, sc: Scenario) -> list[dict[str, Any]]:
    """How well the posterior reproduces each observation: for a position, the weighted mean of
    the simulated value and of its standardised gap z = (x − y) / σ (σ the kernel's standard
    deviation); for a progress report, the mean count of issues apart and the weight of the
    worlds that agree with it."""
    rows = []
    for k, p in enumerate(ev.positions):
        z = (x[:, k] - p.value) / ev.precision[k]
        issue = sc.issues[p.issue]
        rows.append({"date": p.date.isoformat(), "side": sc.parties[p.side].key, "issue": issue.key,
                     "reported": p.value, "precision": p.precision, "kernel_sd": float(ev.precision[k]),
                     "simulated_mean": float(weights @ x[:, k]),
                     "z_mean": float(weights @ z), "z_rms": float(math.sqrt(weights @ np.square(z))),
                     "source": p.source})
    for k, report in enumerate(ev.progress):
        counts = x[:, len(ev.positions) + k].astype(int)
        rows.append({"date": report.date.isoformat(), "progress": report.text, "issues_apart": list(report.apart),
                     "reliability": report.reliability, "simulated_mean": float(weights @ counts),
                     "share_consistent": float(weights @ ev.p_allowed[k, counts]), "source": report.source})
    return rows


def _warnings(fc: Forecast, particles: int, target_ess: float) -> list[str]:
    out = []
    ess = fc.result.ess
    if ess < MIN_ESS:
        out.append(f"the effective sample size is only {ess:,.0f}: the intervals are wide for it. The record is "
                   f"hard for the model to reproduce (see the observations with large |z| in forecast.json). Rerun "
                   f"with more particles (--particles {4 * particles:,}).")
    elif not fc.result.reached:
        out.append(f"the sampler stopped at an ESS of {ess:,.0f}, below the target {target_ess:,.0f}: the "
                   f"intervals are wider for it. Rerun with more particles (--particles {2 * particles:,}).")
    worst = [f for f in fc.fit if f.get("z_rms", 0.0) > 3]
    for f in worst:
        out.append(f"the model reproduces {f['side']}'s {f['issue']} of {f['date']} poorly (reported "
                   f"{f['reported']:g}, simulated {f['simulated_mean']:.3g} on average, |z| ≈ {f['z_rms']:.1f})")
    return out


def combine(parts: list[tuple[Forecast, float]]) -> Forecast:
    """The mixture of forecasts of one scenario under different priors, weighted (priors learned
    across cases, :mod:`sim.forecast.priors`): the posterior samples pooled with each one's weights
    scaled by its share, the prior runs subsampled in proportion. Figures, intervals and the ESS
    then come from the pooled sample as for any forecast."""
    parts = [(fc, w) for fc, w in parts if w > 0]
    if len(parts) == 1:
        return parts[0][0]
    total = sum(w for _, w in parts)
    n = sum(fc.posterior.num_rows for fc, _ in parts)
    # the largest prior sample the parts' prior runs can give in their shares (their sizes may differ)
    size = min(fc.prior.num_rows * total / w for fc, w in parts)
    tables, priors_, weights = [], [], []
    for fc, w in parts:
        col = fc.posterior.column(analysis.WEIGHT).to_numpy()
        share = w / total
        weights.append(col / col.sum() * share)
        tables.append(fc.posterior.drop_columns([analysis.WEIGHT]))
        priors_.append(fc.prior.slice(0, min(fc.prior.num_rows, round(share * size))))
    w_all = np.concatenate(weights)
    posterior = pa.concat_tables(tables, promote_options="default").append_column(
        analysis.WEIGHT, pa.array(w_all * n, pa.float64()))
    top = max(parts, key=lambda part: part[1])[0]
    result = dataclasses.replace(top.result, weights=w_all, ess=analysis.ess(w_all),
                                 reached=all(fc.result.reached for fc, _ in parts),
                                 simulations=sum(fc.result.simulations for fc, _ in parts))
    out = Forecast(top.scenario, top.evidence, top.seed, pa.concat_tables(priors_, promote_options="default"),
                   posterior, result, top.fit)
    out.warnings = sorted({w for fc, _ in parts for w in fc.warnings})
    return out
