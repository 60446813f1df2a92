"""Plots of result tables (docs/results.md): cost and burden by city, concentrations
against targets, a city map, Pareto fronts and option comparisons.

Every plot function takes result tables as written to a results folder (pandas
DataFrames with the columns of ``cities.csv``, ``receptors.csv``, ...) and an
optional ``ax``; it draws on that Axes (or on a new figure) and returns the
Axes. Nothing here solves. Figures have titles and units on the axes, and read
in black and white: greys, hatching and marker shapes, never colour alone.

Units: costs are drawn in bn CNY/yr (the tables hold CNY/yr), burden in % of
GDP (the tables hold a fraction), concentrations in µg/m³.

:func:`write_result_plots`, :func:`write_front_plots` and
:func:`write_comparison_plots` write the plots of a results, Pareto or comparison
folder as PNG and SVG files next to its tables, all through one saver;
:func:`redraw` re-draws any folder fairshare writes, or a folder holding several.

Tables may come straight from a CSV file (pandas 3: Copy-on-Write, read-only arrays
from ``to_numpy``, Arrow-backed ``str`` columns): nothing here writes into an array
it got from a table.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib import patheffects
from matplotlib.lines import Line2D

__all__ = [
    "cost_by_city", "burden_by_city", "concentrations", "city_map", "pareto_front",
    "non_dominated", "attainment_curve", "compare_bars", "write_result_plots",
    "write_front_plots", "write_comparison_plots", "redraw", "RedrawError",
]

BN = 1e9  # CNY per bn CNY
PCT = 100.0  # % per fraction

#: Known result columns: (axis label, unit, factor from the table's unit to the drawn unit).
METRICS: dict[str, tuple[str, str, float]] = {
    "total_cost_cny": ("total cost", "bn CNY/yr", 1 / BN),
    "objective": ("objective", "bn CNY/yr", 1 / BN),
    "cost_cny": ("cost", "bn CNY/yr", 1 / BN),
    "burden": ("burden", "% of GDP", PCT),
    "max_burden": ("max burden", "% of GDP", PCT),
    "min_burden": ("min burden", "% of GDP", PCT),
    "mean_burden": ("mean burden", "% of GDP", PCT),
    "regional_burden": ("regional burden", "% of GDP", PCT),
    "gini_burden": ("Gini of burden", "0–1", 1.0),
    "gini_cost_per_capita": ("Gini of per-capita cost", "0–1", 1.0),
    "band_burden": ("largest distance from the regional burden", "% of GDP", PCT),
    # already-scaled columns of fairshare.comparison tables
    "total_cost_bn_cny": ("total cost", "bn CNY/yr", 1.0),
    "min_city_cost_bn_cny": ("smallest city cost", "bn CNY/yr", 1.0),
    "max_city_cost_bn_cny": ("largest city cost", "bn CNY/yr", 1.0),
    "max_burden_pct": ("max burden", "% of GDP", 1.0),
    "min_burden_pct": ("min burden", "% of GDP", 1.0),
    "regional_burden_pct": ("regional burden", "% of GDP", 1.0),
    "price_of_fairness_pct": ("price of fairness", "% over least cost", 1.0),
}

# Black-and-white styling: fills, hatches and markers that survive a photocopier.
_EDGE = "black"
_FILLS = ["0.35", "white", "0.75", "white", "0.55", "white"]
_HATCHES = ["", "///", "", "...", "xx", "\\\\\\"]
_BAR_FONT = 7


def _metric(col: str) -> tuple[str, str, float]:
    return METRICS.get(col, (col.replace("_", " "), "", 1.0))


def _axis_label(col: str) -> str:
    name, unit, _ = _metric(col)
    return f"{name} ({unit})" if unit else name


def _metric_name(metric: str) -> str:
    return str(metric).replace("PM25", "PM2.5")


def _new_ax(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only when the caller gave no Axes

    _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _rows_height(n: int) -> tuple[float, float]:
    """Figure size for a horizontal bar chart of ``n`` rows."""
    return (7.0, max(2.6, 0.22 * n + 1.3))


def _require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what} needs column(s) {', '.join(missing)}; has {', '.join(map(str, table.columns))}")


def _optimal(table: pd.DataFrame) -> np.ndarray:
    """A new, writable mask of the rows whose ``status`` is optimal (all rows when the
    table has no status). A copy: pandas 3 hands out read-only views, and callers
    combine masks."""
    if "status" not in table.columns:
        return np.ones(len(table), dtype=bool)
    return (table["status"].astype(str) == "optimal").to_numpy(dtype=bool, copy=True)


def _figure(size: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure outside pyplot, so that writers leave no open figures behind."""
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()


