#!/usr/bin/env python3
"""Synthetic but plausible fairshare regions of any size (benchmark data).

Writes an ordinary region data package (docs/region-data.md) plus a scenario
file (section 4) whose single target is feasible by construction:

    python bench/make_region.py --cities 340 [--sectors 10] [--measures-per-sector 8]
        [--pollutants 5] [--receptors N] [--seed 1] [--format csv|parquet]
        [--out bench/regions/syn-340] [--scenario PATH] [--reduction-pct 20]
        [--transport-cutoff REL]

or, from Python, ``make_region(out_dir, cities=340, ...) -> Path``.

Everything is synthetic: the numbers are drawn from distributions chosen to
look like a Chinese regional air-quality planning problem (FACTS.md), not
taken from any inventory.  See bench/README.md for the recipe and the
measured sizes.

Units written: emissions t/yr, costs CNY per t, transport coefficients
ug/m3 per kt/yr, concentrations ug/m3.  The baseline concentration of every
receptor is exactly ``background + sum_{s,p} T[r,s,p] * E[s,p] / 1000``
(the linear model of docs/formulation.md) with a background of 15-35 % of the
baseline.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

GENERATOR_VERSION = "1"

POLLUTANTS = ["PM25", "SO2", "NOx", "NH3", "VOC"]
METRIC = "PM25"

# Region-average emission intensity, t per person per year (order of magnitude
# of the North China Plain around 2015-2020; FACTS.md section 2).
PER_CAPITA_T = {"PM25": 0.004, "SO2": 0.003, "NOx": 0.007, "NH3": 0.006, "VOC": 0.012}
# PM2.5 potency per tonne, primary PM : NH3 : SO2 ~ NOx (TM5-FASST ratio, FACTS 3.3/7);
# VOC (SOA) an assumption.
POTENCY = {"PM25": 7.0, "SO2": 1.0, "NOx": 1.0, "NH3": 2.0, "VOC": 0.2}
# Heavy-tailed kernel k(d) = 1 / (1 + (d / L)^P) (FACTS section 7); secondary
# species are more regional than primary PM, hence longer L.
KERNEL_L_KM = {"PM25": 12.0, "SO2": 40.0, "NOx": 40.0, "NH3": 30.0, "VOC": 60.0}
KERNEL_POWER = 2.3
# Wind anisotropy: transport favoured toward bearing THETA (SW flow to NNE).
ANISO_ALPHA = 0.3
ANISO_THETA_DEG = 30.0
# Well-mixed regional term, ug/m3 per kt/yr, added to every coefficient.  It is
# of the order of TM5-FASST's China-mean response (2e-4 ug/m3 per kt for NOx)
# and keeps every coefficient >= 2e-5, far above HiGHS's 1e-9 drop threshold.
REGIONAL_TERM = {"PM25": 5e-4, "SO2": 1e-4, "NOx": 1e-4, "NH3": 2e-4, "VOC": 2e-5}
# Median unit cost by reference pollutant, CNY per t removed (FACTS section 4).
COST_MEDIAN = {"PM25": 5e3, "SO2": 1e4, "NOx": 1.5e4, "NH3": 8e3, "VOC": 2e4}
COST_RANGE = (1e3, 1e5)

BOX_KM = 1000.0
CENTRE_LAT, CENTRE_LON = 37.0, 116.0
KM_PER_DEG_LAT = 111.0
TARGET_MEDIAN_ANTHRO_UGM3 = 45.0   # median anthropogenic PM2.5 at the cities
BACKGROUND_SHARE = (0.15, 0.35)    # background / baseline, per receptor
DEFAULT_REDUCTION_PCT = 20.0
SAFETY = 1.5                       # guaranteed reachable reduction >= SAFETY * R

CSV_MAX_TRANSPORT_ROWS = 20_000_000   # above this, transport must be parquet
PARQUET_MIN_ROWS = 10_000             # concentrations/receptors parquet above this
CHUNK_ENTRIES = 4_000_000             # transport entries computed per chunk

PACKAGE_FILES = ["region.yaml", "cities.csv", "emissions.csv", "measures.csv",
                 "efficiencies.csv", "applicability.csv", "transport.csv",
                 "transport.parquet", "concentrations.csv", "concentrations.parquet",
                 "receptors.csv", "receptors.parquet", "scenario.yaml"]


@dataclass
class Params:
    cities: int
    sectors: int = 10
    measures_per_sector: int = 8
    pollutants: int = 5
    receptors: int | None = None
    seed: int = 1
    fmt: str = "csv"
    reduction_pct: float | None = None
    transport_cutoff: float = 0.0

    def check(self) -> None:
        if self.cities < 1:
            raise ValueError("cities must be >= 1")
        if self.sectors < 1:
            raise ValueError("sectors must be >= 1")
        if self.measures_per_sector < 1:
            raise ValueError("measures_per_sector must be >= 1")
        if not 1 <= self.pollutants <= len(POLLUTANTS):
            raise ValueError(f"pollutants must be 1..{len(POLLUTANTS)}")
        if self.receptors is not None and self.receptors < 1:
            raise ValueError("receptors must be >= 1")
        if self.fmt not in ("csv", "parquet"):
            raise ValueError("format must be csv or parquet")
        if not 0 <= self.transport_cutoff < 1:
            raise ValueError("transport_cutoff must be in [0, 1)")

    @property
    def receptors_are_cities(self) -> bool:
        return self.receptors is None or self.receptors == self.cities

    @property
    def n_receptors(self) -> int:
        return self.cities if self.receptors_are_cities else int(self.receptors)


# --------------------------------------------------------------------------- geometry

def _latlon_to_xy(lat, lon):
    """Equirectangular projection around the box centre, km (x east, y north)."""
    x = (np.asarray(lon) - CENTRE_LON) * KM_PER_DEG_LAT * math.cos(math.radians(CENTRE_LAT))
    y = (np.asarray(lat) - CENTRE_LAT) * KM_PER_DEG_LAT
    return x + BOX_KM / 2, y + BOX_KM / 2


def _xy_to_latlon(x, y):
    lat = CENTRE_LAT + (np.asarray(y) - BOX_KM / 2) / KM_PER_DEG_LAT
    lon = CENTRE_LON + (np.asarray(x) - BOX_KM / 2) / (
        KM_PER_DEG_LAT * math.cos(math.radians(CENTRE_LAT)))
    return np.round(lat, 5), np.round(lon, 5)


def effective_radius_km(n_cities: int) -> float:
    """Distance at which a city's own emissions act on its own receptor:
    half the radius of a disc of the city's mean area."""
    return 0.5 * math.sqrt(BOX_KM * BOX_KM / (n_cities * math.pi))


