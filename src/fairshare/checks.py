"""Checks of a region data package: every problem at once, with file, row, column.

Each ``check_<thing>`` appends :class:`~fairshare.errors.Problem` records and never
raises. Rows are numbered as a spreadsheet shows them: the header is row 1, the
first data row is row 2.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd

from fairshare.errors import Problem, closest, did_you_mean
from fairshare.tables import TABLES, Column, Table

UNIT_WORDS = {"t", "kt", "cny", "ugm3"}  # units written at the end of a column name
MAX_ROWS_LISTED = 5  # per column and kind of problem; the rest are counted


def spreadsheet_rows(index) -> list[int]:
    return [int(i) + 2 for i in index]


def _rows_text(rows: list[int], total: int | None = None) -> str:
    """The first rows, then how many more (``total`` when ``rows`` holds only the first ones)."""
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_LISTED])
    more = (len(rows) if total is None else total) - MAX_ROWS_LISTED
    return shown + (f" and {more} more rows" if more > 0 else "")


def _row_problems(file: str, column: str, rows: list[int], message: str,
                  total: int | None = None, severity: str = "error",
                  row_messages: list[str] | None = None) -> list[Problem]:
    """One problem per offending row, up to MAX_ROWS_LISTED, then one summary line. ``rows``
    may hold only the first 2 * MAX_ROWS_LISTED rows of ``total`` (tables read in batches).
    ``row_messages``, when given, are the listed rows' own messages (naming their values);
    ``message`` is then the summary's."""
    total = len(rows) if total is None else total
    listed = row_messages or [message] * len(rows)
    out = [Problem(file, m, row=r, column=column, severity=severity)
           for r, m in zip(rows[:MAX_ROWS_LISTED], listed)]
    if total > MAX_ROWS_LISTED:
        out.append(Problem(file, f"{message} (also in {total - MAX_ROWS_LISTED} more rows: "
                                 f"{_rows_text(rows[MAX_ROWS_LISTED:], total - MAX_ROWS_LISTED)})",
                           column=column, severity=severity))
    return out


class RowTally:
    """The rows with one kind of problem in one column, gathered batch by batch: the first
    2 * MAX_ROWS_LISTED spreadsheet rows (and their values, when given), how many in all,
    and the first offending value."""

    def __init__(self):
        self.rows: list[int] = []
        self.values: list = []
        self.total = 0
        self.first = None

    def add(self, index, values=None) -> None:
        """``index``: the offending rows' DataFrame index (spreadsheet row - 2), in order;
        ``values``: their values (cells), in the same order."""
        n = len(index)
        if not n:
            return
        if self.total == 0 and values is not None:
            self.first = values[0]
        room = 2 * MAX_ROWS_LISTED - len(self.rows)
        if room > 0:
            self.rows += spreadsheet_rows(index[:room])
            if values is not None:
                self.values += list(values[:room])
        self.total += n


class StreamedTable:
    """A table too large to hold as one DataFrame (a large Parquet transport table):
    :mod:`fairshare.data` reads it batch by batch and leaves here what the checks need.

    ``columns``: the header; ``value_problems``: empty ids, non-numbers and duplicate keys
    (what :func:`check_values` and :func:`check_duplicates` give for a DataFrame);
    ``reference_problems``: column -> undefined ids (what :func:`check_reference` gives);
    ``metrics``, ``receptors`` and ``pairs`` ([metric, receptor] bool): the (metric,
    receptor) pairs present, for :func:`check_baselines`."""

    columns: list[str]
    value_problems: list[Problem]
    reference_problems: dict[str, list[Problem]]
    metrics: tuple[str, ...]
    receptors: tuple[str, ...]
    pairs: np.ndarray | None

    def first_rows_of_pairs(self, mask: np.ndarray, limit: int) -> list[tuple[str, str, int]]:
        """(metric, receptor, first spreadsheet row) of the first ``limit`` pairs in ``mask``
        ([metric, receptor] bool), in the order they first appear."""
        raise NotImplementedError


def _unit_stem(name: str) -> str:
    return name.rsplit("_", 1)[0] if "_" in name else name


