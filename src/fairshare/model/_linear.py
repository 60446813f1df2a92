"""Building Pyomo rows from numpy arrays (no Python loop over matrix terms per row term).

Pyomo's ``LinearExpression`` takes the coefficients and variables of a row as
lists; we slice them out of a CSR matrix, so a dense transport block of
R x (S*P) entries becomes R expressions in one pass.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.core.expr.numeric_expr import LinearExpression


def linear_rows(matrix, variables: list, constants=None) -> list[LinearExpression]:
    """One ``LinearExpression`` per row of ``matrix`` (any scipy sparse or dense 2-D array)
    over ``variables`` (a list indexed like the matrix columns), plus ``constants[i]``."""
    csr = sp.csr_array(matrix)
    csr.eliminate_zeros()
    indptr, indices, data = csr.indptr, csr.indices, csr.data
    const = np.zeros(csr.shape[0]) if constants is None else np.asarray(constants, dtype=float)
    rows = []
    for i in range(csr.shape[0]):
        lo, hi = indptr[i], indptr[i + 1]
        rows.append(LinearExpression(constant=float(const[i]),
                                     linear_coefs=data[lo:hi].tolist(),
                                     linear_vars=[variables[j] for j in indices[lo:hi]]))
    return rows


def add_rows(m: pyo.ConcreteModel, name: str, index: list, exprs: list, lower=None, upper=None,
             doc: str = "") -> pyo.Constraint:
    """Add ``Constraint`` ``name`` indexed by ``index`` with ``lower <= exprs[i] <= upper``."""
    lo = [None] * len(index) if lower is None else list(np.broadcast_to(lower, len(index)))
    hi = [None] * len(index) if upper is None else list(np.broadcast_to(upper, len(index)))
    rows = {key: (None if lo[i] is None else float(lo[i]), exprs[i],
                  None if hi[i] is None else float(hi[i]))
            for i, key in enumerate(index)}
    con = pyo.Constraint(list(rows), rule=lambda _m, *key: rows[key if len(key) > 1 else key[0]],
                         doc=doc)
    m.add_component(name, con)
    return con
