"""Scenario files: TOML in, a validated immutable :class:`Scenario` out.

- :mod:`~sim.scenario.spec`: the frozen types;
- :mod:`~sim.scenario.parse`: validation, with errors that name the file, the field and
  the problem;
- :mod:`~sim.scenario.files`: reading TOML files and their ``extends`` chains;
- :mod:`~sim.scenario.paths`: dotted paths to numeric fields, and writing values at them.

Any numeric parameter may be a distribution (an inline table with ``dist = "..."``, see
:mod:`sim.distributions`); its whole support must satisfy the field's bounds.
"""

from sim.scenario.files import find_scenario, load_scenario, read_document, scenario_dirs, scenario_files
from sim.scenario.parse import parse_scenario
from sim.scenario.paths import param_label, params_by_path, resolve_path, unknown_path_message, with_values
from sim.scenario.spec import (
    MILESTONES,
    Acceptance,
    Bounds,
    EventFact,
    EventSpec,
    FactorSpec,
    Meeting,
    MilestoneFact,
    News,
    Param,
    PartySpec,
    Position,
    Progress,
    Ratification,
    Record,
    RoundFact,
    Scenario,
    ScenarioError,
    Tactic,
)

__all__ = [
    "MILESTONES", "Acceptance", "Bounds", "EventFact", "EventSpec", "FactorSpec", "Meeting", "MilestoneFact", "News",
    "Param",
    "PartySpec", "Position", "Progress", "Ratification", "Record", "RoundFact", "Scenario", "ScenarioError", "Tactic",
    "find_scenario", "load_scenario", "param_label", "params_by_path", "parse_scenario", "read_document",
    "resolve_path", "scenario_dirs",
    "scenario_files", "unknown_path_message", "with_values",
]
