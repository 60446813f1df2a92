#!/usr/bin/env python3
"""Build the embedded ``jjj-2plus26`` region data package for fairshare.

Derives every table of the package (docs/region-data.md) from the public figures
in ``facts/`` plus the documented assumptions below.

    python models/jjj-2plus26/build_region.py            # write into this folder
    python models/jjj-2plus26/build_region.py --out DIR  # write elsewhere
    python models/jjj-2plus26/build_region.py --refit    # re-fit the transport
                                                         # kernel of each member,
                                                         # print the constants

Every constant is labelled FACT (a published figure, read from facts/), DERIVED
(arithmetic on facts) or ASSUMPTION (modelled; see README.md). The default build
runs no optimiser: the fitted kernel parameters are constants (FIT), and the one
iteration it runs (Beijing's local source mix) is a fixed number of deterministic
steps, so the output is byte-for-byte reproducible.

Years: 2025 is the base year (observed concentrations); 2030 and 2035 are
business as usual under current legislation. 2020 is the inventory year the
emissions are built for (from the public regional totals) and rolled forward
from; it is not shipped, but the model run backwards to 2020 is checked against
the 2020 observations (calibration.csv).
"""
from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FACTS_DIR = HERE / "facts"

POLLUTANTS = ["PM25", "SO2", "NOx", "NH3", "VOC"]
SECTORS = ["power", "steel", "cement", "industrial_boilers", "other_industry",
           "residential_heating", "residential_other", "transport", "agriculture",
           "dust"]
INVENTORY_YEAR = 2020
BASE_YEAR = 2025
YEARS = [2025, 2030, 2035]
MEMBERS = ["low", "central", "high"]
DEFAULT_MEMBER = "central"
JJJ_DOMAIN = ["beijing", "tianjin", "shijiazhuang", "tangshan", "langfang",
              "baoding", "cangzhou", "hengshui", "xingtai", "handan"]
PROVINCIAL_CAPITALS = {"shijiazhuang", "taiyuan", "jinan", "zhengzhou"}

# --------------------------------------------------------------------------
# Cities: population and GDP from statistics (facts/city_gdp_population_2023_2024.csv,
# facts/city_statistics_2022_fallback.csv, facts/cities.csv for the 2020 census)
# --------------------------------------------------------------------------
# ASSUMPTION: cost factor (labour, land and compliance costs) relative to 1.0.
COST_FACTOR = {"beijing": 1.30, "tianjin": 1.15, "shijiazhuang": 1.05,
               "taiyuan": 1.05, "jinan": 1.05, "zhengzhou": 1.05}

# --------------------------------------------------------------------------
# Emissions 2020 (inventory year)
# --------------------------------------------------------------------------
# ASSUMPTION: change of BTH emissions 2014 -> 2020, extrapolating the MEIC
# national trend (FACT: 2013->2017 SO2 -59%, NOx -21%, PM2.5 -33%; NMVOC +11%
# 2010->2017) with slower declines after 2017.
TREND_BTH_2014_TO_2020 = {"SO2": 0.40, "NOx": 0.78, "PM25": 0.62, "VOC": 0.95}
# ASSUMPTION: BTH share of China's agricultural NH3 and agriculture's share of NH3.
BTH_SHARE_OF_NATIONAL_AG_NH3 = 0.075
AGRICULTURE_SHARE_OF_NH3 = 0.88

# ASSUMPTION: crude-steel output 2020, Mt/yr, rounded (recalled from provincial
# and municipal yearbooks, NOT in facts/). Used only to place steel emissions.
STEEL_OUTPUT_MT = {
    "beijing": 0.0, "tianjin": 22.0, "shijiazhuang": 18.0, "tangshan": 140.0,
    "langfang": 3.0, "baoding": 1.0, "cangzhou": 6.0, "hengshui": 0.5,
    "xingtai": 16.0, "handan": 50.0, "zhangjiakou": 3.0, "chengde": 10.0,
    "qinhuangdao": 14.0, "taiyuan": 12.0, "yangquan": 1.0, "changzhi": 15.0,
    "jincheng": 6.0, "jinan": 12.0, "zibo": 3.0, "jining": 0.5, "dezhou": 0.5,
    "liaocheng": 3.0, "binzhou": 5.0, "heze": 0.5, "zhengzhou": 1.0,
    "kaifeng": 0.0, "anyang": 15.0, "hebi": 0.5, "xinxiang": 2.0,
    "jiaozuo": 0.5, "puyang": 0.0,
}
STEEL_PER_TONNE_FACTOR_2015_TO_2020 = 0.60  # ASSUMPTION (FACT: per-t halved 2018->2022)
STEEL_OUTPUT_GROWTH_2015_TO_2020 = 1.15     # ASSUMPTION
STEEL_PM25_FRACTION_OF_DUST = 0.35          # ASSUMPTION

# ASSUMPTION: split of the BTH 2020 total minus steel among the other sectors
# (each pollutant's shares sum to 1). "residential" is split below into the
# coal heating that clean heating can reach and the rest.
RESIDUAL_SECTOR_SHARES = {
    "SO2": {"power": 0.20, "cement": 0.05, "industrial_boilers": 0.30,
            "other_industry": 0.10, "residential": 0.33, "transport": 0.02},
    "NOx": {"power": 0.18, "cement": 0.10, "industrial_boilers": 0.12,
            "other_industry": 0.06, "residential": 0.04, "transport": 0.50},
    "PM25": {"power": 0.03, "cement": 0.10, "industrial_boilers": 0.10,
             "other_industry": 0.10, "residential": 0.35, "transport": 0.07,
             "dust": 0.25},
    "VOC": {"power": 0.005, "industrial_boilers": 0.02, "other_industry": 0.55,
            "residential": 0.15, "transport": 0.25, "agriculture": 0.025},
    "NH3": {"power": 0.02, "other_industry": 0.03, "residential": 0.04,
            "transport": 0.03, "agriculture": 0.88},
}
# ASSUMPTION: share of residential emissions from household coal/biomass heating
# that clean-heating programmes can reach (plains villages). The rest (cooking,
# mountain villages, human-waste NH3) is `residential_other`, which no measure of
# the catalogue treats. Fixes the old defect where the two heating measures,
# each capped at the untreated 0.8, could together treat 100% of the base.
HEATING_SHARE_OF_RESIDENTIAL = {"PM25": 0.8, "SO2": 0.85, "NOx": 0.7,
                                "VOC": 0.7, "NH3": 0.0}
# ASSUMPTION: urbanisation rate 2020 (7th census, recalled; not in facts/).
URBAN_SHARE = {"beijing": 0.87, "tianjin": 0.85, "hebei": 0.60,
               "shanxi": 0.63, "shandong": 0.63, "henan": 0.55}
CITY_URBAN_SHARE = {"shijiazhuang": 0.70, "taiyuan": 0.89, "jinan": 0.74,
                    "zhengzhou": 0.79}
SECTOR_PROXY = {"power": "pop", "steel": "steel", "cement": "pop",
                "industrial_boilers": "pop", "other_industry": "pop",
                "residential": "rural_pop", "transport": "pop",
                "agriculture": "rural_pop", "dust": "pop"}
# ASSUMPTION: provincial intensity multipliers of the activity proxies. Beijing's
# are then rescaled (BEIJING_MIX_CATEGORY) so its local PM2.5 source mix matches
# the official apportionment (round 3, 2020-21; facts/beijing_source_apportionment.csv).
PROVINCE_SECTOR_FACTOR = {
    "power": {"beijing": 0.15, "tianjin": 1.5, "hebei": 1.0, "shanxi": 2.0,
              "shandong": 1.5, "henan": 1.0},
    "cement": {"beijing": 0.1, "tianjin": 0.4, "hebei": 1.0, "shanxi": 1.0,
               "shandong": 1.0, "henan": 1.2},
    "industrial_boilers": {"beijing": 0.05, "tianjin": 1.0, "hebei": 1.0,
                           "shanxi": 1.5, "shandong": 1.1, "henan": 1.0},
    "other_industry": {"beijing": 0.25, "tianjin": 1.6, "hebei": 1.0,
                       "shanxi": 1.3, "shandong": 1.3, "henan": 1.0},
    "residential": {"beijing": 0.4, "tianjin": 0.8, "hebei": 1.0, "shanxi": 1.2,
                    "shandong": 0.9, "henan": 0.8},
    "transport": {"beijing": 0.6, "tianjin": 1.4, "hebei": 1.0, "shanxi": 1.2,
                  "shandong": 1.0, "henan": 0.9},
    "agriculture": {"beijing": 0.4, "tianjin": 0.8, "hebei": 1.0, "shanxi": 0.7,
                    "shandong": 1.2, "henan": 1.2},
    "dust": {"beijing": 0.5, "tianjin": 0.9, "hebei": 1.0, "shanxi": 1.0,
             "shandong": 1.0, "henan": 1.0},
}
CITY_SECTOR_FACTOR = {
    ("zibo", "other_industry"): 2.0, ("binzhou", "other_industry"): 1.5,
    ("puyang", "other_industry"): 1.5, ("yangquan", "industrial_boilers"): 1.5,
    ("jincheng", "industrial_boilers"): 1.5, ("changzhi", "other_industry"): 1.5,
}
# Beijing's local source categories of the official apportionment and the
# model sectors they map to (coal = coal combustion in power and boilers;
# other = agriculture and the rest).
BEIJING_MIX_CATEGORY = {
    "mobile": ["transport"], "residential": ["residential"], "dust": ["dust"],
    "industry": ["steel", "cement", "other_industry"],
    "coal": ["power", "industrial_boilers"], "other": ["agriculture"],
}
BEIJING_MIX_ITERATIONS = 60  # deterministic fixed-point steps

