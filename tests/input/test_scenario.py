"""The scenario file: loading, `extends:`, and one clear problem per mistake.

Fixtures are in tests/data/scenarios/ (several are invalid on purpose). The
expected line of each problem is found by searching the fixture's text, so
editing a fixture moves the expectation with it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fairshare.errors import InputError, Problem
from fairshare.scenario import (
    AbilityToPay,
    ConcentrationTarget,
    EmissionCap,
    ExposureTarget,
    Gini,
    Scenario,
    UnifiedStandard,
    load_scenario,
    scenario_json_schema,
)

from conftest import DATA

FIXTURES = DATA / "scenarios"
TOY_REGION = (FIXTURES / "toy-region").resolve()


def line_of(path: Path, needle: str) -> int:
    """1-based line of the one line of ``path`` containing ``needle``."""
    hits = [n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in text]
    assert len(hits) == 1, f"{needle!r} is on lines {hits} of {path}"
    return hits[0]


def problems_of(path: Path | str) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return info.value.problems


def only_problem_at(problems: list[Problem], column: str) -> Problem:
    found = [p for p in problems if p.column == column]
    assert len(found) == 1, "\n".join(map(str, problems))
    return found[0]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- valid files -------------------------------------------------------------


@pytest.fixture
def design_example(tmp_path: Path) -> Path:
    """DESIGN.md §4's example in tmp/scenarios/, next to an existing tmp/models/jjj-2plus26/."""
    (tmp_path / "models" / "jjj-2plus26").mkdir(parents=True)
    target = tmp_path / "scenarios" / "jjj-2030-equal-burden.yaml"
    target.parent.mkdir()
    shutil.copy(FIXTURES / "design_example.yaml", target)
    return target


def test_design_example_loads(design_example: Path):
    sc = load_scenario(design_example)

    assert sc.name == "jjj-2030-equal-burden"
    assert sc.region == (design_example.parent.parent / "models" / "jjj-2plus26").resolve()
    assert sc.region.is_absolute()
    assert sc.source_file == design_example.resolve()
    assert sc.year == 2030
    kinds = [type(t) for t in sc.targets]
    assert kinds == [ConcentrationTarget] * 4 + [ExposureTarget] + [EmissionCap] * 2
    assert sc.targets[1].receptors == ["beijing"]
    assert sc.targets[3].gap_closure == 0.6
    assert sc.targets[6].zone == "hebei" and sc.targets[6].max_t == 450000
    assert [f.rule for f in sc.fairness] == [
        "burden_cap", "burden_band", "equal_reduction", "unified_standard",
        "unified_standard", "ability_to_pay", "gini",
    ]
    assert sc.fairness[3].by_measure and not sc.fairness[4].by_measure
    assert (sc.objective.kind, sc.objective.fairness_weight) == ("min_cost", 0)
    assert sc.cost_model == "linear"
    assert (sc.solver.time_limit_s, sc.solver.threads, sc.solver.method) == (300, 0, "choose")


def test_scenario_is_frozen(design_example: Path):
    sc = load_scenario(design_example)
    with pytest.raises(Exception):
        sc.name = "other"  # type: ignore[misc]


def test_minimal_file_takes_the_defaults():
    sc = load_scenario(FIXTURES / "minimal.yaml")
    assert sc.region == TOY_REGION
    assert (sc.targets, sc.fairness, sc.year, sc.description) == ([], [], None, "")
    assert sc.objective.kind == "min_cost" and sc.cost_model == "linear"
    assert sc.solver.time_limit_s == 300


def test_every_rule_and_the_weighted_objective_load():
    sc = load_scenario(FIXTURES / "every_rule.yaml")

    assert sc.targets[0].receptors == ["beijing", "120000"]  # numeric ids become text
    assert [f.rule for f in sc.fairness] == [
        "burden_cap", "equal_reduction", "ability_to_pay", "gini", "per_capita", "polluter_pays",
    ]
    pay = sc.fairness[2]
    assert isinstance(pay, AbilityToPay) and pay.max_share_of_gdp is None
    assert [c.max_gdp_per_capita_cny for c in pay.classes] == [60000, 120000, None]
    assert isinstance(sc.fairness[3], Gini) and sc.fairness[3].of == "cost_per_capita"
    assert (sc.objective.kind, sc.objective.fairness_weight, sc.objective.fairness_metric) == (
        "min_cost", 2e9, "gini",
    )
    assert sc.cost_model == "quadratic" and sc.solver.method == "ipm"


