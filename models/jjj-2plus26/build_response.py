#!/usr/bin/env python3
"""Derive response.csv: modelled O3 (MDA8 90th percentile) response surfaces for the 28
cities (docs/ozone.md; README.md "Ozone response surfaces").

    python models/jjj-2plus26/build_response.py [--out DIR] [--check]

Deterministic, byte for byte. Reads cities.csv, emissions.csv, transport.csv and
concentrations.csv of this folder (the 2025 base year, the central member: O3 transport is
the same in every member) and the constants below, each labelled FACT, DERIVED or
ASSUMPTION. ``--check`` prints the calibration figures (the 2013->2019 record, the regimes)
instead of writing.

Method (pf-RSM's decomposition, a parametric isopleth sampled onto a grid). For receptor
city r, with n = 1 - NOx cut share and v = 1 - VOC cut share (remaining emissions):

    change = A_r [g(n_loc, v_loc; k_loc_r) - g(1, 1; k_loc_r)]          (local: r's own cuts)
           + B_r [g(n_reg, v_reg; K_REG)   - g(1, 1; K_REG)]            (regional: the others',
                                                                           transport-weighted)
    g(n, v; k) = 2 k n v^2 / (n^2 + k^2 v^2)

g is the classic isopleth shape: along the ridge n = k v it equals v (production limited by
VOC); below the ridge (n < k v: little NOx) it rises with NOx (NOx-limited); above it (n > k v:
NOx-saturated) more NOx lowers O3 (titration). k < 1 puts today's emissions (1, 1) above the
ridge (VOC-limited: cutting NOx first raises O3, until the cut passes 1 - k); k > 1 below it.

* k and the amplitudes match the linear model's first-order response at the base
  (transport.csv, the O3 coefficients times 2025 emissions: µg/m³ for a full cut): where both
  slopes lower O3 (NOx-limited), k = sqrt(1 + 2 rho) with rho the NOx/VOC slope ratio (the
  ratio of g's two slopes at (1, 1) is (k^2 - 1)/2) and the amplitude gives the VOC slope;
  in the six urban cores whose linear model titrates (negative local NOx coefficient:
  Beijing, Tianjin, Shijiazhuang, Jinan, Zhengzhou, Taiyuan), k_loc < 1 is set (ASSUMPTION,
  ordered as the README's tau) and the amplitude gives the linear NOx slope. So the surfaces
  agree with the shipped linear model for small cuts and add what it cannot hold: the
  titration ridge (cores VOC-limited, surroundings NOx-limited: FACTS §7, fx361 2022
  review), diminishing and accelerating returns, and the regime change under deep cuts.
* The 2013->2019 record (FACT: 2+26 NO2 -20 %, O3 MDA8-90 +21 %; NMVOC +11 % 2010->2017,
  MEIC) is a check, printed by ``--check``: NOx -20 % and VOC +11 % everywhere raise O3 in
  the cores and lower it elsewhere (README says by how much; the record's rise is not
  reproduced city-wide by chemistry alone).
* sampled on GRID x GRID cut shares; change 0 at no cut.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

BASE_YEAR = 2025                   # FACT: the region's base year (region.yaml)
MEMBER = "central"                 # the O3 transport is the same in every member
RECORD_NOX_CUT = 0.20              # FACT: 2+26 NO2 -20 % 2013->2019 (hjkxyj 2020)
RECORD_VOC_RISE = 0.11             # FACT: national NMVOC +11 % 2010->2017 (MEIC, Zheng 2018)
RECORD_O3_RISE = 0.21              # FACT: 2+26 O3 MDA8-90 +21 % 2013->2019 (the check)
K_LOC_CORE = {"beijing": 0.45, "tianjin": 0.55, "shijiazhuang": 0.65, "jinan": 0.65,
              "zhengzhou": 0.75, "taiyuan": 0.8}   # ASSUMPTION: ordered as the README's tau
GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)    # cut shares sampled (NOx and VOC)


def g(n, v, k):
    n, v = np.asarray(n, float), np.asarray(v, float)
    den = n * n + k * k * v * v
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * k * n * v * v / np.where(den > 0, den, 1), 0.0)


def dg_dv(k):
    """d g / d v at (1, 1)."""
    return 4 * k / (1 + k * k) ** 2


def sensitivities(folder: Path):
    """Per city: the linear model's local and regional O3 change for a full NOx and a full
    VOC cut (µg/m³, [2, S] each: NOx, VOC) and the 2025 O3 base."""
    cities = list(pd.read_csv(folder / "cities.csv")["city"])
    em = pd.read_csv(folder / "emissions.csv")
    em = em[em["year"] == BASE_YEAR].groupby(["city", "pollutant"])["emission_t"].sum() / 1000
    tr = pd.read_csv(folder / "transport.csv")
    tr = tr[(tr["metric"] == "O3") & (tr["member"] == MEMBER)]
    tr = tr.assign(full=[c * em.get((s, p), 0.0)
                         for c, s, p in zip(tr.coef_ugm3_per_kt, tr.source, tr.pollutant)])
    local, regional = np.zeros((2, len(cities))), np.zeros((2, len(cities)))
    for a, p in enumerate(("NOx", "VOC")):
        t = tr[tr.pollutant == p]
        local[a] = t[t.receptor == t.source].set_index("receptor")["full"].reindex(cities).fillna(0)
        regional[a] = t[t.receptor != t.source].groupby("receptor")["full"].sum() \
            .reindex(cities).fillna(0)
    conc = pd.read_csv(folder / "concentrations.csv")
    base = conc[(conc.metric == "O3") & (conc.year == BASE_YEAR) & (conc.member == MEMBER)] \
        .set_index("receptor")["baseline_ugm3"].reindex(cities)
    return cities, local, regional, base.to_numpy()


def dg_dn(k):
    """d g / d n at (1, 1)."""
    return 2 * k * (k * k - 1) / (1 + k * k) ** 2


def fit(slopes: np.ndarray, cores=None, cities=()):
    """(k [S], amplitude [S]) from the linear NOx and VOC slopes [2, S] (see the module)."""
    rho = slopes[0] / np.where(slopes[1] > 0, slopes[1], np.nan)
    k = np.sqrt(1 + 2 * np.clip(np.nan_to_num(rho), 0, None))
    amp = slopes[1] / dg_dv(k)
    for i, c in enumerate(cities):
        if cores is not None and c in cores:
            k[i] = cores[c]
            amp[i] = slopes[0, i] / dg_dn(k[i])  # both negative: a titrating core
    return k, amp


def surfaces(folder: Path):
    """(cities, k_loc [S], A [S], k_reg [S], B [S])."""
    cities, local, regional, _ = sensitivities(folder)
    k_loc, A = fit(local, K_LOC_CORE, cities)
    k_reg, B = fit(regional)
    return cities, k_loc, A, k_reg, B


def table(folder: Path) -> pd.DataFrame:
    cities, k_loc, A, k_reg, B = surfaces(folder)
    grid = np.array(GRID)
    un, uv = np.meshgrid(grid, grid, indexing="ij")
    rows = []
    for c, k, a, kr, b in zip(cities, k_loc, A, k_reg, B):
        for part, amp, kk in (("local", a, k), ("regional", b, kr)):
            z = amp * (g(1 - un, 1 - uv, kk) - g(1, 1, kk))
            for i in range(len(grid)):
                for j in range(len(grid)):
                    rows.append({"metric": "O3", "receptor": c, "part": part,
                                 "nox_cut_share": grid[i], "voc_cut_share": grid[j],
                                 "change_ugm3": round(float(z[i, j]), 4) + 0.0})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--check", action="store_true", help="print the calibration figures")
    a = ap.parse_args(argv)
    if a.check:
        cities, k_loc, A, k_reg, B = surfaces(HERE)
        n, v = 1 - RECORD_NOX_CUT, 1 + RECORD_VOC_RISE
        rise = A * (g(n, v, k_loc) - g(1, 1, k_loc)) + B * (g(n, v, k_reg) - g(1, 1, k_reg))
        nox_only = A * (g(n, 1, k_loc) - g(1, 1, k_loc)) + B * (g(n, 1, k_reg) - g(1, 1, k_reg))
        core = np.array([c in K_LOC_CORE for c in cities])
        print(f"record (NOx -20 %, VOC +11 % everywhere): cores {rise[core].mean():+.2f}, "
              f"others {rise[~core].mean():+.2f} µg/m³ (observed +21 %: about +31)")
        print(f"NOx -20 % alone: cores {nox_only[core].mean():+.2f}, others {nox_only[~core].mean():+.2f}")
        for c, kk, aa, kr, bb in zip(cities, k_loc, A, k_reg, B):
            print(f"{c:14s} local k {kk:.2f} amplitude {aa:6.2f}   regional k {kr:.2f} amplitude {bb:6.2f}")
        return 0
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    table(HERE).to_csv(out / "response.csv", index=False, float_format="%.6g", lineterminator="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
