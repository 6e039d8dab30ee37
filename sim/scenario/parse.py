"""Validation of a parsed TOML document into a :class:`~sim.scenario.spec.Scenario`.

Every field is checked — types, bounds, weights, dates in order, known tactic and rule
names, reservation values inside [0, 1], no unknown keys — and the first problem raises
:class:`~sim.scenario.spec.ScenarioError` naming the file, the field path and the problem.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from typing import Any

from sim import limits
from sim.negotiation.acceptance import RULES
from sim.negotiation.agenda import Issue
from sim.negotiation.tactics import FAMILIES, TACTICS
from sim.scenario.paths import resolve_path, unknown_path_message
from sim.scenario.reader import Reader
from sim.scenario.record import parse_record
from sim.scenario.spec import (
    MILESTONES,
    Acceptance,
    EventSpec,
    FactorSpec,
    Meeting,
    Param,
    PartySpec,
    Ratification,
    Scenario,
    Tactic,
)

#: What a scenario's name may be: it names its results folder.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
#: Words that results use for other things than a side.
RESERVED_KEYS = ("summit", "alternate")


def _issues(r: Reader, raw: Any) -> tuple[Issue, ...]:
    if not isinstance(raw, list) or not raw:
        raise r.fail("issues", "must be a non-empty array of [[issues]] tables")
    issues: list[Issue] = []
    for n, item in enumerate(raw):
        path = f"issues[{n}]"
        d = r.table(item, path, {"key", "label", "unit", "low", "high", "integer", "levels"}, {"key"})
        key = r.string(d, "key", path)
        if not key.isidentifier():
            raise r.fail(f"{path}.key", f"must be an identifier (letters, digits, _), got {key!r}")
        if key in {i.key for i in issues}:
            raise r.fail(f"{path}.key", f"duplicate issue {key!r}")
        levels = d.get("levels", [])
        if not isinstance(levels, list) or not all(isinstance(v, str) for v in levels):
            raise r.fail(f"{path}.levels", "must be a list of category names")
        if levels:
            if len(levels) < 2:
                raise r.fail(f"{path}.levels", "needs at least two categories")
            low, high, integer = 0.0, float(len(levels) - 1), True
            for bound, value in (("low", low), ("high", high)):
                if bound in d and d[bound] != value:
                    raise r.fail(f"{path}.{bound}", f"must be {value:g} for {len(levels)} levels (or omitted)")
        else:
            low = r.number(d, "low", path, dist_ok=False).fixed
            high = r.number(d, "high", path, dist_ok=False).fixed
            integer = r.boolean(d, "integer", path, False)
            if not low < high:
                raise r.fail(f"{path}.high", f"must be greater than low ({low:g}), got {high:g}")
            if integer and not (float(low).is_integer() and float(high).is_integer()):
                raise r.fail(path, "an integer issue needs whole-number low and high")
        issues.append(
            Issue(key, r.string(d, "label", path, default=key), r.string(d, "unit", path, default=""),
                  float(low), float(high), integer, tuple(levels))
        )
    return tuple(issues)


def _party(
    r: Reader, key: str, raw: Any, issues: tuple[Issue, ...], start: dt.date, deadline: dt.date
) -> PartySpec:
    path = f"parties.{key}"
    d = r.table(
        raw, path,
        {"label", "reservation", "deadline", "deadline_offset_days", "walk_away_gap", "deadline_cost",
         "deadline_window_days", "issues", "tactic", "acceptance", "beliefs", "ratification"},
        {"reservation", "issues", "tactic"},
    )
    ipath = f"{path}.issues"
    iss = r.table(d["issues"], ipath, {i.key for i in issues})
    for ik, item in iss.items():
        r.table(item, f"{ipath}.{ik}", {"weight", "best", "worst", "min", "max"}, {"weight", "best", "worst"})
    for i in issues:
        if i.key not in iss:
            raise r.fail(f"{ipath}.{i.key}", "is required: every side must value every issue")
    weights = tuple(r.number(iss[i.key], "weight", f"{ipath}.{i.key}", lo=0.0, hi=1.0) for i in issues)
    best = tuple(r.number(iss[i.key], "best", f"{ipath}.{i.key}", lo=i.low, hi=i.high) for i in issues)
    worst = tuple(r.number(iss[i.key], "worst", f"{ipath}.{i.key}", lo=i.low, hi=i.high) for i in issues)
    lmin = tuple(r.number(iss[i.key], "min", f"{ipath}.{i.key}", default=i.low, lo=i.low, hi=i.high) for i in issues)
    lmax = tuple(r.number(iss[i.key], "max", f"{ipath}.{i.key}", default=i.high, lo=i.low, hi=i.high) for i in issues)
    for i, bp, wp in zip(issues, best, worst, strict=True):
        (b_lo, b_hi), (w_lo, w_hi) = bp.support, wp.support
        if not (b_hi < w_lo or w_hi < b_lo):
            raise r.fail(f"{ipath}.{i.key}", f"best and worst must differ (and, if uncertain, not overlap): "
                                              f"best in [{b_lo:g}, {b_hi:g}], worst in [{w_lo:g}, {w_hi:g}]")
    for i, mn, mx in zip(issues, lmin, lmax, strict=False):
        if mn.support[1] > mx.support[0]:
            raise r.fail(f"{ipath}.{i.key}.max",
                         f"hard limit max ({mx.support[0]:g}) can fall below min ({mn.support[1]:g})")
    if all(not w.uncertain for w in weights) and abs(sum(w.fixed for w in weights) - 1.0) > 1e-6:
        total = sum(w.fixed for w in weights)
        raise r.fail(f"{ipath}", f"issue weights must sum to 1, got {total:g}")
    if sum(w.support[1] for w in weights) <= 0:
        raise r.fail(f"{ipath}", "issue weights cannot all be zero")
    if all(w.support[0] <= 0 for w in weights):  # then some world can draw all of them at zero
        raise r.fail(f"{ipath}", "issue weights can all be zero at once (each one's range reaches 0); "
                                  "keep at least one weight's range above 0")

    tpath = f"{path}.tactic"
    t = r.table(d["tactic"], tpath, {"kind", "family", "beta", "kappa", "reciprocity", "min_step", "spread"}, {"kind"})
    kind = r.string(t, "kind", tpath, choices=tuple(TACTICS))
    family = r.string(t, "family", tpath, default="polynomial", choices=tuple(FAMILIES))
    kappa = r.number(t, "kappa", tpath, default=0.0, lo=0.0, hi=1.0)
    if family == "exponential" and kappa.support[0] <= 0:
        raise r.fail(f"{tpath}.kappa", "the exponential family needs kappa > 0 (alpha(0) = kappa)")
    tactic = Tactic(
        kind, family,
        r.number(t, "beta", tpath, default=1.0, positive=True, lo=0.0),
        kappa,
        r.number(t, "reciprocity", tpath, default=1.0, lo=0.0),
        r.number(t, "min_step", tpath, default=0.0, lo=0.0, hi=1.0),
        r.number(t, "spread", tpath, default=0.0, lo=0.0, hi=1.0),
    )
    apath = f"{path}.acceptance"
    a = r.table(d.get("acceptance", {}), apath, {"rule", "alpha", "beta", "level"})
    acceptance = Acceptance(
        r.string(a, "rule", apath, default="ac_next", choices=tuple(RULES)),
        r.number(a, "alpha", apath, default=1.0, positive=True, lo=0.0),
        r.number(a, "beta", apath, default=0.0, lo=-1.0, hi=1.0),
        r.number(a, "level", apath, default=1.0, lo=0.0, hi=1.0),
    )
    bpath = f"{path}.beliefs"
    b = r.table(d.get("beliefs", {}), bpath, {"weight_noise", "knows_opponent_limits", "opponent_reservation"})
    rpath = f"{path}.ratification"
    rt = r.table(d.get("ratification", {}), rpath, {"required", "win_set", "delay_days", "anticipated"})
    own_deadline = r.date(d, "deadline", path, default=deadline)
    if own_deadline <= start:
        raise r.fail(f"{path}.deadline", f"must be after the start date {start}, got {own_deadline}")
    return PartySpec(
        key=key,
        label=r.string(d, "label", path, default=key),
        weights=weights, best=best, worst=worst, limit_min=lmin, limit_max=lmax,
        reservation=r.number(d, "reservation", path, lo=0.0, hi=1.0),
        deadline_day=(own_deadline - start).days,
        deadline_offset=r.number(d, "deadline_offset_days", path, default=0.0,
                                 lo=-(own_deadline - start).days + 1),
        walk_away_gap=r.number(d, "walk_away_gap", path, default=math.inf, lo=0.0, infinite_ok=True),
        deadline_cost=r.number(d, "deadline_cost", path, default=0.0, lo=0.0, hi=1.0),
        deadline_window=r.number(d, "deadline_window_days", path, default=14.0, lo=0.0, hi=3660.0),
        tactic=tactic,
        acceptance=acceptance,
        weight_noise=r.number(b, "weight_noise", bpath, default=0.0, lo=0.0, hi=5.0),
        knows_opponent_limits=r.boolean(b, "knows_opponent_limits", bpath, True),
        opponent_reservation=r.number(b, "opponent_reservation", bpath, default=0.0, lo=0.0, hi=1.0),
        ratification=Ratification(
            r.boolean(rt, "required", rpath, False),
            r.number(rt, "win_set", rpath, default=0.0, lo=0.0, hi=1.0),
            r.number(rt, "delay_days", rpath, default=0.0, lo=0.0),
            r.boolean(rt, "anticipated", rpath, False),
        ),
    )


def _day(r: Reader, d: dict[str, Any], key: str, path: str, start: dt.date, horizon: dt.date,
         default: dt.date | None = None) -> int:
    date = r.date(d, key, path, default=default)
    if not start <= date <= horizon:
        raise r.fail(f"{path}.{key}", f"{date} lies outside the simulated period {start} .. {horizon}")
    return (date - start).days


def _events(r: Reader, raw: Any, parties: tuple[str, ...], issues: tuple[Issue, ...],
            start: dt.date, horizon: dt.date) -> tuple[EventSpec, ...]:
    if not isinstance(raw, list):
        raise r.fail("events", "must be an array of [[events]] tables")
    out: list[EventSpec] = []
    for n, item in enumerate(raw):
        path = f"events[{n}]"
        d = r.table(item, path, {"name", "label", "party", "date", "hazard", "from", "until",
                                 "probability", "duration_days", "effects"}, {"name", "party", "effects"})
        name = r.string(d, "name", path)
        if not name.isidentifier():
            raise r.fail(f"{path}.name", f"must be an identifier (letters, digits, _), got {name!r}")
        if name in {e.name for e in out}:
            raise r.fail(f"{path}.name", f"duplicate event {name!r}")
        party = r.string(d, "party", path, choices=parties)
        if ("date" in d) == ("hazard" in d):
            raise r.fail(path, "give exactly one of date (a dated event) or hazard (a daily probability)")
        day = _day(r, d, "date", path, start, horizon) if "date" in d else None
        hazard = r.number(d, "hazard", path, lo=0.0, hi=1.0) if "hazard" in d else None
        if day is not None and ("from" in d or "until" in d):
            raise r.fail(path, "from/until go with hazard, not with a dated event")
        span = float((horizon - start).days)
        w_from = _day(r, d, "from", path, start, horizon, default=start)
        w_until = _day(r, d, "until", path, start, horizon, default=horizon)
        if w_until < w_from:
            raise r.fail(f"{path}.until", "must not be before from")
        epath = f"{path}.effects"
        e = r.table(d["effects"], epath, {"reservation", "beta_factor", "min", "max", "deadline_days"})
        if not e:
            raise r.fail(epath, "an event needs at least one effect (reservation, beta_factor, min, max, "
                                "deadline_days)")
        shifts = {}
        for bound in ("min", "max"):
            table = r.table(e.get(bound, {}), f"{epath}.{bound}", {i.key for i in issues})
            shifts[bound] = tuple(
                r.number(table, i.key, f"{epath}.{bound}", default=0.0, lo=-(i.high - i.low), hi=i.high - i.low)
                for i in issues
            )
        out.append(EventSpec(
            name=name, label=r.string(d, "label", path, default=name), party=parties.index(party),
            day=day, hazard=hazard, window_from=w_from, window_until=w_until,
            probability=r.number(d, "probability", path, default=1.0, lo=0.0, hi=1.0),
            duration_days=r.number(d, "duration_days", path, default=math.inf, positive=True, lo=0.0,
                                   infinite_ok=True),
            reservation=r.number(e, "reservation", epath, default=0.0, lo=-1.0, hi=1.0),
            beta_factor=r.number(e, "beta_factor", epath, default=1.0, positive=True, lo=0.0),
            min_shift=shifts["min"], max_shift=shifts["max"],
            deadline_shift=r.number(e, "deadline_days", epath, default=0.0, lo=-span, hi=span),
        ))
    return tuple(out)


def parse_scenario(data: dict[str, Any], file: str = "<scenario>", sha256: str = "") -> Scenario:
    """Validate a parsed TOML document and build a :class:`Scenario`.

    Raises:
        ScenarioError: naming ``file``, the field path and the problem.
    """
    r = Reader(file)
    kept = copy.deepcopy(data)
    top = r.table(data, "", {"scenario", "issues", "parties", "calendar", "summit", "signing", "events",
                             "uncertainties", "levers", "record"},
                  {"scenario", "issues", "parties"})
    s = r.table(top["scenario"], "scenario",
                {"name", "title", "description", "start", "deadline", "horizon", "first_mover", "headline", "kind"},
                {"name", "start", "deadline", "horizon"})
    name = r.string(s, "name", "scenario")
    if not NAME.fullmatch(name):
        raise r.fail("scenario.name", f"must be 1–80 letters, digits, '_' or '-' (it names the results folder), "
                                      f"got {name!r}")
    start, deadline, horizon = (r.date(s, k, "scenario") for k in ("start", "deadline", "horizon"))
    if not start < deadline:
        raise r.fail("scenario.deadline", f"{deadline} must be after the start {start}")
    if not deadline <= horizon:
        raise r.fail("scenario.horizon", f"{horizon} is before the deadline (summit) {deadline}")
    if (horizon - start).days > limits.MAX_HORIZON_DAYS:
        raise r.fail("scenario.horizon", limits.message("days from the start to the horizon:", (horizon - start).days,
                                                       limits.MAX_HORIZON_DAYS, "SIM_MAX_HORIZON_DAYS"))
    issues = _issues(r, top["issues"])

    parties_raw = r.table(top["parties"], "parties", set(top["parties"]) if isinstance(top["parties"], dict) else set())
    if len(parties_raw) != 2:
        raise r.fail("parties", f"needs exactly two sides, got {len(parties_raw)}")
    keys = tuple(parties_raw)
    for k in keys:
        if not k.isidentifier():
            raise r.fail(f"parties.{k}", "a side's key must be an identifier (letters, digits, _)")
        if k in RESERVED_KEYS:
            raise r.fail(f"parties.{k}", f"{k!r} is reserved (it names the summit or alternating openers in results)")
    parties = tuple(_party(r, k, parties_raw[k], issues, start, deadline) for k in keys)

    first = r.string(s, "first_mover", "scenario", default="alternate", choices=("alternate", *keys))
    headline = r.string(s, "headline", "scenario", default="agreement", choices=tuple(MILESTONES))

    c = r.table(top.get("calendar", {}), "calendar", {"contact_rate", "meetings"})
    meetings_raw = c.get("meetings", [])
    if not isinstance(meetings_raw, list):
        raise r.fail("calendar.meetings", "must be an array of [[calendar.meetings]] tables")
    meetings = []
    for n, item in enumerate(meetings_raw):
        path = f"calendar.meetings[{n}]"
        m = r.table(item, path, {"date", "label", "probability"}, {"date"})
        meetings.append(Meeting(_day(r, m, "date", path, start, horizon),
                                r.string(m, "label", path, default="scheduled round"),
                                r.number(m, "probability", path, default=1.0, lo=0.0, hi=1.0)))
    summit = r.table(top.get("summit", {}), "summit", {"max_gap", "label", "probability"})
    signing = r.table(top.get("signing", {}), "signing", {"delay_days"})

    events = _events(r, top.get("events", []), keys, issues, start, horizon)
    contact_rate = r.number(c, "contact_rate", "calendar", default=0.0, lo=0.0, hi=1.0)
    summit_max_gap = r.number(summit, "max_gap", "summit", default=0.0, lo=0.0, hi=1.0)
    signing_delay = r.number(signing, "delay_days", "signing", default=0.0, lo=0.0)
    factors = tuple(f for kind in ("uncertainties", "levers") for f in _factors(r, top.get(kind, []), kind))
    record = None
    if "record" in top:
        summit_day = (deadline - start).days
        record = parse_record(top["record"], file, keys, issues, events,
                              [*meetings, Meeting(summit_day, "summit", Param("summit.probability", 1.0))],
                              start, horizon)
    return Scenario(
        path=file, sha256=sha256, name=name,
        title=r.string(s, "title", "scenario", default=name),
        description=r.string(s, "description", "scenario", default=""),
        start=start, deadline=deadline, horizon=horizon,
        first_mover=-1 if first == "alternate" else keys.index(first),
        headline=headline,
        kind=r.string(s, "kind", "scenario", default=""),
        summit_label=r.string(summit, "label", "summit", default="leaders' summit"),
        issues=issues,
        parties=parties,  # type: ignore[arg-type]
        meetings=tuple(sorted(meetings, key=lambda m: m.day)),
        contact_rate=contact_rate, summit_max_gap=summit_max_gap, signing_delay=signing_delay,
        events=events,
        summit_probability=(r.number(summit, "probability", "summit", lo=0.0, hi=1.0) if "probability" in summit
                            else None),
        uncertain=tuple(r.uncertain),
        numbers=dict(r.numbers),
        factors=factors,
        record=record,
        document=kept,
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _factors(r: Reader, raw: Any, kind: str) -> list[FactorSpec]:
    if not isinstance(raw, list):
        raise r.fail(kind, f"must be an array of [[{kind}]] tables")
    out = []
    for n, item in enumerate(raw):
        where = f"{kind}[{n}]"
        d = r.table(item, where, {"path", "low", "high", "values", "label"}, {"path"})
        path = resolve_path(r.numbers, r.string(d, "path", where))
        if path is None:
            raise r.fail(f"{where}.path", unknown_path_message(r.numbers, d["path"]))
        values = d.get("values", [])
        if not isinstance(values, list) or not all(_is_number(v) for v in values):
            raise r.fail(f"{where}.values", "must be an array of numbers")
        if values:
            low, high = float(min(values)), float(max(values))
        else:
            for key in ("low", "high"):
                if key not in d:
                    raise r.fail(f"{where}.{key}", "is required (or give values)")
                if isinstance(d[key], bool) or not isinstance(d[key], int | float):
                    raise r.fail(f"{where}.{key}", f"must be a number, got {d[key]!r}")
            low, high = float(d["low"]), float(d["high"])
            if not low < high:
                raise r.fail(f"{where}.high", f"must be above low ({low:g}), got {high:g}")
        for key, v in (("low", low), ("high", high)):
            problem = r.numbers[path].check(v)
            if problem:
                raise r.fail(f"{where}.{'values' if values else key}", f"{path} {problem}")
        out.append(FactorSpec(path, low, high, "uncertainty" if kind == "uncertainties" else "lever",
                              r.string(d, "label", where, default=path), tuple(float(v) for v in values)))
    return out