def test_min_max_burden_objective(tmp_path: Path):
    path = write(tmp_path / "s.yaml", f"name: s\nregion: {TOY_REGION}\nobjective: min_max_burden\n")
    assert load_scenario(path).objective.kind == "min_max_burden"


def test_resolved_dict_is_json_and_loads_back_to_the_same_scenario(design_example: Path, tmp_path: Path):
    sc = load_scenario(design_example)
    resolved = sc.resolved_dict()

    text = json.dumps(resolved)  # JSON-serialisable as it is
    assert "source_file" not in resolved
    assert resolved["region"] == str(sc.region)
    again = load_scenario(write(tmp_path / "again.yaml", yaml.safe_dump(json.loads(text))))
    assert again.resolved_dict() == resolved


# --- extends -----------------------------------------------------------------


def test_extends_chain_overrides_values_replaces_lists_and_keeps_region_of_declaring_file():
    child = load_scenario(FIXTURES / "roadmap" / "options" / "child.yaml")
    base = load_scenario(FIXTURES / "roadmap" / "base.yaml")

    assert child.name == "roadmap-2030"
    assert child.year == 2030 and base.year == 2025
    assert child.description == base.description  # inherited
    # lists replace: the child's one target, not the base's two
    assert len(base.targets) == 2
    assert [t.gap_closure for t in child.targets] == [0.5]
    assert child.fairness == base.fairness  # not given by the child: inherited
    # mappings merge: threads from middle.yaml, time limit from base.yaml
    assert (child.solver.threads, child.solver.time_limit_s) == (4, 600)
    # base.yaml says ../toy-region, relative to roadmap/, not roadmap/options/
    assert child.region == TOY_REGION
    assert child.resolved_dict()["region"] == str(TOY_REGION)


def test_locate_and_loaded_files_follow_the_extends_chain():
    child_path = FIXTURES / "roadmap" / "options" / "child.yaml"
    base_path = FIXTURES / "roadmap" / "base.yaml"
    sc = load_scenario(child_path)

    assert sc.loaded_files == (
        child_path.resolve(), (FIXTURES / "roadmap" / "options" / "middle.yaml").resolve(), base_path.resolve(),
    )
    file, line = sc.locate("targets[0].gap_closure")
    assert (file, line) == (str(child_path), line_of(child_path, "gap_closure: 0.5"))
    file, line = sc.locate("fairness[0].cities")  # not written: the entry's line, in the base
    assert Path(file).resolve() == base_path.resolve()
    assert line == line_of(base_path, "rule: burden_cap")
    assert sc.locate("solver.time_limit_s")[1] == line_of(base_path, "solver:")
    assert sc.locate("no_such_key") == (str(sc.source_file), None)


def test_region_set_by_the_child_is_relative_to_the_child():
    sc = load_scenario(FIXTURES / "roadmap" / "options" / "own_region.yaml")
    assert sc.region == TOY_REGION  # written ../../toy-region in roadmap/options/


def test_problem_in_a_base_file_names_the_base_file_and_line():
    problems = problems_of(FIXTURES / "roadmap" / "options" / "child_of_bad_base.yaml")

    p = only_problem_at(problems, "targets[0].max_ugm3")
    assert Path(p.file).resolve() == (FIXTURES / "roadmap" / "bad_base.yaml").resolve()
    assert p.row == line_of(FIXTURES / "roadmap" / "bad_base.yaml", "max_ugm3: -1")
    assert len(problems) == 1


def test_extends_cycle_names_the_files_in_it():
    path = FIXTURES / "cycle_a.yaml"
    problems = problems_of(path)

    p = only_problem_at(problems, "extends")
    assert "cycle" in p.message
    assert "cycle_a.yaml" in p.message and "cycle_b.yaml" in p.message
    assert Path(p.file).name == "cycle_b.yaml"
    assert p.row == line_of(FIXTURES / "cycle_b.yaml", "extends:")


