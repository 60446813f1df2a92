"""Fairness rules on how the cost is shared between cities."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from fairshare.instance import Instance
from fairshare.model._linear import add_rows


def add_burden_caps(m: pyo.ConcreteModel, inst: Instance) -> None:
    r"""Burden cap: no city pays more than a share of its GDP (DESIGN §2).

    .. math::  b_s = \mathrm{city\_cost}_s / \mathrm{GDP}_s \le \beta

    written as ``city_cost[s] <= beta * GDP[s]`` (both million CNY/yr) so the row's
    coefficient is 1. ``burden_cap[i, s]``: rule i of the scenario, city s; dual in
    million CNY of total cost per million CNY of the city's allowance.
    """
    d = inst.data
    index, rows, upper = [], [], []
    for i, cap in enumerate(inst.burden_caps):
        for s in np.flatnonzero(cap.cities):
            index.append((i, d.cities[s]))
            rows.append(m.city_cost[d.cities[s]])
            upper.append(cap.max_share_of_gdp * inst.gdp_mcny[s])
    add_rows(m, "burden_cap", index, rows, upper=upper,
             doc="city cost at most the given share of its GDP")
