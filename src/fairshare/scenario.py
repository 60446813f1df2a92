"""The scenario file (DESIGN.md §4): what to plan for, read from YAML.

A scenario names a region data package, the air-quality targets and emission
caps to meet, the fairness rules that share the burden, the objective and the
solver options. :func:`load_scenario` reads one file in four steps, one
section of this module each:

1. read the YAML, remembering the line of every key (``_read_yaml``);
2. follow ``extends:`` to the base files and deep-merge them, the child's
   mappings over the base's and the child's lists replacing the base's
   (``_read_chain``); ``region`` is made absolute relative to the file that
   declared it;
3. validate with the frozen pydantic models below (:class:`Scenario`);
4. turn every pydantic error into a :class:`~fairshare.errors.Problem` with
   the file and line that set the value and the key path, in words a planner
   reads (``_problem_from_error``).

Every problem in every file of the chain is reported together in one
:class:`~fairshare.errors.InputError`. Whether the ids used here (cities,
zones, metrics, pollutants, measures) exist in the region's tables is checked
elsewhere, against the region data.

Units: concentrations in µg/m³, emissions in t/yr, costs in CNY/yr, GDP in CNY/yr,
shares of GDP as fractions (0.004 = 0.4 % of GDP), ``*_pct`` in percent.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

import annotated_types as at
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    Tag,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from fairshare.errors import InputError, Problem

__all__ = [
    "AbilityClass",
    "AbilityToPay",
    "BurdenBand",
    "BurdenCap",
    "ConcentrationTarget",
    "EmissionCap",
    "EqualReduction",
    "ExposureTarget",
    "FairnessRule",
    "Gini",
    "Objective",
    "PerCapita",
    "PolluterPays",
    "QuadraticOptions",
    "Scenario",
    "SolverOptions",
    "Target",
    "UnifiedStandard",
    "load_scenario",
    "scenario_json_schema",
]

# A number in the file: an int or a float, never text or true/false.
Real = StrictFloat


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


class _Spec(BaseModel):
    """Base of every part of a scenario: immutable, unknown keys rejected.

    Numbers given where text is expected become text (ids such as city codes
    may be written unquoted); infinities and NaN are rejected.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, coerce_numbers_to_str=True
    )


