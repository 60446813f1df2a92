"""MTFR for many receptors: the LPs against reading their values (issue "Solid ground").

``fairshare mtfr`` / ``fs.mtfr()`` used to rebuild the whole [metric, receptor] array for
every cell it read (quadratic in receptors: 5 s at 3,000 receptors and 23 s at 6,000 with
every MTFR already cached). It now computes each (metric, receptor) pair once, in one
batch of warm-started LPs, and reads them back vectorised. Prints, per size, the time of
the first call (the LPs) and of a second call on the same prepared instance (lookups
only), which should be a small fraction of the first.

    python bench/bench_mtfr.py [--cities 28] [--receptors 3000 6000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import ensure_region, load_average  # noqa: E402


def measure(region: Path) -> tuple[float, float, int]:
    import fairshare as fs
    from fairshare.api import prepare

    inst = prepare(region / "scenario.yaml")
    t0 = time.perf_counter()
    first = fs.mtfr(inst)
    t1 = time.perf_counter()
    second = fs.mtfr(inst)
    t2 = time.perf_counter()
    assert first.equals(second)
    return t1 - t0, t2 - t1, len(first)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cities", type=int, default=28)
    p.add_argument("--receptors", type=int, nargs="+", default=[3000, 6000])
    a = p.parse_args()
    print(f"load average {load_average()}")
    print(f"{'receptors':>10} {'rows':>7} {'LPs (first call) s':>19} {'cached (second) s':>18}")
    for n in a.receptors:
        region = ensure_region(f"syn-{a.cities}-r{n}", a.cities, receptors=n, fmt="csv")
        lp_s, cached_s, rows = measure(region)
        print(f"{n:>10} {rows:>7} {lp_s:>19.2f} {cached_s:>18.3f}")
    print(f"load average {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
