"""Annual cost of each city's measures."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from fairshare.instance import Instance
from fairshare.model._linear import add_rows, linear_rows


def add_costs(m: pyo.ConcreteModel, inst: Instance) -> None:
    r"""City cost, linear in the application shares (DESIGN §2).

    .. math::

        \mathrm{city\_cost}_s = \sum_m \kappa_{s,m} x_{s,m}, \qquad
        \kappa_{s,m} = f_s\, cu_m\, E_{s,k(m),\mathrm{ref}(m)}\, \mathrm{eff}_{m,\mathrm{ref}(m)}

    ====================  ============================================================
    ``city_cost[s]``      annual cost of city s, **million CNY/yr** (Var)
    ``cost_def[s]``       the defining equality
    ====================  ============================================================
    """
    d = inst.data
    S, M = inst.kappa_mcny.shape
    m.city_cost = pyo.Var(m.city, doc="annual cost, million CNY/yr")
    block = sp.csr_array((-inst.kappa_mcny.ravel(),
                          (np.repeat(np.arange(S), M), np.arange(S * M))), shape=(S, S * M))
    full = sp.hstack([block, sp.identity(S, format="csr")], format="csr")
    variables = list(m.application.values()) + list(m.city_cost.values())
    add_rows(m, "cost_def", list(d.cities), linear_rows(full, variables), lower=0.0, upper=0.0,
             doc="city cost = sum of the costs of the measures applied")
