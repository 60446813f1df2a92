r"""The objective: least cost, the Rawlsian min-max burden, or cost plus a fairness penalty.

Burden variables are in basis points of GDP (``BP``) so their rows keep coefficients
between about 1e-3 and 1.
"""

from __future__ import annotations

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from fairshare.families.base import relative_matrix
from fairshare.families.gini import add_pairwise_differences, values_scale
from fairshare.model._linear import add_rows, linear_rows
from fairshare.units import BP, CNY_PER_MCNY


def add_objective(m: pyo.ConcreteModel, inst) -> None:
    r"""``total_cost`` (million CNY/yr) and, by the scenario's objective, what is minimised.

    * ``min_cost``: ``total_cost = sum_s city_cost[s]`` (+ the QP term).
    * ``min_max_burden``: ``max_burden`` objective on ``max_burden_bp >= 1e4 cost_s/GDP_s``;
      :func:`fairshare.api.solve` then fixes it (within a tolerance) and minimises
      ``total_cost`` (lexicographic).
    * ``{min_cost: {fairness_weight: w, fairness_metric: ...}}``: ``total_cost + w/1e6 *
      metric`` with w in CNY/yr per unit of the metric: ``max_burden`` and ``band``
      (largest :math:`|b_s - B|`) as shares of GDP, ``gini`` the Gini of burdens with its
      denominator fixed at the least-cost plan's sum of burdens (``gini_reference_bp``, set
      by :func:`fairshare.api.solve`), which keeps the objective linear.

    Rows that define the penalty's variables (``max_burden_def``, ``band_dev_def``,
    ``gini_obj_pair``) are never relaxed by the diagnosis of an infeasible scenario.
    """
    obj = inst.scenario.objective
    cost = sum(m.city_cost.values())
    if obj.kind == "min_max_burden":
        add_max_burden(m, inst)
        m.max_burden = pyo.Objective(expr=m.max_burden_bp, sense=pyo.minimize,
                                     doc="largest burden, bp of GDP")
        m.total_cost = pyo.Objective(expr=cost, sense=pyo.minimize,
                                     doc="total annual cost, million CNY/yr")
        m.total_cost.deactivate()
        return
    weight_mcny = float(obj.fairness_weight or 0.0) / CNY_PER_MCNY
    penalty = 0.0
    if weight_mcny > 0:
        penalty = weight_mcny * _PENALTIES[obj.fairness_metric](m, inst) / BP
    m.total_cost = pyo.Objective(expr=cost + penalty, sense=pyo.minimize,
                                 doc="total annual cost (+ weighted fairness penalty), million CNY/yr")


def use_cost_objective(m: pyo.ConcreteModel, on: bool) -> None:
    """Minimise ``total_cost`` (on) or ``max_burden`` (off): the two stages of min-max burden."""
    (m.total_cost.activate if on else m.total_cost.deactivate)()
    (m.max_burden.deactivate if on else m.max_burden.activate)()
    quad = getattr(m, "quadratic_cost", None)
    if quad is not None:
        quad.active = on


def add_max_burden(m, inst):
    """``max_burden_bp >= 1e4 city_cost[s] / GDP[s]`` for every city (``max_burden_def``)."""
    S = len(inst.data.cities)
    m.max_burden_bp = pyo.Var(bounds=(0, None), doc="largest burden, basis points of GDP")
    coef = sp.hstack([sp.diags_array(BP / inst.gdp_mcny).tocsr(), -np.ones((S, 1))], format="csr")
    add_rows(m, "max_burden_def", list(inst.data.cities),
             linear_rows(coef, list(m.city_cost.values()) + [m.max_burden_bp]), upper=0.0,
             doc="every burden at most max_burden_bp")
    return m.max_burden_bp


def _add_band_deviation(m, inst):
    """``band_dev_bp >= |b_s - B|`` in bp, with B = sum cost / sum GDP (``band_dev_def``)."""
    d, gdp = inst.data, inst.gdp_mcny
    m.band_dev_bp = pyo.Var(bounds=(0, None), doc="largest |burden - regional burden|, bp")
    rel = relative_matrix(gdp / gdp.sum()) * (BP / gdp)[:, None]  # bp per M CNY
    rows, index = [], []
    for sign in (1, -1):
        coef = np.hstack([sign * rel, -np.ones((len(d.cities), 1))])
        rows += linear_rows(coef, list(m.city_cost.values()) + [m.band_dev_bp])
        index += [(c, sign) for c in d.cities]
    add_rows(m, "band_dev_def", index, rows, upper=0.0, doc="burden deviation at most band_dev_bp")
    return m.band_dev_bp


def _add_gini_penalty(m, inst):
    """Sum of pairwise burden differences (bp) over n times the reference burden sum.

    ``gini_reference_bp`` (a mutable Param, the least-cost plan's sum of burdens in bp)
    makes ``sum_{a<b} |b_a - b_b| / (n * ref)`` the Gini at that mean.
    """
    S = len(inst.data.cities)
    m.gini_reference_bp = pyo.Param(initialize=1.0, mutable=True,
                                    doc="sum of burdens (bp) of the least-cost plan")
    (diff,) = add_pairwise_differences(m, "gini_obj_diff", "gini_obj_pair",
                                       [((), values_scale(inst, "burden"))])
    # Penalty in the same unit as the other metrics (share of GDP after / BP): Gini * BP.
    return sum(diff) * BP / (S * m.gini_reference_bp)


_PENALTIES = {"max_burden": add_max_burden, "band": _add_band_deviation,
              "gini": _add_gini_penalty}
