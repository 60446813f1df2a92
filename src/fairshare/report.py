"""``report.html``: one self-contained page per results, Pareto or comparison folder.

The page reads top to bottom: the question in words (targets, rules, objective, year),
the headline (total cost, share of GDP, targets attained, price of fairness), the tables
with names and units, the plots, the binding targets and caps with their marginal costs,
and, for a scenario that did not solve, the diagnosis or the status message.

Self-contained and inert: the CSS is inline, the plots are embedded as base64 PNG, and
there is no JavaScript at all; a Content-Security-Policy forbids loading anything, so a
page that tried to reach the network would say so in the browser's console. Every text
that comes from a file is escaped. The same folder always gives the same bytes: nothing
time-dependent is written.

Display units, one per quantity (the files keep base units): costs in M CNY/yr (totals
also in bn CNY/yr in the headline), burden in % of GDP, concentrations in µg/m³,
emissions and reductions in t/yr (kt/yr for regional totals in the headline), marginal
costs of concentration targets in M CNY/yr per µg/m³, of emission caps in CNY/t, shares
in %. The display tables here are also the sheets of ``results.xlsx``
(:mod:`fairshare.spreadsheet`), so both read the same.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fairshare.display import BN, M  # the display units of everything a person reads

__all__ = ["write_report", "result_html", "read_folder", "Folder", "Table", "tables_of",
           "question", "REPORT_NAME"]

REPORT_NAME = "report.html"
TOP_ROWS = 30        # rows of a table shown in the report; the CSV and xlsx hold all
SHOW_ALL_UP_TO = 40  # ...but a table only a little longer is shown whole

KT = 1e3  # t per kt

# --- reading a folder ----------------------------------------------------------------------------


@dataclass
class Names:
    """Names of the region's cities and measures by id, from the region's own tables
    (empty when the region folder is gone: ids are shown alone then)."""

    cities: dict[str, str] = field(default_factory=dict)
    measures: dict[str, str] = field(default_factory=dict)

    def city(self, cid) -> str:
        return self.cities.get(str(cid), "")

    def measure(self, mid) -> str:
        return self.measures.get(str(mid), "")

    def labelled(self, cid) -> str:
        """"Anyang (anyang)", or the id alone when the region gives no name."""
        name = self.city(cid)
        return f"{name} ({cid})" if name and name != str(cid) else str(cid)


@dataclass
class Folder:
    """A finished folder: ``kind`` is "result", "pareto" or "compare"."""

    path: Path
    kind: str
    summary: dict = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    diagnosis: dict | None = None
    names: Names = field(default_factory=Names)

    @property
    def name(self) -> str:
        """The folder's name; inside the hidden temporary folder that
        ``fairshare.folders.write_folder`` renames when complete
        (``.<name>.partial-<pid>-<8 hex>``), the name it will have."""
        m = re.fullmatch(r"\.(.+)\.partial-\d+-[0-9a-f]{8}", self.path.name)
        return m.group(1) if m else self.path.name


# Files that mark each kind of folder, in the order they are tried (as fairshare.plots).
KINDS = {"summary.json": "result", "pareto.csv": "pareto", "compare.csv": "compare"}
ID_COLUMNS = ("city", "receptor", "metric", "scenario", "sweep", "status", "sector", "measure")


def read_folder(folder: str | Path) -> Folder:
    """The folder's summary, tables and diagnosis, and the names of its region."""
    path = Path(folder)
    kind = next((k for mark, k in KINDS.items() if (path / mark).is_file()), None)
    if kind is None:
        raise ValueError(f"{path} is not a folder fairshare wrote: no summary.json, pareto.csv "
                         "or compare.csv")
    f = Folder(path=path, kind=kind)
    if kind == "result":
        f.summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        for name in ("cities", "receptors", "measures"):
            if (path / f"{name}.csv").is_file():
                f.tables[name] = _read_csv(path / f"{name}.csv")
        if (path / "diagnosis.json").is_file():
            f.diagnosis = json.loads((path / "diagnosis.json").read_text(encoding="utf-8"))
        else:
            f.diagnosis = f.summary.get("diagnosis")
        f.names = names_of(f.summary, f.tables)
    else:
        f.tables[kind] = _read_csv(path / f"{kind}.csv")
    return f


def folder_from_result(result) -> Folder:
    """A :class:`Folder` of an in-memory ``fairshare.results.Result``."""
    tables = {name: getattr(result, name) for name in ("cities", "receptors", "measures")
              if isinstance(getattr(result, name, None), pd.DataFrame)
              and len(getattr(result, name).columns)}
    summary = result.summary or {}
    return Folder(path=Path("."), kind="result", summary=summary, tables=tables,
                  diagnosis=result.diagnosis, names=names_of(summary, tables))


def _read_csv(path: Path) -> pd.DataFrame:
    """A table as fairshare wrote it; ids stay text ("0101" is not 101)."""
    return pd.read_csv(path, dtype={c: str for c in ID_COLUMNS}, keep_default_na=True)


def names_of(summary: dict, tables: dict[str, pd.DataFrame]) -> Names:
    """Names from the result's own tables (their ``name`` and ``measure_name`` columns),
    else from the region's tables; ids alone where neither gives one."""
    names = region_names(summary)
    for table, key, column, into in (("cities", "city", "name", names.cities),
                                     ("receptors", "receptor", "name", names.cities),
                                     ("measures", "measure", "measure_name", names.measures)):
        frame = tables.get(table)
        if frame is not None and key in frame.columns and column in frame.columns:
            into.update({str(k): str(v).strip() for k, v in zip(frame[key], frame[column])
                         if isinstance(v, str) and v.strip()})
    return names


def region_names(summary: dict) -> Names:
    """Names from the region's cities and measures tables, read only from inside the
    region folder (``fairshare.data.readable_region_file``); none when it is gone."""
    folder = (summary.get("region") or {}).get("folder")
    if not folder:
        return Names()
    return Names(cities=_name_column(Path(folder), "cities", "city"),
                 measures=_name_column(Path(folder), "measures", "measure"))


def _name_column(folder: Path, table: str, key: str) -> dict[str, str]:
    from fairshare.data import readable_region_file

    for file_name in (f"{table}.parquet", f"{table}.csv"):  # Parquet first, as data.py reads
        try:
            path = readable_region_file(folder, file_name)
            if path is None:
                continue
            frame = (pd.read_parquet(path) if file_name.endswith(".parquet")
                     else pd.read_csv(path, dtype=str, encoding="utf-8-sig"))
        except Exception:  # a broken or vanished region table: ids alone, never a failed report
            return {}
        frame.columns = [str(c).strip() for c in frame.columns]
        if key not in frame.columns or "name" not in frame.columns:
            return {}
        pairs = zip(frame[key].astype(str).str.strip(), frame["name"])
        return {k: str(v).strip() for k, v in pairs if isinstance(v, str) and v.strip()}
    return {}


# --- numbers in words ----------------------------------------------------------------------------


def _finite(v) -> float | None:
    """``v`` as a float, or None for a missing or non-finite value."""
    if v is None or isinstance(v, bool) or v is pd.NA:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def num(v, fmt: str = ",.2f", unit: str = "") -> str:
    """A number for the page: "32.70", "–" when missing; ``-0.00`` shown as ``0.00``."""
    x = _finite(v)
    if x is None:
        return "–"
    text = format(int(round(x)), fmt) if fmt.endswith("d") else format(x, fmt)
    if re.fullmatch(r"-[0.,]*", text.replace("%", "")):
        text = text[1:]
    return f"{text} {unit}".rstrip() if unit else text


def _by_year(v, show) -> str:
    """A value given by year ({2030: 35, 2035: 30}) as "35 in 2030, 30 in 2035"; a plain
    value as ``show(v)``."""
    if isinstance(v, dict):
        return ", ".join(f"{show(x)} in {year}" for year, x in sorted(v.items(), key=lambda i: str(i[0])))
    return show(v)


def _g(v, factor: float = 1.0) -> str:
    """A value the planner typed, as typed: 35.0 -> "35", 0.4 -> "0.4" (times ``factor``)."""
    def show(value):
        x = _finite(value)
        return "–" if x is None else f"{x * factor:,.10g}"
    return _by_year(v, show)


