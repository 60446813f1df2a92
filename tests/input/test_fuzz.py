"""Fuzz: random damage to a valid region and scenario never gives a traceback or a hang.

Each example starts from the toy two-city region with an applicability table, applies a
few random edits of the kinds planners make by hand (delete or duplicate a row, blank a
cell, text in a number column, negate a number, rename a column, drop a file, change an
id, break a scenario value or key) and runs ``fairshare run``: the outcome is a clean run
(exit 0, 3 infeasible) or exit 2 with one line per problem, never exit 1 (a bug).
"""

from __future__ import annotations

import csv
import io
import shutil
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import invoke
from toy import two_city_region

TABLES = ("cities", "emissions", "measures", "efficiencies", "transport", "concentrations",
          "applicability")
IDS = ["a", "b", "c", "m1", "m2", "PM25", "NOx", "ind", "z1", "", " a "]
TEXT = ["", "n/a", "-", "1,5", "abc", "NaN", "inf", "1e3", "0", "-1", "2.5", "TRUE"]
SCENARIO_KEYS = ["targets", "fairness", "name", "region", "year", "objective", "solver"]
HANG_S = 30  # one run of the toy region takes well under a second


@contextmanager
def no_hang(seconds: int):
    def on_alarm(signum, frame):
        raise TimeoutError(f"fairshare run took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def base_region(folder: Path) -> Path:
    return two_city_region(folder, applicability=[
        {"city": "a", "measure": "m1", "max_application": 0.8}])


def base_scenario(region: Path) -> dict:
    return {"name": "fuzz", "region": str(region),
            "targets": [{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17},
                        {"emission_cap": "PM25", "zone": "z1", "reduction_pct": 5}],
            "fairness": [{"rule": "burden_cap", "max_share_of_gdp": 0.01, "cities": ["a", "b"]}]}


# --- edits ---------------------------------------------------------------------------------

def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _write(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _number_columns(header: list[str]) -> list[int]:
    return [i for i, c in enumerate(header) if c in ("lat", "lon", "population", "gdp_bn_cny",
                                                     "cost_factor", "emission_t", "cost_cny_per_t",
                                                     "max_application", "efficiency",
                                                     "coef_ugm3_per_kt", "baseline_ugm3")]


def apply_table_edit(folder: Path, edit: tuple) -> None:
    kind, table, i, j, value = edit
    path = folder / f"{table}.csv"
    if not path.is_file():
        return
    if kind == "drop_file":
        path.unlink()
        return
    rows = _rows(path)
    if not rows:
        return
    header, body = rows[0], rows[1:]
    r = i % len(body) if body else None
    c = j % len(header)
    if kind == "delete_row" and body:
        del body[r]
    elif kind == "duplicate_row" and body:
        body.insert(r, list(body[r]))
    elif kind == "blank_cell" and body:
        body[r][c] = ""
    elif kind == "set_text" and body:
        body[r][c] = value
    elif kind == "negate" and body and _number_columns(header):
        c = _number_columns(header)[j % len(_number_columns(header))]
        body[r][c] = value if not body[r][c] else ("-" + body[r][c]).replace("--", "")
    elif kind == "rename_column":
        header[c] = value or header[c][:-1]
    elif kind == "change_id" and body:
        body[r][c] = value
    _write(path, [header] + body)


def apply_scenario_edit(doc: dict, edit: tuple) -> None:
    kind, key, i, value = edit
    if kind == "delete_key":
        doc.pop(key, None)
    elif kind == "unknown_key":
        doc[key + "s"] = value
    elif kind == "set_value":
        doc[key] = value
    elif kind == "target_value" and isinstance(doc.get("targets"), list) and doc["targets"]:
        target = doc["targets"][i % len(doc["targets"])]
        if isinstance(target, dict) and target:
            field = sorted(target)[i % len(target)]
            target[field] = value


table_edit = st.tuples(
    st.sampled_from(["delete_row", "duplicate_row", "blank_cell", "set_text", "negate",
                     "rename_column", "drop_file", "change_id"]),
    st.sampled_from(TABLES), st.integers(0, 7), st.integers(0, 8),
    st.sampled_from(TEXT + IDS))
scenario_value = st.one_of(st.sampled_from(TEXT + IDS), st.integers(-5, 100),
                           st.floats(-1e3, 1e3, allow_nan=False),
                           st.lists(st.sampled_from(IDS), max_size=3), st.none())
scenario_edit = st.tuples(
    st.sampled_from(["delete_key", "unknown_key", "set_value", "target_value", "target_value"]),
    st.sampled_from(SCENARIO_KEYS), st.integers(0, 5), scenario_value)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(table_edits=st.lists(table_edit, max_size=3),
       scenario_edits=st.lists(scenario_edit, max_size=2))
def test_random_damage_gives_a_clean_outcome(table_edits, scenario_edits):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        region = base_region(tmp / "region")
        for edit in table_edits:
            apply_table_edit(region, edit)
        doc = base_scenario(region)
        for edit in scenario_edits:
            apply_scenario_edit(doc, edit)
        scenario = tmp / "fuzz.yaml"
        scenario.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        with no_hang(HANG_S):
            r = invoke("run", scenario, "-o", tmp / "out", "--no-plots")
        assert r.exit_code in (0, 2, 3), (r.exit_code, r.output, table_edits, scenario_edits)
        assert "Traceback" not in r.output and "internal error" not in r.output, r.output
        if r.exit_code == 2:
            assert "problem" in r.output or "error:" in r.output, r.output
        else:
            assert len(list((tmp / "out").glob("*/summary.json"))) == 1, r.output
        shutil.rmtree(tmp / "out", ignore_errors=True)
