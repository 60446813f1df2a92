r"""The rows of response surfaces (:mod:`fairshare.surfaces`): a metric's change at a
receptor as a piecewise-linear function of the precursor cut shares, exact on the grid's
triangulation (docs/ozone.md, docs/formulation.md).

For every surface g (an n x m grid of cut shares with changes z[i, j], µg/m³):

.. math::

    \sum_{ij} \lambda_{g,ij} = 1, \qquad
    \sum_{ij} \lambda_{g,ij}\, \mathrm{nox}_i = u_{g,\mathrm{NOx}}, \qquad
    \sum_{ij} \lambda_{g,ij}\, \mathrm{voc}_j = u_{g,\mathrm{VOC}}, \qquad
    \mathrm{change}_g = \sum_{ij} z_{ij} \lambda_{g,ij}

with ``u = weights @ reduction`` (a share of the city's, or of the transport-weighted other
cities', emissions). Where the surface is convex, these rows alone are exact for a target
``C0 + sum_g change_g <= L`` (the LP picks the convex envelope, which is the surface).
Otherwise the weights must lie on one triangle: three SOS2 conditions, each by the
convex-combination formulation with one binary per interval, on the marginal sums of
lambda over the NOx index i, the VOC index j and the diagonal index i - j (the triangles
split each cell by the diagonal from (i, j) to (i+1, j+1), so a triangle is exactly two
consecutive values of each):

.. math::

    \sum_t y^a_t = 1,\quad \sum_j \lambda_{ij} \le y^a_{i-1} + y^a_i \;\forall i
    \qquad (\text{and alike for } j \text{ and } d = i - j)

(n-1) + (m-1) + (n+m-2) binaries per non-convex surface; or, with ``ENCODING = "log"``,
the independent-branching form of Vielma and Nemhauser (ceil(log2 K) Gray-coded binaries
for K intervals). Only the vertices a plan can reach get a weight (:func:`reachable_block`).
The binaries enter lazily (:class:`LazyBinaries`): every non-convex surface starts relaxed
to its convex envelope, and a target pair's binaries are restored only when a relaxed
optimum violates that target on the surfaces themselves (docs/ozone.md, "Exact, lazily").

=========================  ==========================================================
``surface_weight[k]``      lambda, the weights of every surface's grid vertices (0..1)
``surface_choice[k]``      y, the interval binaries of the non-convex surfaces
``surface_def``            the rows above (a matrix block; hard: never relaxed)
``aq_target[q, r]``        for a metric with surfaces: ``C0 + sum_g z_g . lambda_g <= L``
=========================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import highspy
import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from fairshare.surfaces import CONVEX_TOL, _is_convex

INF = np.inf
# The SOS2 encoding by default: measured on the co-control scenario (bench/bench_ozone.py,
# docs/ozone.md), one binary per interval closes the lazy rounds faster than the
# logarithmic form (fewer binaries, but weaker branching there).
ENCODING = "interval"


@dataclass
class SurfaceRows:
    """The rows of some surfaces over columns [reductions (S*P) | lambda | binaries]."""

    A: sp.csr_array
    lower: np.ndarray
    upper: np.ndarray
    index: list
    n_red: int
    n_lam: int
    n_bin: int
    grids: list              # grid positions, in the order of their lambda blocks
    lam_start: list          # first lambda column (after the reductions) of each grid
    binary_grids: list       # grid positions that got binaries
    lam_ub: np.ndarray = None  # [n_lam] upper bounds of the weights (1)
    bin_ub: np.ndarray = None  # [n_bin] upper bounds of the binaries (1)
    sub: list = None         # per grid: (n, m), the vertices a plan can reach (a corner block)
    encoding: str = "interval"  # how the SOS2 conditions are written (see surface_rows)
    # per grid with binaries: (lambda start, n, m, [(axis, first binary, codes)]) to set a start
    codes: list = None
    binary_rows: dict = None  # grid -> positions of its rows that hold binaries

    def value_rows(self, surfaces, pairs: list[tuple[int, int]]) -> sp.csr_array:
        """[len(pairs), n_lam]: sum of z . lambda over the surfaces of each (q, r) pair."""
        rows, cols, vals = [], [], []
        where = {g: k for k, g in enumerate(self.grids)}
        for i, pair in enumerate(pairs):
            for g in surfaces.by_pair.get(pair, []):
                if g not in where:
                    continue
                n, m = self.sub[where[g]]
                z = surfaces.grids[g].z[:n, :m].ravel()
                start = self.lam_start[where[g]]
                rows += [i] * len(z)
                cols += list(range(start, start + len(z)))
                vals += z.tolist()
        return sp.csr_array((vals, (rows, cols)), shape=(len(pairs), self.n_lam))


def reachable_cut(data) -> np.ndarray:
    """[S, P] an upper bound of each city's reduction (kt/yr): per sector, the emission times
    the largest removal share its measures can stack (exclusivity ignored: still a bound)."""
    E_kt = data.emission_t / 1000.0                      # [S, K, P]
    stack = np.zeros_like(E_kt)
    for k in range(len(data.sectors)):
        in_k = data.measure_sector == k
        stack[:, k, :] = np.minimum(1.0, data.max_application[:, in_k] @ data.efficiency[in_k])
    return (E_kt * stack).sum(axis=1)


def reachable_block(grid, reach: np.ndarray | None, p_index) -> tuple[int, int]:
    """(n, m): the grid's vertices a plan can use, per axis up to the first at or beyond
    the largest reachable cut share (``reach``: [S, P] kt/yr, :func:`reachable_cut`; None:
    every vertex). The interpolant on that corner block is the surface wherever a plan can
    go, so the rows and the convexity test need no more."""
    out = []
    for a, coord in enumerate((grid.nox, grid.voc)):
        top = 1.0 if reach is None else float(grid.weights[a] @ reach[:, p_index[a]])
        first_past = int(np.searchsorted(coord, top - 1e-12))
        out.append(min(first_past, len(coord) - 1) + 1)
    return out[0], out[1]


def gray_codes(k: int) -> np.ndarray:
    """[k, bits] the first k codes of the reflected binary Gray code (consecutive codes
    differ in one bit); bits = ceil(log2 k) (0 for k = 1)."""
    bits = max(0, int(np.ceil(np.log2(k)))) if k > 1 else 0
    t = np.arange(k)
    g = t ^ (t >> 1)
    return ((g[:, None] >> np.arange(bits)[None, :]) & 1).astype(int)


def surface_rows(surfaces, grid_ids: list[int], S: int, P: int,
                 binaries: str = "auto", reach: np.ndarray | None = None,
                 encoding: str | None = None) -> SurfaceRows:
    """The definition rows of the surfaces ``grid_ids`` (see the module). ``binaries``:
    "auto" (only surfaces not convex where plans can go), "all" or "none" (the LP
    relaxation). ``reach`` ([S, P] kt/yr, :func:`reachable_cut`): only the vertices up to
    the first one at or past the largest reachable cut share get a weight (the others
    would be 0 in every plan), and convexity is tested on that block. ``encoding`` of the
    three SOS2 conditions (marginals over i, j and i - j): "log", the independent-branching
    form of Vielma and Nemhauser (ceil(log2 K) binaries for K intervals, Gray-coded), or
    "interval" (one binary per interval)."""
    encoding = encoding or ENCODING
    n_red = S * P
    pN, pV = surfaces.p_index
    rows, cols, vals, lo, hi, index = [], [], [], [], [], []
    lam_start, binary_grids, sub, codes_out = [], [], [], []
    blocks = [reachable_block(surfaces.grids[g], reach, (pN, pV)) for g in grid_ids]
    lam_total = sum(n * m for n, m in blocks)
    n_lam, n_bin = 0, 0
    bin_entries = []  # (row, binary offset, coefficient): placed once n_lam is known
    binary_rows = {}  # grid -> its rows that hold binaries (positions in the block)

    def row(entries, lower, upper, label):
        r = len(lo)
        for c, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        lo.append(lower)
        hi.append(upper)
        index.append(label)
        return r

    for g, (n, m) in zip(grid_ids, blocks):
        grid = surfaces.grids[g]
        nox, voc, z = grid.nox[:n], grid.voc[:m], grid.z[:n, :m]
        base = n_red + n_lam
        lam_start.append(n_lam)
        sub.append((n, m))
        lam = base + np.arange(n * m).reshape(n, m)
        row([(c, 1.0) for c in lam.ravel()], 1.0, 1.0, (g, "convexity"))
        for a, (p, coord) in enumerate(((pN, nox), (pV, voc))):
            entries = [(int(lam[i, j]), float(coord[i if a == 0 else j]))
                       for i in range(n) for j in range(m) if coord[i if a == 0 else j] != 0]
            entries += [(s * P + p, -float(w)) for s, w in enumerate(grid.weights[a]) if w]
            row(entries, 0.0, 0.0, (g, "link_" + ("nox" if a == 0 else "voc")))
        n_lam += n * m
        convex = _block_convex(grid, n, m)
        need = binaries == "all" or (binaries == "auto" and not convex)
        if not need or n * m <= 2:  # one vertex or one edge: the weights are exact
            continue
        binary_grids.append(g)
        groups = {"nox": [[(i, j) for j in range(m)] for i in range(n)],
                  "voc": [[(i, j) for i in range(n)] for j in range(m)],
                  "diag": [[(i, j) for i in range(n) for j in range(m) if i - j + m - 1 == k]
                           for k in range(n + m - 1)]}
        if n == 1 or m == 1:  # a line: one SOS2 along it
            groups = {"nox": groups["nox"]} if m == 1 else {"voc": groups["voc"]}
        grid_codes = []
        first_row = len(lo)
        for name, marginal in groups.items():
            n_int = len(marginal) - 1
            if encoding == "interval":
                first = n_bin
                r = row([], 1.0, 1.0, (g, f"choose_{name}"))
                bin_entries += [(r, first + k, 1.0) for k in range(n_int)]
                for t, cells in enumerate(marginal):  # marginal t <= y[t-1] + y[t]
                    r = row([(int(lam[i, j]), 1.0) for i, j in cells], -INF, 0.0,
                            (g, f"sos2_{name}", t))
                    bin_entries += [(r, first + k, -1.0) for k in (t - 1, t) if 0 <= k < n_int]
                grid_codes.append((name, first, np.eye(n_int, dtype=int)))
                n_bin += n_int
                continue
            code = gray_codes(n_int)        # [intervals, bits]; vertex t in intervals t-1, t
            bits = code.shape[1]
            first = n_bin
            for b in range(bits):
                ones, zeros = [], []
                for t, cells in enumerate(marginal):
                    near = [code[k, b] for k in (t - 1, t) if 0 <= k < n_int]
                    if all(c == 1 for c in near):
                        ones += cells
                    elif all(c == 0 for c in near):
                        zeros += cells
                if ones:    # sum of lambda where every interval has bit b = 1 <= y_b
                    r = row([(int(lam[i, j]), 1.0) for i, j in ones], -INF, 0.0,
                            (g, f"log_{name}", b, 1))
                    bin_entries.append((r, first + b, -1.0))
                if zeros:   # ... where every interval has bit b = 0 <= 1 - y_b
                    r = row([(int(lam[i, j]), 1.0) for i, j in zeros], -INF, 1.0,
                            (g, f"log_{name}", b, 0))
                    bin_entries.append((r, first + b, 1.0))
            grid_codes.append((name, first, code))
            n_bin += bits
        codes_out.append((g, lam_start[-1], n, m, grid_codes))
        binary_rows[g] = list(range(first_row, len(lo)))
    bin_base = n_red + lam_total
    for r, k, v in bin_entries:
        rows.append(r), cols.append(bin_base + k), vals.append(v)
    A = sp.csr_array((vals, (rows, cols)), shape=(len(lo), n_red + n_lam + n_bin))
    return SurfaceRows(A, np.array(lo, float), np.array(hi, float), index, n_red, n_lam, n_bin,
                       list(grid_ids), lam_start, binary_grids, np.ones(n_lam), np.ones(n_bin),
                       sub, encoding, codes_out, binary_rows)


def _block_convex(grid, n: int, m: int) -> bool:
    """Whether the surface's interpolant on its reachable corner block (n x m) is convex."""
    if (n, m) == grid.shape:
        return grid.convex
    if n < 2 or m < 2:  # a line: convex iff its slopes do not fall
        z = grid.z[:n, :m].ravel()
        x = grid.nox[:n] if m == 1 else grid.voc[:m]
        slope = np.diff(z) / np.diff(x) if len(z) > 1 else np.zeros(0)
        return bool(np.all(np.diff(slope) >= -CONVEX_TOL * max(1.0, float(np.abs(z).max(initial=0)))))
    return _is_convex(grid.nox[:n], grid.voc[:m], grid.z[:n, :m])