def _custom_error(kind: str, message: str) -> PydanticCustomError:
    """A validation error whose message is shown to the planner as written."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def _all_or_ids(value: Any) -> Any:
    """Accept ``"all"`` or a non-empty list of ids; numbers in the list become text."""
    if value == "all":
        return value
    if isinstance(value, list) and value and all(_is_id(v) for v in value):
        return [str(v) for v in value]
    if isinstance(value, str):
        hint = f"; a single id goes in brackets: [{value}]"
    elif isinstance(value, list) and not value:
        hint = "; the list is empty"
    else:
        hint = f", not {_show(value)}"
    raise _custom_error("all_or_ids", f"must be 'all' or a list of ids such as [beijing, tianjin]{hint}")


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and value.strip() != "") or (
        isinstance(value, int) and not isinstance(value, bool)
    )


_ALL_OR_IDS_SCHEMA = {
    "anyOf": [{"const": "all"}, {"type": "array", "minItems": 1, "items": {"type": ["string", "integer"]}}]
}
AllOrIds = Annotated[
    Union[Literal["all"], list[str]], BeforeValidator(_all_or_ids), WithJsonSchema(_ALL_OR_IDS_SCHEMA)
]


def _require_exactly_one(model: BaseModel, names: tuple[str, ...], what: str) -> None:
    """Raise unless exactly one of the optional fields ``names`` is given."""
    given = [n for n in names if getattr(model, n) is not None]
    if len(given) == 1:
        return
    choices = ", ".join(names[:-1]) + f" or {names[-1]}"
    found = "none is given" if not given else "it gives " + " and ".join(given) + "; keep one"
    raise _custom_error("exactly_one", f"{what} needs exactly one of {choices}: {found}")


# --- targets ---------------------------------------------------------------


class ConcentrationTarget(_Spec):
    """Air-quality target at each receptor: ``C[q,r] <= L[q,r]``.

    The limit ``L`` is given exactly one way: ``max_ugm3`` (µg/m³),
    ``reduction_pct`` (``L = C0 (1 - pct/100)``) or ``gap_closure``
    (``L = C0 - gamma (C0 - MTFR)``).
    """

    kind: ClassVar[str] = "concentration"
    metric: str = Field(description="air-quality metric id from concentrations.csv, e.g. PM25")
    receptors: AllOrIds = Field("all", description="'all' or a list of receptor ids")
    max_ugm3: Real | None = Field(None, gt=0, description="concentration limit, µg/m³")
    reduction_pct: Real | None = Field(
        None, gt=0, lt=100, description="required fall from the baseline concentration, % of baseline"
    )
    gap_closure: Real | None = Field(
        None, ge=0, le=1, description="share of the gap between baseline and MTFR to close, 0..1"
    )

    @model_validator(mode="after")
    def _one_limit(self) -> ConcentrationTarget:
        _require_exactly_one(self, ("max_ugm3", "reduction_pct", "gap_closure"), "a concentration target")
        return self


class ExposureTarget(_Spec):
    """Population-weighted exposure: ``sum_r POP[r] C[q,r] / sum_r POP[r] <= max_ugm3`` (µg/m³)."""

    kind: ClassVar[str] = "exposure"
    metric: str = Field(description="air-quality metric id from concentrations.csv, e.g. PM25")
    exposure: Literal["population_weighted"] = Field(description="how exposure is averaged")
    max_ugm3: Real = Field(gt=0, description="limit on the population-weighted mean, µg/m³")
    receptors: AllOrIds = Field("all", description="'all' or a list of receptor ids to average over")


class EmissionCap(_Spec):
    """Cap on a zone's post-control emissions: ``sum_{s in Z} (E[s,p] - dE[s,p]) <= cap`` (t/yr).

    The cap is given exactly one way: ``max_t`` (t/yr) or ``reduction_pct``
    (``cap = (1 - pct/100) sum_{s in Z} E[s,p]``).
    """

    kind: ClassVar[str] = "emission_cap"
    emission_cap: str = Field(description="pollutant id from emissions.csv, e.g. NOx")
    zone: str = Field("all", description="zone id from cities.csv, or 'all' for the whole region")
    max_t: Real | None = Field(None, ge=0, description="cap on the zone's emissions, t/yr")
    reduction_pct: Real | None = Field(
        None, ge=0, le=100, description="required fall from the zone's baseline emissions, %"
    )

    @model_validator(mode="after")
    def _one_cap(self) -> EmissionCap:
        _require_exactly_one(self, ("max_t", "reduction_pct"), "an emission cap")
        return self


_TARGET_KINDS: dict[str, type[_Spec]] = {
    cls.kind: cls for cls in (ConcentrationTarget, ExposureTarget, EmissionCap)
}


def _target_kind(value: Any) -> str | None:
    """Which target class an entry is, from its keys (a near-miss spelling counts)."""
    if isinstance(value, BaseModel):
        return getattr(value, "kind", None)
    if not isinstance(value, dict):
        return None
    keys = [str(k) for k in value]
    for marker, kind in (("emission_cap", "emission_cap"), ("exposure", "exposure"), ("metric", "concentration")):
        if marker in keys or difflib.get_close_matches(marker, keys, n=1, cutoff=0.8):
            return kind
    return None


Target = Annotated[
    Union[tuple(Annotated[cls, Tag(kind)] for kind, cls in _TARGET_KINDS.items())],  # type: ignore[misc]
    Discriminator(
        _target_kind,
        custom_error_type="target_kind",
        custom_error_message=(
            "a target needs 'metric' (a concentration or exposure target, e.g. {metric: PM25, max_ugm3: 35})"
            " or 'emission_cap' (an emission cap, e.g. {emission_cap: NOx, reduction_pct: 10})"
        ),
    ),
]


# --- fairness rules --------------------------------------------------------

_SHARE_OF_GDP = "cost as a fraction of GDP, 0..1 exclusive (0.004 = 0.4 % of GDP)"


class BurdenCap(_Spec):
    """Burden cap: every listed city's annual cost ``cost[s] <= max_share_of_gdp * GDP[s]`` (CNY/yr)."""

    rule: Literal["burden_cap"]
    max_share_of_gdp: Real = Field(gt=0, lt=1, description=f"upper bound on {_SHARE_OF_GDP}")
    cities: AllOrIds = Field("all", description="'all' or a list of city ids the cap applies to")


class BurdenBand(_Spec):
    """Burden band: ``|cost[s]/GDP[s] - total cost/total GDP| <= width`` for every city."""

    rule: Literal["burden_band"]
    width: Real = Field(ge=0, description="half-width of the band, a fraction of GDP (0.001 = 0.1 % of GDP)")


class EqualReduction(_Spec):
    """Equal effort on one pollutant, ``pct[s] = 100 dE[s,p] / E[s,p]`` (% of the city's baseline).

    Exactly one of: ``min_pct`` (every city reduces at least this %) or
    ``band_pct`` (every city's % within this many percentage points of the
    region-wide %, ``100 sum_s dE[s,p] / sum_s E[s,p]``).
    """

    rule: Literal["equal_reduction"]
    pollutant: str = Field(description="pollutant id from emissions.csv, e.g. NOx")
    min_pct: Real | None = Field(None, ge=0, le=100, description="minimum reduction in every city, %")
    band_pct: Real | None = Field(
        None, ge=0, description="allowed distance from the region-wide reduction, percentage points"
    )

    @model_validator(mode="after")
    def _one_form(self) -> EqualReduction:
        _require_exactly_one(self, ("min_pct", "band_pct"), "an equal_reduction rule")
        return self


