"""What a region's numbers may plausibly hold (tables.Column usual / limit / minimum), the
messages for numbers written wrongly, and regions planned with emission caps only.

A value outside its column's usual range is a warning naming the range; beyond the column's
limit (the LP could not be solved) or below a positive column's minimum it is an error. The
streamed Parquet transport table gives the same problems as the DataFrame path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import fairshare.data as data
from fairshare import checks
from fairshare.data import load_region
from fairshare.errors import InputError
from fairshare.tables import MAX_COEFFICIENT, TABLES

from conftest import REGION_JJJ, load_bench
from toy import two_city_region


def load_errors(folder, **kw) -> tuple[list, list]:
    with pytest.raises(InputError) as info:
        load_region(folder, **kw)
    return info.value.problems, info.value.warnings


def set_column(folder: Path, table: str, column: str, values: dict[int, object]) -> None:
    """Set cells by spreadsheet row (header = row 1), written as text."""
    df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    for row, value in values.items():
        df.loc[row - 2, column] = str(value)
    df.to_csv(folder / f"{table}.csv", index=False)


# --- the ranges fit the data fairshare ships and generates ---------------------------------

@pytest.mark.parametrize("year", [2025, 2030, 2035])
def test_the_shipped_region_loads_without_warnings(year):
    assert load_region(REGION_JJJ, year).warnings == ()


@pytest.mark.parametrize("kw", [dict(cities=1, seed=3), dict(cities=6, seed=7),
                                dict(cities=40, sectors=3, measures_per_sector=2, seed=2),
                                dict(cities=5, receptors=300, seed=5, fmt="parquet")],
                         ids=["1-city", "6-cities", "40-cities", "receptors"])
def test_synthetic_regions_load_without_warnings(tmp_path, kw):
    mr = load_bench("make_region")
    mr.generate(tmp_path / "syn", mr.Params(**kw))
    assert load_region(tmp_path / "syn").warnings == ()


def test_every_unbounded_number_column_says_what_it_may_hold():
    """Each number column not bounded on both sides (lat, lon, shares) has a usual range and
    a limit; each positive column a minimum."""
    for table in TABLES.values():
        for col in table.columns:
            if col.kind == "str":
                continue
            if col.positive:
                assert col.minimum is not None and col.minimum > 0, (table.name, col.name)
            if col.kind == "float" and (col.low is None or col.high is None):
                assert col.usual is not None and col.limit is not None, (table.name, col.name)
                assert col.usual[0] <= col.usual[1] < col.limit, (table.name, col.name)


def test_a_value_at_its_limit_keeps_the_lp_coefficients_finite():
    """The reasoning of tables.py: kappa = cost_factor * cost_cny_per_t * emission_t / 1e6
    (million CNY) with one factor at its limit and the others at their usual maximum stays
    at or below MAX_COEFFICIENT, well below HiGHS's infinite 1e15 (matrix) and 1e20 (cost)."""
    cities, emissions, measures = TABLES["cities"], TABLES["emissions"], TABLES["measures"]
    factors = [cities.column("cost_factor"), measures.column("cost_cny_per_t"),
               emissions.column("emission_t")]
    for i, at_limit in enumerate(factors):
        kappa = at_limit.limit / 1e6
        for j, other in enumerate(factors):
            if j != i:
                kappa *= other.usual[1]
        assert kappa <= MAX_COEFFICIENT < 1e15, at_limit.name
    t_limit = TABLES["transport"].column("coef_ugm3_per_kt").limit
    assert t_limit <= MAX_COEFFICIENT  # T is itself a matrix coefficient (µg/m³ per kt)
    assert emissions.column("emission_t").limit / 1e3 <= MAX_COEFFICIENT  # removal in kt


# --- warnings and errors, row by row --------------------------------------------------------

def test_an_implausible_cost_is_a_warning_naming_the_usual_range(tmp_path):
    region = two_city_region(tmp_path / "r")
    set_column(region, "measures", "cost_cny_per_t", {2: 3e9})
    d = load_region(region)
    assert [(w.file, w.row, w.column, w.severity) for w in d.warnings] == \
        [("measures.csv", 2, "cost_cny_per_t", "warning")]
    assert d.warnings[0].message == ("3e+09 is far above the usual 1..1e+07 (CNY per t of "
                                     "ref_pollutant removed); check the unit")


