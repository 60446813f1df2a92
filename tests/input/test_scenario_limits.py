"""Scenario files that escaped the checks, each refused quickly with exit 2 and one clear
problem (never a traceback, never unbounded memory or time), and what a scenario file
says that a planner must see: likely-wrong values, lists that ``extends:`` replaced,
rules that do not bind, every problem in one pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from fairshare.cli import main

from toy import two_city_region, write_scenario

A_17 = [{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}]


def cli(*args):
    t0 = time.perf_counter()
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r, time.perf_counter() - t0


def toy_scenario(tmp_path, **keys) -> Path:
    region = two_city_region(tmp_path / "region")
    return write_scenario(tmp_path / "toy.yaml", region, name=keys.pop("name", "toy"),
                          targets=keys.pop("targets", A_17), **keys)


def assert_refused(r, seconds, *phrases):
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output
    for phrase in phrases:
        assert phrase in r.output, r.output
    assert seconds < 10


# --- nothing bounds what is read -----------------------------------------------------------

BOMB = """name: bomb
region: region
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
description: *h
"""


def test_an_alias_bomb_in_a_scenario_is_refused_before_it_expands(tmp_path):
    two_city_region(tmp_path / "region")
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    r, s = cli("validate", path)
    assert_refused(r, s, "expands to", "aliases")


def test_an_alias_bomb_in_the_region_name_is_refused(tmp_path):
    path = toy_scenario(tmp_path)
    anchors = BOMB.split("\n", 2)[2].replace("description: *h", "")
    (tmp_path / "region/region.yaml").write_text(anchors + "name: *h\n")
    r, s = cli("validate", path)
    assert_refused(r, s, "region.yaml", "expands to")


def test_deep_nesting_is_refused_without_recursion_error(tmp_path):
    two_city_region(tmp_path / "region")
    path = tmp_path / "deep.yaml"
    path.write_text("name: deep\nregion: region\ndescription: " + "[" * 20_000 + "]" * 20_000 + "\n")
    r, s = cli("validate", path)
    assert_refused(r, s, "nests more than 50 levels")


def test_a_very_long_extends_chain_is_refused(tmp_path):
    two_city_region(tmp_path / "region")
    (tmp_path / "s0.yaml").write_text("name: s0\nregion: region\n")
    for i in range(1, 1200):
        (tmp_path / f"s{i}.yaml").write_text(f"name: s{i}\nextends: s{i - 1}.yaml\n")
    r, s = cli("validate", tmp_path / "s1199.yaml")
    assert_refused(r, s, "extends chain is longer than 32 files")


@pytest.mark.skipif(sys.platform == "win32", reason="FIFO")
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_scenario_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    path = tmp_path / "s.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    proc = subprocess.run([sys.executable, "-m", "fairshare.cli", "validate", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert ("a FIFO" if kind == "fifo" else "a device") in proc.stderr


def test_a_huge_scenario_file_is_not_read(tmp_path):
    two_city_region(tmp_path / "region")
    path = tmp_path / "big.yaml"
    path.write_text("name: big\nregion: region\ndescription: '" + "x" * (2 << 20) + "'\n")
    r, s = cli("validate", path)
    assert_refused(r, s, "a scenario file is a few kB")


# --- paths --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["region", "extends"])
def test_a_nul_byte_in_a_path_is_a_problem(tmp_path, key):
    two_city_region(tmp_path / "region")
    path = tmp_path / "nul.yaml"
    path.write_text(f'name: nul\nregion: region\n{key}: "bad\\0path"\n'.replace(
        "region: region\nregion:", "region:"))
    r, s = cli("validate", path)
    assert_refused(r, s, "NUL character", key)


# --- names and folders are checked before the solve ----------------------------------------

def test_a_name_too_long_for_a_folder_is_refused_before_solving(tmp_path):
    path = toy_scenario(tmp_path, name="n" * 250)
    r, s = cli("run", path, "-o", tmp_path / "out", "--no-plots")
    assert_refused(r, s, "name is 250 characters long", "keep it to 200")


def test_an_output_folder_that_cannot_be_written_is_found_before_solving(tmp_path, monkeypatch):
    import fairshare.api

    def no_solve(*a, **k):
        raise AssertionError("solved before checking the output folder")
    monkeypatch.setattr(fairshare.api, "solve", no_solve)
    path = toy_scenario(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    r, s = cli("run", path, "-o", tmp_path / "a-file" / "out", "--no-plots")
    assert_refused(r, s, "cannot write results here", "choose another folder with -o")


def test_absurd_solver_options_are_refused_by_the_schema(tmp_path):
    path = toy_scenario(tmp_path, solver={"threads": 100000})
    r, s = cli("validate", path)
    assert_refused(r, s, "solver.threads", "at most 256")


# --- what a planner must see ----------------------------------------------------------------

def test_a_percent_typed_as_a_fraction_is_a_warning_that_names_the_key(tmp_path):
    path = toy_scenario(tmp_path, fairness=[{"rule": "burden_cap", "max_share_of_gdp": 0.8}])
    r, _ = cli("run", path, "-o", tmp_path / "out", "--no-plots")
    assert r.exit_code == 0, r.output
    assert "fairness[0]" in r.output and "max_share_of_gdp: 0.8 means 80% of GDP" in r.output
    assert "write 0.008" in r.output
    summary = json.loads((tmp_path / "out/toy/summary.json").read_text())
    assert any("80% of GDP" in w for w in summary["warnings"])


def test_a_rule_that_does_not_bind_is_reported(tmp_path):
    path = toy_scenario(tmp_path, fairness=[{"rule": "burden_cap", "max_share_of_gdp": 0.01},
                                            {"rule": "burden_cap", "max_share_of_gdp": 2.9e-6}])
    # the second cap lets a spend 0.29 M CNY (x_a = 0.58, then x_b = 0.1): it binds in a only
    r, _ = cli("run", path, "-o", tmp_path / "out", "--no-plots")
    assert r.exit_code == 0, r.output
    assert "fairness[0] burden_cap: does not bind" in r.output
    assert "fairness[1] burden_cap: binds (a)" in r.output
    rules = json.loads((tmp_path / "out/toy/summary.json").read_text())["rules"]
    assert [(r["entry"], r["binds"]) for r in rules] == [
        ("targets[0]", True), ("fairness[0]", False), ("fairness[1]", True)]


def test_validate_shows_the_lists_that_extends_replaced(tmp_path):
    base = toy_scenario(tmp_path, targets=A_17 + [{"metric": "PM25", "receptors": ["b"],
                                                   "max_ugm3": 19}])
    child = tmp_path / "child.yaml"
    child.write_text("extends: toy.yaml\nname: child\ntargets:\n"
                     "  - {metric: PM25, receptors: [a], max_ugm3: 18}\n")
    r, _ = cli("validate", child)
    assert r.exit_code == 0, r.output
    assert (f"{child}, line 3: 'targets' replaces the 2 entries of {base} with 1 entry "
            "(lists are replaced, not merged)") in r.output


def test_every_problem_in_one_pass(tmp_path):
    """A schema problem used to stop the check before the references to the region were
    looked at: the planner needed two runs to see both."""
    path = toy_scenario(tmp_path, targets=[{"metric": "PM25", "max_ugm3": -5},
                                           {"metric": "PM25", "receptors": ["nowhere"],
                                            "max_ugm3": 30}],
                        fairness=[{"rule": "burden_cap", "max_share_of_gdp": 0.01,
                                   "cities": ["atlantis"]}])
    r, _ = cli("validate", path)
    assert r.exit_code == 2, r.output
    assert "3 problems" in r.output
    # the invalid first entry is left out of the reference check; the second keeps its name
    assert "targets[0].max_ugm3" in r.output and "must be greater than 0" in r.output
    assert "targets[1].receptors[0]" in r.output and "receptor 'nowhere'" in r.output
    assert "fairness[0].cities[0]" in r.output and "city 'atlantis'" in r.output


def test_summary_json_is_strict_json(tmp_path):
    from fairshare.folders import strict

    assert strict({"a": float("nan"), "b": [float("inf"), 1.5], "c": -float("inf")}) == {
        "a": None, "b": [None, 1.5], "c": None}
    path = toy_scenario(tmp_path, fairness=[{"rule": "burden_cap", "max_share_of_gdp": 0.01}])
    r, _ = cli("run", path, "-o", tmp_path / "out", "--no-plots")
    assert r.exit_code == 0, r.output

    def refuse(word):
        raise ValueError(f"{word} is not JSON")
    text = (tmp_path / "out/toy/summary.json").read_text()
    json.loads(text, parse_constant=refuse)
    yaml.safe_load(text)  # JSON is YAML: a second, independent parser


def test_a_child_objective_replaces_the_base_objective_whole(tmp_path):
    """A mapping objective names one choice: merged key by key, {min_max_burden: null}
    over {min_cost: {...}} made a two-key mapping that was refused."""
    from fairshare.scenario import load_scenario

    toy_scenario(tmp_path, objective={"min_cost": {"fairness_weight": 1.0e9,
                                                   "fairness_metric": "gini"}})
    child = tmp_path / "child.yaml"
    child.write_text("extends: toy.yaml\nname: child\nobjective: {min_max_burden: null}\n")
    assert load_scenario(child).objective.kind == "min_max_burden"


def test_the_objective_error_shows_an_example_that_loads(tmp_path):
    path = toy_scenario(tmp_path, objective="min_costs")
    r, s = cli("validate", path)
    assert_refused(r, s, "did you mean 'min_cost'?")
    example = r.output[r.output.index("{min_cost: {"):].split("}}")[0] + "}}"
    good = toy_scenario(tmp_path / "good", objective=yaml.safe_load(
        example.replace("...", "1.0e+9").replace("gini|band|max_burden", "gini")))
    assert cli("validate", good)[0].exit_code == 0
