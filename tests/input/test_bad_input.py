"""A corpus of malformed inputs: each gives exit code 2 through the CLI, one line per problem
naming the file, the row (as a spreadsheet shows it: the header is row 1; in YAML the line)
and the column (or key path), and never a traceback.

Each case starts from the toy two-city region (tests/toy.py) or a static fixture in
tests/data/bad/, breaks one thing, and names the exact place the message must point to.
"""

from __future__ import annotations

import csv
import io
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fairshare.data import load_region
from fairshare.errors import InputError

from conftest import DATA, invoke
from toy import TARGET_A, two_city_region, write_scenario

BAD = DATA / "bad"


# --- editing a region folder the way a planner's spreadsheet would ------------------------

def read_rows(folder: Path, table: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((folder / f"{table}.csv").read_text(encoding="utf-8"))))


def write_rows(folder: Path, table: str, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (folder / f"{table}.csv").write_text(buf.getvalue(), encoding="utf-8")


def set_cell(table: str, row: int, column: str, value: str):
    """Set the cell at spreadsheet ``row`` (header = 1) of ``column``."""
    def edit(folder: Path) -> None:
        rows = read_rows(folder, table)
        rows[row - 1][rows[0].index(column)] = value
        write_rows(folder, table, rows)
    return edit


def rename_column(table: str, old: str, new: str):
    def edit(folder: Path) -> None:
        rows = read_rows(folder, table)
        rows[0][rows[0].index(old)] = new
        write_rows(folder, table, rows)
    return edit


def drop_column(table: str, column: str):
    def edit(folder: Path) -> None:
        rows = read_rows(folder, table)
        i = rows[0].index(column)
        write_rows(folder, table, [r[:i] + r[i + 1:] for r in rows])
    return edit


def delete_row(table: str, row: int):
    def edit(folder: Path) -> None:
        rows = read_rows(folder, table)
        del rows[row - 1]
        write_rows(folder, table, rows)
    return edit


def duplicate_row(table: str, row: int):
    def edit(folder: Path) -> None:
        rows = read_rows(folder, table)
        write_rows(folder, table, rows + [rows[row - 1]])
    return edit


def write_text(table: str, text: str, name: str | None = None):
    def edit(folder: Path) -> None:
        (folder / (name or f"{table}.csv")).write_text(text, encoding="utf-8")
    return edit


def write_bytes(name: str, data: bytes):
    def edit(folder: Path) -> None:
        (folder / name).write_bytes(data)
    return edit


def transform_text(table: str, fn):
    def edit(folder: Path) -> None:
        path = folder / f"{table}.csv"
        path.write_text(fn(path.read_text(encoding="utf-8")), encoding="utf-8")
    return edit


def delete_file(name: str):
    def edit(folder: Path) -> None:
        (folder / name).unlink()
    return edit


def make_folder(name: str):
    def edit(folder: Path) -> None:
        (folder / name).unlink()
        (folder / name).mkdir()
    return edit


def to_parquet(table: str, fn=None):
    """Replace ``table``.csv by ``table``.parquet (same columns), edited by ``fn``."""
    def edit(folder: Path) -> None:
        df = pd.read_csv(folder / f"{table}.csv")
        (folder / f"{table}.csv").unlink()
        (fn(df) if fn else df).to_parquet(folder / f"{table}.parquet", index=False)
    return edit


def add_table(table: str, rows: list[dict]):
    def edit(folder: Path) -> None:
        pd.DataFrame(rows).to_csv(folder / f"{table}.csv", index=False)
    return edit


def both(*edits):
    def edit(folder: Path) -> None:
        for e in edits:
            e(folder)
    return edit


def run_case(tmp_path: Path, edit, targets=TARGET_A, **scenario_keys):
    region = two_city_region(tmp_path / "region")
    edit(region)
    scenario = write_scenario(tmp_path / "s.yaml", region, name="toy", targets=targets,
                              **scenario_keys)
    return invoke("run", scenario, "-o", tmp_path / "out"), scenario


def assert_clean_exit_2(r, tmp_path: Path) -> str:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output, r.output
    assert not (tmp_path / "out" / "toy").exists()
    return r.output


# --- region tables -----------------------------------------------------------------------
# (id, edit, expected start of the problem line "file, row N, column 'c'", a phrase of it)

def _not_utf8(folder: Path) -> None:
    path = folder / "cities.csv"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"B", "Bé".encode("latin-1"), 1)  # row 3, saved as Latin-1
    path.write_bytes(b"\n".join(lines))


