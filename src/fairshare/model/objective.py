r"""The objective: least cost, the Rawlsian min-max burden, or cost plus a fairness penalty.

Burden variables are in basis points of GDP (``BP``) so their rows keep coefficients
between about 1e-3 and 1.
"""

from __future__ import annotations

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from fairshare.instance import Instance
from fairshare.model._linear import add_rows, linear_rows
from fairshare.model.fairness import BP, gini_values

CNY_PER_MCNY = 1e6


def add_objective(m: pyo.ConcreteModel, inst: Instance) -> None:
    r"""``total_cost`` (million CNY/yr) and, by the scenario's objective, what is minimised.

    * ``min_cost``: ``total_cost = sum_s city_cost[s]`` (+ the QP term).
    * ``min_max_burden``: ``max_burden`` objective on ``max_burden_bp >= 1e4 cost_s/GDP_s``;
      :func:`fairshare.api.solve` then fixes it (within a tolerance) and minimises
      ``total_cost`` (lexicographic).
    * ``{min_cost: {fairness_weight: w, fairness_metric: ...}}``: ``total_cost + w/1e6 *
      metric`` with w in CNY/yr per unit of the metric: ``max_burden`` and ``band``
      (largest |b_s - B|) as shares of GDP, ``gini`` the Gini of burdens with its
      denominator fixed at the least-cost plan's mean burden (``gini_reference_bp``, set
      by :func:`fairshare.api.solve`), which keeps the objective linear.
    """
    obj = inst.scenario.objective
    cost = sum(m.city_cost.values())
    if obj.kind == "min_max_burden":
        _add_max_burden(m, inst)
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


def _add_max_burden(m, inst: Instance):
    """``max_burden_bp >= 1e4 city_cost[s] / GDP[s]`` for every city (``max_burden_def``)."""
    S = len(inst.data.cities)
    m.max_burden_bp = pyo.Var(bounds=(0, None), doc="largest burden, basis points of GDP")
    coef = sp.hstack([sp.diags_array(BP / inst.gdp_mcny).tocsr(), -np.ones((S, 1))], format="csr")
    add_rows(m, "max_burden_def", list(inst.data.cities),
             linear_rows(coef, list(m.city_cost.values()) + [m.max_burden_bp]), upper=0.0,
             doc="every burden at most max_burden_bp")
    return m.max_burden_bp


def _add_band_deviation(m, inst: Instance):
    """``band_dev_bp >= |b_s - B|`` in bp, with B = sum cost / sum GDP (``band_dev_def``)."""
    d, gdp = inst.data, inst.gdp_mcny
    S = len(d.cities)
    m.band_dev_bp = pyo.Var(bounds=(0, None), doc="largest |burden - regional burden|, bp")
    rel = (np.eye(S) - (gdp / gdp.sum())[:, None]) * (BP / gdp)[:, None]  # bp per M CNY
    rows, index = [], []
    for sign in (1, -1):
        coef = np.hstack([sign * rel, -np.ones((S, 1))])
        rows += linear_rows(coef, list(m.city_cost.values()) + [m.band_dev_bp])
        index += [(c, sign) for c in d.cities]
    add_rows(m, "band_dev_def", index, rows, upper=0.0, doc="burden deviation at most band_dev_bp")
    return m.band_dev_bp


def _add_gini_penalty(m, inst: Instance):
    """Sum of pairwise burden differences (bp) over n times the reference burden sum.

    ``gini_reference_bp`` (a mutable Param, the least-cost plan's sum of burdens in bp)
    makes ``sum_{a<b} |b_a - b_b| / (n * ref)`` the Gini at that mean.
    """
    d = inst.data
    S = len(d.cities)
    a_idx, b_idx = np.triu_indices(S, k=1)
    pairs = [(d.cities[a], d.cities[b]) for a, b in zip(a_idx, b_idx)]
    m.gini_obj_diff = pyo.Var(pairs, bounds=(0, None), doc="|b_a - b_b| in bp")
    m.gini_reference_bp = pyo.Param(initialize=1.0, mutable=True,
                                    doc="sum of burdens (bp) of the least-cost plan")
    scale, _ = gini_values(m, inst, "burden")
    diff, cost = list(m.gini_obj_diff.values()), list(m.city_cost.values())
    P = len(diff)
    rows, index = [], []
    for sign in (1, -1):
        vcoef = sp.csr_array((np.r_[-sign * scale[a_idx], sign * scale[b_idx]],
                              (np.r_[np.arange(P), np.arange(P)], np.r_[a_idx, b_idx])),
                             shape=(P, S))
        rows += linear_rows(sp.hstack([sp.identity(P, format="csr"), vcoef], format="csr"),
                            diff + cost)
        index += [(a, b, sign) for a, b in pairs]
    add_rows(m, "gini_obj_pair", index, rows, lower=0.0, doc="d_ab >= |b_a - b_b|")
    # Penalty in the same unit as the other metrics (share of GDP after / BP): Gini * BP.
    return sum(diff) * BP / (S * m.gini_reference_bp)


_PENALTIES = {"max_burden": _add_max_burden, "band": _add_band_deviation,
              "gini": _add_gini_penalty}