def _pct_of(share) -> str:
    """A fraction written as a percentage, as precise as given: 0.008 -> "0.8%"."""
    def show(value):
        x = _finite(value)
        return "–" if x is None else f"{100 * x:.6g}%"
    return _by_year(share, show)


def species(pid) -> str:
    """A pollutant or metric id as people write it (PM25 -> PM2.5); others unchanged."""
    return {"PM25": "PM2.5", "PM2_5": "PM2.5"}.get(str(pid), str(pid))


def _k_of_n(text) -> tuple[int | None, int | None]:
    """"28/28" -> (28, 28); anything else -> (None, None)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text)) if isinstance(text, str) else None
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def _text(v) -> str:
    """A text cell of a table: "" for a missing one (pandas reads an empty cell as NaN)."""
    return "" if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else str(v)


def _yes_no(v) -> bool | None:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str):
        return {"true": True, "false": False}.get(v.strip().lower())
    return bool(v)


# --- the question in words ----------------------------------------------------------------------


def _places(which, names: Names, what: str = "receptor") -> str:
    """"at every receptor", "at Beijing (beijing)", "at 10 receptors: a, b, …"."""
    if which in (None, "all"):
        return f"at every {what}"
    ids = [str(w) for w in (which if isinstance(which, (list, tuple)) else [which])]
    shown = ", ".join(names.labelled(i) for i in ids[:6]) + (", …" if len(ids) > 6 else "")
    return f"at {shown}" if len(ids) == 1 else f"at {len(ids)} {what}s: {shown}"


def _zone(zone) -> str:
    return "the whole region" if zone in (None, "all") else f"zone {zone}"


def target_sentence(t: dict, names: Names) -> str:
    """One entry of ``targets`` in words."""
    if "emission_cap" in t:
        who = f"{species(t['emission_cap'])} emissions of {_zone(t.get('zone'))}"
        if t.get("max_t") is not None:
            return f"{who} at most {_g(t['max_t'])} t/yr"
        return f"{who} cut by at least {_g(t.get('reduction_pct'))}% from the baseline"
    metric = species(t.get("metric"))
    if t.get("exposure"):
        over = "every receptor" if t.get("receptors") in (None, "all") else \
            _places(t.get("receptors"), names)[3:]
        return (f"population-weighted {metric} over {over} at most {_g(t.get('max_ugm3'))} µg/m³")
    where = _places(t.get("receptors"), names)
    if t.get("max_ugm3") is not None:
        return f"{metric} at most {_g(t['max_ugm3'])} µg/m³ {where}"
    if t.get("reduction_pct") is not None:
        return f"{metric} at least {_g(t['reduction_pct'])}% below its baseline {where}"
    if t.get("gap_closure") is not None:
        return (f"{metric} {where} closes {_g(t['gap_closure'], 100)}% of the gap between "
                "its baseline and the lowest level every measure together can reach (MTFR)")
    return _generic("target", t)


def _cities(which, names: Names) -> str:
    if which in (None, "all"):
        return "no city"
    ids = [str(w) for w in (which if isinstance(which, (list, tuple)) else [which])]
    return "none of " + ", ".join(names.labelled(i) for i in ids)


def rule_sentence(r: dict, names: Names) -> str:
    """One entry of ``fairness`` in words."""
    kind = r.get("rule")
    if kind == "burden_cap":
        return (f"{_cities(r.get('cities'), names)} pays more than "
                f"{_pct_of(r.get('max_share_of_gdp'))} of its GDP")
    if kind == "burden_band":
        return (f"every city's cost, as a share of its GDP, within {_g(r['width'], 100)} "
                "percentage points of the regional share (total cost / total GDP)")
    if kind == "equal_reduction":
        pol = species(r.get("pollutant"))
        if r.get("min_pct") is not None:
            return f"every city cuts its {pol} emissions by at least {_g(r['min_pct'])}%"
        return (f"every city's {pol} cut (% of its own emissions) within {_g(r.get('band_pct'))} "
                "percentage points of the regional cut")
    if kind == "unified_standard":
        return _unified_sentence(r, names)
    if kind == "ability_to_pay":
        return _ability_sentence(r, names)
    if kind == "gini":
        of = "cost per person" if r.get("of") == "cost_per_capita" else "burdens (cost / GDP)"
        return f"the Gini coefficient of the cities' {of} at most {_g(r.get('max'))}"
    if kind == "per_capita":
        return (f"every city's {species(r.get('pollutant'))} emissions per person after the plan "
                f"within {_g(r.get('band_t_per_person'))} t of the regional mean")
    if kind == "polluter_pays":
        return (f"every city pays at least {_g(r['min_fraction'], 100)}% of its causal "
                "share of the cost (the part of other cities' exceedances its emissions cause)")
    return _generic(kind or "rule", r)


def _unified_sentence(r: dict, names: Names) -> str:
    where = "every city" if r.get("zone") in (None, "all") else f"every city of zone {r['zone']}"
    if r.get("measure") is not None:
        label = names.measure(r["measure"])
        measure = f"{label} ({r['measure']})" if label else str(r["measure"])
        return (f"{where} applies {measure} to at least {_pct_of(r.get('min_application'))} of "
                "its sector's emission base (at most what applies in the city)")
    return (f"in {where}, the {r.get('sector')} sector removes at least "
            f"{_pct_of(r.get('min_removal'))} of its {species(r.get('pollutant'))} emissions")


def _ability_sentence(r: dict, names: Names) -> str:
    if r.get("max_share_of_gdp") is not None:
        return (f"ability to pay: {_cities(r.get('cities'), names)} pays more than "
                f"{_pct_of(r['max_share_of_gdp'])} of its GDP")
    parts, low = [], None
    for c in r.get("classes") or []:
        top = c.get("max_gdp_per_capita_cny")
        span = (f"up to {_g(top)} CNY of GDP per person" if low is None else
                f"{_g(low)} to {_g(top)} CNY" if top is not None else f"above {_g(low)} CNY")
        parts.append(f"{span}: {_pct_of(c.get('max_share_of_gdp'))}")
        low = top
    return "ability to pay: a city's cost at most a share of its GDP set by its GDP per person (" \
        + "; ".join(parts) + ")"


def _generic(kind: str, entry: dict) -> str:
    """An entry this module has no sentence for: its keys, so nothing is hidden."""
    keys = ", ".join(f"{k}: {v}" for k, v in entry.items() if k != "rule")
    return f"{kind}: {keys}"


OBJECTIVE_METRICS = {
    "gini": "the Gini coefficient of burdens (0–1)",
    "band": "the largest distance of a city's burden from the regional burden (fraction of GDP)",
    "max_burden": "the largest burden (fraction of GDP)",
}


def objective_sentence(obj) -> str:
    if obj in (None, "min_cost"):
        return "the least total cost"
    if obj == "min_max_burden":
        return ("the smallest possible largest burden (cost / GDP), then the least total cost "
                "that keeps it")
    if isinstance(obj, dict) and isinstance(obj.get("min_cost"), dict):
        w = obj["min_cost"]
        if not _finite(w.get("fairness_weight")):
            return "the least total cost"
        metric = OBJECTIVE_METRICS.get(w.get("fairness_metric"), str(w.get("fairness_metric")))
        return (f"the least total cost plus {_g(w['fairness_weight'])} CNY/yr per unit of "
                f"{metric} (a weighted fairness penalty)")
    return f"objective: {obj}"


def question(summary: dict, names: Names) -> list[tuple[str, str]]:
    """(label, sentence) per target, rule, the objective, the year and region, the costs."""
    sc = summary.get("scenario_resolved") or {}
    region = summary.get("region") or {}
    lines = [(f"targets[{i}]", target_sentence(t, names))
             for i, t in enumerate(sc.get("targets") or []) if isinstance(t, dict)]
    lines += [(f"fairness[{i}]", rule_sentence(r, names))
              for i, r in enumerate(sc.get("fairness") or []) if isinstance(r, dict)]
    if not sc.get("fairness"):
        lines.append(("fairness", "no fairness rule: the cost lies where it is cheapest"))
    lines.append(("objective", objective_sentence(sc.get("objective"))))
    year = sc.get("year", region.get("year"))
    where = f"region {region.get('name') or sc.get('region') or '–'}"
    if sc.get("years"):
        road = sc.get("roadmap") or {}
        lines.append(("years", f"a roadmap over {', '.join(map(str, sc['years']))} "
                               f"({road.get('foresight', 'perfect')} foresight, discount rate "
                               f"{_g(road.get('discount_rate', 0.05), 100)}%/yr), {where}"))
    else:
        lines.append(("year", f"{year if year is not None else 'the base year'}, {where}"))
    cm = summary.get("cost_model") or {}
    if cm.get("kind") == "quadratic":
        lines.append(("costs", f"quadratic (rising marginal cost), solved as {cm.get('method')}"))
    return lines


# --- display tables (also the sheets of results.xlsx) ---------------------------------------------


@dataclass
class Table:
    """A table in display units: headers in words with units, numbers as numbers.

    ``formats`` maps a header to its Python number format (the report) and, through
    :func:`fairshare.spreadsheet.excel_format`, to Excel's."""

    name: str                 # the sheet name, also the report's heading
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    source: str = ""          # the file holding the full table


