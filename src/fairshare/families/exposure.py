r"""Population-weighted exposure: the population-weighted mean concentration at or below a limit.

In the scenario file::

    targets:
      - {metric: PM25, exposure: population_weighted, max_ugm3: 32}

.. math::

    \sum_r w_r C_{q,r} \le L, \qquad w_r = \mathrm{POP}_r / \sum_{r'} \mathrm{POP}_{r'}

=========================  ==========================================================
``w[r]``                   population share of receptor r among those chosen
``L``                      ``max_ugm3``, µg/m³
``exposure_target[n]``     one row per entry (n: its position among exposure entries)
=========================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from fairshare.families.base import Entry, Relaxation, entry_report, relaxation
from fairshare.spec import AllOrIds, Spec as _Spec, by_year

NAME = "exposure"
SECTION = "targets"
MARKER = "exposure"
ROWS = ("exposure_target",)


class ExposureTarget(_Spec):
    """Population-weighted exposure: ``sum_r POP[r] C[q,r] / sum_r POP[r] <= max_ugm3`` (µg/m³)."""

    kind: ClassVar[str] = NAME
    metric: str = Field(description="air-quality metric id from concentrations.csv, e.g. PM25")
    exposure: Literal["population_weighted"] = Field(description="how exposure is averaged")
    max_ugm3: by_year(gt=0) = Field(description="limit on the population-weighted mean, µg/m³")
    receptors: AllOrIds = Field("all", description="'all' or a list of receptor ids to average over")


Spec = ExposureTarget  # the family's entry as written in the scenario file


@dataclass
class Item(Entry):
    metric: int
    weight: np.ndarray   # [R] population share of each receptor (sums to 1 over those chosen)
    limit_ugm3: float


def resolve(spec: ExposureTarget, ctx, where: str) -> Item | None:
    q = ctx.metric(where, spec.metric)
    rec = ctx.receptors(where, spec.receptors)
    if q is None or rec is None:
        return None
    pop = np.zeros(len(ctx.data.receptors))
    pop[rec] = ctx.data.receptor_population[rec]
    if pop.sum() <= 0:
        ctx.problem(where, "the chosen receptors have no population to weight exposure by")
        return None
    if np.isnan(ctx.data.baseline_ugm3[q, rec]).any():
        ctx.problem(where, f"some receptors have no baseline concentration of {spec.metric}")
        return None
    return Item(where, spec, q, pop / pop.sum(), float(spec.max_ugm3))


def add_rows(m, inst, items: list[Item]) -> None:
    """``exposure_target[n]``: the weighted mean of the concentrations at or below L."""
    from fairshare.model._linear import add_rows as add, linear_rows
    from fairshare.model.air_quality import transport_rows

    T_rows, c0 = transport_rows(inst)
    R = len(inst.data.receptors)
    dE = list(m.reduction.values())
    rows = []
    for item in items:
        q_rows = slice(item.metric * R, (item.metric + 1) * R)
        # Weight the transport rows in numpy: one row of S*P terms, not a sum of R expressions.
        coef = -(item.weight @ T_rows[q_rows])
        rows.append(linear_rows(coef[None, :], dE, constants=[item.weight @ c0[q_rows]])[0])
    add(m, "exposure_target", list(range(len(items))), rows,
        upper=[item.limit_ugm3 for item in items],
        doc="population-weighted concentration at or below the limit, µg/m³")


def explain(inst, m, items: list[Item], key, excess: float) -> Relaxation:
    item = items[key]
    metric = inst.data.metrics[item.metric].replace("PM25", "PM2.5")
    needed = item.limit_ugm3 + excess
    fix = (f"the population-weighted {metric} limit would have to rise from "
           f"{item.limit_ugm3:.4g} to {needed:.4g} µg/m³ (+{excess:.3g})")
    return relaxation(inst, item.where, NAME, f"population-weighted {metric}", excess, "µg/m³",
                      item.limit_ugm3, needed, fix)


def report(inst, m, items: list[Item]) -> list[dict]:
    return entry_report(NAME, items, m, "exposure_target", subject=lambda key: "population")
