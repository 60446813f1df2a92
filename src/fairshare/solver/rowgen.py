"""Row generation: many receptor rows, few of them binding.

Start from the ROWGEN_FIRST rows with the largest exceedance at zero reduction; after
each solve check every row with one matrix product, add the ROWGEN_PER_ROUND most
violated, and re-solve in place (HiGHS keeps its basis: a warm start); stop when no row
is violated beyond FEASIBILITY_TOL. The optimum is the full LP's.
"""

from __future__ import annotations

import time

import numpy as np
import pyomo.core as pyo

from fairshare.solver import highs
from fairshare.solver.highs import FEASIBILITY_TOL, SolveOutcome, Status
from fairshare.solver.lp import append_rows, block_columns, compile_model

ROWGEN_FIRST = 200       # rows to start from: the largest exceedances at zero reduction
ROWGEN_PER_ROUND = 200   # most-violated rows added per round
ROWGEN_MAX_ROUNDS = 500


def lazy_blocks(model) -> list:
    """The model's matrix blocks to be solved by row generation."""
    return [b for b in getattr(model, "_fs_matrix_rows", []) if b.active and b.lazy and len(b)]


def solve_generating_rows(model: pyo.ConcreteModel, time_limit_s: float | None = None,
                          threads: int = 0, method: str = "choose") -> SolveOutcome:
    """Solve with the lazy matrix blocks added only where violated (see the module)."""
    t0 = time.perf_counter()
    lazy = lazy_blocks(model)
    lp = compile_model(model, skip_lazy=True)
    kept = {id(b): np.zeros(len(b), dtype=bool) for b in lazy}
    for b in lazy:
        excess = np.nan_to_num(b.constant - b.upper, nan=-np.inf)
        first = np.argsort(-excess, kind="stable")[:ROWGEN_FIRST]
        append_rows(lp, b, first)
        kept[id(b)][first] = True
    cols = {id(b): block_columns(lp, b) for b in lazy}
    h, refused = highs.start(lp, time_limit_s, threads, method)
    if refused is not None:
        return refused
    t1 = time.perf_counter()
    rounds, added_total, status, text = 0, 0, Status.ERROR, ""
    while rounds < ROWGEN_MAX_ROUNDS:
        # HiGHS's time_limit is checked against its run time summed over every run() of
        # this instance, so the limit set in new_highs bounds all rounds together.
        status, text = highs.run(h, lp)
        rounds += 1
        if status != Status.OPTIMAL:
            break
        added = _add_violated(h, lp, lazy, kept, cols)
        added_total += added
        if not added:
            break
    if status == Status.OPTIMAL and rounds >= ROWGEN_MAX_ROUNDS:
        status, text = Status.ITERATION_LIMIT, (
            f"row generation stopped after {rounds} rounds with rows still violated; "
            "set solver.constraint_generation: off to solve the full LP")
    out = highs.finish(h, lp, model, status, text, build_s=t1 - t0,
                       solve_s=time.perf_counter() - t1, time_limit_s=time_limit_s)
    out.size["row_generation"] = {"rounds": rounds, "rows_added": added_total,
                                  "rows_kept": int(sum(k.sum() for k in kept.values())),
                                  "rows_total": int(sum(len(b) for b in lazy))}
    return out


def _add_violated(h, lp, lazy: list, kept: dict, cols: dict) -> int:
    """Add each block's most violated rows at HiGHS's solution to the LP and to HiGHS."""
    x = np.asarray(h.getSolution().col_value)
    added = 0
    for b in lazy:
        rows = violated_rows(b, x[cols[id(b)]], kept[id(b)])
        if len(rows):
            new, lo, hi = append_rows(lp, b, rows)
            highs.check(h.addRows(len(rows), lo, hi, int(new.nnz),
                                  new.indptr[:-1].astype(np.int32), new.indices.astype(np.int32),
                                  new.data), "HiGHS refused the added target rows")
            kept[id(b)][rows] = True
            added += len(rows)
    return added


def violated_rows(block, x_block: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Rows of ``block`` violated at ``x_block`` beyond the tolerance, worst first, not kept."""
    body = block.product(x_block) + block.constant
    excess = np.maximum(body - block.upper, block.lower - body)
    tol = FEASIBILITY_TOL * np.maximum(1.0, np.abs(np.where(body > block.upper, block.upper,
                                                            block.lower)))
    bad = np.flatnonzero((excess > tol) & ~kept)
    return bad[np.argsort(-excess[bad], kind="stable")][:ROWGEN_PER_ROUND]
