"""HiGHS: one way in (:func:`new_highs`, :func:`pass_lp`), one way to run
(:func:`run`) and one way to finish a solve (:func:`finish`), for every path.

* Every HiGHS call's status is checked; a model HiGHS refuses is an outcome with a
  message that names the offending values, never an empty model "solved".
* :func:`run` maps HiGHS's model status to a :class:`Status`, never raises (but for
  Ctrl-C, which it passes on after asking HiGHS to stop), and leaves HiGHS's options as
  it found them.
* :func:`finish` checks an "optimal" answer against the rows before accepting it, loads
  values and duals into the Pyomo model, and builds the :class:`SolveOutcome`.

Dual convention: ``model.dual[con]`` is d(objective)/d(bound) in model units, as HiGHS
reports it: for a ``<=`` row of a minimisation it is ≤ 0.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import os
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.core as pyo

from fairshare.solver.lp import LpArrays, extreme_values, primal_infeasibility

FEASIBILITY_TOL = 1e-6
CANCEL_WAIT_S = 10.0  # after Ctrl-C, how long to wait for HiGHS to stop before giving up on it


class Status(str, enum.Enum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"
    ERROR = "error"

    @property
    def exit_code(self) -> int:
        """The command line's exit code: 0 solved, 3 infeasible, 4 a solver failure or limit."""
        return {Status.OPTIMAL: 0, Status.INFEASIBLE: 3}.get(self, 4)


_HIGHS_STATUS = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: Status.UNBOUNDED,
    highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kIterationLimit: Status.ITERATION_LIMIT,
}


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
    x: np.ndarray | None = field(default=None, repr=False)  # column values when a solution exists
    mip: dict | None = None  # a MIP (integer columns): gap, nodes, seconds, where duals come from


class HighsRefused(Exception):
    """A HiGHS call returned an error status (the model or an option was refused)."""


@functools.lru_cache(maxsize=1)
def highs_version() -> str:
    h = _highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


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


def _highs() -> highspy.Highs:
    with _quiet_stdout():
        return highspy.Highs()


def check(status, what: str) -> None:
    """Raise :class:`HighsRefused` unless a HiGHS call returned ok (or a warning)."""
    if status == highspy.HighsStatus.kError:
        raise HighsRefused(what)


def set_option(h: highspy.Highs, name: str, value) -> None:
    check(h.setOptionValue(name, value), f"HiGHS refused the option {name} = {value!r}")


def get_option(h: highspy.Highs, name: str):
    value = h.getOptionValue(name)
    return value[1] if isinstance(value, tuple) else value  # (status, value) in highspy ≥ 1.9


def new_highs(time_limit_s: float | None = None, threads: int = 0,
              method: str = "choose", interruptible: bool = True) -> highspy.Highs:
    """A silent HiGHS instance that stops when the process is interrupted.

    ``interruptible=False`` is for batches of tiny LPs (MTFR): Python regains control
    between them within milliseconds anyway, and the solver thread and interrupt
    callbacks would cost more than the LPs."""
    h = _highs()
    set_option(h, "output_flag", False)
    if time_limit_s:
        set_option(h, "time_limit", float(time_limit_s))
    if threads:
        set_option(h, "threads", int(threads))
    set_option(h, "solver", method)
    h.HandleUserInterrupt = interruptible  # cancelSolve() stops simplex and IPM at their next check
    return h


