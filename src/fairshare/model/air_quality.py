"""Concentrations at receptors and the air-quality targets on them."""

from __future__ import annotations

import numpy as np
import pyomo.core as pyo

from fairshare.instance import Instance
from fairshare.model._linear import (MatrixRows, RowExpressions, add_rows, attach_matrix_rows,
                                     linear_rows)


def add_air_quality(m: pyo.ConcreteModel, inst: Instance) -> None:
    r"""Concentration targets and population-weighted exposure targets.

    .. math::

        C_{q,r} = C^0_{q,r} - \sum_{s,p} T_{q,r,s,p}\, \mathrm{reduction}_{s,p}
        \le L_{q,r}, \qquad
        \sum_r w_r C_{q,r} \le L_q^{exp}, \quad w_r = \mathrm{POP}_r / \sum_{r'} \mathrm{POP}_{r'}

    ===========================  =======================================================
    ``concentration[q, r]``      C: µg/m³ after control, a Pyomo expression built on first
                                 use (every metric and receptor)
    ``aq_target[q, r]``          C ≤ L for every targeted (metric, receptor), L the tightest
                                 target given, held as a sparse matrix (:class:`MatrixRows`);
                                 ``aq_target.dual[q, r]`` = million CNY/yr per µg/m³
    ``exposure_target[i]``       population-weighted mean ≤ limit, one per scenario entry
    ===========================  =======================================================

    T is in µg/m³ per kt/yr and reductions in kt/yr. The dense transport block stays a
    scipy matrix end to end (no Pyomo expression per term): a target row of a region with
    S cities and P pollutants has S·P entries.
    """
    d = inst.data
    m.metric = pyo.Set(initialize=d.metrics, ordered=True, doc="air-quality metrics")
    m.receptor = pyo.Set(initialize=d.receptors, ordered=True, doc="receptors")
    dE = list(m.reduction.values())  # ordered s-major, p-minor: column s*P + p
    Q, R = len(d.metrics), len(d.receptors)
    T = d.transport_ugm3_per_kt.reshape(Q, R, -1)  # [Q, R, S*P]
    c0 = np.nan_to_num(d.baseline_ugm3)
    keys = [(q, r) for q in d.metrics for r in d.receptors]
    T_rows = T.reshape(Q * R, -1)  # dense, as the transport table is; rows are -T (scale -1)
    m.concentration = RowExpressions(keys, T_rows, dE, c0.ravel(), scale=-1.0,
                                     doc="concentration after control, µg/m³")
    aq = inst.aq
    rows = aq.metric * R + aq.receptor
    block = attach_matrix_rows(m, MatrixRows(
        "aq_target", [keys[i] for i in rows], _take_rows(T_rows, rows), dE, c0.ravel()[rows],
        upper=aq.limit_ugm3, doc="concentration at or below the target, µg/m³", scale=-1.0))
    block.lazy = _use_row_generation(inst, len(rows))
    _add_exposure(m, inst, dE, T, c0)


ROW_GENERATION_MIN_ROWS = 2000  # "auto": row generation above this many target rows


def _use_row_generation(inst: Instance, n_rows: int) -> bool:
    mode = getattr(inst.scenario.solver, "constraint_generation", "auto")
    return mode == "on" or (mode == "auto" and n_rows > ROW_GENERATION_MIN_ROWS)


def _take_rows(matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """matrix[rows], without a copy when rows are all rows in order."""
    if len(rows) == matrix.shape[0] and np.array_equal(rows, np.arange(matrix.shape[0])):
        return matrix
    return matrix[rows]


def _add_exposure(m, inst: Instance, dE, T, c0) -> None:
    rows, upper = [], []
    for e in inst.exposure:
        # Weight the transport rows in numpy: one row of S*P terms, not a sum of R expressions.
        coef = -(e.weight @ T[e.metric])
        rows.append(linear_rows(coef[None, :], dE, constants=[e.weight @ c0[e.metric]])[0])
        upper.append(e.limit_ugm3)
    add_rows(m, "exposure_target", list(range(len(rows))), rows, upper=upper,
             doc="population-weighted concentration at or below the limit, µg/m³")
