"""Ozone on response surfaces (docs/ozone.md): how long the exact MIP takes.

    python bench/bench_ozone.py [--time-limit 120] [--grids 3 4 5 8]

1. The co-control case on the shipped region (28 cities, 2030): PM2.5 <= 35 and O3
   MDA8-90 <= 160 in every city, on the surfaces of models/jjj-2plus26/build_response.py
   written into a temporary copy of the region (the region does not ship them yet), at
   mip_rel_gap 1e-6; per grid resolution (points per axis, evenly from 0 to 1): status,
   seconds, binaries, gap. Target: optimal in < 10 s at 8 points.
2. A toy of one city per grid resolution (the surface of tests/features/test_ozone.py's
   smooth function): how the time grows with the grid alone.

The 340-city synthetic case (bench/make_region.py with surfaces) is not written yet.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
REGION = REPO / "models" / "jjj-2plus26"


def build_module():
    spec = importlib.util.spec_from_file_location("jjj_build_response", REGION / "build_response.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def co_control(points: int, time_limit: float, folder: Path) -> dict:
    import fairshare as fs

    region = folder / f"jjj-{points}"
    shutil.copytree(REGION, region, ignore=shutil.ignore_patterns("facts", "map", "*.py"))
    br = build_module()
    br.GRID = tuple(np.linspace(0, 1, points).round(6))
    br.table(REGION).to_csv(region / "response.csv", index=False, float_format="%.6g")
    path = folder / f"co-control-{points}.yaml"
    path.write_text(yaml.safe_dump({
        "name": f"co-control-{points}", "region": str(region), "year": 2030,
        "targets": [{"metric": "PM25", "receptors": "all", "max_ugm3": 35},
                    {"metric": "O3", "receptors": "all", "max_ugm3": 160}],
        "solver": {"time_limit_s": time_limit}}))
    t0 = time.perf_counter()
    res = fs.solve(fs.load_scenario(path), price_of_fairness=False)
    seconds = time.perf_counter() - t0
    mip = res.summary["solver"].get("mip") or {}
    return {"points": points, "status": res.status.value, "seconds": seconds,
            "cost_bn": None if res.total_cost is None else res.total_cost / 1e9,
            "binaries": mip.get("integer_columns"), "gap": mip.get("relative_gap")}


def toy(points: int, folder: Path) -> dict:
    sys.path.insert(0, str(REPO / "tests"))
    from features.test_ozone import o3_scenario, ozone_region, smooth  # noqa: E402
    import fairshare as fs

    grid = np.linspace(0, 1, points)
    z = [[smooth(a, b) for b in grid] for a in grid]
    region = ozone_region(folder / f"toy-{points}", z, cost_v=3000.0, nox=grid, voc=grid)
    t0 = time.perf_counter()
    res = fs.solve(fs.load_scenario(o3_scenario(folder, region, 141.0, name=f"toy-{points}")))
    return {"points": points, "status": res.status.value, "seconds": time.perf_counter() - t0,
            "bound": res.summary["response"]["grid_max_error_bound_ugm3"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--grids", type=int, nargs="+", default=[3, 4, 5, 8])
    a = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ozone-"))
    print("toy, one city: points per axis, status, seconds, grid error bound (µg/m³)")
    for n in (3, 5, 9, 17, 33):
        r = toy(n, folder)
        print(f"  {r['points']:3d} {r['status']:>10} {r['seconds']:8.2f} {r['bound']:10.4f}")
    print(f"co-control, 28 cities, 2030 (time limit {a.time_limit:g} s, gap 1e-6): points, status, "
          "seconds, binaries, gap, cost bn CNY/yr")
    for n in a.grids:
        r = co_control(n, a.time_limit, folder)
        print(f"  {r['points']:3d} {r['status']:>10} {r['seconds']:8.1f} {r['binaries']!s:>8} "
              f"{r['gap']!s:>10} {r['cost_bn']!s:>10}")
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
