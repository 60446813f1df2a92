r"""Equal reduction: every city cuts one pollutant by at least, or about, the same share.

In the scenario file::

    fairness:
      - {rule: equal_reduction, pollutant: NOx, min_pct: 8}
      - {rule: equal_reduction, pollutant: SO2, band_pct: 5}

.. math::

    \text{min\_pct:}\quad \mathrm{reduction}_{s,p} \ge \tfrac{\mathrm{min\_pct}}{100} E_{s,p}
    \qquad
    \text{band\_pct:}\quad \Bigl|\mathrm{reduction}_{s,p} - \tfrac{E_{s,p}}{\sum_t E_{t,p}}
    \sum_t \mathrm{reduction}_{t,p}\Bigr| \le \tfrac{\mathrm{band\_pct}}{100} E_{s,p}

(the band is ``|pct_s - pct_region| <= band`` multiplied through by ``E_s``), in every
city that emits the pollutant.

=========================  ==========================================================
``E[s, p]``                baseline emissions, kt/yr
``equal_reduction[n, s]``  entry n, city s (kt/yr)
=========================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from fairshare.families.base import Entry, Relaxation, entry_report, relative_matrix, relaxation
from fairshare.units import T_PER_KT
from fairshare.spec import Spec as _Spec, by_year, require_exactly_one

NAME = "equal_reduction"
SECTION = "fairness"
ROWS = ("equal_reduction",)


class EqualReduction(_Spec):
    """Equal effort on one pollutant, ``pct[s] = 100 dE[s,p] / E[s,p]`` (% of the city's baseline).

    Exactly one of: ``min_pct`` (every city reduces at least this %) or
    ``band_pct`` (every city's % within this many percentage points of the
    region-wide %, ``100 sum_s dE[s,p] / sum_s E[s,p]``).
    """

    rule: Literal["equal_reduction"]
    pollutant: str = Field(description="pollutant id from emissions.csv, e.g. NOx")
    min_pct: by_year(ge=0, le=100) | None = Field(None, description="minimum reduction in every city, %")
    band_pct: by_year(ge=0) | None = Field(
        None, description="allowed distance from the region-wide reduction, percentage points"
    )

    @model_validator(mode="after")
    def _one_form(self) -> EqualReduction:
        require_exactly_one(self, ("min_pct", "band_pct"), "an equal_reduction rule")
        return self


Spec = EqualReduction  # the family's entry as written in the scenario file


@dataclass
class Item(Entry):
    pollutant: int


def resolve(spec: EqualReduction, ctx, where: str) -> Item | None:
    p = ctx.pollutant(where + ".pollutant", spec.pollutant)
    return None if p is None else Item(where, spec, p)


def _emissions_kt(inst, item: Item) -> np.ndarray:
    return inst.data.emission_city_t[:, item.pollutant] / T_PER_KT


def add_rows(m, inst, items: list[Item]) -> None:
    """``equal_reduction[n, s]``: the city's reduction against its minimum or the band."""
    from fairshare.model._linear import add_rows as add, linear_rows

    d = inst.data
    index, rows, lo, hi = [], [], [], []
    for n, item in enumerate(items):
        e_kt = _emissions_kt(inst, item)
        reductions = [m.reduction[c, d.pollutants[item.pollutant]] for c in d.cities]
        if item.spec.min_pct is not None:
            exprs, low, high = reductions, item.spec.min_pct / 100 * e_kt, np.full(len(e_kt), np.nan)
        else:
            band = item.spec.band_pct / 100
            exprs = linear_rows(relative_matrix(e_kt / e_kt.sum()), reductions)
            low, high = -band * e_kt, band * e_kt
        for s in np.flatnonzero(e_kt > 0):
            index.append((n, d.cities[s]))
            rows.append(exprs[s])
            lo.append(low[s])
            hi.append(high[s])
    add(m, "equal_reduction", index, rows, lower=np.array(lo, dtype=float),
        upper=np.array(hi, dtype=float),
        doc="every city cuts the pollutant by at least / about the same share")


def explain(inst, m, items: list[Item], key, excess: float) -> Relaxation:
    n, city = key
    item, s = items[n], inst.data.cities.index(city)
    extra_pct = 100 * excess / _emissions_kt(inst, item)[s]
    pollutant = inst.data.pollutants[item.pollutant]
    if item.spec.min_pct is not None:
        now, needed = item.spec.min_pct, item.spec.min_pct - extra_pct
        fix = (f"{city} can cut {pollutant} by only {needed:.4g}% in the least-violation plan; "
               f"lower min_pct from {now:g} to at most {needed:.4g}")
    else:
        now, needed = item.spec.band_pct, item.spec.band_pct + extra_pct
        fix = (f"{city}'s {pollutant} cut would have to lie {needed:.4g} percentage points from "
               f"the region's; widen band_pct from {now:g} to at least {needed:.4g}")
    return relaxation(inst, item.where, NAME, city, extra_pct, "% of the city's emissions", now,
                      needed, fix)


def report(inst, m, items: list[Item]) -> list[dict]:
    return entry_report(NAME, items, m, "equal_reduction")
