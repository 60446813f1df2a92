#!/usr/bin/env python3
"""Roadmaps: 3 linked periods, fairshare against the same LP assembled with numpy and
passed straight to HiGHS (issue "Roadmaps").

    python bench/bench_roadmap.py                      # 28 and 340 cities, 3 repeats
    python bench/bench_roadmap.py --sizes 28 --repeat 5

The synthetic region of ``bench/make_region.py`` (seed 1) becomes a 3-year region:
emissions of 2025, 2030 and 2035 are 1.0, 0.9 and 0.8 times the generated ones, and each
year's baseline is the generated baseline less the transport of the emissions gone
(C0_t = C0 - T (E - E_t) / 1000, exact). The roadmap asks PM2.5 10, 20 and 25 % below
each year's baseline at every receptor; every measure is irreversible, no capital (the
links are the irreversibility rows). Periods of 5 years, discount rate 5 %.

Printed per size (medians of ``--repeat`` fresh processes): fairshare's solve (build,
compile, HiGHS) and end to end (load -> results), the floor (read + assemble + HiGHS),
their ratio, and that both reach the same NPV (relative 1e-6). Targets: 28 cities x 3
periods solve in under 1 s; 340 x 3 end to end within 1.5x the floor.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from _child import ensure_region, load_average, run_child  # noqa: E402

YEARS = [2025, 2030, 2035]
SCALE = [1.0, 0.9, 0.8]
REDUCTION_PCT = [10, 20, 25]
RATE, LENGTH = 0.05, 5
TARGET_28_S, TARGET_RATIO_340 = 1.0, 1.5


def roadmap_region(base: Path) -> Path:
    """``<base>-3y``: the base region with year columns (see the module docstring)."""
    out = base.parent / f"{base.name}-3y"
    if (out / "scenario.yaml").exists():
        return out
    shutil.copytree(base, out, dirs_exist_ok=True)
    em = pd.read_csv(base / "emissions.csv")
    tr = pd.read_csv(base / "transport.csv")
    conc = pd.read_csv(base / "concentrations.csv")
    pd.concat([em.assign(emission_t=em.emission_t * g, year=y) for y, g in zip(YEARS, SCALE)]
              ).to_csv(out / "emissions.csv", index=False)
    e_kt = em.groupby(["city", "pollutant"]).emission_t.sum() / 1000
    contribution = (tr.set_index(["source", "pollutant"]).coef_ugm3_per_kt
                    * e_kt.rename_axis(["source", "pollutant"]).reindex(
                        tr.set_index(["source", "pollutant"]).index).to_numpy())
    per_receptor = contribution.groupby(tr.receptor.to_numpy()).sum()
    rows = [conc.assign(baseline_ugm3=conc.baseline_ugm3
                        - (1 - g) * conc.receptor.map(per_receptor).to_numpy(), year=y)
            for y, g in zip(YEARS, SCALE)]
    pd.concat(rows).to_csv(out / "concentrations.csv", index=False)
    scenario = {"name": f"{out.name}", "region": ".", "years": YEARS,
                "roadmap": {"discount_rate": RATE, "last_period_years": LENGTH},
                "targets": [{"metric": "PM25", "receptors": "all",
                             "reduction_pct": dict(zip(YEARS, REDUCTION_PCT))}]}
    (out / "scenario.yaml").write_text(yaml.safe_dump(scenario, sort_keys=False))
    return out


# --------------------------------------------------------------------------- children

def child_fairshare(region: str, out: str) -> None:
    t0 = time.perf_counter()
    from fairshare import api
    from fairshare.results import write_results
    import tempfile

    road = api.prepare(Path(region) / "scenario.yaml")
    t1 = time.perf_counter()
    res = api.solve(road)
    t2 = time.perf_counter()
    write_results(res, tempfile.mkdtemp())
    t3 = time.perf_counter()
    Path(out).write_text(json.dumps({"status": res.status.value, "npv_cny": res.summary["npv_cny"],
                                     "prepare_s": t1 - t0, "solve_s": t2 - t1,
                                     "end_to_end_s": t3 - t0}))


def child_floor(region: str, base: str, out: str) -> None:
    import highspy
    import scipy.sparse as sp

    from floor import assemble, load_arrays

    t0 = time.perf_counter()
    d = load_arrays(base)
    blocks, lo, up, cost, col_lo, col_up = [], [], [], [], [], []
    weights = [sum((1 + RATE) ** -(y - YEARS[0]) for y in range(start, start + LENGTH))
               for start in YEARS]
    T = d["T"].reshape(d["T"].shape[0], -1)
    e_kt = d["E"].sum(axis=1).reshape(-1) / 1000
    for g, pct, w in zip(SCALE, REDUCTION_PCT, weights):
        year = dict(d, E=d["E"] * g, c0=d["c0"] - (1 - g) * (T @ e_kt))
        m = assemble(year, pct)
        blocks.append(m["A"])
        lo.append(m["row_lo"]), up.append(m["row_up"])
        cost.append(m["cost"] * w), col_lo.append(m["col_lo"]), col_up.append(m["col_up"])
    ncol, nx = blocks[0].shape[1], d["a"].size
    link = []  # x_t - x_{t-1} >= 0, every measure irreversible
    for t in range(1, len(YEARS)):
        rows = np.arange(nx)
        link.append(sp.csr_matrix((np.r_[np.ones(nx), -np.ones(nx)],
                                   (np.r_[rows, rows], np.r_[t * ncol + rows, (t - 1) * ncol + rows])),
                                  shape=(nx, len(YEARS) * ncol)))
    A = sp.vstack([sp.block_diag(blocks, format="csr")] + link, format="csc")
    inf = highspy.kHighsInf
    fin = lambda v: np.ascontiguousarray(np.clip(v, -inf, inf), dtype=np.float64)  # noqa: E731
    row_lo = np.concatenate(lo + [np.zeros(nx)] * (len(YEARS) - 1))
    row_up = np.concatenate(up + [np.full(nx, np.inf)] * (len(YEARS) - 1))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(A.shape[1], A.shape[0], int(A.nnz), int(highspy.MatrixFormat.kColwise),
                int(highspy.ObjSense.kMinimize), 0.0, fin(np.concatenate(cost)),
                fin(np.concatenate(col_lo)), fin(np.concatenate(col_up)), fin(row_lo), fin(row_up),
                A.indptr.astype(np.int32), A.indices.astype(np.int32), np.ascontiguousarray(A.data),
                np.zeros(A.shape[1], dtype=np.int32))
    t1 = time.perf_counter()
    h.run()
    t2 = time.perf_counter()
    Path(out).write_text(json.dumps({
        "status": h.modelStatusToString(h.getModelStatus()).lower(),
        "npv_cny": h.getInfo().objective_function_value * 1e6,
        "assemble_s": t1 - t0, "solve_s": t2 - t1, "end_to_end_s": t2 - t0}))


# --------------------------------------------------------------------------- parent

def measure(size: int, repeat: int) -> dict:
    base = ensure_region(f"syn-{size}", size, fmt="csv")
    region = roadmap_region(base)
    here = Path(__file__).resolve()
    fs = [run_child(here, ["fairshare", region, "-"]) for _ in range(repeat)]
    fl = [run_child(here, ["floor", region, base]) for _ in range(repeat)]
    for r in fs + fl:
        if "error" in r:
            raise SystemExit(r["error"])
    med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
    return {"cities": size, "fairshare_solve_s": med(fs, "solve_s"),
            "fairshare_end_to_end_s": med(fs, "end_to_end_s"), "floor_s": med(fl, "end_to_end_s"),
            "npv_fairshare": fs[0]["npv_cny"], "npv_floor": fl[0]["npv_cny"]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[28, 340])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--child", nargs=3)
    p.add_argument("--out")
    a = p.parse_args()
    if a.child:
        kind, region, base = a.child
        child_fairshare(region, a.out) if kind == "fairshare" else child_floor(region, base, a.out)
        return 0
    print(f"load average {load_average()}")
    print(f"{'cities':>7} {'fs solve s':>10} {'fs e2e s':>9} {'floor s':>8} {'ratio':>6}  same NPV")
    for size in a.sizes:
        r = measure(size, a.repeat)
        same = abs(r["npv_fairshare"] - r["npv_floor"]) <= 1e-6 * abs(r["npv_floor"])
        ratio = r["fairshare_end_to_end_s"] / r["floor_s"]
        print(f"{size:>7} {r['fairshare_solve_s']:>10.2f} {r['fairshare_end_to_end_s']:>9.2f} "
              f"{r['floor_s']:>8.2f} {ratio:>6.2f}  {'yes' if same else 'NO'}")
    print(f"targets: 28 x 3 solve < {TARGET_28_S} s; 340 x 3 end to end <= "
          f"{TARGET_RATIO_340}x the floor")
    print(f"load average {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