def pass_lp(h: highspy.Highs, lp: LpArrays) -> None:
    """Hand the LP (and its diagonal Hessian, if any) to HiGHS; :class:`HighsRefused`
    naming the values HiGHS cannot take when it refuses them."""
    if lp.lazy is not None:  # response surfaces: relaxed until a solution needs them (run)
        lp.lazy.relax(lp)
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.A.shape[1], lp.A.shape[0]
    model.col_cost_, model.offset_ = lp.c, lp.offset
    model.col_lower_, model.col_upper_ = lp.col_lo, lp.col_hi
    model.row_lower_, model.row_upper_ = lp.row_lo, lp.row_hi
    A = lp.A.tocsc() if hasattr(lp.A, "tocsc") else lp.A
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr
    model.a_matrix_.index_ = A.indices
    model.a_matrix_.value_ = A.data
    found = extreme_values(lp)
    if found:
        raise HighsRefused("values beyond what HiGHS accepts (it treats them as infinite): "
                           + "; ".join(found))
    integer = lp.integrality()  # MIP (response surfaces): integer columns and their gap
    if lp.lazy is not None:
        integer = integer.copy()
        integer[lp.lazy.columns] = False
        integer[lp.lazy.active_columns()] = True
    if integer.any():
        model.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                              for b in integer]
    lp.integer = integer
    check(h.passModel(model), "HiGHS refused the model")
    if integer.any() or lp.lazy is not None:
        set_option(h, "mip_rel_gap", float(lp.mip_rel_gap))
    if lp.hessian_diag is not None and np.any(lp.hessian_diag):
        nz = np.flatnonzero(lp.hessian_diag).astype(np.int32)
        start = np.searchsorted(nz, np.arange(lp.A.shape[1] + 1)).astype(np.int32)
        check(h.passHessian(lp.A.shape[1], len(nz), highspy.HessianFormat.kTriangular, start, nz,
                            lp.hessian_diag[nz]), "HiGHS refused the quadratic cost")


def start(lp: LpArrays, time_limit_s: float | None = None, threads: int = 0,
          method: str = "choose") -> tuple[highspy.Highs | None, SolveOutcome | None]:
    """(HiGHS holding ``lp``, None), or (None, the outcome) when HiGHS refuses an option or
    the model."""
    try:
        h = new_highs(time_limit_s, threads, method)
        pass_lp(h, lp)
    except HighsRefused as exc:
        return None, refused(exc, lp)
    return h, None


def run(h: highspy.Highs, lp: LpArrays | None = None) -> tuple[Status, str]:
    """Run HiGHS and map its model status (HiGHS's own words second); never raises, but
    passes on Ctrl-C (or the CLI's SIGTERM) once HiGHS has been asked to stop.

    When presolve cannot tell infeasible from unbounded, solve once more without it to
    find out, then put presolve back as it was.

    With ``lp.lazy`` (response surfaces, docs/ozone.md): the integer columns it holds
    start continuous (a relaxation); after each optimal run, those of the surfaces whose
    targets the solution meets only on the relaxation are made integer and HiGHS runs
    again, until the solution meets every target on the surfaces themselves: it is then
    optimal for the exact model (a relaxation's optimum that is feasible). HiGHS's time
    limit bounds all rounds together.

    The time limit as callers set it is a point on HiGHS's run clock (summed over every
    run of this instance), which is how HiGHS reads it for an LP; a MIP run reads it as
    seconds from its own start, so before a MIP run it is set to the seconds left, and put
    back afterwards.
    """
    limit = get_option(h, "time_limit")
    end = (time.perf_counter() + max(0.0, limit - h.getRunTime())
           if np.isfinite(limit) else None)
    try:
        return _run_rounds(h, lp, end)
    finally:
        if end is not None:
            set_option(h, "time_limit", limit)


def _run_rounds(h: highspy.Highs, lp: LpArrays | None, end: float | None) -> tuple[Status, str]:
    status, text = _run_before(h, lp, end)
    lazy = getattr(lp, "lazy", None)
    while lazy is not None and status == Status.OPTIMAL:
        more = lazy.needed(np.asarray(h.getSolution().col_value), lp)
        if not more:
            break
        try:
            for cols, col_hi, rows, row_lo, row_hi in more:
                cols, rows = cols.astype(np.int32), rows.astype(np.int32)
                check(h.changeColsBounds(len(cols), cols, lp.col_lo[cols], col_hi),
                      "HiGHS refused the binaries' bounds")
                check(h.changeColsIntegrality(len(cols), cols,
                                              np.full(len(cols), highspy.HighsVarType.kInteger)),
                      "HiGHS refused the integer columns")
                check(h.changeRowsBounds(len(rows), rows, row_lo, row_hi),
                      "HiGHS refused the surface rows")
                lp.col_hi[cols], lp.row_lo[rows], lp.row_hi[rows] = col_hi, row_lo, row_hi
                lp.integer[cols] = True
        except HighsRefused as exc:
            return Status.ERROR, str(exc)
        lazy.rounds += 1
        status, text = _run_before(h, lp, end)
    return status, text