def test_a_tiny_cost_warns_but_a_free_measure_does_not(tmp_path):
    region = two_city_region(tmp_path / "r")
    set_column(region, "measures", "cost_cny_per_t", {2: 0.004})  # million CNY per t?
    assert "0.004 is far below the usual 1..1e+07" in str(load_region(region).warnings[0])
    set_column(region, "measures", "cost_cny_per_t", {2: 0})
    assert load_region(region).warnings == ()


def test_warnings_list_rows_in_the_style_of_errors(tmp_path):
    """Each of the first MAX_ROWS_LISTED rows with its own value, then one line for the rest."""
    region = two_city_region(tmp_path / "r")
    rows = [{"receptor": f"x{i}", "population": 2e9 + i} for i in range(8)]
    rows += [{"receptor": r, "population": 1e6} for r in "ab"]
    pd.DataFrame(rows).to_csv(region / "receptors.csv", index=False)
    warnings = load_region(region).warnings
    listed = checks.MAX_ROWS_LISTED
    assert len(warnings) == listed + 1
    assert all(w.severity == "warning" and w.column == "population" for w in warnings)
    assert [w.row for w in warnings[:listed]] == list(range(2, 2 + listed))
    assert warnings[1].message.startswith("2000000001.0 is far above the usual 0..1.5e+09")
    assert warnings[-1].row is None
    assert warnings[-1].message == ("far above the usual 0..1.5e+09 (persons); check the unit "
                                    "(also in 3 more rows: 7, 8, 9)")


def test_a_value_beyond_the_limit_is_an_error_not_also_a_warning(tmp_path):
    region = two_city_region(tmp_path / "r")
    set_column(region, "emissions", "emission_t", {2: 1e300, 3: 5e8})
    errors, warnings = load_errors(region)
    assert [(p.file, p.row, p.column) for p in errors] == [("emissions.csv", 2, "emission_t")]
    assert errors[0].message == ("1e+300 is too large for the plan to be solved: must be at "
                                 "most 1e+12 (t/yr); check the unit")
    assert [(w.row, w.message) for w in warnings] == \
        [(3, "5e+08 is far above the usual 0..1e+08 (t/yr); check the unit")]


@pytest.mark.parametrize("column, cell, minimum", [("gdp_bn_cny", "5e-324", "1e-06"),
                                                   ("gdp_bn_cny", "1e-07", "1e-06"),
                                                   ("population", "0.99", "1"),
                                                   ("cost_factor", "1e-05", "0.001")])
def test_a_positive_value_below_the_minimum_is_an_error(tmp_path, column, cell, minimum):
    region = two_city_region(tmp_path / "r")
    set_column(region, "cities", column, {3: cell})
    errors, _ = load_errors(region)
    assert [(p.file, p.row, p.column) for p in errors] == [("cities.csv", 3, column)]
    assert errors[0].message.startswith(f"{cell} is too small: must be at least {minimum} (")


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "1e400", "-1e400"])
def test_non_finite_numbers_are_errors(tmp_path, value):
    region = two_city_region(tmp_path / "r")
    set_column(region, "transport", "coef_ugm3_per_kt", {4: value})
    errors, _ = load_errors(region)
    assert [(p.file, p.row, p.column) for p in errors] == \
        [("transport.csv", 4, "coef_ugm3_per_kt")]
    assert f"'{value}' is " in errors[0].message and "infinite value" in errors[0].message


@pytest.mark.parametrize("value", ["nan", "NaN", "-nan", "NA"])
def test_nan_written_in_a_cell_is_an_error(tmp_path, value):
    region = two_city_region(tmp_path / "r")
    set_column(region, "cities", "gdp_bn_cny", {2: value})
    errors, _ = load_errors(region)
    assert [(p.file, p.row, p.column) for p in errors] == [("cities.csv", 2, "gdp_bn_cny")]
    assert errors[0].message.startswith(f"'{value}' is not a number")


# --- messages about numbers written wrongly never show the wrong form as the model ----------

def test_thousands_separators_in_many_rows(tmp_path):
    region = two_city_region(tmp_path / "r")
    rows = [{"receptor": f"x{i}", "population": f"{1_000_000 + i:,}"} for i in range(7)]
    rows += [{"receptor": r, "population": "1000000"} for r in "ab"]
    pd.DataFrame(rows).to_csv(region / "receptors.csv", index=False)
    errors, _ = load_errors(region)
    assert errors[0].message == ("'1,000,000' is not a number because of its thousands "
                                 "separators: write it without them, as 1000000")
    assert errors[4].message.endswith("as 1000004")
    assert errors[5].message == ("not a number because of thousands separators: write the "
                                 "digits only (also in 2 more rows: 7, 8)")