def _same_quantity(header: str, col: Column) -> bool:
    """``header`` names ``col``'s quantity in another unit: emission_kt for emission_t,
    population_m for population, cost_usd_per_t for cost_cny_per_t."""
    if col.kind == "str" or not col.unit:
        return False
    h, c = header.lower(), col.name
    if "_" not in c:
        return _unit_stem(h) == c
    if c.rsplit("_", 1)[1] in UNIT_WORDS and _unit_stem(h) == _unit_stem(c):
        return True
    return "_per_" in c and "_per_" in h and h.split("_")[0] == c.split("_")[0]


def check_delimiter(header: list[str], file: str) -> list[Problem]:
    """A header of one cell holding ';' or tabs: the file is not comma-separated."""
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "';'" if ";" in header[0] else "tabs"
        return [Problem(file, f"the cells are separated by {sep}: fairshare reads comma-separated "
                              "files; save it as 'CSV UTF-8 (comma delimited)'", row=1)]
    return []


def check_header(header: list[str], df: pd.DataFrame, file: str) -> list[Problem]:
    """Header names given twice, or left blank over cells that hold values (row 1). Blank-named
    columns with no values (trailing commas) are dropped from ``df``."""
    problems = []
    seen: dict[str, int] = {}
    for n, name in enumerate((h.strip() for h in header), 1):
        if not name and n <= len(df.columns):
            col = df.columns[n - 1]
            if df[col].isna().all():
                del df[col]
            else:
                problems.append(Problem(file, f"column {n} has values but no name in the header: "
                                              "name it or delete it", row=1))
        elif name in seen:
            problems.append(Problem(file, f"column '{name}' appears twice in the header (columns "
                                          f"{seen[name]} and {n}): keep one", row=1, column=name))
        seen.setdefault(name, n)
    return problems


def check_csv_layout(text: str, file: str) -> list[Problem]:
    """Rows with more cells than the header, and quoted cells running over several lines
    (an unclosed quote): the layout problems that stop a CSV from being read as a table."""
    problems = []
    reader = csv.reader(io.StringIO(text))
    header, line = None, 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not cells:
                continue
            if header is None:
                header = cells
            elif reader.line_num > start:
                problems.append(Problem(file, f"a quoted cell starting in row {start} runs on to "
                                              f"row {reader.line_num}: close its quote (\")",
                                        row=start))
            elif len(cells) > len(header):
                problems.append(Problem(file, f"row {start} has {len(cells)} cells but the header "
                                              f"has {len(header)} columns: remove the extra cells "
                                              "or name their column in row 1", row=start))
            if len(problems) > MAX_ROWS_LISTED:
                break
    except csv.Error as exc:
        problems.append(Problem(file, f"not readable as CSV after row {line}: {exc}", row=line + 1))
    opened = _unclosed_quote_row(text)
    if opened is not None and not any(p.row == opened for p in problems):
        problems.append(Problem(file, f"a quote (\") opened in row {opened} is never closed: "
                                      "close it or remove it", row=opened))
    return problems


def _unclosed_quote_row(text: str) -> int | None:
    """The row where a quote that runs to the end of the file opens, if one does."""
    inside, opened = False, None
    for n, line in enumerate(text.splitlines(), 1):
        for ch in line:
            if ch == '"':
                inside = not inside
                if inside:
                    opened = n
    return opened if inside else None


def check_rows(table: Table, df: pd.DataFrame, file: str) -> list[Problem]:
    """A table with a header and no data rows."""
    if len(df):
        return []
    if table.needs_rows:
        return [Problem(file, f"the file has a header but no data rows: the {table.name} table "
                              "needs at least one row", row=2)]
    return [Problem(file, f"the file has a header but no data rows; the {table.name} table is "
                          "empty", severity="warning")]


