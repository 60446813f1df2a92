r"""Burden cap: no listed city pays more than a share of its GDP.

In the scenario file::

    fairness:
      - {rule: burden_cap, max_share_of_gdp: 0.008}            # 0.8 % of GDP
      - {rule: burden_cap, max_share_of_gdp: 0.004, cities: [beijing, tianjin]}

.. math::  \mathrm{city\_cost}_s \le \beta\, \mathrm{GDP}_s \quad \forall s \in \text{cities}

=========================  ==========================================================
``beta``                   ``max_share_of_gdp``, a fraction of GDP (0.004 = 0.4 %)
``GDP[s]``                 million CNY/yr (the files: bn CNY/yr)
``burden_cap[n, s]``       entry n, city s (million CNY/yr); its dual is the total cost
                           added per CNY of allowance taken away
=========================  ==========================================================

The Pareto front ``--y max_burden`` appends a burden cap on every city and lowers it
from the least-cost plan's largest burden to the least largest burden reachable.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from fairshare.families.base import CostShareItem, Sweep, cost_share_family, share_warnings
from fairshare.spec import SHARE_OF_GDP, AllOrIds, Spec as _Spec, by_year

NAME = "burden_cap"
SECTION = "fairness"
ROWS = ("burden_cap",)
CONSTRAINS_COSTS = True  # reads city costs: the exact QP cannot hold it (see instance)
Item = CostShareItem


class BurdenCap(_Spec):
    """Burden cap: every listed city's annual cost ``cost[s] <= max_share_of_gdp * GDP[s]`` (CNY/yr)."""

    rule: Literal["burden_cap"]
    max_share_of_gdp: by_year(gt=0, lt=1) = Field(description=f"upper bound on {SHARE_OF_GDP}")
    cities: AllOrIds = Field("all", description="'all' or a list of city ids the cap applies to")
    over: Literal["each_year", "horizon"] = Field(
        "each_year", description="roadmaps: hold in every year, or for the horizon's costs in "
                                 "present value (levelised); one-year plans: no difference")


Spec = BurdenCap  # the family's entry as written in the scenario file


def resolve(spec: BurdenCap, ctx, where: str) -> Item | None:
    cities = ctx.cities(where, spec.cities)
    if cities is None:
        return None
    return Item(where, spec, np.where(cities, float(spec.max_share_of_gdp), np.nan))


def warnings(spec: BurdenCap, where: str) -> list[str]:
    return share_warnings(spec.max_share_of_gdp, "max_share_of_gdp")


# the rows city_cost[s] <= share_s GDP[s], their diagnosis and report (shared with ability_to_pay)
add_rows, explain, report = cost_share_family(NAME)


def _set_cap(solver, inst, share: float) -> None:
    """The appended (last) burden cap at ``share`` of GDP in every city."""
    n = len(inst.items[NAME]) - 1
    rows = [solver.row(solver.model.burden_cap[n, c]) for c in inst.data.cities]
    solver.set_row_bounds(rows, -np.inf, share * inst.gdp_mcny)


def _least_max_burden(inst) -> float:
    from fairshare.api import least_max_burden
    return least_max_burden(inst)


SWEEP = Sweep(name="max_burden", family=NAME, column="max_burden",
              loose={"rule": NAME, "max_share_of_gdp": 0.999}, set=_set_cap,
              end=_least_max_burden)
