"""results.xlsx, read back with openpyxl: one sheet per table, headers in words with
units, names beside ids, numbers stored as numbers (never text, never "k/n"), a frozen
header row, and the same bytes for the same folder."""

from __future__ import annotations

import datetime
import re
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import invoke
from toy import TARGET_A, city, two_city_region, write_scenario

from fairshare.spreadsheet import excel_format, write_spreadsheet

UNIT = re.compile(r"\((M CNY/yr|bn CNY/yr|% of [^)]*|µg/m³|t/yr|CNY/t|0–1|s|M CNY/yr per µg/m³|"
                  r"CNY/yr per CNY/yr of allowance)\)$")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("xlsx")
    region = two_city_region(root / "region", cities=[{**city("a"), "name": "=HYPERLINK(\"x\")"},
                                                      city("b", gdp_bn_cny=50.0)])
    toy = write_scenario(root / "toy.yaml", region, targets=TARGET_A,
                         fairness=[{"rule": "burden_cap", "max_share_of_gdp": 0.004}])
    tight = write_scenario(root / "tight.yaml", region, name="toy-tight", targets=TARGET_A,
                           fairness=[{"rule": "burden_cap", "max_share_of_gdp": 1e-7}])
    out = root / "out"
    assert invoke("run", toy, "-o", out, "--no-plots").exit_code == 0
    assert invoke("run", tight, "-o", out, "--no-plots").exit_code == 3
    assert invoke("pareto", toy, "--y", "max_burden", "--points", 3, "-o", out).exit_code == 0
    assert invoke("compare", toy, tight, "-o", out, "--name", "cmp").exit_code == 0
    return {"result": out / "toy", "infeasible": out / "toy-tight",
            "pareto": out / "toy-pareto-max_burden", "compare": out / "cmp"}


def _sheets(folder) -> dict:
    """{sheet: (headers, rows of cells)} of the folder's workbook, written now."""
    wb = load_workbook(write_spreadsheet(folder))
    return {ws.title: (ws, [c.value for c in ws[1]], list(ws.iter_rows(min_row=2)))
            for ws in wb.worksheets}


def _column(sheet, header):
    ws, headers, rows = sheet
    j = headers.index(header)
    return [row[j] for row in rows]


def _no_text_numbers(sheets) -> None:
    """No cell holds a number as text, nor a k/n count a spreadsheet would read as a date."""
    for name, (_, _, rows) in sheets.items():
        for row in rows:
            for cell in row:
                if isinstance(cell.value, str):
                    assert not _number_text(cell.value), (name, cell.value)
                    assert not re.fullmatch(r"\d+/\d+", cell.value), (name, cell.value)


def _number_text(text: str) -> bool:
    try:
        float(text.replace(",", "").rstrip("%"))
    except ValueError:
        return False
    return True


def _numbers(sheet, header) -> list:
    values = [c.value for c in _column(sheet, header) if c.value is not None]
    assert values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values), \
        (header, values)
    assert all(c.data_type == "n" for c in _column(sheet, header) if c.value is not None)
    return values


def test_result_workbook(folders):
    sheets = _sheets(folders["result"])
    assert list(sheets) == ["Summary", "Cities", "Receptors", "Measures", "Emission caps",
                            "Cost caps", "Rules"]
    _no_text_numbers(sheets)
    cities = sheets["Cities"]
    assert cities[1][:5] == ["City", "Name", "Cost (M CNY/yr)", "Burden (% of GDP)",
                             "Cost shift from the least-cost plan (M CNY/yr)"]
    # numbers as numbers, in display units: 0.3 M CNY/yr, 0.0003 % of GDP for city a
    csv = pd.read_csv(folders["result"] / "cities.csv", dtype={"city": str}).set_index("city")
    got = dict(zip((c.value for c in _column(cities, "City")), _numbers(cities, "Cost (M CNY/yr)")))
    assert got == pytest.approx((csv["cost_cny"] / 1e6).to_dict())
    burden = dict(zip((c.value for c in _column(cities, "City")), _numbers(cities, "Burden (% of GDP)")))
    assert burden == pytest.approx((100 * csv["burden"]).to_dict())
    _numbers(cities, "PM2.5 reduction (t/yr)")
    # names beside ids; a name that looks like a formula stays text
    names = {c.value: n for c, n in zip(_column(cities, "City"), _column(cities, "Name"))}
    assert names["b"].value == "B"
    assert names["a"].value == "=HYPERLINK(\"x\")" and names["a"].data_type == "s"
    # every number column says its unit
    for title in ("Cities", "Receptors", "Measures", "Emission caps", "Cost caps"):
        ws, headers, rows = sheets[title]
        for j, header in enumerate(headers):
            values = [row[j].value for row in rows if row[j].value is not None]
            if values and all(isinstance(v, float) for v in values):
                assert UNIT.search(header), (title, header)
    receptors = sheets["Receptors"]
    assert _numbers(receptors, "Marginal cost (M CNY/yr per µg/m³)")[0] == pytest.approx(0.1)
    assert [c.value for c in _column(receptors, "Attained")][0] is True
    assert _column(receptors, "Name")[0].value == "=HYPERLINK(\"x\")"
    measures = sheets["Measures"]
    assert measures[1][:5] == ["City", "City name", "Sector", "Measure", "Measure name"]
    assert _numbers(measures, "Application (% of the sector's base)") == pytest.approx([60.0])
    caps = sheets["Cost caps"]
    assert _numbers(caps, "Cap (% of GDP)") == pytest.approx([0.4, 0.4])
    summary = dict((row[0].value, row[1].value) for row in sheets["Summary"][2])
    assert summary["Targets attained"] == 1 and summary["Targets in total"] == 1
    assert summary["Total cost"] == pytest.approx(0.3)  # M CNY/yr
    assert summary["Total cost in bn"] == pytest.approx(0.0003)
    items = [row[0].value for row in sheets["Summary"][2]]
    assert len(items) == len(set(items)), "one row per item: a lookup by item finds it"
    assert summary["Question: fairness[0]"] == "no city pays more than 0.4% of its GDP"