def check_columns(table: Table, df: pd.DataFrame, file: str) -> list[Problem]:
    """Missing required columns (with a unit or spelling hint) and unknown extra columns."""
    problems = []
    present = [str(c) for c in df.columns]
    known = [c.name for c in table.columns]
    unknown = [c for c in present if c not in known]
    for col in table.columns:
        if col.name in present or not col.required:
            continue
        same_stem = [u for u in unknown if _same_quantity(u, col)]
        if same_stem:
            msg = (f"column '{same_stem[0]}' has the wrong unit: fairshare expects "
                   f"'{col.name}' ({col.unit}); convert the values and rename the column")
            problems.append(Problem(file, msg, row=1, column=same_stem[0]))
            unknown.remove(same_stem[0])
            continue
        close = closest(col.name, unknown)
        hint = f" (found '{close}': did you mean '{col.name}'?)" if close else ""
        problems.append(Problem(file, f"required column '{col.name}' is missing{hint}; "
                                      f"expected columns: {', '.join(known)}", row=1,
                                column=col.name))
    for u in unknown:
        hint = did_you_mean(u, known, " (did you mean '{}'?)")
        problems.append(Problem(file, f"unknown column '{u}' is ignored{hint}; known columns: "
                                      f"{', '.join(known)}", row=1, column=u,
                                severity="warning"))
    return problems


# The kinds of problem of a number column, in the order they are reported. The per-row kinds
# name each listed row's own value; the others one message for all rows (and the value when
# there is one row).
NUMBER_KINDS = ("blank", "bad", "separators", "frac", "inf", "positive", "minimum", "range",
                "low", "limit", "above", "below")
PER_ROW_KINDS = {"bad", "separators", "inf", "minimum", "limit", "above", "below"}
WARNING_KINDS = {"above", "below"}  # outside the usual range: probably a unit slip, maybe real
# Digits in groups of three parted by one kind of thousands separator: 21,893,095 or
# 1 234 567.5 (spaces, no-break spaces and apostrophes are also written as separators).
THOUSANDS = r"[+-]?\d{1,3}([,'’ \u00a0\u202f])\d{3}(?:\1\d{3})*(?:\.\d+)?"
SMALLEST_POSITIVE = float(np.nextafter(0.0, 1.0))  # 5e-324


def _outside(v: np.ndarray, below: float | None, above: float | None) -> np.ndarray:
    """v < below or v > above (a bound that is None is not tested)."""
    if above is None:
        return v < below
    if below is None:
        return v > above
    return (v < below) | (v > above)


def _number_text(x: float) -> str:
    """``x`` as short as it can be written exactly: 3e+09, 123456789.0, 5e-324 (not
    4.94066e-324)."""
    return min((t for t in (f"{x:g}", repr(float(x))) if float(t) == x), key=len)


def _without_separators(cell) -> str:
    return re.sub(r"[^\d.+-]", "", str(cell))