def _run_before(h: highspy.Highs, lp: LpArrays | None, end: float | None) -> tuple[Status, str]:
    """One run that ends by ``end`` (a perf_counter time; None: no limit)."""
    integer = getattr(lp, "integer", None)
    if end is not None and integer is not None and integer.any():  # a MIP: seconds left
        left = end - time.perf_counter()
        if left <= 0:
            return Status.TIME_LIMIT, "Time limit reached (between lazy rounds)"
        set_option(h, "time_limit", left)
    return _run_once(h)


def _run_once(h: highspy.Highs) -> tuple[Status, str]:
    go = _run_interruptibly if h.HandleUserInterrupt else _run_plain
    try:
        go(h)
        ms = h.getModelStatus()
        if ms == highspy.HighsModelStatus.kUnboundedOrInfeasible:
            presolve = get_option(h, "presolve")
            set_option(h, "presolve", "off")
            try:
                go(h)
            finally:
                set_option(h, "presolve", presolve)
            ms = h.getModelStatus()
        return _HIGHS_STATUS.get(ms, Status.ERROR), h.modelStatusToString(ms)
    except Exception as exc:  # a HiGHS failure is an outcome, not a crash
        return Status.ERROR, f"HiGHS raised: {exc}"


def _run_plain(h: highspy.Highs) -> None:
    check(h.run(), "HiGHS stopped with an error")


def _run_interruptibly(h: highspy.Highs) -> None:
    """``h.run()`` in HiGHS's solver thread, this thread waiting in short steps so that a
    signal reaches Python at once: then HiGHS is cancelled and the interrupt passed on."""
    thread = h.startSolve()
    try:
        while not h.wait(0.05)[0]:
            pass
    except BaseException:
        h.cancelSolve()
        thread.join(CANCEL_WAIT_S)
        raise


def finish(h: highspy.Highs, lp: LpArrays, model, status: Status, text: str, *,
           build_s: float = 0.0, solve_s: float = 0.0,
           time_limit_s: float | None = None) -> SolveOutcome:
    """The one way every solve ends: an "optimal" answer is checked against the rows (and
    becomes an error if it violates one), values and duals are loaded into ``model`` (if
    given), and a limit or failure is explained with the best objective found."""
    info = h.getInfo()
    out = SolveOutcome(status=status, message=text, solver_version=highs_version(),
                       build_seconds=build_s, solve_seconds=solve_s,
                       iterations=int(info.simplex_iteration_count + info.ipm_iteration_count),
                       size=lp.size)
    if status == Status.OPTIMAL:
        sol = h.getSolution()
        x, row_dual = np.asarray(sol.col_value), np.asarray(sol.row_dual)
        integer = lp.integer if lp.integer is not None else lp.integrality()
        if integer.any():  # a MIP has no duals: those of the LP with the integers fixed
            out.mip = mip_info(info, integer, solve_s)
            if lp.lazy is not None:
                out.mip.update(lp.lazy.report())
            x, row_dual = fixed_lp(h, lp, x, integer, out.mip)
        out.max_primal_infeasibility = primal_infeasibility(lp, x)
        if out.max_primal_infeasibility > FEASIBILITY_TOL * 100:
            out.status = Status.ERROR
            out.message = (f"HiGHS reported optimal but the solution violates a row by "
                           f"{out.max_primal_infeasibility:.3g}: {ADVICE[Status.ERROR]}")
            return out
        out.objective, out.x = lp.objective_value(x), x
        if model is not None:
            load(model, lp, x, row_dual)
    elif status != Status.INFEASIBLE:
        integer = lp.integer if lp.integer is not None else lp.integrality()
        if integer.any():  # a MIP stopped early: its gap, bound and rounds say how far it got
            out.mip = {**mip_info(info, integer, solve_s), "shadow_prices": None}
            if lp.lazy is not None:
                out.mip.update(lp.lazy.report())
        if int(info.primal_solution_status) == 2:  # feasible, not proven optimal: the best found
            out.objective = float(info.objective_function_value)
        out.message = explain(status, text, time_limit_s, solve_s, out.objective)
    return out


