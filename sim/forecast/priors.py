"""Behavioural priors learned across the case library: hierarchical Bayes on a grid of hyperparameters.

Every scenario's behavioural priors are judgements (a side's reservation value, how much missing
the public deadline costs it, how fast it concedes). Three hyperparameters rescale them in every
scenario at once (:func:`apply`):

- ``reservation_shift`` — added to both sides' reservation values (a narrower or wider zone of
  agreement than the judgement);
- ``pressure_scale`` — multiplies both sides' ``deadline_cost`` (0: nobody feels the deadline);
- ``pace_scale`` — multiplies both sides' concession exponent β (above 1: they concede sooner).

The hyperprior is uniform on a 3 × 3 × 3 grid (:data:`GRID`) around the judgement (0, 1, 1),
one hyperposterior per kind of talk (a scenario's ``kind``: the library's templates, ``meeting``
and ``tariff_threat``), learned from the cases of that kind only — a deadline that is a tariff
date and one that is a meeting need not be felt alike — and one for all cases together, which
forecasts a scenario of no kind or of a kind the library has no case of. The
likelihood of a grid point is that of the library's outcomes given each case's record: for a case,
the mean over its forecast dates of ln P(what happened | the record to that date, the point) — a
composite (pseudo-)likelihood that counts each talk once however many dates it has (the dates of
one talk are not independent evidence). The hyperposterior's weights give the learned prior: the
mixture of the grid points' forecasts (Bayesian model averaging), with points under
:data:`MIN_WEIGHT` dropped and the rest renormalised, so a forecast runs a few scenarios, not 27.

Why this and not ABC on summaries: each case's forecast *is* the exact predictive probability of
its outcome under a grid point (the engine's own likelihood, estimated by the same sampler the
forecasts use), so the grid gives the hyperposterior without a tolerance or a summary statistic;
27 points × ~230 forecasts run in minutes. Cross-validation (:func:`weights` with ``without``)
re-weighs the same forecasts leaving a group of cases out, at no extra simulation.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import itertools
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.scenario import Scenario, ScenarioError, parse_scenario
from sim.scenario.files import toml_value

#: Grid points whose hyperposterior weight is below this are dropped from the mixture.
MIN_WEIGHT = 0.01
#: The learned priors the flagship uses, fitted on the whole library (``python -m sim backtest
#: --cross-validate --write-priors``): repository-relative.
LEARNED = Path("scenarios/library/learned.toml")
#: What the learned priors file keeps of the cross-validated backtest behind it (its track
#: record, :func:`sim.forecast.backtest.track_record`): the scores over all talks, the reliability
#: bins, and per kind of talk and per case the scores the page's track record shows.
TRACK_SUMMARY = ("forecasts", "cases", "groups", "happened", "brier", "log_score", "brier_pooled", "brier_judgement",
                 "brier_base", "brier_base_kind", "log_score_base", "log_score_base_kind", "brier_skill_vs_base",
                 "brier_skill_vs_base_kind", "brier_skill_vs_pooled", "brier_skill_vs_judgement")
TRACK_BINS = ("reliability", "reliability_pooled", "reliability_judgement")
TRACK_KIND = ("forecasts", "cases", "happened", "brier", "brier_base", "brier_base_kind")
TRACK_CASE = ("case", "kind", "forecasts", "happened", "brier", "brier_judgement", "brier_base", "brier_base_kind",
              "p", "p_base")


@dataclass(frozen=True)
class Hyper:
    """One point of the hyperparameter grid (see the module docstring)."""

    reservation_shift: float = 0.0
    pressure_scale: float = 1.0
    pace_scale: float = 1.0

    @property
    def judgement(self) -> bool:
        """Whether this is the scenarios' own priors, unchanged."""
        return self == Hyper()

    def label(self) -> str:
        """The point in words."""
        return (f"reservation {self.reservation_shift:+.2f}, pressure ×{self.pressure_scale:g}, "
                f"pace ×{self.pace_scale:g}")