class _Builder:
    """Collects display columns: ``add(header, values, fmt)``."""

    def __init__(self):
        self.columns: dict[str, list] = {}
        self.formats: dict[str, str] = {}

    def add(self, header: str, values, fmt: str | None = None) -> None:
        self.columns[header] = list(values)
        if fmt:
            self.formats[header] = fmt

    def table(self, name: str, source: str = "") -> Table:
        return Table(name, pd.DataFrame(self.columns), self.formats, source)


def _col(frame: pd.DataFrame, name: str, factor: float = 1.0) -> list:
    """A number column times ``factor``, missing values as None."""
    out = []
    for v in frame[name]:
        x = _finite(v)
        out.append(None if x is None else _times(x, factor))
    return out


def _times(x: float, factor: float) -> float:
    """x · factor without the float noise of the product (58690.91987000001): 12
    significant digits, more than the files' 10."""
    return x if factor == 1 else float(f"{x * factor:.12g}")


def _pollutants(frame: pd.DataFrame) -> list[str]:
    return [c[len("reduction_t_"):] for c in frame.columns if c.startswith("reduction_t_")]


def _sorted(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Largest first; ties in file order (a stable sort: the same bytes every time)."""
    if column not in frame.columns:
        return frame.reset_index(drop=True)
    key = pd.to_numeric(frame[column], errors="coerce").fillna(-math.inf)
    return frame.iloc[(-key).argsort(kind="stable")].reset_index(drop=True)


def city_table(cities: pd.DataFrame, names: Names) -> Table:
    c = _sorted(cities, "cost_cny")
    b = _Builder()
    b.add("City", c["city"].astype(str))
    b.add("Name", [names.city(x) for x in c["city"]])
    b.add("Cost (M CNY/yr)", _col(c, "cost_cny", 1 / M), ",.2f")
    b.add("Burden (% of GDP)", _col(c, "burden", 100), ".3f")
    if "cost_shift_cny" in c.columns:
        b.add("Cost shift from the least-cost plan (M CNY/yr)", _col(c, "cost_shift_cny", 1 / M),
              "+,.2f")
    for p in _pollutants(c):
        b.add(f"{species(p)} reduction (t/yr)", _col(c, f"reduction_t_{p}"), ",.0f")
        if f"reduction_pct_{p}" in c.columns:
            b.add(f"{species(p)} reduction (% of the city's emissions)",
                  _col(c, f"reduction_pct_{p}"), ".1f")
    return b.table("Cities", "cities.csv")


def receptor_table(receptors: pd.DataFrame, names: Names) -> Table:
    """Targeted rows first (largest marginal cost first), then the others in file order."""
    r = receptors.reset_index(drop=True)
    targeted = r["target_ugm3"].notna() if "target_ugm3" in r else pd.Series(False, index=r.index)
    price = pd.to_numeric(r["shadow_price_cny_per_ugm3"], errors="coerce") \
        if "shadow_price_cny_per_ugm3" in r else pd.Series(0.0, index=r.index)
    key = pd.DataFrame({"untargeted": ~targeted, "price": -price.fillna(0)})
    r = r.iloc[key.sort_values(["untargeted", "price"], kind="stable").index].reset_index(drop=True)
    b = _Builder()
    b.add("Metric", r["metric"].astype(str))
    b.add("Receptor", r["receptor"].astype(str))
    b.add("Name", [names.city(x) for x in r["receptor"]])
    b.add("Baseline (µg/m³)", _col(r, "baseline_ugm3"), ",.2f")
    b.add("After the plan (µg/m³)", _col(r, "final_ugm3"), ",.2f")
    b.add("Target (µg/m³)", _col(r, "target_ugm3"), ",.2f")
    if "mtfr_ugm3" in r.columns:
        b.add("Lowest reachable, MTFR (µg/m³)", _col(r, "mtfr_ugm3"), ",.2f")
    b.add("Attained", [_yes_no(v) for v in r["attained"]])
    b.add("Marginal cost (M CNY/yr per µg/m³)",
          _col(r, "shadow_price_cny_per_ugm3", 1 / M) if "shadow_price_cny_per_ugm3" in r
          else [0.0] * len(r), ",.2f")
    return b.table("Receptors", "receptors.csv")


def measure_table(measures: pd.DataFrame, names: Names) -> Table:
    m = _sorted(measures, "cost_cny")
    b = _Builder()
    b.add("City", m["city"].astype(str))
    b.add("City name", [names.city(x) for x in m["city"]])
    b.add("Sector", m["sector"].astype(str))
    b.add("Measure", m["measure"].astype(str))
    b.add("Measure name", [names.measure(x) for x in m["measure"]])
    b.add("Application (% of the sector's base)", _col(m, "application", 100), ".1f")
    b.add("Cost (M CNY/yr)", _col(m, "cost_cny", 1 / M), ",.2f")
    for p in _pollutants(m):
        b.add(f"{species(p)} reduction (t/yr)", _col(m, f"reduction_t_{p}"), ",.0f")
    return b.table("Measures", "measures.csv")


def emission_cap_table(summary: dict) -> Table:
    caps = summary.get("emission_caps") or []
    b = _Builder()
    b.add("Entry", [c.get("entry") for c in caps])
    b.add("Pollutant", [c.get("pollutant") for c in caps])
    b.add("Zone", [c.get("zone") for c in caps])
    for key, header in (("cap_t", "Cap (t/yr)"), ("baseline_t", "Baseline (t/yr)"),
                        ("final_t", "After the plan (t/yr)")):
        b.add(header, [_finite(c.get(key)) for c in caps], ",.0f")
    b.add("Binds", [(_finite(c.get("shadow_price_cny_per_t")) or 0) > 0 for c in caps])
    b.add("Marginal cost (CNY/t)", [_finite(c.get("shadow_price_cny_per_t")) for c in caps], ",.0f")
    return b.table("Emission caps", "summary.json")


def cost_cap_table(summary: dict, cities: pd.DataFrame | None, names: Names) -> Table:
    caps = summary.get("cost_caps") or []
    burden = {}
    if cities is not None and "burden" in cities:
        burden = {str(c): _finite(v) for c, v in zip(cities["city"], cities["burden"])}
    b = _Builder()
    b.add("Entry", [c.get("entry") for c in caps])
    b.add("Rule", [c.get("rule") for c in caps])
    b.add("City", [str(c.get("city")) for c in caps])
    b.add("Name", [names.city(c.get("city")) for c in caps])
    b.add("Cap (% of GDP)", [_scaled(c.get("max_share_of_gdp"), 100) for c in caps], ".3f")
    b.add("Burden (% of GDP)", [_scaled(burden.get(str(c.get("city"))), 100) for c in caps], ".3f")
    b.add("Binds", [(_finite(c.get("shadow_price_cny_per_cny")) or 0) > 0 for c in caps])
    b.add("Marginal cost (CNY/yr per CNY/yr of allowance)",
          [_finite(c.get("shadow_price_cny_per_cny")) for c in caps], ",.3f")
    return b.table("Cost caps", "summary.json")


def _scaled(v, factor: float):
    x = _finite(v)
    return None if x is None else _times(x, factor)


def _where(rule: dict, names: Names) -> str:
    """Where a rule binds, city ids with their names."""
    binding = [str(w) for w in rule.get("binding") or []]
    if binding == ["zone"]:  # an emission cap
        return (f"the {species(rule.get('pollutant'))} emissions of {_zone(rule.get('zone'))} are "
                f"at the cap; a cap 1 t/yr tighter would cost "
                f"{num(rule.get('shadow_price_cny_per_t'), ',.0f')} CNY/yr more")
    if binding == ["population"]:
        return "the population-weighted mean is at its limit"
    return ", ".join(names.labelled(w) if names.city(w) else w for w in binding)


def rule_table(summary: dict, names: Names) -> Table:
    sc = summary.get("scenario_resolved") or {}
    entries = {f"targets[{i}]": target_sentence(t, names)
               for i, t in enumerate(sc.get("targets") or []) if isinstance(t, dict)}
    entries.update({f"fairness[{i}]": rule_sentence(r, names)
                    for i, r in enumerate(sc.get("fairness") or []) if isinstance(r, dict)})
    rules = summary.get("rules") or []
    b = _Builder()
    b.add("Entry", [r.get("entry") for r in rules])
    b.add("Rule", [r.get("rule") for r in rules])
    b.add("Asks", [entries.get(r.get("entry"), "") for r in rules])
    b.add("Binds", [bool(r.get("binds")) for r in rules])
    b.add("Where it binds, or why not", [
        _where(r, names) if r.get("binds") else r.get("note") or
        "does not bind: the plan meets it with room to spare, so it changes nothing"
        for r in rules])
    return b.table("Rules", "summary.json")


def summary_table(f: Folder) -> Table:
    """The Summary sheet: one row per quantity, its value (a number where it is one) and
    its unit, then the question in words."""
    s = f.summary
    fair = s.get("fairness") or {}
    region = s.get("region") or {}
    sc = s.get("scenario_resolved") or {}
    total = _finite(s.get("total_cost_cny"))
    rows = [
        ("Scenario", s.get("scenario"), ""),
        ("Description", sc.get("description") or "", ""),
        ("Region", region.get("name"), ""),
        ("Year", region.get("year"), ""),
        ("Status", s.get("status"), ""),
        ("Solver message", s.get("message"), ""),
        ("Total cost", _scaled(total, 1 / M), "M CNY/yr"),
        ("Total cost in bn", _scaled(total, 1 / BN), "bn CNY/yr"),
        ("Total cost as a share of regional GDP", _scaled(fair.get("regional_burden"), 100), "% of GDP"),
        ("Largest city burden", _scaled(fair.get("max_burden"), 100), "% of GDP"),
        ("Smallest city burden", _scaled(fair.get("min_burden"), 100), "% of GDP"),
        ("Mean city burden", _scaled(fair.get("mean_burden"), 100), "% of GDP"),
        ("Gini of burden", _finite(fair.get("gini_burden")), "0–1"),
        ("Gini of cost per person", _finite(fair.get("gini_cost_per_capita")), "0–1"),
        ("Targets attained", s.get("targets_attained"), "targeted (metric, receptor) rows"),
        ("Targets in total", s.get("targets_total"), "targeted (metric, receptor) rows"),
        ("Price of fairness", _scaled(s.get("price_of_fairness"), 100), "% over the least cost"),
        ("Least cost without the fairness rules", _scaled(s.get("least_cost_cny"), 1 / M), "M CNY/yr"),
    ]
    if "best_objective_cny" in s:
        rows.append(("Best objective found (not proven optimal)",
                     _scaled(s.get("best_objective_cny"), 1 / M), "M CNY/yr"))
    rows += [(f"Question: {label}", text, "") for label, text in question(s, f.names)]
    rows += [(f"Warning {i}", w, "") for i, w in enumerate(s.get("warnings") or [], start=1)]
    rows += [("fairshare version", (s.get("versions") or {}).get("fairshare"), ""),
             ("Solver", " ".join(str(v) for v in ((s.get("solver") or {}).get("name"),
                                                 (s.get("solver") or {}).get("version")) if v), "")]
    kept = [(k, v, u) for k, v, u in rows if v is not None and v != ""]
    b = _Builder()
    b.add("Item", [k for k, _, _ in kept])
    b.add("Value", [v for _, v, _ in kept])
    b.add("Unit", [u for _, _, u in kept])
    return b.table("Summary", "summary.json")


def below_mtfr_table(diagnosis: dict, names: Names) -> Table:
    rows = diagnosis.get("targets_below_mtfr") or []
    b = _Builder()
    b.add("Entry", [r.get("entry") for r in rows])
    b.add("Metric", [r.get("metric") for r in rows])
    b.add("Receptor", [str(r.get("receptor")) for r in rows])
    b.add("Name", [names.city(r.get("receptor")) for r in rows])
    b.add("Target (µg/m³)", [_finite(r.get("target_ugm3")) for r in rows], ",.2f")
    b.add("Lowest reachable, MTFR (µg/m³)", [_finite(r.get("mtfr_ugm3")) for r in rows], ",.2f")
    return b.table("Targets below MTFR", "diagnosis.json")


MUST_GIVE = {
    "rules_must_give": "Rules must give",
    "targets_must_give": "Targets must give",
}


def must_give_table(diagnosis: dict, key: str, names: Names) -> Table:
    rows = (diagnosis.get(key) or {}).get("relaxations") or []
    b = _Builder()
    b.add("Entry", [r.get("entry") for r in rows])
    b.add("Rule", [r.get("rule") for r in rows])
    b.add("Subject", [r.get("subject") for r in rows])
    b.add("Name", [names.city(r.get("subject")) for r in rows])  # a city rule's subject is a city
    b.add("Must give by", [_finite(r.get("amount")) for r in rows], ",.4g")
    b.add("Bound now", [_finite(r.get("now")) for r in rows], ",.4g")
    b.add("Bound needed", [_finite(r.get("needed")) for r in rows], ",.4g")
    b.add("Unit", [r.get("unit") for r in rows])
    b.add("What to change", [r.get("fix") for r in rows])
    b.add("File", [r.get("file") for r in rows])
    b.add("Line", [r.get("line") for r in rows], "d")
    return b.table(MUST_GIVE[key], "diagnosis.json")


# Pareto and comparison columns: file column -> (header, factor, format).
FRONT_COLUMNS = {
    "point": ("Point", 1, "d"), "sweep": ("Sweep", None, None),
    "status": ("Status", None, None),
    "total_cost_cny": ("Total cost (M CNY/yr)", 1 / M, ",.2f"),
    "gamma": ("Gap closure γ (0–1)", 1, ".3f"),
    "max_burden": ("Largest burden (% of GDP)", 100, ".3f"),
    "min_burden": ("Smallest burden (% of GDP)", 100, ".3f"),
    "mean_burden": ("Mean burden (% of GDP)", 100, ".3f"),
    "regional_burden": ("Regional burden (% of GDP)", 100, ".3f"),
    "band_burden": ("Largest distance from the regional burden (% of GDP)", 100, ".3f"),
    "gini_burden": ("Gini of burden (0–1)", 1, ".3f"),
    "gini_cost_per_capita": ("Gini of cost per person (0–1)", 1, ".3f"),
    "pop_weighted_ugm3": ("Population-weighted concentration (µg/m³)", 1, ",.2f"),
    "non_dominated": ("Non-dominated", None, None),
    "solve_seconds": ("Solve time (s)", 1, ",.3f"), "iterations": ("Iterations", 1, ",.0f"),
    "error": ("Error", None, None),
}
# The bound of each sweep, in the unit of its metric.
EPSILON = {"max_burden": ("Bound on the largest burden (% of GDP)", 100, ".3f"),
           "band_burden": ("Bound on the distance from the regional burden (% of GDP)", 100, ".3f"),
           "band": ("Bound on the distance from the regional burden (% of GDP)", 100, ".3f"),
           "gini": ("Bound on the Gini of burden (0–1)", 1, ".3f"),
           "target": ("Gap closure γ (0–1)", 1, ".3f")}


def front_kind(front: pd.DataFrame) -> str:
    kinds = sorted(set(front["sweep"].dropna().astype(str))) if "sweep" in front else []
    return "target" if "gamma" in front.columns or kinds == ["target"] else \
        (kinds[0] if len(kinds) == 1 else "")


def _add_file_column(b: _Builder, frame: pd.DataFrame, col: str, header: str, factor, fmt) -> None:
    if col == "non_dominated":
        b.add(header, [_yes_no(v) for v in frame[col]])
    elif factor is None:
        b.add(header, [None if pd.isna(v) else str(v) for v in frame[col]])
    else:
        b.add(header, _col(frame, col, factor), fmt)


def pareto_table(front: pd.DataFrame) -> Table:
    b = _Builder()
    kind = front_kind(front)
    for col in front.columns:
        if col == "epsilon":
            if kind == "target" and "gamma" in front.columns:
                continue  # the same numbers as gamma
            header, factor, fmt = EPSILON.get(kind, ("Bound (unit of the metric)", 1, ",.4g"))
        else:
            header, factor, fmt = FRONT_COLUMNS.get(col, (col, None, None))
            if factor is None and col not in FRONT_COLUMNS and pd.api.types.is_numeric_dtype(front[col]):
                factor, fmt = 1, ",.4g"  # an unknown number column keeps its name and number
        _add_file_column(b, front, col, header, factor, fmt)
    return b.table("Pareto front", "pareto.csv")


COMPARE_COLUMNS = {
    "scenario": ("Scenario", None, None), "description": ("Description", None, None),
    "status": ("Status", None, None),
    "total_cost_bn_cny": ("Total cost (M CNY/yr)", 1000, ",.2f"),
    "min_city_cost_bn_cny": ("Smallest city cost (M CNY/yr)", 1000, ",.2f"),
    "max_city_cost_bn_cny": ("Largest city cost (M CNY/yr)", 1000, ",.2f"),
    "max_burden_pct": ("Largest burden (% of GDP)", 1, ".3f"),
    "min_burden_pct": ("Smallest burden (% of GDP)", 1, ".3f"),
    "regional_burden_pct": ("Regional burden (% of GDP)", 1, ".3f"),
    "gini_burden": ("Gini of burden (0–1)", 1, ".3f"),
    "gini_cost_per_capita": ("Gini of cost per person (0–1)", 1, ".3f"),
    "price_of_fairness_pct": ("Price of fairness (% over the least cost)", 1, "+.1f"),
    "error": ("Error", None, None),
}


def _compare_header(col: str) -> tuple[str, float | None, str | None]:
    if col in COMPARE_COLUMNS:
        return COMPARE_COLUMNS[col]
    m = re.fullmatch(r"(attained|targets)_(.+)", col)
    if m:
        what = "Targets" if m.group(2) in ("attained", "total") else f"{species(m.group(2))} targets"
        return f"{what} {'attained' if 'attained' in (m.group(1), m.group(2)) else 'in total'}", 1, ",.0f"
    m = re.fullmatch(r"pop_weighted_(.+)_ugm3", col)
    if m:
        return f"Population-weighted {species(m.group(1))} after the plan (µg/m³)", 1, ",.2f"
    m = re.fullmatch(r"reduction_t_(.+)", col)
    if m:
        return f"{species(m.group(1))} reduction (t/yr)", 1, ",.0f"
    m = re.fullmatch(r"reduction_pct_(.+)", col)
    if m:
        return f"{species(m.group(1))} reduction (% of the regional emissions)", 1, ".1f"
    return col, None, None


def compare_table(table: pd.DataFrame) -> Table:
    """One row per option; a "k/n" count becomes two number columns (a spreadsheet would
    read "28/28" as a date)."""
    b = _Builder()
    for col in table.columns:
        counts = col == "targets_attained" or col.startswith("attained_")
        if counts and not pd.api.types.is_numeric_dtype(table[col]):  # "k/n" of older files
            what = "Targets" if col == "targets_attained" else f"{species(col[len('attained_'):])} targets"
            pairs = [_k_of_n(v) for v in table[col]]
            b.add(f"{what} attained", [k for k, _ in pairs], "d")
            b.add(f"{what} in total", [n for _, n in pairs], "d")
            continue
        header, factor, fmt = _compare_header(col)
        if factor is None and col not in COMPARE_COLUMNS and pd.api.types.is_numeric_dtype(table[col]):
            factor, fmt = 1, ",.4g"
        _add_file_column(b, table, col, header, factor, fmt)
    return b.table("Comparison", "compare.csv")


def tables_of(f: Folder) -> list[Table]:
    """Every display table of a folder, in the order of the report and the workbook."""
    if f.kind == "pareto":
        return [pareto_table(f.tables["pareto"])]
    if f.kind == "compare":
        return [compare_table(f.tables["compare"])]
    out = [summary_table(f)]
    t = f.tables
    if "cities" in t:
        out.append(city_table(t["cities"], f.names))
    if "receptors" in t and f.summary.get("status") == "optimal":
        out.append(receptor_table(t["receptors"], f.names))
    if "measures" in t:
        out.append(measure_table(t["measures"], f.names))
    if f.summary.get("status") == "optimal":
        out.append(emission_cap_table(f.summary))
        if f.summary.get("cost_caps"):  # only scenarios with burden caps or ability to pay
            out.append(cost_cap_table(f.summary, t.get("cities"), f.names))
        out.append(rule_table(f.summary, f.names))
    if f.diagnosis:
        out.append(below_mtfr_table(f.diagnosis, f.names))
        out += [must_give_table(f.diagnosis, k, f.names) for k in MUST_GIVE if f.diagnosis.get(k)]
    return out


# --- HTML -----------------------------------------------------------------------------------------

e = html.escape  # every text from a file goes through this

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif;
 color:#111;background:#fff;max-width:1180px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:34px 0 8px;border-bottom:2px solid #222;
 padding-bottom:3px}h3{font-size:16px;margin:20px 0 6px}
p.lead{margin:2px 0 0;color:#333}.meta{color:#555;font-size:13px}
.status{display:inline-block;padding:1px 8px;border:1.5px solid #111;border-radius:3px;font-weight:600}
.status.bad{background:#111;color:#fff}
ul.question{margin:6px 0;padding-left:0;list-style:none}
ul.question li{margin:3px 0}ul.question .k{display:inline-block;min-width:92px;color:#555;
 font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:10px;margin:8px 0}
.card{border:1.5px solid #222;border-radius:4px;padding:8px 12px}
.card .label{font-size:13px;color:#444}.card .value{font-size:24px;font-weight:700;margin:2px 0}
.card .sub{font-size:12.5px;color:#444}
.wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;margin:6px 0 4px}
th,td{border-bottom:1px solid #bbb;padding:3px 8px;vertical-align:top;text-align:left}
th{border-bottom:2px solid #222;background:#f2f2f2;font-weight:600}
tbody th{border-bottom:1px solid #bbb}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.more td{color:#555;font-style:italic;border-bottom:none}
.note{color:#444;font-size:13px;margin:2px 0 10px}
.warn{border-left:4px solid #111;padding:4px 10px;background:#f6f6f6;margin:6px 0}
figure{margin:14px 0 22px;break-inside:avoid;page-break-inside:avoid}
figure img{max-width:100%;height:auto;border:1px solid #ccc}
figcaption{font-size:13px;color:#444}
footer{margin-top:40px;border-top:1px solid #999;padding-top:6px;color:#555;font-size:12px}
@media print{body{max-width:none;padding:0;font-size:11pt}h2{break-after:avoid;page-break-after:avoid}
 table,.card,section.keep{break-inside:avoid;page-break-inside:avoid}.wrap{overflow:visible}
 a{color:inherit;text-decoration:none}}
@page{size:A4;margin:14mm}
"""

# Nothing may load: no scripts, no fonts, no network; images only from data: URLs.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<link rel=\"icon\" href=\"data:,\">\n"  # no favicon request from file://
            f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
            "</body>\n</html>\n")


