r"""Per-capita emissions: post-control emissions per person within a band around the
regional mean.

In the scenario file::

    fairness:
      - {rule: per_capita, pollutant: NOx, band_t_per_person: 0.002}

With ``post_s = E_s - reduction_s`` (kt/yr) and ``w_s = POP_s / sum_t POP_t``:

.. math::

    \Bigl|\mathrm{post}_s - w_s \sum_t \mathrm{post}_t\Bigr| \le \mathrm{band}\,\mathrm{POP}_s / 1000

i.e. ``reduction_s - w_s sum_t reduction_t`` within ``(E_s - w_s E) ± band POP_s / 1000``.

=========================  ==========================================================
``band``                   ``band_t_per_person``, t per person per year
``per_capita[n, s]``       entry n, city s (kt/yr)
=========================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from fairshare.families.base import Entry, Relaxation, entry_report, relative_matrix, relaxation
from fairshare.units import T_PER_KT
from fairshare.spec import Spec as _Spec, by_year

NAME = "per_capita"
SECTION = "fairness"
ROWS = ("per_capita",)


class PerCapita(_Spec):
    """Per-capita emissions band (t per person per year), with ``post = E - dE`` after control:

    ``|post[s,p]/POP[s] - sum_s post[s,p] / sum_s POP[s]| <= band_t_per_person``.
    """

    rule: Literal["per_capita"]
    pollutant: str = Field(description="pollutant id from emissions.csv")
    band_t_per_person: by_year(ge=0) = Field(
        description="half-width of the band around the regional mean, t per person per year"
    )


Spec = PerCapita  # the family's entry as written in the scenario file


@dataclass
class Item(Entry):
    pollutant: int
    band_t_per_person: float


def resolve(spec: PerCapita, ctx, where: str) -> Item | None:
    p = ctx.pollutant(where + ".pollutant", spec.pollutant)
    return None if p is None else Item(where, spec, p, float(spec.band_t_per_person))


def add_rows(m, inst, items: list[Item]) -> None:
    """``per_capita[n, s]``: the city's reduction against its population share of the region's."""
    from fairshare.model._linear import add_rows as add, linear_rows

    d = inst.data
    w = d.population / d.population.sum()
    index, rows, lo, hi = [], [], [], []
    for n, item in enumerate(items):
        e_kt = d.emission_city_t[:, item.pollutant] / T_PER_KT
        exprs = linear_rows(relative_matrix(w), [m.reduction[c, d.pollutants[item.pollutant]]
                                                 for c in d.cities])
        centre = e_kt - w * e_kt.sum()
        half = item.band_t_per_person * d.population / T_PER_KT
        for s, city in enumerate(d.cities):
            index.append((n, city))
            rows.append(exprs[s])
            lo.append(centre[s] - half[s])
            hi.append(centre[s] + half[s])
    add(m, "per_capita", index, rows, lower=lo, upper=hi,
        doc="post-control emissions per person within the band")


def explain(inst, m, items: list[Item], key, excess: float) -> Relaxation:
    n, city = key
    item, s = items[n], inst.data.cities.index(city)
    extra = excess * T_PER_KT / inst.data.population[s]
    needed = item.band_t_per_person + extra
    fix = (f"{city}'s {inst.data.pollutants[item.pollutant]} per person would have to lie "
           f"{needed:.4g} t from the regional mean; widen band_t_per_person from "
           f"{item.band_t_per_person:g} to at least {needed:.4g}")
    return relaxation(inst, item.where, NAME, city, extra, "t per person",
                      item.band_t_per_person, needed, fix)


def report(inst, m, items: list[Item]) -> list[dict]:
    return entry_report(NAME, items, m, "per_capita")
