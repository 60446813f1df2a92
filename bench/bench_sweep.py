"""A 20-point Pareto sweep re-solved in place against one solve and against rebuilds.

At 340 cities (synthetic, seed 1): the max-burden front, epsilon from the least-cost
plan's largest burden down to 60% of it. Prints one solve (build + solve), the warm
sweep (build once, then per point: change the bound, re-solve from the last basis) and
rebuilds (each point built and solved from scratch), with the ratio sweep / one solve
(target <= 5x).

    python bench/bench_sweep.py [--cities 340] [--points 20] [--rebuilds 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import ensure_region, load_average, run_child  # noqa: E402

TARGET_RATIO = 5.0


def child(region: str, what: str, points: int, rebuilds: int, out: str) -> None:
    import numpy as np

    from fairshare import api
    from fairshare.fronts import SWEEPS, _cold_point, point_row, sweep_instance
    from fairshare.solver import PersistentSolve

    sweep = SWEEPS["max_burden"]
    base = api.prepare(Path(region) / "scenario.yaml")
    inst = sweep_instance(base, sweep)
    t0 = time.perf_counter()
    model = api.build_model(inst)
    solver = PersistentSolve(model)
    first = solver.solve()
    one_solve = time.perf_counter() - t0
    start = point_row(inst, model, first, sweep, np.nan)["max_burden"]
    values = np.linspace(start, 0.6 * start, points)
    result = {"one_solve_s": one_solve, "points": points}
    if what == "warm":
        t1, costs = time.perf_counter(), []
        for v in values:
            sweep.set(solver, inst, float(v))
            costs.append(point_row(inst, model, solver.solve(), sweep, v)["total_cost_cny"])
        result.update(sweep_s=one_solve + time.perf_counter() - t1, costs=costs)
    else:
        t1 = time.perf_counter()
        costs = [_cold_point((base, "max_burden", float(v)))["total_cost_cny"]
                 for v in values[:rebuilds]]
        result.update(rebuilds=rebuilds, rebuild_s=time.perf_counter() - t1, costs=costs)
    Path(out).write_text(json.dumps(result))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cities", type=int, default=340)
    p.add_argument("--points", type=int, default=20)
    p.add_argument("--rebuilds", type=int, default=20,
                   help="rebuilt points actually run (the rest extrapolated, and said so)")
    p.add_argument("--child", nargs=4)
    p.add_argument("--out")
    a = p.parse_args()
    if a.child:
        region, what, points, rebuilds = a.child
        child(region, what, int(points), int(rebuilds), a.out)
        return 0
    here = Path(__file__).resolve()
    region = ensure_region(f"syn-{a.cities}", a.cities, fmt="csv" if a.cities <= 1000 else "parquet")
    print(f"load average {load_average()}", flush=True)
    warm = run_child(here, [region, "warm", a.points, a.rebuilds])
    cold = run_child(here, [region, "cold", a.points, a.rebuilds])
    print(f"load average {load_average()}\n")
    if "error" in warm or "error" in cold:
        print(warm.get("error", ""), cold.get("error", ""))
        return 1
    one, sweep = warm["one_solve_s"], warm["sweep_s"]
    per_rebuild = cold["rebuild_s"] / cold["rebuilds"]
    rebuild_total = per_rebuild * a.points
    same = all((x != x and y != y) or abs(x - y) <= 1e-6 * abs(y)  # nan: infeasible in both
               for x, y in zip(cold["costs"], warm["costs"]))
    print(f"{a.cities} cities, {a.points} points of the max-burden front")
    print(f"  one solve (build + solve)       {one:8.1f} s")
    print(f"  sweep in place (incl. setup)    {sweep:8.1f} s   = {sweep / one:.2f}x one solve "
          f"(target <= {TARGET_RATIO}x: {'met' if sweep / one <= TARGET_RATIO else 'MISSED'})")
    label = "" if cold["rebuilds"] == a.points else \
        f"  (measured {cold['rebuilds']} points, {per_rebuild:.1f} s each, extrapolated)"
    print(f"  {a.points} rebuilds                     {rebuild_total:8.1f} s   = "
          f"{rebuild_total / sweep:.1f}x the sweep{label}")
    print(f"  rebuilt points equal the warm sweep's costs (rel 1e-6): {'yes' if same else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
