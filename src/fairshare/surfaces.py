r"""Response surfaces: a metric's change at a receptor as a non-linear function of the
cuts of its precursors (NOx and VOC), as pf-RSM decomposes it (docs/ozone.md).

For receptor r of metric q (e.g. O3 MDA8 90th percentile), with the receptor's own city c
(the city whose id is the receptor's, if any)::

    C[q, r] = C0[q, r] + f_local(u_NOx, u_VOC) + f_regional(w_NOx, w_VOC)

* ``u_p = dE[c, p] / E[c, p]``: the share of the city's own emissions of p cut;
* ``w_p = sum_{s != c} omega[s] dE[s, p] / sum_{s != c} omega[s] E[s, p]``: the
  transport-weighted share of the other cities' emissions cut, ``omega[s] = |T[q, r, s, p]|``
  (the metric's transport coefficient; every other city alike where the metric has none);
* each ``f`` is a 2-D table of changes (µg/m³) on a rectangular grid of cut shares in [0, 1]
  (``response.csv``), interpolated linearly on the triangles that split every grid cell by
  its diagonal from (NOx_i, VOC_j) to (NOx_{i+1}, VOC_{j+1}).

This module holds the region side: the table's checks (one problem per fault, with file,
row and column), the surfaces as arrays, their value, gradient, convexity, the estimate
of the interpolation error, the chemical regime and the exact MTFR (a small MIP per
receptor). The model's rows are :mod:`fairshare.model.surfaces`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fairshare.errors import Problem, did_you_mean

FILE_STEM = "response"
PARTS = ("local", "regional")
AXES = ("NOx", "VOC")        # the pollutant ids of emissions.csv the two coordinates cut
COORDS = ("nox_cut_share", "voc_cut_share")
GRID_TOL = 1e-9
ERROR_SAFETY = 1.25          # the error estimate's margin over the curvature seen on the grid
CONVEX_TOL = 1e-9            # µg/m³: a surface is convex when no edge bends down by more


@dataclass
class Grid:
    """One 2-D surface: z[i, j] (µg/m³) at cut shares (nox[i], voc[j]); the coordinates are
    ``u[a] = weights[a] @ dE[:, AXES[a]]`` with dE in kt/yr."""

    metric: int
    receptor: int
    part: str
    nox: np.ndarray         # [n] increasing, 0 .. 1
    voc: np.ndarray         # [m] increasing, 0 .. 1
    z: np.ndarray           # [n, m]
    weights: np.ndarray     # [2, S] share per kt/yr cut, for NOx and VOC
    city: int | None = None  # the receptor's own city (local part), else None
    convex: bool = field(init=False)
    curvature: np.ndarray = field(init=False, repr=False)  # [n-1, m-1] second-derivative bound

    def __post_init__(self):
        self.convex = _is_convex(self.nox, self.voc, self.z)
        self.curvature = _curvature(self.nox, self.voc, self.z)

    @property
    def shape(self) -> tuple[int, int]:
        return self.z.shape

    def coordinates(self, dE_kt: np.ndarray, p_index: tuple[int, int]) -> np.ndarray:
        """(u_NOx, u_VOC) of reductions dE [S, P] (kt/yr), clipped to [0, 1]."""
        u = np.array([self.weights[a] @ dE_kt[:, p_index[a]] for a in range(2)])
        return np.clip(u, 0.0, 1.0)

    def locate(self, u) -> tuple[int, int, bool, float, float]:
        """(i, j, lower, a, b): the cell, which triangle (lower: b <= a, the one holding
        (i+1, j)) and the point's position in the cell (0..1 each way)."""
        i = int(np.clip(np.searchsorted(self.nox, u[0], side="right") - 1, 0, len(self.nox) - 2))
        j = int(np.clip(np.searchsorted(self.voc, u[1], side="right") - 1, 0, len(self.voc) - 2))
        a = (u[0] - self.nox[i]) / (self.nox[i + 1] - self.nox[i])
        b = (u[1] - self.voc[j]) / (self.voc[j + 1] - self.voc[j])
        return i, j, bool(b <= a), float(a), float(b)

    def value(self, u) -> float:
        """The interpolated change at u (µg/m³)."""
        i, j, lower, a, b = self.locate(u)
        z = self.z
        if lower:
            return float(z[i, j] + a * (z[i + 1, j] - z[i, j]) + b * (z[i + 1, j + 1] - z[i + 1, j]))
        return float(z[i, j] + b * (z[i, j + 1] - z[i, j]) + a * (z[i + 1, j + 1] - z[i, j + 1]))

    def gradient(self, u, step: float = 1e-6) -> np.ndarray:
        """d change / d (cut share) of NOx and VOC at u, one-sided forward (toward deeper
        cuts; backward at the far edge): µg/m³ per unit share."""
        out = np.zeros(2)
        for a in range(2):
            v = np.array(u, dtype=float)
            h = step if v[a] + step <= 1.0 else -step
            v[a] += h
            out[a] = (self.value(v) - self.value(u)) / h
        return out

    def error_bound(self, u) -> float:
        """Estimated bound of |true surface - interpolation| at u (µg/m³): half the
        curvature bound times the squared circumradius of u's triangle (see module docs)."""
        i, j, _, _, _ = self.locate(u)
        hx, hy = self.nox[i + 1] - self.nox[i], self.voc[j + 1] - self.voc[j]
        return float(self.curvature[i, j] * (hx * hx + hy * hy) / 8.0)

    def max_error_bound(self) -> float:
        hx, hy = np.diff(self.nox)[:, None], np.diff(self.voc)[None, :]
        return float((self.curvature * (hx * hx + hy * hy) / 8.0).max(initial=0.0))