# --------------------------------------------------------------------------
# 2020 -> 2025 -> 2030 -> 2035
# --------------------------------------------------------------------------
# Measures carried out: cumulative share of the measure's 2020 remaining
# (untreated) base treated by the year, moved from the catalogue into the
# baseline. Each row names the FACT that supports it (facts/measures_costs.csv);
# the shares themselves are ASSUMPTIONS informed by those facts.
#   2025: what the 14th Five-Year Plan period (2021-25) carried out;
#   2030/2035: current legislation only (programmes already mandated).
CARRIED_OUT = {
    # coal power ULE: FACT 950 GW by 2020 + 170 GW in the 14th FYP (about all of it)
    "power_ule_so2": {2025: 0.9, 2030: 1.0, 2035: 1.0},
    "power_ule_nox": {2025: 0.9, 2030: 1.0, 2035: 1.0},
    "power_ule_pm": {2025: 0.9, 2030: 1.0, 2035: 1.0},
    # steel ULE: FACT 940 Mt crude steel in the 14th FYP (about all capacity)
    "steel_ule": {2025: 0.9, 2030: 1.0, 2035: 1.0},
    # cement ULE: FACT 470 Mt clinker in the 14th FYP (about a quarter of China's);
    # key regions first; ULE continues under the mandated programme
    "cement_ule": {2025: 0.4, 2030: 0.7, 2035: 0.9},
    # coking / other industry: FACT 360 Mt coking ULE in the 14th FYP
    "industry_deep_control": {2025: 0.5, 2030: 0.7, 2035: 0.85},
    # coal boilers: key-region phase-out of small coal boilers (ASSUMPTION)
    "boiler_replacement": {2025: 0.5, 2030: 0.6, 2035: 0.7},
    # old diesel trucks: FACT ~30 million old vehicles eliminated in the 14th FYP;
    # the rest of the National III fleet retires by 2030
    "diesel_truck_scrap": {2025: 0.7, 2030: 1.0, 2035: 1.0},
    # VOC: FACT 2023 Action Plan VOC -10% by 2025; product VOC-content standards
    "voc_low_voc_products": {2025: 0.2, 2030: 0.35, 2035: 0.5},
    "voc_coating_eop": {2025: 0.2, 2030: 0.3, 2035: 0.4},
    "voc_ldar": {2025: 0.4, 2030: 0.5, 2035: 0.6},
    "dust_control": {2025: 0.2, 2030: 0.2, 2035: 0.2},
}
# ASSUMPTION: share of the 2020 reachable coal heating converted (FACT: 17 million
# more clean-heating households in the 14th FYP after >25 million by 2020; the
# 2+26 plains first). No new programme after 2025 under current legislation.
HEATING_CONVERTED = {2025: 0.6, 2030: 0.6, 2035: 0.6}
HEATING_CONVERTED_CITY = {"beijing": 0.2, "tianjin": 0.5}
# ASSUMPTION: clean-heating mix of the conversions (gas : electricity) 1:1.
HEATING_MIX_GAS = 0.5
# ASSUMPTION: activity / fleet-turnover factors relative to 2020 (not measures of
# the catalogue): power generation, steel output cap, construction, China VI
# fleet turnover (transport), rural depopulation (heating attrition).
ACTIVITY = {
    "power": {2025: {"*": 1.05}, 2030: {"*": 1.0}, 2035: {"*": 0.9}},
    "steel": {2025: {"*": 1.0}, 2030: {"*": 0.95}, 2035: {"*": 0.9}},
    "cement": {2025: {"*": 0.85}, 2030: {"*": 0.75}, 2035: {"*": 0.7}},
    "industrial_boilers": {2025: {"*": 0.9}, 2030: {"*": 0.85}, 2035: {"*": 0.8}},
    "other_industry": {2025: {"*": 1.05}, 2030: {"*": 1.05}, 2035: {"*": 1.05}},
    "residential_heating": {2025: {"*": 0.97}, 2030: {"*": 0.88}, 2035: {"*": 0.8}},
    "residential_other": {2025: {"*": 0.95}, 2030: {"*": 0.9}, 2035: {"*": 0.85}},
    "transport": {2025: {"*": 1.0, "NOx": 0.9, "PM25": 0.8, "VOC": 0.85, "NH3": 1.1},
                  2030: {"*": 1.0, "NOx": 0.65, "PM25": 0.55, "VOC": 0.65, "NH3": 1.15},
                  2035: {"*": 1.0, "NOx": 0.5, "PM25": 0.45, "VOC": 0.55, "NH3": 1.2}},
    "agriculture": {2025: {"*": 0.98}, 2030: {"*": 0.96}, 2035: {"*": 0.94}},
    "dust": {2025: {"*": 0.95}, 2030: {"*": 0.95}, 2035: {"*": 0.95}},
}

# --------------------------------------------------------------------------
# Base-year concentrations (observations, facts/)
# --------------------------------------------------------------------------
# ASSUMPTION (switch): an observation of an earlier year is carried to 2025 with
# the regional trend of the 2+36 mean (FACT: 43 in 2023; 37.3 in 2025, -11.6% on
# 2024). Beijing's own 2024->2025 change (-11.5%) equals the regional one.
ADJUST_TO_BASE_YEAR = True
# ASSUMPTION: the relative level of each city without an observation: its 2020
# level in the previous build (MEE 2020 worst-city order, 2019-20 winter
# cleanest cities), scaled so the 28-city mean equals the regional 2025 mean.
RELATIVE_LEVEL_2020 = {
    "beijing": 38, "tianjin": 48, "shijiazhuang": 59, "tangshan": 56,
    "langfang": 45, "baoding": 51, "cangzhou": 49, "hengshui": 50,
    "xingtai": 54, "handan": 55, "taiyuan": 57, "yangquan": 49,
    "changzhi": 46, "jincheng": 47, "jinan": 48, "zibo": 54, "jining": 46,
    "dezhou": 50, "liaocheng": 52, "binzhou": 46, "heze": 50,
    "zhengzhou": 51, "kaifeng": 50, "anyang": 64, "hebi": 53,
    "xinxiang": 52, "jiaozuo": 53, "puyang": 52,
}
# ASSUMPTION: natural + hemispheric PM2.5 background (dust, sea salt, biogenic).
NATURAL_PM25_UGM3 = 5.0

# --------------------------------------------------------------------------
# Transport (source-receptor) matrix, PM2.5: an ensemble of three members
# --------------------------------------------------------------------------
# ASSUMPTION: potency of NMVOC (SOA) per tonne relative to SO2 (FACTS 7: 0.1-0.3).
VOC_PM25_POTENCY_REL_SO2 = 0.2
# ASSUMPTION: wind anisotropy: transport toward bearing THETA (NNE, polluted SW
# flow) is enhanced by (1 + alpha cos(bearing - THETA)); FACTS 7 recommends
# theta 20-40 deg; alpha is fitted per member within 0-0.5.
ANISO_THETA_DEG = 30.0
# ASSUMPTION: tall stacks export more of their plume (local weight of E*).
LOCAL_RETENTION = {"power": 0.2, "steel": 0.2, "cement": 0.5,
                   "industrial_boilers": 0.6, "other_industry": 0.7}
# ASSUMPTION: the outside-domain share of city r's anthropogenic PM2.5 rises
# toward the south: ext_r = ext_a * (1 + ext_b * z_r), z_r the city's latitude
# below the domain mean in standard deviations, kept within EXT_MIN..EXT_MAX
# (inside the published 2+26 range 14-53 %). Why: polluted air enters the
# domain from the Central Plains and the Fenwei basin under southerly flow,
# while the northern boundary borders clean mountains (FACT: Zhangjiakou 18,
# Chengde 25 ug/m3, 2023 Jan-Nov).
EXT_MIN, EXT_MAX = 0.15, 0.52
# What each member aims at (soft, after every published range holds):
# Beijing's local share (FACT: round 4 43 %, the central member; round 3's 58 %
# is above the 2+26 maximum of 47 %, so the low member goes toward it only as
# far as that range lets it), the 28-city mean local share and the mean
# outside share (ASSUMPTIONS that spread the members across the ranges).
MEMBER_AIM = {"low": {"beijing": 0.46, "mean_local": 0.43, "ext": 0.17},
              "central": {"beijing": 0.43, "mean_local": 0.37, "ext": 0.24},
              "high": {"beijing": 0.36, "mean_local": 0.29, "ext": 0.32}}
# FITTED (run --refit): kernel k(d) = 1/(1+(d/L)^p); local weight
# kappa * Ebar * (E*_local / Ebar)^gamma; anisotropy alpha; outside ext_a, ext_b.
FIT = {
    "low": {"L_km": 375.3, "p": 0.8, "kappa": 17.24, "gamma": 0.1, "alpha": 0.1625,
            "ext_a": 0.1366, "ext_b": 0.4138},
    "central": {"L_km": 400.0, "p": 0.8, "kappa": 17.41, "gamma": 0.1, "alpha": 0.146,
                "ext_a": 0.1, "ext_b": 2.928},
    "high": {"L_km": 400.0, "p": 0.8, "kappa": 14.47, "gamma": 0.4293, "alpha": 0.0,
             "ext_a": 0.1181, "ext_b": 3.0},
}
FIT_MARGIN = 0.005  # aim this far inside each published range
MIN_ABS_COEF = 1e-6  # drop |coef| below this (HiGHS drops < 1e-9)

# --------------------------------------------------------------------------
# Ozone (MDA8 90th percentile), from NOx and VOC only; the same in every member
# --------------------------------------------------------------------------
O3_BACKGROUND_UGM3 = 110.0  # ASSUMPTION: hemispheric + natural + outside domain
O3_L_KM = 200.0             # ASSUMPTION: O3 is regional
O3_P = 2.0
O3_ANISO_ALPHA = 0.3        # ASSUMPTION (FACTS 7: 0.3-0.5)
# ASSUMPTION: VOC-limited urban cores; the local NOx coefficient is
# (1 - TITRATION) times the regional one: negative in all six (TITRATION > 1).
O3_TITRATION = {"beijing": 2.5, "tianjin": 2.0, "shijiazhuang": 1.6,
                "jinan": 1.6, "zhengzhou": 1.3, "taiyuan": 1.2}

