"""Checks of a region data package: every problem at once, with file, row, column.

Each ``check_<thing>`` appends :class:`~fairshare.errors.Problem` records and never
raises. Rows are numbered as a spreadsheet shows them: the header is row 1, the
first data row is row 2.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from fairshare.errors import Problem
from fairshare.tables import TABLES, Column, Table

MAX_ROWS_LISTED = 5  # per column and kind of problem; the rest are counted


def spreadsheet_rows(index) -> list[int]:
    return [int(i) + 2 for i in index]


def _rows_text(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_LISTED])
    more = len(rows) - MAX_ROWS_LISTED
    return shown + (f" and {more} more rows" if more > 0 else "")


def _row_problems(file: str, column: str, rows: list[int], message: str) -> list[Problem]:
    """One problem per offending row, up to MAX_ROWS_LISTED, then one summary line."""
    out = [Problem(file, message, row=r, column=column) for r in rows[:MAX_ROWS_LISTED]]
    if len(rows) > MAX_ROWS_LISTED:
        out.append(Problem(file, f"{message} (also in {len(rows) - MAX_ROWS_LISTED} more rows: "
                                 f"{_rows_text(rows[MAX_ROWS_LISTED:])})", column=column))
    return out


def _unit_stem(name: str) -> str:
    return name.rsplit("_", 1)[0] if "_" in name else name


def check_columns(table: Table, df: pd.DataFrame, file: str) -> list[Problem]:
    """Missing required columns (with a unit or spelling hint) and unknown extra columns."""
    problems = []
    present = [str(c) for c in df.columns]
    known = [c.name for c in table.columns]
    unknown = [c for c in present if c not in known]
    for col in table.columns:
        if col.name in present or not col.required:
            continue
        same_stem = [u for u in unknown if _unit_stem(u) == _unit_stem(col.name)]
        if same_stem and "_" in col.name:
            msg = (f"column '{same_stem[0]}' has the wrong unit: fairshare expects "
                   f"'{col.name}' ({col.unit})")
            problems.append(Problem(file, msg, row=1, column=same_stem[0]))
            unknown.remove(same_stem[0])
            continue
        close = difflib.get_close_matches(col.name, unknown, n=1)
        hint = f" (found '{close[0]}': did you mean '{col.name}'?)" if close else ""
        problems.append(Problem(file, f"required column '{col.name}' is missing{hint}; "
                                      f"expected columns: {', '.join(known)}", row=1,
                                column=col.name))
    for u in unknown:
        problems.append(Problem(file, f"unknown column '{u}' is ignored; known columns: "
                                      f"{', '.join(known)}", row=1, column=u,
                                severity="warning"))
    return problems


def _check_numeric(col: Column, series: pd.Series, file: str) -> list[Problem]:
    problems = []
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values, blank, bad = series.astype(float), series.isna(), None
    else:  # text in a number column: find the cells that do not parse
        values = pd.to_numeric(series, errors="coerce")
        blank = series.isna() | (series.astype(str).str.strip() == "")
        bad = values.isna() & ~blank
    if blank.any():
        problems += _row_problems(file, col.name, spreadsheet_rows(series.index[blank]),
                                  f"empty cell: a number is needed ({col.unit})")
    if bad is not None and bad.any():
        rows = spreadsheet_rows(series.index[bad])
        sample = series[bad].iloc[0]
        problems += _row_problems(file, col.name, rows,
                                  f"'{sample}' is not a number ({col.unit})" if len(rows) == 1
                                  else f"not a number ({col.unit}); e.g. '{sample}'")
    if col.kind == "int":
        frac = values.notna() & (values != np.round(values))
        if frac.any():
            problems += _row_problems(file, col.name, spreadsheet_rows(series.index[frac]),
                                      "must be a whole number")
    return problems + _check_range(col, values, file)


def _check_range(col: Column, values: pd.Series, file: str) -> list[Problem]:
    problems = []
    v = values.to_numpy(dtype=float)
    finite = np.isfinite(v)
    inf = ~finite & ~np.isnan(v)
    if inf.any():
        problems += _row_problems(file, col.name, spreadsheet_rows(values.index[inf]),
                                  "infinite value: a finite number is needed")
    limits = []
    if col.positive:
        limits.append((finite & (v <= 0), f"must be greater than 0 ({col.unit})"))
    if col.low is not None and col.high is not None:
        limits.append((finite & ((v < col.low) | (v > col.high)),
                       f"must be between {col.low:g} and {col.high:g} ({col.unit})"))
    elif col.low is not None:
        word = "negative" if col.low == 0 else f"below {col.low:g}"
        limits.append((finite & (v < col.low), f"{word} value: must be ≥ {col.low:g} ({col.unit})"))
    for mask, message in limits:
        if mask.any():
            rows = spreadsheet_rows(values.index[mask])
            first = v[mask][0]
            problems += _row_problems(file, col.name, rows, f"{first:g} {message}" if len(rows) == 1
                                      else message)
    return problems


def _check_text(col: Column, series: pd.Series, file: str) -> list[Problem]:
    blank = series.isna() | (series == "")  # ids were stripped when read
    if not blank.any() or not col.required:
        return []
    return _row_problems(file, col.name, spreadsheet_rows(series.index[blank]),
                         f"empty cell: an id is needed in '{col.name}'")


def check_values(table: Table, df: pd.DataFrame, file: str) -> list[Problem]:
    """Empty cells, non-numbers and out-of-range numbers, column by column."""
    problems = []
    for col in table.columns:
        if col.name not in df.columns:
            continue
        if col.kind == "str":
            problems += _check_text(col, df[col.name], file)
        else:
            problems += _check_numeric(col, df[col.name], file)
    return problems


def check_duplicates(table: Table, df: pd.DataFrame, file: str) -> list[Problem]:
    key = [k for k in table.key if k in df.columns]
    if not key or len(df) == 0:
        return []
    dup = df.duplicated(subset=key, keep="first")
    if not dup.any():
        return []
    problems = []
    first_rows = {}
    keys = df[key].astype(str).agg(" / ".join, axis=1)
    for i, k in zip(df.index, keys):
        first_rows.setdefault(k, int(i) + 2)
    dup_idx = df.index[dup]
    for i in dup_idx[:MAX_ROWS_LISTED]:
        k = keys[i]
        problems.append(Problem(file, f"duplicate {'/'.join(key)} '{k}' (first given in row "
                                      f"{first_rows[k]}): each must appear once",
                                row=int(i) + 2, column=key[0]))
    if len(dup_idx) > MAX_ROWS_LISTED:
        problems.append(Problem(file, f"{len(dup_idx) - MAX_ROWS_LISTED} more duplicate keys",
                                column=key[0]))
    return problems


def check_reference(df: pd.DataFrame, column: str, defined: set[str], file: str,
                    what: str, defining_file: str) -> list[Problem]:
    """Ids in ``df[column]`` that ``defining_file`` does not define."""
    if column not in df.columns or len(df) == 0:
        return []
    ids = df[column].astype(str)
    missing = ~ids.isin(defined) & df[column].notna()
    if not missing.any():
        return []
    problems = []
    for bad_id, rows in ids[missing].groupby(ids[missing]).groups.items():
        rows = spreadsheet_rows(rows)
        close = difflib.get_close_matches(bad_id, sorted(defined), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        problems.append(Problem(file, f"{what} '{bad_id}' is not defined in {defining_file}{hint}",
                                row=rows[0], column=column))
    return problems


def check_table(table: Table, df: pd.DataFrame, file: str) -> list[Problem]:
    """Columns, values and duplicate keys of one table."""
    problems = check_columns(table, df, file)
    problems += check_values(table, df, file)
    problems += check_duplicates(table, df, file)
    return problems


def check_cross_references(tables: dict[str, pd.DataFrame], files: dict[str, str]) -> list[Problem]:
    """Every id used in one table exists in the table that defines it."""
    problems = []
    cities = set(tables["cities"]["city"].astype(str)) if "city" in tables["cities"] else set()
    measures = (set(tables["measures"]["measure"].astype(str))
                if "measure" in tables["measures"] else set())
    defined = {"cities": cities, "measures": measures}
    for name, table in TABLES.items():
        df = tables.get(name)
        if df is None:
            continue
        for column, def_table, _ in table.references:
            problems += check_reference(df, column, defined[def_table], files[name],
                                        column if column != "source" else "source city",
                                        files[def_table])
    problems += _check_pollutants_and_sectors(tables, files)
    problems += _check_receptors(tables, files)
    return problems


def _ids(df: pd.DataFrame | None, column: str) -> set[str]:
    if df is None or column not in df.columns:
        return set()
    return set(df[column].dropna().astype(str))


def _check_pollutants_and_sectors(tables, files) -> list[Problem]:
    pollutants = _ids(tables["emissions"], "pollutant")
    sectors = _ids(tables["emissions"], "sector")
    problems = []
    em = files["emissions"]
    problems += check_reference(tables["measures"], "ref_pollutant", pollutants, files["measures"],
                                "pollutant", em)
    problems += check_reference(tables["efficiencies"], "pollutant", pollutants,
                                files["efficiencies"], "pollutant", em)
    problems += check_reference(tables["measures"], "sector", sectors, files["measures"],
                                "sector", em)
    if tables.get("transport") is not None:
        problems += check_reference(tables["transport"], "pollutant", pollutants,
                                    files["transport"], "pollutant", em)
    problems += _check_ref_efficiency(tables, files)
    return problems


def _check_ref_efficiency(tables, files) -> list[Problem]:
    """A measure's cost is per tonne of its ref_pollutant: that removal must be > 0."""
    m, e = tables["measures"], tables["efficiencies"]
    need = {"measure", "ref_pollutant"} <= set(m.columns) and \
        {"measure", "pollutant", "efficiency"} <= set(e.columns)
    if not need:
        return []
    eff = pd.to_numeric(e["efficiency"], errors="coerce")
    positive = set(zip(e["measure"].astype(str)[eff > 0], e["pollutant"].astype(str)[eff > 0]))
    problems = []
    for i, row in m.iterrows():
        pair = (str(row["measure"]), str(row["ref_pollutant"]))
        if pair not in positive:
            problems.append(Problem(files["measures"],
                                    f"measure '{pair[0]}' is costed per t of {pair[1]} but "
                                    f"{files['efficiencies']} gives it no {pair[1]} efficiency > 0; "
                                    "add one or change ref_pollutant",
                                    row=int(i) + 2, column="ref_pollutant"))
    return problems