# --------------------------------------------------------------------------- drawing

def _rngs(seed: int):
    ss = np.random.SeedSequence(seed)
    names = ["cities", "emissions", "measures", "receptors", "background"]
    return dict(zip(names, (np.random.default_rng(s) for s in ss.spawn(len(names)))))


def _draw_cities(p: Params, rng):
    n = p.cities
    x = rng.uniform(0, BOX_KM, n)
    y = rng.uniform(0, BOX_KM, n)
    lat, lon = _xy_to_latlon(x, y)
    n_zones = int(min(n, np.clip(round(math.sqrt(n)), 6, 30)))
    centres = rng.choice(n, n_zones, replace=False)
    x, y = _latlon_to_xy(lat, lon)
    d2 = (x[:, None] - x[centres][None, :]) ** 2 + (y[:, None] - y[centres][None, :]) ** 2
    zone_idx = d2.argmin(axis=1)
    # name provinces in order of first appearance so ids are dense and stable
    order = {z: i for i, z in enumerate(dict.fromkeys(zone_idx.tolist()))}
    province = np.array([f"P{order[z] + 1:02d}" for z in zone_idx])

    sigma = 0.7
    median_pop = float(np.clip(2.0e8 / n, 5e4, 5e6)) / math.exp(sigma ** 2 / 2)
    population = np.maximum(np.round(median_pop * rng.lognormal(0, sigma, n)), 1000).astype(np.int64)
    gdp_per_cap = 7.0e4 * rng.lognormal(0, 0.35, n)             # CNY per person
    gdp_bn = np.round(population * gdp_per_cap / 1e9, 4)
    gdp_bn = np.maximum(gdp_bn, 0.001)
    cost_factor = np.round(np.clip(rng.lognormal(0, 0.12, n) * (gdp_per_cap / 7.0e4) ** 0.3,
                                   0.6, 1.8), 3)
    ids = [f"c{i + 1:04d}" for i in range(n)]
    return pd.DataFrame({
        "city": ids,
        "name": [f"Syncity {i + 1}" for i in range(n)],
        "province": province,
        "zone": province,
        "lat": lat,
        "lon": lon,
        "population": population,
        "gdp_bn_cny": gdp_bn,
        "cost_factor": cost_factor,
    })