def test_no_message_about_a_wrong_number_shows_an_example_to_follow(tmp_path):
    """Every kind of number problem, in one row and in many: no 'e.g.' before a bad cell."""
    region = two_city_region(tmp_path / "r")
    bad = ["21,893,095", "1.2 million", "inf", "1e400", "-5", "1e300", "nan", "2e9"]
    rows = [{"receptor": f"x{i}", "population": v} for i, v in enumerate(bad * 7)]
    pd.DataFrame(rows).to_csv(region / "receptors.csv", index=False)
    errors, warnings = load_errors(region)
    for p in errors + warnings:
        assert "e.g." not in p.message, p
    for p in errors + warnings:  # a bad cell is only ever named as what is wrong
        for cell in ("21,893,095", "1.2 million"):
            if cell in p.message:
                assert p.message.startswith(f"'{cell}' is not a number"), p


# --- the streamed Parquet transport table: the same checks ----------------------------------

def _streamed_load(monkeypatch, folder):
    real = data._read_table

    def no_transport_dataframe(path, name):
        assert name != "transport", "the transport table was read as a DataFrame"
        return real(path, name)

    with monkeypatch.context() as m:
        m.setattr(data, "LARGE_TABLE_ROWS", 3)
        m.setattr(data, "STREAM_BATCH_ROWS", 2)
        m.setattr(data, "_read_table", no_transport_dataframe)
        return load_region(folder)


def _outcome(load):
    try:
        return "ok", load().warnings
    except InputError as exc:
        return exc.problems, exc.warnings


@pytest.mark.parametrize("coefs", [[10.0, 2.0, 5e3, 10.0], [10.0, 2e9, -5e3, 1e300],
                                   [1e4, 2e4, 3e4, 4e4], [np.inf, 2.0, 2.0, -np.inf]],
                         ids=["one-warning", "errors-and-warnings", "all-rows", "infinite"])
def test_streamed_transport_gives_the_same_problems(tmp_path, monkeypatch, coefs):
    region = two_city_region(tmp_path / "r")
    df = pd.read_csv(region / "transport.csv").assign(coef_ugm3_per_kt=coefs)
    (region / "transport.csv").unlink()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False),
                   region / "transport.parquet", row_group_size=3)
    ref = _outcome(lambda: load_region(region))
    got = _outcome(lambda: _streamed_load(monkeypatch, region))
    assert got == ref
    assert any(p.file == "transport.parquet" and p.column == "coef_ugm3_per_kt"
               for p in list(ref[0] if ref[0] != "ok" else []) + list(ref[1]))


# --- files -----------------------------------------------------------------------------------

def test_only_the_files_read_are_hashed(tmp_path):
    """A cities.csv beside the cities.parquet read (here a link outside the folder) is not
    opened at all, not even to hash it."""
    region = two_city_region(tmp_path / "r")
    pd.read_csv(region / "cities.csv").to_parquet(region / "cities.parquet", index=False)
    (tmp_path / "elsewhere.csv").write_text("x\n1\n")
    (region / "cities.csv").unlink()
    (region / "cities.csv").symlink_to(tmp_path / "elsewhere.csv")
    d = load_region(region)
    assert "cities.parquet" in d.files and "cities.csv" not in d.files
    assert set(d.files) == {"region.yaml", "cities.parquet", "emissions.csv", "measures.csv",
                            "efficiencies.csv", "transport.csv", "concentrations.csv"}


# --- a region planned with emission caps only ------------------------------------------------

def test_a_region_without_transport_and_concentrations_loads(tmp_path):
    region = tmp_path / "caps-only"
    shutil.copytree(REGION_JJJ, region)
    (region / "transport.csv").unlink()
    (region / "concentrations.csv").unlink()
    d = load_region(region, 2030)
    S, P, R = len(d.cities), len(d.pollutants), len(d.receptors)
    assert d.metrics == () and R == S == 28
    assert d.transport_ugm3_per_kt.shape == (0, R, S, P)
    assert d.baseline_ugm3.shape == (0, R)
    assert d.emission_t.shape == (S, len(d.sectors), P) and d.emission_t.sum() > 0
    assert d.warnings == ()
    assert "transport.csv" not in d.files and "concentrations.csv" not in d.files
