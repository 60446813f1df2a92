"""Many objectives over one polytope (MTFR): one HiGHS instance, warm-started as the
cost changes."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from fairshare.solver import highs
from fairshare.solver.highs import Status
from fairshare.solver.lp import INF, LpArrays


def minimise_each(A: sp.csr_array, row_hi: np.ndarray, col_hi: np.ndarray,
                  costs: np.ndarray) -> np.ndarray:
    """min c_i·x s.t. A x ≤ row_hi, 0 ≤ x ≤ col_hi, for each row c_i of ``costs``.

    Returns the optimal objective per row (nan where not optimal, or where the answer
    fails the feasibility check of :func:`highs.finish`).
    """
    h = highs.new_highs(interruptible=False)
    n = A.shape[1]
    lp = LpArrays(A=sp.csc_array(A), c=np.zeros(n), offset=0.0,
                  row_lo=np.full(A.shape[0], -INF), row_hi=np.asarray(row_hi, dtype=float),
                  col_lo=np.zeros(n), col_hi=np.asarray(col_hi, dtype=float), columns=[], rows=[])
    out = np.full(costs.shape[0], np.nan)
    try:
        highs.pass_lp(h, lp)
    except highs.HighsRefused:
        return out
    idx = np.arange(n, dtype=np.int32)
    for i, c in enumerate(costs):
        lp.c = np.asarray(c, dtype=float)
        highs.check(h.changeColsCost(n, idx, lp.c), "HiGHS refused the MTFR objective")
        status, text = highs.run(h)
        outcome = highs.finish(h, lp, None, status, text)
        if outcome.status == Status.OPTIMAL:
            out[i] = outcome.objective
    return out
