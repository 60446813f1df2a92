"""Region data package (docs/region-data.md) -> checked tables -> typed numpy arrays.

:func:`load_region` reads every table (CSV, or Parquet with the same columns),
runs :mod:`fairshare.checks` on all of them, raises one
:class:`~fairshare.errors.InputError` listing every problem, and otherwise
returns a :class:`RegionData` whose arrays the model code reads. No file is read
anywhere else.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import stat
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fairshare import checks, surfaces
from fairshare.errors import Problem, did_you_mean, raise_if_errors
from fairshare.tables import TABLES

YEARLY_TABLES = ("emissions", "concentrations")
LARGE_TABLE_ROWS = 200_000  # above this, id columns are categoricals (a Parquet transport
#                             table is then streamed batch by batch: TransportStream)
STREAM_BATCH_ROWS = 1 << 20  # rows per batch of a streamed transport table
SIDE_ROWS_KEPT = 1_000_000  # rows with undefined or empty ids kept to find their duplicates


@dataclass(frozen=True)
class RegionData:
    """A region as arrays. Axis order: city s, sector k, pollutant p, measure m,
    metric q, receptor r. Units are in the names."""

    folder: Path
    name: str
    year: int | None
    info: dict                      # region.yaml
    cities: tuple[str, ...]
    sectors: tuple[str, ...]
    pollutants: tuple[str, ...]
    measures: tuple[str, ...]
    metrics: tuple[str, ...]
    receptors: tuple[str, ...]
    city_table: pd.DataFrame        # indexed by city
    measure_table: pd.DataFrame     # indexed by measure
    zone: np.ndarray                # [S] str
    population: np.ndarray          # [S] persons
    gdp_bn_cny: np.ndarray          # [S] billion CNY/yr
    cost_factor: np.ndarray         # [S]
    emission_t: np.ndarray          # [S, K, P] t/yr baseline
    measure_sector: np.ndarray      # [M] index into sectors
    measure_group: np.ndarray       # [M] str, exclusivity group within the sector
    measure_ref: np.ndarray         # [M] index into pollutants
    cost_cny_per_t: np.ndarray      # [M] CNY per t of ref pollutant removed
    theta_cny_per_t: np.ndarray     # [M] quadratic cost coefficient (0 if not given)
    efficiency: np.ndarray          # [M, P] removal share
    max_application: np.ndarray     # [S, M] share in [0, 1]
    transport_ugm3_per_kt: np.ndarray  # [Q, R, S, P]
    baseline_ugm3: np.ndarray       # [Q, R] (nan where not given)
    receptor_population: np.ndarray  # [R] persons
    capex_share: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [M] capital share
    lifetime_yr: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [M] years (inf: no end)
    reversible: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # [M] may be undone
    files: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256
    warnings: tuple[Problem, ...] = ()
    member: str | None = None       # the transport member of an ensemble, if the region has one
    surfaces: object = None         # fairshare.surfaces.SurfaceSet (response.csv), if any

    @property
    def emission_city_t(self) -> np.ndarray:
        """[S, P] baseline emissions summed over sectors, t/yr."""
        return self.emission_t.sum(axis=1)

    def zone_mask(self, zone: str) -> np.ndarray:
        """[S] bool: cities of ``zone`` ("all" = every city)."""
        if zone == "all":
            return np.ones(len(self.cities), dtype=bool)
        return self.zone == zone


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _table_path(folder: Path, name: str) -> Path | None:
    """The table's file (Parquet first), also when it is a link to nothing (then reported)."""
    for ext in (".parquet", ".csv"):
        p = folder / f"{name}{ext}"
        if os.path.lexists(p):
            return p
    return None


NOT_REGULAR = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
TABLE_FILE = "a table must be a CSV or Parquet file"
YAML_FILE = "region.yaml must be a YAML text file"