GRID: tuple[Hyper, ...] = tuple(Hyper(r, p, b) for r, p, b in itertools.product((-0.15, 0.0, 0.15), (0.0, 1.0, 2.5),
                                                                               (0.5, 1.0, 2.0)))
JUDGEMENT = GRID.index(Hyper())


def _shift(value: Any, delta: float, lo: float, hi: float) -> Any:
    """A number or a distribution's table moved by ``delta``, kept inside [lo, hi]."""
    def clip(x: float) -> float:
        return min(max(x + delta, lo), hi)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return clip(float(value))
    if isinstance(value, dict) and value.get("dist") != "choice":
        out = dict(value)
        for key in ("low", "high", "mode", "mean"):
            if key in out:
                out[key] = clip(float(out[key]))
        if "low" in out and "high" in out and not out["low"] < out["high"]:
            return out["low"]  # the whole range was pushed past an edge: a point on that edge
        return out
    return value


def _scale(value: Any, factor: float) -> Any:
    """A number or a distribution's table multiplied by ``factor`` (0 gives the number 0)."""
    if factor == 0:
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) * factor
    if isinstance(value, dict) and value.get("dist") != "choice":
        return {k: (float(v) * factor if k in ("low", "high", "mode", "mean", "sd") else v) for k, v in value.items()}
    return value


def apply(document: Mapping[str, Any], h: Hyper) -> dict[str, Any]:
    """A scenario document with its behavioural priors rescaled by ``h`` (a copy; absent fields,
    which take their defaults, are left absent: a side with no ``deadline_cost`` feels none)."""
    doc = copy.deepcopy(dict(document))
    if h.judgement:
        return doc
    for side in doc.get("parties", {}).values():
        if "reservation" in side and h.reservation_shift:
            side["reservation"] = _shift(side["reservation"], h.reservation_shift, 0.0, 0.99)
        if "deadline_cost" in side and h.pressure_scale != 1:
            side["deadline_cost"] = _scale(side["deadline_cost"], h.pressure_scale)
            if isinstance(side["deadline_cost"], dict):  # a cost is a share of the surplus: below 1
                if "high" in side["deadline_cost"]:
                    side["deadline_cost"]["high"] = min(side["deadline_cost"]["high"], 0.95)
            elif side["deadline_cost"] > 0.95:
                side["deadline_cost"] = 0.95
        tactic = side.get("tactic", {})
        if "beta" in tactic and h.pace_scale != 1:
            tactic["beta"] = _scale(tactic["beta"], h.pace_scale)
    return doc


def scenario_with(document: Mapping[str, Any], h: Hyper, file: str, sha: str = "") -> Scenario:
    """The scenario ``document`` describes, with ``h``'s priors."""
    return parse_scenario(apply(document, h), file, sha)


# --- the hyperposterior ------------------------------------------------------------------------


def case_log_likelihood(log_scores: np.ndarray, case_of: np.ndarray) -> dict[Any, np.ndarray]:
    """Per case, the mean over its forecasts of the log score at each grid point.

    Args:
        log_scores: ``[points, forecasts]``.
        case_of: The case (any hashable key) of each forecast.
    """
    out = {}
    for case in dict.fromkeys(case_of.tolist()):
        out[case] = log_scores[:, case_of == case].mean(axis=1)
    return out


def weights(per_case: Mapping[Any, np.ndarray], without: Iterable[Any] = (),
            only: Iterable[Any] | None = None) -> np.ndarray:
    """The hyperposterior over the grid (uniform hyperprior) from every case (or every case in
    ``only``) but ``without``, with points under :data:`MIN_WEIGHT` dropped and the rest renormalised."""
    skip = set(without)
    keep = None if only is None else set(only)
    total = sum((ll for case, ll in per_case.items() if case not in skip and (keep is None or case in keep)),
                np.zeros(len(GRID)))
    w = np.exp(total - total.max())
    w /= w.sum()
    w[w < MIN_WEIGHT] = 0.0
    return w / w.sum()