class UnifiedStandard(_Spec):
    """One standard for every city of a zone, given one of two ways.

    * ``measure`` + ``min_application``: ``x[s,m] >= u``, capped by the
      city's applicability ``a[s,m]`` (u is a share of the sector base, 0..1);
    * ``sector`` + ``pollutant`` + ``min_removal``: ``rho[s,k,p] >= u``
      (u is a removal share of the sector's emissions, 0..1).
    """

    rule: Literal["unified_standard"]
    zone: str = Field("all", description="zone id from cities.csv, or 'all'")
    measure: str | None = Field(None, description="measure id from measures.csv")
    min_application: Real | None = Field(None, ge=0, le=1, description="minimum application share, 0..1")
    sector: str | None = Field(None, description="sector id from emissions.csv")
    pollutant: str | None = Field(None, description="pollutant id from emissions.csv")
    min_removal: Real | None = Field(None, ge=0, le=1, description="minimum removal share of the sector, 0..1")

    _FORMS: ClassVar[dict[str, tuple[str, ...]]] = {
        "by_measure": ("measure", "min_application"),
        "by_sector": ("sector", "pollutant", "min_removal"),
    }

    @model_validator(mode="after")
    def _one_form(self) -> UnifiedStandard:
        used = {form: [k for k in keys if getattr(self, k) is not None] for form, keys in self._FORMS.items()}
        either = "give either measure + min_application or sector + pollutant + min_removal"
        if all(used.values()):
            raise _custom_error("unified_standard_form", f"a unified_standard rule must {either}, not both")
        if not any(used.values()):
            raise _custom_error("unified_standard_form", f"a unified_standard rule must {either}")
        form = "by_measure" if used["by_measure"] else "by_sector"
        missing = [k for k in self._FORMS[form] if k not in used[form]]
        if missing:
            raise _custom_error(
                "unified_standard_form",
                f"a unified_standard rule with {' + '.join(used[form])} also needs {' and '.join(missing)}",
            )
        return self

    @property
    def by_measure(self) -> bool:
        """True for the measure form, False for the sector-removal form."""
        return self.measure is not None


class AbilityClass(_Spec):
    """One class of cities by GDP per capita (CNY per person per year)."""

    max_gdp_per_capita_cny: Real | None = Field(
        None, gt=0, description="upper end of the class, CNY per person per year; null (or absent) for the top class"
    )
    max_share_of_gdp: Real = Field(gt=0, lt=1, description=f"upper bound on {_SHARE_OF_GDP} in this class")


class AbilityToPay(_Spec):
    """Ability to pay: ``cost[s] <= alpha[s] GDP[s]`` (CNY/yr).

    ``alpha`` is either one ``max_share_of_gdp`` for every listed city, or,
    with ``class_by: gdp_per_capita``, taken from ``classes``: a city falls in
    the first class whose ``max_gdp_per_capita_cny`` is at least its GDP per
    capita. Classes are in ascending order and the last has no upper end
    (``max_gdp_per_capita_cny: null``), so every city is in one class.
    """

    rule: Literal["ability_to_pay"]
    max_share_of_gdp: Real | None = Field(None, gt=0, lt=1, description=f"upper bound on {_SHARE_OF_GDP}")
    cities: AllOrIds = Field("all", description="'all' or a list of city ids the rule applies to")
    class_by: Literal["gdp_per_capita"] | None = Field(None, description="classify cities by GDP per capita")
    classes: list[AbilityClass] = Field([], description="the classes, ascending by max_gdp_per_capita_cny")

    @model_validator(mode="after")
    def _one_form(self) -> AbilityToPay:
        flat, by_class = self.max_share_of_gdp is not None, self.class_by is not None or bool(self.classes)
        either = "give either max_share_of_gdp or class_by: gdp_per_capita with classes"
        if flat == by_class:
            but = ", not both" if flat else ""
            raise _custom_error("ability_to_pay_form", f"an ability_to_pay rule must {either}{but}")
        if by_class:
            _check_ability_classes(self)
        return self


def _check_ability_classes(rule: AbilityToPay) -> None:
    """Classes must be given with class_by, ascend, and end with an open top class."""
    if rule.class_by is None or not rule.classes:
        raise _custom_error("ability_to_pay_form", "class_by: gdp_per_capita and classes go together; give both")
    bounds = [c.max_gdp_per_capita_cny for c in rule.classes]
    if bounds[-1] is not None or None in bounds[:-1]:
        raise _custom_error(
            "ability_to_pay_classes",
            "the last class, and only the last, must have max_gdp_per_capita_cny: null (no upper end),"
            " so that every city falls in a class",
        )
    if any(lo >= hi for lo, hi in zip(bounds[:-2], bounds[1:-1])):
        raise _custom_error("ability_to_pay_classes", "classes must be in ascending order of max_gdp_per_capita_cny")


class Gini(_Spec):
    """Gini bound: ``Gini(v) <= max``.

    ``v[s]`` is the burden ``cost[s]/GDP[s]`` or the cost per person (CNY per person per year).
    """

    rule: Literal["gini"]
    of: Literal["burden", "cost_per_capita"] = Field("burden", description="what the Gini coefficient is of")
    max: Real = Field(ge=0, le=1, description="upper bound on the Gini coefficient, 0..1")


class PerCapita(_Spec):
    """Per-capita emissions band (t per person per year), with ``post = E - dE`` after control:

    ``|post[s,p]/POP[s] - sum_s post[s,p] / sum_s POP[s]| <= band_t_per_person``.
    """

    rule: Literal["per_capita"]
    pollutant: str = Field(description="pollutant id from emissions.csv")
    band_t_per_person: Real = Field(
        ge=0, description="half-width of the band around the regional mean, t per person per year"
    )