@dataclass
class SurfaceSet:
    """Every surface of a region (after the year and member are chosen)."""

    grids: list[Grid]
    p_index: tuple[int, int]        # positions of NOx and VOC in data.pollutants
    by_pair: dict = field(default_factory=dict)  # (q, r) -> [grid positions]

    def __post_init__(self):
        for g, grid in enumerate(self.grids):
            self.by_pair.setdefault((grid.metric, grid.receptor), []).append(g)

    def metrics(self) -> set[int]:
        return {q for q, _ in self.by_pair}

    def change(self, q: int, r: int, dE_kt: np.ndarray) -> float:
        """The surfaces' change at (q, r) for reductions dE [S, P] (kt/yr), µg/m³."""
        return sum(self.grids[g].value(self.grids[g].coordinates(dE_kt, self.p_index))
                   for g in self.by_pair.get((q, r), []))

    def error_bound(self, q: int, r: int, dE_kt: np.ndarray) -> float:
        return sum(self.grids[g].error_bound(self.grids[g].coordinates(dE_kt, self.p_index))
                   for g in self.by_pair.get((q, r), []))


# --- convexity and curvature ------------------------------------------------------------------

def _triangles(n: int, m: int):
    """The triangles of the grid as vertex index triples ((i, j), ...): lower then upper of
    each cell."""
    for i in range(n - 1):
        for j in range(m - 1):
            yield (i, j, True), ((i, j), (i + 1, j), (i + 1, j + 1))
            yield (i, j, False), ((i, j), (i, j + 1), (i + 1, j + 1))


def _plane_at(x, y, z, tri, point) -> float:
    """The plane through triangle ``tri`` evaluated at grid vertex ``point``."""
    P = np.array([[x[i], y[j], 1.0] for i, j in tri])
    coef = np.linalg.solve(P, np.array([z[i, j] for i, j in tri]))
    i, j = point
    return float(coef @ np.array([x[i], y[j], 1.0]))


