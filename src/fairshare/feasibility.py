r"""MTFR: the maximum technically feasible reduction at each receptor.

For each metric q and receptor r, the lowest concentration reachable with the
measures alone (bounds, exclusivity groups, removal-share limits; no targets,
caps or fairness rules):

.. math::

    \mathrm{MTFR}_{q,r} = C^0_{q,r} - \max_x \sum_{s,m} W_{q,r,s,m} x_{s,m},\quad
    W_{q,r,s,m} = \sum_p T_{q,r,s,p}\, E_{s,k(m),p}\, \mathrm{eff}_{m,p}

It bounds every target (a target below it is impossible), defines gap-closure
targets, and is the first step of explaining an infeasible scenario. Because T
may be negative (NOx titration of O3), the best plan for one receptor need not
apply every measure, hence an LP per receptor rather than "all measures on".
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from fairshare.solver import minimise_each


# Above this many (receptor x column) LP entries the results table leaves mtfr_ugm3 empty
# rather than spend minutes on it; `fairshare mtfr` computes it in any case.
REPORT_BUDGET = 2_000_000


def compute_mtfr(inst, metric: np.ndarray, receptor: np.ndarray) -> np.ndarray:
    """MTFR in µg/m³ of each (metric[i], receptor[i]) pair: one LP per pair, warm-started."""
    from fairshare.model.measures import technology_rows

    d = inst.data
    out = np.full(len(metric), np.nan)
    if len(metric) == 0:
        return out
    ex, _, rm, _ = technology_rows(inst)
    A = sp.vstack([ex, rm], format="csr")
    col_hi = d.max_application.ravel()
    for q in np.unique(metric):
        pick = np.flatnonzero(metric == q)
        T = d.transport_ugm3_per_kt[q, receptor[pick]]  # [n, S, P]
        if not T.any():
            continue
        W = np.einsum("rsp,smp->rsm", T, inst.removal_kt).reshape(len(pick), -1)  # µg/m³ at x=1
        best = -minimise_each(A, np.ones(A.shape[0]), col_hi, -W)
        out[pick] = np.nan_to_num(d.baseline_ugm3[q, receptor[pick]]) - best
    return out