# --------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------
DISCOUNT_RATE = 0.08
CNY_PER_USD = 6.9  # ASSUMPTION: 2017-2020 average exchange rate
STEEL_LIFETIME_Y = 15
STEEL_OM_PER_ANNUALISED_CAPEX = 1.0
HEATING_LIFETIME_Y = 15
HEATING_TOTAL_PER_PUBLIC_CAPEX = 2.0
GAS_HEATING_FUEL_PREMIUM_CNY_PER_HH = 1200.0
ELEC_HEATING_CAPEX_MULT = 1.5
ELEC_HEATING_FUEL_PREMIUM_CNY_PER_HH = 1500.0
HEATING_PM25_FRACTION_OF_DUST = 0.7
TRUCK_SUBSIDY_CNY = 80_000.0
TRUCK_EARLY_YEARS = 5
TRUCK_NOX_SAVED_T_PER_YR = 0.6
VOC_CAPEX_UPLIFT = 1.5
LIVESTOCK_NH3_COST_MULT = 2.0

# Roadmaps (several years): the share of each measure's annual cost that repays
# equipment (capex_share, an annuity paid from installation for lifetime_yr years),
# and whether the measure can be undone from one period to the next (reversible:
# operating practices). DERIVED where the unit cost above is built from a capital
# cost (steel, heating, trucks, VOC end-of-pipe, coal power from the SCR operating
# cost against the denitration tariff); ASSUMPTION (modelled) elsewhere.
POWER_SCR_OPERATING_CNY_PER_MWH = (4.8 + 8.6) / 2   # FACT: Yang Hang et al. 2017
POWER_DENITRATION_TARIFF_CNY_PER_MWH = 10.0          # FACT: NDRC 2013, 0.01 CNY/kWh
POWER_ULE_LIFETIME_Y = 20          # ASSUMPTION: retrofit equipment on a coal unit
INDUSTRY_EOP_CAPEX_SHARE = 0.5     # ASSUMPTION: as steel ULE (capital = O&M)
INDUSTRY_EOP_LIFETIME_Y = 15       # ASSUMPTION: as steel ULE
VOC_EOP_LIFETIME_Y = 10            # ASSUMPTION: RTO / adsorption units
RAIL_SIDING_CAPEX_SHARE = 0.5      # ASSUMPTION: sidings and terminals vs haulage premium
RAIL_SIDING_LIFETIME_Y = 30        # ASSUMPTION: rail infrastructure
EV_CAPEX_SHARE = 0.6               # ASSUMPTION: vehicle price premium vs charging, O&M
EV_LIFETIME_Y = 10                 # ASSUMPTION: bus, taxi and van service lives
LIVESTOCK_CAPEX_SHARE = 0.5        # ASSUMPTION: covered storage, housing vs feed
LIVESTOCK_LIFETIME_Y = 15          # ASSUMPTION
OPERATIONAL_MEASURES = ("voc_low_voc_products", "voc_ldar", "nh3_fertiliser", "dust_control")

# ASSUMPTION: city overrides of the 2020 remaining (untreated) share.
APPLICABILITY_2020 = {
    ("beijing", "power_ule_so2"): 0.05, ("beijing", "power_ule_nox"): 0.05,
    ("beijing", "power_ule_pm"): 0.05,   # coal plants closed by 2017
    ("beijing", "diesel_truck_scrap"): 0.15,  # Beijing's early scrappage
    ("tangshan", "steel_ule"): 0.40,  # first ULE city
    ("handan", "steel_ule"): 0.50,
}


# ==========================================================================
# helpers
# ==========================================================================
def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def find_row(rows: list[dict], **where) -> dict:
    """The single row whose columns equal (or contain, for keys ending in '_') values."""
    hits = [r for r in rows
            if all((v in r[k[:-1]]) if k.endswith("_") else r[k] == v
                   for k, v in where.items())]
    if len(hits) != 1:
        raise ValueError(f"facts lookup {where}: {len(hits)} rows")
    return hits[0]


def numbers(text: str) -> list[float]:
    """All decimal numbers in a text ('~1425/~2116' -> [1425, 2116])."""
    return [float(t) for t in re.findall(r"\d+(?:\.\d+)?", text)]


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def crf(rate: float, years: int) -> float:
    return rate / (1.0 - (1.0 + rate) ** -years)


def sig6(x: float) -> float:
    return float(f"{x:.6g}")