def _check_receptors(tables, files) -> list[Problem]:
    receptors_df = tables.get("receptors")
    if receptors_df is not None:
        receptors, def_file = _ids(receptors_df, "receptor"), files["receptors"]
    else:
        receptors, def_file = _ids(tables["cities"], "city"), files["cities"]
    problems = []
    for name in ("transport", "concentrations"):
        if tables.get(name) is not None:
            problems += check_reference(tables[name], "receptor", receptors, files[name],
                                        "receptor", def_file)
    problems += _check_baselines_cover_transport(tables, files)
    return problems


def _check_baselines_cover_transport(tables, files) -> list[Problem]:
    """Every (metric, receptor) in the transport table needs a baseline concentration."""
    t, c = tables.get("transport"), tables.get("concentrations")
    if t is None:
        return []
    if c is None:
        return [Problem(files["transport"], "transport table given but no concentrations file: "
                                            "add concentrations.csv with baseline_ugm3 per "
                                            "metric and receptor")]
    if not ({"metric", "receptor"} <= set(t.columns) and {"metric", "receptor"} <= set(c.columns)):
        return []
    have = set(zip(c["metric"].astype(str), c["receptor"].astype(str)))
    pairs = t[["metric", "receptor"]].astype(str).drop_duplicates()
    missing = [(q, r, i) for i, q, r in zip(pairs.index, pairs["metric"], pairs["receptor"])
               if (q, r) not in have]
    problems = [Problem(files["concentrations"],
                        f"no baseline_ugm3 for metric '{q}' at receptor '{r}' (used in "
                        f"{files['transport']} row {i + 2})", column="baseline_ugm3")
                for q, r, i in missing[:MAX_ROWS_LISTED]]
    if len(missing) > MAX_ROWS_LISTED:
        problems.append(Problem(files["concentrations"],
                                f"{len(missing) - MAX_ROWS_LISTED} more metric/receptor pairs "
                                "have no baseline", column="baseline_ugm3"))
    return problems
