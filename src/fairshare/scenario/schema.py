"""The scenario file's schema: frozen pydantic models, unknown keys rejected.

The entries of ``targets:`` and ``fairness:`` are the ``Spec`` models of the rule
families (:mod:`fairshare.families`), each in its family's module; this module holds
the scenario around them (objective, cost model, solver options) and
:meth:`Scenario.variant`, the one validated way to derive a scenario from another.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    PrivateAttr,
    StrictInt,
    Tag,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from fairshare import families
from fairshare.errors import did_you_mean
from fairshare.spec import Real, Spec, custom_error, show

# --- targets and fairness rules: the families' Spec models ---------------------------------

TARGET_KINDS: dict[str, type[Spec]] = {f.NAME: f.Spec for f in families.TARGETS}
FAIRNESS_RULES: dict[str, type[Spec]] = {f.NAME: f.Spec for f in families.RULES}


def _target_kind(value: Any) -> str | None:
    """Which target family an entry is, from its marker key (a near-miss spelling counts)."""
    if isinstance(value, BaseModel):
        return getattr(value, "kind", None)
    if not isinstance(value, dict):
        return None
    keys = [str(k) for k in value]
    for family in families.TARGETS:
        if family.MARKER in keys or difflib.get_close_matches(family.MARKER, keys, n=1, cutoff=0.8):
            return family.NAME
    return None


Target = Annotated[
    Union[tuple(Annotated[cls, Tag(kind)] for kind, cls in TARGET_KINDS.items())],  # type: ignore[misc]
    Discriminator(
        _target_kind,
        custom_error_type="target_kind",
        custom_error_message=(
            "a target needs 'metric' (a concentration or exposure target, e.g. {metric: PM25, max_ugm3: 35})"
            " or 'emission_cap' (an emission cap, e.g. {emission_cap: NOx, reduction_pct: 10})"
        ),
    ),
]

FairnessRule = Annotated[Union[tuple(FAIRNESS_RULES.values())], Field(discriminator="rule")]  # type: ignore[misc]


# --- objective and solver --------------------------------------------------

OBJECTIVE_KINDS = ("min_cost", "min_max_burden")


class Objective(Spec):
    """What the solve minimises.

    * ``min_cost``: total cost (CNY/yr), plus ``fairness_weight`` times the
      ``fairness_metric`` when the weight is above 0;
    * ``min_max_burden``: the largest burden ``cost[s]/GDP[s]``, then the least
      cost at that burden.

    In the file: ``objective: min_cost``, ``objective: min_max_burden`` or
    ``objective: {min_cost: {fairness_weight: 1.0e+9, fairness_metric: gini}}``.
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
            if value in OBJECTIVE_KINDS:
                return {"kind": value}
            raise _objective_error(value)
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in OBJECTIVE_KINDS:
            kind, options = next(iter(value.items()))
            if options is None:
                return {"kind": kind}
            if not isinstance(options, dict):
                example = "{fairness_weight: 1.0e+9, fairness_metric: gini}"
                raise custom_error("objective", f"the options under {kind} must be a mapping such as {example}")
            return {"kind": kind, **options}
        if isinstance(value, dict) and set(map(str, value)) <= set(cls.model_fields):
            return value  # built in Python: Objective(kind=..., ...), or an empty mapping
        if isinstance(value, dict):
            raise _objective_error(", ".join(map(str, value)) or "{}")
        return value

    @model_validator(mode="after")
    def _weight_needs_metric(self) -> Objective:
        if self.kind == "min_max_burden" and (self.fairness_weight or self.fairness_metric):
            raise custom_error("objective", "fairness_weight and fairness_metric go with min_cost, not min_max_burden")
        if self.fairness_weight > 0 and self.fairness_metric is None:
            raise custom_error("objective", "fairness_weight needs fairness_metric: gini, band or max_burden")
        return self

    @model_serializer
    def _to_file_form(self) -> str | dict[str, Any]:
        if self.fairness_weight == 0 and self.fairness_metric is None:
            return self.kind
        return {self.kind: {"fairness_weight": self.fairness_weight, "fairness_metric": self.fairness_metric}}

    @property
    def is_plain_cost(self) -> bool:
        """True for least cost with no fairness term."""
        return self.kind == "min_cost" and not self.fairness_weight


def _objective_error(given: str):
    return custom_error(
        "objective",
        f"objective '{given}' is not known{did_you_mean(given, OBJECTIVE_KINDS, ' (did you mean {!r}?)')};"
        " use min_cost, min_max_burden or {min_cost: {fairness_weight: ..., fairness_metric: gini|band|max_burden}}",
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
            {"enum": list(OBJECTIVE_KINDS)},
            {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {"min_cost": options, "min_max_burden": {"type": ["object", "null"], "maxProperties": 0}},
            },
        ],
    }


MAX_THREADS = 256  # HiGHS allocates per thread: a typo such as 100000 ends in std::bad_alloc