def _file_problem(path: Path, root: Path, need: str) -> Problem | None:
    """Why ``path`` may not be read as a file of the region folder whose real path is
    ``root``, or None. Only os.stat, which does not open the file, looks at it first: a FIFO
    would block the reading for ever and a device such as /dev/zero never ends. A link to a
    file outside the folder is refused unread: the folder is what the planner gave."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if path.is_symlink() and exc.errno == errno.ENOENT:
            return Problem(path.name, f"is a link to a file that does not exist: {need}")
        return Problem(path.name, f"cannot read the file: {exc.strerror or exc}")
    if stat.S_ISDIR(mode):
        return Problem(path.name, f"is a folder, not a file: {need}")
    if not stat.S_ISREG(mode):
        kind = next((what for test, what in NOT_REGULAR if test(mode)), "a special file")
        return Problem(path.name, f"is not a regular file ({kind}): {need}")
    if not path.resolve().is_relative_to(root):
        return Problem(path.name, "is a link to a file outside the region folder: fairshare "
                                  "reads only the files in the folder; copy the file into it")
    return None


def readable_region_file(folder: Path, file_name: str) -> Path | None:
    """``folder/file_name`` if it is a regular file inside the region folder (the checks of
    :func:`_file_problem`), else None: for readers outside this module, such as the map."""
    path = Path(folder) / file_name
    if not os.path.lexists(path) or not Path(folder).is_dir():
        return None
    return None if _file_problem(path, Path(folder).resolve(), "") else path


def _read_table(path: Path, name: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """One table as a DataFrame whose index is the spreadsheet row minus 2 (so row numbers in
    problems are the rows a planner sees), or None and the problems that stopped the reading.
    ``path`` passed :func:`_file_problem`."""
    spec = TABLES[name]
    if path.suffix == ".parquet":
        df, problems = _read_parquet(path, name)
    else:
        df, problems = _read_csv(path, name)
    if df is None:
        return None, problems
    df.columns = [str(c).strip() for c in df.columns]
    large = len(df) > LARGE_TABLE_ROWS
    for col in spec.columns:  # ids are text even when they look like numbers
        if col.kind == "str" and col.name in df.columns:
            df[col.name] = _as_ids(df[col.name].astype("category") if large else df[col.name])
    return df, problems + checks.check_rows(spec, df, path.name)


def _columns_text(spec) -> str:
    return ", ".join(c.name for c in spec.columns if c.required)


def _read_parquet(path: Path, name: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    try:
        import pyarrow.parquet as pq

        # Id columns as dictionaries (pandas categoricals): a transport table of tens of
        # millions of rows then holds each id once, and checks work on the categories.
        columns = set(pq.read_schema(path).names)
        ids = [c.name for c in TABLES[name].columns if c.kind == "str" and c.name in columns]
        df = pq.read_table(path, read_dictionary=ids).to_pandas()
    except Exception as exc:  # not Parquet, truncated, unreadable: one clear problem
        return None, [Problem(path.name, f"cannot read the {name} table as Parquet "
                                         f"({type(exc).__name__}: {exc}); write it again as "
                                         "Parquet, or as CSV UTF-8 with the same columns")]
    return df.reset_index(drop=True), []


def _read_csv(path: Path, name: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """CSV UTF-8 (a byte-order mark is fine): ids as text; a number column holding text stays
    text, and the checks name its cells."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(path.name, f"cannot read the file: {exc.strerror or exc}")]
    text, problem = _decode(raw, path.name, name)
    if problem is not None:
        return None, [problem]
    if not text.strip():
        return None, [Problem(path.name, f"the file is empty: it needs a header row with the "
                                         f"columns {_columns_text(TABLES[name])} (row 1) and "
                                         "one row per record", row=1)]
    header = next(csv.reader(io.StringIO(text)), [])
    problems = checks.check_delimiter(header, path.name)
    if problems:
        return None, problems
    try:
        ids = {c.name: str for c in TABLES[name].columns if c.kind == "str"}  # numbers parse fast;
        df = _parse_csv(text, ids)  # text stays for checks
        infinite = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])
                    and np.isinf(df[c].to_numpy()).any()]
        if infinite:  # 'inf', '1e400': read these columns again as text, for the messages
            df = _parse_csv(text, ids | {c: str for c in infinite})
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        return None, checks.check_csv_layout(text, path.name) or [
            Problem(path.name, f"cannot read the table as CSV: {exc}")]
    if '"' in text and any(df[c].astype("string").str.contains("\n", regex=False).any()
                           for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])):
        return None, checks.check_csv_layout(text, path.name)
    blank = df.isna().all(axis=1)  # blank lines and rows of empty cells: not records
    df = df[~blank]
    return df, checks.check_header(header, df, path.name)


def _parse_csv(text: str, dtype: dict) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=dtype, keep_default_na=False, na_values=[""],
                       skip_blank_lines=False, skipinitialspace=True)


def _decode(raw: bytes, file: str, name: str) -> tuple[str, Problem | None]:
    save_as = "open it in a spreadsheet and save it as 'CSV UTF-8 (comma delimited)'"
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        return "", Problem(file, f"is an Excel workbook, not CSV text: {save_as}")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "", Problem(file, f"is UTF-16 text: {save_as}")
    if b"\x00" in raw:
        line = raw[:raw.index(b"\x00")].count(b"\n") + 1
        return "", Problem(file, f"is a binary file, not CSV text (a zero byte in line {line}): "
                                 f"the {name} table must be CSV UTF-8 or Parquet", row=line)
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return "", Problem(file, f"is not UTF-8 text: byte 0x{raw[exc.start]:02x} in row {line} "
                                 f"(the file may be saved as GBK or Latin-1); {save_as}", row=line)