def _fmt(v: float) -> str:
    if not np.isfinite(v):
        return ""
    if v == 0:
        return "0"
    return f"{v:.3g}" if abs(v) >= 0.01 else f"{v:.2g}"


# --- cost and burden by city --------------------------------------------------------------------

def cost_by_city(cities: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Horizontal bars of each city's annual cost in bn CNY/yr, the largest at the top."""
    _require(cities, ["city", "cost_cny"], "cost_by_city")
    t = cities.sort_values("cost_cny", kind="stable")
    y = np.arange(len(t))
    vals = t["cost_cny"].to_numpy(float) / BN
    ax = _new_ax(ax, _rows_height(len(t)))
    bars = ax.barh(y, vals, height=0.7, color="0.55", edgecolor=_EDGE, linewidth=0.6,
                   label="cost")
    ax.bar_label(bars, labels=[_fmt(v) for v in vals], padding=2, fontsize=_BAR_FONT)
    ax.set_yticks(y, t["city"].astype(str))
    ax.set_ylim(-0.6, len(t) - 0.4)
    ax.set_xlim(0, _headroom(vals))
    ax.set_xlabel("cost (bn CNY/yr)")
    ax.set_ylabel("city")
    ax.set_title(f"Control cost by city (total {_fmt(np.nansum(vals))} bn CNY/yr)")
    ax.grid(axis="x", color="0.85", linewidth=0.6)
    ax.set_axisbelow(True)
    return ax


def _headroom(vals, extra=()) -> float:
    """Right limit leaving room for the value labels."""
    top = max([float(np.nanmax(vals)) if len(vals) else 0.0, *[float(e) for e in extra]])
    return top * 1.15 if top > 0 else 1.0


def burden_by_city(cities: pd.DataFrame, ax: Axes | None = None,
                   cap: float | Mapping[str, float] | None = None,
                   band: tuple[float, float] | None = None) -> Axes:
    """Horizontal bars of each city's cost as % of its GDP, the largest at the top.

    ``cap`` (a fraction of GDP, 0.008 = 0.8 %) draws a dashed vertical line; a
    mapping ``{city: cap}`` marks each listed city's own cap on its bar instead.
    ``band = (regional, width)`` (fractions of GDP) shades the band
    ``regional ± width`` and draws the regional ratio (total cost / total GDP).
    """
    _require(cities, ["city", "burden"], "burden_by_city")
    t = cities.sort_values("burden", kind="stable")
    y = np.arange(len(t))
    vals = t["burden"].to_numpy(float) * PCT
    ax = _new_ax(ax, _rows_height(len(t)))
    extra = []
    handles = []
    if band is not None:
        regional, width = (float(v) * PCT for v in band)
        lo, hi = max(regional - width, 0.0), regional + width
        span = ax.axvspan(lo, hi, facecolor="0.93", edgecolor="0.55", hatch="..", linewidth=0,
                          zorder=0, label=f"band {_fmt(regional)} ± {_fmt(width)} % of GDP")
        line = ax.axvline(regional, color="black", linestyle=":", linewidth=1.2, zorder=3,
                          label=f"regional ratio {_fmt(regional)} % of GDP")
        handles += [span, line]
        extra.append(hi)
    bars = ax.barh(y, vals, height=0.7, color="0.55", edgecolor=_EDGE, linewidth=0.6,
                   label="burden", zorder=2)
    for text in ax.bar_label(bars, labels=[_fmt(v) for v in vals], padding=2, fontsize=_BAR_FONT):
        text.set_bbox({"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none"})
        text.set_zorder(5)
    if cap is not None:
        if isinstance(cap, Mapping):
            caps = t["city"].map(lambda c: cap.get(c, np.nan)).to_numpy(float) * PCT
            ok = np.isfinite(caps)
            if ok.any():
                lines = ax.vlines(caps[ok], y[ok] - 0.45, y[ok] + 0.45, colors="black",
                                  linestyles="--", linewidth=1.4, zorder=3,
                                  label="burden cap of the city")
                handles.append(Line2D([], [], color="black", linestyle="--",
                                      label=lines.get_label()))
                extra.append(np.nanmax(caps))
        else:
            c = float(cap) * PCT
            handles.append(ax.axvline(c, color="black", linestyle="--", linewidth=1.4, zorder=3,
                                      label=f"burden cap {_fmt(c)} % of GDP"))
            extra.append(c)
    ax.set_yticks(y, t["city"].astype(str))
    ax.set_ylim(-0.6, len(t) - 0.4)
    ax.set_xlim(0, _headroom(vals, extra))
    ax.set_xlabel("burden: cost / GDP (% of GDP)")
    ax.set_ylabel("city")
    ax.set_title("Burden by city (annual cost as % of GDP)")
    ax.grid(axis="x", color="0.85", linewidth=0.6)
    ax.set_axisbelow(True)
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.95)
    return ax


