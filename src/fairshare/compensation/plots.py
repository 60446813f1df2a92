"""Plots of a compensation game, black-and-white like the other fairshare plots.

* ``allocation``: per player, its cost in the joint plan, its stand-alone cost and its
  allocation by each method (bn CNY/yr);
* ``transfers_<method>``: the payments of one method as arrows from payer to receiver,
  on the map (each player at the mean position of its cities) when the cities have
  coordinates, else as bars of each player's transfer.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fairshare.plots import _save  # one writer of plot files: hidden name, then renamed

BN = 1e9
FILLS = ["0.15", "white", "0.55", "white", "0.8", "white", "0.35", "white"]
HATCHES = ["", "///", "", "...", "", "xx", "", "\\\\\\"]


def allocation_chart(table: pd.DataFrame, methods: list[str], ax=None):
    """Grouped horizontal bars: plan cost, stand-alone cost, each method's allocation."""
    series = [("cost in the joint plan", table["plan_cost_cny"]),
              ("stand-alone cost c({i})", table["standalone_cost_cny"])]
    series += [(m, table[f"alloc_{m.replace(':', '_')}_cny"]) for m in methods]
    n, k = len(table), len(series)
    if ax is None:
        fig = Figure(figsize=(7.5, max(3.0, 0.32 * n * k / 2 + 1.5)), layout="constrained")
        ax = fig.subplots()
    height = 0.8 / k
    y = np.arange(n)
    for j, (label, values) in enumerate(series):
        ax.barh(y + (j - (k - 1) / 2) * height, np.asarray(values, dtype=float) / BN, height,
                color=FILLS[j % len(FILLS)], hatch=HATCHES[j % len(HATCHES)], edgecolor="black",
                linewidth=0.5, label=label)
    ax.set_yticks(y, table["player"].astype(str))
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel("bn CNY/yr")
    ax.set_title("Cost in the joint plan, alone, and as allocated")
    ax.legend(fontsize=7, loc="best")
    return ax


def positions(players, geo: pd.DataFrame | None) -> dict | None:
    """Each player's mean (lon, lat) over its cities; None without coordinates."""
    if geo is None or not {"lat", "lon"} <= set(geo.columns):
        return None
    g = geo.copy()
    g.index = g.index.astype(str) if "city" not in g.columns else g["city"].astype(str)
    out = {}
    for i, name in enumerate(players.names):
        members = [c for c in players.members(i) if c in g.index]
        lat = pd.to_numeric(g.loc[members, "lat"], errors="coerce")
        lon = pd.to_numeric(g.loc[members, "lon"], errors="coerce")
        if not len(members) or lat.isna().all() or lon.isna().all():
            return None
        out[name] = (float(lon.mean()), float(lat.mean()))
    return out


def transfer_map(flows: pd.DataFrame, table: pd.DataFrame, method: str, where: dict | None,
                 ax=None):
    """Arrows payer -> receiver (width by amount) on the map, or transfer bars without one."""
    if ax is None:
        fig = Figure(figsize=(7.0, 6.0 if where else max(3.0, 0.25 * len(table) + 1.5)),
                     layout="constrained")
        ax = fig.subplots()
    transfer = table.set_index("player")[f"transfer_{method.replace(':', '_')}_cny"] / BN
    if not where:
        ax.barh(transfer.index.astype(str), transfer.to_numpy(dtype=float),
                color=["0.3" if v > 0 else "white" for v in transfer], edgecolor="black",
                hatch=None)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.invert_yaxis()
        ax.set_xlabel("transfer, bn CNY/yr (> 0 pays, < 0 receives)")
        ax.set_title(f"Transfers ({method})")
        return ax
    fund = "regional fund"
    xs = np.array([p[0] for p in where.values()])
    ys = np.array([p[1] for p in where.values()])
    spots = dict(where)
    spots[fund] = (float(xs.mean()), float(ys.mean()))
    big = max(float(flows["amount_cny"].max()) / BN if len(flows) else 0.0, 1e-12)
    for payer, receiver, amount in zip(flows["from"], flows["to"], flows["amount_cny"]):
        (x0, y0), (x1, y1) = spots[payer], spots[receiver]
        width = 0.6 + 5.0 * (amount / BN) / big
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color="0.25", lw=width, alpha=0.8,
                                    shrinkA=8, shrinkB=8, mutation_scale=8 + 2 * width))
        ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"{amount / BN:,.2f}", fontsize=6,
                ha="center", va="center", bbox=dict(boxstyle="round,pad=0.1", fc="white",
                                                    ec="none", alpha=0.8))
    for name, (x, y) in spots.items():
        if name == fund and fund not in set(flows["from"]) | set(flows["to"]):
            continue
        v = float(transfer.get(name, 0.0))
        ax.scatter([x], [y], s=60, marker="s" if name == fund else "o",
                   facecolor="0.2" if v > 0 else "white", edgecolor="black", zorder=3)
        ax.annotate(f"{name}\n{v:+,.2f}" if name != fund else name, (x, y), xytext=(5, 5),
                    textcoords="offset points", fontsize=7)
    ax.set_aspect(1 / max(math.cos(math.radians(float(ys.mean()))), 0.1), adjustable="datalim")
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.set_title(f"Payments ({method}), bn CNY/yr; filled: pays, open: receives")
    ax.margins(0.15)
    return ax


def write_plots(comp, folder: str | Path, geo: pd.DataFrame | None = None) -> list[Path]:
    """allocation.png and transfers_<method>.png (and .svg: :func:`fairshare.plots.svg_as_well`) into ``folder``."""
    folder = Path(folder)
    methods = [m for m in comp.summary["methods"]
               if np.isfinite(comp.allocation[f"alloc_{m.replace(':', '_')}_cny"]).all()]
    paths = []
    ax = allocation_chart(comp.allocation, methods)
    paths += _save(ax.figure, folder, "allocation")
    where = positions(comp.players, geo)
    for m in methods:
        flows = comp.transfers[comp.transfers["method"] == m]
        ax = transfer_map(flows, comp.allocation, m, where)
        paths += _save(ax.figure, folder, f"transfers_{m.replace(':', '_')}")
    return paths
