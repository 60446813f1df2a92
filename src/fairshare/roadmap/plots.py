"""The plots a planner shows of a roadmap, from its results tables (a ``year`` column in
each): the cost of each period stacked by city, the concentration paths against each
year's targets, and the roll-out of measures (the reduction they bring, by sector).

Each function takes the tables and ``ax=None``, returns the Axes and never solves, in the
style of :mod:`fairshare.plots` (colour by default, greys for print).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from fairshare.plots import _figure, _new_ax, _s, _save, _styled

TOP_CITIES = 8  # cities drawn on their own in the stacked cost; the rest as "other cities"


def cost_by_period(cities: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Annual cost of each period (bn CNY/yr), stacked by city: the costliest cities over
    the path on their own, the others together."""
    label = cities["name"] if "name" in cities else cities["city"]
    table = cities.assign(who=label.astype(str)).pivot_table(index="year", columns="who",
                                                               values="cost_cny", aggfunc="sum")
    order = table.sum().sort_values(ascending=False).index
    top, rest = list(order[:TOP_CITIES]), list(order[TOP_CITIES:])
    shown = table[top].copy()
    if rest:
        shown["other cities"] = table[rest].sum(axis=1)
    ax = _new_ax(ax, (7.5, 4.8))
    years = [str(y) for y in shown.index]
    bottom = np.zeros(len(shown))
    style = _s()
    for i, who in enumerate(shown.columns):
        values = shown[who].to_numpy(float) / 1e9
        ax.bar(years, values, bottom=bottom, label=who, color=style.fills[i % len(style.fills)]
               if who != "other cities" else "0.8", hatch=style.hatches[i % len(style.hatches)],
               edgecolor=style.bar_edge, linewidth=0.5)
        bottom += values
    for x, total in zip(years, bottom):
        ax.annotate(f"{total:.2f}", (x, total), xytext=(0, 3), textcoords="offset points",
                    ha="center", fontsize=8)
    ax.set_xlabel("period (first year)")
    ax.set_ylabel("annual cost (bn CNY/yr)")
    ax.set_title("Cost of each period by city")
    ax.margins(y=0.12)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return ax


def concentration_paths(receptors: pd.DataFrame, metric: str = "PM25",
                        ax: Axes | None = None) -> Axes:
    """Each receptor's concentration after control, year by year (thin lines; the ones
    whose target binds in some year drawn bold), with every year's targets as ticks."""
    t = receptors[receptors["metric"].astype(str) == metric]
    ax = _new_ax(ax, (7.0, 4.8))
    style = _s()
    binding = set(t.loc[t["shadow_price_cny_per_ugm3"] > 0, "receptor"])
    label = t["name"] if "name" in t else t["receptor"]
    for (receptor, name), g in t.assign(label=label).groupby(["receptor", "label"], sort=False):
        g = g.sort_values("year")
        bold = receptor in binding
        ax.plot(g["year"], g["final_ugm3"], color=style.line if bold else "0.75",
                linewidth=1.6 if bold else 0.7, marker="o" if bold else None, markersize=3,
                zorder=3 if bold else 2)
        if bold:
            ax.annotate(str(name), (g["year"].iloc[-1], g["final_ugm3"].iloc[-1]),
                        xytext=(4, 0), textcoords="offset points", fontsize=7, va="center")
    targets = t.dropna(subset=["target_ugm3"])
    ax.scatter(targets["year"], targets["target_ugm3"], marker="_", s=400, color=style.least_cost,
               linewidths=2, zorder=4, label="target")
    ax.plot([], [], color=style.line, linewidth=1.6, label="receptor whose target binds")
    ax.plot([], [], color="0.75", linewidth=0.7, label="other receptors")
    name = metric.replace("PM25", "PM2.5")
    ax.set_xticks(sorted(t["year"].unique()))
    ax.set_xlabel("year")
    ax.set_ylabel(f"{name} after control (µg/m³)")
    ax.set_title(f"{name} path against each year's targets")
    ax.legend(fontsize=8, loc="best")
    ax.grid(color="0.9", linewidth=0.5)
    return ax


def rollout(measures: pd.DataFrame, pollutant: str, ax: Axes | None = None) -> Axes:
    """The reduction of ``pollutant`` each period brings (t/yr), by sector: how the
    measures roll out over the years."""
    column = f"reduction_t_{pollutant}"
    table = measures.pivot_table(index="year", columns="sector", values=column, aggfunc="sum")
    table = table.loc[:, table.sum() > 0].fillna(0.0)
    ax = _new_ax(ax, (7.5, 4.8))
    style = _s()
    bottom = np.zeros(len(table))
    years = [str(y) for y in table.index]
    for i, sector in enumerate(table.columns):
        values = table[sector].to_numpy(float) / 1000
        ax.bar(years, values, bottom=bottom, label=str(sector),
               color=style.fills[i % len(style.fills)], hatch=style.hatches[i % len(style.hatches)],
               edgecolor=style.bar_edge, linewidth=0.5)
        bottom += values
    ax.set_xlabel("period (first year)")
    ax.set_ylabel(f"{pollutant} reduction (kt/yr)")
    ax.set_title(f"Roll-out of measures: {pollutant} removed each year, by sector")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return ax


def write_roadmap_plots(folder, cities: pd.DataFrame, receptors: pd.DataFrame,
                        measures: pd.DataFrame | None, style: str | None = None) -> list:
    """``cost_by_period``, one ``concentration_paths_<metric>`` per metric with targets,
    and one ``rollout_<pollutant>`` per pollutant reduced, as PNG and SVG."""
    written = []

    def draw(stem, size, fn, *args, **kw):
        fig, ax = _figure(size)
        fn(*args, ax=ax, **kw)
        written.extend(_save(fig, folder, stem))

    with _styled(style):
        draw("cost_by_period", (8.5, 4.8), cost_by_period, cities)
        for metric in pd.unique(receptors["metric"].astype(str)):
            if receptors.loc[receptors["metric"].astype(str) == metric, "target_ugm3"].notna().any():
                draw(f"concentration_paths_{metric}", (7.5, 4.8), concentration_paths,
                     receptors, metric=metric)
        if measures is not None and len(measures):
            for column in [c for c in measures.columns if c.startswith("reduction_t_")]:
                if measures[column].sum() > 0:
                    pollutant = column[len("reduction_t_"):]
                    draw(f"rollout_{pollutant}", (8.5, 4.8), rollout, measures, pollutant)
    return written