def test_missing_base_file_is_named():
    path = FIXTURES / "missing_base.yaml"
    p = only_problem_at(problems_of(path), "extends")
    assert p.file == str(path)
    assert p.row == line_of(path, "extends:")
    assert "no_such_base.yaml" in p.message and "does not exist" in p.message


def test_child_needs_its_own_name():
    path = FIXTURES / "roadmap" / "options" / "unnamed.yaml"
    p = only_problem_at(problems_of(path), "name")
    assert p.file == str(path)
    assert p.row == line_of(path, "extends:")
    assert "no name of its own" in p.message


# --- one problem per mistake, where it is ------------------------------------


def test_misspelt_top_level_key():
    path = FIXTURES / "typo_top_key.yaml"
    p = only_problem_at(problems_of(path), "taregts")
    assert p.file == str(path)
    assert p.row == line_of(path, "taregts:")
    assert "unknown key 'taregts'" in p.message and "did you mean 'targets'?" in p.message


BAD_TARGETS = FIXTURES / "bad_targets.yaml"


@pytest.mark.parametrize(
    "needle, column, phrases",
    [
        ("max_ugm3: -5", "targets[1].max_ugm3", ["-5", "greater than 0"]),
        ("reduction_pct: 120", "targets[2].reduction_pct", ["120", "greater than 0 and less than 100"]),
        ("gap_closure: 1.5", "targets[3].gap_closure", ["1.5", "at least 0 and at most 1"]),
        ("max_ugm3: 30, reduction_pct: 10", "targets[4]", ["exactly one of", "gives max_ugm3 and reduction_pct"]),
        ("receptors: all}", "targets[5]", ["exactly one of max_ugm3, reduction_pct or gap_closure", "none is given"]),
        ("max_ug:", "targets[6].max_ug", ["unknown key 'max_ug'", "did you mean 'max_ugm3'?"]),
        ("max_t: 1000", "targets[7]", ["exactly one of max_t or reduction_pct", "gives max_t and reduction_pct"]),
        ("{max_ugm3: 35}", "targets[8]", ["a target needs 'metric'", "'emission_cap'"]),
    ],
)
def test_bad_target(needle: str, column: str, phrases: list[str]):
    p = only_problem_at(problems_of(BAD_TARGETS), column)
    assert p.file == str(BAD_TARGETS)
    assert p.row == line_of(BAD_TARGETS, needle)
    for phrase in phrases:
        assert phrase in p.message


def test_bad_targets_gives_one_problem_per_bad_entry():
    problems = problems_of(BAD_TARGETS)
    assert len(problems) == 8, "\n".join(map(str, problems))
    assert not any(p.column.startswith("targets[0]") for p in problems)


def test_bad_fairness_rule_name():
    path = FIXTURES / "bad_rule.yaml"
    p = only_problem_at(problems_of(path), "fairness[1].rule")
    assert p.row == line_of(path, "rule: burden_cp")
    assert "'burden_cp' is not a fairness rule" in p.message
    assert "did you mean 'burden_cap'?" in p.message


def test_bad_objective():
    path = FIXTURES / "bad_objective.yaml"
    p = only_problem_at(problems_of(path), "objective")
    assert p.row == line_of(path, "objective:")
    assert "'min_csot'" in p.message and "did you mean 'min_cost'?" in p.message


def test_invalid_yaml_gives_line_and_column():
    path = FIXTURES / "invalid_yaml.yaml"
    (p,) = problems_of(path)
    row = line_of(path, "Fair: share")
    column = path.read_text(encoding="utf-8").splitlines()[row - 1].index(": share") + 1
    assert (p.file, p.row) == (str(path), row)
    assert f"invalid YAML at line {row}, column {column}" in p.message


def test_missing_region_folder():
    path = FIXTURES / "missing_region.yaml"
    p = only_problem_at(problems_of(path), "region")
    assert p.row == line_of(path, "region:")
    assert "toy-regoin" in p.message and "does not exist" in p.message