class PolluterPays(_Spec):
    """Polluter pays: ``cost[s]/total cost >= min_fraction * share[s]``.

    ``share[s]`` is city s's share of the pollution it causes in other cities'
    exceedances of their targets (a fraction summing to 1 over cities).
    """

    rule: Literal["polluter_pays"]
    min_fraction: Real = Field(ge=0, le=1, description="fraction of the causal share each city must at least pay, 0..1")


_FAIRNESS_RULES: dict[str, type[_Spec]] = {
    get_args(cls.model_fields["rule"].annotation)[0]: cls
    for cls in (BurdenCap, BurdenBand, EqualReduction, UnifiedStandard, AbilityToPay, Gini, PerCapita, PolluterPays)
}

FairnessRule = Annotated[Union[tuple(_FAIRNESS_RULES.values())], Field(discriminator="rule")]  # type: ignore[misc]


# --- objective and solver --------------------------------------------------

_OBJECTIVE_KINDS = ("min_cost", "min_max_burden")


class Objective(_Spec):
    """What the solve minimises.

    * ``min_cost``: total cost (CNY/yr), plus ``fairness_weight`` times the
      ``fairness_metric`` when the weight is above 0;
    * ``min_max_burden``: the largest burden ``cost[s]/GDP[s]``, then the least
      cost at that burden.

    In the file: ``objective: min_cost``, ``objective: min_max_burden`` or
    ``objective: {min_cost: {fairness_weight: 1e9, fairness_metric: gini}}``.
    """

    kind: Literal["min_cost", "min_max_burden"] = "min_cost"
    fairness_weight: Real = Field(
        0.0,
        ge=0,
        description="CNY/yr added to the cost per unit of the fairness metric "
        "(Gini is 0..1; band and max_burden are fractions of GDP)",
    )
    fairness_metric: Literal["gini", "band", "max_burden"] | None = Field(
        None,
        description="gini: Gini of burdens; band: max |cost[s]/GDP[s] - total cost/total GDP|; "
        "max_burden: max cost[s]/GDP[s]",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_file_form(cls, value: Any) -> Any:
        """``"min_cost"`` -> kind; ``{min_cost: {...}}`` -> kind plus options."""
        if isinstance(value, str):
            if value in _OBJECTIVE_KINDS:
                return {"kind": value}
            raise _objective_error(value)
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _OBJECTIVE_KINDS:
            kind, options = next(iter(value.items()))
            if options is None:
                return {"kind": kind}
            if not isinstance(options, dict):
                example = "{fairness_weight: 1e9, fairness_metric: gini}"
                raise _custom_error("objective", f"the options under {kind} must be a mapping such as {example}")
            return {"kind": kind, **options}
        if isinstance(value, dict) and set(map(str, value)) <= set(cls.model_fields):
            return value  # built in Python: Objective(kind=..., ...), or an empty mapping
        if isinstance(value, dict):
            raise _objective_error(", ".join(map(str, value)) or "{}")
        return value

    @model_validator(mode="after")
    def _weight_needs_metric(self) -> Objective:
        if self.kind == "min_max_burden" and (self.fairness_weight or self.fairness_metric):
            raise _custom_error("objective", "fairness_weight and fairness_metric go with min_cost, not min_max_burden")
        if self.fairness_weight > 0 and self.fairness_metric is None:
            raise _custom_error("objective", "fairness_weight needs fairness_metric: gini, band or max_burden")
        return self

    @model_serializer
    def _to_file_form(self) -> str | dict[str, Any]:
        if self.fairness_weight == 0 and self.fairness_metric is None:
            return self.kind
        return {self.kind: {"fairness_weight": self.fairness_weight, "fairness_metric": self.fairness_metric}}


def _objective_error(given: str) -> PydanticCustomError:
    return _custom_error(
        "objective",
        f"objective '{given}' is not known{_did_you_mean(given, _OBJECTIVE_KINDS)}; use min_cost, min_max_burden"
        " or {min_cost: {fairness_weight: ..., fairness_metric: gini|band|max_burden}}",
    )


def _objective_json_schema() -> dict[str, Any]:
    """The objective as written in the file (a name, or {min_cost: options})."""
    options = {
        "type": "object",
        "additionalProperties": False,
        "properties": {k: v for k, v in Objective.model_json_schema()["properties"].items() if k != "kind"},
    }
    return {
        "title": "Objective",
        "description": "min_cost | min_max_burden | {min_cost: {fairness_weight, fairness_metric}}",
        "default": "min_cost",
        "anyOf": [
            {"enum": list(_OBJECTIVE_KINDS)},
            {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {"min_cost": options, "min_max_burden": {"type": ["object", "null"], "maxProperties": 0}},
            },
        ],
    }


class SolverOptions(_Spec):
    """Options passed to HiGHS."""

    time_limit_s: Real = Field(300.0, gt=0, description="wall-clock limit for one solve, seconds")
    threads: StrictInt = Field(0, ge=0, description="threads HiGHS may use; 0 lets HiGHS choose")
    method: Literal["choose", "simplex", "ipm"] = Field("choose", description="LP algorithm")
    constraint_generation: Literal["auto", "on", "off"] = Field(
        "auto",
        description="add air-quality target rows only as they are violated (for many receptors); "
                    "auto: when there are more than 2,000 target rows",
    )


class QuadraticOptions(_Spec):
    """How ``cost_model: quadratic`` is built: cost of measure m in city s is
    ``kappa x + 0.5 theta x^2`` (rising marginal cost, CNY/yr)."""

    theta_factor: Real = Field(
        1.0, ge=0,
        description="theta = theta_factor * kappa where measures.csv has no theta_cny_per_t column "
                    "(1 doubles the marginal cost from the first to the last unit)",
    )
    method: Literal["auto", "qp", "pwl"] = Field(
        "auto",
        description="qp: exact convex QP (HiGHS); pwl: piecewise-linear LP with its error reported; "
                    "auto: qp unless a fairness rule or objective constrains costs or the region is "
                    "large, where HiGHS's QP solver stalls",
    )
    segments: StrictInt = Field(8, ge=1, le=100, description="segments per measure for pwl")


# --- the scenario ----------------------------------------------------------

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class Scenario(_Spec):
    """One planning question: a region, targets, fairness rules, objective, solver options."""

    name: str = Field(
        description="scenario name, also the results folder name: letters, digits, '.', '_', '-'",
        json_schema_extra={"pattern": NAME_PATTERN},
    )
    description: str = Field("", description="one line saying what the scenario asks")
    region: Path = Field(
        description="path of the region data package folder, relative to the scenario file that sets it"
    )
    year: StrictInt | None = Field(None, description="selects the year columns of the region's tables")
    targets: list[Target] = Field([], description="air-quality targets and emission caps, all to be met")
    fairness: list[FairnessRule] = Field([], description="fairness rules, all to be met")
    objective: Annotated[Objective, WithJsonSchema(_objective_json_schema())] = Field(
        default_factory=Objective, description="what to minimise"
    )
    cost_model: Literal["linear", "quadratic"] = Field(
        "linear", description="linear cost, or rising marginal cost within a measure"
    )
    quadratic: QuadraticOptions = Field(
        default_factory=QuadraticOptions, description="options of cost_model: quadratic"
    )
    solver: SolverOptions = Field(default_factory=SolverOptions, description="HiGHS options")
    source_file: SkipJsonSchema[Path | None] = Field(None, exclude=True)

    # set by load_scenario: where each key was written, and every file read
    _lines: dict[str, tuple[str, int]] = PrivateAttr(default_factory=dict)
    _files: tuple[Path, ...] = PrivateAttr(default=())

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, name: str) -> str:
        if re.fullmatch(NAME_PATTERN, name) and ".." not in name:
            return name
        raise _custom_error(
            "scenario_name",
            f"name {_show(name)} is also the results folder name, so it must start with a letter or digit"
            " and use only letters, digits, '.', '_' and '-' (no '/', no '..', no spaces)",
        )

    @field_validator("region", mode="before")
    @classmethod
    def _region_not_blank(cls, region: Any) -> Any:
        if isinstance(region, str) and not region.strip():
            raise _custom_error("region", "region is empty; give the path of the region data folder")
        return region

    def resolved_dict(self) -> dict[str, Any]:
        """The scenario after ``extends:`` resolution, as JSON-ready data in the file's own shape.

        Paths are strings; keys left at ``None`` are omitted; ``source_file`` is
        left out. Written back as YAML it loads to the same scenario.
        """
        return self.model_dump(mode="json", exclude_none=True)

    @property
    def loaded_files(self) -> tuple[Path, ...]:
        """Every YAML file read for this scenario, absolute: the file itself, then its ``extends`` bases."""
        return self._files or ((self.source_file,) if self.source_file is not None else ())

    def locate(self, column: str) -> tuple[str, int | None]:
        """File (as given) and line that set the key path ``column``, e.g. ``"targets[2].receptors"``.

        For checks against the region data, so their problems carry a line
        too. Falls back to the nearest enclosing key the files have; gives
        ``(source_file or "scenario", None)`` for a scenario not read from a file.
        """
        fallback = (str(self.source_file or "scenario"), None)
        while column:
            if column in self._lines:
                return self._lines[column]
            column = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", column) if re.search(r"[.\[]", column) else ""
        return fallback


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file, following ``extends:``; raise InputError listing every problem."""
    shown = str(path)
    doc, problems = _read_chain(shown, ())
    if doc is None:
        raise InputError(problems)
    problems += _reserved_key_problems(doc)
    problems += _region_problems(doc)
    scenario, validation_problems = _validate(doc)
    problems += validation_problems
    if scenario is None or any(p.severity == "error" for p in problems):
        raise InputError(sorted(problems, key=_file_order))
    scenario._lines = {_dotted(path): where for path, where in doc.where.items()}
    scenario._files = tuple(Path(f).resolve() for f in doc.files)
    return scenario


def _file_order(problem: Problem) -> tuple[str, int]:
    return problem.file, problem.row if problem.row is not None else 0


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the scenario file, for editors."""
    schema = Scenario.model_json_schema()
    extends = {
        "type": "string",
        "description": "path of a base scenario file, relative to this file; this file's keys override it",
    }
    schema["properties"] = {"extends": extends, **schema["properties"]}
    # a file that extends another may take its region from there
    schema["required"] = [k for k in schema["required"] if k != "region"]
    schema["anyOf"] = [{"required": ["region"]}, {"required": ["extends"]}]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "fairshare scenario"}


