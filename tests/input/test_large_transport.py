"""A large Parquet transport table is streamed batch by batch (data.TransportStream): the
same arrays, and the same problems (file, row, column, message), as the DataFrame path.

The streaming path is forced on a small table by lowering LARGE_TABLE_ROWS and the batch
size, and the Parquet file is written in small row groups, so that ids, duplicates and bad
values fall in later batches and row groups (each with its own dictionary)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import fairshare.data as data
from fairshare.data import load_region
from fairshare.errors import InputError
from toy import city, measure, write_region

CITIES = [f"c{i}" for i in range(1, 7)]
RECEPTORS = [f"r{i}" for i in range(1, 9)]
POLLUTANTS = ["PM25", "SO2", "NOx"]
METRICS = ["PM25", "O3"]
ROW_GROUP = 70  # rows per Parquet row group
BATCH = 30  # rows per streamed batch: several per row group, not aligned with them


def _transport_rows(shuffle: bool) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = [{"metric": q, "receptor": r, "source": s, "pollutant": p,
             "coef_ugm3_per_kt": float(rng.uniform(0.01, 5))}
            for q, r, s, p in itertools.product(METRICS, RECEPTORS, CITIES, POLLUTANTS)]
    df = pd.DataFrame(rows)
    df = df[rng.uniform(size=len(df)) > 0.15]  # sparse: missing coefficients are 0
    if shuffle:
        df = df.sample(frac=1.0, random_state=3)
    return df.reset_index(drop=True)


def make_region(folder: Path, *, shuffle: bool = False) -> Path:
    """6 cities, 8 receptors, metrics PM25 and O3 (and NO2 only in the concentrations),
    transport.parquet in row groups of ROW_GROUP rows."""
    write_region(
        folder,
        cities=[city(c, zone="z1" if i < 3 else "z2") for i, c in enumerate(CITIES)],
        emissions=[{"city": c, "sector": k, "pollutant": p, "emission_t": 500.0 + 10 * i}
                   for i, (c, k, p) in enumerate(itertools.product(CITIES, ("ind", "dom"),
                                                                   POLLUTANTS))],
        measures=[measure("m1"), measure("m2", sector="dom", ref="SO2")],
        efficiencies=[{"measure": "m1", "pollutant": "PM25", "efficiency": 0.5},
                      {"measure": "m2", "pollutant": "SO2", "efficiency": 0.4}],
        concentrations=[{"metric": q, "receptor": r, "baseline_ugm3": 30.0 + j}
                        for q in METRICS + ["NO2"] for j, r in enumerate(RECEPTORS)],
        receptors=[{"receptor": r, "lat": 39.0, "lon": 116.0, "population": 1000.0 * (j + 1)}
                   for j, r in enumerate(RECEPTORS)],
    )
    write_transport(folder, _transport_rows(shuffle))
    return folder


def write_transport(folder: Path, df: pd.DataFrame) -> None:
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), folder / "transport.parquet",
                   row_group_size=ROW_GROUP)


def read_transport(folder: Path) -> pd.DataFrame:
    return pq.read_table(folder / "transport.parquet").to_pandas()


@pytest.fixture
def streamed(monkeypatch):
    """A function loading a region through the streaming path; it fails if the transport
    table is read as a DataFrame."""
    real = data._read_table

    def no_transport_dataframe(path, name):
        assert name != "transport", "the transport table was read as a DataFrame"
        return real(path, name)

    def load(folder):
        with monkeypatch.context() as m:
            m.setattr(data, "LARGE_TABLE_ROWS", 50)
            m.setattr(data, "STREAM_BATCH_ROWS", BATCH)
            m.setattr(data, "_read_table", no_transport_dataframe)
            return load_region(folder)
    return load


def problems(load, folder):
    with pytest.raises(InputError) as info:
        load(folder)
    return info.value.problems, info.value.warnings


def test_the_table_is_large_enough_for_several_batches(tmp_path):
    folder = make_region(tmp_path / "r")
    meta = pq.ParquetFile(folder / "transport.parquet").metadata
    assert meta.num_rows > 50 and meta.num_row_groups >= 4
    assert meta.num_rows > 6 * BATCH


@pytest.mark.parametrize("shuffle", [False, True], ids=["sorted", "shuffled"])
def test_same_arrays_as_the_dataframe_path(tmp_path, streamed, shuffle):
    folder = make_region(tmp_path / "r", shuffle=shuffle)
    ref = load_region(folder)  # 300-odd rows: the DataFrame path
    got = streamed(folder)
    for name in ("cities", "sectors", "pollutants", "measures", "metrics", "receptors"):
        assert getattr(got, name) == getattr(ref, name), name
    assert got.metrics == ("PM25", "O3", "NO2")  # transport order first, then concentrations
    assert got.transport_ugm3_per_kt.shape == ref.transport_ugm3_per_kt.shape
    assert got.transport_ugm3_per_kt.dtype == np.float64
    assert got.transport_ugm3_per_kt.flags.c_contiguous
    assert np.array_equal(got.transport_ugm3_per_kt, ref.transport_ugm3_per_kt)
    assert not got.transport_ugm3_per_kt[2].any()  # NO2: concentrations only
    assert np.array_equal(got.baseline_ugm3, ref.baseline_ugm3, equal_nan=True)
    assert np.array_equal(got.emission_t, ref.emission_t)
    assert got.warnings == ref.warnings
    assert got.files == ref.files


def test_ids_are_cleaned_as_in_the_dataframe_path(tmp_path, streamed):
    """Spaces around ids, as a spreadsheet export may leave them, in some row groups only."""
    folder = make_region(tmp_path / "r")
    df = read_transport(folder)
    df.loc[200:, "receptor"] = " " + df.loc[200:, "receptor"] + " "
    write_transport(folder, df)
    ref, got = load_region(folder), streamed(folder)
    assert got.receptors == ref.receptors
    assert np.array_equal(got.transport_ugm3_per_kt, ref.transport_ugm3_per_kt)


def _edit(folder: Path, fn) -> None:
    df = read_transport(folder)
    write_transport(folder, fn(df))


def duplicate_in_a_later_batch(df):
    return pd.concat([df, df.iloc[[5]]], ignore_index=True)


def many_duplicates(df):  # more than MAX_ROWS_LISTED: a summary line with the count
    return pd.concat([df.iloc[:150], df.iloc[20:29], df.iloc[150:]], ignore_index=True)


def undefined_receptor(df):
    df = df.copy()
    df.loc[[230, 231, 250], "receptor"] = "r99"
    df.loc[100, "receptor"] = "r9"
    return df


def undefined_source_and_pollutant(df):
    df = df.copy()
    df.loc[180, "source"] = "c7"
    df.loc[[90, 240], "pollutant"] = "PM10"
    return df


def nan_coefficient(df):
    df = df.copy()
    df.loc[190, "coef_ugm3_per_kt"] = np.nan
    return df


def many_bad_numbers(df):
    df = df.copy()
    df.loc[list(range(100, 250, 12)), "coef_ugm3_per_kt"] = np.nan
    df.loc[[40, 210], "coef_ugm3_per_kt"] = np.inf
    return df


def text_coefficients(df):
    df = df.copy()
    df["coef_ugm3_per_kt"] = df["coef_ugm3_per_kt"].map(str)
    df.loc[[150, 151], "coef_ugm3_per_kt"] = "n/a"
    df.loc[170, "coef_ugm3_per_kt"] = " "
    return df


def empty_ids(df):
    df = df.copy()
    df.loc[[75, 210], "source"] = None
    df.loc[140, "metric"] = ""
    return df


def empty_id_duplicates(df):  # duplicates among rows with an empty or undefined id
    df = df.copy()
    df.loc[[100, 200], "receptor"] = None
    df.loc[[100, 200], ["metric", "source", "pollutant"]] = ["PM25", "c1", "SO2"]
    df.loc[[110, 210], "receptor"] = "nowhere"
    df.loc[[110, 210], ["metric", "source", "pollutant"]] = ["O3", "c2", "NOx"]
    return df


def missing_column(df):
    return df.drop(columns=["coef_ugm3_per_kt"])


def missing_key_column(df):  # duplicates then on (metric, receptor, source)
    return df.drop(columns=["pollutant"])


def renamed_column(df):
    return df.rename(columns={"coef_ugm3_per_kt": "coef_ugm3_per_t"})


def extra_column(df):
    return df.assign(note="x")


def missing_baseline(folder: Path) -> None:
    conc = pd.read_csv(folder / "concentrations.csv")
    conc[~((conc.metric == "O3") & conc.receptor.isin(["r3", "r5"]))].to_csv(
        folder / "concentrations.csv", index=False)


def many_missing_baselines(folder: Path) -> None:
    conc = pd.read_csv(folder / "concentrations.csv")
    conc[conc.metric != "O3"].to_csv(folder / "concentrations.csv", index=False)


def undefined_cities_table(folder: Path) -> None:  # no city is defined: every source unknown
    (folder / "cities.csv").write_text("city,zone\n")


BAD_TRANSPORT = [duplicate_in_a_later_batch, many_duplicates, undefined_receptor,
                 undefined_source_and_pollutant, nan_coefficient, many_bad_numbers,
                 text_coefficients, empty_ids, empty_id_duplicates, missing_column,
                 missing_key_column, renamed_column]
BAD_FOLDER = [missing_baseline, many_missing_baselines, undefined_cities_table]


@pytest.mark.parametrize("edit", BAD_TRANSPORT, ids=[f.__name__ for f in BAD_TRANSPORT])
def test_same_problems_as_the_dataframe_path(tmp_path, streamed, edit):
    folder = make_region(tmp_path / "r")
    _edit(folder, edit)
    ref = problems(load_region, folder)
    got = problems(streamed, folder)
    assert any(p.file == "transport.parquet" for p in ref[0])
    assert got == ref


@pytest.mark.parametrize("edit", BAD_FOLDER, ids=[f.__name__ for f in BAD_FOLDER])
def test_same_problems_with_other_tables(tmp_path, streamed, edit):
    folder = make_region(tmp_path / "r", shuffle=True)
    edit(folder)
    ref = problems(load_region, folder)
    got = problems(streamed, folder)
    assert got == ref


def test_the_expected_rows(tmp_path, streamed):
    """Spreadsheet rows (header = row 1) of problems in later batches, spelled out."""
    folder = make_region(tmp_path / "r")
    n = len(read_transport(folder))
    _edit(folder, lambda df: nan_coefficient(undefined_receptor(duplicate_in_a_later_batch(df))))
    errors, _ = problems(streamed, folder)
    where = {(p.file, p.row, p.column) for p in errors}
    assert ("transport.parquet", 192, "coef_ugm3_per_kt") in where  # df row 190
    assert ("transport.parquet", n + 2, "metric") in where  # the duplicate appended last
    assert ("transport.parquet", 102, "receptor") in where  # r9, first in df row 100
    assert ("transport.parquet", 232, "receptor") in where  # r99, first in df row 230
    dup = next(p for p in errors if "duplicate" in p.message)
    assert "(first given in row 7)" in dup.message


def test_an_extra_column_is_a_warning_and_the_load_goes_on(tmp_path, streamed):
    folder = make_region(tmp_path / "r")
    _edit(folder, extra_column)
    ref, got = load_region(folder), streamed(folder)
    assert got.warnings == ref.warnings and any("note" in str(w) for w in got.warnings)
    assert np.array_equal(got.transport_ugm3_per_kt, ref.transport_ugm3_per_kt)


def test_a_corrupt_file_is_one_problem(tmp_path, streamed):
    folder = make_region(tmp_path / "r")
    raw = (folder / "transport.parquet").read_bytes()
    (folder / "transport.parquet").write_bytes(raw[:40] + b"\0" * 4000 + raw[4040:])
    errors, _ = problems(streamed, folder)
    assert [p.file for p in errors] == ["transport.parquet"]
    assert "cannot read the transport table as Parquet" in errors[0].message
