"""A run killed at any moment of writing its results leaves the previous result intact and
no half-written folder that looks finished (a finished folder has summary.json, written
last); the next run tidies what the killed one left.

The child process is ``fairshare run`` with a slowed-down writer (every file write sleeps),
so that SIGKILL lands inside the write: while the tables are written, while summary.json
is written, and between the renames of the swap.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import REGION_JJJ

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

CHILD = textwrap.dedent("""
    import os, sys, time
    import pandas as pd
    import fairshare.folders as folders
    import fairshare.results as results

    delay = float(os.environ["SLOW_WRITE_S"])
    to_csv, write_json = pd.DataFrame.to_csv, results.write_json

    def slow_csv(self, path, *a, **k):
        print("WRITING", path, flush=True)
        time.sleep(delay)
        return to_csv(self, path, *a, **k)

    def slow_json(path, obj):
        print("WRITING", path, flush=True)
        time.sleep(delay)
        write_json(path, obj)

    pd.DataFrame.to_csv, results.write_json = slow_csv, slow_json
    if os.environ.get("NO_EXCHANGE"):  # the portable swap: two renames, slowed in between
        folders._exchange = lambda a, b: False
        rename = os.rename
        def slow_rename(a, b):
            rename(a, b)
            print("RENAMED", a, b, flush=True)
            time.sleep(delay)
        folders.os.rename = slow_rename
    from fairshare.cli import main
    main(sys.argv[1:])
""")


def start_child(tmp_path: Path, scenario: Path, out: Path, delay: float, **env) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return subprocess.Popen([sys.executable, str(script), "run", str(scenario), "-o", str(out),
                             "--overwrite"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "SLOW_WRITE_S": str(delay), **env},
                            cwd=tmp_path)


def wait_for(proc: subprocess.Popen, marker: str, count: int = 1, timeout: float = 60) -> None:
    seen, t0 = 0, time.monotonic()
    while seen < count:
        line = proc.stdout.readline()
        assert line, f"child ended before {marker!r} (exit {proc.poll()})"
        seen += line.startswith(marker)
        assert time.monotonic() - t0 < timeout, "child hangs"


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def finished_folders(out: Path) -> list[Path]:
    """Visible folders (what a planner or a script would read as results)."""
    return [p for p in out.iterdir() if not p.name.startswith(".")]


@pytest.fixture
def previous(tmp_path, toy_region, toy_scenario, cli):
    """A finished result of the scenario, and its files."""
    region = toy_region()
    scenario = toy_scenario(region=region, name="toy",
                            targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}])
    out = tmp_path / "results"
    r = cli("run", scenario, "-o", out, "--no-plots")
    assert r.exit_code == 0, r.output
    # the next runs differ (a tighter target), so a replaced result would show
    toy_scenario(scenario, region=region, name="toy",
                 targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 16}])
    return scenario, out, snapshot(out / "toy")


def assert_previous_intact(out: Path, before: dict[str, bytes]) -> None:
    assert [p.name for p in finished_folders(out)] == ["toy"]
    assert snapshot(out / "toy") == before


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_during_the_write_keeps_the_previous_result(tmp_path, previous, seed, cli):
    scenario, out, before = previous
    rng = random.Random(seed)
    delay = 0.4
    proc = start_child(tmp_path, scenario, out, delay)
    # 4 files are written (cities, receptors, measures, summary.json last): pick one and a
    # moment inside its write
    wait_for(proc, "WRITING", count=rng.randint(1, 4))
    time.sleep(rng.uniform(0, delay))
    kill(proc)
    assert_previous_intact(out, before)
    leftovers = [p for p in out.iterdir() if p.name.startswith(".")]
    assert all(".partial-" in p.name for p in leftovers), leftovers

    # the next run replaces the result atomically and removes what the killed run left
    r = cli("run", scenario, "-o", out, "--overwrite", "--no-plots")
    assert r.exit_code == 0, r.output
    assert [p.name for p in out.iterdir()] == ["toy"]
    summary = json.loads((out / "toy/summary.json").read_text())
    assert summary["scenario_resolved"]["targets"][0]["max_ugm3"] == 16


def test_kill_between_the_renames_of_the_portable_swap(tmp_path, previous, cli):
    """Where the two folders cannot be exchanged in one step, the previous result is moved
    aside first; a kill right then is repaired by the next run, which puts it back."""
    scenario, out, before = previous
    proc = start_child(tmp_path, scenario, out, 2.0, NO_EXCHANGE="1")
    wait_for(proc, "RENAMED")  # the previous result is now .toy.old-<pid>-*
    kill(proc)
    assert not (out / "toy").exists()
    assert finished_folders(out) == []  # nothing visible looks finished
    # a run without --overwrite puts the previous result back and refuses to replace it
    r = cli("run", scenario, "-o", out, "--no-plots")
    assert r.exit_code == 2 and "--overwrite" in r.output, r.output
    assert_previous_intact(out, before)
    assert [p.name for p in out.iterdir()] == ["toy"]


def test_overwrite_exchanges_the_folders_in_one_step(tmp_path, previous, monkeypatch, cli):
    """On Linux the previous and the new folder are swapped by one renameat2 call: at no
    moment is there no result."""
    from fairshare import folders

    scenario, out, before = previous
    calls = []
    real = folders._exchange

    def spy(a, b):
        ok = real(a, b)
        calls.append(ok)
        return ok
    monkeypatch.setattr(folders, "_exchange", spy)
    r = cli("run", scenario, "-o", out, "--overwrite", "--no-plots")
    assert r.exit_code == 0, r.output
    assert len(calls) == 1
    if sys.platform.startswith("linux") and calls[0]:
        assert snapshot(out / "toy") != before
    assert [p.name for p in out.iterdir()] == ["toy"]


def test_shipped_scenario_is_reproducible_byte_for_byte(tmp_path, shipped_scenario, cli):
    """Two runs of a shipped scenario give the same files byte for byte, except the
    "seconds" timings in summary.json; summary.json names every input by its SHA-256."""
    from fairshare.data import sha256_file

    scenario = shipped_scenario("jjj-2030-least-cost")
    for name in ("one", "two"):
        r = cli("run", scenario, "-o", tmp_path / name, "--no-plots")
        assert r.exit_code == 0, r.output
    one, two = tmp_path / "one/jjj-2030-least-cost", tmp_path / "two/jjj-2030-least-cost"
    assert sorted(p.name for p in one.iterdir()) == sorted(p.name for p in two.iterdir())
    for p in one.iterdir():
        if p.name != "summary.json":
            assert p.read_bytes() == (two / p.name).read_bytes(), p.name
    s1, s2 = (json.loads((d / "summary.json").read_text()) for d in (one, two))
    assert s1.pop("seconds").keys() == s2.pop("seconds").keys()
    assert json.dumps(s1, sort_keys=True) == json.dumps(s2, sort_keys=True)
    for table in ("cities.csv", "emissions.csv", "measures.csv", "transport.csv"):
        assert s1["input_sha256"][f"region/{table}"] == sha256_file(REGION_JJJ / table)
    assert s1["input_sha256"]["scenario/jjj-2030-least-cost.yaml"] == sha256_file(scenario)
    assert {"fairshare", "pyomo", "highs"} <= set(s1["versions"])
    assert s1["scenario_resolved"]["name"] == "jjj-2030-least-cost"