def start_values(rows: SurfaceRows, surfaces, dE_kt: np.ndarray) -> np.ndarray:
    """[n_lam + n_bin] the weights and binaries of the plan with reductions dE (kt/yr) on
    the surfaces' triangulation: each surface's point located on its reachable block, its
    triangle's barycentric weights and the binaries that choose that triangle (a MIP
    start: the plan's own reductions make every link row hold)."""
    out = np.zeros(rows.n_lam + rows.n_bin)
    by_grid = {g: (start, n, m, gc) for g, start, n, m, gc in rows.codes}
    for k, g in enumerate(rows.grids):
        grid = surfaces.grids[g]
        n, m = rows.sub[k]
        u = np.array([grid.weights[a] @ dE_kt[:, surfaces.p_index[a]] for a in range(2)])
        u = np.clip(u, 0.0, [grid.nox[n - 1], grid.voc[m - 1]])
        verts = _triangle(grid.nox[:n], grid.voc[:m], u)
        for (i, j), w in verts:
            out[rows.lam_start[k] + i * m + j] += w
        if g not in by_grid:
            continue
        tri = [v for v, _ in verts]
        for name, first, code in by_grid[g][3]:
            # the interval of this marginal that holds every vertex of the triangle
            idx = {"nox": [i for i, _ in tri], "voc": [j for _, j in tri],
                   "diag": [i - j + m - 1 for i, j in tri]}[name]
            t = min(min(idx), code.shape[0] - 1)
            if rows.encoding == "interval":
                out[rows.n_lam + first + t] = 1.0
            else:
                out[rows.n_lam + first: rows.n_lam + first + code.shape[1]] = code[t]
    return out


