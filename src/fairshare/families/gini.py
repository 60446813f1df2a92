r"""Gini bound: the Gini coefficient of burdens (or of cost per person) at most G.

In the scenario file::

    fairness:
      - {rule: gini, of: burden, max: 0.2}

Exact and linear, with one difference variable per pair of cities:

.. math::

    d_{ab} \ge v_a - v_b,\quad d_{ab} \ge v_b - v_a \quad (a < b), \qquad
    \sum_{a<b} d_{ab} \le n\,G \sum_a v_a

which is ``sum_{a,b} |v_a - v_b| <= 2 n G sum_a v_a`` counted once per pair.

=========================  ==========================================================
``v[s]``                   ``scale_s * city_cost[s]``: the burden in basis points of GDP
                           (``of: burden``) or the cost in CNY per person
                           (``of: cost_per_capita``); see :func:`values_scale`
``G``                      ``max``, 0..1
``gini_diff[n, a, b]``     d (Var); ``gini_pair[n, a, b, ±1]`` the two rows that hold it
                           at ``|v_a - v_b|`` or above (they define d: never relaxed)
``gini_bound[n]``          the bound; G enters only its coefficients, which a Pareto
                           sweep (``--y gini``) changes in place
=========================  ==========================================================

:func:`add_pairwise_differences` is also the Gini penalty of the objective
``{min_cost: {fairness_weight: ..., fairness_metric: gini}}``: one formula, one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from fairshare.families.base import Entry, Relaxation, Sweep, entry_report, relaxation
from fairshare.units import BP
from fairshare.spec import Spec as _Spec, by_year

NAME = "gini"
SECTION = "fairness"
ROWS = ("gini_bound",)
CONSTRAINS_COSTS = True  # reads city costs: the exact QP cannot hold it (see instance)


class Gini(_Spec):
    """Gini bound: ``Gini(v) <= max``.

    ``v[s]`` is the burden ``cost[s]/GDP[s]`` or the cost per person (CNY per person per year).
    """

    rule: Literal["gini"]
    of: Literal["burden", "cost_per_capita"] = Field("burden", description="what the Gini coefficient is of")
    max: by_year(ge=0, le=1) = Field(description="upper bound on the Gini coefficient, 0..1")
    over: Literal["each_year", "horizon"] = Field(
        "each_year", description="roadmaps: hold in every year, or for the horizon's costs in "
                                 "present value (levelised); one-year plans: no difference")


Spec = Gini  # the family's entry as written in the scenario file


@dataclass
class Item(Entry):
    of: str
    max: float


def resolve(spec: Gini, ctx, where: str) -> Item:
    return Item(where, spec, spec.of, float(spec.max))


def values_scale(inst, of: str) -> np.ndarray:
    """[S] v_s = scale_s * city_cost_s: burden in bp of GDP, or CNY per person."""
    if of == "burden":
        return BP / inst.gdp_mcny
    return 1e6 / inst.data.population


def add_pairwise_differences(m, var_name: str, row_name: str, groups: list) -> list[list]:
    """For each ``(prefix, scale)`` of ``groups``: a Var ``var_name[*prefix, a, b] >=
    |v_a - v_b|`` per pair of cities a < b, ``v = scale * city_cost``, held by the rows
    ``row_name[*prefix, a, b, ±1]``. Returns the difference variables of each group."""
    import pyomo.core as pyo
    import scipy.sparse as sp

    from fairshare.model._linear import add_rows, linear_rows

    cities = list(m.city)
    S = len(cities)
    a_idx, b_idx = np.triu_indices(S, k=1)
    pairs = [(cities[a], cities[b]) for a, b in zip(a_idx, b_idx)]
    var = pyo.Var([prefix + pair for prefix, _ in groups for pair in pairs], bounds=(0, None),
                  doc="|v_a - v_b|")
    m.add_component(var_name, var)
    cost = list(m.city_cost.values())
    P = len(pairs)
    out, rows, index = [], [], []
    for prefix, scale in groups:
        diff = [var[prefix + pair] for pair in pairs]
        for sign in (1, -1):  # d_ab - sign * (v_a - v_b) >= 0
            vcoef = sp.csr_array((np.r_[-sign * scale[a_idx], sign * scale[b_idx]],
                                  (np.r_[np.arange(P), np.arange(P)], np.r_[a_idx, b_idx])),
                                 shape=(P, S))
            rows += linear_rows(sp.hstack([sp.identity(P, format="csr"), vcoef], format="csr"),
                                diff + cost)
            index += [prefix + pair + (sign,) for pair in pairs]
        out.append(diff)
    add_rows(m, row_name, index, rows, lower=0.0, doc="d_ab >= |v_a - v_b|")
    return out


def add_rows(m, inst, items: list[Item]) -> None:
    """``gini_diff``, ``gini_pair`` and ``gini_bound[n]`` (see the module)."""
    from fairshare.model._linear import add_rows as add, linear_rows

    S = len(inst.data.cities)
    scales = [values_scale(inst, item.of) for item in items]
    diffs = add_pairwise_differences(m, "gini_diff", "gini_pair",
                                     [((n,), scale) for n, scale in enumerate(scales)])
    cost = list(m.city_cost.values())
    bound_rows = [linear_rows(np.r_[np.ones(len(diff)), -S * item.max * scale][None, :],
                              diff + cost)[0]
                  for item, diff, scale in zip(items, diffs, scales)]
    add(m, "gini_bound", list(range(len(items))), bound_rows, upper=0.0,
        doc="sum of pairwise differences <= n G sum v")


def explain(inst, m, items: list[Item], key, excess: float) -> Relaxation:
    """The Gini the least-violation plan reaches (from its city costs) against the bound."""
    item = items[key]
    v = values_scale(inst, item.of) * np.array([c.value or 0.0 for c in m.city_cost.values()])
    needed = gini_coefficient(v)
    fix = (f"the Gini coefficient of {item.of.replace('_', ' ')} would have to reach "
           f"{needed:.4g}; raise max from {item.max:g} to at least {needed:.4g}")
    return relaxation(inst, item.where, NAME, "every city", needed - item.max, "Gini (0..1)",
                      item.max, needed, fix)


def gini_coefficient(values: np.ndarray) -> float:
    """``sum_ij |v_i - v_j| / (2 n sum_i v_i)`` (0 when all are zero)."""
    v = np.asarray(values, dtype=float)
    total = v.sum()
    if len(v) == 0 or total <= 0:
        return 0.0
    return float(np.abs(v[:, None] - v[None, :]).sum() / (2 * len(v) * total))


def report(inst, m, items: list[Item]) -> list[dict]:
    return entry_report(NAME, items, m, "gini_bound", subject=lambda key: "every city")


def _set_max(solver, inst, g: float) -> None:
    """The appended (last) Gini bound at ``g``: only the city-cost coefficients move."""
    m, n = solver.model, len(inst.items[NAME]) - 1
    row = solver.row(m.gini_bound[n])
    scale = values_scale(inst, "burden")
    for city, sc in zip(inst.data.cities, scale):
        solver.set_coefficient(row, solver.column(m.city_cost[city]), -len(scale) * g * sc)


SWEEP = Sweep(name="gini", family=NAME, column="gini_burden",
              loose={"rule": NAME, "of": "burden", "max": 1.0}, set=_set_max)