def _cell(value, fmt: str | None) -> str:
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "<td class=\"n\">–</td>" if fmt else "<td></td>"
    if fmt and _finite(value) is not None:
        return f"<td class=\"n\">{e(num(value, fmt))}</td>"
    return f"<td>{e(str(value))}</td>"


def html_table(t: Table, limit: int | None = TOP_ROWS, rows: pd.DataFrame | None = None) -> str:
    """The table's first ``limit`` rows ("… N more rows" after them), all when it is
    short; an empty table says so."""
    frame = _with_labels(t.frame if rows is None else rows)
    if not len(frame):
        return "<p class=\"note\">(none)</p>"
    shown = frame if limit is None or len(frame) <= max(limit, SHOW_ALL_UP_TO) else frame.head(limit)
    head = "".join(f"<th>{e(h)}</th>" for h in frame.columns)
    body = ["<tr>" + "".join(_cell(v, t.formats.get(h)) for h, v in zip(frame.columns, row))
            + "</tr>" for row in shown.itertuples(index=False, name=None)]
    more = len(frame) - len(shown)
    if more:
        where = f": see {t.source} and results.xlsx" if t.source else ""
        body.append(f"<tr class=\"more\"><td colspan=\"{len(frame.columns)}\">… {more:,} more "
                    f"rows{e(where)}</td></tr>")
    return (f"<div class=\"wrap\"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
            + "\n".join(body) + "\n</tbody></table></div>")


