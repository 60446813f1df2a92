#!/usr/bin/env python3
"""Derive response.csv: modelled O3 (MDA8 90th percentile) response surfaces for the 28
cities (docs/ozone.md; README.md "Ozone response surfaces").

    python models/jjj-2plus26/build_response.py [--out DIR] [--check]

Deterministic, byte for byte. Reads cities.csv, emissions.csv, transport.csv,
concentrations.csv and background.csv of this folder (the 2025 base year, the central
member: O3 transport is the same in every member) and the constants below, each labelled
FACT, DERIVED or ASSUMPTION. ``--check`` prints the calibration figures (the 2013->2019
record, the regimes, the floor) instead of writing.

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

Calibration (each figure in README.md "Ozone response surfaces"):

* **Amplitudes: no precursor, no produced ozone.** With every NOx and VOC emission of the 28
  cities cut, a city's O3 falls to its background (background.csv, 2025: 110 µg/m³, the
  linear model's own ASSUMPTION; Beijing and Taiyuan where their observation puts it):
  A_r g(1,1;k_loc) + B_r g(1,1;K_REG) = O3_2025,r - background_r. The local part's share of
  that is the linear model's (transport.csv: the city's own VOC coefficient times its VOC
  emission over the sum over all cities; 2-20 %).
* **Local regimes: VOC-limited cores, NOx-limited surroundings** (FACTS §7, fx361 2022
  review: NCP rural areas NOx-limited, urban areas VOC-limited). The six cores whose linear
  model titrates (Beijing, Tianjin, Shijiazhuang, Jinan, Zhengzhou, Taiyuan) get k_loc < 1
  (ASSUMPTION, ordered as the linear model's tau); the other cities keep the linear model's
  local slopes (k_loc = sqrt(1 + 2 rho), rho the local NOx/VOC slope ratio: NOx-limited).
* **Regional regime: the 2013->2019 record.** FACT: 2+26 NO2 -20 % and O3 MDA8-90 +21 %
  2013->2019 (hjkxyj 2020); NMVOC +11 % (national, 2010->2017, MEIC: Zheng 2018, the closest
  VOC trend found). K_REG, one value for every city, is the one (to 3 decimals, by
  bisection) with which NOx -20 % and VOC +11 % everywhere raise the 28-city mean O3 by
  RECORD_CHEMISTRY_SHARE x 21/121 of its 2025 level (+21 % over 2013 is +17.4 % of the later
  level). ASSUMPTION: the whole rise is chemistry (meteorology, the aerosol sink of HO2 and
  the background trend are not separated): the strongest titration the record allows.
* Sampled on GRID_NOX x GRID_VOC cut shares (finer where plans can go: the measures reach
  at most 46 % of a city's NOx and 55 % of its VOC); change 0 at no cut; 4 decimals.
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
RECORD_O3_RISE = 0.21              # FACT: 2+26 O3 MDA8-90 +21 % 2013->2019 (hjkxyj 2020)
RECORD_CHEMISTRY_SHARE = 1.0       # ASSUMPTION: the share of that rise due to NOx/VOC chemistry
K_LOC_CORE = {"beijing": 0.45, "tianjin": 0.55, "shijiazhuang": 0.65, "jinan": 0.65,
              "zhengzhou": 0.75, "taiyuan": 0.8}   # ASSUMPTION: ordered as the README's tau
# ASSUMPTION: the grid, finer where the measures can reach (cut shares, NOx and VOC)
GRID_NOX = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0)
GRID_VOC = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


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
    VOC cut (µg/m³, [2, S] each: NOx, VOC), the 2025 O3 base and its background."""
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
    bg = pd.read_csv(folder / "background.csv")
    bg = bg[(bg.metric == "O3") & (bg.year == BASE_YEAR) & (bg.member == MEMBER)] \
        .set_index("receptor")["background_ugm3"].reindex(cities)
    return cities, local, regional, base.to_numpy(float), bg.to_numpy(float)


def local_k(slopes: np.ndarray, cities) -> np.ndarray:
    """k_loc [S]: the cores' (K_LOC_CORE), else from the linear local NOx and VOC slopes
    [2, S] (the ratio of g's two slopes at (1, 1) is (k^2 - 1)/2)."""
    rho = slopes[0] / np.where(slopes[1] > 0, slopes[1], np.nan)
    k = np.sqrt(1 + 2 * np.clip(np.nan_to_num(rho), 0, None))
    return np.array([K_LOC_CORE.get(c, kk) for c, kk in zip(cities, k)])