def _as_ids(series: pd.Series) -> pd.Series:
    """Text ids, stripped; empty cells are missing (checks report them). A categorical
    column (large tables) is cleaned on its categories, not row by row."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = _as_ids(pd.Series(series.cat.categories))
        if not cats.isna().any() and cats.is_unique:
            return series.cat.rename_categories(list(cats))
        series = series.astype(object)
    if pd.api.types.is_float_dtype(series):  # Parquet ids written as numbers, e.g. 110000.0
        whole = series.notna() & (series == series.round())
        text = series.astype("string").mask(whole, series[whole].astype("Int64").astype("string"))
    else:
        text = series.astype("string").str.strip()
    return text.where(text.notna() & (text != ""), None)


def read_tables(folder: Path) -> tuple[dict, dict, list[Problem]]:
    """Read every table of the package: (tables, file names, problems)."""
    tables, files, problems = {}, {}, []
    stream_at = 0
    root = folder.resolve()
    for name, spec in TABLES.items():
        path = _table_path(folder, name)
        files[name] = f"{name}.csv" if path is None else path.name
        if path is None:
            if not spec.optional_file:
                problems.append(Problem(f"{name}.csv", f"required file {name}.csv (or "
                                        f"{name}.parquet) is missing from the region folder "
                                        f"{folder}; it needs the columns {_columns_text(spec)}"))
            tables[name] = None
            continue
        if (problem := _file_problem(path, root, TABLE_FILE)) is not None:
            problems.append(problem)
            tables[name] = None
            continue
        if name == "transport" and (stream := TransportStream.open(path)) is not None:
            tables[name], stream_at = stream, len(problems)  # read once the ids are known
            continue
        tables[name], read_problems = _read_table(path, name)
        problems += read_problems
    if isinstance(tables["transport"], TransportStream):
        read_problems = tables["transport"].read(tables, files)
        if read_problems:
            tables["transport"] = None
        problems[stream_at:stream_at] = read_problems
    if _table_path(folder, "transport") is not None and _table_path(folder, "concentrations") is None:
        problems.append(Problem(files["transport"], "transport table given but no concentrations "
                                "file: add concentrations.csv with baseline_ugm3 per metric and "
                                "receptor"))
    return tables, files, problems


def _read_region_yaml(folder: Path) -> tuple[dict, list[Problem]]:
    path = folder / "region.yaml"
    if not os.path.lexists(path):
        return {}, [Problem("region.yaml", "region.yaml is missing: add name, description, "
                            "base_year, sources and notes", severity="warning")]
    if (problem := _file_problem(path, folder.resolve(), YAML_FILE)) is not None:
        return {}, [problem]
    from fairshare.scenario.yaml_lines import MAX_FILE_BYTES, safe_load

    if path.stat().st_size > MAX_FILE_BYTES:
        return {}, [Problem("region.yaml", f"is {path.stat().st_size:,} bytes; region.yaml holds "
                                           f"a name, sources and notes (at most "
                                           f"{MAX_FILE_BYTES:,} bytes are read)")]
    try:
        info, problems = safe_load(path.read_text(encoding="utf-8"), "region.yaml")
    except UnicodeDecodeError:
        return {}, [Problem("region.yaml", "is not UTF-8 text; save it as UTF-8")]
    if info is None and problems:
        return {}, problems
    if not isinstance(info or {}, dict):
        return {}, [Problem("region.yaml", "must be a mapping of keys (name, description, ...)")]
    info = info or {}
    if not isinstance(info.get("name", ""), str):
        return {}, [Problem("region.yaml", "name must be text (the region's name)", column="name")]
    return info, problems


def _select_year(df: pd.DataFrame, file: str, year: int | None,
                 base_year: int | None) -> tuple[pd.DataFrame, int | None, list[Problem]]:
    """Keep the rows of one year; tables without a year column apply to every year."""
    if "year" not in df.columns:
        return df, year, []
    years = pd.to_numeric(df["year"], errors="coerce")
    present = sorted({int(y) for y in years.dropna()})
    if year is None:
        if len(present) == 1:
            year = present[0]
        elif base_year in present:
            year = base_year
        else:
            return df, None, [Problem(file, f"the table has several years {present}: set `year:` "
                                            "in the scenario to choose one", column="year")]
    if year not in present:
        return df, year, [Problem(file, f"no rows for year {year}; years present: {present}",
                                  column="year")]
    return df[years == year], year, []


def _select_member(df: pd.DataFrame, file: str, member: str | None,
                   default: str | None) -> tuple[pd.DataFrame, str | None, list[Problem]]:
    """Keep the rows of one transport member; a table without a member column has one."""
    if "member" not in df.columns:
        return df, member, []
    present = list(dict.fromkeys(str(m) for m in df["member"].dropna()))
    chosen = member if member is not None else default if default in present else \
        present[0] if len(present) == 1 else None
    if chosen is None:
        return df, None, [Problem(file, f"the table holds the transport members {present} and "
                                        "region.yaml names no default_member among them: set "
                                        "`transport: {member: ...}` in the scenario",
                                  column="member")]
    if chosen not in present:
        return df, chosen, [Problem(file, f"no rows for transport member '{chosen}'; members: "
                                          f"{', '.join(present)}{did_you_mean(chosen, present)}",
                                    column="member")]
    return df[df["member"].astype(str) == chosen], chosen, []


def _select_applicability(df: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """The rows for every year (no year given), then those of ``year``, which override them."""
    if "year" not in df.columns:
        return df
    years = pd.to_numeric(df["year"], errors="coerce")
    return pd.concat([df[years.isna()], df[years == year]]) if year is not None else df[years.isna()]


def load_region(folder: str | Path, year: int | None = None,
                member: str | None = None) -> RegionData:
    """Read, check and convert the region folder; raise InputError listing every problem.

    ``year`` selects the rows of that year in the tables with a year column (emissions,
    concentrations, applicability); ``member`` the transport member of an ensemble
    (transport and concentrations with a member column; default: region.yaml's
    ``default_member``)."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise_if_errors([Problem(str(folder), f"region folder {what}")])
    info, problems = _read_region_yaml(folder)
    info_read = os.path.lexists(folder / "region.yaml")  # hashed if all is well
    tables, files, read_problems = read_tables(folder)
    problems += read_problems
    for name, df in tables.items():
        if df is not None:
            problems += checks.check_table(TABLES[name], df, files[name])
    problems += checks.check_cross_references(tables, files)
    raise_if_errors(problems)
    ids = {"sectors": _ordered_unique(tables["emissions"]["sector"]),  # of every year
           "pollutants": _ordered_unique(tables["emissions"]["pollutant"])}
    base_year = info.get("base_year") if isinstance(info.get("base_year"), int) else None
    default_member = info.get("default_member") if isinstance(info.get("default_member"), str) \
        else None
    requested = member
    for name in ("transport", "concentrations"):
        if isinstance(tables[name], pd.DataFrame):
            tables[name], member, member_problems = _select_member(tables[name], files[name],
                                                                   member, default_member)
            problems += member_problems
    with_members = [n for n in ("transport", "concentrations")
                    if isinstance(tables[n], pd.DataFrame) and "member" in tables[n].columns]
    if requested is not None and not with_members:
        problems.append(Problem(files.get("transport") or "transport.csv",
                                f"the scenario asks for transport member '{requested}', but the "
                                "region has one transport estimate (no member column in "
                                "transport.csv or concentrations.csv): remove transport: "
                                "{member: ...} (or robust:) from the scenario", column="member"))
    raise_if_errors(problems)
    for name in YEARLY_TABLES:
        if tables[name] is not None:
            tables[name], year, year_problems = _select_year(tables[name], files[name], year,
                                                             base_year)
            problems += year_problems
    if tables["applicability"] is not None:
        tables["applicability"] = _select_applicability(tables["applicability"], year)
    problems += checks.check_baselines(tables, files)
    problems += surfaces.check_tables(tables, files, year, member)  # response.csv, if any
    warnings = raise_if_errors(problems)
    _to_numbers(tables)
    # The files read, and only those (each passed _file_problem): another file of a table's
    # name, e.g. a cities.csv beside the cities.parquet read, may be anything.
    read = [files[name] for name, df in tables.items() if df is not None]
    hashes = {f: sha256_file(folder / f)
              for f in sorted(read + (["region.yaml"] if info_read else []))}
    data = _to_arrays(folder, info, year, tables, hashes, tuple(warnings), ids)
    return dataclasses.replace(data, member=member,
                               surfaces=surfaces.build(tables.get("response"), data))