def _year_not_whole(folder: Path) -> None:
    rows = read_rows(folder, "emissions")
    rows[0].append("year")
    for r in rows[1:]:
        r.append("2030")
    rows[2][-1] = "2030.5"
    write_rows(folder, "emissions", rows)


def _link_outside(name: str, text: str = "SECRET_HEADER,other\nsecret_value,1\n"):
    """Replace ``name`` by a link to a file of the same name outside the region folder."""
    def edit(folder: Path) -> None:
        outside = folder.parent / "outside" / name
        outside.parent.mkdir(exist_ok=True)
        outside.write_text(text, encoding="utf-8")
        if (folder / name).exists():
            (folder / name).unlink()
        (folder / name).symlink_to(outside)
    return edit


def _link_to_nothing(name: str):
    def edit(folder: Path) -> None:
        (folder / name).unlink()
        (folder / name).symlink_to(folder / "no-such-file.csv")
    return edit


REGION_CASES = [
    ("missing-file", delete_file("emissions.csv"), "emissions.csv:",
     "required file emissions.csv (or emissions.parquet) is missing"),
    ("missing-column", drop_column("cities", "gdp_bn_cny"), "cities.csv, row 1, column 'gdp_bn_cny'",
     "required column 'gdp_bn_cny' is missing"),
    ("misspelt-column", rename_column("measures", "max_application", "max_aplication"),
     "measures.csv, row 1, column 'max_application'", "did you mean 'max_application'?"),
    ("wrong-unit-emission-kt", rename_column("emissions", "emission_t", "emission_kt"),
     "emissions.csv, row 1, column 'emission_kt'", "fairshare expects 'emission_t' (t/yr)"),
    ("wrong-unit-cost-usd", rename_column("measures", "cost_cny_per_t", "cost_usd_per_t"),
     "measures.csv, row 1, column 'cost_usd_per_t'", "fairshare expects 'cost_cny_per_t'"),
    ("wrong-unit-population-m", rename_column("cities", "population", "population_m"),
     "cities.csv, row 1, column 'population_m'", "fairshare expects 'population' (persons)"),
    ("wrong-unit-baseline-ppb", rename_column("concentrations", "baseline_ugm3", "baseline_ppb"),
     "concentrations.csv, row 1, column 'baseline_ppb'", "fairshare expects 'baseline_ugm3' (µg/m³)"),
    ("empty-number-cell", set_cell("emissions", 3, "emission_t", ""),
     "emissions.csv, row 3, column 'emission_t'", "empty cell: a number is needed (t/yr)"),
    ("empty-id-cell", set_cell("measures", 2, "sector", ""), "measures.csv, row 2, column 'sector'",
     "empty cell: an id is needed in 'sector'"),
    ("text-in-number", set_cell("cities", 3, "population", "1.2 million"),
     "cities.csv, row 3, column 'population'", "'1.2 million' is not a number"),
    ("nan-text", set_cell("transport", 4, "coef_ugm3_per_kt", "NaN"),
     "transport.csv, row 4, column 'coef_ugm3_per_kt'", "'NaN' is not a number"),
    ("infinite", set_cell("emissions", 2, "emission_t", "inf"),
     "emissions.csv, row 2, column 'emission_t'", "infinite value"),
    ("boolean-in-number", set_cell("efficiencies", 2, "efficiency", "TRUE"),
     "efficiencies.csv, row 2, column 'efficiency'", "is not a number"),
    ("duplicate-key", duplicate_row("emissions", 2), "emissions.csv, row 4, column 'city'",
     "duplicate city/sector/pollutant 'a / ind / PM25' (first given in row 2)"),
    ("negative-emission", set_cell("emissions", 3, "emission_t", "-5"),
     "emissions.csv, row 3, column 'emission_t'", "-5 negative value: must be ≥ 0 (t/yr)"),
    ("negative-cost", set_cell("measures", 2, "cost_cny_per_t", "-1000"),
     "measures.csv, row 2, column 'cost_cny_per_t'", "negative value"),
    ("efficiency-above-1", set_cell("efficiencies", 2, "efficiency", "1.5"),
     "efficiencies.csv, row 2, column 'efficiency'", "1.5 must be between 0 and 1"),
    ("max-application-below-0", set_cell("measures", 2, "max_application", "-0.1"),
     "measures.csv, row 2, column 'max_application'", "must be between 0 and 1"),
    ("applicability-above-1",
     add_table("applicability", [{"city": "a", "measure": "m1", "max_application": 0.5},
                                 {"city": "b", "measure": "m1", "max_application": 1.2}]),
     "applicability.csv, row 3, column 'max_application'", "1.2 must be between 0 and 1"),
    ("gdp-zero", set_cell("cities", 2, "gdp_bn_cny", "0"), "cities.csv, row 2, column 'gdp_bn_cny'",
     "0 must be greater than 0 (billion CNY/yr)"),
    ("population-zero", set_cell("cities", 3, "population", "0"),
     "cities.csv, row 3, column 'population'", "must be greater than 0 (persons)"),
    ("latitude-out-of-range", set_cell("cities", 2, "lat", "139"), "cities.csv, row 2, column 'lat'",
     "must be between -90 and 90"),
    ("year-not-whole", _year_not_whole, "emissions.csv, row 3, column 'year'",
     "must be a whole number"),
    ("undefined-city", set_cell("emissions", 3, "city", "c"), "emissions.csv, row 3, column 'city'",
     "city 'c' is not defined in cities.csv"),
    ("undefined-measure", set_cell("efficiencies", 2, "measure", "m2"),
     "efficiencies.csv, row 2, column 'measure'", "measure 'm2' is not defined in measures.csv"),
    ("undefined-pollutant", set_cell("efficiencies", 2, "pollutant", "PM2.5"),
     "efficiencies.csv, row 2, column 'pollutant'",
     "pollutant 'PM2.5' is not defined in emissions.csv; did you mean 'PM25'?"),
    ("undefined-sector", set_cell("measures", 2, "sector", "industry"),
     "measures.csv, row 2, column 'sector'", "sector 'industry' is not defined in emissions.csv"),
    ("undefined-source-city", set_cell("transport", 5, "source", "bb"),
     "transport.csv, row 5, column 'source'", "source city 'bb' is not defined in cities.csv"),
    ("undefined-receptor", set_cell("concentrations", 3, "receptor", "x"),
     "concentrations.csv, row 3, column 'receptor'", "receptor 'x' is not defined in cities.csv"),
    ("receptor-without-baseline", delete_row("concentrations", 3),
     "transport.csv, row 4, column 'receptor'",
     "receptor 'b' has transport coefficients for metric 'PM25' but concentrations.csv gives it "
     "no baseline_ugm3"),
    ("ref-pollutant-without-efficiency", set_cell("efficiencies", 2, "efficiency", "0"),
     "measures.csv, row 2, column 'ref_pollutant'", "no PM25 efficiency > 0"),
    ("receptors-table-missing-one",
     add_table("receptors", [{"receptor": "a", "population": 1e6}]),
     "transport.csv, row 4, column 'receptor'", "receptor 'b' is not defined in receptors.csv"),
    ("empty-file", write_text("measures", ""), "measures.csv, row 1:", "the file is empty"),
    ("header-only", transform_text("cities", lambda t: t.splitlines()[0] + "\n"),
     "cities.csv, row 2:", "the file has a header but no data rows"),
    ("not-utf8", _not_utf8, "cities.csv, row 3:", "is not UTF-8 text: byte 0xe9"),
    ("binary", write_bytes("emissions.csv", b"city,sector\x00\x01\x02\n\x00\xff"),
     "emissions.csv, row 1:", "is a binary file, not CSV text"),
    ("excel-workbook", write_bytes("measures.csv", b"PK\x03\x04" + bytes(range(256))),
     "measures.csv:", "is an Excel workbook, not CSV text"),
    ("utf16", write_bytes("efficiencies.csv",
                          "measure,pollutant,efficiency\nm1,PM25,0.5\n".encode("utf-16")),
     "efficiencies.csv:", "is UTF-16 text"),
    ("file-is-a-folder", make_folder("measures.csv"), "measures.csv:", "is a folder, not a file"),
    ("too-many-cells", transform_text("emissions", lambda t: t.rstrip("\n") + ",999\n"),
     "emissions.csv, row 3:", "row 3 has 5 cells but the header has 4 columns"),
    ("unclosed-quote", transform_text("cities", lambda t: t.replace("\nb,B", '\n"b,B', 1)),
     "cities.csv, row 3:", "a quote (\") opened in row 3 is never closed"),
    ("duplicate-header", rename_column("cities", "name", "city"), "cities.csv, row 1, column 'city'",
     "column 'city' appears twice in the header (columns 1 and 2)"),
    ("semicolons", transform_text("cities", lambda t: t.replace(",", ";")), "cities.csv, row 1:",
     "the cells are separated by ';'"),
    ("blank-line-keeps-row-numbers",
     both(transform_text("emissions", lambda t: t.replace("\nb,", "\n\nb,", 1)),
          set_cell("emissions", 4, "emission_t", "-1")),
     "emissions.csv, row 4, column 'emission_t'", "negative value"),
    ("parquet-same-checks", to_parquet("emissions", lambda df: df.assign(
        emission_t=[1000.0, -3.0])), "emissions.parquet, row 3, column 'emission_t'",
     "-3 negative value"),
    ("parquet-text-in-number", to_parquet("measures", lambda df: df.assign(
        cost_cny_per_t=["a lot"])), "measures.parquet, row 2, column 'cost_cny_per_t'",
     "'a lot' is not a number"),
    ("parquet-corrupt", both(delete_file("cities.csv"),
                             write_bytes("cities.parquet", b"PAR1 this is not parquet")),
     "cities.parquet:", "cannot read the cities table as Parquet"),
    ("region-yaml-invalid", write_text("region", "name: [unclosed\n", name="region.yaml"),
     "region.yaml, line 2:", "invalid YAML"),
    # links: only files in the region folder are read
    ("link-outside-folder", _link_outside("cities.csv"), "cities.csv:",
     "is a link to a file outside the region folder"),
    ("optional-table-linked-outside", _link_outside("receptors.csv"), "receptors.csv:",
     "is a link to a file outside the region folder"),
    ("region-yaml-linked-outside", _link_outside("region.yaml", "name: elsewhere\n"),
     "region.yaml:", "is a link to a file outside the region folder"),
    ("link-to-nothing", _link_to_nothing("measures.csv"), "measures.csv:",
     "is a link to a file that does not exist"),
    # values beyond what the LP can be solved with (the column's limit)
    ("cost-beyond-limit", set_cell("measures", 2, "cost_cny_per_t", "1e300"),
     "measures.csv, row 2, column 'cost_cny_per_t'",
     "1e+300 is too large for the plan to be solved: must be at most 1e+11"),
    ("coefficient-beyond-limit", set_cell("transport", 3, "coef_ugm3_per_kt", "1e300"),
     "transport.csv, row 3, column 'coef_ugm3_per_kt'",
     "1e+300 is too large for the plan to be solved: must be between -1e+09 and 1e+09"),
    ("negative-coefficient-beyond-limit", set_cell("transport", 4, "coef_ugm3_per_kt", "-1e300"),
     "transport.csv, row 4, column 'coef_ugm3_per_kt'", "-1e+300 is too large for the plan"),
    ("emission-beyond-limit", set_cell("emissions", 2, "emission_t", "1e300"),
     "emissions.csv, row 2, column 'emission_t'", "must be at most 1e+12 (t/yr); check the unit"),
    ("baseline-beyond-limit", set_cell("concentrations", 3, "baseline_ugm3", "1e300"),
     "concentrations.csv, row 3, column 'baseline_ugm3'", "must be at most 1e+09 (µg/m³)"),
    ("parquet-coefficient-beyond-limit", to_parquet("transport", lambda df: df.assign(
        coef_ugm3_per_kt=[10.0, 2.0, 1e300, 10.0])),
     "transport.parquet, row 4, column 'coef_ugm3_per_kt'", "1e+300 is too large for the plan"),
    # positive but absurdly small
    ("gdp-denormal", set_cell("cities", 2, "gdp_bn_cny", "5e-324"),
     "cities.csv, row 2, column 'gdp_bn_cny'",
     "5e-324 is too small: must be at least 1e-06 (billion CNY/yr)"),
    ("population-below-one", set_cell("cities", 3, "population", "0.5"),
     "cities.csv, row 3, column 'population'", "0.5 is too small: must be at least 1 (persons)"),
    ("cost-factor-tiny", set_cell("cities", 2, "cost_factor", "1e-9"),
     "cities.csv, row 2, column 'cost_factor'", "is too small: must be at least 0.001"),
    # thousands separators: say why, and show the number as it must be written
    ("thousands-separators", set_cell("cities", 3, "population", "21,893,095"),
     "cities.csv, row 3, column 'population'",
     "'21,893,095' is not a number because of its thousands separators: write it without "
     "them, as 21893095"),
    ("thousands-separators-spaces", set_cell("emissions", 2, "emission_t", "1 234.5"),
     "emissions.csv, row 2, column 'emission_t'", "write it without them, as 1234.5"),
    # non-finite numbers
    ("minus-infinite", set_cell("emissions", 3, "emission_t", "-inf"),
     "emissions.csv, row 3, column 'emission_t'", "'-inf' is an infinite value"),
    ("infinity-word", set_cell("cities", 2, "gdp_bn_cny", "Infinity"),
     "cities.csv, row 2, column 'gdp_bn_cny'", "'Infinity' is an infinite value"),
    ("overflowing-number", set_cell("measures", 2, "cost_cny_per_t", "1e400"),
     "measures.csv, row 2, column 'cost_cny_per_t'",
     "'1e400' is too large for a number (an infinite value)"),
    ("nan-lowercase", set_cell("concentrations", 2, "baseline_ugm3", "nan"),
     "concentrations.csv, row 2, column 'baseline_ugm3'", "'nan' is not a number"),
    ("parquet-infinite", to_parquet("emissions", lambda df: df.assign(
        emission_t=[1000.0, float("inf")])), "emissions.parquet, row 3, column 'emission_t'",
     "'inf' is an infinite value"),
    ("parquet-nan", to_parquet("cities", lambda df: df.assign(gdp_bn_cny=[float("nan"), 50.0])),
     "cities.parquet, row 2, column 'gdp_bn_cny'", "empty cell: a number is needed"),
]