# --- MIP (response surfaces: docs/ozone.md) ------------------------------------------------

MIP_DUALS = ("a MIP has no duals: shadow prices are those of the LP with the integer "
             "variables fixed at the MIP optimum (valid for small changes that keep the "
             "surfaces' active triangles)")


def mip_info(info, integer: np.ndarray, solve_s: float) -> dict:
    """What summary.json reports of a MIP solve: relative gap, dual bound, nodes, seconds."""
    return {"integer_columns": int(integer.sum()), "relative_gap": float(info.mip_gap),
            "dual_bound": float(info.mip_dual_bound), "nodes": int(info.mip_node_count),
            "seconds": float(solve_s), "shadow_prices": MIP_DUALS}


def fixed_lp(h: highspy.Highs, lp: LpArrays, x: np.ndarray, integer: np.ndarray,
             mip: dict) -> tuple[np.ndarray, np.ndarray]:
    """Re-solve as an LP with the integer columns fixed at their (rounded) MIP values: its
    solution (as good as the MIP's) and its row duals. HiGHS is left as it was found.
    When that LP does not solve, the MIP's values and zero duals (``mip`` says so)."""
    cols = np.flatnonzero(integer).astype(np.int32)
    lo, hi = lp.col_lo[cols].copy(), lp.col_hi[cols].copy()
    fixed = np.clip(np.round(x[cols]), lo, hi)
    n = len(cols)
    out = (x, np.zeros(lp.A.shape[0]))
    try:
        check(h.changeColsIntegrality(n, cols, np.full(n, highspy.HighsVarType.kContinuous)),
              "HiGHS refused to relax the integers")
        check(h.changeColsBounds(n, cols, fixed, fixed), "HiGHS refused the fixed integers")
        status, _ = _run_once(h)
        if status == Status.OPTIMAL:
            sol = h.getSolution()
            y = np.asarray(sol.col_value)
            if lp.lazy is not None and len(lp.lazy.violated(y, lp)):
                y = x  # another optimum of the fixed LP that a relaxed surface misjudges
            if lp.objective_value(y) <= lp.objective_value(x) + 1e-9 * max(1.0, abs(lp.objective_value(x))):
                out = (y, np.asarray(sol.row_dual))
            else:
                out = (x, np.asarray(sol.row_dual))
        else:
            mip["shadow_prices"] = "not available (a MIP has no duals; the LP with the integers fixed did not solve)"
    finally:
        h.changeColsBounds(n, cols, lo, hi)
        h.changeColsIntegrality(n, cols, np.full(n, highspy.HighsVarType.kInteger))
    return out


def refused(exc: HighsRefused, lp: LpArrays | None = None) -> SolveOutcome:
    """The outcome of a model HiGHS would not take."""
    return SolveOutcome(status=Status.ERROR, solver_version=highs_version(),
                        size=lp.size if lp is not None else {},
                        message=f"{exc}; {ADVICE['refused']}")


ADVICE = {
    Status.TIME_LIMIT: "raise solver.time_limit_s, or try solver.method: ipm",
    Status.ITERATION_LIMIT: "try solver.method: ipm (or simplex), and check the tables for "
                            "extreme values",
    Status.UNBOUNDED: "the cost can fall without limit: check for negative costs and for "
                      "variables or constraints added to the model without bounds",
    Status.ERROR: "numerical trouble: try solver.method: ipm, and check the tables for extreme "
                  "values (numbers far outside 1e-6..1e9 in their units)",
    "refused": "check the region's tables for extreme values (fairshare validate names them) "
               "and the solver options",
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


def load(model, lp: LpArrays, x: np.ndarray, row_dual: np.ndarray | None) -> None:
    """Column values (and, if given, row duals) into the Pyomo model and its matrix blocks."""
    for var, value in zip(lp.columns, x):
        var.set_value(float(value), skip_validation=True)
    in_columns = {id(v) for v in lp.columns}
    for var in model.component_data_objects(pyo.Var, active=True):
        if id(var) not in in_columns and not var.fixed:  # appears in no row: at its bound
            var.set_value(max(0.0, var.lb if var.lb is not None else 0.0), skip_validation=True)
    if row_dual is None:
        return
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


