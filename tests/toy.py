"""Tiny region packages written from Python dicts, for tests with hand-worked optima."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

# The toy's usual target: C_a <= 17 µg/m³, i.e. 5 x_a + x_b >= 3 (least cost: x_a = 0.6,
# 0.3 M CNY/yr).
TARGET_A = [{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}]


def write_region(folder: Path, *, cities, emissions, measures, efficiencies, transport=None,
                 concentrations=None, applicability=None, receptors=None,
                 name: str = "toy") -> Path:
    """Write a DESIGN §3 region folder; each table is a list of row dicts."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "region.yaml").write_text(yaml.safe_dump({"name": name, "base_year": 2020,
                                                        "description": "test region"}))
    tables = {"cities": cities, "emissions": emissions, "measures": measures,
              "efficiencies": efficiencies, "transport": transport,
              "concentrations": concentrations, "applicability": applicability,
              "receptors": receptors}
    for table, rows in tables.items():
        if rows is not None:
            pd.DataFrame(rows).to_csv(folder / f"{table}.csv", index=False)
    return folder


def city(cid, zone="z1", population=1e6, gdp_bn_cny=100.0, cost_factor=1.0, lat=39.0, lon=116.0):
    return {"city": cid, "name": cid.title(), "province": zone, "zone": zone, "lat": lat,
            "lon": lon, "population": population, "gdp_bn_cny": gdp_bn_cny,
            "cost_factor": cost_factor}


def measure(mid, sector="ind", group="g1", ref="PM25", cost=1000.0, max_application=1.0):
    return {"measure": mid, "sector": sector, "group": group, "name": mid, "ref_pollutant": ref,
            "cost_cny_per_t": cost, "max_application": max_application}


def two_city_region(folder: Path, **overrides) -> Path:
    """Two cities A and B, one sector, one pollutant, one measure (eff 0.5, 1000 CNY/t).

    Each city emits 1 kt PM25; T: own city 10, neighbour 2 µg/m³ per kt; C0 = 20 µg/m³.
    Full application in a city costs 0.5 M CNY and removes 0.5 kt.
    """
    spec = dict(
        cities=[city("a"), city("b", gdp_bn_cny=50.0)],
        emissions=[{"city": c, "sector": "ind", "pollutant": "PM25", "emission_t": 1000.0}
                   for c in "ab"],
        measures=[measure("m1")],
        efficiencies=[{"measure": "m1", "pollutant": "PM25", "efficiency": 0.5}],
        transport=[{"metric": "PM25", "receptor": r, "source": s, "pollutant": "PM25",
                    "coef_ugm3_per_kt": 10.0 if r == s else 2.0} for r in "ab" for s in "ab"],
        concentrations=[{"metric": "PM25", "receptor": r, "baseline_ugm3": 20.0} for r in "ab"],
    )
    spec.update(overrides)
    return write_region(folder, **spec)


def write_scenario(path: Path, region: Path, **keys) -> Path:
    doc = {"name": keys.pop("name", "toy"), "region": str(region), **keys}
    Path(path).write_text(yaml.safe_dump(doc, sort_keys=False))
    return Path(path)