def problem_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  ")]


@pytest.mark.parametrize("case_id, edit, where, phrase", REGION_CASES,
                         ids=[c[0] for c in REGION_CASES])
def test_bad_region_table(tmp_path, case_id, edit, where, phrase):
    r, _ = run_case(tmp_path, edit)
    out = assert_clean_exit_2(r, tmp_path)
    hits = [line for line in problem_lines(out) if line.startswith(where) and phrase in line]
    assert hits, f"expected a line starting {where!r} containing {phrase!r}:\n{out}"


def test_the_same_problems_through_the_api(tmp_path):
    region = two_city_region(tmp_path / "region")
    set_cell("emissions", 3, "emission_t", "-5")(region)
    set_cell("cities", 2, "gdp_bn_cny", "0")(region)
    with pytest.raises(InputError) as info:
        load_region(region)
    got = {(p.file, p.row, p.column) for p in info.value.problems}
    assert got == {("emissions.csv", 3, "emission_t"), ("cities.csv", 2, "gdp_bn_cny")}


def test_every_problem_is_reported_at_once(tmp_path):
    """Table problems and cross-references in different files, in one run."""
    edit = both(set_cell("emissions", 3, "emission_t", "-5"), set_cell("cities", 2, "gdp_bn_cny", "0"),
                set_cell("efficiencies", 2, "measure", "m2"), delete_file("concentrations.csv"),
                rename_column("measures", "max_application", "max_app"))
    r, _ = run_case(tmp_path, edit)
    out = assert_clean_exit_2(r, tmp_path)
    for where in ("emissions.csv, row 3, column 'emission_t'", "cities.csv, row 2, column 'gdp_bn_cny'",
                  "efficiencies.csv, row 2, column 'measure'", "transport.csv: transport table given",
                  "measures.csv, row 1, column 'max_application'"):
        assert any(line.startswith(where) for line in problem_lines(out)), f"{where}\n{out}"