def _cards(cards: list[tuple[str, str, str]]) -> str:
    return "<div class=\"cards\">" + "".join(
        f"<div class=\"card\"><div class=\"label\">{e(label)}</div>"
        f"<div class=\"value\">{e(value)}</div><div class=\"sub\">{e(sub)}</div></div>"
        for label, value, sub in cards) + "</div>"


def _section(title: str, inner: str, anchor: str = "") -> str:
    ident = f" id=\"{e(anchor)}\"" if anchor else ""
    return f"<section{ident}>\n<h2>{e(title)}</h2>\n{inner}\n</section>"


# Plot files in reading order; any other PNG follows, sorted by name.
PLOT_ORDER = ["cost_by_city", "burden_by_city", "concentrations_", "city_map", "pareto", "compare"]
PLOT_CAPTIONS = {
    "cost_by_city": "Annual cost of each city's measures.",
    "burden_by_city": "Each city's cost as a share of its GDP, with the scenario's burden cap or band.",
    "city_map": "Cities on the map, sized by their cost.",
    "pareto": "The front: least total cost against the fairness metric (or the ambition).",
    "compare": "The options side by side.",
}


def _plot_key(path: Path) -> tuple[int, str]:
    stem = path.stem
    rank = next((i for i, p in enumerate(PLOT_ORDER) if stem == p or
                 (p.endswith("_") and stem.startswith(p))), len(PLOT_ORDER))
    return rank, stem