def _to_numbers(tables: dict) -> None:
    """Number columns as floats (CSV cells were read as text and checked)."""
    for name, df in tables.items():
        if not isinstance(df, pd.DataFrame):  # a TransportStream holds its numbers as an array
            continue
        for col in TABLES[name].columns:
            if col.kind != "str" and col.name in df.columns:
                df[col.name] = pd.to_numeric(df[col.name], errors="coerce").astype(float)


def _ordered_unique(values) -> tuple[str, ...]:
    return tuple(str(v) for v in pd.unique(pd.Series(values)) if pd.notna(v))


def _positions(index: pd.Index, ids: pd.Series) -> np.ndarray:
    """Position of each id in ``index`` (categoricals looked up once per category)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        return index.get_indexer(ids.cat.categories.astype(str))[ids.cat.codes.to_numpy()]
    return index.get_indexer(ids)


def _to_arrays(folder, info, year, t, hashes, warnings, ids) -> RegionData:
    cities_df = t["cities"].set_index("city")
    measures_df = t["measures"].set_index("measure")
    cities = tuple(cities_df.index)
    sectors, pollutants = ids["sectors"], ids["pollutants"]
    measures = tuple(measures_df.index)
    city_ix, sector_ix, pol_ix, meas_ix = (pd.Index(x) for x in (cities, sectors, pollutants,
                                                                  measures))
    S, K, P, M = len(cities), len(sectors), len(pollutants), len(measures)

    em = t["emissions"]
    emission_t = np.zeros((S, K, P))
    np.add.at(emission_t, (city_ix.get_indexer(em["city"]), sector_ix.get_indexer(em["sector"]),
                           pol_ix.get_indexer(em["pollutant"])), em["emission_t"].astype(float))

    eff_df = t["efficiencies"]
    efficiency = np.zeros((M, P))
    efficiency[meas_ix.get_indexer(eff_df["measure"]), pol_ix.get_indexer(eff_df["pollutant"])] = \
        eff_df["efficiency"].astype(float)

    measure_sector = sector_ix.get_indexer(measures_df["sector"])
    measure_ref = pol_ix.get_indexer(measures_df["ref_pollutant"])
    max_app = np.tile(measures_df["max_application"].astype(float).to_numpy(), (S, 1))
    if t["applicability"] is not None:
        ap = t["applicability"]
        max_app[city_ix.get_indexer(ap["city"]), meas_ix.get_indexer(ap["measure"])] = \
            ap["max_application"].astype(float)
    # A measure is costed per tonne of its reference pollutant: where the city has none of it in
    # the measure's sector there is nothing to treat (and the other removals would be free).
    ref_emission = emission_t[:, measure_sector, measure_ref]  # [S, M]
    max_app = np.where(ref_emission > 0, max_app, 0.0)

    metrics, receptors, receptor_pop, transport, baseline = _air_quality_arrays(t, cities,
                                                                                 city_ix, pol_ix)
    capex = _column(measures_df, "capex_share", 0.0)
    lifetime = _column(measures_df, "lifetime_yr", np.inf)
    reversible = _column(measures_df, "reversible", 0.0) > 0.5
    theta = (measures_df["theta_cny_per_t"].astype(float).fillna(0).to_numpy()
             if "theta_cny_per_t" in measures_df else np.zeros(M))
    cost_factor = (cities_df["cost_factor"].astype(float).fillna(1.0).to_numpy()
                   if "cost_factor" in cities_df else np.ones(S))
    return RegionData(
        folder=folder, name=str(info.get("name", folder.name)), year=year, info=info,
        cities=cities, sectors=sectors, pollutants=pollutants, measures=measures,
        metrics=metrics, receptors=receptors, city_table=cities_df, measure_table=measures_df,
        zone=cities_df["zone"].astype(str).to_numpy(),
        population=cities_df["population"].astype(float).to_numpy(),
        gdp_bn_cny=cities_df["gdp_bn_cny"].astype(float).to_numpy(),
        cost_factor=cost_factor, emission_t=emission_t, measure_sector=measure_sector,
        measure_group=measures_df["group"].astype(str).to_numpy(), measure_ref=measure_ref,
        cost_cny_per_t=measures_df["cost_cny_per_t"].astype(float).to_numpy(),
        theta_cny_per_t=theta, efficiency=efficiency, max_application=max_app,
        capex_share=capex, lifetime_yr=lifetime, reversible=reversible,
        transport_ugm3_per_kt=transport, baseline_ugm3=baseline,
        receptor_population=receptor_pop, files=hashes, warnings=warnings,
    )


def _column(table: pd.DataFrame, name: str, default: float) -> np.ndarray:
    """An optional number column as floats, ``default`` where absent or blank."""
    if name not in table.columns:
        return np.full(len(table), default, dtype=float)
    return table[name].astype(float).fillna(default).to_numpy()


def _air_quality_arrays(t, cities, city_ix, pol_ix):
    """Metrics, receptors, receptor population, T[q,r,s,p] and C0[q,r]."""
    if t["receptors"] is not None:
        rec_df = t["receptors"]
        receptors = tuple(rec_df["receptor"].astype(str))
        receptor_pop = rec_df["population"].astype(float).to_numpy()
    else:
        receptors = cities
        receptor_pop = t["cities"]["population"].astype(float).to_numpy()
    tr, conc = t["transport"], t["concentrations"]
    streamed = isinstance(tr, TransportStream)
    metric_sources = [tr.metrics if df is tr and streamed else _ordered_unique(df["metric"])
                      for df in (tr, conc) if df is not None]
    metrics = tuple(dict.fromkeys(m for ms in metric_sources for m in ms))
    met_ix, rec_ix = pd.Index(metrics), pd.Index(receptors)
    if streamed:  # filled while read, on these axes (metrics of concentrations only: zeros)
        if tr.axes_ids() != (metrics[:len(tr.metrics)], receptors, cities, tuple(pol_ix)) or \
                tr.transport is None or len(metrics) > len(tr.transport):
            raise AssertionError("streamed transport table read on other axes than the region's")
        transport = tr.transport[:len(metrics)]
    else:
        transport = np.zeros((len(metrics), len(receptors), len(cities), len(pol_ix)))
    if tr is not None and not streamed:
        transport[_positions(met_ix, tr["metric"]), _positions(rec_ix, tr["receptor"]),
                  _positions(city_ix, tr["source"]), _positions(pol_ix, tr["pollutant"])] = \
            tr["coef_ugm3_per_kt"].to_numpy(dtype=float)
    baseline = np.full((len(metrics), len(receptors)), np.nan)
    if conc is not None:
        baseline[_positions(met_ix, conc["metric"]), _positions(rec_ix, conc["receptor"])] = \
            conc["baseline_ugm3"].to_numpy(dtype=float)
    return metrics, receptors, receptor_pop, transport, baseline


ID_COLUMNS = ("metric", "receptor", "source", "pollutant")  # the key of a streamed table
#                                                       (an ensemble is never streamed)


def _clean_dictionary(dictionary) -> list[str | None]:
    """The ids of a Parquet dictionary, cleaned as :func:`_as_ids` cleans a column."""
    import pyarrow as pa

    if pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type):
        values = dictionary.to_pylist()
        if all(v and v == v.strip() for v in values):  # nothing to clean (the usual case)
            return values
    cleaned = _as_ids(dictionary.to_pandas())
    return [None if pd.isna(v) else str(v) for v in cleaned]


def _dictionary_array(arr):
    """``arr`` as a dictionary array (ids written as numbers are encoded here)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(arr.type):
        return arr
    if pa.types.is_null(arr.type):  # every cell empty
        arr = arr.cast(pa.string())
    return pc.dictionary_encode(arr)


