"""Run one measurement in a fresh Python process: wall time and peak memory (RSS) from
wait4, the child's own figures as JSON. Shared by the bench scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_child(script: Path, args: list[str]) -> dict:
    """``python script --child ARGS --out FILE``; returns the JSON it wrote plus ``wall_s``
    and ``peak_rss_gb``."""
    with tempfile.TemporaryDirectory(prefix="fs-bench-") as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, str(script), "--child", *map(str, args), "--out", str(out)]
        with open(Path(tmp) / "log", "w+") as log:
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
            _, status, usage = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t0
            log.seek(0)
            text = log.read()
        result = json.loads(out.read_text()) if out.exists() else {
            "error": f"child exited {os.waitstatus_to_exitcode(status)}: {text[-1500:]}"}
    result.update(wall_s=wall, peak_rss_gb=usage.ru_maxrss / 1024 ** 2)
    return result


def ensure_region(name: str, cities: int, receptors: int | None = None,
                  fmt: str = "parquet") -> Path:
    """bench/regions/<name> from bench/make_region.py (seed 1) unless it exists."""
    folder = ROOT / "bench" / "regions" / name
    if not (folder / "scenario.yaml").exists():
        cmd = [sys.executable, str(ROOT / "bench" / "make_region.py"), "--cities", str(cities),
               "--format", fmt, "--out", str(folder)]
        if receptors:
            cmd += ["--receptors", str(receptors)]
        print(f"generating {folder} ...", flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT)
    return folder


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())
