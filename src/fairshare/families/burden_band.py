r"""Burden band: every city's burden within a band around the regional burden.

In the scenario file::

    fairness:
      - {rule: burden_band, width: 0.004}     # within 0.4 percentage points of GDP

.. math::

    -w\,\mathrm{GDP}_s \;\le\; \mathrm{cost}_s - \frac{\mathrm{GDP}_s}{\sum_t \mathrm{GDP}_t}
    \sum_t \mathrm{cost}_t \;\le\; w\,\mathrm{GDP}_s

i.e. ``|b_s - B| <= w`` with ``b_s = cost_s / GDP_s`` and ``B = sum cost / sum GDP``,
multiplied through by ``GDP_s`` so that the coefficients stay near 1.

=========================  ==========================================================
``w``                      ``width``, a fraction of GDP (0.001 = 0.1 percentage points)
``burden_band[n, s]``      entry n, city s (million CNY/yr)
=========================  ==========================================================

The Pareto front ``--y band`` appends a band and narrows it from the least-cost plan's
widest distance to 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from fairshare.families.base import (Entry, Relaxation, Sweep, entry_report, pct, relative_matrix,
                                     relaxation, share_warnings)
from fairshare.spec import Spec as _Spec, by_year

NAME = "burden_band"
SECTION = "fairness"
ROWS = ("burden_band",)
CONSTRAINS_COSTS = True  # reads city costs: the exact QP cannot hold it (see instance)


class BurdenBand(_Spec):
    """Burden band: ``|cost[s]/GDP[s] - total cost/total GDP| <= width`` for every city."""

    rule: Literal["burden_band"]
    width: by_year(ge=0) = Field(description="half-width of the band, a fraction of GDP (0.001 = 0.1 percentage points of GDP)")
    over: Literal["each_year", "horizon"] = Field(
        "each_year", description="roadmaps: hold in every year, or for the horizon's costs in "
                                 "present value (levelised); one-year plans: no difference")


Spec = BurdenBand  # the family's entry as written in the scenario file


@dataclass
class Item(Entry):
    width: float


def resolve(spec: BurdenBand, ctx, where: str) -> Item:
    return Item(where, spec, float(spec.width))


def warnings(spec: BurdenBand, where: str) -> list[str]:
    return share_warnings(spec.width, "width")


def add_rows(m, inst, items: list[Item]) -> None:
    """``burden_band[n, s]``: the city's cost against its GDP share of the total."""
    from fairshare.model._linear import add_rows as add, linear_rows

    d, gdp = inst.data, inst.gdp_mcny
    exprs = linear_rows(relative_matrix(gdp / gdp.sum()), list(m.city_cost.values()))
    index, rows, lo, hi = [], [], [], []
    for n, item in enumerate(items):
        for s, city in enumerate(d.cities):
            index.append((n, city))
            rows.append(exprs[s])
            lo.append(-item.width * gdp[s])
            hi.append(item.width * gdp[s])
    add(m, "burden_band", index, rows, lower=lo, upper=hi,
        doc="city burden within the band around the regional burden")


def explain(inst, m, items: list[Item], key, excess: float) -> Relaxation:
    n, city = key
    item, s = items[n], inst.data.cities.index(city)
    extra = excess / inst.gdp_mcny[s]
    fix = (f"{city}'s burden would have to lie {pct(item.width + extra)} from the regional "
           f"burden, outside the band of {pct(item.width)}; widen width to at least "
           f"{item.width + extra:.4g}")
    return relaxation(inst, item.where, NAME, city, 100 * extra, "% of GDP", 100 * item.width,
                      100 * (item.width + extra), fix)


def report(inst, m, items: list[Item]) -> list[dict]:
    return entry_report(NAME, items, m, "burden_band")


def _set_width(solver, inst, width: float) -> None:
    """The appended (last) band at ``width`` of GDP in every city."""
    n = len(inst.items[NAME]) - 1
    rows = [solver.row(solver.model.burden_band[n, c]) for c in inst.data.cities]
    solver.set_row_bounds(rows, -width * inst.gdp_mcny, width * inst.gdp_mcny)


SWEEP = Sweep(name="band", family=NAME, column="band_burden",
              loose={"rule": NAME, "width": 1.0}, set=_set_width)