# ---------------------------------------------------------------------------
# 1. Reading YAML with the line of every key
# ---------------------------------------------------------------------------

KeyPath = tuple[Union[str, int], ...]  # e.g. ("targets", 2, "max_ugm3")


@dataclass
class _Doc:
    """A scenario mapping and, for each key path, the file (as shown) and line that set it.

    A list entry's path maps to the line where the entry starts.
    """

    file: str
    data: dict[str, Any]
    where: dict[KeyPath, tuple[str, int]]
    files: list[str]  # this file, then the files it extends


def _read_yaml(shown: str) -> tuple[_Doc | None, list[Problem]]:
    """Parse one file; None and the problems when it is not a readable mapping."""
    try:
        text = Path(shown).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(shown, "file does not exist")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(shown, f"cannot read the file: {exc}")]
    try:
        node, data, where, problems = _parse(text, shown)
    except yaml.YAMLError as exc:
        return None, [_yaml_syntax_problem(shown, exc)]
    if node is None:
        return None, [Problem(shown, "the file is empty; a scenario needs at least 'name' and 'region'", 1)]
    if not isinstance(data, dict):
        return None, [
            Problem(
                shown,
                "the top level must be a mapping of keys (name: ..., region: ..., targets: ...),"
                f" not {_yaml_kind(data)}",
                node.start_mark.line + 1,
            )
        ]
    return _Doc(shown, data, where, [shown]), problems


