"""``results.xlsx``: a folder's tables for planners who work in Excel.

One sheet per table, the same tables as ``report.html`` (:func:`fairshare.report.tables_of`),
every row: for a results folder Summary, Cities, Receptors, Measures, Emission caps, Cost
caps (when the scenario caps costs), Rules, and for an infeasible one the diagnosis; for a
Pareto or comparison folder its table. Headers are words with the display unit ("Cost
(M CNY/yr)", "Burden (% of GDP)"), names stand beside ids, and numbers are stored as
numbers, never as text (a count "28/28" is two number columns: a spreadsheet would read
the text as a date). The header row is frozen and filtered; columns are sized to their
content.

The same folder gives the same bytes: the workbook's created and modified times and the
zip entries' times are fixed.
"""

from __future__ import annotations

import datetime
import io
import math
import os
import re
import zipfile
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from fairshare.report import Table, num, read_folder, tables_of

__all__ = ["write_spreadsheet", "workbook", "excel_format", "SPREADSHEET_NAME"]

SPREADSHEET_NAME = "results.xlsx"
FIXED_TIME = datetime.datetime(2000, 1, 1)  # nothing in the file may depend on when it was made
ZIP_TIME = (1980, 1, 1, 0, 0, 0)            # the earliest time a zip entry can hold
MAX_WIDTH, MIN_WIDTH, HEADER_WRAP = 60, 8, 18


def excel_format(fmt: str | None) -> str:
    """Excel's number format for a Python format of :mod:`fairshare.report`:
    ",.2f" -> "#,##0.00", "+.1f" -> "+0.0;-0.0;0.0", "d" -> "0"; others "General"."""
    m = re.fullmatch(r"(\+)?(,)?(?:\.(\d+))?([fd])", fmt or "")
    if not m:
        return "General"
    sign, comma, decimals, kind = m.groups()
    places = int(decimals or 0) if kind == "f" else 0
    body = ("#,##0" if comma else "0") + ("." + "0" * places if places else "")
    return f"+{body};-{body};{body}" if sign else body


def _value(v):
    """A cell value: numbers as numbers, missing values as empty cells, text without the
    control characters a workbook cannot hold."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, bool):
        return v
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalars
        v = v.item()
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, int):
        return v
    return ILLEGAL_CHARACTERS_RE.sub("", str(v))


def _text_width(v, fmt: str | None) -> int:
    if v is None:
        return 0
    if isinstance(v, bool):
        return 5
    if isinstance(v, (int, float)):
        return len(num(v, fmt)) if fmt else len(f"{v:.6g}")
    return max((len(line) for line in str(v).splitlines()), default=0)


def _fill_sheet(ws, t: Table) -> None:
    headers = list(t.frame.columns)
    ws.append(headers)
    for row in t.frame.itertuples(index=False, name=None):
        ws.append([_value(v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
    for j, header in enumerate(headers, start=1):
        fmt = t.formats.get(header)
        column = ws.iter_rows(min_row=2, min_col=j, max_col=j)
        longest = 0
        for (cell,) in column:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text: "=..." from a file is never a formula
            elif fmt and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = excel_format(fmt)
            longest = max(longest, _text_width(cell.value, fmt))
        width = max(MIN_WIDTH, min(len(header), HEADER_WRAP), longest) + 2
        ws.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, width)
    ws.freeze_panes = "A2"
    if len(t.frame) and headers:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(t.frame) + 1}"


def workbook(tables: list[Table]) -> Workbook:
    """A workbook of one sheet per table, in order."""
    wb = Workbook()
    wb.remove(wb.active)
    for t in tables:
        _fill_sheet(wb.create_sheet(t.name[:31]), t)
    wb.properties.creator = "fairshare"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    return wb


def _xlsx_bytes(wb: Workbook) -> bytes:
    """The workbook as bytes with fixed times (openpyxl's save() stamps "now" into the
    properties and zipfile stamps it on every entry)."""
    raw = io.BytesIO()
    wb.properties.modified = FIXED_TIME
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def write_spreadsheet(folder: str | Path) -> Path:
    """Write ``results.xlsx`` into a finished results, Pareto or comparison folder; return
    its path. Written under a hidden name and renamed, so no reader sees half a file."""
    f = read_folder(folder)
    path = f.path / SPREADSHEET_NAME
    tmp = f.path / f".{SPREADSHEET_NAME}.partial-{os.getpid()}"
    try:
        tmp.write_bytes(_xlsx_bytes(workbook(tables_of(f))))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