def plots_html(folder: Path) -> str:
    """Every PNG plot of the folder, embedded (base64), with a caption."""
    pngs = sorted((p for p in folder.glob("*.png") if not p.name.startswith(".") and p.is_file()),
                  key=_plot_key)
    figures = []
    for p in pngs:
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        caption = PLOT_CAPTIONS.get(p.stem) or (
            f"{species(p.stem[len('concentrations_'):])}: baseline, after the plan, target and "
            "the lowest reachable (MTFR) at each receptor." if p.stem.startswith("concentrations_")
            else p.stem)
        figures.append(f"<figure><img alt=\"{e(p.stem)}\" src=\"data:image/png;base64,{data}\">"
                       f"<figcaption>{e(p.name)}: {e(caption)}</figcaption></figure>")
    return "\n".join(figures) or "<p class=\"note\">No plots in this folder (only an optimal result "\
        "has plots; `fairshare plot` draws them).</p>"


# --- a scenario's result --------------------------------------------------------------------------


def roadmap_cards(s: dict) -> list[tuple[str, str, str]]:
    """A roadmap's headline: the present value, each period's cost, attainment, fairness
    of the path, and the cost of myopia when it was computed."""
    by_year = s.get("cost_by_year_cny") or {}
    attained = s.get("attained_by_year") or {}
    fair = s.get("fairness") or {}
    cards = [("Net present value", num(_scaled(s.get("npv_cny"), 1 / BN), ",.2f", "bn CNY"),
              f"discount rate {_g(s.get('discount_rate'), 100)}%/yr, {s.get('foresight')} foresight"),
             ("Cost by period", " · ".join(f"{y}: {num(_scaled(c, 1 / BN), ',.2f')}"
                                           for y, c in by_year.items()), "bn CNY/yr"),
             ("Targets attained", " · ".join(f"{y}: {a} of {n}" for y, (a, n) in attained.items()),
              "targeted (metric, receptor) rows at or below their limit, by year"),
             ("Largest burden over the path", num(_scaled(fair.get("max_burden"), 100), ".3f",
                                                  "% of GDP"),
              "present-value cost over present-value GDP")]
    myopia = (s.get("foresight_comparison") or {}).get("cost_of_myopia_cny")
    if myopia is not None:
        cards.append(("Cost of myopia", num(_scaled(myopia, 1 / BN), ",.3f", "bn CNY"),
                      "year-by-year planning against one plan for all years"))
    return cards


def headline_cards(f: Folder) -> list[tuple[str, str, str]]:
    s = f.summary
    if s.get("status") == "optimal" and "npv_cny" in s:
        return roadmap_cards(s)
    fair = s.get("fairness") or {}
    total = _finite(s.get("total_cost_cny"))
    if s.get("status") != "optimal" or total is None:
        best = _finite(s.get("best_objective_cny"))
        why = ("no plan meets every target and rule: the diagnosis below says what must give"
               if s.get("status") == "infeasible" else str(s.get("message") or ""))
        cards = [("Status", str(s.get("status")), why)]
        if "best_objective_cny" in s:
            cards.append(("Best objective found", num(_scaled(best, 1 / BN), ",.2f", "bn CNY/yr"),
                          "not proven optimal"))
        return cards
    cards = [("Total cost", num(total / BN, ",.2f", "bn CNY/yr"), f"{num(total / M, ',.2f')} M CNY/yr"),
             ("Share of regional GDP", num(_scaled(fair.get("regional_burden"), 100), ".3f", "% of GDP"),
              _burden_range(f)),
             ("Targets attained", f"{s.get('targets_attained', '–')} of {s.get('targets_total', '–')}",
              "targeted (metric, receptor) rows at or below their limit"),
             _fairness_card(s)]
    cards.append(("Gini of burden", num(fair.get("gini_burden"), ".3f"),
                  f"0 = every city pays the same share of its GDP; of cost per person "
                  f"{num(fair.get('gini_cost_per_capita'), '.3f')}"))
    return cards


def reductions_html(f: Folder) -> str:
    """The region's emission reductions, one line under the headline cards (kt/yr)."""
    reductions = _reductions_kt(f.tables.get("cities"))
    if not reductions:
        return ""
    last = f.tables.get("cities")
    when = f" in {int(last['year'].max())}" if last is not None and "year" in last else ""
    return (f"<p class=\"note\">Emission reductions of the region{when}: "
            + e(" · ".join(f"{species(p)} {num(v, ',.1f')}" for p, v in reductions)) + " kt/yr.</p>")


def _burden_range(f: Folder) -> str:
    fair = f.summary.get("fairness") or {}
    cities = f.tables.get("cities")
    who = ""
    if cities is not None and len(cities) and "burden" in cities:
        who = f" in {f.names.labelled(_sorted(cities, 'burden').iloc[0]['city'])}"
    return (f"largest {num(_scaled(fair.get('max_burden'), 100), '.3f')}%{who}; "
            f"smallest {num(_scaled(fair.get('min_burden'), 100), '.3f')}%")


def _fairness_card(s: dict) -> tuple[str, str, str]:
    pof = _finite(s.get("price_of_fairness"))
    if pof is None:
        return ("Price of fairness", "–", "no fairness rule or objective: this is the least-cost plan")
    return ("Price of fairness", num(100 * pof, "+.1f") + "%",
            f"over the least-cost plan, {num(_scaled(s.get('least_cost_cny'), 1 / BN), ',.2f')} bn CNY/yr")


def _reductions_kt(cities: pd.DataFrame | None) -> list[tuple[str, float]]:
    if cities is None or not len(cities):
        return []
    if "year" in cities:  # a roadmap: the reductions of its last period
        cities = cities[cities["year"] == cities["year"].max()]
    return [(p, float(pd.to_numeric(cities[f"reduction_t_{p}"], errors="coerce").sum()) / KT)
            for p in _pollutants(cities)]


def _question_html(f: Folder) -> str:
    items = "".join(f"<li><span class=\"k\">{e(k)}</span> {e(text)}</li>"
                    for k, text in question(f.summary, f.names))
    return f"<ul class=\"question\">{items}</ul>"


