"""The only module that talks to HiGHS.

A Pyomo model is compiled to matrices by Pyomo's standard-form compiler
(``pyomo.repn.plugins.standard_form``, mixed form), handed to HiGHS in one
``passModel``, and the primal values and duals are written back into the Pyomo
components (``model.dual``). Solver outcomes come back as a :class:`Status`,
never as an exception. The same module runs the elastic (minimum-violation)
solve that explains infeasibility and the batch of small LPs behind MTFR.

Dual convention: ``model.dual[con]`` is d(objective)/d(bound) in model units, as
HiGHS reports it: for a ``<=`` row of a minimisation it is ≤ 0.
"""

from __future__ import annotations

import contextlib
import enum
import os
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

INF = highspy.kHighsInf
FEASIBILITY_TOL = 1e-6


class Status(str, enum.Enum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"
    ERROR = "error"

    @property
    def exit_code(self) -> int:
        return {Status.OPTIMAL: 0, Status.INFEASIBLE: 3}.get(self, 4)


_HIGHS_STATUS = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: Status.UNBOUNDED,
    highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kIterationLimit: Status.ITERATION_LIMIT,
}


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

    def objective_value(self, x: np.ndarray) -> float:
        quad = 0.0 if self.hessian_diag is None else 0.5 * float(self.hessian_diag @ (x * x))
        return float(self.c @ x + self.offset + quad)

    def row_name(self, i: int) -> str:
        if i < len(self.rows):
            return self.rows[i].name
        block, first = self.row_block(i)
        key = block.index[i - first]
        return f"{block.name}[{','.join(map(str, key)) if isinstance(key, tuple) else key}]"

    def stated_bound(self, i: int, side: str) -> float:
        """Row i's bound as the model states it (before constants move to the right)."""
        if i < len(self.rows):
            value = self.rows[i].upper if side == "upper" else self.rows[i].lower
            return float(pyo.value(value))
        block, first = self.row_block(i)
        parent = getattr(block, "parent", block)
        j = block.rows[i - first] if hasattr(block, "rows") else i - first
        return float((parent.upper if side == "upper" else parent.lower)[j])

    def row_component(self, i: int) -> str:
        if i < len(self.rows):
            return self.rows[i].parent_component().name
        return self.row_block(i)[0].name

    def row_block(self, i: int):
        for block, first in reversed(self.blocks):
            if i >= first:
                return block, first
        raise IndexError(i)


@dataclass
class SolveOutcome:
    status: Status
    objective: float | None = None       # model units (million CNY/yr)
    message: str = ""
    solver: str = "HiGHS"
    solver_version: str = ""
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    iterations: int = 0
    max_primal_infeasibility: float | None = None
    size: dict = field(default_factory=dict)


def highs_version() -> str:
    return f"{highspy.Highs().versionMajor()}.{highspy.Highs().versionMinor()}." \
           f"{highspy.Highs().versionPatch()}"


@contextlib.contextmanager
def _quiet_stdout():
    """HiGHS prints a banner from C++ on first use; keep the CLI's output clean."""
    try:
        fd = os.dup(1)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(fd, 1)
            os.close(fd)


def new_highs(time_limit_s: float | None = None, threads: int = 0,
              method: str = "choose") -> highspy.Highs:
    with _quiet_stdout():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    if time_limit_s:
        h.setOptionValue("time_limit", float(time_limit_s))
    if threads:
        h.setOptionValue("threads", int(threads))
    h.setOptionValue("solver", method)
    return h


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
            _append_block(lp, block)
    lp.A = sp.csc_array(lp.A)
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


def _append_block(lp: LpArrays, block) -> None:
    """Append every row of ``block`` (its variables mapped to columns, new ones added)."""
    rows = _block_rows_csr(lp, block, np.arange(len(block)))
    A = sp.csr_array(lp.A)
    A.resize((A.shape[0], len(lp.columns)))
    lp.blocks.append((block, A.shape[0]))
    lp.A = sp.vstack([A, rows], format="csr")
    lo, hi = _block_bounds(block, np.arange(len(block)))
    lp.row_lo, lp.row_hi = np.r_[lp.row_lo, lo], np.r_[lp.row_hi, hi]


