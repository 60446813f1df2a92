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

(n-1) + (m-1) + (n+m-2) binaries per non-convex surface.

=========================  ==========================================================
``surface_weight[k]``      lambda, the weights of every surface's grid vertices (0..1)
``surface_choice[k]``      y, the interval binaries of the non-convex surfaces
``surface_def``            the rows above (a matrix block; hard: never relaxed)
``aq_target[q, r]``        for a metric with surfaces: ``C0 + sum_g z_g . lambda_g <= L``
=========================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

INF = np.inf


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
    lam_ub: np.ndarray = None  # [n_lam] 0 for vertices no plan can reach, else 1
    bin_ub: np.ndarray = None  # [n_bin] 0 for intervals no plan can reach, else 1

    def value_rows(self, surfaces, pairs: list[tuple[int, int]]) -> sp.csr_array:
        """[len(pairs), n_lam]: sum of z . lambda over the surfaces of each (q, r) pair."""
        rows, cols, vals = [], [], []
        where = {g: k for k, g in enumerate(self.grids)}
        for i, pair in enumerate(pairs):
            for g in surfaces.by_pair.get(pair, []):
                if g not in where:
                    continue
                z = surfaces.grids[g].z.ravel()
                start = self.lam_start[where[g]]
                rows += [i] * len(z)
                cols += list(range(start, start + len(z)))
                vals += z.tolist()
        return sp.csr_array((vals, (rows, cols)), shape=(len(pairs), self.n_lam))


def reachable_cut(data) -> np.ndarray:
    """[S, P] an upper bound of each city's reduction (kt/yr): per sector, the emission times
    the largest removal share its measures can stack (exclusivity ignored: still a bound)."""
    from fairshare.model.measures import removal_kt

    E_kt = data.emission_t / 1000.0                      # [S, K, P]
    stack = np.zeros_like(E_kt)
    for k in range(len(data.sectors)):
        in_k = data.measure_sector == k
        stack[:, k, :] = np.minimum(1.0, data.max_application[:, in_k] @ data.efficiency[in_k])
    return (E_kt * stack).sum(axis=1)