def _triangle(nox: np.ndarray, voc: np.ndarray, u) -> list:
    """[((i, j), weight)] the vertices of the triangle holding u and its barycentric
    weights (lower triangle: (i, j), (i+1, j), (i+1, j+1); upper: (i, j), (i, j+1),
    (i+1, j+1)); a line or a point when the block is one vertex wide."""
    n, m = len(nox), len(voc)
    if n == 1 and m == 1:
        return [((0, 0), 1.0)]
    if n == 1 or m == 1:
        coord, x = (voc, u[1]) if n == 1 else (nox, u[0])
        t = int(np.clip(np.searchsorted(coord, x, side="right") - 1, 0, len(coord) - 2))
        a = (x - coord[t]) / (coord[t + 1] - coord[t])
        at = (lambda k: (0, k)) if n == 1 else (lambda k: (k, 0))
        return [(at(t), 1 - a), (at(t + 1), a)]
    i = int(np.clip(np.searchsorted(nox, u[0], side="right") - 1, 0, n - 2))
    j = int(np.clip(np.searchsorted(voc, u[1], side="right") - 1, 0, m - 2))
    a = (u[0] - nox[i]) / (nox[i + 1] - nox[i])
    b = (u[1] - voc[j]) / (voc[j + 1] - voc[j])
    if b <= a:
        return [((i, j), 1 - a), ((i + 1, j), a - b), ((i + 1, j + 1), b)]
    return [((i, j), 1 - b), ((i, j + 1), b - a), ((i + 1, j + 1), a)]