def _is_convex(x, y, z) -> bool:
    """Convex iff across every interior edge the neighbour's far vertex lies on or above the
    plane of the triangle on this side (pairs: the two triangles of a cell; a cell's lower
    triangle and the upper one of the cell to its right; a cell's upper triangle and the
    lower one of the cell above)."""
    n, m = z.shape
    tol = CONVEX_TOL * max(1.0, float(np.abs(z).max(initial=0.0)))
    for i in range(n - 1):
        for j in range(m - 1):
            lower = ((i, j), (i + 1, j), (i + 1, j + 1))
            upper = ((i, j), (i, j + 1), (i + 1, j + 1))
            checks = [(lower, (i, j + 1))]
            if i + 2 < n:
                checks.append((lower, (i + 2, j + 1)))
            if j + 2 < m:
                checks.append((upper, (i + 1, j + 2)))
            for tri, far in checks:
                if z[far] < _plane_at(x, y, z, tri, far) - tol:
                    return False
    return True


def _second_differences(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """|d2z/dx2| along axis 0 at the interior vertices, spread to the cells beside them:
    [n-1, m] (0 where the axis has two points: nothing to estimate)."""
    n = len(x)
    cells = np.zeros((n - 1, z.shape[1]))
    if n < 3:
        return cells
    h = np.diff(x)
    slope = np.diff(z, axis=0) / h[:, None]
    d2 = np.abs(2 * np.diff(slope, axis=0) / (h[:-1] + h[1:])[:, None])  # [n-2, m] at vertices 1..n-2
    cells[:-1] = np.maximum(cells[:-1], d2)
    cells[1:] = np.maximum(cells[1:], d2)
    return cells


def _curvature(x, y, z) -> np.ndarray:
    """[n-1, m-1] a bound of the Hessian's norm per cell, from the grid's second
    differences (Gershgorin: max(|fxx| + |fxy|, |fxy| + |fyy|)), the largest over the cell
    and its neighbours, times ERROR_SAFETY."""
    fxx = _second_differences(x, z)            # [n-1, m]
    fyy = _second_differences(y, z.T).T        # [n, m-1]
    fxx = np.maximum(fxx[:, :-1], fxx[:, 1:])  # [n-1, m-1]
    fyy = np.maximum(fyy[:-1], fyy[1:])
    fxy = np.abs(np.diff(np.diff(z, axis=0), axis=1)) / (np.diff(x)[:, None] * np.diff(y)[None, :])
    bound = np.maximum(fxx + fxy, fyy + fxy)
    padded = np.pad(bound, 1, mode="edge")
    n, m = bound.shape
    near = np.max([padded[a:a + n, b:b + m] for a in range(3) for b in range(3)], axis=0)
    return ERROR_SAFETY * near


# --- regimes ------------------------------------------------------------------------------------

def regime(gradient: np.ndarray) -> str:
    """The chemical regime from d change / d cut share (NOx, VOC): ``VOC-limited
    (titration)`` when cutting NOx raises the metric; ``VOC-limited`` when a VOC cut lowers
    it more than a NOx cut; ``NOx-limited`` otherwise (``insensitive`` when neither moves it)."""
    dn, dv = float(gradient[0]), float(gradient[1])
    if abs(dn) < 1e-9 and abs(dv) < 1e-9:
        return "insensitive"
    if dn > 1e-9:
        return "VOC-limited (titration)"
    return "VOC-limited" if dv < dn else "NOx-limited"


# --- the table ------------------------------------------------------------------------------------

def select(df: pd.DataFrame, file: str, year: int | None,
           member: str | None) -> tuple[pd.DataFrame, list[Problem]]:
    """The rows of the year and transport member chosen (a table without ``year`` or
    ``member`` applies to all; rows with a blank year apply to every year)."""
    problems = []
    if "year" in df.columns:
        years = pd.to_numeric(df["year"], errors="coerce")
        df = df[years.isna() | (years == year)] if year is not None else df[years.isna()]
    if "member" in df.columns:
        present = list(dict.fromkeys(str(m) for m in df["member"].dropna()))
        if member is None and len(present) > 1:
            problems.append(Problem(file, f"the table holds the members {present} but the region "
                                          "has no transport member chosen", column="member"))
        keep = df["member"].isna() | (df["member"].astype(str) == (member or (present[:1] or [""])[0]))
        df = df[keep]
    return df, problems


def check(df: pd.DataFrame, file: str, *, metrics, receptors, cities, pollutants,
          transport_metrics) -> list[Problem]:
    """The checks of response.csv beyond its columns and values (done by the table spec):
    known metric, receptor and part; a local part only at a receptor that is a city; NOx and
    VOC emitted in the region; per (metric, receptor, part) a full grid whose axes run from
    0 to 1 with a change of 0 at (0, 0)."""
    problems: list[Problem] = []
    need = {"metric", "receptor", "part", *COORDS, "change_ugm3"}
    if not need <= set(df.columns) or df.empty:
        return problems
    for axis in AXES:
        if axis not in pollutants:
            problems.append(Problem(file, f"the surfaces' coordinates are cut shares of {axis}, "
                                          f"which emissions.csv does not hold (pollutants: "
                                          f"{', '.join(pollutants)}){did_you_mean(axis, pollutants)}",
                                    column=COORDS[AXES.index(axis)]))
    rows = {"metric": (metrics, "metric", "concentrations.csv"),
            "receptor": (receptors, "receptor", "receptors.csv or cities.csv"),
            "part": (PARTS, "part", "local or regional")}
    for col, (known, what, where) in rows.items():
        bad = df[~df[col].astype(str).isin(known) & df[col].notna()]
        for idx, value in list(bad[col].items())[:5]:
            problems.append(Problem(file, f"{what} '{value}' is not defined in {where}"
                                          f"{did_you_mean(str(value), list(known))}",
                                    row=int(idx) + 2, column=col))
    local = df[(df["part"].astype(str) == "local") & ~df["receptor"].astype(str).isin(cities)]
    for idx, value in list(local["receptor"].items())[:5]:
        problems.append(Problem(file, f"a local surface needs a receptor that is a city (its own "
                                      f"emissions are the local cuts); '{value}' is not a city of "
                                      "cities.csv: give it a regional surface only",
                                row=int(idx) + 2, column="part"))
    for q in sorted(set(df["metric"].dropna().astype(str)) & set(metrics)):
        if q not in transport_metrics:
            first = df.index[df["metric"].astype(str) == q][0]
            problems.append(Problem(file, f"metric '{q}' has surfaces but no transport "
                                          "coefficients in transport.csv: a target on it needs "
                                          "them (the linear model, reported beside the surface, "
                                          "and the regional weights)", row=int(first) + 2,
                                    column="metric"))
    if problems:
        return problems
    for (q, r, part), g in df.groupby(["metric", "receptor", "part"], sort=False):
        where = f"metric {q}, receptor {r}, part {part}"
        first = int(g.index[0]) + 2
        for col in COORDS:
            v = np.sort(g[col].astype(float).unique())
            if abs(v[0]) > GRID_TOL or abs(v[-1] - 1) > GRID_TOL or len(v) < 2:
                problems.append(Problem(file, f"{where}: the {col} values must run from 0 to 1 "
                                              f"(found {', '.join(f'{x:g}' for x in v[:8])}"
                                              f"{' ...' if len(v) > 8 else ''}): the surface must "
                                              "cover every cut from none to all", row=first,
                                        column=col))
        nx, ny = g[COORDS[0]].nunique(), g[COORDS[1]].nunique()
        if len(g) != nx * ny:
            problems.append(Problem(file, f"{where}: {len(g)} rows do not fill the grid of "
                                          f"{nx} NOx x {ny} VOC values ({nx * ny} rows): every "
                                          "pair of the two axes needs its row", row=first,
                                    column=COORDS[0]))
            continue
        origin = g[(g[COORDS[0]].astype(float).abs() <= GRID_TOL)
                   & (g[COORDS[1]].astype(float).abs() <= GRID_TOL)]
        if len(origin) and abs(float(origin["change_ugm3"].iloc[0])) > 1e-9:
            problems.append(Problem(file, f"{where}: the change at no cut (0, 0) is "
                                          f"{float(origin['change_ugm3'].iloc[0]):g}; it must be "
                                          "0 (changes are relative to the baseline)",
                                    row=int(origin.index[0]) + 2, column="change_ugm3"))
    return problems


def check_tables(tables: dict, files: dict, year: int | None,
                 member: str | None) -> list[Problem]:
    """Select the year's and member's rows of ``tables["response"]`` (in place) and check
    them against the other tables (:func:`check`)."""
    df = tables.get("response")
    if not isinstance(df, pd.DataFrame):
        return []
    file = files["response"]
    if all(not isinstance(tables.get(t), pd.DataFrame) and tables.get(t) is None
           for t in ("transport", "concentrations")):
        tables["response"] = None  # a region of emission caps only: no metric to respond
        return []
    df, problems = select(df, file, year, member)
    tables["response"] = df

    def ids(name, column):
        t = tables.get(name)
        if t is None or isinstance(t, pd.DataFrame) and column not in t.columns:
            return []
        if not isinstance(t, pd.DataFrame):  # a streamed transport table
            return list(getattr(t, "metrics", ()))
        return [str(v) for v in pd.unique(t[column].dropna())]

    receptors = ids("receptors", "receptor") if tables.get("receptors") is not None \
        else ids("cities", "city")
    transport = ids("transport", "metric")
    metrics = list(dict.fromkeys(transport + ids("concentrations", "metric")))
    return problems + check(df, file, metrics=metrics, receptors=receptors,
                            cities=ids("cities", "city"), pollutants=ids("emissions", "pollutant"),
                            transport_metrics=transport)


def build(df: pd.DataFrame | None, data) -> SurfaceSet | None:
    """The surfaces of the checked, selected table on the region's arrays (``data``: a
    :class:`fairshare.data.RegionData`); None without surfaces."""
    if df is None or df.empty:
        return None
    metrics, receptors, cities = list(data.metrics), list(data.receptors), list(data.cities)
    pollutants = list(data.pollutants)
    E_kt = data.emission_city_t / 1000.0
    T = data.transport_ugm3_per_kt
    p_index = (pollutants.index(AXES[0]), pollutants.index(AXES[1]))
    S = len(cities)
    grids = []
    for (q, r, part), g in df.groupby(["metric", "receptor", "part"], sort=False):
        qi, ri = metrics.index(str(q)), receptors.index(str(r))
        pivot = g.pivot_table(index=COORDS[0], columns=COORDS[1], values="change_ugm3",
                              aggfunc="first").sort_index().sort_index(axis=1)
        city = cities.index(str(r)) if str(r) in cities else None
        weights = np.zeros((2, S))
        for a, p in enumerate(p_index):
            if part == "local":
                if E_kt[city, p] > 0:
                    weights[a, city] = 1.0 / E_kt[city, p]
            else:
                omega = np.abs(T[qi, ri, :, p]) if T.size else np.zeros(S)
                if city is not None:
                    omega[city] = 0.0
                if not omega.any():
                    omega = np.ones(S)
                    if city is not None:
                        omega[city] = 0.0
                denom = float(omega @ E_kt[:, p])
                if denom > 0:
                    weights[a] = omega / denom
        grids.append(Grid(qi, ri, str(part), pivot.index.to_numpy(float),
                          pivot.columns.to_numpy(float), pivot.to_numpy(float), weights,
                          city if part == "local" else None))
    return SurfaceSet(grids, p_index)