def test_unknown_column_is_a_warning_and_the_run_goes_on(tmp_path):
    r, _ = run_case(tmp_path, rename_column("cities", "province", "provnce"))
    assert r.exit_code == 0, r.output
    assert "cities.csv, row 1, column 'provnce': warning: unknown column 'provnce' is ignored " \
           "(did you mean 'province'?)" in r.output


def test_a_linked_file_outside_the_folder_is_not_echoed(tmp_path):
    """The refused file is not read: none of its cells appears in the output."""
    r, _ = run_case(tmp_path, both(_link_outside("receptors.csv"), _link_outside("cities.csv")))
    out = assert_clean_exit_2(r, tmp_path)
    assert "SECRET" not in out and "secret_value" not in out, out
    assert sum("outside the region folder" in line for line in problem_lines(out)) == 2, out


def test_a_link_inside_the_folder_is_read(tmp_path):
    def link_inside(folder: Path) -> None:
        (folder / "tables").mkdir()
        (folder / "cities.csv").rename(folder / "tables" / "cities.csv")
        (folder / "cities.csv").symlink_to(Path("tables") / "cities.csv")
    r, _ = run_case(tmp_path, link_inside)
    assert r.exit_code == 0, r.output


def _mkfifo(folder: Path, name: str) -> None:
    os.mkfifo(folder / name)


