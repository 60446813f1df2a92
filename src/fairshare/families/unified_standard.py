r"""Unified standard: one standard for every city of a zone.

In the scenario file::

    fairness:
      - {rule: unified_standard, zone: all, measure: power_ultra_low, min_application: 0.9}
      - {rule: unified_standard, zone: all, sector: industry, pollutant: SO2, min_removal: 0.5}

.. math::

    \text{measure form:}\quad x_{s,m} \ge \min(u, a_{s,m})
    \qquad
    \text{sector form:}\quad \rho_{s,k,p} = \sum_{m \in k} \mathrm{eff}_{m,p}\, x_{s,m} \ge u

============================  ==========================================================
``u``                         ``min_application`` (share of the sector base treated by the
                              measure, 0..1) or ``min_removal`` (removal share of the
                              sector's emissions of p, 0..1)
``a[s, m]``                   the measure's applicability in city s (a city cannot be asked
                              for more than it can apply)
``unified_standard[n, s]``    entry n, city s of the zone (a share, 0..1)
============================  ==========================================================

The sector form applies in every city of the zone that emits p from sector k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from fairshare.families.base import Entry, Relaxation, entry_report, relaxation
from fairshare.spec import Spec as _Spec, by_year, custom_error

NAME = "unified_standard"
SECTION = "fairness"
ROWS = ("unified_standard",)


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
    min_application: by_year(ge=0, le=1) | None = Field(None, description="minimum application share, 0..1")
    sector: str | None = Field(None, description="sector id from emissions.csv")
    pollutant: str | None = Field(None, description="pollutant id from emissions.csv")
    min_removal: by_year(ge=0, le=1) | None = Field(None, description="minimum removal share of the sector, 0..1")

    _FORMS: ClassVar[dict[str, tuple[str, ...]]] = {
        "by_measure": ("measure", "min_application"),
        "by_sector": ("sector", "pollutant", "min_removal"),
    }

    @model_validator(mode="after")
    def _one_form(self) -> UnifiedStandard:
        used = {form: [k for k in keys if getattr(self, k) is not None] for form, keys in self._FORMS.items()}
        either = "give either measure + min_application or sector + pollutant + min_removal"
        if all(used.values()):
            raise custom_error("unified_standard_form", f"a unified_standard rule must {either}, not both")
        if not any(used.values()):
            raise custom_error("unified_standard_form", f"a unified_standard rule must {either}")
        form = "by_measure" if used["by_measure"] else "by_sector"
        missing = [k for k in self._FORMS[form] if k not in used[form]]
        if missing:
            raise custom_error(
                "unified_standard_form",
                f"a unified_standard rule with {' + '.join(used[form])} also needs {' and '.join(missing)}",
            )
        return self

    @property
    def by_measure(self) -> bool:
        """True for the measure form, False for the sector-removal form."""
        return self.measure is not None


Spec = UnifiedStandard  # the family's entry as written in the scenario file


@dataclass
class Item(Entry):
    cities: np.ndarray          # [S] bool: the zone
    measure: int | None = None  # measure form
    sector: int | None = None   # sector form
    pollutant: int | None = None


def resolve(spec: UnifiedStandard, ctx, where: str) -> Item | None:
    d = ctx.data
    cities = ctx.zone(where + ".zone", spec.zone)
    if spec.by_measure:
        j = ctx.index(where + ".measure", "measure", spec.measure, d.measures)
        return None if cities is None or j is None else Item(where, spec, cities, measure=j)
    k = ctx.index(where + ".sector", "sector", spec.sector, d.sectors)
    p = ctx.pollutant(where + ".pollutant", spec.pollutant)
    if cities is None or k is None or p is None:
        return None
    return Item(where, spec, cities, sector=k, pollutant=p)


def add_rows(m, inst, items: list[Item]) -> None:
    """``unified_standard[n, s]``: the measure's application or the sector's removal share
    at least the standard."""
    from fairshare.model._linear import add_rows as add, linear_rows

    d = inst.data
    index, rows, lo = [], [], []
    for n, item in enumerate(items):
        if item.measure is not None:
            j = item.measure
            for s in np.flatnonzero(item.cities & (d.max_application[:, j] > 0)):
                index.append((n, d.cities[s]))
                rows.append(m.application[d.cities[s], d.measures[j]])
                lo.append(min(item.spec.min_application, d.max_application[s, j]))
            continue
        k, p = item.sector, item.pollutant
        members = np.flatnonzero((d.measure_sector == k) & (d.efficiency[:, p] > 0))
        for s in np.flatnonzero(item.cities & (d.emission_t[:, k, p] > 0)):
            x = [m.application[d.cities[s], d.measures[j]] for j in members]
            index.append((n, d.cities[s]))
            rows.append(linear_rows(d.efficiency[members, p][None, :], x)[0])
            lo.append(item.spec.min_removal)
    add(m, "unified_standard", index, rows, lower=lo,
        doc="a minimum application or removal share in every city of the zone")


def explain(inst, m, items: list[Item], key, excess: float) -> Relaxation:
    n, city = key
    item = items[n]
    if item.measure is not None:
        measure = inst.data.measures[item.measure]
        now = item.spec.min_application
        needed = now - excess
        fix = (f"{city} can apply {measure} to only {needed:.4g} of its base in the "
               f"least-violation plan; lower min_application from {now:g} to at most {needed:.4g}")
        unit = "share of the sector base"
    else:
        now = item.spec.min_removal
        needed = now - excess
        fix = (f"{city}'s {item.spec.sector} sector can remove only {needed:.4g} of its "
               f"{item.spec.pollutant} in the least-violation plan; lower min_removal from "
               f"{now:g} to at most {needed:.4g}")
        unit = "removal share"
    return relaxation(inst, item.where, NAME, city, excess, unit, now, needed, fix)


def report(inst, m, items: list[Item]) -> list[dict]:
    return entry_report(NAME, items, m, "unified_standard")
