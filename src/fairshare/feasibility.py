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

MTFR depends on the region data alone, so one :class:`MtfrTable` serves a scenario and
all its variants (least-cost twin, sweep points): each pair is computed once, when first
asked for, in one batch of warm-started LPs.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# Above this many (receptor x column) LP entries the results table leaves mtfr_ugm3 empty
# rather than spend minutes on it; `fairshare mtfr` computes it in any case.
REPORT_BUDGET = 2_000_000


class MtfrTable:
    """MTFR in µg/m³ of a region's (metric, receptor) pairs, computed on demand."""

    def __init__(self, data):
        self.data = data
        self.known_ugm3 = np.full((len(data.metrics), len(data.receptors)), np.nan)
        self._done = np.zeros(self.known_ugm3.shape, dtype=bool)
        # metrics whose MTFR is taken on their response surfaces (docs/ozone.md): those a
        # scenario plans on them (a concentration target); the others on the linear rows
        self.surface_metrics: set[int] = set()

    def use_surfaces(self, q: int) -> None:
        """Take metric q's MTFR on its response surfaces from now on (a target on it plans
        on them): a small MIP per receptor, paid only by the scenarios that need it."""
        if q not in self.surface_metrics:
            self.surface_metrics.add(int(q))
            self._done[q] = False

    def values(self, metric, receptor) -> np.ndarray:
        """MTFR of the pairs (metric[i], receptor[i]), computing the missing ones in one batch."""
        metric = np.asarray(metric, dtype=int)
        receptor = np.asarray(receptor, dtype=int)
        missing = ~self._done[metric, receptor]
        if missing.any():
            q, r = metric[missing], receptor[missing]
            pairs = np.unique(np.stack([q, r]), axis=1)
            on = (self.surface_metrics,) if self.surface_metrics else ()  # response surfaces
            self.known_ugm3[pairs[0], pairs[1]] = compute_mtfr(self.data, pairs[0], pairs[1], *on)
            self._done[pairs[0], pairs[1]] = True
        return self.known_ugm3[metric, receptor]

    def all(self) -> np.ndarray:
        """[Q, R] MTFR of every pair (nan for a metric without transport coefficients)."""
        Q, R = self.known_ugm3.shape
        q, r = np.meshgrid(np.arange(Q), np.arange(R), indexing="ij")
        return self.values(q.ravel(), r.ravel()).reshape(Q, R)

    def affordable(self, n_pairs: int) -> bool:
        """Whether computing ``n_pairs`` MTFR LPs is cheap enough for a results table."""
        return n_pairs * self.data.max_application.size <= REPORT_BUDGET

    def for_report(self, metric: np.ndarray, receptor: np.ndarray) -> np.ndarray:
        """[Q, R] for the results table: every pair on a regional scale, else the given
        (targeted) pairs if affordable, and whatever is already known."""
        Q, R = self.known_ugm3.shape
        if self.affordable(Q * R):
            return self.all()
        if self.affordable(len(metric)):
            self.values(metric, receptor)
        return np.where(self._done, self.known_ugm3, np.nan)


def compute_mtfr(data, metric: np.ndarray, receptor: np.ndarray,
                 surface_metrics=frozenset()) -> np.ndarray:
    """MTFR in µg/m³ of each (metric[i], receptor[i]) pair: one LP per pair, warm-started
    (a metric of ``surface_metrics`` with response surfaces: a small MIP per receptor on
    them, docs/ozone.md)."""
    from fairshare.model.measures import removal_kt, technology_rows
    from fairshare.solver import minimise_each

    out = np.full(len(metric), np.nan)
    if len(metric) == 0:
        return out
    ex, _, rm, _ = technology_rows(data)
    A = sp.vstack([ex, rm], format="csr")
    col_hi = data.max_application.ravel()
    removal = removal_kt(data)
    for q in np.unique(metric):
        if not data.transport_ugm3_per_kt[q].any():
            continue
        every = np.flatnonzero(metric == q)
        surfaces = getattr(data, "surfaces", None)  # response surfaces: a MIP per receptor
        if surfaces is not None and q in surfaces.metrics() and int(q) in surface_metrics:
            from fairshare.model.surfaces import surface_mtfr

            on = np.array([(int(q), int(r)) in surfaces.by_pair for r in receptor[every]], bool)
            out[every[on]] = surface_mtfr(data, int(q), receptor[every[on]])
            every = every[~on]
        for start in range(0, len(every), CHUNK_RECEPTORS):
            pick = every[start:start + CHUNK_RECEPTORS]
            T = data.transport_ugm3_per_kt[q, receptor[pick]]  # [n, S, P]
            W = np.einsum("rsp,smp->rsm", T, removal).reshape(len(pick), -1)  # µg/m³ at x=1
            best = -minimise_each(A, np.ones(A.shape[0]), col_hi, -W)
            out[pick] = np.nan_to_num(data.baseline_ugm3[q, receptor[pick]]) - best
    return out


CHUNK_RECEPTORS = 1000  # receptors per batch: W is [n, S*M] floats (340 cities: 0.2 GB)