@pytest.mark.parametrize("name", ["roadmap/2030", "../escape", "a..b", "/abs", " spaced", "with space"])
def test_name_must_be_a_safe_folder_name(tmp_path: Path, name: str):
    path = write(tmp_path / "s.yaml", f"name: {json.dumps(name)}\nregion: {TOY_REGION}\n")
    p = only_problem_at(problems_of(path), "name")
    assert p.row == 1
    assert "results folder name" in p.message and "no '/', no '..'" in p.message


def test_several_problems_are_reported_together():
    path = FIXTURES / "several_problems.yaml"
    problems = problems_of(path)

    expected = {
        ("objectiv", line_of(path, "objectiv:"), "did you mean 'objective'?"),
        ("targets[0].max_ugm3", line_of(path, "max_ugm3: 0"), "greater than 0"),
        ("fairness[0].max", line_of(path, "max: 1.2"), "at most 1"),
        ("solver.threads", line_of(path, "threads: -1"), "at least 0"),
    }
    assert len(problems) == len(expected), "\n".join(map(str, problems))
    for column, row, phrase in expected:
        p = only_problem_at(problems, column)
        assert (p.file, p.row) == (str(path), row) and phrase in p.message


@pytest.mark.parametrize(
    "fixture, phrase", [("empty.yaml", "the file is empty"), ("top_list.yaml", "must be a mapping")]
)
def test_top_level_must_be_a_mapping(fixture: str, phrase: str):
    (p,) = problems_of(FIXTURES / fixture)
    assert phrase in p.message


@pytest.mark.parametrize(
    "body, column, phrase",
    [
        ("year: 2030.5", "year", "whole number"),
        ("cost_model: cubic", "cost_model", "'linear' or 'quadratic'"),
        ("solver: {method: simplx}", "solver.method", "did you mean 'simplex'?"),
        ("solver: {time_limit: 60}", "solver.time_limit", "did you mean 'time_limit_s'?"),
        ("targets: {metric: PM25}", "targets", "must be a list"),
        ("targets: [{metric: PM25, receptors: [], max_ugm3: 35}]", "targets[0].receptors", "the list is empty"),
        (
            "targets: [{metric: PM25, receptors: beijing, max_ugm3: 35}]",
            "targets[0].receptors",
            "receptors must be 'all' or a list of ids such as [beijing, tianjin]; a single id goes in brackets: [beijing]",
        ),
        ("targets: [{metric: PM25, max_ugm3: .inf}]", "targets[0].max_ugm3", "finite number"),
        ("targets: [{metric: PM25, max_ugm3: '35'}]", "targets[0].max_ugm3", "must be a number"),
        ("targets: [{metric: PM25, exposure: pop, max_ugm3: 3}]", "targets[0].exposure", "'population_weighted'"),
        ("targets: [{metirc: PM25, max_ugm3: 35}]", "targets[0].metirc", "did you mean 'metric'?"),
        ("targets: [{emision_cap: NOx, max_t: 5}]", "targets[0].emision_cap", "did you mean 'emission_cap'?"),
        ("fairness: [{max: 0.2}]", "fairness[0]", "missing key 'rule'"),
        ("fairness: [{rule: gini}]", "fairness[0].max", "missing required key 'max'"),
        ("fairness: [{rule: unified_standard, measure: m}]", "fairness[0]", "also needs min_application"),
        ("fairness: [{rule: unified_standard, measure: m, min_application: 1, sector: s}]", "fairness[0]", "not both"),
        ("fairness: [{rule: equal_reduction, pollutant: NOx}]", "fairness[0]", "exactly one of min_pct or band_pct"),
        ("fairness: [{rule: ability_to_pay}]", "fairness[0]", "either max_share_of_gdp or class_by"),
        (
            "fairness: [{rule: ability_to_pay, class_by: gdp_per_capita, classes: [{max_share_of_gdp: 0.1}, "
            "{max_gdp_per_capita_cny: 5, max_share_of_gdp: 0.1}]}]",
            "fairness[0]",
            "only the last",
        ),
        ("objective: {min_cost: {fairness_weight: 1}}", "objective", "needs fairness_metric"),
        (
            "objective: {min_cost: {fairness_weight: -1, fairness_metric: gini}}",
            "objective.min_cost.fairness_weight",
            "at least 0",
        ),
        ("objective: {min_cots: {fairness_weight: 1}}", "objective", "did you mean 'min_cost'?"),
        ("source_file: x.yaml", "source_file", "unknown key"),
        ("2030: {year: 2030}", "2030", "unknown key '2030'"),
        ("extends: [a.yaml]", "extends", "path of another scenario file"),
    ],
)
def test_planner_facing_messages(tmp_path: Path, body: str, column: str, phrase: str):
    path = write(tmp_path / "s.yaml", f"name: s\nregion: {TOY_REGION}\n{body}\n")
    problems = problems_of(path)
    p = only_problem_at(problems, column)
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert p.row == 3, p
    assert phrase in p.message
    assert "Value error" not in p.message and "Input should" not in p.message