class SolverOptions(Spec):
    """Options passed to HiGHS."""

    time_limit_s: Real = Field(300.0, gt=0, le=1e7, description="wall-clock limit for one solve, seconds")
    threads: StrictInt = Field(0, ge=0, le=MAX_THREADS, description="threads HiGHS may use; 0 lets HiGHS choose")
    method: Literal["choose", "simplex", "ipm"] = Field("choose", description="LP algorithm")
    constraint_generation: Literal["auto", "on", "off"] = Field(
        "auto",
        description="add air-quality target rows only as they are violated (for many receptors); "
                    "auto: when there are more than 2,000 target rows",
    )
    mip_rel_gap: Real = Field(
        1e-6, ge=0, le=1,
        description="relative gap at which HiGHS stops a mixed-integer solve (ozone on response "
                    "surfaces, docs/ozone.md): 1e-6 proves the optimum to within a millionth",
    )


class QuadraticOptions(Spec):
    """How ``cost_model: quadratic`` is built: cost of measure m in city s is
    ``kappa x + 0.5 theta x^2`` (rising marginal cost, CNY/yr)."""

    theta_factor: Real = Field(
        1.0, ge=0,
        description="theta = theta_factor * kappa where measures.csv has no theta_cny_per_t column "
                    "(1 doubles the marginal cost from the first to the last unit of a measure "
                    "applicable to its whole base)",
    )
    method: Literal["auto", "qp", "pwl"] = Field(
        "auto",
        description="qp: exact convex QP (HiGHS); pwl: piecewise-linear LP with its error reported; "
                    "auto: qp unless a fairness rule or objective constrains costs or the region is "
                    "large, where HiGHS's QP solver stalls",
    )
    segments: StrictInt = Field(8, ge=1, le=100, description="segments per measure for pwl")


class RoadmapOptions(Spec):
    """How the years of a roadmap (``years:``) are linked and valued."""

    discount_rate: Real = Field(0.05, ge=0, lt=1, description="discount rate per year, a fraction "
                                                              "(0.05 = 5 %), for the net present value")
    last_period_years: StrictInt = Field(5, ge=1, le=100, description="years the last period "
                                                                      "stands for (each other period "
                                                                      "stands for the years until the next)")
    foresight: Literal["perfect", "myopic"] = Field(
        "perfect", description="perfect: one plan over all years; myopic: year by year, each "
                               "keeping what earlier years installed")
    compare_foresight: bool = Field(False, description="also solve the other foresight and report "
                                                       "the cost of myopia")


class TransportChoice(Spec):
    """Which transport estimate of the region's ensemble the plan uses (a region may ship
    several members, e.g. low, central and high outside shares): one ``member``, or a
    ``robust`` plan that meets every concentration target under each listed member."""

    member: str | None = Field(
        None, description="transport member id (the member column of transport.csv); default: "
                          "region.yaml's default_member")
    robust: list[str] | None = Field(
        None, min_length=1, description="members under each of which every concentration and "
                                        "exposure target must hold (one plan for all)")

    @model_validator(mode="after")
    def _member_or_robust(self) -> TransportChoice:
        if self.member is not None and self.robust is not None:
            raise custom_error("transport", "give transport: {member: ...} or {robust: [...]}, "
                                            "not both")
        if self.robust is not None and len(set(self.robust)) != len(self.robust):
            raise custom_error("transport", f"robust lists a member twice: {self.robust}")
        return self

    @property
    def main_member(self) -> str | None:
        """The member the plan is built on (the first of a robust plan's)."""
        return self.robust[0] if self.robust else self.member


# --- the scenario ----------------------------------------------------------

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# A folder name is at most 255 bytes; the results writer adds ".<name>.partial-<pid>-<8 hex>"
# and fronts add "-pareto-max_burden", so a name longer than this could not be written.
MAX_NAME_LENGTH = 200