class ValueTally:
    """Empty cells, non-numbers, out-of-range and implausible numbers of one table, column
    by column, gathered from the whole DataFrame at once or batch by batch (the same
    messages): :func:`check_values` and the streamed transport table share it."""

    def __init__(self, table: Table, file: str):
        self.table, self.file = table, file
        self.tallies: dict[tuple[str, str], RowTally] = {}  # (column, kind) -> rows

    def _tally(self, column: str, kind: str) -> RowTally:
        return self.tallies.setdefault((column, kind), RowTally())

    def add_blank_ids(self, col: Column, index) -> None:
        """``index``: the rows whose id in ``col`` is empty (ids were stripped when read)."""
        if col.required:
            self._tally(col.name, "blank").add(index)

    def add_text(self, col: Column, series: pd.Series) -> None:
        self.add_blank_ids(col, series.index[(series.isna() | (series == "")).to_numpy()])

    def add_numbers(self, col: Column, series: pd.Series) -> np.ndarray:
        """Check one number column (or a batch of it); return its values as floats (NaN
        where empty or not a number)."""
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            values, blank, bad = series.astype(float), series.isna(), None
        else:  # text (CSV cells are read as text): find the cells that do not parse as numbers
            text = series.astype("string").str.strip()
            values = pd.to_numeric(text, errors="coerce").astype(float)
            blank = text.isna() | (text == "")
            bad = values.isna() & ~blank
        index = series.index
        if not col.blank_ok and blank.any():
            self._tally(col.name, "blank").add(index[blank.to_numpy()])
        if bad is not None and bad.any():
            self._add_bad(col, index, text, bad.to_numpy())
        v = values.to_numpy(dtype=float)
        finite = np.isfinite(v)
        if col.kind == "int":
            frac = finite & (v != np.round(v))
            if frac.any():
                self._tally(col.name, "frac").add(index[frac])
        inf = ~finite & ~np.isnan(v)
        if inf.any():  # the cells as written: '1e400' reads as infinity too
            self._tally(col.name, "inf").add(index[inf], series.to_numpy()[inf])
        self._add_out_of_bounds(col, index, v, finite)
        return v

    def _add_out_of_bounds(self, col: Column, index, v: np.ndarray, finite: np.ndarray) -> None:
        """Finite values out of the column's bounds: one problem per value, the first kind
        in order of precedence. A mask is built only for the bounds that the column's extent
        crosses, so a large column of good values costs two passes (its min and max)."""
        low, high = (np.fmin.reduce(v), np.fmax.reduce(v)) if len(v) else (np.nan, np.nan)
        left = finite  # values not yet found wrong
        for kind, below, above in self._bounds(col):
            if not ((below is not None and low < below) or (above is not None and high > above)):
                continue
            mask = left & _outside(v, below, above)
            if kind == "below" and col.low == 0:
                mask &= v != 0  # zero is allowed and means none (no emission, a free measure)
            if mask.any():
                self._tally(col.name, kind).add(index[mask], v[mask])
                if kind not in WARNING_KINDS:
                    left = left & ~mask

    def _add_bad(self, col: Column, index, text: pd.Series, bad: np.ndarray) -> None:
        """Cells that are not numbers; those written with thousands separators apart."""
        cells = text[bad]
        sep = cells.str.fullmatch(THOUSANDS).fillna(False).to_numpy(dtype=bool)
        rows = index[bad]
        for kind, mask in (("separators", sep), ("bad", ~sep)):
            if mask.any():
                self._tally(col.name, kind).add(rows[mask], cells.to_numpy()[mask])

    @staticmethod
    def _bounds(col: Column):
        """(kind, below, above): a value below ``below`` or above ``above`` (None: no bound)
        is a problem of that kind. The errors in order of precedence, then the warnings."""
        if col.positive:
            yield "positive", SMALLEST_POSITIVE, None  # below the smallest float > 0: v <= 0
            if col.minimum is not None:
                yield "minimum", col.minimum, None
        if col.low is not None and col.high is not None:
            yield "range", col.low, col.high
        elif col.low is not None:
            yield "low", col.low, None
        if col.limit is not None:
            yield "limit", -col.limit, col.limit
        if col.usual is not None:
            yield "above", None, col.usual[1]
            yield "below", col.usual[0], None

    def problems(self) -> list[Problem]:
        problems = []
        for col in self.table.columns:
            for kind in ("blank",) if col.kind == "str" else NUMBER_KINDS:
                tally = self.tallies.get((col.name, kind))
                if tally is None or not tally.total:
                    continue
                rows = ([self._value_message(col, kind, x) for x in tally.values]
                        if kind in PER_ROW_KINDS else None)
                severity = "warning" if kind in WARNING_KINDS else "error"
                problems += _row_problems(self.file, col.name, tally.rows,
                                          self._message(col, kind, tally), tally.total,
                                          severity, rows)
        return problems

    @staticmethod
    def _value_message(col: Column, kind: str, x) -> str:
        """The message of one row of a per-row kind, naming its value ``x``."""
        if kind == "bad":
            return f"'{x}' is not a number: {col.describe()} needs one"
        if kind == "separators":
            return (f"'{x}' is not a number because of its thousands separators: write it "
                    f"without them, as {_without_separators(x)}")
        if kind == "inf":
            word = str(x).strip().lstrip("+-").lower() in ("inf", "infinity")
            what = "an infinite value" if word else "too large for a number (an infinite value)"
            return f"'{x}' is {what}: {col.describe()} needs a finite number"
        return f"{_number_text(x)} {ValueTally._range_text(col, kind)}"

    @staticmethod
    def _range_text(col: Column, kind: str) -> str:
        """What is wrong with a value of one of the range kinds (after the value itself)."""
        unit = f" ({col.unit})" if col.unit else ""
        check = "check the year" if col.kind == "int" else "check the unit"
        if kind == "minimum":
            return f"is too small: must be at least {col.minimum:g}{unit}"
        if kind == "limit":
            bound = (f"at most {col.limit:g}" if col.low is not None and col.low >= 0
                     else f"between {-col.limit:g} and {col.limit:g}")
            return f"is too large for the plan to be solved: must be {bound}{unit}; {check}"
        lo, hi = col.usual
        return f"is far {kind} the usual {lo:g}..{hi:g}{unit}; {check}"

    @staticmethod
    def _message(col: Column, kind: str, tally: RowTally) -> str:
        """The message of a kind for all its rows (for a per-row kind: the summary line's)."""
        one = tally.total == 1
        if kind == "blank" and col.kind == "str":
            return f"empty cell: an id is needed in '{col.name}'"
        if kind == "blank":
            return (f"empty cell: a number is needed ({col.unit})" if col.unit
                    else "empty cell: a number is needed")
        if kind == "bad":
            return f"not a number: {col.describe()} needs one"
        if kind == "separators":
            return "not a number because of thousands separators: write the digits only"
        if kind == "frac":
            return "must be a whole number"
        if kind == "inf":
            return "infinite value: a finite number is needed"
        if kind in ("minimum", "limit", "above", "below"):
            return ValueTally._range_text(col, kind).removeprefix("is ")
        if kind == "positive":
            message = f"must be greater than 0 ({col.unit})"
        elif kind == "range":
            message = f"must be between {col.low:g} and {col.high:g} ({col.unit})"
        else:
            word = "negative" if col.low == 0 else f"below {col.low:g}"
            message = f"{word} value: must be ≥ {col.low:g} ({col.unit})"
        return f"{tally.first:g} {message}" if one else message