# --- in the model ----------------------------------------------------------------------------------

def used_metrics(inst) -> set[int]:
    """The metrics planned on their surfaces: those with surfaces that the scenario targets
    with a concentration target (a scenario without such a target keeps the linear rows)."""
    surfaces = getattr(inst.data, "surfaces", None)
    if surfaces is None:
        return set()
    return surfaces.metrics() & {int(q) for q in inst.aq.metric}


def targeted_grids(inst) -> list[int]:
    """The surfaces of the targeted (metric, receptor) pairs of metrics planned on them."""
    surfaces, used = inst.data.surfaces, used_metrics(inst)
    out = []
    for q, r in zip(inst.aq.metric.tolist(), inst.aq.receptor.tolist()):
        if q in used:
            out += surfaces.by_pair.get((q, r), [])
    return out


def add_surface_target_rows(m, inst, T_sub, reductions: list):
    """``surface_weight``, ``surface_choice`` and ``surface_def`` for the targeted pairs of
    surface metrics; returns (matrix, variables) of ``aq_target`` with those pairs' rows over
    the weights instead of the transport rows (None when no target is on a surface)."""
    from fairshare.model._linear import MatrixRows, attach_matrix_rows

    grids = targeted_grids(inst)
    if not grids:
        return None
    d = inst.data
    S, P = len(d.cities), len(d.pollutants)
    rows = surface_rows(d.surfaces, grids, S, P, reach=reachable_cut(d))
    m.surface_weight = pyo.Var(range(rows.n_lam), bounds=lambda _m, k: (0.0, rows.lam_ub[k]),
                               doc="weights of the surfaces' grid vertices (lambda)")
    m.surface_choice = pyo.Var(range(rows.n_bin), domain=pyo.Binary,
                               bounds=lambda _m, k: (0.0, rows.bin_ub[k]),
                               doc="interval binaries of the non-convex surfaces")
    variables = reductions + list(m.surface_weight.values()) + list(m.surface_choice.values())
    attach_matrix_rows(m, MatrixRows("surface_def", rows.index, rows.A, variables, 0.0,
                                     lower=rows.lower, upper=rows.upper,
                                     doc="response surfaces: weights, links, one triangle each"))
    m._fs_mip_rel_gap = float(getattr(inst.scenario.solver, "mip_rel_gap", 1e-6))
    m._fs_surface_rows = rows
    used = used_metrics(inst)
    aq = inst.aq
    if rows.n_bin:
        m._fs_lazy_binaries = LazyBinaries(m, rows, d.surfaces, reductions,
                                           list(zip(aq.metric.tolist(), aq.receptor.tolist())),
                                           (S, P))
    on_surface = np.array([q in used for q in aq.metric.tolist()], dtype=bool)
    pairs = list(zip(aq.metric.tolist(), aq.receptor.tolist()))
    value = rows.value_rows(d.surfaces, pairs)  # [n, n_lam]
    linear = sp.csr_array(np.where(on_surface[:, None], 0.0, np.asarray(T_sub)))
    # aq_target rows are scale * matrix with scale -1 (C = C0 - T dE): the surface's +z
    # enters as -z.
    matrix = sp.hstack([linear, -value], format="csr")
    return matrix, reductions + list(m.surface_weight.values())