def _indices(arr) -> np.ndarray:
    """The dictionary indices of ``arr``, -1 where the cell is empty."""
    import pyarrow.compute as pc

    idx = arr.indices
    return (pc.fill_null(idx, -1) if idx.null_count else idx).to_numpy(zero_copy_only=False)


class _IdAxis:
    """Codes of one id column of a streamed table, mapped once per Parquet dictionary:
    0 .. n_known-1 are the ids defined elsewhere, in the order of the array axis; undefined
    ids, and None for an empty cell, get codes from n_known on."""

    def __init__(self, known):
        self.known = list(known)
        self.n_known = len(self.known)
        self.index = pd.Index(self.known, dtype=object)
        self.extra: dict[str | None, int] = {}
        self.extra_ids: list[str | None] = []
        self._cache = None  # (dictionary, mapping) of the last batch

    def code(self, value: str | None) -> int:
        if value not in self.extra:
            self.extra[value] = self.n_known + len(self.extra)
            self.extra_ids.append(value)
        return self.extra[value]

    def name(self, code: int) -> str | None:
        if code < self.n_known:
            return self.known[code]
        return self.extra_ids[code - self.n_known]

    def codes(self, arr) -> tuple[np.ndarray, np.ndarray]:
        """(code of each row, mapping: code of each dictionary entry, then of an empty cell)."""
        arr = _dictionary_array(arr)
        if self._cache is not None and self._cache[0].equals(arr.dictionary):
            mapping = self._cache[1]
        else:
            values = _clean_dictionary(arr.dictionary)
            pos = (self.index.get_indexer(pd.Index(values, dtype=object)) if self.n_known
                   else np.full(len(values), -1))
            mapping = np.array([p if p >= 0 else self.code(v) for p, v in zip(pos, values)]
                               + [self.code(None)], dtype=np.int64)
            self._cache = (arr.dictionary, mapping)
        idx = _indices(arr)
        d = len(mapping) - 1
        if d and not arr.null_count and mapping[d - 1] - mapping[0] == d - 1 and \
                np.array_equal(mapping[:-1], np.arange(mapping[0], mapping[0] + d)):
            return idx.astype(np.int64) + mapping[0], mapping  # a run of consecutive ids
        return mapping[idx], mapping


