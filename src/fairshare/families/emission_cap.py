r"""Emission caps: a zone's post-control emissions of one pollutant at or below a cap
("total emission control" targets).

In the scenario file::

    targets:
      - {emission_cap: NOx, zone: all, reduction_pct: 10}
      - {emission_cap: VOC, zone: hebei, max_t: 450000}

.. math::

    \sum_{s \in Z} \left(E_{s,p} - \mathrm{reduction}_{s,p}\right) \le \mathrm{cap}
    \iff \sum_{s \in Z} \mathrm{reduction}_{s,p} \ge \sum_{s \in Z} E_{s,p} - \mathrm{cap}

=========================  ==========================================================
``E[s, p]``                baseline emissions, kt/yr (the files: t/yr)
``cap``                    ``max_t``, or ``(1 - reduction_pct/100) sum_{s in Z} E[s, p]``
``emission_cap[n]``        one row per entry; its dual is the marginal cost of the cap
                           (million CNY per kt, reported in CNY per t)
=========================  ==========================================================

A region planned with caps only needs no transport or concentrations table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from fairshare.families.base import Entry, Relaxation, entry_report, relaxation
from fairshare.units import CNY_PER_MCNY, T_PER_KT
from fairshare.spec import Spec as _Spec, by_year, require_exactly_one

NAME = "emission_cap"
SECTION = "targets"
MARKER = "emission_cap"
ROWS = ("emission_cap",)


class EmissionCap(_Spec):
    """Cap on a zone's post-control emissions: ``sum_{s in Z} (E[s,p] - dE[s,p]) <= cap`` (t/yr).

    The cap is given exactly one way: ``max_t`` (t/yr) or ``reduction_pct``
    (``cap = (1 - pct/100) sum_{s in Z} E[s,p]``).
    """

    kind: ClassVar[str] = NAME
    emission_cap: str = Field(description="pollutant id from emissions.csv, e.g. NOx")
    zone: str = Field("all", description="zone id from cities.csv, or 'all' for the whole region")
    max_t: by_year(ge=0) | None = Field(None, description="cap on the zone's emissions, t/yr")
    reduction_pct: by_year(ge=0, le=100) | None = Field(
        None, description="required fall from the zone's baseline emissions, %"
    )

    @model_validator(mode="after")
    def _one_cap(self) -> EmissionCap:
        require_exactly_one(self, ("max_t", "reduction_pct"), "an emission cap")
        return self


Spec = EmissionCap  # the family's entry as written in the scenario file


@dataclass
class Item(Entry):
    pollutant: int
    cities: np.ndarray   # [S] bool: the zone
    cap_kt: float        # post-control emissions of the zone must be <= cap_kt
    baseline_kt: float   # the zone's baseline emissions


def resolve(spec: EmissionCap, ctx, where: str) -> Item | None:
    p = ctx.pollutant(where + ".emission_cap", spec.emission_cap)
    cities = ctx.zone(where + ".zone", spec.zone)
    if p is None or cities is None:
        return None
    base_kt = float(ctx.data.emission_city_t[cities, p].sum() / T_PER_KT)
    if spec.max_t is not None:
        cap_kt = float(spec.max_t) / T_PER_KT
    else:
        cap_kt = base_kt * (1 - float(spec.reduction_pct) / 100)
    return Item(where, spec, p, cities, cap_kt, base_kt)


def add_rows(m, inst, items: list[Item]) -> None:
    """``emission_cap[n]``: the zone's reductions at least its baseline minus the cap."""
    from fairshare.model._linear import add_rows as add, linear_rows

    d = inst.data
    rows = []
    for item in items:
        reductions = [m.reduction[c, d.pollutants[item.pollutant]]
                      for c in np.asarray(d.cities)[item.cities]]
        rows.append(linear_rows(np.ones((1, len(reductions))), reductions)[0])
    add(m, "emission_cap", list(range(len(items))), rows,
        lower=[item.baseline_kt - item.cap_kt for item in items],
        doc="zone emissions after control within the cap")


def explain(inst, m, items: list[Item], key, excess: float) -> Relaxation:
    """A cap that had to give, in t/yr."""
    item = items[key]
    pollutant = inst.data.pollutants[item.pollutant]
    now_t, extra_t = item.cap_kt * T_PER_KT, excess * T_PER_KT
    needed_t = now_t + extra_t
    fix = (f"the {pollutant} cap of zone {item.spec.zone} would have to rise from {now_t:,.0f} "
           f"to {needed_t:,.0f} t/yr (+{extra_t:,.0f}; a reduction of "
           f"{100 * (1 - needed_t / max(item.baseline_kt * T_PER_KT, 1e-12)):.3g}% of its baseline)")
    return relaxation(inst, item.where, NAME, f"{pollutant} in zone {item.spec.zone}", extra_t,
                      "t/yr", now_t, needed_t, fix)


def _price(dual_mcny_per_kt: float) -> float:
    """The dual (million CNY per kt of required reduction) in CNY per t; 0 below noise."""
    price = float(dual_mcny_per_kt) * CNY_PER_MCNY / T_PER_KT
    return price if abs(price) > 1e-9 else 0.0


def report(inst, m, items: list[Item]) -> list[dict]:
    """Per cap: the cap, baseline and final emissions (t/yr) and its marginal cost (CNY/t)."""
    d = inst.data

    def details(n: int, item: Item) -> dict:
        reduction_kt = sum(m.reduction[c, d.pollutants[item.pollutant]].value or 0.0
                           for c in np.asarray(d.cities)[item.cities])
        return {"pollutant": d.pollutants[item.pollutant], "zone": item.spec.zone,
                "cap_t": item.cap_kt * T_PER_KT, "baseline_t": item.baseline_kt * T_PER_KT,
                "final_t": (item.baseline_kt - reduction_kt) * T_PER_KT,
                # dual: million CNY per kt of required reduction -> CNY per t
                "shadow_price_cny_per_t": _price(m.dual.get(m.emission_cap[n], 0.0))}

    return entry_report(NAME, items, m, "emission_cap", subject=lambda key: "zone",
                        details=details)