class LazyBinaries:
    """The surfaces' binaries brought in only where a relaxed solution needs them
    (docs/ozone.md, "Exact, lazily"). Bound to a compiled LP (:meth:`bind`), it first
    relaxes every non-convex surface to its convex envelope (:meth:`relax`: its binaries
    fixed at 0, the rows that hold them free), then tells the solver
    (:func:`fairshare.solver.highs.run`) what to restore after each optimal run: the
    binaries and rows of the targeted pairs whose ``aq_target`` row the plan violates when
    each surface is evaluated exactly at the plan's cut shares (the weights replaced by
    the plan's own barycentric weights). None left: the relaxation's optimum is feasible,
    hence optimal. A pair once restored stays so (a sweep's later points too)."""

    def __init__(self, model, rows: SurfaceRows, surfaces, reductions: list, pairs: list,
                 shape: tuple[int, int]):
        self.model, self.rows, self.surfaces, self.shape = model, rows, surfaces, shape
        self.reductions, self.pairs = reductions, pairs
        self.rounds = 1
        self.restored: set[int] = set()  # pair positions with their binaries in the model
        where = {g: k for k, g in enumerate(rows.grids)}
        codes = {g: gc for g, _, _, _, gc in rows.codes}
        self._pair_bins, self._pair_rows = [], []  # positions in surface_choice / surface_def
        for pair in pairs:
            bins, brows = [], []
            for g in surfaces.by_pair.get(pair, []):
                if g not in where or g not in codes:
                    continue
                for _, start, code in codes[g]:
                    bins += list(range(start, start + code.shape[1]))
                brows += rows.binary_rows[g]
            self._pair_bins.append(np.array(bins, dtype=int))
            self._pair_rows.append(np.array(brows, dtype=int))
        self.columns = np.zeros(0, dtype=int)

    def bind(self, lp) -> "LazyBinaries | None":
        """Map the model's columns and rows to ``lp``; None when the LP does not hold every
        target row (row generation: then every binary is in the model from the start)."""
        aq, sdef = getattr(self.model, "aq_target", None), getattr(self.model, "surface_def", None)
        first = {id(b): f for b, f in lp.blocks}
        if aq is None or sdef is None or id(aq) not in first or id(sdef) not in first \
                or len(aq) != len(self.pairs):
            return None
        col = {id(v): j for j, v in enumerate(lp.columns)}
        try:
            self._red = np.array([col[id(v)] for v in self.reductions])
            self._lam = np.array([col[id(v)] for v in self.model.surface_weight.values()])
            self._bin = np.array([col[id(v)] for v in self.model.surface_choice.values()])
        except KeyError:
            return None
        if not all(v.is_integer() for v in self.model.surface_choice.values()):
            return None  # binaries made continuous by the caller: the LP relaxation asked for
        self._aq_rows = first[id(aq)] + np.arange(len(self.pairs))
        self._def_first = first[id(sdef)]
        self._A_aq = sp.csr_array(lp.A)[self._aq_rows]
        self.columns = self._bin
        return self

    def _parts(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return self._bin[self._pair_bins[i]], self._def_first + self._pair_rows[i]

    def relax(self, lp) -> None:
        """In ``lp`` (before HiGHS gets it): the binaries of the pairs not restored fixed at
        0 and continuous, the rows that hold them free. The true bounds are kept."""
        self._true = {}
        for i in range(len(self.pairs)):
            if i in self.restored:
                continue
            cols, rows = self._parts(i)
            self._true[i] = (lp.col_hi[cols].copy(), lp.row_lo[rows].copy(), lp.row_hi[rows].copy())
            lp.col_hi[cols] = 0.0
            lp.row_lo[rows], lp.row_hi[rows] = -np.inf, np.inf

    def active_columns(self) -> np.ndarray:
        return np.concatenate([self._parts(i)[0] for i in sorted(self.restored)] or
                              [np.zeros(0, dtype=int)]).astype(int)

    def violated(self, x: np.ndarray, lp) -> np.ndarray:
        """Positions of the target pairs whose row ``x`` violates on the surfaces."""
        dE = x[self._red].reshape(self.shape)
        exact = x.copy()
        exact[self._lam] = start_values(self.rows, self.surfaces, dE)[:self.rows.n_lam]
        rows = self._aq_rows
        act = np.asarray(self._A_aq @ exact).ravel()
        tol = 1e-6 * np.maximum(1.0, np.abs(np.nan_to_num(lp.row_hi[rows], posinf=0.0)))
        return np.flatnonzero((act > lp.row_hi[rows] + tol) | (act < lp.row_lo[rows] - tol))

    def needed(self, x: np.ndarray, lp) -> list[tuple]:
        """What to restore for the plan ``x``: [(binary columns, their upper bounds, rows,
        their lower and upper bounds)] of each violated pair not restored yet (marked
        restored); empty: ``x`` meets every target on the surfaces themselves."""
        out = []
        for i in self.violated(x, lp).tolist():
            if i in self.restored or i not in self._true or not len(self._pair_bins[i]):
                continue
            cols, rows = self._parts(i)
            col_hi, row_lo, row_hi = self._true.pop(i)
            self.restored.add(i)
            out.append((cols, col_hi, rows, row_lo, row_hi))
        return out

    def report(self) -> dict:
        return {"rounds": int(self.rounds), "binaries_in_model": int(len(self._bin)),
                "pairs_with_binaries": int(len(self.restored)),
                "lazy": ("the non-convex surfaces start relaxed to their convex envelope; "
                         "binaries are added, round by round, only for the targets a relaxed "
                         "optimum misses on the surfaces themselves (exact: a relaxation's "
                         "optimum that is feasible is optimal)")}


# --- titration, for the diagnosis of an infeasible target ------------------------------------------

def titration(inst, q: int, r: int) -> dict | None:
    """Whether the (local, else first) surface of (q, r) is NOx-titrated at the baseline:
    cutting NOx alone first raises the metric. {"cause": "NOx titration", the largest rise
    along the NOx axis (VOC uncut) and the NOx cut share where it peaks (the ridge)}; None
    when the pair has no surface or is not titrated."""
    surfaces = getattr(inst.data, "surfaces", None)
    if surfaces is None or (q, r) not in surfaces.by_pair:
        return None
    grids = [surfaces.grids[g] for g in surfaces.by_pair[(q, r)]]
    grid = next((g for g in grids if g.part == "local"), grids[0])
    if grid.gradient((0.0, 0.0))[0] <= 1e-9:
        return None
    along = grid.z[:, 0]
    k = int(np.argmax(along))
    return {"cause": "NOx titration", "part": grid.part, "max_rise_ugm3": float(along[k]),
            "ridge_nox_cut_share": float(grid.nox[k])}


def titration_note(inst, q: int, r: int) -> str:
    """A sentence for a relaxed target row at a titrated receptor ('' otherwise)."""
    t = titration(inst, q, r)
    if t is None:
        return ""
    where = "its own" if t["part"] == "local" else "the region's"
    return (f"; NOx titration: the receptor is VOC-limited, cutting {where} NOx alone raises "
            f"{inst.data.metrics[q]} by up to {t['max_rise_ugm3']:.3g} µg/m³ (ridge at a "
            f"{100 * t['ridge_nox_cut_share']:.0f}% NOx cut), so only VOC cuts and NOx cuts "
            "past the ridge lower it")


# --- MTFR on the surfaces -------------------------------------------------------------------------

def reduction_matrix(data) -> sp.csr_array:
    """[S*P, S*M]: reduction[s, p] (kt/yr) = sum_m removal_kt[s, m, p] x[s, m]."""
    from fairshare.model.measures import removal_kt

    rem = removal_kt(data)  # [S, M, P]
    S, M, P = rem.shape
    s, m, p = np.nonzero(rem)
    return sp.csr_array((rem[s, m, p], (s * P + p, s * M + m)), shape=(S * P, S * M))


def surface_mtfr(data, q: int, receptors: np.ndarray) -> np.ndarray:
    """MTFR (µg/m³) of metric q at ``receptors`` on their surfaces: min C0 + the sum of its
    surfaces over the measures' bounds, exclusivity and removal limits. The surfaces of a
    receptor read disjoint cities (local: its own; regional: the others) and every
    technology row is one city's, so the minimum is the sum of each surface's own minimum:
    per surface, the LP relaxation (its convex envelope) when the surface takes the
    relaxation's value at the relaxation's plan, else a small MIP started from that plan."""
    from fairshare.model.measures import technology_rows

    surfaces = data.surfaces
    S, P, M = len(data.cities), len(data.pollutants), len(data.measures)
    ex, _, rm, _ = technology_rows(data)
    tech = sp.csc_array(sp.vstack([ex, rm], format="csr"))
    R = sp.csc_array(reduction_matrix(data))
    reach = reachable_cut(data)
    out = np.full(len(receptors), np.nan)
    for k, r in enumerate(np.asarray(receptors, dtype=int).tolist()):
        grids = surfaces.by_pair.get((q, r), [])
        if not grids:
            continue
        total = float(np.nan_to_num(data.baseline_ugm3[q, r]))
        for g in grids:
            total += _surface_min(surfaces, g, tech, R, reach, (S, P, M),
                                  data.max_application.ravel())
        out[k] = total
    return out


def _surface_min(surfaces, g: int, tech, R, reach, shape, col_hi) -> float:
    """The least value of surface g over the plans of the cities it reads (nan when HiGHS
    cannot tell)."""
    from fairshare.solver import highs
    from fairshare.solver.highs import Status
    from fairshare.solver.lp import INF as HINF, LpArrays

    S, P, M = shape
    grid = surfaces.grids[g]
    cities = np.flatnonzero(grid.weights.any(axis=0))
    cols = (cities[:, None] * M + np.arange(M)[None, :]).ravel()
    T = tech[:, cols]
    T = sp.csr_array(T)[np.flatnonzero(np.diff(sp.csr_array(T).indptr))]
    Rg = R[:, cols]
    rows = surface_rows(surfaces, [g], S, P, reach=reach)
    A_red, A_rest = rows.A[:, :rows.n_red], rows.A[:, rows.n_red:]
    n_rest, nx = rows.n_lam + rows.n_bin, len(cols)
    A = sp.vstack([sp.hstack([T, sp.csr_array((T.shape[0], n_rest))]),
                   sp.hstack([A_red @ Rg, A_rest])], format="csc")
    n, m = rows.sub[0]
    value = np.r_[grid.z[:n, :m].ravel(), np.zeros(rows.n_bin)]
    lp = LpArrays(A=A, c=np.r_[np.zeros(nx), value], offset=0.0,
                  row_lo=np.r_[np.full(T.shape[0], -HINF),
                               np.where(np.isfinite(rows.lower), rows.lower, -HINF)],
                  row_hi=np.r_[np.ones(T.shape[0]),
                               np.where(np.isfinite(rows.upper), rows.upper, HINF)],
                  col_lo=np.zeros(nx + n_rest), col_hi=np.r_[col_hi[cols], rows.lam_ub, rows.bin_ub],
                  columns=[], rows=[],
                  integer=np.r_[np.zeros(nx + rows.n_lam, bool), np.ones(rows.n_bin, bool)])

    try:
        h = highs.new_highs(interruptible=False)
        highs.pass_lp(h, replace(lp, integer=np.zeros(lp.A.shape[1], bool)))
    except highs.HighsRefused:
        return float("nan")

    def solve() -> tuple[float | None, np.ndarray | None]:
        status, _ = highs.run(h)
        if status != Status.OPTIMAL:
            return None, None
        return float(h.getInfo().objective_function_value), np.asarray(h.getSolution().col_value)

    # the LP relaxation first: a lower bound, exact when the surface agrees at its plan
    bound, x = solve()
    if bound is None:
        return float("nan")
    dE = (Rg @ x[:nx]).reshape(S, P)
    best = grid.value(grid.coordinates(dE, surfaces.p_index))
    if best <= bound + 1e-9 * max(1.0, abs(bound)) or not rows.n_bin:
        return best if rows.n_bin else bound
    # else triangle by triangle (the weights on its three vertices only: an LP, warm
    # started), lowest vertex first, until no triangle can go below the best found
    lam = nx + np.arange(n * m, dtype=np.int32)
    tris = [tri for _, tri in _triangles_of(n, m)]
    tris.sort(key=lambda tri: min(grid.z[i, j] for i, j in tri))
    tol = 1e-9 * max(1.0, abs(best))
    for tri in tris:
        if min(grid.z[i, j] for i, j in tri) >= best - tol:
            break
        hi = np.zeros(n * m)
        for i, j in tri:
            hi[i * m + j] = 1.0
        highs.check(h.changeColsBounds(len(lam), lam, np.zeros(n * m), hi), "HiGHS refused bounds")
        value, _ = solve()
        if value is not None:
            best = min(best, value)
    return best


def _triangles_of(n: int, m: int):
    """The triangles of an n x m block (a line's segments when it is one vertex wide)."""
    if n == 1 or m == 1:
        k = max(n, m)
        at = (lambda t: (0, t)) if n == 1 else (lambda t: (t, 0))
        for t in range(k - 1):
            yield t, (at(t), at(t + 1))
        return
    from fairshare.surfaces import _triangles
    yield from _triangles(n, m)


# --- results --------------------------------------------------------------------------------------

def surface_final(inst, dE_kt: np.ndarray, final: np.ndarray) -> np.ndarray:
    """[Q, R] ``final`` (the linear C0 - T dE) with the pairs of the metrics planned on
    surfaces replaced by C0 + the surfaces' change."""
    used = used_metrics(inst)
    if not used:
        return final
    d = inst.data
    out = final.copy()
    for (q, r) in d.surfaces.by_pair:
        if q in used:
            out[q, r] = float(np.nan_to_num(d.baseline_ugm3[q, r])) + d.surfaces.change(q, r, dE_kt)
    return out


REGIME_COLUMNS = ("nox_cut_local", "voc_cut_local", "nox_cut_regional", "voc_cut_regional",
                  "surface_change_ugm3", "linear_final_ugm3", "linear_minus_surface_ugm3",
                  "error_bound_ugm3", "regime_baseline", "regime_plan")


def receptor_columns(inst, dE_kt: np.ndarray, linear_final: np.ndarray) -> dict:
    """Per (metric, receptor) of the metrics planned on surfaces: the plan's cut shares,
    the change on the surfaces, the linear model's prediction for the same plan, the
    interpolation error estimate and the regime at baseline and in the plan (from the
    local surface, else the regional one). {(q, r): {column: value}}."""
    d, used = inst.data, used_metrics(inst)
    out = {}
    for (q, r), gs in d.surfaces.by_pair.items():
        if q not in used:
            continue
        grids = [d.surfaces.grids[g] for g in gs]
        row = {c: None for c in REGIME_COLUMNS}
        for grid in grids:
            u = grid.coordinates(dE_kt, d.surfaces.p_index)
            row[f"nox_cut_{grid.part}"], row[f"voc_cut_{grid.part}"] = float(u[0]), float(u[1])
        main = next((g for g in grids if g.part == "local"), grids[0])
        u = main.coordinates(dE_kt, d.surfaces.p_index)
        row["surface_change_ugm3"] = d.surfaces.change(q, r, dE_kt)
        row["linear_final_ugm3"] = float(linear_final[q, r])
        c0 = float(np.nan_to_num(d.baseline_ugm3[q, r]))
        row["linear_minus_surface_ugm3"] = float(linear_final[q, r]) - (c0 + row["surface_change_ugm3"])
        row["error_bound_ugm3"] = d.surfaces.error_bound(q, r, dE_kt)
        from fairshare.surfaces import regime
        row["regime_baseline"] = regime(main.gradient((0.0, 0.0)))
        row["regime_plan"] = regime(main.gradient(u))
        out[(q, r)] = row
    return out


def city_cut_ratio(inst, dE_kt: np.ndarray) -> np.ndarray:
    """[S] VOC cut share / NOx cut share of each city (nan where it cuts no NOx)."""
    d = inst.data
    pN, pV = d.surfaces.p_index
    E = d.emission_city_t / 1000.0
    with np.errstate(invalid="ignore", divide="ignore"):
        nox = np.where(E[:, pN] > 0, dE_kt[:, pN] / E[:, pN], 0.0)
        voc = np.where(E[:, pV] > 0, dE_kt[:, pV] / E[:, pV], 0.0)
        return np.where(nox > 1e-9, voc / nox, np.nan)


def summary(inst, model, receptors) -> dict:
    """summary.json's ``response``: the surfaces used, how they were formulated and the
    largest interpolation error estimate in the plan."""
    d, used = inst.data, used_metrics(inst)
    rows = getattr(model, "_fs_surface_rows", None)
    grids = [g for g in d.surfaces.grids if g.metric in used]
    bound = receptors["error_bound_ugm3"] if "error_bound_ugm3" in receptors else None
    return {
        "metrics": sorted(d.metrics[q] for q in used),
        "surfaces": len(grids),
        "targeted_surfaces": 0 if rows is None else len(rows.grids),
        "convex_surfaces": 0 if rows is None else sum(d.surfaces.grids[g].convex for g in rows.grids),
        "binaries": 0 if rows is None else int(rows.n_bin),
        "formulation": ("convex combination of the grid vertices a plan can reach; SOS2 on the "
                        f"NOx, VOC and diagonal marginals of non-convex surfaces ({rows.encoding} "
                        "encoding), their binaries added lazily: only for the targets a relaxed "
                        "optimum misses on the surfaces; LP rows only for convex ones"
                        if rows is not None and rows.n_bin else
                        "convex combination of the grid vertices (every targeted surface is "
                        "convex: an LP, exact)"),
        "grid_points": sorted({f"{g.shape[0]}x{g.shape[1]}" for g in grids}),
        "max_error_bound_ugm3": None if bound is None or bound.dropna().empty
        else float(bound.dropna().max()),
        "grid_max_error_bound_ugm3": max((g.max_error_bound() for g in grids), default=0.0),
    }