def check_values(table: Table, df: pd.DataFrame, file: str) -> list[Problem]:
    """Empty cells, non-numbers, out-of-range numbers (errors) and numbers outside their
    column's usual range (warnings), column by column."""
    tally = ValueTally(table, file)
    for col in table.columns:
        if col.name not in df.columns:
            continue
        if col.kind == "str":
            tally.add_text(col, df[col.name])
        else:
            tally.add_numbers(col, df[col.name])
    return tally.problems()


def check_duplicates(table: Table, df: pd.DataFrame, file: str) -> list[Problem]:
    key = [k for k in table.key if k in df.columns]
    if not key or len(df) == 0:
        return []
    dup = df.duplicated(subset=key, keep="first")
    if not dup.any():
        return []
    first_rows = {}
    keys = df[key].astype(object).fillna("").astype(str).agg(" / ".join, axis=1)
    for i, k in zip(df.index, keys):
        first_rows.setdefault(k, int(i) + 2)
    dup_idx = df.index[dup]
    return duplicate_problems(file, key, [(int(i) + 2, keys[i], first_rows[keys[i]])
                                          for i in dup_idx[:MAX_ROWS_LISTED]], len(dup_idx))


def duplicate_problems(file: str, key: list[str], first: list[tuple[int, str, int]],
                       total: int) -> list[Problem]:
    """``first``: (row, key text 'a / b', row where the key is first given) of the first
    duplicate rows; ``total``: how many rows repeat a key given before."""
    problems = [Problem(file, f"duplicate {'/'.join(key)} '{k}' (first given in row "
                              f"{first_row}): each must appear once", row=row, column=key[0])
                for row, k, first_row in first[:MAX_ROWS_LISTED]]
    if total > MAX_ROWS_LISTED:
        problems.append(Problem(file, f"{total - MAX_ROWS_LISTED} more duplicate keys",
                                column=key[0]))
    return problems