def _draw_emissions(p: Params, cities: pd.DataFrame, rng):
    """E[s,k,p] in t/yr (rounded to kg, all > 0) and the sector shares."""
    pols = POLLUTANTS[: p.pollutants]
    S, K, P = p.cities, p.sectors, len(pols)
    city_int = rng.lognormal(0, 0.3, S)[:, None] * rng.lognormal(0, 0.25, (S, P))
    etot = cities["population"].to_numpy()[:, None] * np.array([PER_CAPITA_T[q] for q in pols]) * city_int
    shares = rng.dirichlet(np.full(K, 0.7), size=P).T               # (K, P), columns sum to 1
    noise = rng.lognormal(0, 0.3, (S, K, P))
    E = etot[:, None, :] * shares[None, :, :] * noise
    E = np.maximum(np.round(E, 3), 0.001)
    return E, shares


def _draw_measures(p: Params, shares: np.ndarray, rng):
    """Measures table, efficiency matrix eff[m, p] and the measure -> sector map."""
    pols = POLLUTANTS[: p.pollutants]
    P, K, M = len(pols), p.sectors, p.measures_per_sector
    potency = np.array([POTENCY[q] * PER_CAPITA_T[q] for q in pols])
    rows, effs, sec_of = [], [], []
    for k in range(K):
        sector = f"sec{k + 1:02d}"
        order = np.argsort(-(shares[k] * potency), kind="stable")   # sector's main pollutants first
        n_groups = 1 if M == 1 else (2 if M <= 4 else 3)
        sizes = [M // n_groups + (1 if g < M % n_groups else 0) for g in range(n_groups)]
        j = 0
        for g, size in enumerate(sizes):
            group = f"{sector}_g{g + 1}"
            structural = (n_groups == 3 and g == 2) or P == 1 and g > 0
            target = int(order[0]) if structural else int(order[min(g, P - 1)])
            for t in range(size):
                tier = t / (size - 1) if size > 1 else 0.5
                eff = np.zeros(P)
                if structural:
                    # fuel switch / capacity cut: moderate removal of everything
                    eff[:] = rng.uniform(0.10, 0.40, P) * (0.6 + 0.4 * tier)
                    kind = "structural"
                else:
                    eff[target] = np.clip(0.35 + 0.55 * tier + rng.uniform(-0.05, 0.05), 0.05, 0.98)
                    co = rng.random(P) < 0.35
                    co[target] = False
                    eff[co] = eff[target] * rng.uniform(0.05, 0.5, int(co.sum()))
                    kind = f"{pols[target]} control"
                eff = np.round(eff, 4)
                eff[target] = max(eff[target], 0.01)
                cost = COST_MEDIAN[pols[target]] * (1.0 + 1.5 * tier) * rng.lognormal(0, 0.5)
                cost = float(np.round(np.clip(cost, *COST_RANGE)))
                j += 1
                measure = f"{sector}_m{j:02d}"
                rows.append({
                    "measure": measure, "sector": sector, "group": group,
                    "name": f"{sector} {kind} tier {t + 1}",
                    "ref_pollutant": pols[target], "cost_cny_per_t": cost,
                    "max_application": float(np.round(rng.uniform(0.5, 1.0), 3)),
                })
                effs.append(eff)
                sec_of.append(k)
    return pd.DataFrame(rows), np.array(effs), np.array(sec_of)


def _draw_receptors(p: Params, cities: pd.DataFrame, rng):
    """Receptors when they are not the cities: 60 % around cities, 40 % anywhere."""
    n = p.n_receptors
    cx, cy = _latlon_to_xy(cities["lat"].to_numpy(), cities["lon"].to_numpy())
    near = rng.random(n) < 0.6
    which = rng.integers(0, p.cities, n)
    spread = 2.0 * effective_radius_km(p.cities)
    x = np.where(near, cx[which] + rng.normal(0, spread, n), rng.uniform(0, BOX_KM, n))
    y = np.where(near, cy[which] + rng.normal(0, spread, n), rng.uniform(0, BOX_KM, n))
    x, y = np.clip(x, 0, BOX_KM), np.clip(y, 0, BOX_KM)
    lat, lon = _xy_to_latlon(x, y)
    total_pop = cities["population"].sum()
    pop = np.maximum(np.round(total_pop / n * rng.lognormal(-0.5, 1.0, n)), 1).astype(np.int64)
    width = max(6, len(str(n)))
    ids = [f"r{i + 1:0{width}d}" for i in range(n)]
    return pd.DataFrame({"receptor": ids, "lat": lat, "lon": lon, "population": pop})


# --------------------------------------------------------------------------- transport

class Kernel:
    """T[r, s, p] in ug/m3 per kt/yr for any receptor positions.

    k_p(d) = A_p / (1 + (sqrt(d^2 + de_s^2) / L_p)^2.3) * anisotropy + regional_p,
    where de_s, the distance at which a source's emissions act on its own
    centre, grows with the city's population (bigger cities spread wider)."""

    def __init__(self, src_x, src_y, src_pop, pols, scale=1.0, regional=True):
        self.sx, self.sy = np.asarray(src_x), np.asarray(src_y)
        pop = np.asarray(src_pop, dtype=float)
        self.pols = pols
        self.de0 = effective_radius_km(len(self.sx))
        self.de = self.de0 * np.clip(np.sqrt(pop / pop.mean()), 0.5, 2.0)
        # A_p ~ potency / L^2: equal area-integrated impact per unit of potency
        self.amp = np.array([POTENCY[q] / KERNEL_L_KM[q] ** 2 for q in pols]) * scale
        self.L = np.array([KERNEL_L_KM[q] for q in pols])
        self.reg = np.array([REGIONAL_TERM[q] for q in pols]) if regional else np.zeros(len(pols))
        # kself[s, p]: coefficient of a source on a receptor at its own centre
        self.kself = self.amp[None, :] / (1.0 + (self.de[:, None] / self.L[None, :]) ** KERNEL_POWER)

    def block(self, rx, ry, self_idx=None):
        """Coefficients for receptors at (rx, ry); ``self_idx`` gives, for
        receptors that are cities, their own source index: their local
        coefficient is then kself and every other one at most 0.95 of it."""
        dx = np.asarray(rx)[:, None] - self.sx[None, :]           # source -> receptor, east
        dy = np.asarray(ry)[:, None] - self.sy[None, :]
        d2 = dx * dx + dy * dy
        de2 = (self.de ** 2)[None, :]
        reff = np.sqrt(d2 + de2)
        bearing = np.arctan2(dx, dy)
        aniso = 1.0 + ANISO_ALPHA * np.cos(bearing - math.radians(ANISO_THETA_DEG)) * (d2 / (d2 + de2))
        out = np.empty(dx.shape + (len(self.pols),))
        for j in range(len(self.pols)):
            k = self.amp[j] / (1.0 + (reff / self.L[j]) ** KERNEL_POWER) * aniso
            if self_idx is None:
                k = np.minimum(k, self.kself[None, :, j])
            else:
                rows = np.arange(len(self_idx))
                k = np.minimum(k, 0.95 * self.kself[self_idx, j][:, None])
                k[rows, self_idx] = self.kself[self_idx, j]
            out[:, :, j] = k + self.reg[j]
        return out


def _chunks(n_rec, per_rec):
    b = max(1, CHUNK_ENTRIES // max(per_rec, 1))
    for a in range(0, n_rec, b):
        yield a, min(n_rec, a + b)


class _TableSink:
    """Writes one table chunk by chunk as CSV or parquet, via pyarrow."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: str):
        self.path, self.fmt = path, fmt
        if fmt == "parquet":
            self.w = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            self.w = pacsv.CSVWriter(path, schema, write_options=pacsv.WriteOptions(
                quoting_style="none", quoting_header="none"))

    def write(self, table: pa.Table):
        self.w.write_table(table)

    def close(self):
        self.w.close()


def _write_small(df: pd.DataFrame, path: Path, fmt: str = "csv"):
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, compression="zstd")
    else:
        df.to_csv(path, index=False, lineterminator="\n")


# --------------------------------------------------------------------------- main

def generate(out_dir, params: Params, scenario_path=None, verbose=False) -> dict:
    """Generate and write the package; returns a dict of facts (including the
    per-receptor background array, for tests)."""
    params.check()
    t0 = time.perf_counter()
    p = params
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for f in PACKAGE_FILES:
        if (out / f).exists():
            (out / f).unlink()
    pols = POLLUTANTS[: p.pollutants]
    S, P = p.cities, len(pols)
    R = p.n_receptors
    n_transport = R * S * P
    if p.fmt == "csv" and n_transport > CSV_MAX_TRANSPORT_ROWS:
        raise ValueError(
            f"transport would have {n_transport:,} rows; CSV is refused above "
            f"{CSV_MAX_TRANSPORT_ROWS:,} rows: use --format parquet")
    rng = _rngs(p.seed)

    cities = _draw_cities(p, rng["cities"])
    E, shares = _draw_emissions(p, cities, rng["emissions"])          # (S, K, P) t
    measures, eff, sec_of = _draw_measures(p, shares, rng["measures"])
    receptors = None if p.receptors_are_cities else _draw_receptors(p, cities, rng["receptors"])

    city_ids = cities["city"].tolist()
    sectors = [f"sec{k + 1:02d}" for k in range(p.sectors)]
    K = len(sectors)
    Es = E.sum(axis=1)                                                # (S, P) t

    # feasible-by-construction plan x0 (same for every city since a[s,m] = a[m]):
    # in every exclusivity group the measure with the best reference removal at
    # its limit, scaled down where a sector's removal share would pass 1
    a = measures["max_application"].to_numpy()
    ref_idx = measures["ref_pollutant"].map({q: i for i, q in enumerate(pols)}).to_numpy()
    x0 = np.zeros(len(measures))
    for g, idx in measures.groupby("group").indices.items():
        best = idx[np.argmax(eff[idx, ref_idx[idx]] * a[idx])]
        x0[best] = a[best]
    rho0 = np.zeros((K, P))
    np.add.at(rho0, sec_of, eff * x0[:, None])
    rho0 = rho0 / np.maximum(1.0, rho0.max(axis=1, keepdims=True))
    dE0 = np.einsum("skp,kp->sp", E, rho0)                            # t

    # calibrate the kernel scale on the cities: median anthropogenic = target
    cx, cy = _latlon_to_xy(cities["lat"].to_numpy(), cities["lon"].to_numpy())
    cpop = cities["population"].to_numpy()
    unit = Kernel(cx, cy, cpop, pols, scale=1.0, regional=False)
    regk = Kernel(cx, cy, cpop, pols, scale=0.0, regional=True)
    kern_c = np.empty(S)
    reg_c = np.empty(S)
    for a0, a1 in _chunks(S, S * P):
        own = np.arange(a0, a1)
        kern_c[a0:a1] = np.einsum("rsp,sp->r", unit.block(cx[a0:a1], cy[a0:a1], own), Es) / 1000
        reg_c[a0:a1] = np.einsum("rsp,sp->r", regk.block(cx[a0:a1], cy[a0:a1], own), Es) / 1000
    scale = (TARGET_MEDIAN_ANTHRO_UGM3 - np.median(reg_c)) / np.median(kern_c)
    kernel = Kernel(cx, cy, cpop, pols, scale=scale, regional=True)

    if receptors is None:
        rec_ids, rx, ry = city_ids, cx, cy
    else:
        rec_ids = receptors["receptor"].tolist()
        rx, ry = _latlon_to_xy(receptors["lat"].to_numpy(), receptors["lon"].to_numpy())

    # ---- transport, written in chunks; concentrations accumulated on the way
    big_fmt = p.fmt
    tr_path = out / f"transport.{'parquet' if big_fmt == 'parquet' else 'csv'}"
    schema = pa.schema([("metric", pa.string()), ("receptor", pa.string()),
                        ("source", pa.string()), ("pollutant", pa.string()),
                        ("coef_ugm3_per_kt", pa.float64())])
    sink = _TableSink(tr_path, schema, big_fmt)
    rec_dict = pa.array(rec_ids, pa.string())
    src_dict = pa.array(city_ids, pa.string())
    pol_dict = pa.array(pols, pa.string())
    anthro = np.empty(R)          # sum T E / 1000 over kept + dropped coefficients
    dropped_conc = np.zeros(R)    # part of it carried by dropped coefficients
    reach0 = np.empty(R)          # concentration cut by the plan x0
    min_coef = np.inf
    n_rows = 0
    n_dropped = 0
    local_largest = True
    for a0, a1 in _chunks(R, S * P):
        own = np.arange(a0, a1) if receptors is None else None
        T = kernel.block(rx[a0:a1], ry[a0:a1], own)                   # (B, S, P)
        B = a1 - a0
        anthro[a0:a1] = np.einsum("rsp,sp->r", T, Es) / 1000
        reach0[a0:a1] = np.einsum("rsp,sp->r", T, dE0) / 1000
        if receptors is None:
            loc = T[np.arange(B), np.arange(a0, a1), :]                 # (B, P)
            others = T.copy()
            others[np.arange(B), np.arange(a0, a1), :] = -np.inf
            local_largest &= bool((others.max(axis=1) < loc).all())
        flat = T.reshape(-1)
        keep = None
        if p.transport_cutoff > 0:
            rowmax = T.reshape(B, -1).max(axis=1)
            keepm = T >= p.transport_cutoff * rowmax[:, None, None]
            dropped_conc[a0:a1] = np.einsum("rsp,sp->r", np.where(keepm, 0.0, T), Es) / 1000
            keep = np.flatnonzero(keepm.reshape(-1))
            n_dropped += flat.size - keep.size
        r_idx = np.repeat(np.arange(a0, a1, dtype=np.int32), S * P)
        s_idx = np.tile(np.repeat(np.arange(S, dtype=np.int32), P), B)
        p_idx = np.tile(np.arange(P, dtype=np.int32), B * S)
        if keep is not None:
            r_idx, s_idx, p_idx, flat = r_idx[keep], s_idx[keep], p_idx[keep], flat[keep]
        if flat.size:
            min_coef = min(min_coef, float(flat.min()))
        n_rows += flat.size
        table = pa.table({
            "metric": pc.take(pa.array([METRIC]), pa.array(np.zeros(flat.size, np.int32))),
            "receptor": pc.take(rec_dict, pa.array(r_idx)),
            "source": pc.take(src_dict, pa.array(s_idx)),
            "pollutant": pc.take(pol_dict, pa.array(p_idx)),
            "coef_ugm3_per_kt": pa.array(flat, pa.float64()),
        }, schema=schema)
        sink.write(table)
    sink.close()

    # ---- baseline concentrations: background + T E (background 15-35 %)
    bg_share = rng["background"].uniform(*BACKGROUND_SHARE, R)
    c0 = anthro / (1.0 - bg_share)
    background = c0 - anthro
    conc = pd.DataFrame({"metric": METRIC, "receptor": rec_ids, "baseline_ugm3": c0})
    conc_fmt = "parquet" if (p.fmt == "parquet" and R >= PARQUET_MIN_ROWS) else "csv"
    _write_small(conc, out / f"concentrations.{conc_fmt}", conc_fmt)
    if receptors is not None:
        _write_small(receptors, out / f"receptors.{conc_fmt}", conc_fmt)

    # ---- target: feasible by construction
    reach_pct = 100.0 * reach0 / c0
    min_reach = float(reach_pct.min())
    if p.reduction_pct is None:
        red = DEFAULT_REDUCTION_PCT if min_reach >= SAFETY * DEFAULT_REDUCTION_PCT \
            else math.floor(min_reach / SAFETY)
    else:
        red = float(p.reduction_pct)
    if red > min_reach:
        print(f"warning: reduction_pct {red} exceeds the reduction guaranteed reachable "
              f"everywhere ({min_reach:.1f} %); the scenario may be infeasible", file=sys.stderr)

    # ---- the small tables
    sk = np.array([(c, s) for c in city_ids for s in sectors], dtype=object)
    emissions = pd.DataFrame({
        "city": np.repeat(sk[:, 0], P), "sector": np.repeat(sk[:, 1], P),
        "pollutant": np.tile(pols, S * K), "emission_t": E.reshape(-1)})
    efficiencies = pd.DataFrame({
        "measure": np.repeat(measures["measure"].to_numpy(), P),
        "pollutant": np.tile(pols, len(measures)), "efficiency": eff.reshape(-1)})
    _write_small(cities, out / "cities.csv")
    _write_small(emissions, out / "emissions.csv")
    _write_small(measures, out / "measures.csv")
    _write_small(efficiencies, out / "efficiencies.csv")

    name = f"syn-{S}" if p.receptors_are_cities else f"syn-{S}-r{R}"
    gen_args = {"cities": p.cities, "sectors": p.sectors,
                "measures_per_sector": p.measures_per_sector, "pollutants": p.pollutants,
                "receptors": p.n_receptors, "seed": p.seed, "format": p.fmt,
                "transport_cutoff": p.transport_cutoff}
    notes = [
        "SYNTHETIC region: every number is drawn at random by bench/make_region.py "
        f"(version {GENERATOR_VERSION}); none is a public fact.",
        "generator parameters: " + ", ".join(f"{k}={v}" for k, v in gen_args.items()),
        f"baseline = background + sum T*E/1000 exactly; background is "
        f"{BACKGROUND_SHARE[0]:.0%}-{BACKGROUND_SHARE[1]:.0%} of baseline per receptor.",
        "transport kernel: T = A_p/(1+(sqrt(d^2+d_e^2)/L_p)^2.3) * wind anisotropy + regional "
        f"term; d_e = {kernel.de0:.1f} km x sqrt(population / mean), clipped to 0.5-2; local coefficient is the largest of a city row.",
        f"a uniform plan (best measure of every group at its limit) cuts every receptor's "
        f"PM25 by at least {min_reach:.1f} % (the scenario asks for {red:g} %).",
    ]
    if p.transport_cutoff > 0:
        notes.append(f"transport cut-off {p.transport_cutoff:g} of each receptor's largest "
                     f"coefficient: {n_dropped:,} of {n_dropped + n_rows:,} entries dropped; "
                     f"their baseline contribution (max {dropped_conc.max():.4g} ug/m3, "
                     f"{100 * (dropped_conc / c0).max():.2f} % of a baseline) is "
                     "folded into the baseline (as if background).")
    region_yaml = {
        "name": name,
        "description": (f"Synthetic benchmark region: {S} cities, {K} sectors, "
                        f"{len(measures)} measures, {P} pollutants, {R} receptors (seed {p.seed})."),
        "base_year": 2020,
        "units": {"emissions": "t/yr", "costs": "CNY per t of reference pollutant removed",
                  "gdp": "billion CNY", "transport": "ug/m3 per kt/yr",
                  "concentrations": "ug/m3"},
        "sources": ["bench/make_region.py (synthetic generator; recipe after "
                    "/work/shared/facts/FACTS.md section 7)"],
        "notes": notes,
    }
    (out / "region.yaml").write_text(yaml.safe_dump(region_yaml, sort_keys=False, allow_unicode=True))

    scen_path = Path(scenario_path) if scenario_path else out / "scenario.yaml"
    scen_path.parent.mkdir(parents=True, exist_ok=True)
    region_rel = os.path.relpath(out.resolve(), scen_path.parent.resolve())
    scenario = {
        "name": name,
        "description": (f"Synthetic benchmark: least cost to cut PM25 by {red:g} % at every "
                        f"receptor ({S} cities, seed {p.seed})."),
        "region": region_rel,
        "targets": [{"metric": METRIC, "receptors": "all", "reduction_pct": red}],
        "objective": "min_cost",
        "cost_model": "linear",
    }
    scen_path.write_text(yaml.safe_dump(scenario, sort_keys=False))

    sizes = {f.name: f.stat().st_size for f in sorted(out.iterdir()) if f.is_file()}
    info = {
        "out_dir": out, "scenario": scen_path, "reduction_pct": red,
        "min_reachable_pct": min_reach, "transport_rows": n_rows,
        "transport_dropped": n_dropped, "max_dropped_ugm3": float(dropped_conc.max()),
        "max_dropped_pct": float(100 * (dropped_conc / c0).max()),
        "min_coef": min_coef, "local_largest": local_largest if receptors is None else None,
        "background": background, "baseline": c0, "kernel_scale": scale,
        "bytes": sizes, "seconds": time.perf_counter() - t0,
    }
    if verbose:
        print(f"wrote {out} in {info['seconds']:.1f} s: {S} cities, {R} receptors, "
              f"{n_rows:,} transport rows ({sum(sizes.values()) / 1e6:.1f} MB)")
        print(f"  min transport coefficient {min_coef:.3g} ug/m3 per kt; "
              f"baseline PM25 {c0.min():.1f}-{c0.max():.1f} (median {np.median(c0):.1f}) ug/m3")
        print(f"  reachable by the uniform plan >= {min_reach:.1f} %; scenario {scen_path} "
              f"asks {red:g} %")
        if p.transport_cutoff > 0:
            print(f"  transport cut-off {p.transport_cutoff:g}: dropped {n_dropped:,} "
                  f"entries, max baseline contribution {dropped_conc.max():.4g} ug/m3 "
                  f"({100 * (dropped_conc / c0).max():.2f} % of that receptor's baseline)")
    return info


def make_region(out_dir, cities, sectors=10, measures_per_sector=8, pollutants=5,
                receptors=None, seed=1, fmt="csv", reduction_pct=None,
                transport_cutoff=0.0, scenario=None, verbose=False) -> Path:
    """Write a synthetic region package to ``out_dir`` and return its path."""
    params = Params(cities=cities, sectors=sectors, measures_per_sector=measures_per_sector,
                    pollutants=pollutants, receptors=receptors, seed=seed, fmt=fmt,
                    reduction_pct=reduction_pct, transport_cutoff=transport_cutoff)
    return generate(out_dir, params, scenario_path=scenario, verbose=verbose)["out_dir"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cities", type=int, required=True)
    ap.add_argument("--sectors", type=int, default=10)
    ap.add_argument("--measures-per-sector", type=int, default=8)
    ap.add_argument("--pollutants", type=int, default=5)
    ap.add_argument("--receptors", type=int, default=None, help="default: the cities")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--out", default=None, help="default bench/regions/syn-<cities>[-r<receptors>]")
    ap.add_argument("--scenario", default=None, help="default <out>/scenario.yaml")
    ap.add_argument("--reduction-pct", type=float, default=None,
                    help="target cut (default 20, lowered if not reachable everywhere)")
    ap.add_argument("--transport-cutoff", type=float, default=0.0,
                    help="drop coefficients below this fraction of the receptor's largest")
    a = ap.parse_args(argv)
    out = a.out
    if out is None:
        suffix = "" if a.receptors in (None, a.cities) else f"-r{a.receptors}"
        out = Path(__file__).resolve().parent / "regions" / f"syn-{a.cities}{suffix}"
    params = Params(cities=a.cities, sectors=a.sectors, measures_per_sector=a.measures_per_sector,
                    pollutants=a.pollutants, receptors=a.receptors, seed=a.seed, fmt=a.format,
                    reduction_pct=a.reduction_pct, transport_cutoff=a.transport_cutoff)
    try:
        generate(out, params, scenario_path=a.scenario, verbose=True)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
