"""A Pyomo model compiled to matrices: the one hand-off from Pyomo to HiGHS.

Pyomo's standard-form compiler (``pyomo.repn.plugins.standard_form``, mixed form) turns
the model's constraints into a sparse matrix; the model's matrix blocks (the dense
transport rows, :class:`fairshare.model._linear.MatrixRows`) are appended as they are.
Row ``i`` keeps a way back to its Pyomo component, for duals, names and the diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

INF = highspy.kHighsInf


@dataclass
class LpArrays:
    """A compiled LP: minimise c·x + offset, row_lo ≤ A x ≤ row_hi, col_lo ≤ x ≤ col_hi.

    The first ``len(rows)`` rows are Pyomo constraints (``rows[i]`` its ConstraintData);
    the rest come from the model's matrix blocks, ``blocks = [(MatrixRows, first row)]``.
    """

    A: sp.csc_array
    c: np.ndarray
    offset: float
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    columns: list          # Pyomo VarData per column
    rows: list             # Pyomo ConstraintData per Pyomo row
    blocks: list = field(default_factory=list)
    hessian_diag: np.ndarray | None = None  # objective + 0.5 sum diag x^2 (convex QP)
    # --- MIP (response surfaces, docs/ozone.md): integer columns and the gap asked for ---
    integer: np.ndarray | None = None  # [n] bool; None: the columns' Pyomo domains say
    mip_rel_gap: float = 1e-6
    # integer columns made integer only when a relaxed solution needs them (response
    # surfaces: :class:`fairshare.model.surfaces.LazyBinaries` bound to these columns)
    lazy: object = None

    def integrality(self) -> np.ndarray:
        """[n] bool: which columns are integer (``integer``, else the Pyomo variables'
        domains; columns beyond ``columns``, e.g. elastic slacks, are continuous)."""
        n = self.A.shape[1]
        if self.integer is not None:
            return np.r_[np.asarray(self.integer, dtype=bool), np.zeros(n, bool)][:n]
        flags = [bool(v.is_integer()) for v in self.columns]
        return np.r_[np.array(flags, dtype=bool), np.zeros(max(0, n - len(flags)), bool)][:n]

    def objective_value(self, x: np.ndarray) -> float:
        quad = 0.0 if self.hessian_diag is None else 0.5 * float(self.hessian_diag @ (x * x))
        return float(self.c @ x + self.offset + quad)

    def row_key(self, i: int) -> tuple[str, object]:
        """(component name, index) of row i, e.g. ("aq_target", ("PM25", "beijing"))."""
        if i < len(self.rows):
            con = self.rows[i]
            return con.parent_component().name, con.index()
        block, first = self.row_block(i)
        return block.name, block.index[i - first]

    def row_name(self, i: int) -> str:
        name, key = self.row_key(i)
        if key is None:
            return name
        return f"{name}[{','.join(map(str, key)) if isinstance(key, tuple) else key}]"

    def column_name(self, j: int) -> str:
        return self.columns[j].name if j < len(self.columns) else f"column {j}"

    def stated_bound(self, i: int, side: str) -> float:
        """Row i's bound as the model states it (before constants move to the right)."""
        if i < len(self.rows):
            value = self.rows[i].upper if side == "upper" else self.rows[i].lower
            return float(pyo.value(value))
        block, first = self.row_block(i)
        parent = getattr(block, "parent", block)
        j = block.rows[i - first] if hasattr(block, "rows") else i - first
        return float((parent.upper if side == "upper" else parent.lower)[j])

    def row_block(self, i: int):
        for block, first in reversed(self.blocks):
            if i >= first:
                return block, first
        raise IndexError(i)

    @property
    def size(self) -> dict:
        return {"variables": self.A.shape[1], "constraints": self.A.shape[0],
                "nonzeros": int(self.A.nnz)}


def compile_model(model: pyo.ConcreteModel, skip_lazy: bool = False) -> LpArrays:
    """Pyomo model -> matrices, one row per constraint (ranged rows kept as one row),
    with the model's active matrix blocks (e.g. ``aq_target``) appended as sparse rows."""
    info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=pyo.minimize)
    if info.c.shape[0] != 1:
        raise ValueError("fairshare expects exactly one active objective")
    A = sp.csr_array(info.A)
    rhs = np.asarray(info.rhs, dtype=float)
    sense = np.array([s for _, s in info.rows], dtype=int)
    cons = [con for con, _ in info.rows]
    keep, lo, hi = _merge_ranged_rows(cons, sense, rhs)
    lp = LpArrays(A=sp.csr_array(A[keep]), c=np.asarray(info.c.todense()).ravel(),
                  offset=float(np.asarray(info.c_offset).ravel()[0]), row_lo=lo, row_hi=hi,
                  col_lo=_bounds(info.columns, "lb", -INF), col_hi=_bounds(info.columns, "ub", INF),
                  columns=list(info.columns), rows=[cons[i] for i in keep])
    for block in getattr(model, "_fs_matrix_rows", []):
        if block.active and len(block) and not (skip_lazy and block.lazy):
            append_rows(lp, block, np.arange(len(block)))
    lp.A = sp.csc_array(lp.A)
    lp.mip_rel_gap = float(getattr(model, "_fs_mip_rel_gap", lp.mip_rel_gap))  # MIP only
    lazy = getattr(model, "_fs_lazy_binaries", None)  # response surfaces (docs/ozone.md)
    if lazy is not None:
        lp.lazy = lazy.bind(lp)
    quad = getattr(model, "quadratic_cost", None)
    if quad is not None and quad.active:
        lp.hessian_diag = _hessian_diagonal(lp, quad)
    return lp