def _title_html(f: Folder) -> str:
    s = f.summary
    sc = s.get("scenario_resolved") or {}
    status = str(s.get("status"))
    region = s.get("region") or {}
    year = f" · year {region['year']}" if region.get("year") is not None else ""
    return (f"<header><h1>{e(str(s.get('scenario')))}</h1>"
            + (f"<p class=\"lead\">{e(str(sc['description']))}</p>" if sc.get("description") else "")
            + f"<p class=\"meta\">Status <span class=\"status{'' if status == 'optimal' else ' bad'}\">"
            f"{e(status)}</span> · region {e(str(region.get('name')))}{e(year)}</p></header>")


def _warnings_html(s: dict) -> str:
    ws = s.get("warnings") or []
    if not ws:
        return ""
    return _section("Warnings", "".join(f"<p class=\"warn\">{e(str(w))}</p>" for w in ws))


def _status_html(s: dict) -> str:
    """A limit or a failure: what happened and what to try (HiGHS's message)."""
    return _section("What happened", f"<p class=\"warn\">{e(str(s.get('message') or s.get('status')))}</p>"
                    "<p class=\"note\">No plan was proven optimal, so there are no tables or plots. "
                    "Raise <code>solver.time_limit_s</code>, try <code>solver.method: ipm</code>, or "
                    "look for extreme values in the region's tables.</p>")


def diagnosis_html(f: Folder) -> str:
    d = f.diagnosis or {}
    parts = []
    below = below_mtfr_table(d, f.names)
    parts.append("<h3>Targets below what every measure together can reach (MTFR)</h3>"
                 + ("<p class=\"note\">These limits cannot be met whatever else is done.</p>"
                    + html_table(below) if len(below.frame) else "<p class=\"note\">None.</p>"))
    intro = {"rules_must_give": "With every target kept, these rules would have to give",
             "targets_must_give": "With every rule kept, these targets would have to give"}
    for key, title in intro.items():
        stage = d.get(key)
        if not stage:
            continue
        if stage.get("status") != "optimal":
            parts.append(f"<h3>{e(title)}</h3><p class=\"note\">No plan exists even then "
                         f"({e(str(stage.get('status')))}).</p>")
            continue
        parts.append(f"<h3>{e(title)}</h3><p class=\"note\">Together, in the plan that breaks them "
                     "least; largest relative violation first.</p>" + _relaxations_html(stage, names=f.names))
    return _section("Why no plan meets every target and rule", "\n".join(parts), "diagnosis")


def _relaxations_html(stage: dict, names: Names) -> str:
    rows = stage.get("relaxations") or []
    b = _Builder()
    b.add("Entry", [r.get("entry") for r in rows])
    b.add("Where written", [f"{r.get('file')}, line {r.get('line')}" if r.get("line") else
                            str(r.get("file") or "") for r in rows])
    b.add("Subject", [names.labelled(r.get("subject")) if names.city(r.get("subject"))
                      else r.get("subject") for r in rows])
    b.add("Must give by", [f"{num(r.get('amount'), ',.4g')} {r.get('unit') or ''}".strip() for r in rows])
    b.add("Bound now → needed", [f"{num(r.get('now'), ',.4g')} → {num(r.get('needed'), ',.4g')} "
                                 f"{r.get('unit') or ''}".strip() for r in rows])
    b.add("What to change", [r.get("fix") for r in rows])
    return html_table(b.table("", "diagnosis.json"))


def binding_html(f: Folder) -> str:
    """The targets and caps that shape the plan, with what tightening each would cost."""
    s = f.summary
    parts = []
    receptors = f.tables.get("receptors")
    if receptors is not None:
        rt = receptor_table(receptors, f.names)
        price = rt.frame["Marginal cost (M CNY/yr per µg/m³)"]
        binding = rt.frame[price.fillna(0) > 0]
        cols = ["Metric", "Receptor", "Name", "After the plan (µg/m³)", "Target (µg/m³)",
                "Marginal cost (M CNY/yr per µg/m³)"]
        parts.append(f"<h3>Binding concentration targets ({len(binding)} of "
                     f"{int(rt.frame['Target (µg/m³)'].notna().sum())})</h3>"
                     "<p class=\"note\">Marginal cost: what 1 µg/m³ tighter would add to the total "
                     "cost.</p>" + html_table(rt, rows=binding[cols]))
    caps = emission_cap_table(s)
    if len(caps.frame):
        parts.append("<h3>Emission caps</h3><p class=\"note\">Marginal cost: what a cap 1 t/yr "
                     "tighter would add to the total cost.</p>" + html_table(caps))
    cost = cost_cap_table(s, f.tables.get("cities"), f.names)
    if len(cost.frame):
        binding = cost.frame[cost.frame["Binds"]]
        parts.append(f"<h3>Burden caps that bind ({len(binding)} of {len(cost.frame)} city caps)</h3>"
                     "<p class=\"note\">Marginal cost: total cost added per CNY/yr of allowance "
                     "taken from the city.</p>" + html_table(cost, rows=binding.drop(columns=["Binds"])))
    rules = rule_table(s, f.names)
    parts.append("<h3>Every target and rule: does it bind?</h3>"
                 "<p class=\"note\">A rule that does not bind changes nothing in this plan (its "
                 "bound may be looser than meant).</p>" + html_table(rules, limit=None))
    return _section("Binding targets and caps, with their marginal costs", "\n".join(parts), "binding")


def result_page(f: Folder) -> str:
    s = f.summary
    status = s.get("status")
    body = [_title_html(f),
            _section("The question", _question_html(f), "question"),
            _section("Headline", _cards(headline_cards(f)) + reductions_html(f), "headline"),
            _warnings_html(s)]
    if status == "infeasible":
        body.append(diagnosis_html(f))
    elif status != "optimal":
        body.append(_status_html(s))
    else:
        body += [_section("Tables", _tables_html(f), "tables"),
                 _section("Plots", plots_html(f.path), "plots"), binding_html(f)]
    body.append(_footer(f))
    return _page(f"fairshare report: {s.get('scenario')}", "\n".join(x for x in body if x))


TABLE_NOTES = {"Cities": "Largest cost first; reductions as % of each city's emissions are in "
                         "results.xlsx.",
               "Receptors": "Targeted receptors first, largest marginal cost first.",
               "Measures": "The measures applied, largest cost first."}


def _tables_html(f: Folder) -> str:
    """Cities, receptors and measures: the first rows, the page's width (the % columns of
    the cities table are left to the workbook)."""
    out = []
    for t in tables_of(f):
        if t.name not in TABLE_NOTES:
            continue
        rows = t.frame.drop(columns=[c for c in t.frame.columns if "% of the city's" in c])
        out.append(f"<h3>{e(t.name)}</h3><p class=\"note\">{e(TABLE_NOTES[t.name])} All rows: "
                   f"{e(t.source)} and results.xlsx.</p>" + html_table(t, rows=rows))
    return "\n".join(out)


# (id column, its name column) pairs that the page shows as one "Name (id)" column, to keep
# wide tables within the page; the workbook keeps them apart, for filtering.
LABELS = [("City", "Name"), ("Receptor", "Name"), ("City", "City name"), ("Measure", "Measure name")]


def _with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for ident, name in LABELS:
        if ident in out.columns and name in out.columns:
            out[ident] = [f"{n} ({i})" if isinstance(n, str) and n and n != i else i
                          for i, n in zip(out[ident], out[name])]
            out = out.drop(columns=[name])
    return out


def _footer(f: Folder) -> str:
    v = (f.summary.get("versions") or {}) if f.kind == "result" else {}
    made = f"fairshare {v.get('fairshare')}, HiGHS {v.get('highs')}" if v else "fairshare"
    files = sorted(p.name for p in f.path.glob("*")
                   if p.suffix in (".csv", ".json") and not p.name.startswith("."))
    return (f"<footer>Written by {e(made)} from the files of this folder ({e(', '.join(files))}). "
            "Files keep base units (CNY/yr, t/yr, µg/m³, fractions of GDP); this page and "
            "results.xlsx show costs in M CNY/yr, burdens in % of GDP.</footer>")


# --- Pareto and comparison folders ----------------------------------------------------------------


SWEEP_WORDS = {
    "max_burden": "the largest burden (cost / GDP of the worst-off city)",
    "band": "the largest distance of a city's burden from the regional burden",
    "gini": "the Gini coefficient of burdens",
    "target": "the ambition: every targeted limit at baseline − γ × (baseline − MTFR)",
}


