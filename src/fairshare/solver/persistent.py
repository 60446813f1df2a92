"""Sweeps: one HiGHS instance, bounds and coefficients changed in place, warm re-solves."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from fairshare.solver import highs
from fairshare.solver.highs import HighsRefused, SolveOutcome
from fairshare.solver.lp import INF, compile_model


class PersistentSolve:
    """A compiled model kept in HiGHS so that a sweep changes a bound or a coefficient
    and re-solves from the previous basis (warm start) instead of rebuilding.

    ``row(con)`` / ``block_rows(name)`` / ``column(var)`` give HiGHS indices of Pyomo
    constraints, matrix blocks and variables; ``set_row_bounds`` and ``set_coefficient``
    change the LP; ``solve()`` finishes like every solve (:func:`highs.finish`): the
    solution checked, values and duals loaded into the model. Each solve gets its own
    time limit (HiGHS counts run time over all runs of one instance).
    """

    def __init__(self, model: pyo.ConcreteModel, time_limit_s: float | None = None,
                 threads: int = 0, method: str = "choose", load_values: bool = True):
        t0 = time.perf_counter()
        self.model = model
        # False: the caller reads values from the outcome; loading them into Pyomo after
        # each of thousands of small LPs (a cooperative game) costs as much as the LP.
        self.load_values = load_values
        self.lp = compile_model(model)
        self.refused: HighsRefused | None = None
        try:
            self.h = highs.new_highs(time_limit_s, threads, method)
            highs.pass_lp(self.h, self.lp)
        except HighsRefused as exc:
            self.refused = exc
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
        """Bounds of rows ``rows`` (±inf: no bound), in the LP arrays and in HiGHS."""
        rows, lo, hi = _bounds(rows, lower, upper)
        self.lp.row_lo[rows], self.lp.row_hi[rows] = lo, hi
        highs.check(self.h.changeRowsBounds(len(rows), rows, lo, hi),
                    "HiGHS refused the new row bounds")

    def set_column_bounds(self, cols, lower, upper) -> None:
        """Bounds of columns ``cols`` (±inf: no bound), in the LP arrays and in HiGHS."""
        cols, lo, hi = _bounds(cols, lower, upper)
        self.lp.col_lo[cols], self.lp.col_hi[cols] = lo, hi
        highs.check(self.h.changeColsBounds(len(cols), cols, lo, hi),
                    "HiGHS refused the new column bounds")

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        with warnings.catch_warnings():  # a new entry changes the sparsity: rare, and fine here
            warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
            self.lp.A[int(row), int(col)] = float(value)  # the arrays stay the LP HiGHS holds
        highs.check(self.h.changeCoeff(int(row), int(col), float(value)),
                    "HiGHS refused the new coefficient")

    def solve(self) -> SolveOutcome:
        if self.refused is not None:
            return highs.refused(self.refused, self.lp)
        t0 = time.perf_counter()
        if self.time_limit_s:
            highs.set_option(self.h, "time_limit", self.h.getRunTime() + float(self.time_limit_s))
        status, text = highs.run(self.h, self.lp)
        return highs.finish(self.h, self.lp, self.model if self.load_values else None, status,
                            text, solve_s=time.perf_counter() - t0,
                            time_limit_s=self.time_limit_s)

    def run_in_this_thread(self) -> None:
        """Run HiGHS in the calling thread from now on, not in a solver thread per solve
        whose start and thread-pool reset cost as much as an LP of milliseconds (the MTFR
        batch does the same). Ctrl-C then stops between two solves, not inside one."""
        self.h.HandleUserInterrupt = False


def _bounds(index, lower, upper) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices as int32 and bounds broadcast to them, infinities as HiGHS's."""
    index = np.atleast_1d(np.asarray(index, dtype=np.int32))
    lo = np.broadcast_to(np.asarray(lower, dtype=float), index.shape).copy()
    hi = np.broadcast_to(np.asarray(upper, dtype=float), index.shape).copy()
    lo[~np.isfinite(lo)], hi[~np.isfinite(hi)] = -INF, INF
    return index, lo, hi
