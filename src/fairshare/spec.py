"""The building blocks of the scenario file's schema, shared by the scenario model
(:mod:`fairshare.scenario`) and by every rule family's ``Spec`` (:mod:`fairshare.families`).

Units: concentrations in µg/m³, emissions in t/yr, costs in CNY/yr, GDP in CNY/yr,
shares of GDP as fractions (0.004 = 0.4 % of GDP), ``*_pct`` in percent.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainValidator, StrictFloat, WithJsonSchema
from pydantic_core import PydanticCustomError

# A number in the file: an int or a float, never text or true/false.
Real = StrictFloat

SHARE_OF_GDP = "cost as a fraction of GDP, 0..1 exclusive (0.004 = 0.4 % of GDP)"


class Spec(BaseModel):
    """Base of every part of a scenario: immutable, unknown keys rejected.

    Numbers given where text is expected become text (ids such as city codes
    may be written unquoted); infinities and NaN are rejected.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, coerce_numbers_to_str=True
    )


def custom_error(kind: str, message: str) -> PydanticCustomError:
    """A validation error whose message is shown to the planner as written."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def require_exactly_one(model: BaseModel, names: tuple[str, ...], what: str) -> None:
    """Raise unless exactly one of the optional fields ``names`` is given."""
    given = [n for n in names if getattr(model, n) is not None]
    if len(given) == 1:
        return
    choices = ", ".join(names[:-1]) + f" or {names[-1]}"
    found = "none is given" if not given else "it gives " + " and ".join(given) + "; keep one"
    raise custom_error("exactly_one", f"{what} needs exactly one of {choices}: {found}")


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
        hint = f", not {show(value)}"
    raise custom_error("all_or_ids", f"must be 'all' or a list of ids such as [beijing, tianjin]{hint}")


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


def show(value: Any) -> str:
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


# --- values that may change by year -------------------------------------------------------

_BOUND_WORDS = {"gt": ("greater than", lambda v, b: v > b), "ge": ("at least", lambda v, b: v >= b),
                "lt": ("less than", lambda v, b: v < b), "le": ("at most", lambda v, b: v <= b)}
_JSON_BOUND = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum",
               "le": "maximum"}


def by_year(**bounds: float):
    """A number within ``bounds`` (gt, ge, lt, le), or a mapping year -> such a number: the
    value in each year of a roadmap (an entry applies only in the years its mapping
    names). One problem per bad value, in the words of the other range checks."""
    words = " and ".join(f"{_BOUND_WORDS[k][0]} {show(v)}" for k, v in bounds.items())

    def number(value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise custom_error("by_year", f"{where}must be a number or a mapping of years to "
                                          f"numbers such as {{2030: 35, 2035: 30}}, not {show(value)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise custom_error("by_year", f"{where}must be a finite number, not {show(value)}")
        if not all(_BOUND_WORDS[k][1](value, b) for k, b in bounds.items()):
            raise custom_error("by_year", f"{where}is {show(value)}, but it must be {words}")
        return float(value)

    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            return number(value, "")
        if not value:
            raise custom_error("by_year", "must name at least one year, e.g. {2030: 35}")
        return {_year(key): number(item, f"in {key} ") for key, item in value.items()}

    schema_number = {"type": "number", **{_JSON_BOUND[k]: v for k, v in bounds.items()}}
    schema = {"anyOf": [schema_number, {"type": "object", "minProperties": 1,
                                         "patternProperties": {r"^[0-9]{4}$": schema_number},
                                         "additionalProperties": False}]}
    return Annotated[Any, PlainValidator(check), WithJsonSchema(schema)]


def _year(key: Any) -> int:
    """A mapping key as a year (YAML reads ``2030:`` as an int; text digits are accepted)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and key.strip().isdigit():
        return int(key)
    raise custom_error("by_year", f"must map years to values such as {{2030: 35, 2035: 30}}; "
                                  f"{show(key)} is not a year")


def at_year(spec: BaseModel, year: int | None) -> BaseModel | None:
    """``spec`` with every value given by year replaced by its value in ``year``; None
    when a value by year does not name ``year`` (the entry does not apply that year)."""
    changes = {}
    for name in type(spec).model_fields:
        value = getattr(spec, name)
        if isinstance(value, dict) and value and all(isinstance(k, int) for k in value):
            if year not in value:
                return None
            changes[name] = value[year]
    return spec.model_copy(update=changes) if changes else spec