def _hessian_diagonal(lp: LpArrays, quad) -> np.ndarray:
    """Diagonal of the objective's Hessian over the LP's columns (0.5 x'Hx)."""
    col_of = {id(v): j for j, v in enumerate(lp.columns)}
    diag = np.zeros(len(lp.columns))
    for v, theta in zip(quad.variables, quad.theta):
        if theta and id(v) in col_of:
            diag[col_of[id(v)]] += theta
    return diag


def _bounds(columns, attr: str, default: float) -> np.ndarray:
    return np.array([default if getattr(v, attr) is None else getattr(v, attr) for v in columns],
                    dtype=float)


@dataclass
class Subset:
    """Rows ``rows`` of matrix block ``parent`` that are in the LP (row generation keeps
    only some)."""

    parent: object
    rows: np.ndarray

    @property
    def name(self) -> str:
        return self.parent.name

    @property
    def index(self) -> list:
        return [self.parent.index[i] for i in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


def append_rows(lp: LpArrays, block, rows: np.ndarray) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """Append rows ``rows`` of matrix block ``block`` to the LP (its variables mapped to
    columns, new ones added); returns the new rows and their bounds (for HiGHS's addRows)."""
    new = block_rows_csr(lp, block, rows)
    lo, hi = block_bounds(block, rows)
    whole = len(rows) == len(block) and np.array_equal(rows, np.arange(len(block)))
    lp.blocks.append((block if whole else Subset(block, rows), lp.A.shape[0]))
    lp.A = sp.vstack([sp.csr_array(lp.A), new], format="csr")
    lp.row_lo, lp.row_hi = np.r_[lp.row_lo, lo], np.r_[lp.row_hi, hi]
    return new, lo, hi


def block_columns(lp: LpArrays, block) -> np.ndarray:
    """LP column of each of the block's variables (appending columns the LP lacks)."""
    col_of = {id(v): j for j, v in enumerate(lp.columns)}
    new = [v for v in block.variables if id(v) not in col_of]
    if new:
        for v in new:
            col_of[id(v)] = len(lp.columns)
            lp.columns.append(v)
        lp.c = np.r_[lp.c, np.zeros(len(new))]
        lp.col_lo = np.r_[lp.col_lo, _bounds(new, "lb", -INF)]
        lp.col_hi = np.r_[lp.col_hi, _bounds(new, "ub", INF)]
        A = sp.csr_array(lp.A)
        A.resize((A.shape[0], len(lp.columns)))
        lp.A = A
    return np.array([col_of[id(v)] for v in block.variables], dtype=np.int64)


def block_rows_csr(lp: LpArrays, block, rows: np.ndarray) -> sp.csr_array:
    """Rows ``rows`` of the block as a CSR matrix over the LP's columns."""
    cols = block_columns(lp, block)
    M = sp.csr_array(block.scale * block.matrix[rows])
    M.eliminate_zeros()
    return sp.csr_array((M.data, cols[M.indices], M.indptr), shape=(M.shape[0], len(lp.columns)))


def block_bounds(block, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo = np.where(np.isfinite(block.lower[rows]), block.lower[rows] - block.constant[rows], -INF)
    hi = np.where(np.isfinite(block.upper[rows]), block.upper[rows] - block.constant[rows], INF)
    return lo, hi


def _merge_ranged_rows(cons, sense, rhs):
    """Mixed form gives a ranged constraint as two rows (sense +1 and -1); keep one."""
    keep, lo, hi, seen = [], [], [], {}
    for i, (con, s) in enumerate(zip(cons, sense)):
        j = seen.get(id(con))
        if j is not None:  # second half of a ranged row
            if s < 0:
                lo[j] = rhs[i]
            else:
                hi[j] = rhs[i]
            continue
        seen[id(con)] = len(keep)
        keep.append(i)
        lo.append(rhs[i] if s <= 0 else -INF)
        hi.append(rhs[i] if s >= 0 else INF)
    return np.array(keep, dtype=int), np.array(lo, dtype=float), np.array(hi, dtype=float)


def primal_infeasibility(lp: LpArrays, x: np.ndarray) -> float:
    """Largest violation of a row or column bound by ``x``, in model units."""
    ax = lp.A @ x
    rows = np.maximum(np.maximum(lp.row_lo - ax, ax - lp.row_hi), 0)
    cols = np.maximum(np.maximum(lp.col_lo - x, x - lp.col_hi), 0)
    return float(max(rows.max(initial=0.0), cols.max(initial=0.0)))


# HiGHS treats larger values as infinite (its defaults large_matrix_value, infinite_cost
# and infinite_bound), and refuses a model holding them.
HIGHS_MAX_MATRIX = 1e15
HIGHS_MAX_COST = 1e20


def extreme_values(lp: LpArrays) -> list[str]:
    """The first matrix entries and costs HiGHS would refuse, named by row and column."""
    found = []
    A = sp.coo_array(lp.A)
    for i, j, v in zip(*_first(np.abs(A.data) >= HIGHS_MAX_MATRIX, A.row, A.col, A.data)):
        found.append(f"coefficient {v:.3g} of {lp.column_name(j)} in {lp.row_name(i)}")
    for (j,) in zip(*_first(np.abs(lp.c) >= HIGHS_MAX_COST, np.arange(len(lp.c)))):
        found.append(f"cost {lp.c[j]:.3g} of {lp.column_name(j)} in the objective")
    return found


def _first(mask: np.ndarray, *arrays, limit: int = 3):
    pick = np.flatnonzero(mask)[:limit]
    return tuple(a[pick] for a in arrays)