def surface_rows(surfaces, grid_ids: list[int], S: int, P: int,
                 binaries: str = "auto", reach: np.ndarray | None = None) -> SurfaceRows:
    """The definition rows of the surfaces ``grid_ids`` (see the module). ``binaries``:
    "auto" (only non-convex surfaces), "all" or "none" (the LP relaxation). ``reach``
    ([S, P] kt/yr, :func:`reachable_cut`): grid vertices beyond the largest reachable cut
    share (and the intervals past it) get an upper bound of 0, which tightens the LP
    relaxation (its chords end where plans can go) and lets presolve drop them."""
    n_red = S * P
    pN, pV = surfaces.p_index
    rows, cols, vals, lo, hi, index = [], [], [], [], [], []
    lam_start, binary_grids, lam_ub, bin_ub = [], [], [], []
    lam_total = sum(surfaces.grids[g].z.size for g in grid_ids)
    n_lam, n_bin = 0, 0
    bin_cols = []  # (row entries added after n_lam is known)

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

    for g in grid_ids:
        grid = surfaces.grids[g]
        n, m = grid.shape
        base = n_red + n_lam
        lam_start.append(n_lam)
        lam = base + np.arange(n * m).reshape(n, m)
        open_ = []  # per axis: vertices a plan can use (up to the first one past its reach)
        for a, coord in enumerate((grid.nox, grid.voc)):
            top = 1.0 if reach is None else float(grid.weights[a] @ reach[:, (pN, pV)[a]])
            first_past = int(np.searchsorted(coord, top - 1e-12))
            open_.append(np.arange(len(coord)) <= min(first_past, len(coord) - 1))
        lam_ub.append((open_[0][:, None] & open_[1][None, :]).ravel().astype(float))
        row([(c, 1.0) for c in lam.ravel()], 1.0, 1.0, (g, "convexity"))
        for a, (p, coord) in enumerate(((pN, grid.nox), (pV, grid.voc))):
            entries = [(int(lam[i, j]), float(coord[i if a == 0 else j]))
                       for i in range(n) for j in range(m) if coord[i if a == 0 else j] != 0]
            entries += [(s * P + p, -float(w)) for s, w in enumerate(grid.weights[a]) if w]
            row(entries, 0.0, 0.0, (g, "link_" + ("nox" if a == 0 else "voc")))
        n_lam += n * m
        need = binaries == "all" or (binaries == "auto" and not grid.convex)
        if not need:
            continue
        binary_grids.append(g)
        groups = {"nox": [[(i, j) for j in range(m)] for i in range(n)],
                  "voc": [[(i, j) for i in range(n)] for j in range(m)],
                  "diag": [[(i, j) for i in range(n) for j in range(m) if i - j + m - 1 == k]
                           for k in range(n + m - 1)]}
        for name, marginal in groups.items():
            first = n_bin  # binary t: interval between marginal t and t+1
            n_int = len(marginal) - 1
            if name == "diag":
                bin_ub.append(np.ones(n_int))
            else:  # an interval past the reachable vertices cannot be chosen
                ok = open_[0 if name == "nox" else 1]
                bin_ub.append(ok[1:].astype(float))
            bin_cols.append((row([], 1.0, 1.0, (g, f"choose_{name}")), first, n_int, None))
            for t, cells in enumerate(marginal):
                r = row([(int(lam[i, j]), 1.0) for i, j in cells], -INF, 0.0, (g, f"sos2_{name}", t))
                bin_cols.append((r, first, n_int, t))
            n_bin += n_int
    # binaries come after every lambda: their columns are known now
    bin_base = n_red + lam_total
    for r, first, n_int, t in bin_cols:
        if t is None:  # sum of the group's binaries = 1
            for k in range(n_int):
                rows.append(r), cols.append(bin_base + first + k), vals.append(1.0)
        else:  # marginal t <= y[t-1] + y[t]
            for k in (t - 1, t):
                if 0 <= k < n_int:
                    rows.append(r), cols.append(bin_base + first + k), vals.append(-1.0)
    A = sp.csr_array((vals, (rows, cols)), shape=(len(lo), n_red + n_lam + n_bin))
    return SurfaceRows(A, np.array(lo, float), np.array(hi, float), index, n_red, n_lam, n_bin,
                       list(grid_ids), lam_start, binary_grids,
                       np.concatenate(lam_ub) if lam_ub else np.zeros(0),
                       np.concatenate(bin_ub) if bin_ub else np.zeros(0))


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
    on_surface = np.array([q in used for q in aq.metric.tolist()], dtype=bool)
    pairs = list(zip(aq.metric.tolist(), aq.receptor.tolist()))
    value = rows.value_rows(d.surfaces, pairs)  # [n, n_lam]
    linear = sp.csr_array(np.where(on_surface[:, None], 0.0, np.asarray(T_sub)))
    # aq_target rows are scale * matrix with scale -1 (C = C0 - T dE): the surface's +z
    # enters as -z.
    matrix = sp.hstack([linear, -value], format="csr")
    return matrix, reductions + list(m.surface_weight.values())


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
    """MTFR (µg/m³) of metric q at ``receptors`` on their surfaces: one small MIP per
    receptor, min C0 + sum of its surfaces over the measures' bounds, exclusivity and
    removal limits (the surfaces are not convex, so not an LP)."""
    from fairshare.model.measures import technology_rows
    from fairshare.solver import highs
    from fairshare.solver.highs import Status
    from fairshare.solver.lp import INF as HINF, LpArrays

    surfaces = data.surfaces
    S, P, M = len(data.cities), len(data.pollutants), len(data.measures)
    ex, _, rm, _ = technology_rows(data)
    tech = sp.vstack([ex, rm], format="csr")
    R = reduction_matrix(data)
    reach = reachable_cut(data)
    out = np.full(len(receptors), np.nan)
    for k, r in enumerate(np.asarray(receptors, dtype=int).tolist()):
        grids = surfaces.by_pair.get((q, r), [])
        c0 = float(np.nan_to_num(data.baseline_ugm3[q, r]))
        if not grids:
            continue
        rows = surface_rows(surfaces, grids, S, P, reach=reach)
        A_red, A_rest = rows.A[:, :rows.n_red], rows.A[:, rows.n_red:]
        n_rest = rows.n_lam + rows.n_bin
        A = sp.vstack([sp.hstack([tech, sp.csr_array((tech.shape[0], n_rest))]),
                       sp.hstack([A_red @ R, A_rest])], format="csc")
        value = rows.value_rows(surfaces, [(q, r)]).toarray().ravel()
        n = S * M + n_rest
        lp = LpArrays(A=A, c=np.r_[np.zeros(S * M), value, np.zeros(rows.n_bin)], offset=c0,
                      row_lo=np.r_[np.full(tech.shape[0], -HINF), np.where(np.isfinite(rows.lower), rows.lower, -HINF)],
                      row_hi=np.r_[np.ones(tech.shape[0]), np.where(np.isfinite(rows.upper), rows.upper, HINF)],
                      col_lo=np.zeros(n), col_hi=np.r_[data.max_application.ravel(), rows.lam_ub,
                                                       rows.bin_ub],
                      columns=[], rows=[],
                      integer=np.r_[np.zeros(S * M + rows.n_lam, bool), np.ones(rows.n_bin, bool)])
        try:
            h = highs.new_highs(interruptible=False)
            highs.pass_lp(h, lp)
        except highs.HighsRefused:
            continue
        status, text = highs.run(h)
        outcome = highs.finish(h, lp, None, status, text)
        if outcome.status == Status.OPTIMAL:
            out[k] = outcome.objective
    return out


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
        "formulation": ("convex combination of the grid vertices; SOS2 by interval binaries on "
                        "the NOx, VOC and diagonal marginals of non-convex surfaces; LP rows "
                        "only for convex ones" if rows is not None and rows.n_bin else
                        "convex combination of the grid vertices (every targeted surface is "
                        "convex: an LP, exact)"),
        "grid_points": sorted({f"{g.shape[0]}x{g.shape[1]}" for g in grids}),
        "max_error_bound_ugm3": None if bound is None or bound.dropna().empty
        else float(bound.dropna().max()),
        "grid_max_error_bound_ugm3": max((g.max_error_bound() for g in grids), default=0.0),
    }