def amplitudes(k_loc, k_reg, produced, share):
    """(A [S], B [S]): the full cut of both parts removes the produced ozone, the local
    part its share."""
    return share * produced / g(1, 1, k_loc), (1 - share) * produced / g(1, 1, k_reg)


def record_change(k_loc, A, k_reg, B, nox_cut=RECORD_NOX_CUT, voc_rise=RECORD_VOC_RISE):
    """[S] the O3 change of NOx -nox_cut and VOC +voc_rise in every city (µg/m³)."""
    n, v = 1 - nox_cut, 1 + voc_rise
    return A * (g(n, v, k_loc) - g(1, 1, k_loc)) + B * (g(n, v, k_reg) - g(1, 1, k_reg))


def surfaces(folder: Path):
    """(cities, k_loc [S], A [S], K_REG, B [S], base [S], background [S])."""
    cities, local, regional, base, bg = sensitivities(folder)
    k_loc = local_k(local, cities)
    produced = base - bg
    share = local[1] / (local[1] + regional[1])
    want = RECORD_CHEMISTRY_SHARE * RECORD_O3_RISE / (1 + RECORD_O3_RISE) * base.mean()

    def rise(kr):
        A, B = amplitudes(k_loc, kr, produced, share)
        return record_change(k_loc, A, kr, B).mean()

    lo, hi = 0.05, 3.0  # the rise falls as k_reg grows (less titration)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if rise(mid) > want else (lo, mid)
    k_reg = round(0.5 * (lo + hi), 3)
    A, B = amplitudes(k_loc, k_reg, produced, share)
    return cities, k_loc, A, k_reg, B, base, bg


def table(folder: Path, grid_nox=None, grid_voc=None) -> pd.DataFrame:
    cities, k_loc, A, k_reg, B, _, _ = surfaces(folder)
    gn = np.array(GRID_NOX if grid_nox is None else grid_nox, float)
    gv = np.array(GRID_VOC if grid_voc is None else grid_voc, float)
    un, uv = np.meshgrid(gn, gv, indexing="ij")
    rows = []
    for c, k, a, b in zip(cities, k_loc, A, B):
        for part, amp, kk in (("local", a, k), ("regional", b, k_reg)):
            z = amp * (g(1 - un, 1 - uv, kk) - g(1, 1, kk))
            for i in range(len(gn)):
                for j in range(len(gv)):
                    rows.append({"metric": "O3", "receptor": c, "part": part,
                                 "nox_cut_share": gn[i], "voc_cut_share": gv[j],
                                 "change_ugm3": round(float(z[i, j]), 4) + 0.0})
    return pd.DataFrame(rows)


def check_figures(folder: Path) -> None:
    cities, k_loc, A, k_reg, B, base, bg = surfaces(folder)
    rise = record_change(k_loc, A, k_reg, B)
    nox_only = record_change(k_loc, A, k_reg, B, voc_rise=0.0)
    voc_only = record_change(k_loc, A, k_reg, B, nox_cut=0.0)
    core = np.array([c in K_LOC_CORE for c in cities])
    want = RECORD_CHEMISTRY_SHARE * RECORD_O3_RISE / (1 + RECORD_O3_RISE) * base.mean()
    print(f"K_REG {k_reg:.3f} (regional ridge at a {100 * (1 - k_reg):.0f} % NOx cut)")
    print(f"record (NOx -20 %, VOC +11 % everywhere): mean {rise.mean():+.2f} µg/m³ "
          f"(wanted {want:+.2f}: +21 % over 2013 = {100 * rise.mean() / base.mean():.1f} % of "
          f"the 2025 level), cores {rise[core].mean():+.2f}, others {rise[~core].mean():+.2f}, "
          f"range {rise.min():+.1f} .. {rise.max():+.1f}")
    print(f"NOx -20 % alone: mean {nox_only.mean():+.2f}; VOC +11 % alone: {voc_only.mean():+.2f}")
    full = -(A * g(1, 1, k_loc) + B * g(1, 1, k_reg))
    print(f"every precursor cut: O3 falls to its background ({(base + full).min():.1f} .. "
          f"{(base + full).max():.1f} µg/m³)")
    for c, kk, aa, bb in zip(cities, k_loc, A, B):
        print(f"{c:14s} local k {kk:.2f} amplitude {aa:7.2f}   regional amplitude {bb:7.2f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--check", action="store_true", help="print the calibration figures")
    a = ap.parse_args(argv)
    if a.check:
        check_figures(HERE)
        return 0
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    table(HERE).to_csv(out / "response.csv", index=False, float_format="%.6g", lineterminator="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