def check_reference(df: pd.DataFrame | None, column: str, defined: set[str] | None, file: str,
                    what: str, defining_file: str) -> list[Problem]:
    """Ids in ``df[column]`` that ``defining_file`` does not define (skipped when either is
    unknown: a missing table or column is reported on its own)."""
    if df is None or defined is None or column not in df.columns:
        return []
    if isinstance(df, StreamedTable):  # checked while it was read, against the same ids
        return df.reference_problems.get(column, [])
    if len(df) == 0:
        return []
    col = df[column]
    if isinstance(col.dtype, pd.CategoricalDtype):  # large tables: test each category once
        unknown = [c for c in col.cat.categories if str(c) not in defined]
        if not unknown:
            return []
        missing = col.isin(unknown)
    else:
        missing = ~col.astype(str).isin(defined) & col.notna()
    if not missing.any():
        return []
    ids = col[missing].astype(str)
    first_rows = {bad_id: spreadsheet_rows(rows)[0]
                  for bad_id, rows in ids.groupby(ids).groups.items()}
    return reference_problems(first_rows, column, defined, file, what, defining_file)


def reference_problems(first_rows: dict[str, int], column: str, defined: set[str], file: str,
                       what: str, defining_file: str) -> list[Problem]:
    """One problem per undefined id (in id order), at the first row that uses it."""
    problems = []
    known = sorted(defined)
    for bad_id in sorted(first_rows):
        hint = did_you_mean(bad_id, known)
        problems.append(Problem(file, f"{what} '{bad_id}' is not defined in {defining_file}{hint}",
                                row=first_rows[bad_id], column=column))
    return problems


def check_table(table: Table, df: pd.DataFrame, file: str) -> list[Problem]:
    """Columns, values and duplicate keys of one table."""
    if isinstance(df, StreamedTable):  # values and keys were checked while it was read
        return check_columns(table, pd.DataFrame(columns=df.columns), file) + df.value_problems
    problems = check_columns(table, df, file)
    problems += check_values(table, df, file)
    problems += check_duplicates(table, df, file)
    return problems


def check_cross_references(tables: dict[str, pd.DataFrame | None],
                           files: dict[str, str]) -> list[Problem]:
    """Every id used in one table exists in the table that defines it. Runs on tables that
    have other problems too (so every problem is reported at once); a reference is checked
    only where both tables were read and have the columns."""
    problems = []
    defined = {"cities": _ids(tables.get("cities"), "city"),
               "measures": _ids(tables.get("measures"), "measure")}
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


def _ids(df: pd.DataFrame | None, column: str) -> set[str] | None:
    """The ids of ``df[column]``; None when the table or the column is missing (unknown)."""
    if df is None or column not in df.columns:
        return None
    return {str(v) for v in pd.unique(df[column].dropna())}


def _check_pollutants_and_sectors(tables, files) -> list[Problem]:
    pollutants = _ids(tables.get("emissions"), "pollutant")
    sectors = _ids(tables.get("emissions"), "sector")
    em = files["emissions"]
    problems = []
    for name, column, ids, what in (("measures", "ref_pollutant", pollutants, "pollutant"),
                                    ("efficiencies", "pollutant", pollutants, "pollutant"),
                                    ("measures", "sector", sectors, "sector"),
                                    ("transport", "pollutant", pollutants, "pollutant")):
        problems += check_reference(tables.get(name), column, ids, files[name], what, em)
    problems += _check_ref_efficiency(tables, files)
    return problems


def _check_ref_efficiency(tables, files) -> list[Problem]:
    """A measure's cost is per tonne of its ref_pollutant: that removal must be > 0."""
    m, e = tables.get("measures"), tables.get("efficiencies")
    if m is None or e is None:
        return []
    need = {"measure", "ref_pollutant"} <= set(m.columns) and \
        {"measure", "pollutant", "efficiency"} <= set(e.columns)
    if not need:
        return []
    eff = pd.to_numeric(e["efficiency"], errors="coerce")
    positive = set(zip(e["measure"].astype(str)[eff > 0], e["pollutant"].astype(str)[eff > 0]))
    problems = []
    for i, row in m.iterrows():
        pair = (str(row["measure"]), str(row["ref_pollutant"]))
        if pair not in positive and row["measure"] is not None and row["ref_pollutant"] is not None:
            problems.append(Problem(files["measures"],
                                    f"measure '{pair[0]}' is costed per t of {pair[1]} but "
                                    f"{files['efficiencies']} gives it no {pair[1]} efficiency > 0; "
                                    "add one or change ref_pollutant",
                                    row=int(i) + 2, column="ref_pollutant"))
    return problems