def _to_device(folder: Path, name: str, device: str) -> None:
    (folder / name).symlink_to(device)


# (file made special, how, what the message calls it)
SPECIAL_FILES = [
    ("emissions.csv", _mkfifo, "a FIFO"),
    ("transport.parquet", _mkfifo, "a FIFO"),  # the Parquet reader would block in open()
    ("region.yaml", _mkfifo, "a FIFO"),
    ("receptors.csv", _mkfifo, "a FIFO"),  # an optional table
    ("cities.csv", lambda f, n: _to_device(f, n, "/dev/zero"), "a character device"),
    ("measures.csv", lambda f, n: _to_device(f, n, "/dev/null"), "a character device"),
]


def _limit_memory() -> None:  # a regression reading /dev/zero must not take the machine down
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize("name, make, kind", SPECIAL_FILES, ids=[c[0] for c in SPECIAL_FILES])
def test_a_special_file_is_one_problem_found_quickly(tmp_path, name, make, kind):
    """Only regular files are read: a FIFO (which would block for ever) or a device (which
    never ends) is refused from os.stat alone. In a subprocess with a timeout, so that a
    regression fails instead of hanging the suite."""
    region = two_city_region(tmp_path / "region")
    for old in (name, name.replace(".parquet", ".csv")):
        if (region / old).exists():
            (region / old).unlink()
    make(region, name)
    scenario = write_scenario(tmp_path / "s.yaml", region, name="toy", targets=TARGET_A)
    try:
        r = subprocess.run([sys.executable, "-m", "fairshare.cli", "run", str(scenario), "-o",
                            str(tmp_path / "out")], capture_output=True, text=True, timeout=20,
                           preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading a region whose {name} is {kind} did not end in 20 s")
    assert r.returncode == 2, r.stdout + r.stderr
    lines = problem_lines(r.stdout + r.stderr)
    assert lines == [f"{name}: is not a regular file ({kind}): "
                     + ("region.yaml must be a YAML text file" if name == "region.yaml"
                        else "a table must be a CSV or Parquet file")], r.stdout + r.stderr


def test_an_implausible_value_is_a_warning_and_the_run_goes_on(tmp_path):
    r, _ = run_case(tmp_path, set_cell("measures", 2, "cost_cny_per_t", "3e9"))
    assert r.exit_code == 0, r.output
    assert "measures.csv, row 2, column 'cost_cny_per_t': warning: 3e+09 is far above the " \
           "usual 1..1e+07 (CNY per t of ref_pollutant removed); check the unit" in r.output


def test_optional_cells_and_tables_may_be_blank(tmp_path):
    """cost_factor defaults to 1 when blank; a header-only applicability.csv applies nothing;
    a byte-order mark, trailing commas and blank lines are what spreadsheets write."""
    edit = both(set_cell("cities", 2, "cost_factor", ""),
                write_text("applicability", "city,measure,max_application\n"),
                transform_text("emissions", lambda t: "\ufeff" + t.replace("\n", ",\n") + "\n\n"))
    r, _ = run_case(tmp_path, edit)
    assert r.exit_code == 0, r.output
    assert "applicability.csv: warning: the file has a header but no data rows" in r.output


def test_parquet_region_gives_the_same_result_as_csv(tmp_path):
    csv_run, _ = run_case(tmp_path / "csv", lambda f: None)
    pq_run, _ = run_case(tmp_path / "pq", both(*(to_parquet(t) for t in
                                                  ("cities", "emissions", "measures", "efficiencies",
                                                   "transport", "concentrations"))))
    assert csv_run.exit_code == pq_run.exit_code == 0, pq_run.output
    for table in ("cities.csv", "receptors.csv", "measures.csv"):
        assert (tmp_path / "csv/out/toy" / table).read_bytes() == \
            (tmp_path / "pq/out/toy" / table).read_bytes()


# --- scenario files ------------------------------------------------------------------------

def line_of(path: Path, needle: str) -> int:
    hits = [n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if needle in text]
    assert len(hits) == 1, f"{needle!r} is on lines {hits} of {path}"
    return hits[0]


def scenario_case(tmp_path: Path, body: dict | str):
    """Write the toy region and a scenario (a dict, or YAML text with {region})."""
    region = two_city_region(tmp_path / "region")
    path = tmp_path / "s.yaml"
    if isinstance(body, str):
        path.write_text(body.replace("{region}", str(region)), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump({"name": "toy", "region": str(region), **body},
                                       sort_keys=False), encoding="utf-8")
    return path


# (id, scenario body, needle on the expected line, column / key path, phrase)
SCENARIO_CASES = [
    ("invalid-yaml", "name: toy\nregion: {region}\ntargets: [{metric: PM25, max_ugm3: 30}\n",
     None, None, "invalid YAML"),
    ("misspelt-key", "name: toy\nregion: {region}\ntargts: []\n", "targts", "targts",
     "did you mean 'targets'"),
    ("wrong-type", {"targets": [{"metric": "PM25", "max_ugm3": "thirty"}]}, "thirty",
     "targets[0].max_ugm3", "thirty"),
    ("out-of-range", {"targets": [{"metric": "PM25", "max_ugm3": -5}]}, "max_ugm3",
     "targets[0].max_ugm3", "greater than 0"),
    ("missing-region", "name: toy\nregion: ./no-such-region\n", "region:", "region",
     "does not exist"),
    ("undefined-receptor", {"targets": [{"metric": "PM25", "receptors": ["c"], "max_ugm3": 30}]},
     "- c", "targets[0].receptors[0]", "receptor 'c' is not defined by region"),
    ("undefined-metric", {"targets": [{"metric": "PM10", "max_ugm3": 30}]}, "PM10",
     "targets[0].metric", "metric 'PM10' is not defined"),
    ("undefined-zone", {"targets": [{"emission_cap": "PM25", "zone": "hebei", "reduction_pct": 5}]},
     "hebei", "targets[0].zone", "zone 'hebei' is not defined"),
    ("undefined-cap-pollutant", {"targets": [{"emission_cap": "NOx", "reduction_pct": 5}]}, "NOx",
     "targets[0].emission_cap", "pollutant 'NOx' is not defined"),
    ("undefined-burden-cap-city",
     {"targets": TARGET_A, "fairness": [{"rule": "burden_cap", "max_share_of_gdp": 0.01,
                                          "cities": ["zz"]}]},
     "- zz", "fairness[0].cities[0]", "city 'zz' is not defined"),
    ("undefined-measure-in-rule",
     {"targets": TARGET_A, "fairness": [{"rule": "unified_standard", "measure": "m9",
                                          "min_application": 0.5}]},
     "m9", "fairness[0].measure", "measure 'm9' is not defined"),
    ("undefined-sector-in-rule",
     {"targets": TARGET_A, "fairness": [{"rule": "unified_standard", "sector": "power",
                                          "pollutant": "PM25", "min_removal": 0.2}]},
     "power", "fairness[0].sector", "sector 'power' is not defined"),
    ("undefined-pollutant-in-rule",
     {"targets": TARGET_A, "fairness": [{"rule": "equal_reduction", "pollutant": "SO2",
                                          "min_pct": 5}]},
     "SO2", "fairness[0].pollutant", "pollutant 'SO2' is not defined"),
    ("undefined-zone-in-rule",
     {"targets": TARGET_A, "fairness": [{"rule": "unified_standard", "zone": "z9", "measure": "m1",
                                          "min_application": 0.5}]},
     "z9", "fairness[0].zone", "zone 'z9' is not defined"),
]


@pytest.mark.parametrize("case_id, body, needle, column, phrase", SCENARIO_CASES,
                         ids=[c[0] for c in SCENARIO_CASES])
def test_bad_scenario(tmp_path, case_id, body, needle, column, phrase):
    path = scenario_case(tmp_path, body)
    r = invoke("run", path, "-o", tmp_path / "out")
    out = assert_clean_exit_2(r, tmp_path)
    if needle is None:  # a syntax error: the line and column of the YAML parser
        where = f"{path}, line 4"
    else:
        where = f"{path}, line {line_of(path, needle)}, key '{column}'"
    hits = [line for line in problem_lines(out) if line.startswith(where) and phrase in line]
    assert hits, f"expected a line starting {where!r} containing {phrase!r}:\n{out}"


def test_extends_cycle(tmp_path):
    region = two_city_region(tmp_path / "region")
    (tmp_path / "a.yaml").write_text(f"extends: b.yaml\nname: a\nregion: {region}\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    r = invoke("run", tmp_path / "a.yaml", "-o", tmp_path / "out")
    out = assert_clean_exit_2(r, tmp_path)
    assert any("b.yaml, line 1, key 'extends'" in line and "cycle" in line
               for line in problem_lines(out)), out


def test_static_fixtures(tmp_path):
    """tests/data/bad/: a region saved from a spreadsheet in GBK, and a scenario naming it."""
    shutil.copytree(BAD, tmp_path / "bad")
    r = invoke("run", tmp_path / "bad" / "gbk-region.yaml", "-o", tmp_path / "out")
    out = assert_clean_exit_2(r, tmp_path)
    assert any(line.startswith("cities.csv, row 2:") and "is not UTF-8 text" in line
               and "GBK" in line for line in problem_lines(out)), out


@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "a/b", "..", "a\\b", ".hidden"])
def test_scenario_name_cannot_write_outside_the_results_folder(tmp_path, name):
    region = two_city_region(tmp_path / "region")
    path = write_scenario(tmp_path / "s.yaml", region, name=name, targets=TARGET_A)
    out = tmp_path / "deep" / "out"
    r = invoke("run", path, "-o", out)
    assert r.exit_code == 2, r.output
    assert f"{path}, line 1, key 'name'" in r.output and "results folder name" in r.output
    assert not (tmp_path / "deep").exists() and not (tmp_path / "escape").exists()
    assert not Path("/tmp/abs").exists()


def test_debug_shows_a_traceback_only_for_internal_errors(tmp_path, monkeypatch):
    r, scenario = run_case(tmp_path, set_cell("emissions", 3, "emission_t", "-5"))
    assert r.exit_code == 2 and "Traceback" not in r.output

    def boom(*a, **k):
        raise RuntimeError("simulated bug")
    monkeypatch.setattr("fairshare.api.solve", boom)
    region = two_city_region(tmp_path / "ok")
    good = write_scenario(tmp_path / "good.yaml", region, name="good", targets=TARGET_A)
    r = invoke("run", good, "-o", tmp_path / "out2")
    assert r.exit_code == 1 and "internal error: RuntimeError: simulated bug" in r.output
    assert "Traceback" not in r.output
    r = invoke("run", good, "-o", tmp_path / "out2", "--debug")
    assert r.exit_code == 1 and "Traceback" in r.output
