"""Annual cost of each city's measures: linear, exact quadratic (QP) or piecewise linear."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp


from fairshare.model._linear import add_rows, linear_rows


@dataclass
class QuadraticTerm:
    """``0.5 * sum_j theta_j * variables_j^2`` added to the cost objective (a diagonal
    Hessian), million CNY/yr. :mod:`fairshare.solver` hands it to HiGHS's QP solver
    while ``active`` (the objective being minimised is a cost)."""

    variables: list
    theta: np.ndarray
    active: bool = True

    def value(self) -> float:
        x = np.array([v.value or 0.0 for v in self.variables])
        return float(0.5 * (self.theta * x ** 2).sum())


def add_costs(m: pyo.ConcreteModel, inst) -> None:
    r"""City cost from the application shares (docs/formulation.md).

    .. math::

        \mathrm{city\_cost}_s = \sum_m \kappa_{s,m} x_{s,m}
        \;\Big[+ \tfrac12 \theta_{s,m} x_{s,m}^2\Big], \qquad
        \kappa_{s,m} = f_s\, cu_m\, E_{s,k(m),\mathrm{ref}(m)}\, \mathrm{eff}_{m,\mathrm{ref}(m)}

    ====================  ============================================================
    ``city_cost[s]``      annual cost of city s, **million CNY/yr** (Var)
    ``cost_def[s]``       the defining equality
    ``quadratic_cost``    (exact QP only) the ``0.5 θ x²`` terms, in the objective; then
                          ``city_cost`` holds the linear part and the result tables the
                          full cost
    ``segment[s, m, j]``  (piecewise linear only) share of x in segment j of J equal
                          segments of [0, a]; ``segment_sum[s, m]``: x = Σ_j segment
    ====================  ============================================================

    The piecewise-linear cost uses the secants of the quadratic over the J segments
    (slope ``κ + θ (j + ½) a/J``): it overestimates the cost by at most ``θ (a/J)² / 8``
    per measure, reported in summary.json.
    """
    d = inst.data
    S, M = inst.kappa_mcny.shape
    m.city_cost = pyo.Var(m.city, doc="annual cost, million CNY/yr")
    x = list(m.application.values())
    if inst.cost_method == "pwl":
        cost_vars, cost_coef = _add_segments(m, inst, x)
    else:
        cost_vars, cost_coef = x, inst.kappa_mcny
    n_per_city = cost_coef.shape[1]
    block = sp.csr_array((-cost_coef.ravel(), (np.repeat(np.arange(S), n_per_city),
                                               np.arange(S * n_per_city))),
                         shape=(S, S * n_per_city))
    full = sp.hstack([block, sp.identity(S, format="csr")], format="csr")
    add_rows(m, "cost_def", list(d.cities), linear_rows(full, cost_vars + list(m.city_cost.values())),
             lower=0.0, upper=0.0, doc="city cost = sum of the costs of the measures applied")
    if inst.cost_method == "qp":
        m.quadratic_cost = QuadraticTerm(x, inst.theta_mcny.ravel().copy())


def _add_segments(m: pyo.ConcreteModel, inst, x: list):
    """Segment variables and their link to x; returns (variables, [S, M*J] slopes)."""
    d = inst.data
    S, M = inst.kappa_mcny.shape
    J = int(inst.scenario.quadratic.segments)
    width = d.max_application / J  # [S, M]
    m.segment = pyo.Var(m.city, m.measure, range(J), bounds=(0.0, None),
                        doc="share of x in segment j")
    seg = list(m.segment.values())  # ordered s, m, j
    for var, ub in zip(seg, np.repeat(width.ravel(), J).tolist()):
        var.setub(ub)
    # x[s,m] - sum_j seg[s,m,j] = 0
    link = sp.hstack([sp.identity(S * M, format="csr"),
                      -sp.kron(sp.identity(S * M), np.ones((1, J)), format="csr")], format="csr")
    add_rows(m, "segment_sum", [(c, mm) for c in d.cities for mm in d.measures],
             linear_rows(link, x + seg), lower=0.0, upper=0.0,
             doc="application = sum of its segments")
    mid = (np.arange(J) + 0.5)[None, None, :] * width[:, :, None]  # [S, M, J]
    slope = inst.kappa_mcny[:, :, None] + inst.theta_mcny[:, :, None] * mid
    return seg, slope.reshape(S, M * J)


def pwl_error_bound_mcny(inst, x: np.ndarray) -> float:
    """Upper bound on how much the piecewise-linear cost of plan x exceeds the quadratic."""
    J = int(inst.scenario.quadratic.segments)
    width = inst.data.max_application / J
    applied = x > 1e-9
    return float((inst.theta_mcny * width ** 2 / 8)[applied].sum())