class TransportStream(checks.StreamedTable):
    """A Parquet transport table of more than LARGE_TABLE_ROWS rows, read batch by batch:
    its ids are mapped to array positions once per Parquet dictionary, its values checked
    as :func:`checks.check_values`, :func:`checks.check_duplicates` and
    :func:`checks.check_reference` check a DataFrame (the same messages, rows and columns),
    and its coefficients written straight into the dense array T[q, r, s, p]. No DataFrame of
    the table is ever built; beside T it holds a uint8 presence array of T's shape while
    read (to find duplicate keys and the (metric, receptor) pairs present)."""

    def __init__(self, path: Path, num_rows: int, names: dict[str, str]):
        self.path, self.file, self.num_rows = path, path.name, num_rows
        self.names = names  # column (stripped) -> name in the file
        self.columns = list(names)
        self.value_problems: list[Problem] = []
        self.reference_problems: dict[str, list[Problem]] = {}
        self.metrics: tuple[str, ...] = ()
        self.receptors: tuple[str, ...] = ()
        self.pairs: np.ndarray | None = None
        self.transport: np.ndarray | None = None
        self.axes: dict[str, _IdAxis] = {}

    @classmethod
    def open(cls, path: Path) -> TransportStream | None:
        """A stream when ``path`` is a Parquet file of more than LARGE_TABLE_ROWS rows (from its
        metadata); None otherwise (and when unreadable: the DataFrame path says why)."""
        if path.suffix != ".parquet" or not path.is_file():
            return None
        try:
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path)
            rows, names = meta.metadata.num_rows, meta.schema_arrow.names
        except Exception:
            return None
        names_ = {str(c).strip(): c for c in names}
        # An ensemble (a member column) is read whole and one member kept: not streamed.
        if rows <= LARGE_TABLE_ROWS or len(names_) != len(names) or "member" in names_:
            return None
        return cls(path, rows, names_)

    def axes_ids(self) -> tuple:
        return tuple(tuple(self.axes[c].known) for c in ID_COLUMNS)

    def _batches(self, columns):
        """(offset, record batch of ``columns``), ids as dictionaries."""
        import pyarrow.parquet as pq

        names = [self.names[c] for c in columns]
        ids = [self.names[c] for c in columns if c in ID_COLUMNS]
        offset = 0
        f = pq.ParquetFile(self.path, read_dictionary=ids)
        for group in range(f.num_row_groups):  # batches within a row group share its dictionary
            for batch in f.iter_batches(batch_size=STREAM_BATCH_ROWS, row_groups=[group],
                                        columns=names):
                yield offset, batch
                offset += batch.num_rows

    def read(self, tables: dict, files: dict) -> list[Problem]:
        """Read and check the table; the problems that stopped the reading (else none)."""
        import pyarrow as pa

        try:
            self._read(tables, files)
        except (pa.ArrowException, OSError) as exc:
            return [Problem(self.file, f"cannot read the transport table as Parquet "
                                       f"({type(exc).__name__}: {exc}); write it again as "
                                       "Parquet, or as CSV UTF-8 with the same columns")]
        return []

    def _metric_order(self) -> list[str]:
        """The metrics in the order they first appear (a pass over the metric column only)."""
        order: dict[str, None] = {}
        cache = None
        for _, batch in self._batches(["metric"]):
            arr = _dictionary_array(batch.column(0))
            if cache is None or not cache[0].equals(arr.dictionary):
                cache = (arr.dictionary, _clean_dictionary(arr.dictionary))
            values, idx = cache[1], _indices(arr)
            new = [e for e, v in enumerate(values) if v is not None and v not in order]
            if not new:
                continue
            used = np.bincount(idx[idx >= 0], minlength=len(values))
            firsts = sorted((int(np.argmax(idx == e)), values[e]) for e in new if used[e])
            order.update((v, None) for _, v in firsts)
        return list(order)

    def _read(self, tables: dict, files: dict) -> None:
        spec = TABLES["transport"]
        refs = checks.transport_references(tables, files)
        present = [c for c in ID_COLUMNS if c in self.names]
        defining = {"source": ("cities", "city"), "pollutant": ("emissions", "pollutant"),
                    "receptor": ("receptors", "receptor") if tables.get("receptors") is not None
                    else ("cities", "city")}
        known = {"metric": self._metric_order() if "metric" in self.names else []}
        for c, (name, column) in defining.items():
            df = tables.get(name)
            known[c] = [] if df is None or column not in df.columns else \
                list(_ordered_unique(df[column]))
        self.axes = axes = {c: _IdAxis(known[c]) for c in ID_COLUMNS}
        self.metrics, self.receptors = tuple(known["metric"]), tuple(known["receptor"])
        key = [c for c in ID_COLUMNS if c in self.names]
        dims = tuple(axes[c].n_known if c in self.names else 1 for c in ID_COLUMNS)
        coef = spec.column("coef_ugm3_per_kt")
        fill = coef.name in self.names and len(present) == len(ID_COLUMNS)
        if fill:  # metrics only in the concentrations table: zero slabs after the others
            conc = tables.get("concentrations")
            extra = set() if conc is None or "metric" not in conc.columns else \
                set(_ordered_unique(conc["metric"])) - set(known["metric"])
            self.transport = np.zeros((dims[0] + len(extra),) + dims[1:])
        flat_t = None if self.transport is None else self.transport.reshape(-1)
        presence = np.zeros(dims, dtype=np.uint8)
        flat_p = presence.reshape(-1)
        tally = checks.ValueTally(spec, self.file)
        unknown = {c: {} for c in present if c in refs and refs[c][0] is not None}
        side_rows, side_codes, side_total = [], {c: [] for c in key}, 0
        n_main = 0
        for offset, batch in self._batches(present + ([coef.name] if coef.name in self.names
                                                      else [])):
            n = batch.num_rows
            codes, side = {}, None
            for i, c in enumerate(present):
                axis = axes[c]
                codes[c], mapping = axis.codes(batch.column(i))
                if mapping[:-1].max(initial=-1) < axis.n_known and not batch.column(i).null_count:
                    continue  # every id of the batch defined
                other = codes[c] >= axis.n_known
                if not other.any():
                    continue
                side = other if side is None else side | other
                blank = codes[c] == axis.code(None)
                tally.add_blank_ids(spec.column(c), offset + np.flatnonzero(blank))
                if c in unknown:
                    rows = np.flatnonzero(other & ~blank)
                    ids, first = np.unique(codes[c][rows], return_index=True)
                    for code, row in zip(ids.tolist(), rows[first].tolist()):
                        unknown[c].setdefault(code, offset + row + 2)
            values = None
            if coef.name in self.names:
                series = batch.column(len(present)).to_pandas()
                series.index = pd.RangeIndex(offset, offset + n)
                values = tally.add_numbers(coef, series)
            main = None
            if side is not None:
                rows = np.flatnonzero(side)
                side_total += len(rows)
                kept = rows[:max(0, SIDE_ROWS_KEPT - sum(len(r) for r in side_rows))]
                side_rows.append(offset + kept)
                for c in key:
                    side_codes[c].append(codes[c][kept])
                main = np.flatnonzero(~side)
            flat = _flat_keys(codes, ID_COLUMNS, dims, n if main is None else main)
            flat_p[flat] = 1
            if flat_t is not None:
                flat_t[flat] = values if main is None else values[main]
            n_main += len(flat)
        for c, first_rows in unknown.items():
            defined, what, defining_file = refs[c]
            self.reference_problems[c] = checks.reference_problems(
                {axes[c].name(code): row for code, row in first_rows.items()}, c, defined,
                self.file, what, defining_file)
        if {"metric", "receptor"} <= set(self.names):
            self.pairs = presence.reshape(dims[0], dims[1], -1).any(axis=2)
        duplicates = n_main - int(np.count_nonzero(flat_p))
        first = self._main_duplicates(presence, key, dims) if duplicates else []
        side_first, side_duplicates = self._side_duplicates(side_rows, side_codes, key)
        del presence, flat_p
        self.value_problems = tally.problems()
        if key and duplicates + side_duplicates:
            self.value_problems += checks.duplicate_problems(
                self.file, key, sorted(first + side_first)[:checks.MAX_ROWS_LISTED],
                duplicates + side_duplicates)

    def _key_text(self, codes: dict[str, int], key: list[str]) -> str:
        return " / ".join(self.axes[c].name(codes[c]) or "" for c in key)

    def _main_duplicates(self, presence, key, dims) -> list[tuple[int, str, int]]:
        """(row, key text, first row of the key) of the first duplicate rows among the rows
        whose ids are all defined: a second pass, only when there are any."""
        spec, limit = TABLES["transport"], checks.MAX_ROWS_LISTED
        flat_p = presence.reshape(-1)
        flat_p[:] = 0
        found: list[tuple[int, int]] = []  # (0-based row, flat key)
        for offset, main, flat in self._main_keys(key, dims):
            before = flat_p[flat] > 0
            within = pd.Series(flat).duplicated().to_numpy()
            flat_p[flat] = 1
            hits = np.flatnonzero(before | within)[:limit - len(found)]
            found += [(offset + int(main[i]), int(flat[i])) for i in hits]
            if len(found) >= limit:
                break
        if not found:
            return []
        wanted, first_row = {f for _, f in found}, {}
        for offset, main, flat in self._main_keys(key, dims):
            for i in np.flatnonzero(np.isin(flat, list(wanted - set(first_row)))):
                first_row.setdefault(int(flat[i]), offset + int(main[i]))
            if len(first_row) == len(wanted):
                break
        out = []
        for row, f in found:
            at = dict(zip(ID_COLUMNS, np.unravel_index(f, dims)))
            out.append((row + 2, self._key_text({c: int(at[c]) for c in key}, key),
                        first_row[f] + 2))
        return out

    def _main_keys(self, key, dims):
        """(offset, positions of the rows whose ids are all defined, their flat keys)."""
        for offset, batch in self._batches(key):
            codes = {c: self.axes[c].codes(batch.column(i))[0] for i, c in enumerate(key)}
            ok = np.ones(batch.num_rows, dtype=bool)
            for c in key:
                ok &= codes[c] < self.axes[c].n_known
            main = np.flatnonzero(ok)
            yield offset, main, _flat_keys(codes, ID_COLUMNS, dims, main)

    def _side_duplicates(self, side_rows, side_codes, key) -> tuple[list, int]:
        """Duplicates among the rows with an undefined or empty id (errors themselves; the
        first SIDE_ROWS_KEPT such rows are compared)."""
        if not side_rows or not key:
            return [], 0
        df = pd.DataFrame({c: np.concatenate(side_codes[c]) for c in key},
                          index=np.concatenate(side_rows))
        dup = df.duplicated(keep="first")
        if not dup.any():
            return [], 0
        first_rows = {}
        for row, k in zip(df.index, zip(*(df[c] for c in key))):
            first_rows.setdefault(k, int(row) + 2)
        out = []
        for row in df.index[dup.to_numpy()][:checks.MAX_ROWS_LISTED]:
            k = tuple(int(df.at[row, c]) for c in key)
            out.append((int(row) + 2, self._key_text(dict(zip(key, k)), key), first_rows[k]))
        return out, int(dup.sum())

    def first_rows_of_pairs(self, mask: np.ndarray, limit: int) -> list[tuple[str, str, int]]:
        flat_mask, (Q, R) = mask.reshape(-1), mask.shape
        found: dict[int, int] = {}
        for offset, batch in self._batches(["metric", "receptor"]):
            q = self.axes["metric"].codes(batch.column(0))[0]
            r = self.axes["receptor"].codes(batch.column(1))[0]
            rows = np.flatnonzero((q < Q) & (r < R))
            qr = q[rows] * R + r[rows]
            hit = np.flatnonzero(flat_mask[qr])
            if hit.size:
                pairs, first = np.unique(qr[hit], return_index=True)
                for i, pair in sorted(zip(first.tolist(), pairs.tolist())):
                    found.setdefault(pair, offset + int(rows[hit[i]]) + 2)
            if len(found) >= limit:
                break
        return [(self.metrics[pair // R], self.receptors[pair % R], row)
                for pair, row in list(found.items())[:limit]]


def _flat_keys(codes: dict, key, dims, rows) -> np.ndarray:
    """Flat index into an array shaped ``dims`` of the key of the rows ``rows`` (positions, or
    the number of rows for all of them); a key column missing from the table counts as one id."""
    every = isinstance(rows, (int, np.integer))
    flat = None
    for c, d in zip(key, dims):
        if c not in codes:
            if flat is not None:
                flat *= d
            continue
        part = codes[c] if every else codes[c][rows]
        if flat is None:
            flat = part.copy()
        else:
            flat *= d
            flat += part
    return flat if flat is not None else np.zeros(rows if every else len(rows), np.int64)