def _block_columns(lp: LpArrays, block) -> np.ndarray:
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


def _block_rows_csr(lp: LpArrays, block, rows: np.ndarray) -> sp.csr_array:
    """Rows ``rows`` of the block as a CSR matrix over the LP's columns."""
    cols = _block_columns(lp, block)
    M = sp.csr_array(block.scale * block.matrix[rows])
    M.eliminate_zeros()
    return sp.csr_array((M.data, cols[M.indices], M.indptr), shape=(M.shape[0], len(lp.columns)))


def _block_bounds(block, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def pass_lp(h: highspy.Highs, lp: LpArrays) -> None:
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.A.shape[1], lp.A.shape[0]
    model.col_cost_, model.offset_ = lp.c, lp.offset
    model.col_lower_, model.col_upper_ = lp.col_lo, lp.col_hi
    model.row_lower_, model.row_upper_ = lp.row_lo, lp.row_hi
    A = sp.csc_array(lp.A)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr
    model.a_matrix_.index_ = A.indices
    model.a_matrix_.value_ = A.data
    h.passModel(model)
    if lp.hessian_diag is not None and np.any(lp.hessian_diag):
        nz = np.flatnonzero(lp.hessian_diag).astype(np.int32)
        start = np.searchsorted(nz, np.arange(lp.A.shape[1] + 1)).astype(np.int32)
        h.passHessian(lp.A.shape[1], len(nz), highspy.HessianFormat.kTriangular, start, nz,
                      lp.hessian_diag[nz])


def run(h: highspy.Highs) -> tuple[Status, str]:
    """Run HiGHS and map its model status; never raises."""
    try:
        h.run()
    except Exception as exc:  # a HiGHS failure is an outcome, not a crash
        return Status.ERROR, f"HiGHS raised: {exc}"
    ms = h.getModelStatus()
    status = _HIGHS_STATUS.get(ms, Status.ERROR)
    text = h.modelStatusToString(ms)
    if ms == highspy.HighsModelStatus.kUnboundedOrInfeasible:
        # Presolve could not tell which; solve again without it to find out.
        h.setOptionValue("presolve", "off")
        h.run()
        ms = h.getModelStatus()
        status, text = _HIGHS_STATUS.get(ms, Status.ERROR), h.modelStatusToString(ms)
    return status, text


def primal_infeasibility(lp: LpArrays, x: np.ndarray) -> float:
    """Largest violation of a row or column bound by ``x``, in model units."""
    ax = lp.A @ x
    rows = np.maximum(np.maximum(lp.row_lo - ax, ax - lp.row_hi), 0)
    cols = np.maximum(np.maximum(lp.col_lo - x, x - lp.col_hi), 0)
    return float(max(rows.max(initial=0.0), cols.max(initial=0.0)))


def _outcome(h: highspy.Highs, lp: LpArrays, status: Status, text: str, build_s: float,
             solve_s: float) -> SolveOutcome:
    info = h.getInfo()
    return SolveOutcome(status=status, message=text, solver_version=highs_version(),
                        build_seconds=build_s, solve_seconds=solve_s,
                        iterations=int(info.simplex_iteration_count + info.ipm_iteration_count),
                        size={"variables": lp.A.shape[1], "constraints": lp.A.shape[0],
                              "nonzeros": int(lp.A.nnz)})


def solve_model(model: pyo.ConcreteModel, time_limit_s: float | None = None, threads: int = 0,
                method: str = "choose") -> SolveOutcome:
    """Solve ``model`` with HiGHS; load values and duals into it when a solution exists."""
    if any(b.active and b.lazy and len(b) for b in getattr(model, "_fs_matrix_rows", [])):
        return solve_generating_rows(model, time_limit_s, threads, method)
    t0 = time.perf_counter()
    lp = compile_model(model)
    h = new_highs(time_limit_s, threads, method)
    pass_lp(h, lp)
    t1 = time.perf_counter()
    status, text = run(h)
    t2 = time.perf_counter()
    info = h.getInfo()
    out = _outcome(h, lp, status, text, t1 - t0, t2 - t1)
    if status == Status.OPTIMAL:
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        out.max_primal_infeasibility = primal_infeasibility(lp, x)
        if out.max_primal_infeasibility > FEASIBILITY_TOL * 100:
            out.status = Status.ERROR
            out.message = (f"HiGHS reported optimal but the solution violates a row by "
                           f"{out.max_primal_infeasibility:.3g}: {ADVICE[Status.ERROR]}")
            return out
        out.objective = lp.objective_value(x)
        _load(model, lp, x, np.asarray(sol.row_dual))
    elif status != Status.INFEASIBLE:
        if int(info.primal_solution_status) == 2:  # feasible, not proven optimal: the best found
            out.objective = float(info.objective_function_value)
        out.message = explain(status, text, time_limit_s, t2 - t1, out.objective)
    return out


ADVICE = {
    Status.TIME_LIMIT: "raise solver.time_limit_s, or try solver.method: ipm",
    Status.ITERATION_LIMIT: "try solver.method: ipm (or simplex), and check the tables for "
                            "extreme values",
    Status.UNBOUNDED: "the cost can fall without limit: check for negative costs and for "
                      "variables or constraints added to the model without bounds",
    Status.ERROR: "numerical trouble: try solver.method: ipm, and check the tables for extreme "
                  "values (numbers far outside 1e-6..1e9 in their units)",
}


def explain(status: Status, text: str, time_limit_s, seconds: float,
            best_objective: float | None = None) -> str:
    """What happened (HiGHS's own status in brackets), the best objective found if any, and
    what to try next."""
    what = {Status.TIME_LIMIT: f"time limit of {time_limit_s} s reached after {seconds:.1f} s",
            Status.ITERATION_LIMIT: f"iteration limit reached after {seconds:.1f} s",
            Status.UNBOUNDED: "the problem is unbounded",
            }.get(status, f"HiGHS stopped without a solution after {seconds:.1f} s")
    best = ("" if best_objective is None else
            f"; best objective found {best_objective:,.6g} million CNY/yr (not proven optimal)")
    return f"{what} (HiGHS: {text}){best}; {ADVICE.get(status, ADVICE[Status.ERROR])}"


def _load(model, lp: LpArrays, x: np.ndarray, row_dual: np.ndarray) -> None:
    for var, value in zip(lp.columns, x):
        var.set_value(float(value), skip_validation=True)
    in_columns = {id(v) for v in lp.columns}
    for var in model.component_data_objects(pyo.Var, active=True):
        if id(var) not in in_columns and not var.fixed:  # appears in no row: at its bound
            var.set_value(max(0.0, var.lb if var.lb is not None else 0.0), skip_validation=True)
    dual = getattr(model, "dual", None)
    if isinstance(dual, pyo.Suffix):
        dual.clear()
        for con, y in zip(lp.rows, row_dual):
            dual[con] = float(y)
    for parent in {id(getattr(b, "parent", b)): getattr(b, "parent", b) for b, _ in lp.blocks}.values():
        parent.dual = dict.fromkeys(parent.index, 0.0)  # rows left out by row generation: 0
    for block, first in lp.blocks:
        parent = getattr(block, "parent", block)
        parent.dual.update(zip(block.index, row_dual[first:first + len(block)].tolist()))


# --- row generation: many receptors, few binding ------------------------------------------

ROWGEN_FIRST = 200       # rows to start from: the largest exceedances at zero reduction
ROWGEN_PER_ROUND = 200   # most-violated rows added per round
ROWGEN_MAX_ROUNDS = 500


@dataclass
class _Subset:
    """Rows ``rows`` of matrix block ``parent`` that are in the LP (row generation)."""

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


def _append_rows(lp: LpArrays, block, rows: np.ndarray, h: highspy.Highs | None = None) -> None:
    """Append rows of ``block`` to the LP (and to HiGHS, if given, keeping its basis)."""
    new = _block_rows_csr(lp, block, rows)
    lo, hi = _block_bounds(block, rows)
    lp.blocks.append((_Subset(block, rows), lp.A.shape[0]))
    lp.A = sp.vstack([sp.csr_array(lp.A), new], format="csr")
    lp.row_lo, lp.row_hi = np.r_[lp.row_lo, lo], np.r_[lp.row_hi, hi]
    if h is not None:
        h.addRows(len(rows), lo, hi, int(new.nnz), new.indptr[:-1].astype(np.int32),
                  new.indices.astype(np.int32), new.data)


def _violated_rows(block, x_block: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Rows of ``block`` violated at ``x_block`` beyond the tolerance, worst first, not kept."""
    body = block.product(x_block) + block.constant
    excess = np.maximum(body - block.upper, block.lower - body)
    tol = FEASIBILITY_TOL * np.maximum(1.0, np.abs(np.where(body > block.upper, block.upper,
                                                            block.lower)))
    bad = np.flatnonzero((excess > tol) & ~kept)
    return bad[np.argsort(-excess[bad], kind="stable")][:ROWGEN_PER_ROUND]


def solve_generating_rows(model: pyo.ConcreteModel, time_limit_s: float | None = None,
                          threads: int = 0, method: str = "choose") -> SolveOutcome:
    """Solve with the lazy matrix blocks (many receptor rows) added only where violated.

    Start from the ROWGEN_FIRST rows with the largest exceedance at zero reduction;
    after each solve check every row with one matrix product, add the ROWGEN_PER_ROUND
    most violated, and re-solve in place (HiGHS keeps its basis: a warm start); stop
    when no row is violated beyond FEASIBILITY_TOL. The optimum is the full LP's.
    """
    t0 = time.perf_counter()
    lazy = [b for b in model._fs_matrix_rows if b.active and b.lazy and len(b)]
    lp = compile_model(model, skip_lazy=True)
    kept = {id(b): np.zeros(len(b), dtype=bool) for b in lazy}
    for b in lazy:
        excess = np.nan_to_num(b.constant - b.upper, nan=-np.inf)
        first = np.argsort(-excess, kind="stable")[:ROWGEN_FIRST]
        _append_rows(lp, b, first)
        kept[id(b)][first] = True
    cols = {id(b): _block_columns(lp, b) for b in lazy}
    h = new_highs(time_limit_s, threads, method)
    pass_lp(h, lp)
    t1 = time.perf_counter()
    rounds, added_total, status, text = 0, 0, Status.ERROR, ""
    while rounds < ROWGEN_MAX_ROUNDS:
        # HiGHS's time_limit is checked against its run time summed over every run() of
        # this instance, so the limit set in new_highs bounds all rounds together.
        status, text = run(h)
        rounds += 1
        if status != Status.OPTIMAL:
            break
        x = np.asarray(h.getSolution().col_value)
        added = 0
        for b in lazy:
            rows = _violated_rows(b, x[cols[id(b)]], kept[id(b)])
            if len(rows):
                _append_rows(lp, b, rows, h)
                kept[id(b)][rows] = True
                added += len(rows)
        added_total += added
        if not added:
            break
    t2 = time.perf_counter()
    out = _outcome(h, lp, status, text, t1 - t0, t2 - t1)
    out.size["row_generation"] = {"rounds": rounds, "rows_added": added_total,
                                  "rows_kept": int(sum(k.sum() for k in kept.values())),
                                  "rows_total": int(sum(len(b) for b in lazy))}
    if status == Status.OPTIMAL and rounds >= ROWGEN_MAX_ROUNDS:
        out.status, out.message = Status.ITERATION_LIMIT, (
            f"row generation stopped after {rounds} rounds with rows still violated; "
            "set solver.constraint_generation: off to solve the full LP")
    elif status == Status.OPTIMAL:
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        out.objective = lp.objective_value(x)
        out.max_primal_infeasibility = primal_infeasibility(lp, x)
        _load(model, lp, x, np.asarray(sol.row_dual))
    elif status != Status.INFEASIBLE:
        out.message = explain(status, text, time_limit_s, t2 - t1, None)
    return out


# --- elastic solve: which rules cannot hold together ------------------------------------

@dataclass
class Violation:
    constraint: str       # Pyomo component name with index, e.g. aq_target[PM25,beijing]
    violation: float      # by how much the row is violated, in the row's units
    bound: float          # the row's bound that was violated


def elastic_solve(model: pyo.ConcreteModel, soft: set[str],
                  time_limit_s: float | None = None) -> tuple[Status, list[Violation]]:
    """Minimise the total violation of the rows of the components named in ``soft``.

    Each soft row gets nonnegative slack columns, weighted by 1/max(1, |bound|) so
    rules in different units count by their relative violation. Returns the rows
    whose slack is positive, largest relative violation first.
    """
    lp = compile_model(model)
    is_soft = np.array([lp.row_component(i) in soft for i in range(lp.A.shape[0])], dtype=bool)
    soft_rows = np.flatnonzero(is_soft)
    up = soft_rows[np.isfinite(lp.row_hi[soft_rows])]   # row can be too high: slack -s
    down = soft_rows[np.isfinite(lp.row_lo[soft_rows])]  # row can be too low: slack +s
    n = lp.A.shape[1]
    extra = sp.csc_array((np.r_[-np.ones(len(up)), np.ones(len(down))],
                          (np.r_[up, down], np.arange(len(up) + len(down)))),
                         shape=(lp.A.shape[0], len(up) + len(down)))
    weight = np.r_[1 / np.maximum(1, np.abs(lp.row_hi[up])),
                   1 / np.maximum(1, np.abs(lp.row_lo[down]))]
    elastic = LpArrays(A=sp.hstack([lp.A, extra], format="csc"),
                       c=np.r_[np.zeros(n), weight], offset=0.0, row_lo=lp.row_lo,
                       row_hi=lp.row_hi, col_lo=np.r_[lp.col_lo, np.zeros(len(weight))],
                       col_hi=np.r_[lp.col_hi, np.full(len(weight), INF)], columns=[], rows=[])
    h = new_highs(time_limit_s)
    pass_lp(h, elastic)
    status, _ = run(h)
    if status != Status.OPTIMAL:
        return status, []
    slack = np.asarray(h.getSolution().col_value)[n:]
    rows = np.r_[up, down]
    sides = ["upper"] * len(up) + ["lower"] * len(down)
    found = [(slack[i] * weight[i], Violation(lp.row_name(rows[i]), float(slack[i]),
                                              lp.stated_bound(rows[i], sides[i])))
             for i in np.flatnonzero(slack > FEASIBILITY_TOL)]
    return Status.OPTIMAL, [v for _, v in sorted(found, key=lambda t: -t[0])]


# --- many objectives over one polytope (MTFR) ------------------------------------------

def minimise_each(A: sp.csr_array, row_hi: np.ndarray, col_hi: np.ndarray,
                  costs: np.ndarray) -> np.ndarray:
    """min c_i·x s.t. A x ≤ row_hi, 0 ≤ x ≤ col_hi, for each row c_i of ``costs``.

    One HiGHS instance, warm-started from the previous basis as the cost changes.
    Returns the optimal objective per row (nan where not optimal).
    """
    h = new_highs()
    n = A.shape[1]
    lp = LpArrays(A=sp.csc_array(A), c=np.zeros(n), offset=0.0,
                  row_lo=np.full(A.shape[0], -INF), row_hi=np.asarray(row_hi, dtype=float),
                  col_lo=np.zeros(n), col_hi=np.asarray(col_hi, dtype=float), columns=[], rows=[])
    pass_lp(h, lp)
    out = np.full(costs.shape[0], np.nan)
    idx = np.arange(n, dtype=np.int32)
    for i, c in enumerate(costs):
        h.changeColsCost(n, idx, np.asarray(c, dtype=float))
        status, _ = run(h)
        if status == Status.OPTIMAL:
            out[i] = h.getInfo().objective_function_value
    return out


# --- sweeps: one HiGHS instance, bounds and coefficients changed in place ----------------

class PersistentSolve:
    """A compiled model kept in HiGHS so that a sweep changes a bound or a coefficient
    and re-solves from the previous basis (warm start) instead of rebuilding.

    ``row(con)`` / ``block_rows(name)`` / ``column(var)`` give HiGHS indices of Pyomo
    constraints, matrix blocks and variables; ``set_row_bounds`` and ``set_coefficient``
    change the LP; ``solve()`` returns a :class:`SolveOutcome` and loads the solution
    and duals into the model, as :func:`solve_model` does.
    """

    def __init__(self, model: pyo.ConcreteModel, time_limit_s: float | None = None,
                 threads: int = 0, method: str = "choose"):
        t0 = time.perf_counter()
        self.model = model
        self.lp = compile_model(model)
        self.h = new_highs(time_limit_s, threads, method)
        pass_lp(self.h, self.lp)
        self.time_limit_s = time_limit_s
        self.build_seconds = time.perf_counter() - t0
        self._row_of = {id(con): i for i, con in enumerate(self.lp.rows)}
        self._col_of = {id(v): j for j, v in enumerate(self.lp.columns)}

    def row(self, con) -> int:
        return self._row_of[id(con)]

    def block_rows(self, name: str) -> np.ndarray:
        for block, first in self.lp.blocks:
            if block.name == name:
                return np.arange(first, first + len(block))
        raise KeyError(name)

    def column(self, var) -> int:
        return self._col_of[id(var)]

    def set_row_bounds(self, rows, lower, upper) -> None:
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int32))
        lo = np.broadcast_to(np.asarray(lower, dtype=float), rows.shape).copy()
        hi = np.broadcast_to(np.asarray(upper, dtype=float), rows.shape).copy()
        lo[~np.isfinite(lo)], hi[~np.isfinite(hi)] = -INF, INF
        self.lp.row_lo[rows], self.lp.row_hi[rows] = lo, hi
        self.h.changeRowsBounds(len(rows), rows, lo, hi)

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        self.h.changeCoeff(int(row), int(col), float(value))

    def solve(self) -> SolveOutcome:
        t0 = time.perf_counter()
        if self.time_limit_s:  # HiGHS sums run time over runs: give each point its own limit
            self.h.setOptionValue("time_limit", self.h.getRunTime() + float(self.time_limit_s))
        status, text = run(self.h)
        info = self.h.getInfo()
        out = SolveOutcome(status=status, message=text, solver_version=highs_version(),
                           solve_seconds=time.perf_counter() - t0,
                           iterations=int(info.simplex_iteration_count + info.ipm_iteration_count),
                           size={"variables": self.lp.A.shape[1], "constraints": self.lp.A.shape[0],
                                 "nonzeros": int(self.lp.A.nnz)})
        if status == Status.OPTIMAL:
            sol = self.h.getSolution()
            x = np.asarray(sol.col_value)
            out.objective = self.lp.objective_value(x)
            out.max_primal_infeasibility = float(info.max_primal_infeasibility)
            _load(self.model, self.lp, x, np.asarray(sol.row_dual))
        return out