# Left to pareto.csv and results.xlsx, to keep the page's table within its width.
PARETO_PAGE_DROPS = ["Sweep", "Solve time (s)", "Iterations"]


def pareto_page(f: Folder) -> str:
    front = f.tables["pareto"]
    kind = front_kind(front)
    t = pareto_table(front)
    optimal = front[front["status"].astype(str) == "optimal"] if "status" in front else front.iloc[:0]
    question_text = (
        f"The least total cost as γ rises from 0 (the baseline) to 1 (every receptor at its MTFR), "
        f"in {len(front)} points." if kind == "target" else
        f"The least total cost with {SWEEP_WORDS.get(kind, kind)} bounded, from its value in the "
        f"least-cost plan down to the lowest reachable, in {len(front)} points. Every point "
        "minimises total cost; the scenario's targets and rules hold at each.")
    body = [f"<header><h1>Pareto front: {e(f.name)}</h1></header>",
            _section("The question", f"<p>{e(question_text)}</p>", "question"),
            _section("Headline", _cards(_pareto_cards(front, optimal, kind)), "headline"),
            _section("Points", html_table(t, rows=t.frame.drop(columns=PARETO_PAGE_DROPS, errors="ignore")),
                     "tables"),
            _section("Plot", plots_html(f.path), "plots"), _footer(f)]
    return _page(f"fairshare report: {f.name}", "\n".join(body))


def _pareto_cards(front: pd.DataFrame, optimal: pd.DataFrame, kind: str) -> list[tuple[str, str, str]]:
    cards = [("Points solved", f"{len(optimal)} of {len(front)}", "optimal points of the sweep")]
    if not len(optimal):
        return cards
    first, last = optimal.iloc[0], optimal.iloc[-1]
    c0, c1 = _finite(first.get("total_cost_cny")), _finite(last.get("total_cost_cny"))
    cards.append(("Total cost, first point → last", f"{num(_scaled(c0, 1 / BN), ',.2f')} → "
                  f"{num(_scaled(c1, 1 / BN), ',.2f')} bn CNY/yr",
                  "least-cost plan → fairest reachable" if kind != "target" else "γ = 0 → γ = 1"))
    if kind == "target" and "pop_weighted_ugm3" in optimal:
        cards.append(("Population-weighted concentration",
                      f"{num(first['pop_weighted_ugm3'], ',.1f')} → "
                      f"{num(last['pop_weighted_ugm3'], ',.1f')} µg/m³",
                      "first point → last"))
    elif kind in ("max_burden", "band", "gini"):
        col = {"max_burden": "max_burden", "band": "band_burden", "gini": "gini_burden"}[kind]
        factor, unit = (1, "") if kind == "gini" else (100, "% of GDP")
        if col in optimal:
            cards.append((FRONT_COLUMNS[col][0].split(" (")[0],
                          f"{num(_scaled(first[col], factor), '.3f')} → "
                          f"{num(_scaled(last[col], factor), '.3f')} {unit}".rstrip(),
                          "first point → last"))
    if c0 and c1 is not None and kind != "target":
        cards.append(("Price of the fairest point", num(100 * (c1 / c0 - 1), "+.1f") + "%",
                      "over the least-cost plan"))
    return cards


def compare_page(f: Folder) -> str:
    table = f.tables["compare"]
    t = compare_table(table)
    lines = "".join(f"<li><span class=\"k\">{e(_text(r.get('scenario')))}</span> "
                    f"{e(_text(r.get('description')))}</li>"
                    for r in table.to_dict("records"))
    body = [f"<header><h1>Comparison: {e(f.name)}</h1></header>",
            _section("The question", f"<p>{len(table)} roadmap options side by side, each solved "
                     f"on its own:</p><ul class=\"question\">{lines}</ul>", "question"),
            _section("Headline", _cards(_compare_cards(table)), "headline"),
            _section("The options side by side", _transposed_html(t), "tables"),
            _section("Plot", plots_html(f.path), "plots"), _footer(f)]
    return _page(f"fairshare report: {f.name}", "\n".join(body))


def _compare_cards(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    cards = []
    for r in table.to_dict("records"):
        cost = _finite(r.get("total_cost_bn_cny"))
        k, n = _k_of_n(r.get("targets_attained"))  # "k/n" in older files, two numbers now
        if n is None and _finite(r.get("targets_total")) is not None:
            k, n = int(_finite(r.get("targets_attained")) or 0), int(_finite(r["targets_total"]))
        pof = _finite(r.get("price_of_fairness_pct"))
        if r.get("status") != "optimal" or cost is None:
            cards.append((_text(r.get("scenario")), _text(r.get("status")), "no plan: see its own run"))
            continue
        sub = f"{k} of {n} targets attained" if n is not None else ""
        sub += f"; price of fairness {num(pof, '+.1f')}%" if pof is not None else ""
        cards.append((_text(r.get("scenario")), num(cost, ",.2f", "bn CNY/yr"), sub))
    return cards


def _transposed_html(t: Table) -> str:
    """Options as columns, quantities as rows: reads like the README's comparison."""
    frame = t.frame
    names = [str(v) for v in frame["Scenario"]] if "Scenario" in frame else [str(i) for i in frame.index]
    head = "<th>Quantity</th>" + "".join(f"<th>{e(n)}</th>" for n in names)
    rows = []
    for col in frame.columns:
        if col in ("Scenario", "Description"):
            continue
        cells = "".join(_cell(v, t.formats.get(col)) for v in frame[col])
        rows.append(f"<tr><th>{e(col)}</th>{cells}</tr>")
    return (f"<div class=\"wrap\"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
            + "\n".join(rows) + "\n</tbody></table></div>")


# --- entry points ---------------------------------------------------------------------------------


def report_html(f: Folder) -> str:
    return {"result": result_page, "pareto": pareto_page, "compare": compare_page}[f.kind](f)


def write_report(folder: str | Path) -> Path:
    """Write ``report.html`` into a finished results, Pareto or comparison folder; return
    its path. Written under a hidden name and renamed, so no reader sees half a page."""
    f = read_folder(folder)
    path = f.path / REPORT_NAME
    tmp = f.path / f".{REPORT_NAME}.partial-{os.getpid()}"
    try:
        tmp.write_text(report_html(f), encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def result_html(result, top: int = 5) -> str:
    """A short HTML summary of an in-memory ``fairshare.results.Result`` for Jupyter's
    ``_repr_html_``: status, total cost, share of GDP, targets attained, price of
    fairness and the costliest cities. Inline styles only (notebooks drop <style>)."""
    f = folder_from_result(result)
    s = f.summary
    status = str(getattr(result.status, "value", result.status))
    head = (f"<div><strong>fairshare result: {e(str(result.scenario))}</strong> — "
            f"<code>{e(status)}</code>")
    cell = "style=\"padding:2px 8px;text-align:left;border-bottom:1px solid #ccc\""
    if status != "optimal":
        msg = e(str(getattr(result, "message", "") or s.get("message") or ""))
        return head + (f"<div>{msg}</div>" if msg else "") + "</div>"
    rows = "".join(f"<tr><th {cell}>{e(label)}</th><td {cell}>{e(value)}</td>"
                   f"<td {cell}>{e(sub)}</td></tr>" for label, value, sub in headline_cards(f)[:4])
    cities = f.tables.get("cities")
    top_rows = ""
    if cities is not None and len(cities):
        t = city_table(cities, f.names)
        shown = t.frame.head(top)
        top_rows = (f"<div style=\"margin-top:6px\">Costliest {len(shown)} of {len(t.frame)} cities:</div>"
                    "<table><tr>" + "".join(f"<th {cell}>{e(h)}</th>" for h in
                                           ("City", "Name", "Cost (M CNY/yr)", "Burden (% of GDP)"))
                    + "</tr>" + "".join(
                        f"<tr><td {cell}>{e(str(r['City']))}</td><td {cell}>{e(str(r['Name']))}</td>"
                        f"<td {cell}>{e(num(r['Cost (M CNY/yr)'], ',.2f'))}</td>"
                        f"<td {cell}>{e(num(r['Burden (% of GDP)'], '.3f'))}</td></tr>"
                        for r in shown.to_dict("records")) + "</table>")
    return head + f"<table>{rows}</table>{top_rows}</div>"
