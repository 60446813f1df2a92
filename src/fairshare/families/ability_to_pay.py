r"""Ability to pay: a city's cost at most a share of its GDP that depends on how rich it is.

In the scenario file::

    fairness:
      - {rule: ability_to_pay, max_share_of_gdp: 0.006}
      - rule: ability_to_pay
        class_by: gdp_per_capita
        classes:
          - {max_gdp_per_capita_cny: 60000, max_share_of_gdp: 0.003}
          - {max_gdp_per_capita_cny: null, max_share_of_gdp: 0.008}

.. math::  \mathrm{city\_cost}_s \le \alpha_s\, \mathrm{GDP}_s

=========================  ==========================================================
``alpha[s]``               one share for every listed city, or the share of the first
                           class whose ``max_gdp_per_capita_cny`` is at least the city's
                           GDP per person (CNY per person per year)
``ability_to_pay[n, s]``   entry n, city s (million CNY/yr)
=========================  ==========================================================
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from fairshare.families.base import CostShareItem, cost_share_family, share_warnings
from fairshare.spec import SHARE_OF_GDP, AllOrIds, Real, Spec as _Spec, by_year, custom_error

NAME = "ability_to_pay"
SECTION = "fairness"
ROWS = ("ability_to_pay",)
CONSTRAINS_COSTS = True  # reads city costs: the exact QP cannot hold it (see instance)
Item = CostShareItem


class AbilityClass(_Spec):
    """One class of cities by GDP per capita (CNY per person per year)."""

    max_gdp_per_capita_cny: Real | None = Field(
        None, gt=0, description="upper end of the class, CNY per person per year; null (or absent) for the top class"
    )
    max_share_of_gdp: Real = Field(gt=0, lt=1, description=f"upper bound on {SHARE_OF_GDP} in this class")


class AbilityToPay(_Spec):
    """Ability to pay: ``cost[s] <= alpha[s] GDP[s]`` (CNY/yr).

    ``alpha`` is either one ``max_share_of_gdp`` for every listed city, or,
    with ``class_by: gdp_per_capita``, taken from ``classes``: a city falls in
    the first class whose ``max_gdp_per_capita_cny`` is at least its GDP per
    capita. Classes are in ascending order and the last has no upper end
    (``max_gdp_per_capita_cny: null``), so every city is in one class.
    """

    rule: Literal["ability_to_pay"]
    max_share_of_gdp: by_year(gt=0, lt=1) | None = Field(None, description=f"upper bound on {SHARE_OF_GDP}")
    cities: AllOrIds = Field("all", description="'all' or a list of city ids the rule applies to")
    over: Literal["each_year", "horizon"] = Field(
        "each_year", description="roadmaps: hold in every year, or for the horizon's costs in "
                                 "present value (levelised); one-year plans: no difference")
    class_by: Literal["gdp_per_capita"] | None = Field(None, description="classify cities by GDP per capita")
    classes: list[AbilityClass] = Field([], description="the classes, ascending by max_gdp_per_capita_cny")

    @model_validator(mode="after")
    def _one_form(self) -> AbilityToPay:
        flat, by_class = self.max_share_of_gdp is not None, self.class_by is not None or bool(self.classes)
        either = "give either max_share_of_gdp or class_by: gdp_per_capita with classes"
        if flat == by_class:
            but = ", not both" if flat else ""
            raise custom_error("ability_to_pay_form", f"an ability_to_pay rule must {either}{but}")
        if by_class:
            _check_classes(self)
        return self


Spec = AbilityToPay  # the family's entry as written in the scenario file


def _check_classes(rule: AbilityToPay) -> None:
    """Classes must be given with class_by, ascend, and end with an open top class."""
    if rule.class_by is None or not rule.classes:
        raise custom_error("ability_to_pay_form", "class_by: gdp_per_capita and classes go together; give both")
    bounds = [c.max_gdp_per_capita_cny for c in rule.classes]
    if bounds[-1] is not None or None in bounds[:-1]:
        raise custom_error(
            "ability_to_pay_classes",
            "the last class, and only the last, must have max_gdp_per_capita_cny: null (no upper end),"
            " so that every city falls in a class",
        )
    if any(lo >= hi for lo, hi in zip(bounds[:-2], bounds[1:-1])):
        raise custom_error("ability_to_pay_classes", "classes must be in ascending order of max_gdp_per_capita_cny")


def resolve(spec: AbilityToPay, ctx, where: str) -> Item | None:
    cities = ctx.cities(where, spec.cities)
    if cities is None:
        return None
    if spec.max_share_of_gdp is not None:
        share = np.full(len(cities), float(spec.max_share_of_gdp))
    else:  # the first class whose upper end is at least the city's GDP per person
        gdp_per_person = ctx.data.gdp_bn_cny * 1e9 / ctx.data.population
        share = np.full(len(cities), np.nan)
        for c in reversed(spec.classes):
            top = np.inf if c.max_gdp_per_capita_cny is None else float(c.max_gdp_per_capita_cny)
            share = np.where(gdp_per_person <= top, float(c.max_share_of_gdp), share)
    return Item(where, spec, np.where(cities, share, np.nan))


def warnings(spec: AbilityToPay, where: str) -> list[str]:
    shares = [spec.max_share_of_gdp] if spec.max_share_of_gdp is not None else \
        [c.max_share_of_gdp for c in spec.classes]
    return [w for s in shares if s is not None for w in share_warnings(s, "max_share_of_gdp")][:1]


# the rows city_cost[s] <= share_s GDP[s], their diagnosis and report (shared with burden_cap)
add_rows, explain, report = cost_share_family(NAME)
