"""The elastic (least-violation) solve: which rules cannot hold together, and by how much.

Every row of the components named soft gets nonnegative slack columns; the objective is
the total slack, each row's weighted by 1 / max(1, |its stated bound|) so that rows in
different units count by their relative violation. Rows that define quantities
(reductions, costs, the Gini pair differences ...) stay hard.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from fairshare.solver import highs
from fairshare.solver.highs import FEASIBILITY_TOL, HighsRefused, Status
from fairshare.solver.lp import INF, LpArrays, compile_model


@dataclass
class Violation:
    component: str        # the model component, e.g. "burden_cap"
    key: object           # the row's index in it, e.g. (0, "anyang")
    constraint: str       # both as one name, e.g. "burden_cap[0,anyang]"
    violation: float      # by how much the row is violated, in the row's model units
    bound: float          # the row's bound that was violated, as the model states it


def elastic_solve(model: pyo.ConcreteModel, soft: set[str],
                  time_limit_s: float | None = None) -> tuple[Status, list[Violation]]:
    """Minimise the weighted violation of the rows of the components named in ``soft``.

    Loads the least-violation plan's values (not duals) into ``model``. Returns the status
    and the violated rows, largest relative violation first.
    """
    lp = compile_model(model)
    names = [lp.row_key(i)[0] for i in range(lp.A.shape[0])]
    soft_rows = np.array([i for i, name in enumerate(names) if name in soft], dtype=int)
    up = soft_rows[np.isfinite(lp.row_hi[soft_rows])]   # row can be too high: slack -s
    down = soft_rows[np.isfinite(lp.row_lo[soft_rows])]  # row can be too low: slack +s
    stated = np.r_[[lp.stated_bound(i, "upper") for i in up],
                   [lp.stated_bound(i, "lower") for i in down]]
    weight = 1 / np.maximum(1.0, np.abs(stated))
    n = lp.A.shape[1]
    extra = sp.csc_array((np.r_[-np.ones(len(up)), np.ones(len(down))],
                          (np.r_[up, down], np.arange(len(up) + len(down)))),
                         shape=(lp.A.shape[0], len(up) + len(down)))
    elastic = LpArrays(A=sp.hstack([lp.A, extra], format="csc"),
                       c=np.r_[np.zeros(n), weight], offset=0.0, row_lo=lp.row_lo,
                       row_hi=lp.row_hi, col_lo=np.r_[lp.col_lo, np.zeros(len(weight))],
                       col_hi=np.r_[lp.col_hi, np.full(len(weight), INF)],
                       columns=lp.columns, rows=lp.rows, blocks=lp.blocks)
    try:
        h = highs.new_highs(time_limit_s)
        highs.pass_lp(h, elastic)
    except HighsRefused:
        return Status.ERROR, []
    status, text = highs.run(h)
    outcome = highs.finish(h, elastic, None, status, text, time_limit_s=time_limit_s)
    if outcome.status != Status.OPTIMAL:
        return outcome.status, []
    highs.load(model, lp, outcome.x[:n], None)
    slack = outcome.x[n:]
    rows = np.r_[up, down]
    found = []
    for i in np.flatnonzero(slack > FEASIBILITY_TOL):
        component, key = lp.row_key(rows[i])
        found.append((slack[i] * weight[i],
                      Violation(component, key, lp.row_name(rows[i]), float(slack[i]),
                                float(stated[i]))))
    return Status.OPTIMAL, [v for _, v in sorted(found, key=lambda t: -t[0])]