def mixture(p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The learned forecast: the grid points' probabilities ``p[points, ...]`` averaged with ``w``."""
    return np.tensordot(w, p, axes=1)


# --- the learned priors file ----------------------------------------------------------------------


def fingerprint(paths: Iterable[Path]) -> str:
    """The sha256 of the files a fit read (the library's table, templates and case files)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def write_learned(path: Path, w: np.ndarray, *, fingerprint_: str, seed: int, particles: int, target_ess: float,
                  cases: int, forecasts: int, command: str, kinds: Mapping[str, np.ndarray] | None = None,
                  track_record: Mapping[str, Any] | None = None) -> None:
    """The learned hyperposterior (of all cases, ``w``, and of each kind's, ``kinds``) as a small
    TOML file (atomically), with the track record of the backtest it came from, if given
    (:func:`sim.forecast.backtest.track_record`)."""
    lines = ["# Behavioural priors learned across the case library (sim/forecast/priors.py).",
             f"# Written by: {command}", "# Do not edit: refit instead.", "",
             f'library_sha256 = "{fingerprint_}"', f"seed = {seed}", f"particles = {particles}",
             f"target_ess = {target_ess:g}", f"cases = {cases}", f"forecasts = {forecasts}",
             f"fitted = {dt.date.today().isoformat()}", f"command = {toml_value(command)}", ""]
    for table, ws in (("points", w), *((f"kinds.{kind}.points", kw) for kind, kw in sorted((kinds or {}).items()))):
        for h, weight in zip(GRID, ws, strict=True):
            if weight > 0:
                lines += [f"[[{table}]]", *(f"{k} = {v:g}" for k, v in asdict(h).items()), f"weight = {weight:.6f}",
                          ""]
    if track_record is not None:
        summary = track_record["summary"]
        lines += ["# The cross-validated backtest these priors came from (each forecast with priors learned",
                  "# without its group of cases): its scores as measured, per kind of talk and per case.",
                  "[track_record]", *(f"{k} = {toml_value(summary[k])}" for k in TRACK_SUMMARY)]
        for k in TRACK_BINS:
            lines += [f"{k} = [", *(f"  {toml_value(b)}," for b in summary[k]), "]"]
        lines.append("")
        for kind, row in sorted(track_record["kinds"].items()):
            lines += [f"[track_record.by_kind.{toml_value(kind)}]",
                      *(f"{k} = {toml_value(row[k])}" for k in TRACK_KIND), ""]
        for row in track_record["cases"]:
            lines += ["[[track_record.by_case]]", *(f"{k} = {toml_value(row[k])}" for k in TRACK_CASE), ""]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(path)


Points = tuple[tuple[Hyper, float], ...]


@dataclass(frozen=True)
class Learned:
    """Learned priors: grid points with their weights (of all cases, and per kind of talk), and
    what they were fitted on."""

    points: Points
    library_sha256: str
    fitted: str
    kinds: Mapping[str, Points] = dataclasses.field(default_factory=dict)
    command: str = ""
    track_record: Mapping[str, Any] | None = None  # {"summary", "kinds", "cases"}: see TRACK_SUMMARY

    def points_for(self, kind: str) -> Points:
        """The points a scenario of ``kind`` is forecast with: its kind's, else all cases'."""
        return self.kinds.get(kind, self.points)

    def describe(self, kind: str = "") -> str:
        """The mixture a scenario of ``kind`` uses, in words."""
        whose = f"the {kind.replace('_', ' ')} talks: " if kind in self.kinds else ""
        return whose + "; ".join(f"{w:.0%} {h.label()}" for h, w in self.points_for(kind))

    def track_record_in_words(self, kind: str = "") -> str:
        """How these priors' forecasts scored out of sample, in one sentence (the command line
        and the page say the same); empty if the file keeps no track record."""
        if self.track_record is None:
            return ""
        s = self.track_record["summary"]
        out = (f"out of sample, {s['forecasts']} forecasts of {s['cases']} past deadline talks scored Brier "
               f"{s['brier']:.3f}, against {s['brier_base']:.3f} for a base rate and {s['brier_base_kind']:.3f} "
               f"for the base rate of each talk's kind (lower is better)")
        k = self.track_record["kinds"].get(kind)
        if k is not None:
            out += (f"; on the {k['cases']} {kind.replace('_', ' ')} talks ({k['forecasts']} forecasts), "
                    f"{k['brier']:.3f} against {k['brier_base']:.3f} and {k['brier_base_kind']:.3f}")
        return out


def in_words(learned: Learned | None) -> str:
    """Which behavioural priors a forecast used, as figures name them."""
    return "learned across the case library" if learned is not None else "the scenario's own judgement"


def learned_path() -> Path:
    """The learned priors file under the current folder, else the repository's."""
    return LEARNED if LEARNED.exists() else Path(__file__).resolve().parents[2] / LEARNED


def load_learned(path: Path | None = None) -> Learned | None:
    """The learned priors, or None if no fit was written.

    Raises:
        ScenarioError: naming the file and the field, for a malformed file.
    """
    path = path or learned_path()
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    kinds = data.get("kinds", {})
    if not isinstance(kinds, dict) or not all(isinstance(v, dict) for v in kinds.values()):
        raise ScenarioError(str(path), "kinds", "must be a table of [[kinds.<kind>.points]]")
    return Learned(_points(path, data.get("points"), "points"), str(data.get("library_sha256", "")),
                   str(data.get("fitted", "")),
                   {kind: _points(path, v.get("points"), f"kinds.{kind}.points") for kind, v in kinds.items()},
                   str(data.get("command", "")), _track_record(path, data.get("track_record")))


def _track_record(path: Path, raw: Any) -> dict[str, Any] | None:
    """A learned priors file's track record, validated (None: the file keeps none)."""
    if raw is None:
        return None

    def table(value: Any, where: str, fields: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ScenarioError(str(path), where, "must be a table")
        for k in fields:
            if k not in value:
                raise ScenarioError(str(path), f"{where}.{k}", "is missing")
            if k not in ("case", "kind") and (isinstance(value[k], bool) or not isinstance(value[k], int | float)):
                raise ScenarioError(str(path), f"{where}.{k}", f"must be a number, not {value[k]!r}")
        return value

    raw = table(raw, "track_record", TRACK_SUMMARY)
    summary = {k: raw[k] for k in TRACK_SUMMARY}
    for k in TRACK_BINS:
        bins = raw.get(k)
        if not isinstance(bins, list):
            raise ScenarioError(str(path), f"track_record.{k}", "must be a list of bins")
        summary[k] = [table(b, f"track_record.{k}[{j}]", ("low", "high", "count", "forecast", "observed"))
                      for j, b in enumerate(bins)]
    kinds = raw.get("by_kind", {})
    if not isinstance(kinds, dict):
        raise ScenarioError(str(path), "track_record.by_kind", "must be a table of kinds of talk")
    cases = raw.get("by_case", [])
    if not isinstance(cases, list):
        raise ScenarioError(str(path), "track_record.by_case", "must be a list of [[track_record.by_case]]")
    return {"summary": summary,
            "kinds": {kind: table(v, f"track_record.by_kind.{kind}", TRACK_KIND) for kind, v in kinds.items()},
            "cases": [table(c, f"track_record.by_case[{j}]", TRACK_CASE) for j, c in enumerate(cases)]}


def _points(path: Path, raw_points: Any, where: str) -> Points:
    """One mixture of a learned priors file, validated."""
    points = []
    for k, raw in enumerate(raw_points if isinstance(raw_points, list) else []):
        try:
            h = Hyper(float(raw["reservation_shift"]), float(raw["pressure_scale"]), float(raw["pace_scale"]))
            w = float(raw["weight"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ScenarioError(str(path), f"{where}[{k}]",
                                f"needs three hyperparameters and a weight ({exc})") from None
        if h not in GRID or not 0 < w <= 1:
            raise ScenarioError(str(path), f"{where}[{k}]", "is not a grid point with a weight in (0, 1]")
        points.append((h, w))
    if not points or not math.isclose(sum(w for _, w in points), 1.0, abs_tol=1e-4):
        raise ScenarioError(str(path), where, "weights must be given and sum to 1")
    return tuple(points)


def learned_scenarios(scenario: Scenario, learned: Learned) -> list[tuple[Scenario, float]]:
    """``scenario`` rebuilt from its document under each learned grid point of its kind, with the
    point's weight (its settings and record, as given, are kept: only the behavioural priors change)."""
    return [(scenario_with(scenario.document, h, scenario.path, scenario.sha256), w)
            for h, w in learned.points_for(scenario.kind)]


#: Each learned point's forecast gets its weight's share of the particles and of the target ESS (so
#: the pooled sample reaches the target at about the cost of one forecast), but at least these.
MIN_POINT_PARTICLES, MIN_POINT_ESS = 2_000, 200


def allocation(w: float, particles: int, target_ess: float) -> dict[str, Any]:
    """A learned point's share of a forecast's particles and target ESS, for its weight ``w``:
    in proportion (a mixture's components sampled in proportion to their weights pool into a
    sample of the whole target's ESS), with a floor for small points, never above the whole."""
    return {"particles": min(particles, max(MIN_POINT_PARTICLES, math.ceil(w * particles))),
            "target_ess": min(target_ess, max(MIN_POINT_ESS, w * target_ess))}


def forecast(scenario: Scenario, as_of: dt.date | None, *, priors: str = "learned", judgement: Any = None,
             announce: Callable[[Hyper, float], None] | None = None, particles: int = 20_000,
             target_ess: float = 2_000, **kwargs: Any) -> Any:
    """The forecast of :func:`sim.forecast.conditioning.forecast` under learned or judgement priors.

    Args:
        scenario: The scenario (its record, settings and what-ifs are kept under every point).
        as_of: The forecast date (None: the prior).
        priors: ``learned`` (the mixture of the learned grid points, if a fit was written; else the
            judgement) or ``judgement`` (the scenario's own).
        judgement: The judgement priors' forecast, if already made (reused, not run again).
        announce: Called with each grid point and its weight before its forecast runs.
        particles: Particles of the forecast (under learned priors, shared among the points:
            :func:`allocation`).
        target_ess: Its target ESS (shared likewise).
        kwargs: To the forecast (seed, workers, progress, ...).
    """
    from sim.forecast import conditioning

    learned = load_learned() if priors == "learned" else None
    if learned is None:
        return judgement if judgement is not None else conditioning.forecast(
            scenario, as_of, particles=particles, target_ess=target_ess, **kwargs)
    parts = [(sc, w, h) for (sc, w), (h, _) in zip(learned_scenarios(scenario, learned),
                                                   learned.points_for(scenario.kind), strict=True)]

    def one(part: tuple[Scenario, float, Hyper]) -> Any:
        sc, w, h = part
        if h.judgement and judgement is not None:
            return judgement
        if announce:
            announce(h, w)
        return conditioning.forecast(sc, as_of, **allocation(w, particles, target_ess), **kwargs)

    # one after another: in one process, threads measured no faster (the points' shares are unequal and
    # only the engine's loop releases the GIL); with workers, each point already uses them all
    fcs = [one(part) for part in parts]
    out = conditioning.combine([(fc, w) for fc, (_, w, _) in zip(fcs, parts, strict=True)])
    if scenario.kind and scenario.kind not in learned.kinds:  # a typo would otherwise pass unseen
        note = (f"the scenario's kind {scenario.kind!r} has no learned priors (known: "
                f"{', '.join(sorted(learned.kinds)) or 'none'}): the priors learned from every kind are used")
        out = dataclasses.replace(out, warnings=[*out.warnings, note])
    return out