class Scenario(Spec):
    """One planning question: a region, targets, fairness rules, objective, solver options."""

    name: str = Field(
        description="scenario name, also the results folder name: letters, digits, '.', '_', '-'",
        json_schema_extra={"pattern": NAME_PATTERN, "maxLength": MAX_NAME_LENGTH},
    )
    description: str = Field("", description="one line saying what the scenario asks")
    region: Path = Field(
        description="path of the region data package folder, relative to the scenario file that sets it"
    )
    year: StrictInt | None = Field(None, description="selects the rows of that year in the region's tables (emissions, concentrations, ...)")
    years: list[StrictInt] | None = Field(
        None, min_length=1, description="a roadmap: the periods' first years, ascending (e.g. "
                                        "[2025, 2030, 2035]); one plan linking them")
    roadmap: RoadmapOptions = Field(default_factory=RoadmapOptions,
                                    description="options of a roadmap (years:)")
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
    transport: TransportChoice = Field(default_factory=TransportChoice,
                                       description="which member of a transport ensemble to use")
    source_file: SkipJsonSchema[Path | None] = Field(None, exclude=True)

    # set by load_scenario: where each key was written, every file read, lists replaced by extends
    _lines: dict[str, tuple[str, int]] = PrivateAttr(default_factory=dict)
    _files: tuple[Path, ...] = PrivateAttr(default=())
    _replaced: tuple = PrivateAttr(default=())
    # set for the valid part of an invalid file (messages.salvage): each kept entry's position
    _positions: dict[str, list[int]] = PrivateAttr(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, name: str) -> str:
        if len(name) > MAX_NAME_LENGTH:
            raise custom_error("scenario_name", f"name is {len(name)} characters long; it is also the "
                                                f"results folder name, so keep it to {MAX_NAME_LENGTH}")
        if re.fullmatch(NAME_PATTERN, name) and ".." not in name:
            return name
        raise custom_error(
            "scenario_name",
            f"name {show(name)} is also the results folder name, so it must start with a letter or digit"
            " and use only letters, digits, '.', '_' and '-' (no '/', no '..', no spaces)",
        )

    @field_validator("years")
    @classmethod
    def _years_ascend(cls, years: list[int] | None, info: ValidationInfo) -> list[int] | None:
        if years is not None and any(b <= a for a, b in zip(years, years[1:])):
            raise custom_error("years", f"years must ascend without repeats, e.g. [2025, 2030, "
                                        f"2035]; got {years}")
        if years is not None and info.data.get("year") is not None:
            raise custom_error("year_or_years", "give year: (one year) or years: (a roadmap), "
                                                "not both")
        return years

    @property
    def is_roadmap(self) -> bool:
        return self.years is not None

    @field_validator("region", mode="before")
    @classmethod
    def _region_not_blank(cls, region: Any) -> Any:
        if isinstance(region, str) and not region.strip():
            raise custom_error("region", "region is empty; give the path of the region data folder")
        if isinstance(region, str) and "\x00" in region:
            raise custom_error("region", "region contains a NUL character; give the path of the region folder")
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

    def entries(self):
        """``(where, spec)`` for every target, then every fairness rule, ``where`` being the
        entry's key path in the file, e.g. ``("fairness[1]", BurdenCap(...))``."""
        for section in ("targets", "fairness"):
            positions = self._positions.get(section)
            for i, spec in enumerate(getattr(self, section)):
                yield f"{section}[{positions[i] if positions else i}]", spec

    @property
    def replaced(self) -> tuple:
        """Lists of a base file that a file of the ``extends`` chain replaced whole
        (:class:`fairshare.scenario.yaml_lines.Replacement`)."""
        return self._replaced

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

    def variant(self, changes: dict[str, Any] | None = None, /, **keys: Any) -> Scenario:
        """A copy with keys replaced, validated like a file: the one way to derive a
        scenario (a least-cost twin, a sweep point, an override of a distributed task).

        ``changes`` may use dotted keys into mappings (``{"solver.time_limit_s": 60}``);
        ``keys`` are top-level (``variant(objective="min_cost", fairness=[])``). Entries
        of ``targets`` and ``fairness`` may be mappings as in the file or Spec objects.
        Where each key was written and which files were read carry over. Raises
        :class:`~fairshare.errors.InputError` when the result is not a valid scenario.
        """
        from fairshare.errors import InputError
        from fairshare.scenario.messages import problems_from_validation

        data = self.model_dump(mode="python", exclude_none=True)
        for dotted, value in {**(changes or {}), **keys}.items():
            _set_dotted(data, dotted, value)
        try:
            new = type(self).model_validate({**data, "source_file": self.source_file})
        except ValidationError as exc:
            shown = f"variant of {self.source_file or self.name}"
            raise InputError(problems_from_validation(exc, data, shown)) from None
        new._lines, new._files, new._replaced = self._lines, self._files, self._replaced
        return new


def _set_dotted(data: dict, dotted: str, value: Any) -> None:
    """``data["a"]["b"] = value`` for ``dotted = "a.b"``; every parent must exist."""
    *parents, last = dotted.split(".")
    node = data
    for i, part in enumerate(parents):
        if not isinstance(node.get(part), dict):
            where = ".".join(parents[: i + 1])
            raise KeyError(f"cannot set {dotted!r}: the scenario has no mapping {where!r}")
        node = node[part]
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python", exclude_none=True)
    elif isinstance(value, list):
        value = [v.model_dump(mode="python", exclude_none=True) if isinstance(v, BaseModel) else v
                 for v in value]
    node[last] = value


def model_tags() -> dict[str, type[Spec]]:
    """Every entry model by its tag (target kind or rule name)."""
    return {**TARGET_KINDS, **FAIRNESS_RULES}


def single_model_in(annotation: Any) -> type[BaseModel] | None:
    """The one model class inside ``list[...]``/``Optional``/``Annotated``; None for a union of models."""
    found: list[type[BaseModel]] = []

    def walk(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            found.append(tp)
        for arg in get_args(tp):
            walk(arg)

    walk(annotation)
    return found[0] if len(found) == 1 else None


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