# --- concentrations -----------------------------------------------------------------------------

def concentrations(receptors: pd.DataFrame, ax: Axes | None = None, metric: str = "PM25") -> Axes:
    """Baseline (hatched) and final (grey) concentration per receptor for one metric,
    with each receptor's target as a dashed tick and its MTFR (the lowest reachable
    concentration) as a white diamond when the table has one. µg/m³."""
    _require(receptors, ["metric", "receptor", "baseline_ugm3", "final_ugm3"], "concentrations")
    t = receptors[receptors["metric"].astype(str) == str(metric)]
    if t.empty:
        raise ValueError(f"no receptor of metric {metric!r}; metrics: "
                         f"{', '.join(sorted(receptors['metric'].astype(str).unique()))}")
    t = t.sort_values("baseline_ugm3", kind="stable")
    n = len(t)
    y = np.arange(n)
    h = 0.38
    ax = _new_ax(ax, _rows_height(n))
    base = t["baseline_ugm3"].to_numpy(float)
    final = t["final_ugm3"].to_numpy(float)
    ax.barh(y + h / 2, base, height=h, color="white", edgecolor=_EDGE, hatch="///",
            linewidth=0.6, label="baseline", zorder=2)
    ax.barh(y - h / 2, final, height=h, color="0.4", edgecolor=_EDGE, linewidth=0.6,
            label="after control", zorder=2)
    extra = []
    if "target_ugm3" in t:
        target = t["target_ugm3"].to_numpy(float)
        ok = np.isfinite(target)
        if ok.any():
            ax.vlines(target[ok], y[ok] - 0.48, y[ok] + 0.48, colors="black", linestyles="--",
                      linewidth=1.6, zorder=4, label="target")
            extra.append(np.nanmax(target))
    if "mtfr_ugm3" in t:
        mtfr = t["mtfr_ugm3"].to_numpy(float)
        ok = np.isfinite(mtfr)
        if ok.any():
            ax.plot(mtfr[ok], y[ok] - h / 2, linestyle="none", marker="D", markersize=5,
                    markerfacecolor="white", markeredgecolor="black", zorder=5,
                    label="MTFR (every measure\nat its limit)")
    ax.set_yticks(y, t["receptor"].astype(str))
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, _headroom(np.concatenate([base, final]), extra) / 1.1)
    name = _metric_name(metric)
    ax.set_xlabel(f"{name} concentration (µg/m³)")
    ax.set_ylabel("receptor")
    has_target = bool(extra)
    ax.set_title(f"{name}: baseline and after control" + (" against the target" if has_target else
                                                          " (no target)"))
    ax.grid(axis="x", color="0.85", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return ax


# --- city map -----------------------------------------------------------------------------------

def city_map(cities: pd.DataFrame, geo: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Cities at their lon/lat, marker area proportional to cost, grey shade by
    burden (% of GDP, colour bar), labelled with the city name.

    ``geo`` has columns city, lat, lon (the region's ``cities.csv``; its ``name``
    column, when present, labels the points). Cities missing from ``geo`` are not drawn.
    """
    _require(cities, ["city", "cost_cny", "burden"], "city_map (cities)")
    _require(geo, ["city", "lat", "lon"], "city_map (geo)")
    cols = ["city", "lat", "lon"] + (["name"] if "name" in geo.columns else [])
    t = cities[["city", "cost_cny", "burden"]].merge(geo[cols], on="city", how="inner")
    ax = _new_ax(ax, (7.5, 7.0))
    cost = t["cost_cny"].to_numpy(float) / BN
    burden = t["burden"].to_numpy(float) * PCT
    cmax = float(np.nanmax(cost)) if len(cost) and np.nanmax(cost) > 0 else 1.0
    size = _marker_area(cost, cmax)
    sc = ax.scatter(t["lon"], t["lat"], s=size, c=burden, cmap="Greys", vmin=0,
                    vmax=max(float(np.nanmax(burden)) if len(burden) else 0.0, 1e-12),
                    edgecolors="black", linewidths=0.7, zorder=3)
    cb = ax.figure.colorbar(sc, ax=ax, shrink=0.8, pad=0.02)
    cb.set_label("% of GDP")
    if len(t):
        mean_lat = float(t["lat"].mean())
        ax.set_aspect(1 / max(math.cos(math.radians(mean_lat)), 0.1), adjustable="datalim")
        ax.margins(0.08)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.set_title(f"Cost (marker area, bn CNY/yr) and burden (shade, % of GDP) by city\n"
                 f"total {_fmt(np.nansum(cost))} bn CNY/yr")
    ax.grid(color="0.9", linewidth=0.5)
    ax.set_axisbelow(True)
    ref = sorted({float(f"{cmax * f:.2g}") for f in (0.25, 0.5, 1.0)})
    handles = [Line2D([], [], linestyle="none", marker="o", markerfacecolor="white",
                      markeredgecolor="black", markersize=math.sqrt(_marker_area(np.array([v]), cmax)[0]),
                      label=f"{_fmt(v)}") for v in ref]
    ax.legend(handles=handles, title="cost (bn CNY/yr)", loc="upper center",
              bbox_to_anchor=(0.5, -0.1), ncol=len(handles), fontsize=8, title_fontsize=8,
              frameon=False, labelspacing=1.2, borderpad=1.0)
    labels = (t["name"] if "name" in t else t["city"]).astype(str).tolist()
    _label_points(ax, t["lon"].to_numpy(float), t["lat"].to_numpy(float), labels, size)
    return ax


def _label_points(ax: Axes, xs, ys, labels, area, fontsize: float = 7) -> None:
    """Label each point beside its marker at the candidate place (four corners,
    then right, left, above, below) whose estimated text box overlaps least with
    the other markers, the labels placed so far and the outside of the axes."""
    engine = ax.figure.get_layout_engine()
    if engine is not None:  # place the axes where they will be drawn, so the geometry is right
        engine.execute(ax.figure)
    ax.autoscale_view()
    ax.apply_aspect()
    pts = ax.transData.transform(np.column_stack([xs, ys])) if len(xs) else np.zeros((0, 2))
    frame = ax.get_window_extent()
    scale = ax.figure.dpi / 72.0  # display pixels per point
    radius = np.sqrt(np.asarray(area, float)) / 2 * scale
    markers = [(px - r, py - r, px + r, py + r) for (px, py), r in zip(pts, radius)]
    placed: list[tuple] = []
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]

    def overlap(a, b) -> float:
        return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))

    for i, (x, y, (px, py), r, lab) in enumerate(zip(xs, ys, pts, radius, labels)):
        w = 0.62 * fontsize * len(lab) * scale
        h = fontsize * 1.25 * scale
        g = r * 0.72 + 1.5 * scale  # corner offset: just off the circle
        s = r + 2 * scale  # side offset
        candidates = [  # (offset x, offset y in pixels, ha, va)
            (g, g, "left", "bottom"), (g, -g, "left", "top"),
            (-g, g, "right", "bottom"), (-g, -g, "right", "top"),
            (s, 0, "left", "center"), (-s, 0, "right", "center"),
            (0, s, "center", "bottom"), (0, -s, "center", "top"),
        ]
        best = None
        for ox, oy, ha, va in candidates:
            x0 = px + ox - {"left": 0, "center": w / 2, "right": w}[ha]
            y0 = py + oy - {"bottom": 0, "center": h / 2, "top": h}[va]
            box = (x0, y0, x0 + w, y0 + h)
            cost = sum(overlap(box, m) for j, m in enumerate(markers) if j != i)
            cost += sum(overlap(box, b) for b in placed)
            cost += w * h - overlap(box, (frame.x0, frame.y0, frame.x1, frame.y1))
            if best is None or cost < best[0]:
                best = (cost, ox, oy, ha, va, box)
            if cost == 0:
                break
        _, ox, oy, ha, va, box = best
        placed.append(box)
        ax.annotate(lab, (x, y), xytext=(ox / scale, oy / scale), textcoords="offset points",
                    ha=ha, va=va, fontsize=fontsize, zorder=4, path_effects=halo)


def _marker_area(cost_bn: np.ndarray, cmax: float) -> np.ndarray:
    """Marker area in pt² proportional to cost, with a small floor so zero-cost cities show."""
    return 12.0 + 700.0 * np.nan_to_num(cost_bn) / cmax


# --- Pareto front -------------------------------------------------------------------------------

_FRONT_SIZE = (6.5, 4.8)


def non_dominated(points: pd.DataFrame, x: str = "total_cost_cny", y: str = "gini_burden") -> pd.Series:
    """True for the points on the Pareto front of (x, y), both minimised.

    Only optimal points (``status == "optimal"``, or every point when there is
    no status column) with finite x and y take part; a point is dominated when
    another such point is no worse in both and better in one. Identical points
    do not dominate each other: all of them stay on the front.
    """
    _require(points, [x, y], "non_dominated")
    xs = points[x].to_numpy(float)
    ys = points[y].to_numpy(float)
    idx = np.flatnonzero(_optimal(points) & np.isfinite(xs) & np.isfinite(ys))
    front = np.zeros(len(points), dtype=bool)
    for i in idx:
        other = idx[idx != i]
        le = (xs[other] <= xs[i]) & (ys[other] <= ys[i])
        lt = (xs[other] < xs[i]) | (ys[other] < ys[i])
        front[i] = not np.any(le & lt)
    return pd.Series(front, index=points.index, name="non_dominated")


def pareto_front(points: pd.DataFrame, x: str = "total_cost_cny", y: str = "gini_burden",
                 ax: Axes | None = None, label: str | None = None) -> Axes:
    """A Pareto front of two minimised objectives from one row per point.

    Non-dominated optimal points are filled circles joined by a line (in x
    order); dominated optimal points are hollow circles; points whose
    ``status`` is not optimal are not drawn but counted in the legend and the
    title. Known columns (``total_cost_cny``, ``gini_burden``, ``max_burden``,
    ...) are drawn in bn CNY/yr, % of GDP or 0–1. ``label`` names a column
    whose values annotate the drawn points (e.g. a weight or a cap).
    """
    _require(points, [x, y], "pareto_front")
    fx, fy = _metric(x)[2], _metric(y)[2]
    xs = points[x].to_numpy(float) * fx
    ys = points[y].to_numpy(float) * fy
    drawn = _optimal(points) & np.isfinite(xs) & np.isfinite(ys)
    front = non_dominated(points, x, y).to_numpy()
    dominated = drawn & ~front
    n_skip = int((~drawn).sum())
    ax = _new_ax(ax, _FRONT_SIZE)
    order = np.flatnonzero(front)
    order = order[np.lexsort((ys[order], xs[order]))]
    ax.plot(xs[order], ys[order], color="black", linestyle="-", linewidth=1.2, marker="o",
            markersize=6, markerfacecolor="black", markeredgecolor="black", zorder=3,
            label=f"Pareto front ({len(order)} points)")
    if dominated.any():
        ax.plot(xs[dominated], ys[dominated], linestyle="none", marker="o", markersize=6,
                markerfacecolor="none", markeredgecolor="0.3", zorder=2,
                label=f"dominated ({int(dominated.sum())})")
    handles, _ = ax.get_legend_handles_labels()
    if n_skip:
        handles.append(Line2D([], [], linestyle="none", marker="x", color="0.5",
                              label=f"not optimal or no value: {n_skip} (not drawn)"))
    if label is not None and label in points.columns:
        for i in np.flatnonzero(drawn):
            ax.annotate(str(points[label].iloc[i]), (xs[i], ys[i]), xytext=(4, 4),
                        textcoords="offset points", fontsize=7)
    ax.set_xlabel(_axis_label(x))
    ax.set_ylabel(_axis_label(y))
    title = f"Pareto front: {_metric(x)[0]} vs {_metric(y)[0]} (both minimised)"
    if n_skip:
        title += f"\n{n_skip} of {len(points)} points not optimal, not drawn"
    ax.set_title(title)
    ax.grid(color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(handles=handles, loc="best", fontsize=8)
    return ax


# --- comparison of options ----------------------------------------------------------------------

def attainment_curve(points: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The cost of ambition: total cost against gap closure (0 = baseline, 1 = every
    targeted receptor at its MTFR), from ``fairshare pareto --sweep target``. Points that
    did not solve are not drawn but counted in the title."""
    _require(points, ["gamma", "total_cost_cny"], "attainment_curve")
    gamma = points["gamma"].to_numpy(float)
    cost = points["total_cost_cny"].to_numpy(float) / BN
    ok = _optimal(points) & np.isfinite(gamma) & np.isfinite(cost)
    order = np.flatnonzero(ok)
    order = order[np.argsort(gamma[order], kind="stable")]
    ax = _new_ax(ax, _FRONT_SIZE)
    ax.plot(gamma[order], cost[order], "o-", color="black")
    ax.set_xlabel("gap closure towards MTFR (0 = baseline, 1 = MTFR)")
    ax.set_ylabel("total cost (bn CNY/yr)")
    skipped = int((~ok).sum())
    ax.set_title("Cost of attainment"
                 + (f" ({skipped} point{'s' * (skipped != 1)} not solved)" if skipped else ""))
    ax.grid(True, color="0.9")
    return ax


def compare_bars(table: pd.DataFrame, metrics: Sequence[str], ax: Axes | None = None,
                 relative: bool | None = None) -> Axes:
    """Grouped bars: one group per roadmap option (row; the ``scenario`` column or
    the index names it), one hatched bar per metric (column). An option whose
    ``status`` is not optimal keeps its place on the axis, with its status
    (e.g. "infeasible") written where its bars would be.

    Known columns are drawn in their units (bn CNY/yr, % of GDP, 0–1). When the
    metrics do not share one unit (or ``relative=True``), each metric is drawn as
    % of its largest value over the options so that they fit on one axis; the
    legend then gives the largest value in its unit.
    """
    metrics = list(metrics)
    if not metrics:
        raise ValueError("compare_bars needs at least one metric")
    _require(table, metrics, "compare_bars")
    names = (table["scenario"] if "scenario" in table.columns else table.index).astype(str)
    units = {_metric(m)[1] for m in metrics}
    if relative is None:
        relative = len(units) > 1
    n, k = len(table), len(metrics)
    solved = _optimal(table)
    ax = _new_ax(ax, _compare_size(n, k))
    width = 0.8 / k
    xpos = np.arange(n)
    for j, m in enumerate(metrics):
        name, unit, factor = _metric(m)
        vals = np.where(solved, table[m].to_numpy(float) * factor, np.nan)
        lab = f"{name} ({unit})" if unit else name
        if relative:
            top = np.nanmax(np.abs(vals)) if np.isfinite(vals).any() else np.nan
            shown = f" {unit}" if unit and unit != "0–1" else ""
            lab = f"{name} (100 % = {_fmt(top)}{shown})"
            vals = vals / top * PCT if top and np.isfinite(top) else vals * np.nan
        bars = ax.bar(xpos + (j - (k - 1) / 2) * width, vals, width=width * 0.95,
                      color=_FILLS[j % len(_FILLS)], hatch=_HATCHES[j % len(_HATCHES)],
                      edgecolor=_EDGE, linewidth=0.6, label=lab, zorder=2)
        ax.bar_label(bars, labels=[_fmt(v) for v in vals], padding=1, fontsize=_BAR_FONT)
    status = table["status"].fillna("no status").astype(str) if "status" in table else None
    for i in np.flatnonzero(~solved):
        ax.text(xpos[i], 0.03, status.iloc[i].replace("_", " "), transform=ax.get_xaxis_transform(),
                rotation=90, ha="center", va="bottom", fontsize=8, style="italic")
    ax.set_xticks(xpos, names.tolist(), rotation=20 if n > 3 else 0, ha="right" if n > 3 else "center")
    ax.set_xlim(-0.6, n - 0.4)  # a failed option at either end has no bars to widen the axis
    ax.set_xlabel("roadmap option")
    if relative:
        ax.set_ylabel("% of the largest option")
    elif len(units) == 1 and "" not in units:
        ax.set_ylabel(f"value ({units.pop()})")
    else:
        ax.set_ylabel("value")
    ax.set_title("Roadmap options compared" + (" (each metric relative to its largest)" if relative else ""))
    ax.margins(y=0.15)
    ax.grid(axis="y", color="0.85", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def _compare_size(n: int, k: int) -> tuple[float, float]:
    """Figure size for ``n`` options of ``k`` bars each."""
    return (max(6.0, 1.1 * n * max(k, 2) * 0.5 + 2), 4.8)


# --- a results folder ---------------------------------------------------------------------------

def _read_table(path: Path) -> pd.DataFrame:
    """A table as fairshare wrote it, with name columns kept as text (city "0101" stays
    "0101", not 101)."""
    names = {"city", "receptor", "metric", "scenario", "sweep", "status"}
    return pd.read_csv(path, dtype={c: str for c in names})


def _load_geo(geo) -> pd.DataFrame | None:
    if geo is None or isinstance(geo, pd.DataFrame):
        return geo
    p = Path(geo)
    if p.is_dir():
        p = p / "cities.csv"
    return _read_table(p)


def _fairness_lines(summary: dict, cities: pd.DataFrame):
    """The burden cap (float, or {city: cap} when caps differ) and band (regional, width)."""
    rules = (summary.get("scenario_resolved") or {}).get("fairness") or []
    ids = cities["city"].astype(str).tolist()
    per_city: dict[str, float] = {}
    widths = []
    for r in rules:
        if not isinstance(r, Mapping):
            continue
        if r.get("rule") == "burden_cap" and r.get("max_share_of_gdp") is not None:
            who = r.get("cities", "all")
            for c in (ids if who == "all" else [str(c) for c in who]):
                per_city[c] = min(per_city.get(c, math.inf), float(r["max_share_of_gdp"]))
        elif r.get("rule") == "burden_band" and r.get("width") is not None:
            widths.append(float(r["width"]))
    cap = None
    if per_city:
        values = {per_city.get(c) for c in ids}
        cap = values.pop() if len(values) == 1 and None not in values else per_city
    band = None
    regional = (summary.get("fairness") or {}).get("regional_burden")
    if widths and regional is not None:
        band = (float(regional), min(widths))
    return cap, band


def _save(fig: Figure, folder: str | Path, stem: str) -> list[Path]:
    """Write ``stem``.png and ``stem``.svg into ``folder``; return their paths.

    Each file is written under a hidden temporary name and renamed, so that a reader
    never sees half a file; the SVG has no date and fixed ids, so that redrawing the
    same table gives the same bytes.
    """
    out = []
    for ext in ("png", "svg"):
        path = Path(folder) / f"{stem}.{ext}"
        tmp = Path(folder) / f".{stem}.partial.{ext}"
        kw = {"dpi": 150} if ext == "png" else {"metadata": {"Date": None}}
        try:
            with matplotlib.rc_context({"svg.hashsalt": "fairshare"}):
                fig.savefig(tmp, format=ext, **kw)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        out.append(path)
    return out


def write_result_plots(result_dir: str | Path, geo=None) -> list[Path]:
    """Write the plots of one results folder into it, as PNG and SVG; return the paths.

    ``cost_by_city``, ``burden_by_city`` (with the burden cap and burden band of
    the scenario's fairness rules, from ``summary.json``), one
    ``concentrations_<metric>`` per metric and, when ``geo`` is given (a
    DataFrame with city, lat, lon, a region's ``cities.csv`` or its folder),
    ``city_map``. A result that is not optimal has no tables to draw: nothing is
    written and the list is empty. A folder without ``summary.json`` is not a
    finished result: FileNotFoundError.
    """
    folder = Path(result_dir)
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{folder} is not a finished results folder: no summary.json")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    if summary.get("status") != "optimal":
        return []
    written: list[Path] = []
    cities = _read_table(folder / "cities.csv") if (folder / "cities.csv").is_file() else None
    receptors = _read_table(folder / "receptors.csv") if (folder / "receptors.csv").is_file() else None

    def draw(stem, size, fn, *args, **kw):
        fig, ax = _figure(size)
        fn(*args, ax=ax, **kw)
        written.extend(_save(fig, folder, stem))

    if cities is not None and len(cities):
        cities = cities.astype({"city": str})
        cap, band = _fairness_lines(summary, cities)
        draw("cost_by_city", _rows_height(len(cities)), cost_by_city, cities)
        draw("burden_by_city", _rows_height(len(cities)), burden_by_city, cities, cap=cap, band=band)
        geo_df = _load_geo(geo)
        if geo_df is not None:
            draw("city_map", (7.5, 7.0), city_map, cities, geo_df.astype({"city": str}))
    if receptors is not None and len(receptors):
        for metric in pd.unique(receptors["metric"].astype(str)):
            n = int((receptors["metric"].astype(str) == metric).sum())
            draw("concentrations_" + re.sub(r"[^A-Za-z0-9_.-]", "_", metric), _rows_height(n), concentrations, receptors,
                 metric=metric)
    return written


# --- a Pareto folder, a comparison folder -------------------------------------------------------

#: The y column of each fairness sweep: fairshare.fronts.Y_METRICS, copied so that
#: plotting does not import the solver (a test keeps the two equal).
def _front_y() -> dict[str, str]:
    """--y of a fairness front -> its column, from the rule families' sweeps."""
    from fairshare.families import SWEEPS
    return {name: s.column for name, s in SWEEPS.items() if s.loose is not None}


FRONT_Y = _front_y()


def _front_kind(front: pd.DataFrame) -> str:
    """The sweep of a front table: "target" or a key of :data:`FRONT_Y`."""
    kinds = set(front["sweep"].dropna().astype(str)) if "sweep" in front.columns else set()
    if "gamma" in front.columns or kinds == {"target"}:
        return "target"
    if len(kinds) != 1 or not kinds <= FRONT_Y.keys():
        raise ValueError(f"a front table needs one sweep in its sweep column, one of "
                         f"{', '.join([*FRONT_Y, 'target'])}; found {', '.join(sorted(kinds)) or 'none'}")
    return kinds.pop()


def write_front_plots(front: pd.DataFrame, folder: str | Path) -> list[Path]:
    """Write ``pareto.png`` and ``pareto.svg`` of a front table (``pareto.csv``) into
    ``folder``; return the paths.

    A target sweep (``sweep`` is "target", or the table has ``gamma``) draws the
    cost-of-attainment curve; a fairness sweep draws the Pareto front of total cost
    against its metric (:data:`FRONT_Y`). A front without an optimal point has
    nothing to draw: nothing is written and the list is empty.
    """
    if not _optimal(front).any():
        return []
    kind = _front_kind(front)
    fig, ax = _figure(_FRONT_SIZE)
    if kind == "target":
        attainment_curve(front, ax=ax)
    else:
        pareto_front(front, x="total_cost_cny", y=FRONT_Y[kind], ax=ax)
    return _save(fig, folder, "pareto")


def write_comparison_plots(table: pd.DataFrame, folder: str | Path) -> list[Path]:
    """Write ``compare.png`` and ``compare.svg`` of a comparison table (``compare.csv``)
    into ``folder``; return the paths.

    Grouped bars of the metrics of ``fairshare.comparison.COLUMNS_FOR_PLOT`` that
    some optimal option has; an option that did not solve keeps its slot, labelled
    with its status. With no optimal option or no such metric nothing is written
    and the list is empty.
    """
    from fairshare.comparison import COLUMNS_FOR_PLOT

    solved = _optimal(table)
    metrics = [m for m in COLUMNS_FOR_PLOT
               if m in table.columns and np.isfinite(table[m].to_numpy(float)[solved]).any()]
    if not metrics:
        return []
    fig, ax = _figure(_compare_size(len(table), len(metrics)))
    compare_bars(table, metrics, ax=ax)
    return _save(fig, folder, "compare")


# --- redraw any folder --------------------------------------------------------------------------

def _redraw_result(folder: Path) -> list[Path]:
    """The result's plots, with the city map when the region named in summary.json
    (an absolute path) still has its cities.csv inside it."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    from fairshare.data import readable_region_file

    region = (summary.get("region") or {}).get("folder")
    geo = readable_region_file(Path(region), "cities.csv") if region else None
    return write_result_plots(folder, geo=geo)


def _redraw_front(folder: Path) -> list[Path]:
    return write_front_plots(_read_table(folder / "pareto.csv"), folder)


def _redraw_comparison(folder: Path) -> list[Path]:
    return write_comparison_plots(_read_table(folder / "compare.csv"), folder)


# The file that marks each kind of folder, in the order they are tried.
_KINDS: dict[str, Callable[[Path], list[Path]]] = {
    "summary.json": _redraw_result, "pareto.csv": _redraw_front, "compare.csv": _redraw_comparison,
}


def _redrawer(folder: Path) -> Callable[[Path], list[Path]] | None:
    return next((draw for mark, draw in _KINDS.items() if (folder / mark).is_file()), None)


class RedrawError(Exception):
    """Some folders under the one given to :func:`redraw` failed; the others were drawn.

    ``written``: the files drawn; ``failures``: (folder, exception) pairs.
    """

    def __init__(self, written: list[Path], failures: list[tuple[Path, Exception]]):
        self.written, self.failures = written, failures
        lines = [f"could not redraw {len(failures)} folder(s) ({len(written)} files drawn in the others):"]
        lines += [f"  {f}: {type(e).__name__}: {e}" for f, e in failures]
        super().__init__("\n".join(lines))


def redraw(folder: str | Path) -> list[Path]:
    """Re-draw the plots of a folder fairshare wrote; return the files written.

    ``folder`` is a results folder (summary.json: :func:`write_result_plots`, with the
    city map when its region's cities.csv is still there), a Pareto folder (pareto.csv:
    :func:`write_front_plots`), a comparison folder (compare.csv:
    :func:`write_comparison_plots`), or a folder holding them, such as ``results/``
    (each child of those kinds is redrawn; hidden children, such as the ``.*.partial-*``
    folders of an interrupted run, and other children are skipped).

    Any other folder: ValueError; no folder at all: FileNotFoundError. A child that
    fails does not stop the others: once all are done, :class:`RedrawError` lists the
    failures and carries the files written.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder}")
    draw = _redrawer(folder)
    if draw is not None:
        return draw(folder)
    children = [c for c in sorted(folder.iterdir())
                if c.is_dir() and not c.name.startswith(".") and _redrawer(c) is not None]
    if not children:
        raise ValueError(f"{folder} has nothing to redraw: give a results folder (summary.json), "
                         f"a Pareto folder (pareto.csv), a comparison folder (compare.csv), "
                         f"or a folder holding them")
    written: list[Path] = []
    failures: list[tuple[Path, Exception]] = []
    for child in children:
        try:
            written += _redrawer(child)(child)
        except Exception as exc:  # one bad folder must not cost the others their plots
            failures.append((child, exc))
    if failures:
        raise RedrawError(written, failures)
    return written
