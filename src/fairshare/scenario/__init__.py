"""The scenario file: what to plan for, read from YAML.

A scenario names a region data package, the air-quality targets and emission
caps to meet, the fairness rules that share the burden, the objective and the
solver options. :func:`load_scenario` reads one file in four steps, one module
each:

1. read the YAML, remembering the line of every key, within limits of size, depth
   and alias expansion (:mod:`.yaml_lines`);
2. follow ``extends:`` to the base files and deep-merge them, the child's mappings
   over the base's and the child's lists replacing the base's (each replacement is
   recorded: ``Scenario.replaced``); ``region`` is made absolute relative to the file
   that declared it (:mod:`.yaml_lines`);
3. validate with the frozen pydantic models (:mod:`.schema`; the entries of
   ``targets`` and ``fairness`` are the rule families' ``Spec`` models);
4. turn every pydantic error into a :class:`~fairshare.errors.Problem` with the file
   and line that set the value, in words a planner reads (:mod:`.messages`).

Every problem in every file of the chain is reported together in one
:class:`~fairshare.errors.InputError`; when the file is invalid, the error carries the
valid part (``partial``) so that its references to the region can be checked in the
same pass (:func:`fairshare.api.prepare`).

Units: concentrations in µg/m³, emissions in t/yr, costs in CNY/yr, GDP in CNY/yr,
shares of GDP as fractions (0.004 = 0.4 % of GDP), ``*_pct`` in percent.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from fairshare.errors import InputError, Problem
from fairshare.families.ability_to_pay import AbilityClass, AbilityToPay
from fairshare.families.burden_band import BurdenBand
from fairshare.families.burden_cap import BurdenCap
from fairshare.families.concentration import ConcentrationTarget
from fairshare.families.emission_cap import EmissionCap
from fairshare.families.equal_reduction import EqualReduction
from fairshare.families.exposure import ExposureTarget
from fairshare.families.gini import Gini
from fairshare.families.per_capita import PerCapita
from fairshare.families.polluter_pays import PolluterPays
from fairshare.families.unified_standard import UnifiedStandard
from fairshare.scenario.messages import drop_missing_explained_by_typo, problem_from_error, salvage
from fairshare.scenario.schema import (FairnessRule, Objective, QuadraticOptions, Scenario,
                                       SolverOptions, Target, scenario_json_schema)
from fairshare.scenario.yaml_lines import Doc, Replacement, dotted, read_chain

__all__ = [
    "AbilityClass", "AbilityToPay", "BurdenBand", "BurdenCap", "ConcentrationTarget",
    "EmissionCap", "EqualReduction", "ExposureTarget", "FairnessRule", "Gini", "Objective",
    "PerCapita", "PolluterPays", "QuadraticOptions", "Replacement", "Scenario",
    "SolverOptions", "Target", "UnifiedStandard", "load_scenario", "scenario_json_schema",
]


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file, following ``extends:``; raise InputError listing every problem."""
    shown = str(path)
    doc, problems = read_chain(shown)
    if doc is None:
        raise InputError(problems)
    region_problems = _region_problems(doc)
    problems += _reserved_key_problems(doc) + region_problems
    scenario, partial, validation_problems = _validate(doc)
    problems += validation_problems
    if scenario is None or any(p.severity == "error" for p in problems):
        error = InputError(sorted(problems, key=_file_order))
        error.partial = None if region_problems else partial or scenario
        raise error
    _remember_lines(scenario, doc)
    return scenario


def _validate(doc: Doc) -> tuple[Scenario | None, Scenario | None, list[Problem]]:
    """(scenario, None, []) or (None, the valid part or None, problems)."""
    data = {**doc.data, "source_file": Path(doc.file).resolve()}
    try:
        return Scenario.model_validate(data), None, []
    except ValidationError as exc:
        errors = drop_missing_explained_by_typo(exc.errors())
        partial = salvage(data, exc)
        if partial is not None:
            _remember_lines(partial, doc)
        return None, partial, [problem_from_error(err, doc) for err in errors]


def _remember_lines(scenario: Scenario, doc: Doc) -> None:
    scenario._lines = {dotted(path): where for path, where in doc.where.items()}
    scenario._files = tuple(Path(f).resolve() for f in doc.files)
    scenario._replaced = tuple(doc.replaced)


def _region_problems(doc: Doc) -> list[Problem]:
    """The region folder must exist (the data checks look inside it)."""
    region = doc.data.get("region")
    if not isinstance(region, str) or not region.strip() or Path(region).is_dir():
        return []
    file, line = doc.where.get(("region",), (doc.file, None))
    what = "is a file, not a folder" if Path(region).exists() else "does not exist"
    message = f"region folder '{region}' {what} (region is relative to the scenario file that sets it)"
    return [Problem(file, message, line, "region")]


def _reserved_key_problems(doc: Doc) -> list[Problem]:
    """``source_file`` is set by the loader, not by the file."""
    if "source_file" not in doc.data:
        return []
    doc.data.pop("source_file")
    file, line = doc.where.get(("source_file",), (doc.file, None))
    message = "unknown key 'source_file' (it is set by fairshare when a file is loaded)"
    return [Problem(file, message, line, "source_file")]


def _file_order(problem: Problem) -> tuple[str, int]:
    return problem.file, problem.row if problem.row is not None else 0
