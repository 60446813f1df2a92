"""Control measures: application shares, exclusivity groups, the removal-share bound."""

from __future__ import annotations

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from fairshare.model._linear import add_rows, linear_rows
from fairshare.units import T_PER_KT


def removal_kt(data) -> np.ndarray:
    """[S, M, P] reduction at full application of each measure, kt/yr."""
    e_kt = data.emission_t[:, data.measure_sector, :] / T_PER_KT  # [S, M, P]
    return e_kt * data.efficiency[None, :, :]


def technology_rows(d):
    """The rows that limit how measures combine, over x flattened as ``j = s*M + m``.

    Returns ``(exclusivity, exclusivity_index, removal, removal_index)``: two sparse
    matrices (each row ``<= 1``) and their row labels ``(city, sector, group)`` and
    ``(city, sector, pollutant)``. Rows that cannot bind (their left side cannot
    exceed 1 within the variable bounds) are left out. Region data only: MTFR
    (:mod:`fairshare.feasibility`) uses the same rows.
    """
    S, M = len(d.cities), len(d.measures)
    ex_rows, ex_index, rm_rows, rm_index = [], [], [], []
    for k, sector in enumerate(d.sectors):
        in_sector = np.flatnonzero(d.measure_sector == k)
        for g in dict.fromkeys(d.measure_group[in_sector]):
            members = in_sector[d.measure_group[in_sector] == g]
            reach = d.max_application[:, members].sum(axis=1)  # [S]
            for s in np.flatnonzero(reach > 1 + 1e-12):
                ex_rows.append((s * M + members, np.ones(len(members))))
                ex_index.append((d.cities[s], sector, g))
        eff = d.efficiency[in_sector]  # [m_k, P]
        reach = d.max_application[:, in_sector] @ eff  # [S, P]
        for s, p in zip(*np.nonzero((reach > 1 + 1e-12) & (d.emission_t[:, k, :] > 0))):
            nz = eff[:, p] > 0
            rm_rows.append((s * M + in_sector[nz], eff[nz, p]))
            rm_index.append((d.cities[s], sector, d.pollutants[p]))
    return _csr(ex_rows, S * M), ex_index, _csr(rm_rows, S * M), rm_index


def _csr(rows, ncol: int) -> sp.csr_array:
    if not rows:
        return sp.csr_array((0, ncol))
    indptr = np.cumsum([0] + [len(c) for c, _ in rows])
    return sp.csr_array((np.concatenate([v for _, v in rows]),
                         np.concatenate([c for c, _ in rows]), indptr), shape=(len(rows), ncol))


def add_measures(m: pyo.ConcreteModel, inst) -> None:
    r"""Application shares of the measures and the rules that limit how they combine.

    .. math::

        0 \le x_{s,m} \le a_{s,m}, \qquad
        \sum_{m \in g} x_{s,m} \le 1 \;\; \forall (s, k, g), \qquad
        \rho_{s,k,p} = \sum_{m \in k} \mathrm{eff}_{m,p}\, x_{s,m} \le 1 \;\; \forall (s, k, p)

    =====================  =============================================================
    ``application[s, m]``  x: share of sector k(m)'s emission base in city s treated by m
    ``exclusivity``        one row per (city, sector, group) whose members could exceed 1
    ``removal_limit``      one row per (city, sector, pollutant) whose stack could exceed 1
    =====================  =============================================================
    """
    d = inst.data
    m.city = pyo.Set(initialize=d.cities, ordered=True, doc="source cities")
    m.measure = pyo.Set(initialize=d.measures, ordered=True, doc="control measures")
    m.pollutant = pyo.Set(initialize=d.pollutants, ordered=True, doc="emitted species")
    m.sector = pyo.Set(initialize=d.sectors, ordered=True, doc="emitting sectors")
    m.application = pyo.Var(m.city, m.measure, bounds=(0.0, 1.0),
                            doc="share of the sector's emission base treated")
    x = list(m.application.values())  # ordered s-major, m-minor: j = s*M + m
    for var, ub in zip(x, d.max_application.ravel().tolist()):
        var.setub(ub)
    ex, ex_index, rm, rm_index = technology_rows(d)
    add_rows(m, "exclusivity", ex_index, linear_rows(ex, x), upper=1.0,
             doc="measures of one exclusivity group share the emission base")
    add_rows(m, "removal_limit", rm_index, linear_rows(rm, x), upper=1.0,
             doc="stacked removal shares of a sector cannot exceed 100%")
