"""Ozone on response surfaces (docs/ozone.md): how long the exact MIP takes.

    python bench/bench_ozone.py [--time-limit 120] [--grids 3 5 8 12] [--full-mip]

1. The shipped co-control scenario (scenarios/jjj-2030-co-control.yaml: 28 cities, 2030,
   PM2.5 <= 35 and O3 MDA8-90 <= 160 in every city) on the shipped surfaces
   (models/jjj-2plus26/response.csv), at mip_rel_gap 1e-6: the whole ``fairshare.solve``
   (load, MTFR, lazy rounds, results), median of --repeat runs. Target: < 10 s.
2. The same with the surfaces of build_response.py sampled on an even grid of n points per
   axis (written into a temporary copy of the region): how the time grows with the grid.
   ``--full-mip`` also solves each with every binary from the start (no lazy rounds).
3. A toy of one city per grid resolution (tests/features/test_ozone.py's smooth function).

Each line: status, seconds, binaries in the model / made integer, lazy rounds, cost, the
largest interpolation error estimate at the plan. The load average is printed: the
machine's other work slows HiGHS's threads.

The 340-city synthetic case: bench/bench_ozone_scale.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
REGION = REPO / "models" / "jjj-2plus26"
SCENARIO = REPO / "scenarios" / "jjj-2030-co-control.yaml"


def build_module():
    spec = importlib.util.spec_from_file_location("jjj_build_response", REGION / "build_response.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(path: Path, time_limit: float, full_mip: bool = False) -> dict:
    import fairshare as fs
    from fairshare.solver import solve_model

    sc = fs.load_scenario(path).variant(solver={"time_limit_s": time_limit})
    t0 = time.perf_counter()
    if full_mip:  # every binary integer from the start
        model = fs.build_model(sc)
        if hasattr(model, "_fs_lazy_binaries"):
            del model._fs_lazy_binaries
        out = solve_model(model, time_limit_s=time_limit)
        mip = out.mip or {}
        return {"status": out.status.value, "seconds": time.perf_counter() - t0,
                "cost_bn": None if out.objective is None else out.objective / 1e3,
                "binaries": mip.get("integer_columns"), "integer": mip.get("integer_columns"),
                "rounds": 1, "gap": mip.get("relative_gap"), "bound": None}
    res = fs.solve(sc)
    seconds = time.perf_counter() - t0
    mip = res.summary["solver"].get("mip") or {}
    resp = res.summary.get("response") or {}
    return {"status": res.status.value, "seconds": seconds,
            "cost_bn": None if res.total_cost is None else res.total_cost / 1e9,
            "binaries": resp.get("binaries"), "integer": mip.get("integer_columns", 0),
            "rounds": mip.get("rounds", 1), "gap": mip.get("relative_gap"),
            "bound": resp.get("max_error_bound_ugm3")}


def on_grid(points: int, folder: Path) -> Path:
    region = folder / f"jjj-{points}"
    shutil.copytree(REGION, region, ignore=shutil.ignore_patterns("facts", "map", "*.py"))
    grid = tuple(np.linspace(0, 1, points).round(6))
    build_module().table(REGION, grid, grid).to_csv(region / "response.csv", index=False,
                                                   float_format="%.6g", lineterminator="\n")
    path = folder / f"co-control-{points}.yaml"
    path.write_text(yaml.safe_dump({"extends": str(SCENARIO), "name": f"co-control-{points}",
                                    "region": str(region)}))
    return path


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


def line(label: str, r: dict) -> str:
    cost = "-" if r["cost_bn"] is None else f"{r['cost_bn']:.4f}"
    bound = "-" if r["bound"] is None else f"{r['bound']:.2f}"
    return (f"  {label:>10} {r['status']:>10} {r['seconds']:7.2f} s  binaries {r['binaries']!s:>5} "
            f"integer {r['integer']!s:>4}  rounds {r['rounds']}  cost {cost} bn  "
            f"error at plan {bound} µg/m³")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--grids", type=int, nargs="+", default=[3, 5, 8, 12])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--full-mip", action="store_true")
    ap.add_argument("--no-toy", action="store_true")
    a = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ozone-"))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
    print("co-control, shipped surfaces (8 x 9 grid, finer up to the reach):")
    runs = [timed(SCENARIO, a.time_limit) for _ in range(a.repeat)]
    best = dict(runs[0], seconds=statistics.median(r["seconds"] for r in runs))
    print(line("shipped", best) + f"  (median of {a.repeat}: "
          + ", ".join(f"{r['seconds']:.2f}" for r in runs) + ")")
    if a.full_mip:
        print(line("full MIP", timed(SCENARIO, a.time_limit, full_mip=True)))
    print(f"co-control, even grids (points per axis; time limit {a.time_limit:g} s, gap 1e-6):")
    for n in a.grids:
        path = on_grid(n, folder)
        print(line(f"{n} x {n}", timed(path, a.time_limit)), flush=True)
        if a.full_mip:
            print(line("full MIP", timed(path, a.time_limit, full_mip=True)), flush=True)
    if not a.no_toy:
        print("toy, one city: points per axis, status, seconds, grid error bound (µg/m³)")
        for n in (5, 9, 17, 33):
            r = toy(n, folder)
            print(f"  {r['points']:3d} {r['status']:>10} {r['seconds']:8.2f} {r['bound']:10.4f}")
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
