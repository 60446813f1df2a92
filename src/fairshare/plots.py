"""Plots of result tables (docs/results.md): cost and burden by city, concentrations
against targets, a city map, Pareto fronts and option comparisons.

Every plot function takes result tables as written to a results folder (pandas
DataFrames with the columns of ``cities.csv``, ``receptors.csv``, ...) and an
optional ``ax``; it draws on that Axes (or on a new figure) and returns the
Axes. Nothing here solves. Figures have titles and units on the axes.

**Style.** Plots are in colour by default, with colour-blind-safe colours: the
perceptually uniform viridis scale for burdens (its light end is yellow, never
white, so a city that pays almost nothing still shows) and the Okabe-Ito colours for
marks. ``use_style("grey")`` switches every plot drawn afterwards to greyscale for
print (greys, hatching and marker shapes, never colour alone); the writers and
:func:`redraw` also take ``style=`` for one call. See :func:`use_style`.

**Names.** City and option names are drawn in their own script (a region whose
``name`` column holds Chinese names) when an installed font has their glyphs (Noto
Sans CJK, Source Han Sans, WenQuanYi, Droid Sans Fallback, ...); otherwise the
names a font cannot draw are replaced by their ids, and one :class:`FontWarning`
per process says so (matplotlib's own per-glyph warnings are not shown).

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

import contextlib
import functools
import json
import math
import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import matplotlib
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = [
    "cost_by_city", "burden_by_city", "concentrations", "city_map", "pareto_front",
    "non_dominated", "attainment_curve", "compare_bars", "write_result_plots",
    "write_front_plots", "write_comparison_plots", "redraw", "RedrawError", "use_style",
    "current_style", "STYLES", "FontWarning", "read_outlines", "MAP_FILE",
]

BN = 1e9  # CNY per bn CNY
PCT = 100.0  # % per fraction

#: A region's province outlines, relative to its folder (optional; see :func:`city_map`).
MAP_FILE = "map/provinces.geojson"

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

_EDGE = "black"
_BAR_FONT = 7


# --- style: colour by default, greyscale for print ---------------------------------------------

@dataclass(frozen=True)
class _Style:
    name: str
    bar: str            # bars of one series (cost, the comparison panels)
    bar_edge: str
    base_fill: str      # the baseline concentration (hatched)
    base_edge: str
    final: str          # the concentration after control
    line: str           # the Pareto front, the attainment curve
    least_cost: str     # the least-cost point of a front
    fairest: str        # the fairest reachable point of a front
    option: str         # a labelled extra point (a roadmap option) on a front
    mtfr: str           # MTFR diamonds
    band: str           # the shaded burden band
    cmap: mcolors.Colormap  # burden (% of GDP): bars and map markers
    land: str           # the region's provinces on the map
    border: str         # their outlines
    context_land: str   # neighbouring provinces
    context: str        # their outlines
    sea: str            # the map's background, where no outline is
    fills: tuple[str, ...]    # one per series where several share an axis
    hatches: tuple[str, ...]


def _truncated(name: str, lo: float, hi: float) -> mcolors.Colormap:
    base = matplotlib.colormaps[name]
    return mcolors.LinearSegmentedColormap.from_list(
        f"{name}_{lo:g}_{hi:g}", base(np.linspace(lo, hi, 256)))


# Okabe & Ito (2008), colour-blind safe: orange, sky blue, bluish green, vermillion,
# blue, reddish purple.
_OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7")

_STYLES = {
    # viridis reversed: light (yellow, never white) = small burden, dark = large
    "colour": _Style(
        "colour", bar="#3b6e9c", bar_edge="#1f3f5c", base_fill="#dce9f5", base_edge="#3b6e9c",
        final="#3b6e9c", line="#3b6e9c", least_cost="#E69F00", fairest="#009E73",
        option="#D55E00", mtfr="#E69F00", band="#e3e3e3",
        cmap=_truncated("viridis_r", 0.0, 0.97), land="#f3f1ea", border="#6f6f6f",
        context_land="#fbfbf9", context="#b0b0b0", sea="#e6eff6", fills=_OKABE_ITO, hatches=("",) * 6),
    # greys from light (a fifth of the way, never white) to black; hatches tell series apart
    "grey": _Style(
        "grey", bar="0.55", bar_edge=_EDGE, base_fill="white", base_edge=_EDGE, final="0.4",
        line="black", least_cost="white", fairest="0.6", option="0.85", mtfr="white",
        band="0.93", cmap=_truncated("Greys", 0.2, 1.0), land="0.95", border="0.3",
        context_land="0.985", context="0.6", sea="white",
        fills=("0.35", "white", "0.75", "white", "0.55", "white"),
        hatches=("", "///", "", "...", "xx", "\\\\\\")),
}
#: The styles :func:`use_style` takes.
STYLES = tuple(_STYLES)
_ALIASES = {"color": "colour", "gray": "grey", "greyscale": "grey", "grayscale": "grey"}
_current = ["colour"]


def _style_name(style: str) -> str:
    name = _ALIASES.get(str(style).lower(), str(style).lower())
    if name not in _STYLES:
        raise ValueError(f"unknown plot style {style!r}: use one of {', '.join(STYLES)}")
    return name


def use_style(style: str) -> str:
    """Set the style of every plot drawn from now on in this process; return the previous one.

    ``"colour"`` (the default): colour-blind-safe colours, burdens on the viridis scale
    (light yellow for the smallest, dark for the largest). ``"grey"``: greyscale for
    print, burdens from light grey (never white) to black, series told apart by
    hatching and marker shapes. ``"color"``, ``"gray"`` are accepted too; anything else
    is a ValueError. For one call only, pass ``style=`` to :func:`write_result_plots`,
    :func:`write_front_plots`, :func:`write_comparison_plots` or :func:`redraw`.
    """
    previous = _current[0]
    _current[0] = _style_name(style)
    return previous


def current_style() -> str:
    """The style plots are drawn in now: ``"colour"`` or ``"grey"``."""
    return _current[0]


@contextlib.contextmanager
def _styled(style: str | None) -> Iterator[None]:
    """Draw in ``style`` inside the block (None: the current style)."""
    if style is None:
        yield
        return
    previous = use_style(style)
    try:
        yield
    finally:
        _current[0] = previous


def _s() -> _Style:
    return _STYLES[_current[0]]


# --- names in their own script -----------------------------------------------------------------

class FontWarning(UserWarning):
    """No installed font has the glyphs of some names: they were drawn as their ids."""


# Families with the glyphs of Chinese (and Japanese, Korean) names, most wanted first;
# then file names of such fonts, for a font installed after matplotlib built its cache.
_CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "Noto Sans CJK TC", "Noto Sans CJK JP", "Noto Sans CJK KR", "Source Han Sans",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback", "Microsoft YaHei",
    "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "Sarasa Gothic SC",
    "Noto Serif CJK SC", "AR PL UMing CN", "AR PL UKai CN", "SimSun",
)
_CJK_FILES = ("notosanscjk", "notosanssc", "sourcehansans", "wqy", "droidsansfallback",
              "msyh", "simhei", "pingfang", "hiragino", "sarasa", "notoserifcjk", "uming",
              "ukai", "simsun")
_GLYPH_WARNING = r"Glyph \d+ .*missing from (current font|font\(s\))"
_warned_fonts = [False]


@functools.lru_cache(maxsize=None)
def _charmap(path: str) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font
    try:
        return frozenset(FT2Font(path).get_charmap())
    except Exception:  # an unreadable font has no glyphs for us
        return frozenset()


def _default_glyphs() -> frozenset[int]:
    from matplotlib import font_manager as fm
    return _charmap(fm.findfont(fm.FontProperties(), fallback_to_default=True))


@functools.lru_cache(maxsize=None)
def _cjk_fonts() -> tuple[tuple[str, str], ...]:
    """(family, file) of the installed fonts with CJK glyphs, most wanted first."""
    from matplotlib import font_manager as fm

    by_name: dict[str, str] = {}
    for entry in fm.fontManager.ttflist:
        by_name.setdefault(entry.name, entry.fname)
    found = [(fam, by_name[fam]) for fam in _CJK_FAMILIES if fam in by_name]
    if found:
        return tuple(found)
    try:  # a font installed after matplotlib's cache was built
        system = fm.findSystemFonts()
    except Exception:
        system = []
    for path in sorted(system):
        key = re.sub(r"[^a-z]", "", Path(path).name.lower())
        if not any(k in key for k in _CJK_FILES):
            continue
        try:
            fm.fontManager.addfont(path)
            name = fm.FontProperties(fname=path).get_name()
        except Exception:
            continue
        found.append((name, path))
    return tuple(found)


def _drawable_names(names: Sequence[str], ids: Sequence[str]) -> tuple[list[str], list[str] | None]:
    """The labels to draw and the font families to draw them in (None: the default).

    A name whose characters the default font lacks is drawn with the first installed CJK
    font that has them all (the default font still draws its Latin letters); a name no
    font can draw is replaced by its id, and the first time this happens in the process a
    :class:`FontWarning` says so."""
    names = [str(n) for n in names]
    default = _default_glyphs()
    needed = {ord(ch) for n in names for ch in n if not ch.isspace()} - default
    if not needed:
        return names, None
    from matplotlib import rcParams
    base = list(rcParams["font.sans-serif"][:1]) or ["DejaVu Sans"]
    for family, path in _cjk_fonts():
        glyphs = _charmap(path)
        if needed <= glyphs:
            return names, [*base, family]
    glyphs = set(default)
    families = []
    for family, path in _cjk_fonts()[:1]:
        glyphs |= _charmap(path)
        families = [*base, family]
    out, missing = [], []
    for name, ident in zip(names, ids):
        if {ord(ch) for ch in name if not ch.isspace()} <= glyphs:
            out.append(name)
        else:
            out.append(str(ident))
            missing.append(name)
    if missing and not _warned_fonts[0]:
        _warned_fonts[0] = True
        shown = ", ".join(repr(m) for m in missing[:3]) + (" ..." if len(missing) > 3 else "")
        warnings.warn(
            f"no installed font has the characters of {len(missing)} name(s) ({shown}): they "
            "are labelled by their ids. Install a font with Chinese characters, such as Noto "
            "Sans CJK (Debian and Ubuntu: fonts-noto-cjk) or WenQuanYi Micro Hei "
            "(fonts-wqy-microhei), to see the names", FontWarning, stacklevel=3)
    return out, families or None


def _font_kw(families: list[str] | None) -> dict:
    return {"fontfamily": families} if families else {}


# --- helpers ------------------------------------------------------------------------------------

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


def _headroom(vals, extra=()) -> float:
    """Right limit leaving room for the value labels."""
    finite = np.asarray(vals, float)
    finite = finite[np.isfinite(finite)]
    top = max([float(finite.max()) if len(finite) else 0.0, *[float(e) for e in extra]])
    return top * 1.15 if top > 0 else 1.0


def _burden_norm(values_pct: np.ndarray) -> mcolors.Normalize:
    finite = values_pct[np.isfinite(values_pct)]
    return mcolors.Normalize(vmin=0.0, vmax=max(float(finite.max()) if len(finite) else 0.0, 1e-12))


# --- cost and burden by city --------------------------------------------------------------------

def cost_by_city(cities: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Horizontal bars of each city's annual cost in bn CNY/yr, the largest at the top."""
    _require(cities, ["city", "cost_cny"], "cost_by_city")
    st = _s()
    t = cities.sort_values("cost_cny", kind="stable")
    y = np.arange(len(t))
    vals = t["cost_cny"].to_numpy(float) / BN
    ax = _new_ax(ax, _rows_height(len(t)))
    bars = ax.barh(y, vals, height=0.7, color=st.bar, edgecolor=st.bar_edge, linewidth=0.6,
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


def burden_by_city(cities: pd.DataFrame, ax: Axes | None = None,
                   cap: float | Mapping[str, float] | None = None,
                   band: tuple[float, float] | None = None) -> Axes:
    """Horizontal bars of each city's cost as % of its GDP, the largest at the top, shaded
    by burden on the same scale as the city map.

    ``cap`` (a fraction of GDP, 0.008 = 0.8 %) draws a dashed vertical line; a
    mapping ``{city: cap}`` marks each listed city's own cap on its bar instead.
    ``band = (regional, width)`` (fractions of GDP) shades the band
    ``regional ± width`` and draws the regional ratio (total cost / total GDP).
    """
    _require(cities, ["city", "burden"], "burden_by_city")
    st = _s()
    t = cities.sort_values("burden", kind="stable")
    y = np.arange(len(t))
    vals = t["burden"].to_numpy(float) * PCT
    ax = _new_ax(ax, _rows_height(len(t)))
    extra = []
    handles = []
    if band is not None:
        regional, width = (float(v) * PCT for v in band)
        lo, hi = max(regional - width, 0.0), regional + width
        span = ax.axvspan(lo, hi, facecolor=st.band, edgecolor="0.55", hatch="..", linewidth=0,
                          zorder=0, label=f"band {_fmt(regional)} ± {_fmt(width)} % of GDP")
        line = ax.axvline(regional, color="black", linestyle=":", linewidth=1.2, zorder=3,
                          label=f"regional ratio {_fmt(regional)} % of GDP")
        handles += [span, line]
        extra.append(hi)
    shade = st.cmap(_burden_norm(vals)(np.nan_to_num(vals)))
    bars = ax.barh(y, vals, height=0.7, color=shade, edgecolor=st.bar_edge, linewidth=0.6,
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
    """Baseline (hatched) and final (solid) concentration per receptor for one metric,
    with each receptor's target as a dashed tick and its MTFR (the lowest reachable
    concentration) as a diamond when the table has one. µg/m³."""
    _require(receptors, ["metric", "receptor", "baseline_ugm3", "final_ugm3"], "concentrations")
    st = _s()
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
    ax.barh(y + h / 2, base, height=h, color=st.base_fill, edgecolor=st.base_edge, hatch="///",
            linewidth=0.6, label="baseline", zorder=2)
    ax.barh(y - h / 2, final, height=h, color=st.final, edgecolor=st.bar_edge, linewidth=0.6,
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
                    markerfacecolor=st.mtfr, markeredgecolor="black", zorder=5,
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

_GEOMETRIES = {"Polygon", "MultiPolygon", "LineString", "MultiLineString"}


def read_outlines(path: str | Path) -> dict:
    """A GeoJSON FeatureCollection of outlines (a region's ``map/provinces.geojson``), read
    with :mod:`json`: (Multi)Polygon features are areas, (Multi)LineString features lines.
    Coordinates are longitude, latitude (WGS 84). ValueError when the file is not such a
    collection."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable GeoJSON file ({exc})") from exc
    return _checked_outlines(data, str(path))


def _checked_outlines(data, where: str) -> dict:
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list):
        raise ValueError(f"{where}: not a GeoJSON FeatureCollection")
    for i, f in enumerate(data["features"]):
        geometry = f.get("geometry") if isinstance(f, Mapping) else None
        if not isinstance(geometry, Mapping) or geometry.get("type") not in _GEOMETRIES:
            raise ValueError(f"{where}: feature {i} is not a Polygon, MultiPolygon, LineString "
                             f"or MultiLineString")
    return dict(data)


def _parts(geometry: Mapping) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
    """(polygons as lists of rings, lines) of a GeoJSON geometry, as (n, 2) lon/lat arrays."""
    kind, coords = geometry["type"], geometry.get("coordinates") or []
    arr = lambda c: np.asarray(c, dtype=float).reshape(-1, 2) if len(c) else np.zeros((0, 2))  # noqa: E731
    if kind == "Polygon":
        return [[arr(r) for r in coords]], []
    if kind == "MultiPolygon":
        return [[arr(r) for r in poly] for poly in coords], []
    if kind == "LineString":
        return [], [arr(coords)]
    return [], [arr(line) for line in coords]


def _compound_path(polygons: list[list[np.ndarray]]):
    from matplotlib.path import Path as MPath

    verts, codes = [], []
    for rings in polygons:
        for ring in rings:
            if len(ring) < 3:
                continue
            verts += [ring, ring[:1]]
            codes += [MPath.MOVETO] + [MPath.LINETO] * (len(ring) - 1) + [MPath.CLOSEPOLY]
    if not codes:
        return None
    return MPath(np.concatenate(verts), codes)


def _inside(polygons: list[list[np.ndarray]], pts: np.ndarray) -> np.ndarray:
    """Even-odd: inside an odd number of rings (holes whatever their orientation)."""
    from matplotlib.path import Path as MPath

    odd = np.zeros(len(pts), dtype=bool)
    for rings in polygons:
        for ring in rings:
            if len(ring) >= 3:
                odd ^= MPath(ring).contains_points(pts)
    return odd


def _label_spot(polygons, view, cities_xy: np.ndarray, kx: float) -> tuple[float, float] | None:
    """A point inside the polygons and the view, as far as can be from the cities, the
    polygons' outline and the frame (a grid search; distances with longitude scaled by
    ``kx`` = cos(latitude), labels being wider than tall counted half in x)."""
    x0, x1, y0, y1 = view
    gx, gy = np.meshgrid(np.linspace(x0, x1, 48), np.linspace(y0, y1, 48))
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    pts = pts[_inside(polygons, pts)]
    if not len(pts):
        return None

    def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # each of a to the nearest of b
        if not len(b):
            return np.full(len(a), np.inf)
        dx = (a[:, None, 0] - b[None, :, 0]) * kx * 0.5
        dy = a[:, None, 1] - b[None, :, 1]
        return np.sqrt(dx * dx + dy * dy).min(axis=1)

    outline = np.concatenate([r for rings in polygons for r in rings if len(r)])
    edge = np.minimum.reduce([(pts[:, 0] - x0) * kx * 0.5, (x1 - pts[:, 0]) * kx * 0.5,
                              pts[:, 1] - y0, y1 - pts[:, 1]])
    score = np.minimum.reduce([dist(pts, cities_xy), 1.5 * dist(pts, outline), 1.5 * edge])
    best = int(np.argmax(score))
    if score[best] <= 0.12:  # no room: a sliver of the province in the corner of the view
        return None
    return float(pts[best, 0]), float(pts[best, 1])


def _draw_outlines(ax: Axes, shapes: Mapping, view, cities_xy: np.ndarray, kx: float,
                   local_names: bool, families: list[str] | None) -> None:
    """The outline features under the cities: the region's areas filled and outlined, the
    context (``"role": "context"``) in a lighter tone, lines thin, the background as sea,
    and the name of every region area that is not a municipality at a free spot."""
    from matplotlib.collections import LineCollection
    from matplotlib.patches import PathPatch

    st = _s()
    context_lines = []
    for feature in shapes["features"]:
        props = feature.get("properties") or {}
        polygons, lines = _parts(feature["geometry"])
        context = props.get("role") == "context"
        context_lines += lines
        path = _compound_path(polygons)
        if path is None:
            continue
        name = str(props.get("name") or "")
        if context:
            ax.add_artist(PathPatch(path, facecolor=st.context_land, edgecolor=st.context,
                                    linewidth=0.6, zorder=0.8, gid=f"context:{name}"))
            continue
        # add_artist, not add_patch: the outlines must not widen the view beyond the cities
        ax.add_artist(PathPatch(path, facecolor=st.land, edgecolor=st.border, linewidth=0.9,
                                zorder=1, gid=f"province:{name}"))
        if not name or str(props.get("type", "")).lower() == "municipality" or view is None:
            continue
        spot = _label_spot(polygons, view, cities_xy, kx)
        if spot is None:
            continue
        label = str(props.get("name_zh") or name) if local_names else name
        ax.text(*spot, label, ha="center", va="center", fontsize=9, style="italic",
                color="0.4", zorder=2, gid="province-name",
                **_font_kw(families if local_names else None))
    if context_lines:
        ax.add_collection(LineCollection(context_lines, colors=st.context, linewidths=0.6,
                                         zorder=0.9, gid="context"), autolim=False)
    ax.set_facecolor(st.sea)


def _outlines_or_note(outlines) -> tuple[dict | None, str | None]:
    if outlines is None:
        return None, "no province outlines: the region has no " + MAP_FILE
    try:
        if isinstance(outlines, Mapping):
            return _checked_outlines(outlines, "outlines"), None
        return read_outlines(outlines), None
    except ValueError as exc:
        return None, f"province outlines not drawn: {exc}"


def _view(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, float, float] | None:
    if not len(lon):
        return None
    x0, x1, y0, y1 = lon.min(), lon.max(), lat.min(), lat.max()
    pad = max(0.3, 0.08 * max(x1 - x0, y1 - y0))
    return float(x0 - pad), float(x1 + pad), float(y0 - pad), float(y1 + pad)


def city_map(cities: pd.DataFrame, geo: pd.DataFrame, ax: Axes | None = None,
             outlines=None) -> Axes:
    """Cities at their lon/lat over the region's province outlines: marker area
    proportional to cost, colour (or grey shade) by burden (% of GDP, colour bar),
    labelled with the city name in its own script when a font can draw it (else the id).

    ``geo`` has columns city, lat, lon (the region's ``cities.csv``; its ``name``
    column, when present, labels the points). Cities missing from ``geo`` are not drawn.
    ``outlines``: a GeoJSON FeatureCollection (a dict, or a path read by
    :func:`read_outlines`), such as a region's ``map/provinces.geojson``: its
    (Multi)Polygon features are drawn as provinces (filled, outlined, named by their
    ``name``, or ``name_zh`` when the city names are Chinese; a ``type`` of Municipality
    is not named: its city is), its (Multi)LineString features and those with
    ``"role": "context"`` as thin lines (neighbouring borders, coast). The view is the
    cities' extent; a collection's ``attribution`` member is printed in the corner.
    Without outlines (None, or a file that cannot be read) the cities are drawn on a
    plain lon/lat grid with a note saying why.
    """
    _require(cities, ["city", "cost_cny", "burden"], "city_map (cities)")
    _require(geo, ["city", "lat", "lon"], "city_map (geo)")
    st = _s()
    cols = ["city", "lat", "lon"] + (["name"] if "name" in geo.columns else [])
    t = cities[["city", "cost_cny", "burden"]].merge(geo[cols], on="city", how="inner")
    ax = _new_ax(ax, (7.5, 7.0))
    cost = t["cost_cny"].to_numpy(float) / BN
    burden = t["burden"].to_numpy(float) * PCT
    lon, lat = t["lon"].to_numpy(float), t["lat"].to_numpy(float)
    cmax = float(np.nanmax(cost)) if len(cost) and np.nanmax(cost) > 0 else 1.0
    size = _marker_area(cost, cmax)
    names = (t["name"] if "name" in t else t["city"]).astype(str).tolist()
    labels, families = _drawable_names(names, t["city"].astype(str).tolist())
    shapes, note = _outlines_or_note(outlines)
    view = _view(lon, lat)
    mean_lat = float(np.mean(lat)) if len(lat) else 0.0
    kx = max(math.cos(math.radians(mean_lat)), 0.1)
    if shapes is not None:
        _draw_outlines(ax, shapes, view, np.column_stack([lon, lat]), kx,
                       local_names=families is not None, families=families)
    sc = ax.scatter(lon, lat, s=size, c=burden, cmap=st.cmap, norm=_burden_norm(burden),
                    edgecolors="black", linewidths=0.7, zorder=3)
    cb = ax.figure.colorbar(sc, ax=ax, shrink=0.8, pad=0.02)
    cb.set_label("burden: cost / GDP (% of GDP)")
    if view is not None:  # the cities and a margin; the aspect then widens one side
        ax.update_datalim([(view[0], view[2]), (view[1], view[3])])
        ax.margins(0)
        ax.autoscale_view()
    ax.set_aspect(1 / kx, adjustable="datalim")
    from matplotlib.ticker import FuncFormatter
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}°E"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}°N"))
    ax.tick_params(labelsize=8)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    shade = "colour" if st.name == "colour" else "shade"
    ax.set_title(f"Cost (marker area, bn CNY/yr) and burden ({shade}, % of GDP) by city\n"
                 f"total {_fmt(np.nansum(cost))} bn CNY/yr")
    if shapes is None:
        ax.grid(color="0.9", linewidth=0.5)
        ax.set_axisbelow(True)
    ref = sorted({float(f"{cmax * f:.2g}") for f in (0.25, 0.5, 1.0)})
    handles = [Line2D([], [], linestyle="none", marker="o", markerfacecolor="white",
                      markeredgecolor="black", markersize=math.sqrt(_marker_area(np.array([v]), cmax)[0]),
                      label=f"{_fmt(v)}") for v in ref]
    ax.legend(handles=handles, title="cost (bn CNY/yr)", loc="upper center",
              bbox_to_anchor=(0.5, -0.1), ncol=len(handles), fontsize=8, title_fontsize=8,
              frameon=False, labelspacing=1.2, borderpad=1.0, handletextpad=1.2, columnspacing=2.0)
    _label_points(ax, lon, lat, labels, size, families=families)
    corner = note or (shapes or {}).get("attribution")
    if corner:
        ax.text(0.01, 0.01, str(corner), transform=ax.transAxes, ha="left", va="bottom",
                fontsize=6.5, color="0.35", style="italic", zorder=6, gid="map-note",
                bbox={"boxstyle": "square,pad=0.2", "facecolor": "white", "edgecolor": "none",
                      "alpha": 0.8})
    return ax


def _label_points(ax: Axes, xs, ys, labels, area, fontsize: float = 7,
                  families: list[str] | None = None, avoid=None, gid: str | None = None) -> None:
    """Label each point beside its marker at the candidate place (four corners,
    then right, left, above, below) whose estimated text box overlaps least with
    the other markers, the markers ``avoid`` = (xs, ys, areas in pt²), the labels placed
    so far and the outside of the axes."""
    engine = ax.figure.get_layout_engine()
    if engine is not None:  # place the axes where they will be drawn, so the geometry is right
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_GLYPH_WARNING)
            engine.execute(ax.figure)
    ax.autoscale_view()
    ax.apply_aspect()
    pts = ax.transData.transform(np.column_stack([xs, ys])) if len(xs) else np.zeros((0, 2))
    frame = ax.get_window_extent()
    scale = ax.figure.dpi / 72.0  # display pixels per point
    radius = np.sqrt(np.asarray(area, float)) / 2 * scale
    markers = [(px - r, py - r, px + r, py + r) for (px, py), r in zip(pts, radius)]
    if avoid is not None and len(avoid[0]):
        other = ax.transData.transform(np.column_stack([avoid[0], avoid[1]]))
        other_r = np.sqrt(np.asarray(avoid[2], float)) / 2 * scale
        markers += [(px - r, py - r, px + r, py + r) for (px, py), r in zip(other, other_r)]
    placed: list[tuple] = []
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]

    def overlap(a, b) -> float:
        return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))

    for i, (x, y, (px, py), r, lab) in enumerate(zip(xs, ys, pts, radius, labels)):
        wide = sum(2 if ord(ch) > 0x2E80 else 1 for ch in lab)  # CJK glyphs are twice as wide
        w = 0.62 * fontsize * wide * scale
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
                    ha=ha, va=va, fontsize=fontsize, zorder=4, path_effects=halo, gid=gid,
                    **_font_kw(families))


def _marker_area(cost_bn: np.ndarray, cmax: float) -> np.ndarray:
    """Marker area in pt² proportional to cost, with a small floor so zero-cost cities show."""
    return 12.0 + 700.0 * np.nan_to_num(cost_bn) / cmax


# --- Pareto front -------------------------------------------------------------------------------

_FRONT_SIZE = (7.0, 5.0)

#: Columns of a comparison table (compare.csv) that stand for a front's columns, and the
#: factor from theirs to the front's unit: shipped options drawn on a front.
_OPTION_ALIASES = {"total_cost_cny": ("total_cost_bn_cny", BN),
                   "max_burden": ("max_burden_pct", 1 / PCT),
                   "min_burden": ("min_burden_pct", 1 / PCT),
                   "regional_burden": ("regional_burden_pct", 1 / PCT)}


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


def _option_points(options: pd.DataFrame, x: str, y: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names and x, y (in the front's table units) of the options that have both."""
    def column(col: str) -> np.ndarray:
        if col in options.columns:
            return options[col].to_numpy(float)
        alias, factor = _OPTION_ALIASES.get(col, (None, 1.0))
        if alias is not None and alias in options.columns:
            return options[alias].to_numpy(float) * factor
        return np.full(len(options), np.nan)

    if "name" in options.columns:
        names = options["name"].astype(str).tolist()
    else:  # a comparison table: the scenario names, less the prefix they share
        names, _ = _option_names(options)
    xs, ys = column(x), column(y)
    ok = _optimal(options) & np.isfinite(xs) & np.isfinite(ys)
    return [n for n, k in zip(names, ok) if k], xs[ok], ys[ok]


def pareto_front(points: pd.DataFrame, x: str = "total_cost_cny", y: str = "gini_burden",
                 ax: Axes | None = None, label: str | None = None,
                 options: pd.DataFrame | None = None) -> Axes:
    """A Pareto front of two minimised objectives from one row per point.

    Non-dominated optimal points are filled circles joined by a line (in x
    order); dominated optimal points are hollow circles; the least-cost point (the
    smallest x) is a star and the fairest one (the smallest y) a square, both
    labelled with their values; points whose ``status`` is not optimal are not drawn
    but counted in the legend and the title (those beyond the reachable end, status
    ``unreachable``, apart). Known columns (``total_cost_cny``, ``gini_burden``,
    ``max_burden``, ...) are drawn in bn CNY/yr, % of GDP or 0–1. ``label`` names a
    column whose values annotate the drawn points (e.g. a weight or a cap).

    ``options``: extra points to mark and label, such as the shipped roadmap options:
    a table with a ``name`` (or ``scenario``) column and the columns ``x`` and ``y`` in
    the front's units; a comparison table (``compare.csv``: ``total_cost_bn_cny``,
    ``max_burden_pct``, ``gini_burden``) is understood as it is. Options that did not
    solve or lack a value are left out.
    """
    _require(points, [x, y], "pareto_front")
    st = _s()
    fx, fy = _metric(x)[2], _metric(y)[2]
    xs = points[x].to_numpy(float) * fx
    ys = points[y].to_numpy(float) * fy
    drawn = _optimal(points) & np.isfinite(xs) & np.isfinite(ys)
    front = non_dominated(points, x, y).to_numpy()
    dominated = drawn & ~front
    status = points["status"].astype(str) if "status" in points.columns else None
    n_unreachable = int((status == "unreachable").sum()) if status is not None else 0
    n_skip = int((~drawn).sum()) - n_unreachable
    ax = _new_ax(ax, _FRONT_SIZE)
    order = np.flatnonzero(front)
    order = order[np.lexsort((ys[order], xs[order]))]
    ax.plot(xs[order], ys[order], color=st.line, linestyle="-", linewidth=1.4, marker="o",
            markersize=5, markerfacecolor=st.line, markeredgecolor=st.line, zorder=3,
            label=f"Pareto front ({len(order)} points)")
    if dominated.any():
        ax.plot(xs[dominated], ys[dominated], linestyle="none", marker="o", markersize=6,
                markerfacecolor="none", markeredgecolor="0.3", zorder=2,
                label=f"dominated ({int(dominated.sum())})")
    y_unit = _metric(y)[1]
    y_shown = (lambda v: f"{_fmt(v)} {y_unit}") if y_unit and y_unit != "0–1" else _fmt
    ends = []
    if drawn.any():
        idx = np.flatnonzero(drawn)
        least = idx[np.lexsort((ys[idx], xs[idx]))[0]]
        fairest = idx[np.lexsort((xs[idx], ys[idx]))[0]]
        ends.append((least, "*", 15, st.least_cost,
                     f"least cost\n{_fmt(xs[least])} bn CNY/yr, {y_shown(ys[least])}"))
        if fairest != least:
            ends.append((fairest, "s", 8, st.fairest,
                         f"fairest reachable\n{_fmt(xs[fairest])} bn CNY/yr, {y_shown(ys[fairest])}"))
    for i, marker, size, colour, text in ends:
        kind = text.split("\n")[0]
        ax.plot([xs[i]], [ys[i]], linestyle="none", marker=marker, markersize=size,
                markerfacecolor=colour, markeredgecolor="black", zorder=5, label=kind, gid=kind)
    handles, _ = ax.get_legend_handles_labels()
    # labelled points: the values of the two ends, then the options
    lab_x = [xs[i] for i, *_ in ends]
    lab_y = [ys[i] for i, *_ in ends]
    lab_text = [text.split("\n")[1] for *_, text in ends]
    lab_area = [size ** 2 for _, _, size, _, _ in ends]
    families = None
    if options is not None and len(options):
        names, ox, oy = _option_points(options, x, y)
        if names:
            shown, families = _drawable_names(names, names)
            ax.plot(ox * fx, oy * fy, linestyle="none", marker="D", markersize=7,
                    markerfacecolor=st.option, markeredgecolor="black", zorder=6,
                    label="roadmap option", gid="options")
            lab_x += list(ox * fx)
            lab_y += list(oy * fy)
            lab_text += shown
            lab_area += [49.0] * len(shown)
            handles, _ = ax.get_legend_handles_labels()
    if n_unreachable:
        handles.append(Line2D([], [], linestyle="none", marker="x", color="0.5",
                              label=f"beyond the reachable end: {n_unreachable} (not drawn)"))
    if n_skip:
        handles.append(Line2D([], [], linestyle="none", marker="x", color="0.5",
                              label=f"not optimal or no value: {n_skip} (not drawn)"))
    if label is not None and label in points.columns:
        for i in np.flatnonzero(drawn):
            ax.annotate(str(points[label].iloc[i]), (xs[i], ys[i]), xytext=(4, 4),
                        textcoords="offset points", fontsize=7)
    ax.set_xlabel(_axis_label(x))
    ax.set_ylabel(_axis_label(y))
    title = f"Pareto front (both minimised):\n{_metric(x)[0]} vs {_metric(y)[0]}"
    notes = []
    if n_unreachable:
        notes.append(f"{n_unreachable} of {len(points)} points beyond the reachable end")
    if n_skip:
        notes.append(f"{n_skip} of {len(points)} points not optimal, not drawn")
    if notes:
        title += "\n" + "; ".join(notes)
    ax.set_title(title)
    ax.grid(color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.margins(x=0.08, y=0.1)
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.95)
    if lab_text:  # beside their markers, clear of the front's points and of each other
        _label_points(ax, np.array(lab_x), np.array(lab_y), lab_text, lab_area, fontsize=7.5,
                      families=families, avoid=(xs[drawn], ys[drawn], np.full(drawn.sum(), 36.0)),
                      gid="point-label")
    return ax


def attainment_curve(points: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The cost of ambition: total cost against gap closure (0 = baseline, 1 = every
    targeted receptor at its MTFR), from ``fairshare pareto --sweep target``. Points that
    did not solve are not drawn but counted in the title."""
    _require(points, ["gamma", "total_cost_cny"], "attainment_curve")
    st = _s()
    gamma = points["gamma"].to_numpy(float)
    cost = points["total_cost_cny"].to_numpy(float) / BN
    ok = _optimal(points) & np.isfinite(gamma) & np.isfinite(cost)
    order = np.flatnonzero(ok)
    order = order[np.argsort(gamma[order], kind="stable")]
    ax = _new_ax(ax, _FRONT_SIZE)
    ax.plot(gamma[order], cost[order], "o-", color=st.line, markersize=5)
    ax.set_xlabel("gap closure towards MTFR (0 = baseline, 1 = MTFR)")
    roadmap = "year" in points.columns  # a roadmap's front: the cost is a present value
    ax.set_ylabel("net present value of the roadmap (bn CNY)" if roadmap else "total cost (bn CNY/yr)")
    skipped = int((~ok).sum())
    ax.set_title("Cost of attainment"
                 + (f" ({skipped} point{'s' * (skipped != 1)} not solved)" if skipped else ""))
    ax.grid(True, color="0.9")
    return ax


# --- comparison of options ----------------------------------------------------------------------

def _option_names(table: pd.DataFrame) -> tuple[list[str], str]:
    """Each option's scenario name (a path's stem when a failed task left only its file),
    without the prefix all names share (``jjj-2030-``), and that prefix."""
    raw = (table["scenario"] if "scenario" in table.columns else table.index.to_series()).astype(str)
    names = []
    for name in raw:
        if "/" in name or "\\" in name or name.endswith((".yaml", ".yml")):
            name = Path(name.replace("\\", "/")).stem
        names.append(name)
    prefix = os.path.commonprefix(names) if len(names) > 1 else ""
    prefix = prefix[: prefix.rfind("-") + 1] if "-" in prefix else ""
    if prefix and all(len(n) > len(prefix) for n in names):
        return [n[len(prefix):] for n in names], prefix
    return names, ""


def _panels(ax: Axes | None, k: int, size: tuple[float, float]) -> list[Axes]:
    """``k`` side-by-side Axes sharing y: a new figure's, or those that take ``ax``'s place."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, k, figsize=size, sharey=True, layout="constrained", squeeze=False)
        return list(axes[0])
    if k == 1:
        return [ax]
    spec = ax.get_subplotspec()
    fig = ax.figure
    if spec is not None:
        grid = spec.subgridspec(1, k, wspace=0.06)
        ax.remove()
        first = fig.add_subplot(grid[0, 0])
        return [first] + [fig.add_subplot(grid[0, j], sharey=first) for j in range(1, k)]
    ax.set_axis_off()  # an Axes placed by hand: the panels go inside it
    first = ax.inset_axes([0.0, 0.0, 0.94 / k, 1.0])
    return [first] + [ax.inset_axes([j / k, 0.0, 0.94 / k, 1.0], sharey=first) for j in range(1, k)]


def compare_bars(table: pd.DataFrame, metrics: Sequence[str], ax: Axes | None = None,
                 relative: bool | None = None) -> Axes:
    """Roadmap options side by side: one panel per metric, in its own unit (total cost in
    bn CNY/yr, largest burden in % of GDP, Gini 0–1, price of fairness in %), one bar per
    option (row) labelled with the option's value. Options are named by the ``scenario``
    column (or the index), without the prefix every name shares (the title gives it), the
    first at the top. An option whose ``status`` is not optimal keeps its row in every
    panel, greyed and labelled with its status (e.g. "infeasible"); a solved option with
    no value for a metric (the price of fairness of the least-cost plan) shows "–".

    With ``ax``, the panels take its place in its figure (``ax`` itself is removed) and the
    first panel, which carries the option names, is returned; the others are in
    ``returned.figure.axes``. ``relative=True`` draws the older single chart instead:
    grouped bars, each metric as % of its largest value over the options.
    """
    metrics = list(metrics)
    if not metrics:
        raise ValueError("compare_bars needs at least one metric")
    _require(table, metrics, "compare_bars")
    if relative:
        return _compare_relative(table, metrics, ax)
    st = _s()
    n, k = len(table), len(metrics)
    names, prefix = _option_names(table)
    ids = [f"option {i + 1}" for i in range(n)]
    shown, families = _drawable_names(names, ids)
    solved = _optimal(table)
    status = (table["status"].fillna("no status").astype(str) if "status" in table.columns
              else pd.Series(["optimal"] * n))
    axes = _panels(ax, k, _compare_size(n, k))
    y = np.arange(n)
    for j, (m, pax) in enumerate(zip(metrics, axes)):
        name, unit, factor = _metric(m)
        vals = np.where(solved, table[m].to_numpy(float) * factor, np.nan)
        bars = pax.barh(y, vals, height=0.62, color=st.bar, edgecolor=st.bar_edge, linewidth=0.6,
                        zorder=2, label=name)
        pax.bar_label(bars, labels=[_fmt(v) for v in vals], padding=2, fontsize=_BAR_FONT + 0.5)
        for i in np.flatnonzero(solved & ~np.isfinite(vals)):  # solved, but no value
            pax.annotate("–", (0, y[i]), xytext=(3, 0), textcoords="offset points", ha="left",
                         va="center", fontsize=_BAR_FONT + 0.5, gid="no-value")
        for i in np.flatnonzero(~solved):
            pax.axhspan(y[i] - 0.36, y[i] + 0.36, facecolor="0.94", edgecolor="0.75", hatch="//",
                        linewidth=0, zorder=1)
            pax.text(0.03, y[i], status.iloc[i].replace("_", " "),
                     transform=pax.get_yaxis_transform(), ha="left", va="center", fontsize=8,
                     style="italic", color="0.25", zorder=3, gid="status")
        finite = vals[np.isfinite(vals)]
        low = min(0.0, float(finite.min()) * 1.25) if len(finite) else 0.0
        pax.set_xlim(low, _headroom(finite) * 1.08 if len(finite) else 1.0)
        pax.set_title(name, fontsize=10)
        pax.set_xlabel(unit or "value")
        pax.grid(axis="x", color="0.88", linewidth=0.6)
        pax.set_axisbelow(True)
        pax.tick_params(axis="x", labelsize=8)
        if j:
            pax.tick_params(axis="y", left=False, labelleft=False)
    first = axes[0]
    first.set_yticks(y, shown, **_font_kw(families))
    first.set_ylim(n - 0.5, -0.5)  # the first option at the top
    first.set_ylabel("roadmap option")
    title = "Roadmap options compared" + (f" ({prefix}…)" if prefix else "")
    first.figure.suptitle(title, fontsize=11)
    return first


def _compare_relative(table: pd.DataFrame, metrics: list[str], ax: Axes | None) -> Axes:
    """Grouped bars on one axis, each metric as % of its largest value over the options."""
    st = _s()
    names, _ = _option_names(table)
    shown, families = _drawable_names(names, [f"option {i + 1}" for i in range(len(names))])
    n, k = len(table), len(metrics)
    solved = _optimal(table)
    ax = _new_ax(ax, (max(6.0, 1.1 * n * max(k, 2) * 0.5 + 2), 4.8))
    width = 0.8 / k
    xpos = np.arange(n)
    for j, m in enumerate(metrics):
        name, unit, factor = _metric(m)
        vals = np.where(solved, table[m].to_numpy(float) * factor, np.nan)
        top = np.nanmax(np.abs(vals)) if np.isfinite(vals).any() else np.nan
        shown_unit = f" {unit}" if unit and unit != "0–1" else ""
        lab = f"{name} (100 % = {_fmt(top)}{shown_unit})"
        vals = vals / top * PCT if top and np.isfinite(top) else vals * np.nan
        bars = ax.bar(xpos + (j - (k - 1) / 2) * width, vals, width=width * 0.95,
                      color=st.fills[j % len(st.fills)], hatch=st.hatches[j % len(st.hatches)],
                      edgecolor=_EDGE, linewidth=0.6, label=lab, zorder=2)
        ax.bar_label(bars, labels=[_fmt(v) for v in vals], padding=1, fontsize=_BAR_FONT)
    status = table["status"].fillna("no status").astype(str) if "status" in table else None
    for i in np.flatnonzero(~solved):
        ax.text(xpos[i], 0.03, status.iloc[i].replace("_", " "), transform=ax.get_xaxis_transform(),
                rotation=90, ha="center", va="bottom", fontsize=8, style="italic")
    ax.set_xticks(xpos, shown, rotation=20 if n > 3 else 0, ha="right" if n > 3 else "center",
                  **_font_kw(families))
    ax.set_xlim(-0.6, n - 0.4)  # a failed option at either end has no bars to widen the axis
    ax.set_xlabel("roadmap option")
    ax.set_ylabel("% of the largest option")
    ax.set_title("Roadmap options compared (each metric relative to its largest)")
    ax.margins(y=0.15)
    ax.grid(axis="y", color="0.85", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def _compare_size(n: int, k: int) -> tuple[float, float]:
    """Figure size for ``n`` options in ``k`` panels."""
    return (2.0 + 2.3 * k, max(2.6, 0.42 * n + 1.5))


# --- a results folder ---------------------------------------------------------------------------

def _read_table(path: Path) -> pd.DataFrame:
    """A table as fairshare wrote it, with name columns kept as text (city "0101" stays
    "0101", not 101)."""
    names = {"city", "receptor", "metric", "scenario", "sweep", "status", "name"}
    return pd.read_csv(path, dtype={c: str for c in names})


def _load_geo(geo) -> pd.DataFrame | None:
    if geo is None or isinstance(geo, pd.DataFrame):
        return geo
    p = Path(geo)
    if p.is_dir():
        p = p / "cities.csv"
    return _read_table(p)


def _region_map(summary: dict, geo) -> Path | None:
    """The region's outlines file (:data:`MAP_FILE`), if it has one: in the folder of
    ``geo`` when that is a path, else in the region folder summary.json names. Read only
    through :func:`fairshare.data.readable_region_file` (a regular file inside the
    region folder)."""
    from fairshare.data import readable_region_file

    folders = []
    if geo is not None and not isinstance(geo, pd.DataFrame):
        p = Path(geo)
        folders.append(p if p.is_dir() else p.parent)
    region = (summary.get("region") or {}).get("folder")
    if region:
        folders.append(Path(region))
    for folder in folders:
        found = readable_region_file(folder, MAP_FILE)
        if found is not None:
            return found
    return None


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


#: The formats every plot is written in: PNG always (report.html embeds it), SVG as well
#: when asked (``--svg``: for print and editing; it doubles the drawing time).
_formats = ["png"]


@contextlib.contextmanager
def svg_as_well(svg: bool | None) -> Iterator[None]:
    """Write SVG beside PNG inside the block (None: as set outside)."""
    if svg is None:
        yield
        return
    previous = list(_formats)
    _formats[:] = ["png", "svg"] if svg else ["png"]
    try:
        yield
    finally:
        _formats[:] = previous


def _save(fig: Figure, folder: str | Path, stem: str) -> list[Path]:
    """Write ``stem``.png (and ``stem``.svg when asked) into ``folder``; return the paths.

    Each file is written under a hidden temporary name and renamed, so that a reader
    never sees half a file; the SVG has no date and fixed ids, so that redrawing the
    same table gives the same bytes. The PNG is compressed lightly (zlib level 1: a
    third of the encoding time for files about a quarter larger). Matplotlib's
    per-glyph "missing from font" warnings are not shown (names a font cannot draw were
    replaced by their ids, with one :class:`FontWarning`).
    """
    out = []
    for ext in _formats:
        path = Path(folder) / f"{stem}.{ext}"
        tmp = Path(folder) / f".{stem}.partial.{ext}"
        kw = ({"dpi": 150, "pil_kwargs": {"compress_level": 1}} if ext == "png"
              else {"metadata": {"Date": None}})
        try:
            with matplotlib.rc_context({"svg.hashsalt": "fairshare"}), warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_GLYPH_WARNING)
                fig.savefig(tmp, format=ext, **kw)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        out.append(path)
    return out


def write_result_plots(result_dir: str | Path, geo=None, style: str | None = None,
                       outlines=None) -> list[Path]:
    """Write the plots of one results folder into it, as PNG and SVG; return the paths.

    ``cost_by_city``, ``burden_by_city`` (with the burden cap and burden band of
    the scenario's fairness rules, from ``summary.json``), one
    ``concentrations_<metric>`` per metric and, when ``geo`` is given (a
    DataFrame with city, lat, lon, a region's ``cities.csv`` or its folder),
    ``city_map``: over the region's province outlines (``outlines``, else the region's
    :data:`MAP_FILE`, looked for in the folder of ``geo`` when it is a path and in the
    region folder of ``summary.json``), or a plain scatter with a note when the region
    has none. ``style``: "colour" or "grey" for this call (:func:`use_style`). A result
    that is not optimal has no tables to draw: nothing is written and the list is empty.
    A folder without ``summary.json`` is not a finished result: FileNotFoundError.
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
    if "years" in summary and cities is not None:  # a roadmap: its paths over the years
        from fairshare.roadmap.plots import write_roadmap_plots

        measures = _read_table(folder / "measures.csv") if (folder / "measures.csv").is_file() else None
        return write_roadmap_plots(folder, cities, receptors, measures, style)

    def draw(stem, size, fn, *args, **kw):
        fig, ax = _figure(size)
        fn(*args, ax=ax, **kw)
        written.extend(_save(fig, folder, stem))

    with _styled(style):
        if cities is not None and len(cities):
            cities = cities.astype({"city": str})
            cap, band = _fairness_lines(summary, cities)
            draw("cost_by_city", _rows_height(len(cities)), cost_by_city, cities)
            draw("burden_by_city", _rows_height(len(cities)), burden_by_city, cities, cap=cap,
                 band=band)
            geo_df = _load_geo(geo)
            if geo_df is not None:
                shapes = outlines if outlines is not None else _region_map(summary, geo)
                draw("city_map", (7.5, 7.0), city_map, cities, geo_df.astype({"city": str}),
                     outlines=shapes)
        if receptors is not None and len(receptors):
            for metric in pd.unique(receptors["metric"].astype(str)):
                n = int((receptors["metric"].astype(str) == metric).sum())
                draw("concentrations_" + re.sub(r"[^A-Za-z0-9_.-]", "_", metric), _rows_height(n),
                     concentrations, receptors, metric=metric)
    return written


# --- a Pareto folder, a comparison folder -------------------------------------------------------

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


def write_front_plots(front: pd.DataFrame, folder: str | Path, options: pd.DataFrame | None = None,
                      style: str | None = None) -> list[Path]:
    """Write ``pareto.png`` and ``pareto.svg`` of a front table (``pareto.csv``) into
    ``folder``; return the paths.

    A target sweep (``sweep`` is "target", or the table has ``gamma``) draws the
    cost-of-attainment curve; a fairness sweep draws the Pareto front of total cost
    against its metric (:data:`FRONT_Y`), its least-cost and fairest points marked, and
    ``options`` (a table of name and the front's columns, or a ``compare.csv`` table:
    :func:`pareto_front`) marked and labelled. ``style``: "colour" or "grey" for this
    call. A front without an optimal point has nothing to draw: nothing is written and
    the list is empty.
    """
    if not _optimal(front).any():
        return []
    kind = _front_kind(front)
    with _styled(style):
        fig, ax = _figure(_FRONT_SIZE)
        if kind == "target":
            attainment_curve(front, ax=ax)
        else:
            pareto_front(front, x="total_cost_cny", y=FRONT_Y[kind], ax=ax, options=options)
        return _save(fig, folder, "pareto")


def write_comparison_plots(table: pd.DataFrame, folder: str | Path,
                           style: str | None = None) -> list[Path]:
    """Write ``compare.png`` and ``compare.svg`` of a comparison table (``compare.csv``)
    into ``folder``; return the paths.

    One panel per metric of ``fairshare.comparison.COLUMNS_FOR_PLOT`` that some optimal
    option has, in its unit (:func:`compare_bars`); an option that did not solve keeps
    its row, labelled with its status. ``style``: "colour" or "grey" for this call. With
    no optimal option or no such metric nothing is written and the list is empty.
    """
    from fairshare.comparison import COLUMNS_FOR_PLOT

    solved = _optimal(table)
    metrics = [m for m in COLUMNS_FOR_PLOT
               if m in table.columns and np.isfinite(table[m].to_numpy(float)[solved]).any()]
    if not metrics:
        return []
    with _styled(style):
        fig, ax = _figure(_compare_size(len(table), len(metrics)))
        compare_bars(table, metrics, ax=ax)
        return _save(fig, folder, "compare")


# --- redraw any folder --------------------------------------------------------------------------

def _redraw_result(folder: Path, style: str | None = None) -> list[Path]:
    """The result's plots, with the city map when the region named in summary.json
    (an absolute path) still has its cities.csv inside it (and its outlines when it has
    them)."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    from fairshare.data import readable_region_file

    region = (summary.get("region") or {}).get("folder")
    geo = readable_region_file(Path(region), "cities.csv") if region else None
    return write_result_plots(folder, geo=geo, style=style)


def _redraw_front(folder: Path, style: str | None = None) -> list[Path]:
    return write_front_plots(_read_table(folder / "pareto.csv"), folder, style=style)


def _redraw_comparison(folder: Path, style: str | None = None) -> list[Path]:
    return write_comparison_plots(_read_table(folder / "compare.csv"), folder, style=style)


# The file that marks each kind of folder, in the order they are tried.
_KINDS: dict[str, Callable[..., list[Path]]] = {
    "summary.json": _redraw_result, "pareto.csv": _redraw_front, "compare.csv": _redraw_comparison,
}


def _redrawer(folder: Path) -> Callable[..., list[Path]] | None:
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


def redraw(folder: str | Path, style: str | None = None, svg: bool | None = None) -> list[Path]:
    """Re-draw the plots of a folder fairshare wrote (PNG; SVG too with ``svg=True``)."""
    with svg_as_well(svg):
        return _redraw(folder, style)


def _redraw(folder: str | Path, style: str | None = None) -> list[Path]:
    """Re-draw the plots of a folder fairshare wrote; return the files written.

    ``folder`` is a results folder (summary.json: :func:`write_result_plots`, with the
    city map when its region's cities.csv is still there, over its province outlines
    when it has them), a Pareto folder (pareto.csv: :func:`write_front_plots`), a
    comparison folder (compare.csv: :func:`write_comparison_plots`), or a folder holding
    them, such as ``results/`` (each child of those kinds is redrawn; hidden children,
    such as the ``.*.partial-*`` folders of an interrupted run, and other children are
    skipped). ``style``: "colour" or "grey" for this call (:func:`use_style`).

    Any other folder: ValueError; no folder at all: FileNotFoundError. A child that
    fails does not stop the others: once all are done, :class:`RedrawError` lists the
    failures and carries the files written.
    """
    folder = Path(folder)
    if style is not None:
        _style_name(style)  # an unknown style is an error before anything is drawn
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder}")
    draw = _redrawer(folder)
    if draw is not None:
        return draw(folder, style=style)
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
            written += _redrawer(child)(child, style=style)
        except Exception as exc:  # one bad folder must not cost the others their plots
            failures.append((child, exc))
    if failures:
        raise RedrawError(written, failures)
    return written


# --- ozone isopleths (response surfaces: docs/ozone.md) -------------------------------------------

def ozone_isopleths(surfaces: pd.DataFrame, receptors: pd.DataFrame, fig: Figure | None = None,
                    metric: str | None = None) -> Figure:
    """One panel per receptor with a local surface and a plan on it: the surface's change
    (µg/m³) as filled contours over the NOx and VOC cut shares, the titration ridge where
    the change is highest along the NOx axis, and the path from no cut to the plan.

    ``surfaces``: rows of a region's ``response.csv``; ``receptors``: a results
    ``receptors.csv`` with ``nox_cut_local`` and ``voc_cut_local``."""
    local = surfaces[surfaces["part"].astype(str) == "local"]
    rec = receptors.dropna(subset=["nox_cut_local", "voc_cut_local"])
    if metric is not None:
        local, rec = local[local["metric"] == metric], rec[rec["metric"] == metric]
    keys = [(q, r) for q, r in zip(rec["metric"], rec["receptor"].astype(str))
            if ((local["metric"] == q) & (local["receptor"].astype(str) == r)).any()]
    n = max(1, len(keys))
    cols = min(7, n)
    rows = math.ceil(n / cols)
    if fig is None:
        fig = Figure(figsize=(max(4.8, 2.2 * cols + 0.6), 2.1 * rows + 0.8), layout="constrained")
    for k, (q, r) in enumerate(keys):
        ax = fig.add_subplot(rows, cols, k + 1)
        g = local[(local["metric"] == q) & (local["receptor"].astype(str) == r)]
        piv = g.pivot_table(index="nox_cut_share", columns="voc_cut_share", values="change_ugm3")
        x, y, z = piv.index.to_numpy(float), piv.columns.to_numpy(float), piv.to_numpy(float)
        span = max(1e-9, float(np.abs(z).max()))
        cs = ax.contourf(x, y, z.T, levels=12, cmap="RdBu_r", vmin=-span, vmax=span)
        ax.contour(x, y, z.T, levels=[0.0], colors="k", linewidths=0.6)
        row = rec[(rec["metric"] == q) & (rec["receptor"].astype(str) == r)].iloc[0]
        px, py = float(row["nox_cut_local"]), float(row["voc_cut_local"])
        ax.annotate("", xy=(px, py), xytext=(0, 0),
                    arrowprops={"arrowstyle": "->", "color": "k", "lw": 1.2})
        ax.plot([px], [py], "o", color="k", ms=3)
        ax.set_title(str(row.get("name", r)), fontsize=8)
        ax.tick_params(labelsize=6)
        if k % cols == 0:
            ax.set_ylabel("VOC cut share", fontsize=7)
        if k >= (rows - 1) * cols:
            ax.set_xlabel("NOx cut share", fontsize=7)
        fig.colorbar(cs, ax=ax, shrink=0.8).ax.tick_params(labelsize=5)
    fig.suptitle(f"{_metric_name(str(keys[0][0])) if keys else 'O3'}: local response, µg/m³;\n"
                 "path from no cut to the plan", fontsize=8)
    return fig


def write_isopleth_plots(folder: str | Path, style: str | None = None) -> list[Path]:
    """``isopleths.png``/``.svg`` of a results folder whose receptors.csv has the plan's
    coordinates on response surfaces (``nox_cut_local``), from the region's response.csv
    (named in summary.json); nothing otherwise."""
    from fairshare.data import readable_region_file

    folder = Path(folder)
    rec_path = folder / "receptors.csv"
    if not rec_path.is_file():
        return []
    receptors = _read_table(rec_path)
    if "nox_cut_local" not in receptors.columns or receptors["nox_cut_local"].isna().all():
        return []
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    region = (summary.get("region") or {}).get("folder")
    path = readable_region_file(Path(region), "response.csv") if region else None
    if path is None:
        return []
    with _styled(style):
        fig = ozone_isopleths(pd.read_csv(path), receptors)
        return _save(fig, folder, "isopleths")


def _redraw_result_with_isopleths(folder: Path, style: str | None = None) -> list[Path]:
    """The result's plots and, when it has response surfaces, its ozone isopleths."""
    return _redraw_result(folder, style=style) + write_isopleth_plots(folder, style=style)


_KINDS["summary.json"] = _redraw_result_with_isopleths
