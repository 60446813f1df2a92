"""The command line: exit codes, the results folder, atomic writes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture
def scenario(toy_scenario) -> Path:
    return toy_scenario()  # tmp/toy.yaml on tmp/region, target C_a <= 17


def test_run_writes_the_results_folder(scenario, tmp_path, cli):
    out = tmp_path / "results"
    r = cli("run", scenario, "-o", out)
    assert r.exit_code == 0, r.output
    folder = out / "toy"
    assert {p.name for p in folder.iterdir()} >= {"summary.json", "cities.csv", "receptors.csv",
                                                   "measures.csv"}
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["total_cost_cny"] == pytest.approx(300_000)
    assert set(summary["input_sha256"]) >= {"region/cities.csv", "region/transport.csv",
                                            "scenario/toy.yaml"}
    for key in ("versions", "problem_size", "seconds", "fairness", "scenario_resolved"):
        assert key in summary
    receptors = pd.read_csv(folder / "receptors.csv")
    assert list(receptors.columns) == ["metric", "receptor", "name", "baseline_ugm3",
                                       "final_ugm3", "target_ugm3", "mtfr_ugm3", "attained",
                                       "shadow_price_cny_per_ugm3"]
    cities = pd.read_csv(folder / "cities.csv")
    assert list(cities.columns[:4]) == ["city", "name", "cost_cny", "burden"]
    assert list(cities["name"]) == ["A", "B"]  # names beside ids (the toy's cities.csv names)
    assert "total cost" in r.output
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_existing_result_is_kept_without_overwrite(scenario, tmp_path, cli):
    out = tmp_path / "results"
    assert cli("run", scenario, "-o", out).exit_code == 0
    before = (out / "toy" / "summary.json").read_bytes()
    r = cli("run", scenario, "-o", out)
    assert r.exit_code == 2 and "--overwrite" in r.output
    assert (out / "toy" / "summary.json").read_bytes() == before
    assert cli("run", scenario, "-o", out, "--overwrite").exit_code == 0


def test_results_are_reproducible_byte_for_byte(scenario, tmp_path, cli):
    for name in ("one", "two"):
        assert cli("run", scenario, "-o", tmp_path / name).exit_code == 0
    for table in ("cities.csv", "receptors.csv", "measures.csv"):
        assert (tmp_path / "one/toy" / table).read_bytes() == (tmp_path / "two/toy" / table).read_bytes()
    strip = lambda d: {k: v for k, v in d.items() if k not in ("seconds",)}  # noqa: E731
    one, two = (json.loads((tmp_path / n / "toy/summary.json").read_text()) for n in ("one", "two"))
    assert strip(one) == strip(two)


def test_infeasible_exits_3_and_names_the_receptor(tmp_path, toy_scenario, cli):
    path = toy_scenario(tmp_path / "bad.yaml", name="bad",
                        targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 10}])
    r = cli("run", path, "-o", tmp_path / "out")
    assert r.exit_code == 3
    assert "PM25 at a: target 10.00" in r.output and "MTFR 14.00" in r.output
    diag = json.loads((tmp_path / "out/bad/diagnosis.json").read_text())
    assert diag["targets_below_mtfr"][0]["receptor"] == "a"
    summary = json.loads((tmp_path / "out/bad/summary.json").read_text())
    assert summary["status"] == "infeasible"


def test_invalid_input_exits_2_without_traceback(tmp_path, toy_scenario, cli):
    path = toy_scenario(tmp_path / "s.yaml",
                        targets=[{"metric": "PM25", "receptors": ["nowhere"], "max_ugm3": 30}])
    r = cli("run", path, "-o", tmp_path / "out")
    assert r.exit_code == 2
    assert "receptor 'nowhere' is not defined" in r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "out").exists()


def test_validate_mtfr_and_schema(scenario, tmp_path, cli):
    r = cli("validate", scenario)
    assert r.exit_code == 0 and "valid" in r.output
    r = cli("mtfr", scenario, "-o", tmp_path / "m.csv")
    assert r.exit_code == 0
    table = pd.read_csv(tmp_path / "m.csv").set_index("receptor")
    assert table.loc["a", "mtfr_ugm3"] == pytest.approx(14.0)
    r = cli("schema")
    assert r.exit_code == 0
    schema = json.loads(r.output)
    assert "targets" in schema["properties"]


def test_console_script_help():
    r = subprocess.run([sys.executable, "-m", "fairshare.cli", "--help"], capture_output=True,
                       text=True, env={**os.environ})
    assert r.returncode == 0
    for command in ("run", "validate", "mtfr", "schema"):
        assert command in r.stdout
