"""The only package that talks to HiGHS.

A Pyomo model is compiled to matrices (:mod:`.lp`), handed to HiGHS and run
(:mod:`.highs`); every solve — plain, row generation (:mod:`.rowgen`), a sweep point
(:mod:`.persistent`), the elastic diagnosis (:mod:`.elastic`), the MTFR batch
(:mod:`.batch`) — ends in :func:`.highs.finish`: the status mapped, an "optimal" answer
checked against the rows, values and duals loaded into the model. Solver outcomes come
back as a :class:`Status`, never as an exception.
"""

from __future__ import annotations

import time

import pyomo.core as pyo

from fairshare.solver import highs
from fairshare.solver.batch import minimise_each
from fairshare.solver.elastic import Violation, elastic_solve
from fairshare.solver.highs import (ADVICE, FEASIBILITY_TOL, HighsRefused, SolveOutcome, Status,
                                    explain, highs_version, new_highs)
from fairshare.solver.lp import INF, LpArrays, compile_model, primal_infeasibility
from fairshare.solver.persistent import PersistentSolve
from fairshare.solver.rowgen import lazy_blocks, solve_generating_rows

__all__ = ["ADVICE", "FEASIBILITY_TOL", "HighsRefused", "INF", "LpArrays", "PersistentSolve",
           "SolveOutcome", "Status", "Violation", "compile_model", "elastic_solve", "explain",
           "highs_version", "minimise_each", "new_highs", "primal_infeasibility", "solve_model",
           "solve_generating_rows"]


def solve_model(model: pyo.ConcreteModel, time_limit_s: float | None = None, threads: int = 0,
                method: str = "choose") -> SolveOutcome:
    """Solve ``model`` with HiGHS (by row generation when it has lazy target rows); load
    values and duals into it when a solution exists."""
    if lazy_blocks(model):
        return solve_generating_rows(model, time_limit_s, threads, method)
    t0 = time.perf_counter()
    lp = compile_model(model)
    h, refused = highs.start(lp, time_limit_s, threads, method)
    if refused is not None:
        return refused
    t1 = time.perf_counter()
    status, text = highs.run(h, lp)
    return highs.finish(h, lp, model, status, text, build_s=t1 - t0,
                        solve_s=time.perf_counter() - t1, time_limit_s=time_limit_s)