class _NameKeyLoader(yaml.SafeLoader):
    """SafeLoader that keeps mapping keys as written: ``1:`` is the key '1', ``yes:`` the key 'yes'.

    Every key in a scenario is a name, so this turns a stray number or boolean
    key into an "unknown key" problem instead of a type error.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found a key that is not a name", key_node.start_mark,
                )
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping


def _parse(text: str, shown: str) -> tuple[yaml.Node | None, Any, dict[KeyPath, tuple[str, int]], list[Problem]]:
    """Compose the node tree (which has the lines), index it, then build the Python data."""
    loader = _NameKeyLoader(text)
    try:
        node = loader.get_single_node()
        where: dict[KeyPath, tuple[str, int]] = {}
        problems: list[Problem] = []
        if node is not None:
            _index_lines(node, (), _LineIndex(shown, where, problems, set()))
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data, where, problems


@dataclass
class _LineIndex:
    """Where ``_index_lines`` writes: lines by key path, duplicate-key problems, nodes already seen."""

    shown: str
    where: dict[KeyPath, tuple[str, int]]
    problems: list[Problem]
    seen: set[int]


def _index_lines(node: yaml.Node, path: KeyPath, index: _LineIndex) -> None:
    """Record the line of every mapping key and list entry below ``node``; flag duplicate keys.

    An alias (``*name``) is the anchored node itself, so problems inside it
    point at the lines where the anchored values are written; it is indexed
    once, which also stops a self-referencing alias from recursing forever.
    Keys brought in by a ``<<:`` merge point at the entry that merges them.
    """
    if id(node) in index.seen:
        return
    index.seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            index.where[path + (i,)] = (index.shown, item.start_mark.line + 1)
            _index_lines(item, path + (i,), index)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<:` merge keys: merged values fall back to the parent's line
            key_path, line = path + (key_node.value,), key_node.start_mark.line + 1
            if key_path in index.where:
                first = index.where[key_path][1]
                message = f"key '{key_node.value}' appears twice (lines {first} and {line}); keep one"
                index.problems.append(Problem(index.shown, message, line, _dotted(key_path)))
            index.where[key_path] = (index.shown, line)
            _index_lines(value_node, key_path, index)


def _yaml_syntax_problem(shown: str, exc: yaml.YAMLError) -> Problem:
    """Invalid YAML: the line (row) and column from the parser's mark, in the message too."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return Problem(shown, f"invalid YAML: {exc}")
    what = ": ".join(s for s in (getattr(exc, "context", None), getattr(exc, "problem", None)) if s)
    return Problem(shown, f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {what}", mark.line + 1)


def _yaml_kind(data: Any) -> str:
    return {list: "a list", str: "a single text value"}.get(type(data), f"a single value ({_show(data)})")


# ---------------------------------------------------------------------------
# 2. `extends:` and `region`
# ---------------------------------------------------------------------------


def _read_chain(shown: str, chain: tuple[tuple[Path, str], ...]) -> tuple[_Doc | None, list[Problem]]:
    """Read ``shown`` and the files it extends, merged; ``chain`` lists the files that extend it.

    Returns None (with the problems) when the chain cannot be assembled.
    """
    doc, problems = _read_yaml(shown)
    if doc is None:
        return None, problems
    _anchor_region(doc)
    if "extends" not in doc.data:
        return doc, problems
    ref = doc.data.pop("extends")
    _, line = doc.where.pop(("extends",))
    if not chain and "name" not in doc.data:
        message = (
            f"this scenario extends {_show(ref)} but has no name of its own; add name: ..."
            " (each scenario needs its own, as it names the results folder)"
        )
        problems.append(Problem(shown, message, line, "name"))
    base_shown, problem = _base_file(shown, ref, line, chain)
    if problem is not None:
        return None, problems + [problem]
    base, base_problems = _read_chain(base_shown, chain + ((Path(shown).resolve(), shown),))
    if base is None:
        return None, problems + base_problems
    return _merge(base, doc), problems + base_problems


def _base_file(shown: str, ref: Any, line: int, chain: tuple[tuple[Path, str], ...]) -> tuple[str, Problem | None]:
    """The base file named by ``extends:`` (relative to ``shown``), or the problem with it."""
    if not isinstance(ref, str) or not ref.strip():
        message = "extends must be the path of another scenario file, e.g. extends: base.yaml"
        return "", Problem(shown, message, line, "extends")
    base_shown = str(Path(shown).parent / ref)
    visited = [resolved for resolved, _ in chain] + [Path(shown).resolve()]
    if Path(base_shown).resolve() in visited:
        names = [s for _, s in chain] + [shown]
        cycle = names[visited.index(Path(base_shown).resolve()):] + [base_shown]
        return "", Problem(shown, f"extends makes a cycle: {' extends '.join(cycle)}", line, "extends")
    if not Path(base_shown).is_file():
        message = f"the base scenario file '{base_shown}' named by extends does not exist"
        return "", Problem(shown, message, line, "extends")
    return base_shown, None


def _anchor_region(doc: _Doc) -> None:
    """Make ``region`` absolute, relative to the folder of the file that declared it."""
    region = doc.data.get("region")
    if isinstance(region, str) and region.strip():
        doc.data["region"] = str((Path(doc.file).parent / region).resolve())


def _merge(base: _Doc, child: _Doc) -> _Doc:
    """Child over base: mappings merge key by key, anything else (lists included) is replaced."""
    replaced: list[KeyPath] = []
    data = _deep_merge(base.data, child.data, (), replaced)
    where = {p: w for p, w in base.where.items() if not any(p[: len(r)] == r for r in replaced)}
    where.update(child.where)
    return _Doc(child.file, data, where, child.files + base.files)


def _deep_merge(base: dict, child: dict, path: KeyPath, replaced: list[KeyPath]) -> dict:
    merged = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _deep_merge(base[key], value, path + (key,), replaced)
        else:
            merged[key] = value
            replaced.append(path + (key,))
    return merged


def _region_problems(doc: _Doc) -> list[Problem]:
    """The region folder must exist (the data checks look inside it)."""
    region = doc.data.get("region")
    if not isinstance(region, str) or not region.strip() or Path(region).is_dir():
        return []
    file, line = doc.where.get(("region",), (doc.file, None))
    what = "is a file, not a folder" if Path(region).exists() else "does not exist"
    message = f"region folder '{region}' {what} (region is relative to the scenario file that sets it)"
    return [Problem(file, message, line, "region")]


def _reserved_key_problems(doc: _Doc) -> list[Problem]:
    """``source_file`` is set by the loader, not by the file."""
    if "source_file" not in doc.data:
        return []
    doc.data.pop("source_file")
    file, line = doc.where.get(("source_file",), (doc.file, None))
    message = "unknown key 'source_file' (it is set by fairshare when a file is loaded)"
    return [Problem(file, message, line, "source_file")]


# ---------------------------------------------------------------------------
# 3. Validation, and 4. pydantic errors as problems
# ---------------------------------------------------------------------------


def _validate(doc: _Doc) -> tuple[Scenario | None, list[Problem]]:
    try:
        return Scenario.model_validate({**doc.data, "source_file": Path(doc.file).resolve()}), []
    except ValidationError as exc:
        errors = _drop_missing_explained_by_typo(exc.errors())
        return None, [_problem_from_error(err, doc) for err in errors]


def _problem_from_error(err: Any, doc: _Doc) -> Problem:
    path = _yaml_path(err["loc"], doc.data)
    if err["type"] == "union_tag_invalid":
        path += ("rule",)  # point at the `rule:` line
    file, line = _where(doc, path)
    return Problem(file, _message(err), line, _dotted(path))


def _yaml_path(loc: tuple, data: dict) -> KeyPath:
    """pydantic's error location as the key path in the file.

    Drops the union tag pydantic inserts after a list index (``targets[2]``
    is validated as ``targets.2.concentration``) and puts back the objective
    name the mapping form ``{min_cost: {...}}`` is flattened from.
    """
    path = list(loc)
    tags = {"targets": _TARGET_KINDS, "fairness": _FAIRNESS_RULES}.get(path[0] if path else None, {})
    if len(path) > 2 and isinstance(path[1], int) and path[2] in tags:
        del path[2]
    objective = data.get("objective")
    if path[:1] == ["objective"] and len(path) > 1:
        path = path[:1] + [next(iter(objective))] + path[1:] if isinstance(objective, dict) else path[:1]
    return tuple(path)


def _where(doc: _Doc, path: KeyPath) -> tuple[str, int | None]:
    """File and line of the deepest part of ``path`` the file has (a missing key: its parent)."""
    for n in range(len(path), 0, -1):
        if path[:n] in doc.where:
            return doc.where[path[:n]]
    return doc.file, None


def _dotted(path: KeyPath) -> str:
    """("targets", 2, "max_ugm3") -> "targets[2].max_ugm3" (list indices count from 0)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _drop_missing_explained_by_typo(errors: list[Any]) -> list[Any]:
    """A misspelt key gives "unknown key 'metirc'" and "missing 'metric'"; keep only the first."""
    suggested = {
        (tuple(e["loc"][:-1]), _closest(e["loc"][-1], _allowed_keys(e["loc"][:-1])))
        for e in errors
        if e["type"] == "extra_forbidden"
    }
    return [e for e in errors if not (e["type"] == "missing" and (tuple(e["loc"][:-1]), e["loc"][-1]) in suggested)]


def _message(err: Any) -> str:
    """The planner-facing text for one pydantic error."""
    kind, loc, value, ctx = err["type"], err["loc"], err.get("input"), err.get("ctx") or {}
    key = next((str(p) for p in reversed(loc) if isinstance(p, str)), "the scenario")
    field = _field_at(loc)
    if kind == "missing":
        about = f" ({field.description})" if field is not None and field.description else ""
        return f"missing required key '{key}'{about}"
    if kind == "extra_forbidden":
        return _unknown_key_message(str(loc[-1]), _allowed_keys(loc[:-1]))
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{key} is {_show(value)}, but it must be {_range_text(field, ctx)}"
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        return f"{key} is {_show(value)}{_did_you_mean(value, allowed)}; use {_or_list(allowed)}"
    if kind == "union_tag_invalid":
        tag = ctx.get("tag")
        rules = ", ".join(_FAIRNESS_RULES)
        return f"'{tag}' is not a fairness rule{_did_you_mean(tag, _FAIRNESS_RULES)}; rules: {rules}"
    if kind == "union_tag_not_found":
        return f"missing key 'rule': say which fairness rule this is, one of {', '.join(_FAIRNESS_RULES)}"
    if kind == "all_or_ids":
        return f"{key} {err['msg']}"
    if kind in _TYPE_WORDS:
        return f"{key} must be {_TYPE_WORDS[kind]}, not {_show(value)}"
    return str(err["msg"]).removeprefix("Value error, ")


_TYPE_WORDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "list_type": "a list (one entry per line starting with '- ', or [a, b])",
    "model_type": "a mapping of keys (key: value)",
    "model_attributes_type": "a mapping of keys (key: value)",
    "dict_type": "a mapping of keys (key: value)",
    "path_type": "a path (text)",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def _unknown_key_message(key: str, allowed: list[str]) -> str:
    match = _closest(key, allowed)
    if match is not None:
        return f"unknown key '{key}'; did you mean '{match}'?"
    return f"unknown key '{key}'; allowed here: {', '.join(allowed)}" if allowed else f"unknown key '{key}'"


def _range_text(field: Any, ctx: dict) -> str:
    """'greater than 0 and less than 100', from the field's bounds (or the error's one bound)."""
    words = {
        at.Gt: ("gt", "greater than"),
        at.Ge: ("ge", "at least"),
        at.Lt: ("lt", "less than"),
        at.Le: ("le", "at most"),
    }
    bounds = [m for m in (field.metadata if field is not None else []) if type(m) in words]
    if bounds:
        return " and ".join(f"{words[type(m)][1]} {_show(getattr(m, words[type(m)][0]))}" for m in bounds)
    name, text = next(v for k, v in words.items() if v[0] in ctx)
    return f"{text} {_show(ctx[name])}"


# --- which model sits at a location ----------------------------------------


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class validating the mapping at ``loc`` (pydantic's location), if one."""
    model: type[BaseModel] | None = Scenario
    tags = {**_TARGET_KINDS, **_FAIRNESS_RULES}
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None and part in tags:
            model = tags[part]
        elif model is not None and part in model.model_fields:
            model = _single_model_in(model.model_fields[part].annotation)
        else:
            return None
    return model


