"""Receptors >> sources: row generation against the full LP (issue "Scale and speed").

Prints, for 340 source cities (10 sectors, 8 measures per sector, 5 pollutants):
  * 340 receptors, full LP: fairshare end to end (the reference time);
  * 3,000 receptors: full LP and row generation reach the same optimum (checked);
  * 100,000 receptors by row generation: end to end, peak memory, rows kept, and the
    ratio to the 340-receptor time (target <= 3x).
Each run is a fresh process (time includes load, build, solve and writing results).

    python bench/bench_receptors.py [--receptors 100000] [--check-receptors 3000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import ensure_region, load_average, run_child  # noqa: E402

TARGET_RATIO = 3.0


def child(region: str, mode: str, out: str) -> None:
    t0 = time.perf_counter()
    from fairshare import api
    from fairshare.results import write_results
    from fairshare.scenario import load_scenario

    sc = load_scenario(Path(region) / "scenario.yaml").variant(
        {"solver.constraint_generation": mode, "solver.time_limit_s": 1800})
    t1 = time.perf_counter()
    inst = api.prepare(sc)
    t2 = time.perf_counter()
    res = api.solve(inst, price_of_fairness=False)
    t3 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp())
    write_results(res, tmp)
    shutil.rmtree(tmp)
    t4 = time.perf_counter()
    secs = res.summary["seconds"]
    Path(out).write_text(json.dumps({
        "status": res.status.value, "total_cost_cny": res.total_cost,
        "import_s": t1 - t0, "load_s": t2 - t1, "build_s": secs.get("build_model"),
        "compile_s": secs.get("build_solver_model"), "solve_s": secs.get("solve"),
        "results_s": (t3 - t2) - secs.get("build_model", 0) - secs.get("build_solver_model", 0)
        - secs.get("solve", 0) + (t4 - t3),
        "end_to_end_s": t4 - t1, "size": res.summary["problem_size"]}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--receptors", type=int, default=100_000)
    p.add_argument("--check-receptors", type=int, default=3_000)
    p.add_argument("--only-large", action="store_true",
                   help="run only the large row-generation case")
    p.add_argument("--child", nargs=2, metavar=("REGION", "MODE"))
    p.add_argument("--out")
    a = p.parse_args()
    if a.child:
        child(*a.child, a.out)
        return 0
    here = Path(__file__).resolve()
    base = ensure_region("syn-340-pq", 340)
    check = ensure_region(f"syn-340-r{a.check_receptors}", 340, a.check_receptors)
    big = ensure_region(f"syn-340-r{a.receptors}", 340, a.receptors)
    print(f"load average {load_average()}", flush=True)
    if a.only_large:
        r = run_child(here, [big, "on"])
        print(json.dumps(r, indent=1))
        return 0
    runs = {
        "340 receptors, full LP": run_child(here, [base, "off"]),
        f"{a.check_receptors:,} receptors, full LP": run_child(here, [check, "off"]),
        f"{a.check_receptors:,} receptors, row generation": run_child(here, [check, "on"]),
        f"{a.receptors:,} receptors, row generation": run_child(here, [big, "on"]),
    }
    print(f"load average {load_average()}\n")
    print(f"{'run':<36}{'status':>10}{'cost (bn CNY)':>15}{'load':>8}{'build':>8}{'solve':>8}"
          f"{'end to end':>12}{'peak RSS':>10}  rows kept / total")
    for name, r in runs.items():
        if "error" in r:
            print(f"{name:<36} ERROR {r['error']}")
            continue
        rg = r["size"].get("row_generation", {})
        kept = f"{rg['rows_kept']:,} / {rg['rows_total']:,} in {rg['rounds']} rounds" if rg else ""
        print(f"{name:<36}{r['status']:>10}{r['total_cost_cny'] / 1e9:>15.6f}{r['load_s']:>8.1f}"
              f"{r['build_s']:>8.1f}{r['solve_s']:>8.1f}{r['end_to_end_s']:>12.1f}"
              f"{r['peak_rss_gb']:>8.2f} GB  {kept}")
    names = list(runs)
    full, lazy = runs[names[1]], runs[names[2]]
    if "error" not in full and "error" not in lazy:
        rel = abs(lazy["total_cost_cny"] - full["total_cost_cny"]) / full["total_cost_cny"]
        print(f"\nrow generation vs full LP at {a.check_receptors:,} receptors: relative "
              f"difference {rel:.1e} (same optimum: {'yes' if rel < 1e-6 else 'NO'})")
    ref, big_run = runs[names[0]], runs[names[3]]
    if "error" not in ref and "error" not in big_run:
        ratio = big_run["end_to_end_s"] / ref["end_to_end_s"]
        print(f"{a.receptors:,} receptors by row generation / 340-receptor full LP: {ratio:.2f}x "
              f"(target <= {TARGET_RATIO}x: {'met' if ratio <= TARGET_RATIO else 'MISSED'}); "
              f"peak memory {big_run['peak_rss_gb']:.1f} GB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
