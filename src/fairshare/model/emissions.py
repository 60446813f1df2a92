"""Emission reductions of each city and pollutant, linear in the application shares."""

from __future__ import annotations

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from fairshare.model._linear import add_rows, linear_rows


def add_reductions(m: pyo.ConcreteModel, inst) -> None:
    r"""Emission reduction of each city and pollutant.

    .. math::

        \mathrm{reduction}_{s,p} = \sum_m E_{s,k(m),p}\, \mathrm{eff}_{m,p}\, x_{s,m}

    ========================  ==========================================================
    ``reduction[s, p]``       dE: kt/yr removed in city s of pollutant p (Var)
    ``reduction_def[s, p]``   the defining equality (its dual: marginal value of a kt)
    ========================  ==========================================================

    Caps on a zone's emissions are a rule family: :mod:`fairshare.families.emission_cap`.
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
