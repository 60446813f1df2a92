"""Emission reductions and zone emission caps (total-emission-control targets)."""

from __future__ import annotations

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from fairshare.instance import Instance
from fairshare.model._linear import add_rows, linear_rows


def add_reductions(m: pyo.ConcreteModel, inst: Instance) -> None:
    r"""Emission reduction of each city and pollutant, linear in the application shares.

    .. math::

        \mathrm{reduction}_{s,p} = \sum_m E_{s,k(m),p}\, \mathrm{eff}_{m,p}\, x_{s,m}

    ======================  ==========================================================
    ``reduction[s, p]``     dE: kt/yr removed in city s of pollutant p (Var)
    ``reduction_def[s, p]`` the defining equality (its dual: marginal value of a kt)
    ======================  ==========================================================
    """
    d = inst.data
    S, M, P = inst.removal_kt.shape
    m.reduction = pyo.Var(m.city, m.pollutant, doc="emission reduction, kt/yr")
    # Row (s, p) holds -removal_kt[s, m, p] at column s*M + m, and +1 for reduction[s, p].
    coef = -inst.removal_kt.transpose(0, 2, 1)  # [S, P, M]
    rows = np.repeat(np.arange(S * P), M)
    cols = (np.arange(S)[:, None, None] * M + np.arange(M)[None, None, :]).repeat(P, 1).ravel()
    block = sp.csr_array((coef.ravel(), (rows, cols)), shape=(S * P, S * M))
    variables = list(m.application.values()) + list(m.reduction.values())
    full = sp.hstack([block, sp.identity(S * P, format="csr")], format="csr")
    index = [(c, p) for c in d.cities for p in d.pollutants]
    add_rows(m, "reduction_def", index, linear_rows(full, variables), lower=0.0, upper=0.0,
             doc="reduction = sum of removals of the measures applied")


def add_emission_caps(m: pyo.ConcreteModel, inst: Instance) -> None:
    r"""Caps on a zone's post-control emissions (DESIGN §2, "total emission control").

    .. math::

        \sum_{s \in Z} \left(E_{s,p} - \mathrm{reduction}_{s,p}\right) \le \mathrm{cap}
        \iff \sum_{s \in Z} \mathrm{reduction}_{s,p} \ge \sum_{s \in Z} E_{s,p} - \mathrm{cap}

    ``emission_cap[i]`` (kt/yr), one row per cap in the scenario, in its order; its dual
    is the marginal cost of the cap (million CNY per kt).
    """
    d = inst.data
    rows, lower = [], []
    for cap in inst.caps:
        base_kt = d.emission_city_t[cap.cities, cap.pollutant].sum() / 1000.0
        vars_ = [m.reduction[c, d.pollutants[cap.pollutant]]
                 for c in np.asarray(d.cities)[cap.cities]]
        rows.append(linear_rows(np.ones((1, len(vars_))), vars_)[0])
        lower.append(base_kt - cap.cap_kt)
    add_rows(m, "emission_cap", list(range(len(rows))), rows, lower=lower,
             doc="zone emissions after control within the cap")
