#!/usr/bin/env python3
"""Speed of the compensation game (fairshare.compensation) on the 2+26 region.

    python bench/bench_compensation.py                       # all three parts
    python bench/bench_compensation.py --part province       # the 6-province game, exact
    python bench/bench_compensation.py --part north16 --workers 2   # 16 cities exact, +Dask
    python bench/bench_compensation.py --part city28         # 28 cities, sampled to SE < 1%

Parts (scenario ``scenarios/jjj-2030-least-cost.yaml``, least cost to 35 µg/m³):

* ``province``: players by ``province`` of ``models/jjj-2plus26/cities.csv`` (6 players,
  63 coalition LPs), exact: Shapley, nucleolus, least core.
* ``north16``: the 16 cities north of 36.5°N as players (65,535 coalition LPs; the 12
  southern cities are outside the game: baseline, no target held), exact Shapley, in one
  process and on a local Dask cluster of ``--workers`` processes.
* ``city28``: the 28 cities as players, Shapley sampled until every player's standard
  error is below 1% of the joint cost.

Every run is in this process (cold: no cache); prints one line per figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "scenarios" / "jjj-2030-least-cost.yaml"


def _line(label: str, comp, seconds: float) -> None:
    s = comp.summary
    solved = s["coalitions_solved_this_run"]
    print(f"{label}: {seconds:7.1f} s  players {len(comp.allocation)}  coalitions "
          f"{solved:,} ({seconds / max(solved, 1) * 1e3:.2f} ms each, end to end)  "
          f"c(N) {s['joint_cost_cny'] / 1e9:.3f} bn CNY/yr  needing the rule "
          f"{s['game']['coalitions_needing_rule']:,}", flush=True)


def province(scenario: Path) -> None:
    from fairshare.compensation import compensate

    t0 = time.perf_counter()
    comp = compensate(scenario, players="province", methods=["shapley", "nucleolus", "least_core"])
    _line("province, exact (6 players)", comp, time.perf_counter() - t0)
    print("  seconds by stage: " + ", ".join(f"{k} {v:.2f}" for k, v in comp.summary["seconds"].items()))
    print(comp.allocation[["player", "plan_cost_cny", "alloc_shapley_cny",
                           "alloc_nucleolus_cny"]].to_string(index=False))


def north16(scenario: Path, workers: int | None) -> None:
    from fairshare.compensation import compensate

    from fairshare.api import prepare

    cities = prepare(scenario).data.city_table.reset_index()
    north = cities.loc[cities["lat"] > 36.5, "city"].tolist()
    assert len(north) == 16, north
    players = {c: c for c in north}
    t0 = time.perf_counter()
    serial = compensate(scenario, players=players, methods=["shapley"], progress=True)
    _line("north16, exact, 1 process", serial, time.perf_counter() - t0)
    if workers:
        t0 = time.perf_counter()
        dask = compensate(scenario, players=players, methods=["shapley"], workers=workers,
                          progress=True)
        _line(f"north16, exact, Dask {workers} workers", dask, time.perf_counter() - t0)
        a = serial.allocation["alloc_shapley_cny"].to_numpy()
        b = dask.allocation["alloc_shapley_cny"].to_numpy()
        print(f"  largest difference serial vs Dask: {abs(a - b).max():.3g} CNY/yr")


def city28(scenario: Path, se_target: float) -> None:
    from fairshare.compensation import compensate

    t0 = time.perf_counter()
    comp = compensate(scenario, players="city", methods=["shapley"], exact=False,
                      se_target=se_target, progress=True)
    seconds = time.perf_counter() - t0
    _line("city28, sampled", comp, seconds)
    s = comp.summary["sampling"]
    print(f"  {s['permutations']} orders; largest standard error {s['largest_se_cny'] / 1e9:.4f} "
          f"bn CNY/yr = {s['largest_se_cny'] / comp.summary['joint_cost_cny']:.3%} of c(N) "
          f"(target {se_target:.1%}); converged {s['converged']}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=["province", "north16", "city28", "all"], default="all")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers for north16 (0: none)")
    ap.add_argument("--se-target", type=float, default=0.01)
    ap.add_argument("--scenario", type=Path, default=SCENARIO,
                    help="another scenario on the 2+26 region (default: %(default)s)")
    a = ap.parse_args(argv)
    scenario = a.scenario.resolve()
    print(f"fairshare compensation bench: {os.cpu_count()} cores, Python {sys.version.split()[0]}",
          flush=True)
    if a.part in ("province", "all"):
        province(scenario)
    if a.part in ("north16", "all"):
        north16(scenario, a.workers or None)
    if a.part in ("city28", "all"):
        city28(scenario, a.se_target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