def _single_model_in(annotation: Any) -> type[BaseModel] | None:
    """The one model class inside ``list[...]``/``Optional``/``Annotated``; None for a union of models."""
    found: list[type[BaseModel]] = []

    def walk(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            found.append(tp)
        for arg in get_args(tp):
            walk(arg)

    walk(annotation)
    return found[0] if len(found) == 1 else None


def _field_at(loc: tuple) -> Any:
    """The pydantic FieldInfo of the key at ``loc``, if known."""
    if not loc or not isinstance(loc[-1], str):
        return None
    model = _model_at(loc[:-1])
    return model.model_fields.get(loc[-1]) if model is not None else None


def _allowed_keys(loc: tuple) -> list[str]:
    """The keys a file may use in the mapping at ``loc``."""
    model = _model_at(loc)
    if model is None:
        return []
    hidden = {"source_file", "kind"}
    keys = [k for k in model.model_fields if k not in hidden]
    return ["extends", *keys] if model is Scenario else keys


# --- wording ---------------------------------------------------------------


def _closest(word: Any, choices: Any) -> str | None:
    matches = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _did_you_mean(word: Any, choices: Any) -> str:
    match = _closest(word, choices)
    return f" (did you mean '{match}'?)" if match is not None else ""


def _or_list(items: list[str]) -> str:
    quoted = [f"'{i}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


def _show(value: Any) -> str:
    """A value as the planner wrote it, shortened."""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, str):
        text = f"'{value}'"
    elif value is None:
        text = "null"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