def fmt(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        v = sig6(float(x))
        if v == 0:
            return "0"
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.6g}"
    return str(x)


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([fmt(v) for v in r])


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def bearing_deg(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


# ==========================================================================
# cities, population, GDP
# ==========================================================================
def load_cities() -> list[dict]:
    """All JJJ-13 and 2+26 cities from facts/cities.csv (2020 census population)."""
    out = []
    for r in read_csv(FACTS_DIR / "cities.csv"):
        if r["group_2p26"] != "1" and r["group_jjj13"] != "1":
            continue
        out.append({
            "city": slug(r["city_en"]), "name": r["city_en"],
            "province": r["province"], "zone": r["province"].lower(),
            "lat": float(r["lat"]), "lon": float(r["lon"]),
            "population": int(r["pop_2020_census"]),
            "pop_status": r["pop_status"],
            "in_domain": r["group_2p26"] == "1",
            "in_bth": r["province"] in ("Beijing", "Tianjin", "Hebei"),
        })
    return out


def city_statistics(cities: list[dict]) -> dict:
    """Population and GDP per domain city: the latest year found in facts/.

    Returns {city: {population, pop_year, pop_status, pop_source, gdp_bn_cny,
    gdp_year, gdp_status, gdp_source}}. GDP not found is modelled: population x
    the median GDP per person of the found non-capital cities of its province
    (of all provinces where none was found)."""
    found = read_csv(FACTS_DIR / "city_gdp_population_2023_2024.csv")
    fallback = read_csv(FACTS_DIR / "city_statistics_2022_fallback.csv")
    out = {}
    for c in cities:
        if not c["in_domain"]:
            continue
        cid = c["city"]
        rec = {}
        for col, key in (("population_persons", "pop"), ("gdp_bn_cny", "gdp")):
            rows = [r for r in found if r["city"] == cid and r[col]]
            rows.sort(key=lambda r: -int(r["year"]))
            if rows:
                r = rows[0]
                rec[key] = (float(r[col]), int(r["year"]), "fact", r["address"])
                continue
            rows = [r for r in fallback if r["city"] == cid and r[col]
                    and r["boundary"] == "city"]
            if rows:
                r = rows[0]
                rec[key] = (float(r[col]), int(r["year"]), "fact (secondary, 2022)",
                            r["address"])
        if "pop" not in rec:
            rec["pop"] = (float(c["population"]), 2020,
                          "fact (census 2020)" if c["pop_status"] != "unverified"
                          else "fact (census 2020, unverified)", "facts/cities.csv")
        out[cid] = rec
    # Baoding: GDP of the existing boundary (excl. Dingzhou, Xiong'an) per person
    # of that boundary, times the census population (which includes them).
    bd_gdp = find_row(fallback, city="baoding", year="2022")
    bd_pop = find_row(fallback, city="baoding", year="2021")
    per_cap = float(bd_gdp["gdp_bn_cny"]) / float(bd_pop["population_persons"])
    out["baoding"]["gdp"] = (per_cap * out["baoding"]["pop"][0], 2022,
                             "derived (boundary-adjusted 2022 fact)", bd_gdp["address"])
    # modelled GDP per person: median of the found non-capital cities
    per_person: dict[str, list[float]] = {}
    zone = {c["city"]: c["zone"] for c in cities}
    for cid, rec in out.items():
        if "gdp" in rec and rec["gdp"][2].startswith("fact") \
                and cid not in PROVINCIAL_CAPITALS and zone[cid] not in ("beijing", "tianjin"):
            per_person.setdefault(zone[cid], []).append(rec["gdp"][0] / rec["pop"][0])
    all_pp = sorted(v for vs in per_person.values() for v in vs)
    for cid, rec in out.items():
        if "gdp" not in rec:
            pp = per_person.get(zone[cid]) or all_pp
            rec["gdp"] = (float(np.median(pp)) * rec["pop"][0], None, "modelled",
                          "median GDP per person of the found non-capital cities of the "
                          + (f"province ({zone[cid]})" if zone[cid] in per_person
                             else "domain"))
    return out


# ==========================================================================
# emissions 2020
# ==========================================================================
def bth_totals_2020_t() -> dict:
    ref = read_csv(FACTS_DIR / "emissions_reference.csv")
    row = find_row(ref, scope="BTH (implied total)")
    so2, nox, pm25, voc = numbers(row["value"])
    kt_2014 = {"SO2": so2, "NOx": nox, "PM25": pm25, "VOC": voc}
    totals = {p: kt_2014[p] * TREND_BTH_2014_TO_2020[p] * 1000.0 for p in kt_2014}
    ag = find_row(ref, scope="China agriculture NH3", unit="Tg NH3")
    totals["NH3"] = float(ag["value"]) * 1e6 * BTH_SHARE_OF_NATIONAL_AG_NH3 \
        / AGRICULTURE_SHARE_OF_NH3
    return totals


def bth_steel_2020_t() -> dict:
    ref = read_csv(FACTS_DIR / "emissions_reference.csv")
    so2, nox, dust = numbers(find_row(ref, scope="BTH steel")["value"])
    scale = STEEL_PER_TONNE_FACTOR_2015_TO_2020 * STEEL_OUTPUT_GROWTH_2015_TO_2020
    return {"SO2": so2 * 1000 * scale, "NOx": nox * 1000 * scale,
            "PM25": dust * 1000 * STEEL_PM25_FRACTION_OF_DUST * scale,
            "VOC": 0.0, "NH3": 0.0}


def sector_proxy(city: dict, sector: str, beijing_mix: dict) -> float:
    kind = SECTOR_PROXY[sector]
    if kind == "steel":
        return STEEL_OUTPUT_MT[city["city"]]
    pop = city["population"] / 1e6
    urban = CITY_URBAN_SHARE.get(city["city"], URBAN_SHARE[city["zone"]])
    base = pop * (1.0 - urban) if kind == "rural_pop" else pop
    f = PROVINCE_SECTOR_FACTOR[sector][city["zone"]]
    if city["city"] == "beijing":
        f *= beijing_mix[sector]
    return base * f * CITY_SECTOR_FACTOR.get((city["city"], sector), 1.0)


def emissions_2020_raw(cities: list[dict], beijing_mix: dict) -> dict:
    """E[(city, sector, pollutant)] t/yr, 2020, sectors before the heating split."""
    totals = bth_totals_2020_t()
    steel = bth_steel_2020_t()
    bth = [c for c in cities if c["in_bth"]]
    emis = {}
    for p in POLLUTANTS:
        sector_total = {"steel": steel[p]}
        residual = totals[p] - steel[p]
        for k, share in RESIDUAL_SECTOR_SHARES[p].items():
            sector_total[k] = residual * share
        for k, total_t in sector_total.items():
            if total_t <= 0:
                continue
            proxy_sum = sum(sector_proxy(c, k, beijing_mix) for c in bth)
            for c in cities:
                e = total_t * sector_proxy(c, k, beijing_mix) / proxy_sum
                if e > 0:
                    emis[(c["city"], k, p)] = e
    return emis


def split_residential(emis: dict) -> dict:
    out = {}
    for (c, k, p), e in emis.items():
        if k != "residential":
            out[(c, k, p)] = e
            continue
        h = HEATING_SHARE_OF_RESIDENTIAL[p]
        if h > 0:
            out[(c, "residential_heating", p)] = e * h
        if h < 1:
            out[(c, "residential_other", p)] = e * (1 - h)
    return out


def beijing_official_mix(round_no: str) -> dict:
    """Local source shares of Beijing's official apportionment (fractions)."""
    row = find_row(read_csv(FACTS_DIR / "beijing_source_apportionment.csv"), round=round_no)
    cats = {"mobile": "local_mobile", "residential": "local_residential",
            "dust": "local_dust", "industry": "local_industry", "coal": "local_coal",
            "other": "local_other"}
    out = {k: (numbers(row[col])[0] / 100 if row[col] else 0.0) for k, col in cats.items()}
    return out


def category_mix(emis: dict, city: str, w: np.ndarray) -> dict:
    """E*-share of each apportionment category in a city (its local PM2.5 mix)."""
    tot = {k: 0.0 for k in BEIJING_MIX_CATEGORY}
    sec_cat = {s: k for k, ss in BEIJING_MIX_CATEGORY.items() for s in ss}
    sec_cat.update({"residential_heating": "residential", "residential_other": "residential"})
    for (c, s, p), e in emis.items():
        if c == city:
            tot[sec_cat[s]] += w[POLLUTANTS.index(p)] * e
    z = sum(tot.values())
    return {k: v / z for k, v in tot.items()}


def fit_beijing_mix(cities: list[dict], w: np.ndarray) -> dict:
    """Multipliers of Beijing's sector intensities so its local mix is round 3's."""
    target = beijing_official_mix("3")
    mult = {k: 1.0 for k in BEIJING_MIX_CATEGORY}
    for _ in range(BEIJING_MIX_ITERATIONS):
        mix = sector_mult(mult)
        cur = category_mix(emissions_2020_raw(cities, mix), "beijing", w)
        mult = {k: mult[k] * target[k] / cur[k] for k in mult}
        z = mult["mobile"]
        mult = {k: v / z for k, v in mult.items()}
    return sector_mult(mult)


def sector_mult(cat_mult: dict) -> dict:
    out = {}
    for k, ss in BEIJING_MIX_CATEGORY.items():
        for s in ss:
            out[s] = cat_mult[k]
    return out


def emissions_2020_t(cities: list[dict], w: np.ndarray) -> tuple[dict, dict]:
    mix = fit_beijing_mix(cities, w)
    return split_residential(emissions_2020_raw(cities, mix)), mix


# ==========================================================================
# roll forward: 2025, 2030, 2035
# ==========================================================================
def applicability_2020(M: list[dict], city: str, m: dict) -> float:
    return APPLICABILITY_2020.get((city, m["measure"]), m["max_application_2020"])


def project(e2020: dict, M: list[dict], year: int) -> tuple[dict, dict]:
    """Emissions of ``year`` and the measures' remaining applicability.

    A measure carried out on a share D of the 2020 sector base (D = carried-out
    fraction x the 2020 remaining share a) removes eff[p] x D of the sector's
    pollutant p; the remaining share of the year's base is (a - D) / (1 - eff_ref D).
    Clean heating removes converted households from `residential_heating`; their
    small remaining gas/electricity emissions go to `residential_other`."""
    by_sector = {}
    for m in M:
        by_sector.setdefault(m["sector"], []).append(m)
    cities = sorted({c for c, _, _ in e2020})
    out, app = {}, {}
    eff_heat = {p: HEATING_MIX_GAS * M_EFF["res_coal_to_gas"].get(p, 0.0)
                + (1 - HEATING_MIX_GAS) * M_EFF["res_coal_to_elec"].get(p, 0.0)
                for p in POLLUTANTS}
    for (c, k, p), e in e2020.items():
        act = ACTIVITY[k][year]
        e = e * act.get(p, act["*"])
        if k == "residential_heating":
            conv = HEATING_CONVERTED_CITY.get(c, HEATING_CONVERTED[year])
            out[(c, "residential_other", p)] = out.get((c, "residential_other", p), 0.0) \
                + e * conv * (1 - eff_heat[p])
            e = e * (1 - conv)
        else:
            for m in by_sector.get(k, []):
                frac = CARRIED_OUT.get(m["measure"], {}).get(year, 0.0)
                if frac:
                    D = frac * applicability_2020(M, c, m)
                    e = e * (1 - m["eff"].get(p, 0.0) * D)
        out[(c, k, p)] = out.get((c, k, p), 0.0) + e
    for c in cities:
        for m in M:
            a = applicability_2020(M, c, m)
            frac = CARRIED_OUT.get(m["measure"], {}).get(year, 0.0)
            D = frac * a
            app[(c, m["measure"])] = (a - D) / (1 - m["eff"][m["ref_pollutant"]] * D)
    return {k: v for k, v in out.items() if v > 0}, app


def totals_by_city(emis: dict, ids: list[str]) -> np.ndarray:
    arr = np.zeros((len(ids), len(POLLUTANTS)))
    idx = {c: i for i, c in enumerate(ids)}
    for (c, k, p), e in emis.items():
        if c in idx:
            arr[idx[c], POLLUTANTS.index(p)] += e
    return arr


# ==========================================================================
# base-year concentrations from observation
# ==========================================================================
def regional_pm25() -> dict:
    """2+36 regional PM2.5 mean by year: FACT 2023 and 2025, 2024 DERIVED."""
    rows = read_csv(FACTS_DIR / "regional_air_quality_2020_2025.csv")
    area = "JJJ & surrounding (2+36)"
    y23 = float(find_row(rows, area=area, year="2023", metric="PM25")["value"])
    y25 = float(find_row(rows, area=area, year="2025", metric="PM25")["value"])
    yoy = float(find_row(rows, area=area, year="2025", metric="PM25 change vs 2024")["value"])
    return {2023: y23, 2024: y25 / (1 + yoy / 100), 2025: y25}


def regional_o3_latest() -> tuple[float, int]:
    rows = read_csv(FACTS_DIR / "regional_air_quality_2020_2025.csv")
    r = find_row(rows, area="JJJ & surrounding (2+36)", metric="O3_MDA8_90")
    return float(r["value"]), int(r["year"])


def city_observations(ids: list[str]) -> dict:
    """Latest observation of each city: {(metric, city): dict}. Full-year values
    first; a partial year only where no full year of that year or later exists."""
    obs = {}
    for r in read_csv(FACTS_DIR / "pm25_o3_city_2023_2025.csv"):
        obs.setdefault((r["metric"], r["city"]), []).append(
            {"value": float(r["value_ugm3"]), "year": int(r["year"]),
             "period": r["period"], "source": r["source"], "address": r["address"]})
    names = {c.replace("_", " "): c for c in ids}
    for r in read_csv(FACTS_DIR / "pm25_observations.csv"):
        cid = names.get(r["area"].lower())
        if cid is None:
            continue
        m = re.fullmatch(r"(\d{4})( Jan-Nov)?", r["year"])
        if not m:
            continue
        val = numbers(r["pm25_ug_m3"])
        bound = r["pm25_ug_m3"].startswith(">=")
        obs.setdefault(("PM25", cid), []).append(
            {"value": val[0], "year": int(m.group(1)),
             "period": "jan_nov" if m.group(2) else "full_year",
             "source": f"{r['source']} ({r['note']})", "address": "facts/pm25_observations.csv",
             "lower_bound": bound})
    best = {}
    for key, rows in obs.items():
        rows.sort(key=lambda o: (-o["year"], o["period"] != "full_year"))
        best[key] = rows[0]
    return best


def base_levels(ids: list[str]) -> tuple[dict, list[list]]:
    """2025 base PM2.5 and O3 targets per city, and the rows of observations_used.csv.

    PM2.5: the latest observation (year-adjusted to 2025 with the regional trend);
    cities without one (or with only a lower bound): RELATIVE_LEVEL_2020 x k, k
    such that the 28-city mean equals the regional 2025 mean. O3: observed where
    found; others come from the O3 model (see o3_transport)."""
    reg = regional_pm25()
    obs = city_observations(ids)
    pm, rows = {}, []
    for c in ids:
        o = obs.get(("PM25", c))
        if o and not o.get("lower_bound"):
            f = reg[BASE_YEAR] / reg[o["year"]] if ADJUST_TO_BASE_YEAR else 1.0
            pm[c] = round(o["value"] * f, 1)
    missing = [c for c in ids if c not in pm]
    k = (reg[BASE_YEAR] * len(ids) - sum(pm.values())) / \
        sum(RELATIVE_LEVEL_2020[c] for c in missing)
    for c in missing:
        pm[c] = round(RELATIVE_LEVEL_2020[c] * k, 1)
    for c in ids:
        o = obs.get(("PM25", c))
        if c in missing:
            bound = ""
            if o and o.get("lower_bound"):
                f = reg[BASE_YEAR] / reg[o["year"]] if ADJUST_TO_BASE_YEAR else 1.0
                bound = f"observed lower bound {o['value']:g} ({o['year']} {o['period']}); " \
                        f"x {f:.4f} = {o['value'] * f:.1f} <= modelled value"
                assert pm[c] >= round(o["value"] * f, 1), c
            rows.append(["PM25", c, pm[c], "", "", "", "modelled",
                         f"2020 relative level {RELATIVE_LEVEL_2020[c]} x {k:.4f} "
                         f"(28-city mean = 2+36 regional 2025 mean {reg[BASE_YEAR]:g})"
                         + (f"; {bound}" if bound else ""), ""])
        else:
            f = reg[BASE_YEAR] / reg[o["year"]] if ADJUST_TO_BASE_YEAR else 1.0
            how = "observed" if o["year"] == BASE_YEAR else \
                f"observed {o['year']} x regional trend {reg[BASE_YEAR]:g}/{reg[o['year']]:.4g}"
            rows.append(["PM25", c, pm[c], o["value"], o["year"], o["period"],
                         "fact" if o["year"] == BASE_YEAR else "fact, year-adjusted",
                         how, o["address"]])
    o3 = {}
    for c in ids:
        o = obs.get(("O3_MDA8_90", c))
        if o:
            o3[c] = o["value"]
            rows.append(["O3", c, o["value"], o["value"], o["year"], o["period"], "fact",
                         "observed (regional O3 about flat since 2021: not year-adjusted)",
                         o["address"]])
    return {"PM25": pm, "O3": o3}, rows


# ==========================================================================
# transport
# ==========================================================================
def pm25_potency_weights() -> np.ndarray:
    rows = read_csv(FACTS_DIR / "tm5fasst_china_selfresponse.csv")

    def per_tg(precursor, responses):
        return sum(float(r["per_Tg_linearised"]) for r in rows
                   if r["precursor"] == precursor and r["response"] in responses)

    inorganic = ("dSO4", "dNH4", "dNO3")
    so2 = per_tg("SO2", inorganic)
    nox = per_tg("NOx", inorganic)
    nh3 = per_tg("NH3", inorganic)
    ppm = (per_tg("BC", ("BC (pop-wtd)",)) + per_tg("OM", ("POM (pop-wtd)",))) / 2
    w = {"PM25": ppm / so2, "SO2": 1.0, "NOx": nox / so2, "NH3": nh3 / so2,
         "VOC": VOC_PM25_POTENCY_REL_SO2}
    return np.array([w[p] for p in POLLUTANTS])


def o3_potency_ratio() -> float:
    rows = read_csv(FACTS_DIR / "tm5fasst_china_selfresponse.csv")
    nox = find_row(rows, precursor="NOx", response="M6M (ppb)")
    voc = find_row(rows, precursor="NMVOC", response="M6M (ppb)")
    return float(nox["per_Tg_linearised"]) / float(voc["per_Tg_linearised"])


_GEOMETRY: dict = {}


def geometry(cities: list[dict], alpha: float):
    """Distances (km) and the anisotropy factor of every receptor-source pair."""
    key = tuple(c["city"] for c in cities)
    if key not in _GEOMETRY:
        n = len(cities)
        dist, bear = np.zeros((n, n)), np.zeros((n, n))
        for r, cr in enumerate(cities):
            for s, cs in enumerate(cities):
                if r != s:
                    dist[r, s] = haversine_km(cs["lat"], cs["lon"], cr["lat"], cr["lon"])
                    bear[r, s] = bearing_deg(cs["lat"], cs["lon"], cr["lat"], cr["lon"])
        _GEOMETRY[key] = (dist, bear)
    dist, bear = _GEOMETRY[key]
    aniso = np.maximum(0.0, 1.0 + alpha * np.cos(np.radians(bear - ANISO_THETA_DEG)))
    np.fill_diagonal(aniso, 1.0)
    return dist, aniso


def south_index(cities: list[dict]) -> np.ndarray:
    """How far south of the domain's mean latitude each city lies, in standard
    deviations of the cities' latitudes (north negative)."""
    lat = np.array([c["lat"] for c in cities])
    return (lat.mean() - lat) / lat.std()


def outside_shares(cities: list[dict], fit: dict) -> np.ndarray:
    """ext_r: the outside-domain share of city r's anthropogenic PM2.5."""
    return np.clip(fit["ext_a"] * (1.0 + fit["ext_b"] * south_index(cities)),
                   EXT_MIN, EXT_MAX)


def local_estar_kt(emis: dict, ids: list[str], w: np.ndarray) -> np.ndarray:
    out = np.zeros(len(ids))
    idx = {c: i for i, c in enumerate(ids)}
    for (c, k, p), e in emis.items():
        if c in idx:
            out[idx[c]] += (LOCAL_RETENTION.get(k, 1.0) * w[POLLUTANTS.index(p)]
                            * e / 1000.0)
    return out


def share_matrix(estar, estar_local, dist, aniso, L_km, p, kappa, gamma) -> np.ndarray:
    """S[r,s]: share of r's in-domain anthropogenic PM2.5 from s (rows sum to 1)."""
    k = 1.0 / (1.0 + (dist / L_km) ** p)
    w = estar[None, :] * k * aniso
    ebar = estar.mean()
    np.fill_diagonal(w, kappa * ebar * (estar_local / ebar) ** gamma)
    return w / w.sum(axis=1, keepdims=True)


def shares(S: np.ndarray, ext: np.ndarray, ids: list[str]) -> dict:
    """Local / other-domain / outside shares of each city's anthropogenic PM2.5,
    and for the JJJ cities the intra-JJJ and outside-JJJ shares."""
    local = (1 - ext) * np.diag(S)
    other = (1 - ext) * (1 - np.diag(S))
    jjj = np.array([c in JJJ_DOMAIN for c in ids])
    intra = (1 - ext) * ((S * jjj[None, :]).sum(axis=1) - np.diag(S) * jjj)
    out_jjj = ext + (1 - ext) * (S * ~jjj[None, :]).sum(axis=1)
    return {"local": local, "other": other, "outside": ext, "intra_jjj": intra,
            "outside_jjj": out_jjj}


def calibration_targets() -> list[dict]:
    """Every published share target of facts/, with how it is used.

    kind 'range': every listed city within [lo, hi] in every member.
    kind 'point': the central member within +-0.02 of the value.
    kind 'conflict': cannot hold together with a winning target (named)."""
    tc = read_csv(FACTS_DIR / "transport_calibration_targets.csv")
    bj = read_csv(FACTS_DIR / "beijing_source_apportionment.csv")

    def rng(receptor, metric):
        lo, hi = numbers(find_row(tc, receptor=receptor, metric=metric)["value"])
        return lo / 100, hi / 100

    all28 = "all 28"
    T = []
    for metric, share in (("local contribution range", "local"),
                          ("other 2+26 cities contribution range", "other"),
                          ("outside-region contribution range", "outside")):
        lo, hi = rng("2+26 cities", metric)
        T.append({"id": f"2p26_{share}", "share": share, "cities": all28, "lo": lo,
                  "hi": hi, "kind": "range",
                  "source": "2+26 (Xiao Zhimei et al. 2020, ref [10])"})
    for metric, share in (("local contribution range", "local"),
                          ("intra-region transport range", "intra_jjj"),
                          ("extra-region transport range", "outside_jjj")):
        lo, hi = rng("JJJ 13 cities", metric)
        T.append({"id": f"jjj13_{share}", "share": share, "cities": "jjj", "lo": lo,
                  "hi": hi, "kind": "range",
                  "source": "JJJ-13 CAMx-PSAT 2015 (Wang Yanli et al. 2017)"})
    r4 = find_row(bj, round="4")
    T.append({"id": "beijing_round4_local", "share": "local", "cities": "beijing",
              "lo": float(r4["local_pct"]) / 100, "hi": float(r4["local_pct"]) / 100,
              "kind": "point", "source": "Beijing EEB round 4 (released 2025-09): local 43 %"})
    r3 = find_row(bj, round="3")
    T.append({"id": "beijing_round3_local", "share": "local", "cities": "beijing",
              "lo": float(r3["local_pct"]) / 100, "hi": float(r3["local_pct"]) / 100,
              "kind": "conflict", "wins": "2p26_local, beijing_round4_local",
              "source": "Beijing EEB round 3 (2020-21): local 58 %"})
    lo, hi = numbers(find_row(tc, receptor="Tianjin")["value"])
    T.append({"id": "tianjin_2014_local", "share": "local", "cities": "tianjin",
              "lo": 1 - hi / 100, "hi": 1 - lo / 100, "kind": "conflict",
              "wins": "2p26_local", "source": "Tianjin EPB 2014: local 66-78 %"})
    lo, hi = numbers(find_row(tc, metric="local share (winter)")["value"])
    T.append({"id": "dai2024_winter_local", "share": "local",
              "cities": "handan xingtai hengshui cangzhou", "lo": lo / 100, "hi": hi / 100,
              "kind": "conflict", "wins": "2p26_local",
              "source": "Dai Wujun et al. 2024, winters 2019-21: local 51.11-62.99 %"})
    return T


def target_cities(t: dict, ids: list[str]) -> list[str]:
    if t["cities"] == "all 28":
        return list(ids)
    if t["cities"] == "jjj":
        return list(JJJ_DOMAIN)
    return t["cities"].split()


def member_shares(member, cities, e_base, w, fit=None) -> tuple[np.ndarray, dict]:
    ids = [c["city"] for c in cities]
    estar = totals_by_city(e_base, ids) / 1000.0 @ w
    f = fit or FIT[member]
    dist, aniso = geometry(cities, f["alpha"])
    S = share_matrix(estar, local_estar_kt(e_base, ids, w), dist, aniso,
                     f["L_km"], f["p"], f["kappa"], f["gamma"])
    return S, shares(S, outside_shares(cities, f), ids)


def fit_member(member, cities, e_base, w) -> dict:
    """Least squares: every published range (with FIT_MARGIN) first, then the
    member's aims; deterministic multi-start, best of the starts."""
    from scipy.optimize import least_squares
    ids = [c["city"] for c in cities]
    idx = {c: i for i, c in enumerate(ids)}
    targets = [t for t in calibration_targets() if t["kind"] == "range"]
    aim = MEMBER_AIM[member]
    keys = ["L_km", "p", "kappa", "gamma", "alpha", "ext_a", "ext_b"]

    def unpack(v):
        return {"L_km": math.exp(v[0]), "p": v[1], "kappa": math.exp(v[2]),
                "gamma": v[3], "alpha": v[4], "ext_a": v[5], "ext_b": v[6]}

    def residuals(v):
        _, sh = member_shares(member, cities, e_base, w, unpack(v))
        res = []
        for t in targets:
            for c in target_cities(t, ids):
                s = np.broadcast_to(sh[t["share"]], (len(ids),))[idx[c]]
                res.append(100 * (max(0.0, t["lo"] + 2 * FIT_MARGIN - s)
                                  + max(0.0, s - t["hi"] + 2 * FIT_MARGIN)))
        res.append(10 * (sh["local"][idx["beijing"]] - aim["beijing"]))
        res.append(3 * (sh["local"].mean() - aim["mean_local"]))
        res.append(3 * (np.mean(sh["outside"]) - aim["ext"]))
        return res

    best = None
    for L0 in (5.0, 30.0, 150.0):
        for p0 in (1.0, 2.0):
            for k0 in (0.3, 3.0):
                for b0 in (0.2, 0.6):
                    x0 = [math.log(L0), p0, math.log(k0), 0.5, 0.2, aim["ext"], b0]
                    sol = least_squares(
                        residuals, x0,
                        bounds=([math.log(3), 0.8, math.log(0.01), 0.1, 0.0, 0.1, 0.0],
                                [math.log(400), 4.0, math.log(100), 1.0, 0.5, 0.5, 3.0]))
                    if best is None or sol.cost < best.cost:
                        best = sol
    f = unpack(best.x)
    return {k: float(f"{f[k]:.4g}") for k in keys}


def pm25_transport(member, cities, e_base, w, base_pm):
    """T[r,s,p] µg/m³ per kt/yr and the outside-domain part of the base year.

    T = w_p S[r,s] (1-ext_r) A_r / E*_s with A_r = C_r - natural: with base-year
    emissions the model reproduces the observed base level of every city exactly;
    background = natural + ext_r A_r (absorbs the member's outside share)."""
    ids = [c["city"] for c in cities]
    S, _ = member_shares(member, cities, e_base, w)
    estar = totals_by_city(e_base, ids) / 1000.0 @ w
    anthro = np.array([base_pm[c] - NATURAL_PM25_UGM3 for c in ids])
    ext = outside_shares(cities, FIT[member])
    T = (S * ((1 - ext) * anthro)[:, None] / estar[None, :])[:, :, None] * w[None, None, :]
    return T, ext * anthro


def o3_transport(cities, e_base, obs_o3: dict):
    """T_O3[r,s,{NOx,VOC}] µg/m³ per kt/yr and the per-receptor background.

    Regional kernel x anisotropy, NOx potency = FASST ratio x VOC potency, one
    scale so the 28-city mean of the base year equals the latest regional O3
    (FACT); cities with an observation keep it (their background absorbs the
    difference); urban-core titration makes the local NOx coefficient negative."""
    ids = [c["city"] for c in cities]
    e_kt = totals_by_city(e_base, ids) / 1000.0
    nox, voc = e_kt[:, POLLUTANTS.index("NOx")], e_kt[:, POLLUTANTS.index("VOC")]
    dist, aniso = geometry(cities, O3_ANISO_ALPHA)
    k = aniso / (1.0 + (dist / O3_L_KM) ** O3_P)
    np.fill_diagonal(k, 1.0)
    k_nox = k.copy()
    for i, c in enumerate(ids):
        k_nox[i, i] = 1.0 - O3_TITRATION.get(c, 0.0)
    ratio = o3_potency_ratio()
    unit = k_nox @ nox * ratio + k @ voc
    mean, _ = regional_o3_latest()
    free = np.array([c not in obs_o3 for c in ids])
    target_sum = mean * len(ids) - sum(obs_o3.values())
    scale = (target_sum - O3_BACKGROUND_UGM3 * free.sum()) / unit[free].sum()
    T = np.zeros((len(ids), len(ids), len(POLLUTANTS)))
    T[:, :, POLLUTANTS.index("NOx")] = scale * ratio * k_nox
    T[:, :, POLLUTANTS.index("VOC")] = scale * k
    return T


# ==========================================================================
# measures
# ==========================================================================
M_EFF: dict = {}


def sector_ef_steel_t_per_mt() -> dict:
    steel = bth_steel_2020_t()
    bth_mt = sum(v for c, v in STEEL_OUTPUT_MT.items() if c in BTH_CITY_IDS)
    return {p: steel[p] / bth_mt for p in POLLUTANTS}


BTH_CITY_IDS = {"beijing", "tianjin", "shijiazhuang", "tangshan", "langfang",
                "baoding", "cangzhou", "hengshui", "xingtai", "handan",
                "zhangjiakou", "chengde", "qinhuangdao"}


def measure_catalogue() -> list[dict]:
    """Measures: sector, group, ref pollutant, unit cost, efficiencies, 2020 share."""
    mc = read_csv(FACTS_DIR / "measures_costs.csv")

    def val(measure, metric_part):
        return numbers(find_row(mc, measure=measure, metric_=metric_part)["value"])

    ule_so2 = val("Coal power ULE", "SO2")[0]
    ule_nox = val("Coal power ULE", "NOx")[0]
    ule_pm = val("Coal power ULE", "PM")[0]
    steel_row = find_row(mc, measure="Steel ULE", metric="investment driven")
    steel_inv_cny = numbers(steel_row["value"])[0] * 1e9
    steel_mt = sum(float(v) for v in re.findall(r"(\d+) Mt", steel_row["notes"]))
    steel_cny_per_t = (steel_inv_cny / (steel_mt * 1e6) * crf(DISCOUNT_RATE, STEEL_LIFETIME_Y)
                       * (1 + STEEL_OM_PER_ANNUALISED_CAPEX))
    ef = sector_ef_steel_t_per_mt()
    steel_ule_eff_nox = 0.6
    steel_ule_cost = steel_cny_per_t * 1e6 / (ef["NOx"] * steel_ule_eff_nox)
    steel_phaseout_cost = 200.0 * 1e6 / ef["PM25"]
    inv = numbers(find_row(mc, measure="Rural clean heating", metric="investment")["value"])[0]
    hh = numbers(find_row(mc, measure="Rural clean heating", metric="households")["value"])[0]
    per_hh = numbers(find_row(mc, measure="Rural clean heating",
                              metric_="per-household")["value"])
    dust_kg = per_hh[1]
    public_per_hh = inv * 1e9 / (hh * 1e6)
    capex = public_per_hh * HEATING_TOTAL_PER_PUBLIC_CAPEX
    pm25_t_per_hh = dust_kg * HEATING_PM25_FRACTION_OF_DUST / 1000.0
    a = crf(DISCOUNT_RATE, HEATING_LIFETIME_Y)
    gas_cost = (capex * a + GAS_HEATING_FUEL_PREMIUM_CNY_PER_HH) / (pm25_t_per_hh * 0.95)
    elec_cost = ((capex * ELEC_HEATING_CAPEX_MULT * a + ELEC_HEATING_FUEL_PREMIUM_CNY_PER_HH)
                 / (pm25_t_per_hh * 1.0))
    truck_cost = TRUCK_SUBSIDY_CNY * crf(DISCOUNT_RATE, TRUCK_EARLY_YEARS) / TRUCK_NOX_SAVED_T_PER_YR
    voc_om = numbers(find_row(mc, measure="VOC end-of-pipe (low conc)")["value"])[0] * 1000
    voc_eop_cost = voc_om * VOC_CAPEX_UPLIFT
    nh3_row = find_row(mc, measure="Agricultural NH3", unit="billion USD per yr")
    usd_lo, usd_hi = numbers(nh3_row["value"])
    tgn = numbers(nh3_row["metric"])
    usd_per_t_n = (usd_lo + usd_hi) / 2 * 1e9 / ((tgn[2] + tgn[3]) / 2 * 1e6)
    fert_cost = usd_per_t_n * 14.0 / 17.0 * CNY_PER_USD
    ref = read_csv(FACTS_DIR / "emissions_reference.csv")
    split = numbers(find_row(ref, scope="China agriculture NH3", unit="Tg NH3")["sector_or_note"])
    fert_share, live_share = split[0] / 100, split[1] / 100

    M = []

    def add(measure, sector, group, name, ref, cost, max_app, eff):
        M.append({"measure": measure, "sector": sector, "group": group,
                  "name": name, "ref_pollutant": ref, "cost_cny_per_t": cost,
                  "max_application_2020": max_app, "eff": eff})

    add("power_ule_so2", "power", "desulfurisation",
        "Coal power ultra-low emission: FGD upgrade", "SO2", ule_so2, 0.30,
        {"SO2": 0.75, "PM25": 0.30})
    add("power_ule_nox", "power", "denitration",
        "Coal power ultra-low emission: SCR upgrade", "NOx", ule_nox, 0.30,
        {"NOx": 0.70})
    add("power_ule_pm", "power", "dedusting",
        "Coal power ultra-low emission: wet ESP / bag filter", "PM25", ule_pm, 0.30,
        {"PM25": 0.80})
    add("steel_ule", "steel", "ule", "Steel ultra-low emission retrofit",
        "NOx", steel_ule_cost, 0.60,
        {"NOx": steel_ule_eff_nox, "SO2": 0.6, "PM25": 0.75})
    add("steel_phaseout", "steel", "capacity", "Steel capacity phase-out",
        "PM25", steel_phaseout_cost, 0.40,
        {p: 1.0 for p in ("PM25", "SO2", "NOx", "VOC")})
    add("cement_ule", "cement", "ule", "Cement deep NOx (SNCR/SCR) and dust control",
        "NOx", 15_000.0, 0.80, {"NOx": 0.6, "PM25": 0.6, "SO2": 0.3})
    add("boiler_replacement", "industrial_boilers", "boilers",
        "Coal boiler replacement / ultra-low retrofit", "SO2", 30_000.0, 0.80,
        {"SO2": 0.9, "NOx": 0.6, "PM25": 0.9})
    add("industry_deep_control", "other_industry", "eop",
        "Coking, glass, ceramics: deep end-of-pipe control", "NOx", 25_000.0, 0.80,
        {"NOx": 0.6, "SO2": 0.6, "PM25": 0.7})
    add("voc_coating_eop", "other_industry", "coating",
        "VOC end-of-pipe (RTO/adsorption) for coating and printing", "VOC",
        voc_eop_cost, 0.50, {"VOC": 0.8})
    add("voc_low_voc_products", "other_industry", "coating",
        "Low-VOC coatings, inks and adhesives (substitution)", "VOC", 6_000.0, 0.60,
        {"VOC": 0.5})
    add("voc_ldar", "other_industry", "ldar",
        "Petrochemical leak detection and repair (LDAR)", "VOC", 5_000.0, 0.20,
        {"VOC": 0.6})
    # clean heating treats the remaining reachable coal heating: the whole of
    # `residential_heating` (one exclusivity group, so together at most 100 %).
    add("res_coal_to_gas", "residential_heating", "heating", "Rural heating: coal to gas",
        "PM25", gas_cost, 1.0,
        {"PM25": 0.95, "SO2": 0.95, "NOx": 0.5, "VOC": 0.9})
    add("res_coal_to_elec", "residential_heating", "heating",
        "Rural heating: coal to electricity (heat pumps)", "PM25", elec_cost, 1.0,
        {"PM25": 1.0, "SO2": 1.0, "NOx": 1.0, "VOC": 0.95})
    add("diesel_truck_scrap", "transport", "fleet",
        "Scrap National III-and-below diesel trucks", "NOx", truck_cost, 0.30,
        {"NOx": 0.9, "PM25": 0.95, "VOC": 0.8})
    add("freight_road_to_rail", "transport", "modal",
        "Shift bulk freight from road to rail", "NOx", 50_000.0, 0.25,
        {"NOx": 0.8, "PM25": 0.8, "VOC": 0.5})
    add("vehicle_electrification", "transport", "nev",
        "Electrify urban buses, taxis and city logistics", "NOx", 80_000.0, 0.30,
        {"NOx": 1.0, "PM25": 0.7, "VOC": 1.0})
    add("nh3_fertiliser", "agriculture", "fertiliser",
        "Enhanced-efficiency fertiliser, deep placement", "NH3", fert_cost,
        round(fert_share * 0.8, 3), {"NH3": 0.6})
    add("nh3_livestock", "agriculture", "livestock",
        "Livestock manure management, low-protein feed", "NH3",
        fert_cost * LIVESTOCK_NH3_COST_MULT, round(live_share * 0.8, 3),
        {"NH3": 0.6})
    add("dust_control", "dust", "dust",
        "Road washing, construction-site enclosure, bare-soil cover", "PM25",
        30_000.0, 0.85, {"PM25": 0.7})
    for m in M:
        m["eff"] = {p: e for p, e in m["eff"].items() if e > 0}
        M_EFF[m["measure"]] = m["eff"]
    power_capex = 1 - POWER_SCR_OPERATING_CNY_PER_MWH / POWER_DENITRATION_TARIFF_CNY_PER_MWH
    heating_capex = capex * a
    elec_capex = capex * ELEC_HEATING_CAPEX_MULT * a
    life = {  # measure -> (capex_share, lifetime_yr); None: no end (a closure)
        "power_ule_so2": (power_capex, POWER_ULE_LIFETIME_Y),
        "power_ule_nox": (power_capex, POWER_ULE_LIFETIME_Y),
        "power_ule_pm": (power_capex, POWER_ULE_LIFETIME_Y),
        "steel_ule": (1 / (1 + STEEL_OM_PER_ANNUALISED_CAPEX), STEEL_LIFETIME_Y),
        "steel_phaseout": (1.0, None),
        "cement_ule": (INDUSTRY_EOP_CAPEX_SHARE, INDUSTRY_EOP_LIFETIME_Y),
        "boiler_replacement": (INDUSTRY_EOP_CAPEX_SHARE, INDUSTRY_EOP_LIFETIME_Y),
        "industry_deep_control": (INDUSTRY_EOP_CAPEX_SHARE, INDUSTRY_EOP_LIFETIME_Y),
        "voc_coating_eop": (1 - 1 / VOC_CAPEX_UPLIFT, VOC_EOP_LIFETIME_Y),
        "res_coal_to_gas": (heating_capex / (heating_capex + GAS_HEATING_FUEL_PREMIUM_CNY_PER_HH),
                            HEATING_LIFETIME_Y),
        "res_coal_to_elec": (elec_capex / (elec_capex + ELEC_HEATING_FUEL_PREMIUM_CNY_PER_HH),
                             HEATING_LIFETIME_Y),
        "diesel_truck_scrap": (1.0, TRUCK_EARLY_YEARS),
        "freight_road_to_rail": (RAIL_SIDING_CAPEX_SHARE, RAIL_SIDING_LIFETIME_Y),
        "vehicle_electrification": (EV_CAPEX_SHARE, EV_LIFETIME_Y),
        "nh3_livestock": (LIVESTOCK_CAPEX_SHARE, LIVESTOCK_LIFETIME_Y),
    }
    for m in M:
        share, years = life.get(m["measure"], (0.0, None))
        m["capex_share"], m["lifetime_yr"] = round(share, 3), years
        m["reversible"] = int(m["measure"] in OPERATIONAL_MEASURES)
        assert m["reversible"] or m["measure"] in life, m["measure"]
    return M


# ==========================================================================
# assemble
# ==========================================================================
def model_inputs() -> dict:
    """Everything the tables are made of (shared by build and --refit)."""
    all_cities = load_cities()
    cities = [c for c in all_cities if c["in_domain"]]
    ids = [c["city"] for c in cities]
    w = pm25_potency_weights()
    M = measure_catalogue()
    e2020, bj_mix = emissions_2020_t(all_cities, w)
    e2020 = {k: v for k, v in e2020.items() if k[0] in ids}
    E, APP = {}, {}
    for y in YEARS:
        e, app = project(e2020, M, y)
        E[y] = {k: sig6(v) for k, v in e.items()}
        APP[y] = {k: round(v, 3) for k, v in app.items()}
    return {"all_cities": all_cities, "cities": cities, "ids": ids, "w": w, "M": M,
            "e2020": {k: sig6(v) for k, v in e2020.items()}, "E": E, "APP": APP,
            "bj_mix": bj_mix}


def build(out: Path) -> dict:
    I = model_inputs()
    cities, ids, w, M, E, APP = I["cities"], I["ids"], I["w"], I["M"], I["E"], I["APP"]
    stats = city_statistics(I["all_cities"])
    levels, obs_rows = base_levels(ids)
    e_base = E[BASE_YEAR]
    estar = {y: totals_by_city(E[y], ids) / 1000.0 @ w for y in YEARS}
    estar[INVENTORY_YEAR] = totals_by_city(I["e2020"], ids) / 1000.0 @ w
    # ASSUMPTION: the outside-domain contribution follows the domain's E* trend
    # (the same national policies apply outside the domain).
    g = {y: estar[y].sum() / estar[BASE_YEAR].sum() for y in estar}

    T, bg_out = {}, {}
    for mem in MEMBERS:
        t, outside = pm25_transport(mem, cities, e_base, w, levels["PM25"])
        T[("PM25", mem)] = np.where(np.abs(np.vectorize(sig6)(t)) > MIN_ABS_COEF,
                                    np.vectorize(sig6)(t), 0.0)
        bg_out[mem] = outside
    t_o3 = np.vectorize(sig6)(o3_transport(cities, e_base, levels["O3"]))
    t_o3 = np.where(np.abs(t_o3) > MIN_ABS_COEF, t_o3, 0.0)

    out.mkdir(parents=True, exist_ok=True)

    # cities.csv
    rows = []
    for c in sorted(cities, key=lambda c: c["city"]):
        s = stats[c["city"]]
        rows.append([c["city"], c["name"], c["province"], c["zone"], c["lat"], c["lon"],
                     int(round(s["pop"][0])), round(s["gdp"][0], 2),
                     COST_FACTOR.get(c["city"], 1.0)])
    write_csv(out / "cities.csv", ["city", "name", "province", "zone", "lat", "lon",
                                   "population", "gdp_bn_cny", "cost_factor"], rows)
    # city_statistics.csv (auxiliary: the year and status of each figure)
    rows = []
    for c in sorted(ids):
        s = stats[c]
        rows.append([c, int(round(s["pop"][0])), s["pop"][1], s["pop"][2], s["pop"][3],
                     round(s["gdp"][0], 2), s["gdp"][1] or "", s["gdp"][2], s["gdp"][3]])
    write_csv(out / "city_statistics.csv",
              ["city", "population", "population_year", "population_status",
               "population_source", "gdp_bn_cny", "gdp_year", "gdp_status", "gdp_source"],
              rows)

    # emissions.csv
    rows = []
    for y in YEARS:
        for (c, k, p), e in E[y].items():
            rows.append([c, k, p, e, y])
    rows.sort(key=lambda r: (r[4], r[0], SECTORS.index(r[1]), POLLUTANTS.index(r[2])))
    write_csv(out / "emissions.csv", ["city", "sector", "pollutant", "emission_t", "year"],
              rows)

    # measures.csv (max_application: the base year's default), efficiencies.csv
    default = {}
    for m in M:
        vals = [APP[BASE_YEAR][(c, m["measure"])] for c in ids
                if (c, m["measure"]) not in APPLICABILITY_2020]
        default[m["measure"]] = max(set(vals), key=vals.count)
    write_csv(out / "measures.csv",
              ["measure", "sector", "group", "name", "ref_pollutant", "cost_cny_per_t",
               "max_application", "capex_share", "lifetime_yr", "reversible"],
              [[m["measure"], m["sector"], m["group"], m["name"], m["ref_pollutant"],
                round(m["cost_cny_per_t"], -1), default[m["measure"]], m["capex_share"],
                "" if m["lifetime_yr"] is None else m["lifetime_yr"], m["reversible"]]
               for m in M])
    write_csv(out / "efficiencies.csv", ["measure", "pollutant", "efficiency"],
              [[m["measure"], p, e] for m in M for p, e in
               sorted(m["eff"].items(), key=lambda kv: POLLUTANTS.index(kv[0]))])
    # applicability.csv: a (city, measure) whose value differs from the default in
    # some year gets one row per year; nothing else is listed.
    rows = []
    for c in sorted(ids):
        for m in M:
            vals = [APP[y][(c, m["measure"])] for y in YEARS]
            if any(v != default[m["measure"]] for v in vals):
                for y, v in zip(YEARS, vals):
                    rows.append([c, m["measure"], v, y])
    write_csv(out / "applicability.csv", ["city", "measure", "max_application", "year"],
              rows)

    # transport.csv
    rows = []
    for mem in MEMBERS:
        for q, species, t in (("PM25", POLLUTANTS, T[("PM25", mem)]),
                              ("O3", ["NOx", "VOC"], t_o3)):
            for r, rc in enumerate(ids):
                for s, sc in enumerate(ids):
                    for p in species:
                        v = t[r, s, POLLUTANTS.index(p)]
                        if v != 0.0:
                            rows.append([q, rc, sc, p, v, mem])
    rows.sort(key=lambda r: (MEMBERS.index(r[5]), r[0] != "PM25", r[1], r[2],
                             POLLUTANTS.index(r[3])))
    write_csv(out / "transport.csv",
              ["metric", "receptor", "source", "pollutant", "coef_ugm3_per_kt", "member"],
              rows)

    # concentrations.csv and background.csv: background + T.E, exactly
    conc, rows, bg_rows = {}, [], []
    for mem in MEMBERS:
        for y in YEARS:
            e_kt = totals_by_city(E[y], ids) / 1000.0
            for q, t in (("PM25", T[("PM25", mem)]), ("O3", t_o3)):
                te = np.einsum("rsp,sp->r", t, e_kt)
                if q == "PM25":
                    bg = np.vectorize(sig6)(NATURAL_PM25_UGM3 + bg_out[mem] * g[y])
                else:
                    te_base = np.einsum("rsp,sp->r", t, totals_by_city(e_base, ids) / 1000.0)
                    bg = np.array([sig6(levels["O3"][c] - te_base[i])
                                   if c in levels["O3"] else O3_BACKGROUND_UGM3
                                   for i, c in enumerate(ids)])
                c_ = bg + te
                if y == BASE_YEAR and q == "PM25":
                    # the base year reproduces the observations used (exact up to
                    # the rounding of T and E): write the observed value itself
                    c_ = np.array([levels["PM25"][c] for c in ids])
                    bg = np.vectorize(sig6)(c_ - te)
                if y == BASE_YEAR and q == "O3":
                    c_ = np.array([levels["O3"].get(c, c_[i]) for i, c in enumerate(ids)])
                conc[(q, y, mem)] = c_
                for r, rc in enumerate(ids):
                    rows.append([q, rc, c_[r], y, mem])
                    nat = NATURAL_PM25_UGM3 if q == "PM25" else O3_BACKGROUND_UGM3
                    bg_rows.append([q, rc, bg[r], nat, y, mem])
    rows.sort(key=lambda r: (MEMBERS.index(r[4]), r[3], r[0] != "PM25", r[1]))
    write_csv(out / "concentrations.csv",
              ["metric", "receptor", "baseline_ugm3", "year", "member"], rows)
    bg_rows.sort(key=lambda r: (MEMBERS.index(r[5]), r[4], r[0] != "PM25", r[1]))
    write_csv(out / "background.csv",
              ["metric", "receptor", "background_ugm3", "natural_ugm3", "year", "member"],
              bg_rows)

    # observations_used.csv
    obs_rows.sort(key=lambda r: (r[0] != "PM25", r[1]))
    write_csv(out / "observations_used.csv",
              ["metric", "city", "base_2025_ugm3", "observed_ugm3", "observed_year",
               "period", "status", "method", "source"], obs_rows)

    # calibration.csv: every target, per member: min / max over its cities
    rows = []
    for mem in MEMBERS:
        _, sh = member_shares(mem, cities, e_base, w)
        idx = {c: i for i, c in enumerate(ids)}
        for t in calibration_targets():
            cs = target_cities(t, ids)
            vals = np.broadcast_to(sh[t["share"]], (len(ids),))[[idx[c] for c in cs]]
            if t["kind"] == "range":
                ok = bool(((vals >= t["lo"]) & (vals <= t["hi"])).all())
            elif t["kind"] == "point":
                ok = bool((abs(vals - t["lo"]) <= 0.02).all()) if mem == "central" else \
                    bool(((vals >= 0.10) & (vals <= 0.47)).all())
            else:
                ok = bool(((vals >= t["lo"]) & (vals <= t["hi"])).all())
            rows.append([mem, t["id"], t["kind"], t["share"], t["cities"], t["lo"], t["hi"],
                         vals.min(), vals.max(), ok, t.get("wins", ""), t["source"]])
        # back-cast: the model run with 2020 emissions vs the 2020 observations
        e20 = totals_by_city(I["e2020"], ids) / 1000.0
        c20 = NATURAL_PM25_UGM3 + bg_out[mem] * g[INVENTORY_YEAR] + \
            np.einsum("rsp,sp->r", T[("PM25", mem)], e20)
        obs20 = {r["area"]: float(r["pm25_ug_m3"]) for r in read_csv(FACTS_DIR / "pm25_observations.csv")
                 if r["year"] == "2020" and r["area"] in ("Beijing", "2+26 cities")}
        rows.append([mem, "backcast_2020_mean", "check", "PM25 ugm3", "all 28",
                     obs20["2+26 cities"], obs20["2+26 cities"], c20.mean(), c20.mean(),
                     abs(c20.mean() / obs20["2+26 cities"] - 1) <= 0.15, "",
                     "MEE 2021-01-15: 2+26 mean 2020 = 51 (within 15 %)"])
        rows.append([mem, "backcast_2020_beijing", "check", "PM25 ugm3", "beijing",
                     obs20["Beijing"], obs20["Beijing"], c20[idx["beijing"]],
                     c20[idx["beijing"]],
                     abs(c20[idx["beijing"]] / obs20["Beijing"] - 1) <= 0.15, "",
                     "Beijing EEB: 2020 = 38 (within 15 %)"])
    write_csv(out / "calibration.csv",
              ["member", "target", "kind", "share", "cities", "published_lo",
               "published_hi", "model_min", "model_max", "holds", "conflict_lost_to",
               "source"], rows)

    return {"ids": ids, "conc": conc, "E": E, "T": T, "t_o3": t_o3, "levels": levels,
            "stats": stats, "g": g, "APP": APP, "bj_mix": I["bj_mix"],
            "e2020": I["e2020"], "w": w}


def refit() -> None:
    I = model_inputs()
    cities, ids, w = I["cities"], I["ids"], I["w"]
    e_base = I["E"][BASE_YEAR]
    fits = {mem: fit_member(mem, cities, e_base, w) for mem in MEMBERS}
    print("FIT = {")
    for mem in MEMBERS:
        print(f'    "{mem}": {fits[mem]},')
    print("}")
    for mem in MEMBERS:
        _, sh = member_shares(mem, cities, e_base, w, fits[mem])
        print(f"{mem}: local {sh['local'].min():.3f}-{sh['local'].max():.3f} "
              f"(Beijing {sh['local'][ids.index('beijing')]:.3f}, mean {sh['local'].mean():.3f}); "
              f"outside {np.min(sh['outside']):.3f}-{np.max(sh['outside']):.3f} "
              f"(mean {np.mean(sh['outside']):.3f})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output folder")
    ap.add_argument("--refit", action="store_true",
                    help="re-fit the PM2.5 kernel of each member and print FIT")
    args = ap.parse_args(argv)
    if args.refit:
        refit()
        return 0
    build(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
