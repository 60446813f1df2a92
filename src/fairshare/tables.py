"""The region data package's tables (docs/region-data.md): columns, keys, units, ranges.

One place says what each file must hold; :mod:`fairshare.checks` enforces it and
:mod:`fairshare.data` turns the checked tables into arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field


# What a number column may hold, beyond its documented bounds (low, high, positive):
#
# * ``usual`` (low, high): what the column plausibly holds in its unit. A value outside it is
#   a *warning* naming the usual range: it is usually a unit slip (kg for t, CNY for billion
#   CNY, 10,000 persons for persons). Zero is exempt from the lower end in a column documented
#   as >= 0: it means none (no emission, a free measure). The shipped region and the synthetic
#   regions of bench/make_region.py at any size lie inside (the generator's floors, 1,000
#   persons and 0.001 bn CNY per city, are the lower ends here; elsewhere there is an order
#   of magnitude or more to spare).
# * ``limit``: |value| above it is an *error*: no real region has such a value, and the LP
#   could not be solved with it. The model works in kt/yr, million CNY/yr and µg/m³, and HiGHS
#   takes |matrix values| >= 1e15 and |costs| >= 1e20 as infinite (and is in numerical trouble
#   long before). Each limit is chosen so that a value at it, combined with usual values of
#   the columns it is multiplied with, keeps every LP coefficient at or below ~1e14: e.g. the
#   cost at full application kappa = cost_factor * cost_cny_per_t * emission_t / 1e6 (million
#   CNY) is 1e11 * 10 * 1e8 / 1e6 = 1e14 at the cost limit, and 1e7 * 10 * 1e12 / 1e6 = 1e14
#   at the emission limit. Concentrations (and coefficients per kt/yr) are limited to 1e9
#   µg/m³, i.e. 1 kg/m³: air itself weighs 1.2 kg/m³.
# * ``minimum``: for a positive column, the smallest value that is not absurd: a positive
#   value below it is an *error* (a GDP of 5e-324 passes "> 0" but divides to infinity).
MAX_COEFFICIENT = 1e14  # the largest LP coefficient the limits below allow (see above)


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
    usual: tuple[float, float] | None = None  # plausible range: outside it, a warning
    limit: float | None = None  # |value| above it: an error (the LP cannot be solved)
    minimum: float | None = None  # positive columns: smaller positive values are an error

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
        # Fewer than 1,000 people is usually a count in 10,000 persons (万人); more than
        # China's 1.4e9 is not one region.
        Column("population", "float", positive=True, unit="persons", minimum=1,
               usual=(1e3, 1.5e9), limit=1e12),
        # 1e-3 bn CNY is 1 million CNY (the generator's smallest city); all of China is ~1.3e5
        # bn CNY: above it the GDP is probably in CNY or 10,000 CNY (万元).
        Column("gdp_bn_cny", "float", positive=True, unit="billion CNY/yr", minimum=1e-6,
               usual=(1e-3, 2e5), limit=1e9),
        # A local price level: 1-1.3 in the shipped region, 0.6-1.8 in the generator.
        Column("cost_factor", "float", required=False, positive=True, unit="multiplier of unit costs",
               blank_ok=True, minimum=1e-3, usual=(0.1, 10), limit=1e3),
    ),
    key=("city",),
)

EMISSIONS = Table(
    "emissions",
    (
        Column("city"),
        Column("sector"),
        Column("pollutant"),
        # 1e8 t/yr is more than any country emits of any pollutant (China's SO2 peaked near
        # 2.6e7 t in 2006): above it the emission is probably in kg.
        Column("emission_t", "float", low=0, unit="t/yr", usual=(0, 1e8), limit=1e12),
        Column("year", "int", required=False, unit="calendar year", usual=(1900, 2200)),
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
        # Unit costs run from ~1e3 CNY/t (SO2, NOx) to a few 1e5 (VOC; 3e5 in the shipped
        # region): below 1 the cost is probably in thousand or million CNY per t, above 1e7 in
        # CNY per kt. theta (same unit) is on the same scale.
        Column("cost_cny_per_t", "float", low=0, unit="CNY per t of ref_pollutant removed",
               usual=(1, 1e7), limit=1e11),
        Column("max_application", "float", low=0, high=1, unit="share in [0, 1]"),
        Column("theta_cny_per_t", "float", required=False, low=0,
               unit="CNY per t, quadratic cost coefficient", blank_ok=True,
               usual=(1, 1e7), limit=1e11),
        # Roadmaps (several years): the part of the annual cost that repays equipment (an
        # annuity, paid from installation for the lifetime), the lifetime, and whether the
        # measure may be undone (operational measures); blank: 0, no end, not reversible.
        Column("capex_share", "float", required=False, low=0, high=1,
               unit="share of the annual cost that is capital", blank_ok=True),
        Column("lifetime_yr", "float", required=False, positive=True, unit="years", minimum=0.1,
               blank_ok=True, usual=(1, 100), limit=1e4),
        Column("reversible", "int", required=False, low=0, high=1, unit="0 or 1", blank_ok=True),
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
        # a row with a year applies to that year, a row without to every year
        Column("year", "int", required=False, unit="calendar year", usual=(1900, 2200),
               blank_ok=True),
    ),
    key=("city", "measure", "year"),
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
        # Negative coefficients are real (ozone titration by NOx). A city-scale coefficient is
        # below ~10 (the shipped region 1, the generator ~12 at 1,000 cities); 1e3 would be a
        # receptor next to a stack: beyond it the unit is probably per Mt or per t/day.
        Column("coef_ugm3_per_kt", "float", unit="µg/m³ per kt/yr", usual=(-1e3, 1e3),
               limit=1e9),
        Column("member", required=False),  # one of an ensemble of transport estimates
    ),
    key=("metric", "receptor", "source", "pollutant", "member"),
    optional_file=True,
    needs_rows=False,
    references=(("source", "cities", "city"),),
)

CONCENTRATIONS = Table(
    "concentrations",
    (
        Column("metric"),
        Column("receptor"),
        # Annual PM2.5 and ozone MDA8 stay below a few hundred µg/m³: above 1e3 the baseline is
        # probably in ng/m³.
        Column("baseline_ugm3", "float", low=0, unit="µg/m³", usual=(0, 1e3), limit=1e9),
        Column("year", "int", required=False, unit="calendar year", usual=(1900, 2200)),
        Column("member", required=False),  # the baseline under that transport member
    ),
    key=("metric", "receptor", "year", "member"),
    optional_file=True,
    needs_rows=False,
)

RECEPTORS = Table(
    "receptors",
    (
        Column("receptor"),
        Column("lat", "float", required=False, low=-90, high=90, unit="degrees", blank_ok=True),
        Column("lon", "float", required=False, low=-180, high=180, unit="degrees", blank_ok=True),
        # A receptor (a grid cell, a station) may hold no one or a fraction of a person.
        Column("population", "float", low=0, unit="persons", usual=(0, 1.5e9), limit=1e12),
    ),
    key=("receptor",),
    optional_file=True,
)

# --- response surfaces (docs/ozone.md; fairshare.surfaces checks the grids) ---------------
RESPONSE = Table(
    "response",
    (
        Column("metric"),
        Column("receptor"),
        Column("part"),  # local (the receptor's own city) | regional (the other cities)
        Column("nox_cut_share", "float", low=0, high=1, unit="share of NOx emissions cut, 0..1"),
        Column("voc_cut_share", "float", low=0, high=1, unit="share of VOC emissions cut, 0..1"),
        # The change of the metric from its baseline: ozone moves by tens of µg/m³ at most;
        # beyond 1e3 the unit is probably ng/m³ or ppb x 1000.
        Column("change_ugm3", "float", unit="µg/m³ change from the baseline",
               usual=(-1e3, 1e3), limit=1e9),
        Column("year", "int", required=False, unit="calendar year", usual=(1900, 2200),
               blank_ok=True),
        Column("member", required=False),
    ),
    key=("metric", "receptor", "part", "nox_cut_share", "voc_cut_share", "year", "member"),
    optional_file=True,
    needs_rows=False,
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (CITIES, EMISSIONS, MEASURES, EFFICIENCIES, APPLICABILITY, TRANSPORT,
              CONCENTRATIONS, RECEPTORS, RESPONSE)
}