def _receptor_ids(tables, files) -> tuple[set[str] | None, str]:
    """The receptor ids and the file defining them (receptors, else the cities)."""
    receptors_df = tables.get("receptors")
    if receptors_df is not None:
        return _ids(receptors_df, "receptor"), files["receptors"]
    return _ids(tables.get("cities"), "city"), files["cities"]


def transport_references(tables, files) -> dict[str, tuple[set[str] | None, str, str]]:
    """column -> (ids defined or None when unknown, what, defining file): the references
    that :func:`check_cross_references` checks in the transport table."""
    receptors, receptor_file = _receptor_ids(tables, files)
    return {"source": (_ids(tables.get("cities"), "city"), "source city", files["cities"]),
            "pollutant": (_ids(tables.get("emissions"), "pollutant"), "pollutant",
                          files["emissions"]),
            "receptor": (receptors, "receptor", receptor_file)}


def _check_receptors(tables, files) -> list[Problem]:
    receptors, def_file = _receptor_ids(tables, files)
    problems = []
    for name in ("transport", "concentrations"):
        if tables.get(name) is not None:
            problems += check_reference(tables[name], "receptor", receptors, files[name],
                                        "receptor", def_file)
    return problems


def check_baselines(tables, files) -> list[Problem]:
    """Every (metric, receptor) in the transport table needs a baseline concentration (in the
    year chosen, when the concentrations table has years)."""
    t, c = tables.get("transport"), tables.get("concentrations")
    if t is None or c is None:
        return []
    if not ({"metric", "receptor"} <= set(t.columns) and {"metric", "receptor"} <= set(c.columns)):
        return []
    if isinstance(t, StreamedTable):
        if t.pairs is None:
            return []
        have = np.zeros_like(t.pairs)
        q = pd.Index(t.metrics).get_indexer(c["metric"].astype(str))
        r = pd.Index(t.receptors).get_indexer(c["receptor"].astype(str))
        have[q[(q >= 0) & (r >= 0)], r[(q >= 0) & (r >= 0)]] = True
        lacking = t.pairs & ~have
        first = t.first_rows_of_pairs(lacking, MAX_ROWS_LISTED) if lacking.any() else []
        return _baseline_problems(files, first, int(lacking.sum()))
    have = set(zip(c["metric"].astype(str), c["receptor"].astype(str)))
    pairs = t[["metric", "receptor"]].dropna().drop_duplicates().astype(str)
    missing = [(q, r, int(i) + 2) for i, q, r in zip(pairs.index, pairs["metric"],
                                                     pairs["receptor"]) if (q, r) not in have]
    return _baseline_problems(files, missing[:MAX_ROWS_LISTED], len(missing))


def _baseline_problems(files, first: list[tuple[str, str, int]], total: int) -> list[Problem]:
    """``first``: (metric, receptor, spreadsheet row) of the first pairs without a baseline."""
    problems = [Problem(files["transport"],
                        f"receptor '{r}' has transport coefficients for metric '{q}' but "
                        f"{files['concentrations']} gives it no baseline_ugm3: add a row "
                        f"metric={q}, receptor={r} to {files['concentrations']}",
                        row=row, column="receptor")
                for q, r, row in first[:MAX_ROWS_LISTED]]
    if total > MAX_ROWS_LISTED:
        problems.append(Problem(files["concentrations"],
                                f"{total - MAX_ROWS_LISTED} more metric/receptor pairs of "
                                f"{files['transport']} have no baseline", column="baseline_ugm3"))
    return problems
