"""The case library: resolved deadline talks as one table of rows, built into cases from templates.

``scenarios/library/cases.toml`` holds a ``[library]`` table (the forecast-date rule, shared by
every row) and one ``[[cases]]`` row per talk: the partner, the template, the calendar, the
threat's rate range, how it ended and the sources that confirm it. A template
(``scenarios/library/templates/<name>.toml``) is a scenario with the behavioural priors written
once for every talk of its kind, plus a ``[template]`` table naming the issue whose range a row
sets; :func:`build_document` fills a copy in from a row, and
:func:`sim.forecast.cases.case_from_document` validates it like any case file. So 45 talks are 45
rows, not 45 copied scenarios, and a prior is changed in one place.

Each row's base rate is the share of the *other* groups' talks that closed by their deadline
(Laplace-smoothed: (k + 1) / (n + 2)), so the reference is as out of sample as the forecasts.

Errors name the file, the row (``cases[k]``) and the field.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sim.forecast.cases import Case, case_from_document, load_case
from sim.scenario import read_document
from sim.scenario.reader import Reader

#: Where the library lives, relative to the repository's ``scenarios/``.
LIBRARY = Path("scenarios/library/cases.toml")
ROW_KEYS = {"id", "partner", "template", "start", "deadline", "deadline_label", "range", "agreement", "terms",
            "group", "sources", "note", "meetings", "record"}
ROW_REQUIRED = {"id", "partner", "template", "start", "deadline", "agreement", "sources"}


@dataclass(frozen=True)
class Rule:
    """When every case of the library is forecast (fixed for all rows, before any score)."""

    after_start: tuple[int, ...]
    before_deadline: tuple[int, ...]
    horizon_days: int

    def dates(self, start: dt.date, deadline: dt.date, reached: dt.date | None) -> list[dt.date]:
        """The forecast dates of a talk: after the start, before the deadline and before the deal."""
        days = {start + dt.timedelta(d) for d in self.after_start} | {deadline - dt.timedelta(d)
                                                                         for d in self.before_deadline}
        end = min(deadline, reached) if reached else deadline
        return sorted(d for d in days if start < d < end)


def default_path() -> Path:
    """The library's table: ``scenarios/library/cases.toml`` under the current folder, else the repository's."""
    if LIBRARY.exists():
        return LIBRARY
    return Path(__file__).resolve().parents[2] / LIBRARY


def load_library(path: str | Path | None = None) -> list[Case]:
    """Every row of the library as a :class:`~sim.forecast.cases.Case` (rows with no open forecast
    date — the deal came before the first — are dropped: nothing was left to forecast).

    Raises:
        ScenarioError: naming the file, the row and the field.
    """
    path = Path(path) if path is not None else default_path()
    file = str(path)
    data, _ = read_document(path)  # read as every scenario file is: a regular file, size-capped, valid TOML
    r = Reader(file)
    top = r.table(data, "", {"library", "cases"}, {"library", "cases"})
    lib = r.table(top["library"], "library", {"forecast_days_after_start", "forecast_days_before_deadline",
                                               "horizon_days"}, {"forecast_days_before_deadline"})
    rule = Rule(_ints(r, lib, "forecast_days_after_start", "library"),
                _ints(r, lib, "forecast_days_before_deadline", "library"),
                int(r.number(lib, "horizon_days", "library", default=60, lo=1, dist_ok=False).fixed))
    rows = top["cases"]
    if not isinstance(rows, list) or not rows:
        raise r.fail("cases", "must be a non-empty array of [[cases]] rows")
    templates: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    built: list[tuple[Case, bool]] = []
    for k, row in enumerate(rows):
        where = f"cases[{k}]"
        row = r.table(row, where, ROW_KEYS, ROW_REQUIRED)
        ident = r.string(row, "id", where)
        if ident in seen:
            raise r.fail(f"{where}.id", f"{ident!r} is also row cases[{seen[ident]}] (ids name results: one each)")
        seen[ident] = k
        name = r.string(row, "template", where)
        if name not in templates:
            templates[name] = _template(path.parent / "templates" / f"{name}.toml", r, f"{where}.template")
        case = _case(r, row, where, templates[name], rule, file)
        built.append(case)
    cases = [c for c, open_ in built if open_]
    return with_base_rates(cases)


def base_rate_without(cases: list[Case], group: str) -> tuple[float, int, int]:
    """The share of the talks outside ``group`` that closed by their deadline, (k + 1) / (n + 2),
    with k and n."""
    others = [c for c in cases if c.group != group]
    hits = sum(o.headline(c.scenario) for c in others for o in c.outcomes)
    n = sum(len(c.outcomes) for c in others)
    return (hits + 1) / (n + 2), hits, n


def with_base_rates(cases: list[Case]) -> list[Case]:
    """Each case with its base rate out of its group (:func:`base_rate_without`)."""
    out = []
    for case in cases:
        p, hits, n = base_rate_without(cases, case.group)
        out.append(replace(case, base_rate=p, base_rate_source=f"the other groups' talks: {hits} of {n} closed by "
                                                               f"their deadline, (k + 1) / (n + 2)"))
    return out


def case_files(library: Path) -> list[Path]:
    """The case files beside a library (``scenarios/cases/*.toml`` for ``scenarios/library/cases.toml``)."""
    return sorted((library.parent.parent / "cases").glob("*.toml"))


def load_all(library: str | Path | None = None, files: list[Path] | None = None) -> list[Case]:
    """The library's cases and the case files (by default those beside it), every one validated."""
    path = Path(library) if library is not None else default_path()
    return load_library(path) + [load_case(p) for p in (case_files(path) if files is None else files)]


def _ints(r: Reader, table: dict[str, Any], key: str, where: str) -> tuple[int, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                              for v in value):
        raise r.fail(f"{where}.{key}", f"must be an array of whole numbers of days ≥ 0, got {value!r}")
    return tuple(value)


def _template(path: Path, r: Reader, where: str) -> dict[str, Any]:
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.toml"))
        raise r.fail(where, f"no template {path.stem!r} in {path.parent} (known: {', '.join(known) or 'none'})")
    return read_document(path)[0]


def build_document(template: dict[str, Any], row: dict[str, Any], horizon_days: int) -> dict[str, Any]:
    """A scenario document: the template with the row's calendar, partner and rate range filled in."""
    doc = copy.deepcopy(template)
    spec = doc.pop("template", {})
    start, deadline = row["start"], row["deadline"]
    title = f"{row['partner']}: {row.get('deadline_label', '')}".rstrip(": ")
    doc["scenario"] = {**doc["scenario"], "name": row["id"], "title": title, "start": start, "deadline": deadline,
                       "horizon": deadline + dt.timedelta(horizon_days)}
    doc.setdefault("summit", {})["label"] = row.get("deadline_label", doc.get("summit", {}).get("label", "deadline"))
    partner = [k for k in doc["parties"] if k != "us"]
    if partner:
        doc["parties"][partner[0]]["label"] = row["partner"]
    issue = spec.get("range_issue")
    if issue:
        low, high = row["range"]
        for item in doc["issues"]:
            if item["key"] == issue:
                item["low"], item["high"] = low, high
        for side in doc["parties"].values():
            prefs = side.get("issues", {}).get(issue, {})
            for key in ("best", "worst"):
                if prefs.get(key) in ("low", "high"):
                    prefs[key] = low if prefs[key] == "low" else high
    if "meetings" in row:
        doc.setdefault("calendar", {})["meetings"] = row["meetings"]
    if "record" in row:
        doc["record"] = row["record"]
    return doc


def _case(r: Reader, row: dict[str, Any], where: str, template: dict[str, Any], rule: Rule,
          file: str) -> tuple[Case, bool]:
    for key in ("start", "deadline"):
        r.date(row, key, where)
    spec = template.get("template", {})
    if spec.get("range_issue"):
        rng = row.get("range")
        if (not isinstance(rng, list) or len(rng) != 2 or not all(isinstance(v, int | float) and not isinstance(v, bool)
                                                                  for v in rng) or not rng[0] < rng[1]):
            raise r.fail(f"{where}.range", f"the {row['template']!r} template needs range = [opening, threat], two "
                                           f"numbers, opening below threat; got {rng!r}")
    elif "range" in row:
        raise r.fail(f"{where}.range", f"the {row['template']!r} template has no rate range to set")
    sources = row["sources"]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s.strip() for s in sources):
        raise r.fail(f"{where}.sources", "must list at least one source that confirms the row (a URL or a document)")
    agreement = row["agreement"]
    reached = None if isinstance(agreement, dict) else agreement
    if reached is not None and (isinstance(reached, dt.datetime) or not isinstance(reached, dt.date)):
        raise r.fail(f"{where}.agreement", f"must be a date like 2025-07-30, or {{ not_by = ... }}; got {reached!r}")
    dates = rule.dates(row["start"], row["deadline"], reached)
    outcome: dict[str, Any] = {"label": row["partner"], "agreement": agreement}
    if "terms" in row:
        outcome["terms"] = row["terms"]
    case_table = {"title": f"{row['partner']}, {row.get('deadline_label', row['deadline'])}",
                  "forecast_dates": dates or [row["start"] + dt.timedelta(1)],
                  "base_rate": {"p": 0.5, "source": "replaced by the other groups' share"},
                  "outcomes": [outcome]}
    doc = build_document(template, row, rule.horizon_days)
    group = r.string(row, "group", where, default=row["deadline"].isoformat())
    case = case_from_document(doc, case_table, file, "", where=where, group=group, sources=tuple(sources))
    return replace(case, path=f"{file}#{row['id']}"), bool(dates)

