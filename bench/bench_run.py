"""The default run from the shell, end to end (issue "A planner's outputs", target < 2 s).

Times ``fairshare run scenarios/jjj-2030-least-cost.yaml`` as a planner types it: each
run a fresh process (imports included), the median of ``--repeat`` runs, with the plots
(the default: PNG, drawn by a plotting process that imports matplotlib while the model
is solved), without them (``--no-plots``) and with SVG as well (``--svg``). Prints the
machine's load average beside the figures: on a shared machine the runs compete for
its cores, and the plotting process only helps when a core is free.

    python bench/bench_run.py [--repeat 5] [--scenario scenarios/jjj-2030-least-cost.yaml]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import load_average  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {"plots (PNG, default)": [], "no plots": ["--no-plots"], "plots with SVG": ["--svg"]}


def fairshare_command() -> list[str]:
    exe = shutil.which("fairshare")
    return [exe] if exe else [sys.executable, "-m", "fairshare.cli"]


def one_run(scenario: Path, extra: list[str], out: Path) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([*fairshare_command(), "run", str(scenario), "-o", str(out),
                           "--overwrite", *extra], cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"fairshare run failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--scenario", type=Path, default=REPO / "scenarios" / "jjj-2030-least-cost.yaml")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one_run(args.scenario, [], Path(tmp))  # warm the disk cache and .pyc files
        print(f"fairshare run {args.scenario.name}: median of {args.repeat} fresh processes "
              f"(load average before: {load_average()})")
        for label, extra in VARIANTS.items():
            times = [one_run(args.scenario, extra, Path(tmp)) for _ in range(args.repeat)]
            print(f"  {label:22s} {statistics.median(times):5.2f} s   "
                  f"(min {min(times):.2f}, max {max(times):.2f})")
        print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