def test_layout_frozen_header_widths_formats(folders):
    wb = load_workbook(write_spreadsheet(folders["result"]))
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws["A1"].font.b
        for j in range(1, ws.max_column + 1):
            letter = ws.cell(1, j).column_letter
            assert 8 <= ws.column_dimensions[letter].width <= 62, (ws.title, letter)
    cost = wb["Cities"]["C2"]
    assert cost.number_format == "#,##0.00"
    assert excel_format(",.0f") == "#,##0" and excel_format(".3f") == "0.000"
    assert excel_format("+.1f") == "+0.0;-0.0;0.0" and excel_format("d") == "0"
    assert excel_format(None) == "General"


def test_same_folder_same_bytes(folders):
    first = write_spreadsheet(folders["result"]).read_bytes()
    assert write_spreadsheet(folders["result"]).read_bytes() == first
    wb = load_workbook(folders["result"] / "results.xlsx")
    assert wb.properties.created == wb.properties.modified == datetime.datetime(2000, 1, 1)
    with zipfile.ZipFile(folders["result"] / "results.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert not list(folders["result"].glob(".results.xlsx*")), "no temporary file is left"


def test_infeasible_workbook_holds_the_diagnosis(folders):
    sheets = _sheets(folders["infeasible"])
    assert list(sheets) == ["Summary", "Targets below MTFR", "Rules must give", "Targets must give"]
    _no_text_numbers(sheets)
    rules = sheets["Rules must give"]
    assert [c.value for c in _column(rules, "Subject")] == ["a"]
    assert [c.value for c in _column(rules, "Unit")] == ["% of GDP"]
    assert _numbers(rules, "Bound now") == pytest.approx([1e-5])
    assert _numbers(rules, "Line") == [9] and isinstance(_numbers(rules, "Line")[0], int)
    assert "raise max_share_of_gdp" in _column(rules, "What to change")[0].value
    summary = dict((row[0].value, row[1].value) for row in sheets["Summary"][2])
    assert summary["Status"] == "infeasible"


def test_pareto_workbook(folders):
    sheets = _sheets(folders["pareto"])
    assert list(sheets) == ["Pareto front"]
    _no_text_numbers(sheets)
    front = sheets["Pareto front"]
    costs = _numbers(front, "Total cost (M CNY/yr)")
    assert costs[0] == pytest.approx(0.3) and costs == sorted(costs)
    _numbers(front, "Bound on the largest burden (% of GDP)")
    _numbers(front, "Largest burden (% of GDP)")
    assert {c.value for c in _column(front, "Non-dominated")} <= {True, False}


def test_comparison_workbook_counts_are_two_numbers(folders):
    sheets = _sheets(folders["compare"])
    assert list(sheets) == ["Comparison"]
    _no_text_numbers(sheets)
    table = sheets["Comparison"]
    assert [c.value for c in _column(table, "Scenario")] == ["toy", "toy-tight"]
    assert [c.value for c in _column(table, "Status")] == ["optimal", "infeasible"]
    assert _numbers(table, "Targets attained") == [1] and _numbers(table, "Targets in total") == [1]
    assert _numbers(table, "Total cost (M CNY/yr)") == pytest.approx([0.3])
    assert _column(table, "Total cost (M CNY/yr)")[1].value is None  # no plan: an empty cell


def test_older_comparison_with_k_of_n_text(tmp_path):
    """A compare.csv written before the counts were split ("28/28") still gives numbers."""
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "compare.csv").write_text(
        "scenario,description,status,total_cost_bn_cny,targets_attained,attained_PM25\n"
        "a,,optimal,32.6992408,28/28,27/28\nb,,infeasible,,,\n", encoding="utf-8")
    sheets = _sheets(folder)
    _no_text_numbers(sheets)
    table = sheets["Comparison"]
    assert _numbers(table, "Targets attained") == [28] and _numbers(table, "Targets in total") == [28]
    assert _numbers(table, "PM2.5 targets attained") == [27]
    assert _numbers(table, "Total cost (M CNY/yr)") == pytest.approx([32699.2408])
