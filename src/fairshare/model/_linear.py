"""Building Pyomo rows from numpy arrays (no Python loop over matrix terms per row term).

Pyomo's ``LinearExpression`` takes the coefficients and variables of a row as
lists; we slice them out of a CSR matrix, so a dense transport block of
R x (S*P) entries becomes R expressions in one pass.
"""

from __future__ import annotations

import numpy as np
import pyomo.core as pyo
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


def _bound_list(values, n: int) -> list:
    """Bounds as floats, None for no bound (None, nan or ±inf)."""
    if values is None:
        return [None] * n
    arr = np.broadcast_to(np.asarray(values, dtype=float), (n,))
    return [None if not np.isfinite(v) else float(v) for v in arr.tolist()]


def add_rows(m: pyo.ConcreteModel, name: str, index: list, exprs: list, lower=None, upper=None,
             doc: str = "") -> pyo.Constraint:
    """Add ``Constraint`` ``name`` indexed by ``index`` with ``lower <= exprs[i] <= upper``."""
    lo, hi = _bound_list(lower, len(index)), _bound_list(upper, len(index))
    rows = {key: (lo[i], exprs[i], hi[i]) for i, key in enumerate(index)}
    con = pyo.Constraint(list(rows), rule=lambda _m, *key: rows[key if len(key) > 1 else key[0]],
                         doc=doc)
    m.add_component(name, con)
    return con


class MatrixRows:
    """Rows ``lower <= matrix @ variables + constant <= upper`` kept as a sparse matrix.

    The dense transport block would cost seconds as Pyomo expressions at hundreds of
    cities, so it lives here and :mod:`fairshare.solver` appends it to the compiled
    matrix. It reads like an indexed Pyomo constraint: ``keys()``, ``expr(key)`` (the
    Pyomo expression of one row, built on demand), ``body()`` (every row at the
    current variable values), ``dual[key]`` after a solve (d objective / d bound), and
    ``active = False`` drops it from the next solve.
    """

    def __init__(self, name: str, index: list, matrix, variables: list, constant, lower=None,
                 upper=None, doc: str = "", scale: float = 1.0):
        n = len(index)
        self.name, self.doc, self.active = name, doc, True
        self.index = list(index)
        self.position = {key: i for i, key in enumerate(self.index)}
        # Dense blocks (the transport matrix) stay dense numpy arrays: no copy, fast products.
        self.matrix = matrix if isinstance(matrix, np.ndarray) else sp.csr_array(matrix)
        self.scale = float(scale)  # rows are scale * matrix: -T without a negated copy of T
        self.variables = list(variables)
        self.constant = np.broadcast_to(np.asarray(constant, dtype=float), n).copy()
        self.lower = np.full(n, -np.inf) if lower is None else np.broadcast_to(
            np.asarray(lower, dtype=float), n).copy()
        self.upper = np.full(n, np.inf) if upper is None else np.broadcast_to(
            np.asarray(upper, dtype=float), n).copy()
        self.dual: dict = {}
        self.lazy = False  # solve by row generation (see fairshare.solver)

    def __len__(self) -> int:
        return len(self.index)

    def keys(self) -> list:
        return list(self.index)

    def expr(self, key) -> LinearExpression:
        i = self.position[key]
        return linear_rows(self.scale * self.matrix[[i]], self.variables, self.constant[[i]])[0]

    def body(self) -> np.ndarray:
        values = np.array([v.value if v.value is not None else 0.0 for v in self.variables])
        return self.product(values) + self.constant

    def product(self, values: np.ndarray) -> np.ndarray:
        """``scale * matrix @ values`` for every row."""
        return self.scale * (self.matrix @ values)

    def __repr__(self) -> str:
        return f"<MatrixRows {self.name}: {len(self)} rows x {len(self.variables)} variables>"


class RowExpressions:
    """Read-only mapping key -> Pyomo expression ``matrix[i] @ variables + constant[i]``,
    each built on first use (e.g. ``model.concentration[q, r]``)."""

    def __init__(self, index: list, matrix, variables: list, constant, doc: str = "",
                 scale: float = 1.0):
        self.rows = MatrixRows("expressions", index, matrix, variables, constant, doc=doc,
                               scale=scale)
        self.doc = doc
        self._cache: dict = {}

    def __getitem__(self, key):
        if key not in self._cache:
            self._cache[key] = self.rows.expr(key)
        return self._cache[key]

    def __contains__(self, key) -> bool:
        return key in self.rows.position

    def __len__(self) -> int:
        return len(self.rows)

    def keys(self) -> list:
        return self.rows.keys()

    def values_array(self) -> np.ndarray:
        """Every expression at the current variable values."""
        return self.rows.body()


def attach_matrix_rows(m, rows: MatrixRows) -> MatrixRows:
    """Put ``rows`` on the model as ``m.<rows.name>`` and register it for the solver."""
    if not hasattr(m, "_fs_matrix_rows"):
        m._fs_matrix_rows = []
    name = rows.name
    qualify = getattr(m, "qualify", None)  # a roadmap's period view: aq_target -> aq_target_2030
    if qualify is not None:
        rows.name = qualify(name)
    setattr(m, name, rows)
    m._fs_matrix_rows.append(rows)
    return rows