def test_anchors_and_merge_keys_work_and_problems_point_where_the_value_is_written(tmp_path: Path):
    body = (
        f"name: s\nregion: {TOY_REGION}\ntargets:\n"
        "  - &pm {metric: PM25, max_ugm3: 35}\n"
        "  - <<: *pm\n"
        "    receptors: [beijing]\n"
        "  - *pm\n"
    )
    sc = load_scenario(write(tmp_path / "s.yaml", body))
    assert [t.receptors for t in sc.targets] == ["all", ["beijing"], "all"]

    bad = write(tmp_path / "bad.yaml", body.replace("max_ugm3: 35", "max_ugm3: -35"))
    problems = problems_of(bad)
    anchor = line_of(bad, "&pm")
    assert {(p.column, p.row) for p in problems} == {
        ("targets[0].max_ugm3", anchor),  # the anchor itself
        ("targets[1].max_ugm3", line_of(bad, "<<: *pm")),  # merged: the entry that merges it
        ("targets[2].max_ugm3", anchor),  # a plain alias is the anchored mapping itself
    }


def test_duplicate_key_is_reported(tmp_path: Path):
    path = write(tmp_path / "s.yaml", f"name: s\nregion: {TOY_REGION}\nyear: 2025\nyear: 2030\n")
    p = only_problem_at(problems_of(path), "year")
    assert p.row == 4 and "appears twice" in p.message


def test_missing_scenario_file():
    (p,) = problems_of(FIXTURES / "no_such_file.yaml")
    assert "does not exist" in p.message


# --- JSON Schema -------------------------------------------------------------


def test_json_schema_describes_the_file(design_example: Path):
    schema = scenario_json_schema()
    json.dumps(schema)
    assert "extends" in schema["properties"] and "source_file" not in schema["properties"]
    assert schema["required"] == ["name"]  # and region, unless the file extends another

    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for fixture in ("design_example.yaml", "every_rule.yaml", "roadmap/options/child.yaml"):
        validator.validate(yaml.safe_load((FIXTURES / fixture).read_text(encoding="utf-8")))
    assert not validator.is_valid(yaml.safe_load((FIXTURES / "typo_top_key.yaml").read_text(encoding="utf-8")))
    assert not validator.is_valid({"name": "x", "region": "r", "objective": "min_csot"})
    assert not validator.is_valid({"name": "x"})


# --- never a traceback -------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=True),
    st.sampled_from(["all", "PM25", "NOx", "gini", "min_cost", "population_weighted", "", "a/b"]),
)
KEYS = st.sampled_from(
    ["name", "region", "targets", "fairness", "objective", "solver", "metric", "max_ugm3", "rule",
     "min_cost", "fairness_weight", "classes", "emission_cap", "exposure", "receptors", "year", "x"]
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=12
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_any_malformed_file_gives_input_error_not_a_traceback(content: dict):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.yaml"
        path.write_text(yaml.safe_dump(content), encoding="utf-8")
        try:
            load_scenario(path)
        except InputError as exc:
            assert exc.problems
            assert all(isinstance(p.message, str) and p.message for p in exc.problems)
