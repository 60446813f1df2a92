"""The region data package's tables (DESIGN §3): columns, keys, units, ranges.

One place says what each file must hold; :mod:`fairshare.checks` enforces it and
:mod:`fairshare.data` turns the checked tables into arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "str"  # "str" | "float" | "int"
    required: bool = True
    low: float | None = None  # inclusive lower bound
    high: float | None = None  # inclusive upper bound
    positive: bool = False  # strictly > 0
    unit: str = ""  # human-readable unit, used in messages
    blank_ok: bool = False  # an empty cell takes the documented default (e.g. cost_factor 1)

    def describe(self) -> str:
        """'name (unit)' for messages."""
        return f"{self.name} ({self.unit})" if self.unit else self.name


@dataclass(frozen=True)
class Table:
    name: str  # file stem: cities -> cities.csv or cities.parquet
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    optional_file: bool = False
    # a file with a header and no data rows is an error (else a warning: nothing to apply)
    needs_rows: bool = True
    # (column, defining table, defining column): ids that must exist elsewhere
    references: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


CITIES = Table(
    "cities",
    (
        Column("city"),
        Column("name", required=False),
        Column("province", required=False),
        Column("zone"),
        Column("lat", "float", low=-90, high=90, unit="degrees"),
        Column("lon", "float", low=-180, high=180, unit="degrees"),
        Column("population", "float", positive=True, unit="persons"),
        Column("gdp_bn_cny", "float", positive=True, unit="billion CNY/yr"),
        Column("cost_factor", "float", required=False, positive=True, unit="multiplier of unit costs",
               blank_ok=True),
    ),
    key=("city",),
)

EMISSIONS = Table(
    "emissions",
    (
        Column("city"),
        Column("sector"),
        Column("pollutant"),
        Column("emission_t", "float", low=0, unit="t/yr"),
        Column("year", "int", required=False, unit="calendar year"),
    ),
    key=("city", "sector", "pollutant", "year"),
    references=(("city", "cities", "city"),),
)

MEASURES = Table(
    "measures",
    (
        Column("measure"),
        Column("sector"),
        Column("group"),
        Column("name", required=False),
        Column("ref_pollutant"),
        Column("cost_cny_per_t", "float", low=0, unit="CNY per t of ref_pollutant removed"),
        Column("max_application", "float", low=0, high=1, unit="share in [0, 1]"),
        Column("theta_cny_per_t", "float", required=False, low=0,
               unit="CNY per t, quadratic cost coefficient", blank_ok=True),
    ),
    key=("measure",),
)

EFFICIENCIES = Table(
    "efficiencies",
    (
        Column("measure"),
        Column("pollutant"),
        Column("efficiency", "float", low=0, high=1, unit="removal share in [0, 1]"),
    ),
    key=("measure", "pollutant"),
    references=(("measure", "measures", "measure"),),
)

APPLICABILITY = Table(
    "applicability",
    (
        Column("city"),
        Column("measure"),
        Column("max_application", "float", low=0, high=1, unit="share in [0, 1]"),
    ),
    key=("city", "measure"),
    optional_file=True,
    needs_rows=False,
    references=(("city", "cities", "city"), ("measure", "measures", "measure")),
)

TRANSPORT = Table(
    "transport",
    (
        Column("metric"),
        Column("receptor"),
        Column("source"),
        Column("pollutant"),
        Column("coef_ugm3_per_kt", "float", unit="µg/m³ per kt/yr"),
    ),
    key=("metric", "receptor", "source", "pollutant"),
    optional_file=True,
    needs_rows=False,
    references=(("source", "cities", "city"),),
)

CONCENTRATIONS = Table(
    "concentrations",
    (
        Column("metric"),
        Column("receptor"),
        Column("baseline_ugm3", "float", low=0, unit="µg/m³"),
        Column("year", "int", required=False, unit="calendar year"),
    ),
    key=("metric", "receptor", "year"),
    optional_file=True,
    needs_rows=False,
)

RECEPTORS = Table(
    "receptors",
    (
        Column("receptor"),
        Column("lat", "float", required=False, low=-90, high=90, unit="degrees", blank_ok=True),
        Column("lon", "float", required=False, low=-180, high=180, unit="degrees", blank_ok=True),
        Column("population", "float", low=0, unit="persons"),
    ),
    key=("receptor",),
    optional_file=True,
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (CITIES, EMISSIONS, MEASURES, EFFICIENCIES, APPLICABILITY, TRANSPORT,
              CONCENTRATIONS, RECEPTORS)
}
