"""Tests of the benchmark generator (bench/make_region.py) and the LP floor
(bench/floor.py), whose optimum is checked against the independent LP
(tests/independent.py).  Small sizes only."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import load_bench
from independent import read_table, solve_independently

mr = load_bench("make_region")
fl = load_bench("floor")

COLUMNS = {
    "cities.csv": ["city", "name", "province", "zone", "lat", "lon", "population",
                   "gdp_bn_cny", "cost_factor"],
    "emissions.csv": ["city", "sector", "pollutant", "emission_t"],
    "measures.csv": ["measure", "sector", "group", "name", "ref_pollutant",
                     "cost_cny_per_t", "max_application"],
    "efficiencies.csv": ["measure", "pollutant", "efficiency"],
    "transport.csv": ["metric", "receptor", "source", "pollutant", "coef_ugm3_per_kt"],
    "concentrations.csv": ["metric", "receptor", "baseline_ugm3"],
}
SMALL = dict(cities=6, sectors=3, measures_per_sector=5, pollutants=3, seed=7)


def _gen(out, **kw):
    args = {**SMALL, **kw}
    scenario = args.pop("scenario", None)
    p = mr.Params(**args)
    return mr.generate(out, p, scenario_path=scenario)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "syn-6"
    info = _gen(out)
    return out, info


# --------------------------------------------------------------------------- generator

def test_every_file_with_design_columns(small):
    out, info = small
    for f, cols in COLUMNS.items():
        df = pd.read_csv(out / f)
        assert list(df.columns) == cols, f
        assert len(df) > 0, f
    assert not (out / "receptors.csv").exists()
    cities = pd.read_csv(out / "cities.csv")
    assert cities["city"].tolist() == [f"c{i:04d}" for i in range(1, 7)]
    assert cities["city"].is_unique and (cities["population"] > 0).all()
    assert (cities["lat"].max() - cities["lat"].min()) < 10
    emis = pd.read_csv(out / "emissions.csv")
    assert len(emis) == 6 * 3 * 3 and (emis["emission_t"] > 0).all()
    assert set(emis["pollutant"]) == {"PM25", "SO2", "NOx"}
    assert set(emis["sector"]) == {"sec01", "sec02", "sec03"}
    meas = pd.read_csv(out / "measures.csv")
    assert meas["measure"].is_unique
    assert meas["cost_cny_per_t"].between(1e3, 1e5).all()
    assert meas["max_application"].between(0, 1).all()
    # 2-3 exclusivity groups per sector
    assert meas.groupby("sector")["group"].nunique().between(2, 3).all()
    eff = pd.read_csv(out / "efficiencies.csv")
    assert eff["efficiency"].between(0, 1).all()
    assert set(eff["measure"]) <= set(meas["measure"])
    # every measure removes some of its reference pollutant
    e_ref = eff.merge(meas, left_on=["measure", "pollutant"], right_on=["measure", "ref_pollutant"])
    assert len(e_ref) == len(meas) and (e_ref["efficiency"] > 0).all()
    tr = pd.read_csv(out / "transport.csv")
    assert len(tr) == 6 * 6 * 3                                   # dense
    assert set(tr["receptor"]) == set(tr["source"]) == set(cities["city"])
    assert (tr["metric"] == "PM25").all()
    assert tr["coef_ugm3_per_kt"].min() >= 1e-6
    region = yaml.safe_load((out / "region.yaml").read_text())
    assert set(region) == {"name", "description", "base_year", "units", "sources", "notes"}
    assert "SYNTHETIC" in " ".join(region["notes"])
    assert "cities=6" in " ".join(region["notes"])
    sc = yaml.safe_load((out / "scenario.yaml").read_text())
    assert sc["name"] == "syn-6" and sc["region"] == "."
    assert sc["targets"] == [{"metric": "PM25", "receptors": "all",
                              "reduction_pct": info["reduction_pct"]}]


def test_local_coefficient_is_largest(small):
    out, _ = small
    tr = pd.read_csv(out / "transport.csv")
    for (r, p), g in tr.groupby(["receptor", "pollutant"]):
        assert g.loc[g["coef_ugm3_per_kt"].idxmax(), "source"] == r


def test_same_seed_same_files_other_seed_differs(tmp_path):
    _gen(tmp_path / "a")
    _gen(tmp_path / "b")
    _gen(tmp_path / "c", seed=8)
    names = sorted(f.name for f in (tmp_path / "a").iterdir())
    assert names == sorted(f.name for f in (tmp_path / "b").iterdir())
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n
    assert (tmp_path / "a" / "transport.csv").read_bytes() != (tmp_path / "c" / "transport.csv").read_bytes()


def test_parquet_and_csv_same_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(mr, "PARQUET_MIN_ROWS", 1)     # make every large table parquet
    _gen(tmp_path / "csv", receptors=9)
    _gen(tmp_path / "pq", receptors=9, fmt="parquet")
    for stem in ("transport", "concentrations", "receptors"):
        assert (tmp_path / "pq" / f"{stem}.parquet").exists()
        assert not (tmp_path / "pq" / f"{stem}.csv").exists()
        a = pd.read_csv(tmp_path / "csv" / f"{stem}.csv")
        b = pd.read_parquet(tmp_path / "pq" / f"{stem}.parquet")
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    for f in ("cities.csv", "emissions.csv", "measures.csv", "efficiencies.csv"):
        assert (tmp_path / "csv" / f).read_bytes() == (tmp_path / "pq" / f).read_bytes()
    # the floor reads either
    r1 = fl.solve_floor(tmp_path / "csv", 20)
    r2 = fl.solve_floor(tmp_path / "pq", 20)
    assert r1["status"] == r2["status"] == "optimal"
    assert r1["objective_cny"] == pytest.approx(r2["objective_cny"], rel=1e-9)
    # and so does the independent LP, to the same optimum
    lp_csv, lp_pq = _linprog_objective(tmp_path / "csv", 20), _linprog_objective(tmp_path / "pq", 20)
    assert lp_pq == pytest.approx(lp_csv, rel=1e-9)
    assert lp_pq == pytest.approx(r2["objective_cny"], rel=1e-6)


def _check_consistency(out, info):
    tr = read_table(out, "transport")
    emis = pd.read_csv(out / "emissions.csv").groupby(["city", "pollutant"], as_index=False)["emission_t"].sum()
    m = tr.merge(emis, left_on=["source", "pollutant"], right_on=["city", "pollutant"], validate="m:1")
    anthro = (m["coef_ugm3_per_kt"] * m["emission_t"] / 1000).groupby(m["receptor"]).sum()
    conc = read_table(out, "concentrations").set_index("receptor")["baseline_ugm3"]
    anthro = anthro.reindex(conc.index)
    bg = pd.Series(info["background"], index=conc.index)
    dropped = conc - anthro - bg                      # contribution of cut-off coefficients
    return conc, anthro, bg, dropped


def test_concentrations_are_background_plus_TE(small):
    out, info = small
    conc, anthro, bg, dropped = _check_consistency(out, info)
    np.testing.assert_allclose(conc.to_numpy(), (bg + anthro).to_numpy(), rtol=1e-12)
    share = bg / conc
    assert share.min() >= 0.15 - 1e-12 and share.max() <= 0.35 + 1e-12   # background <= 40 %
    assert conc.between(5, 300).all()


def test_transport_cutoff_drops_and_reports(tmp_path):
    full = _gen(tmp_path / "full", cities=12)
    cut = _gen(tmp_path / "cut", cities=12, transport_cutoff=0.02)
    assert cut["transport_dropped"] > 0
    assert cut["transport_rows"] + cut["transport_dropped"] == full["transport_rows"] == 12 * 12 * 3
    assert len(pd.read_csv(tmp_path / "cut" / "transport.csv")) == cut["transport_rows"]
    # baseline unchanged; the dropped part is what the kept coefficients no longer explain
    np.testing.assert_allclose(pd.read_csv(tmp_path / "cut" / "concentrations.csv")["baseline_ugm3"],
                               pd.read_csv(tmp_path / "full" / "concentrations.csv")["baseline_ugm3"],
                               rtol=1e-12)
    conc, anthro, bg, dropped = _check_consistency(tmp_path / "cut", cut)
    assert dropped.min() >= -1e-9
    assert dropped.max() == pytest.approx(cut["max_dropped_ugm3"], rel=1e-6)
    assert "dropped" in " ".join(yaml.safe_load((tmp_path / "cut" / "region.yaml").read_text())["notes"])


def test_csv_refused_for_huge_transport(tmp_path, monkeypatch):
    monkeypatch.setattr(mr, "CSV_MAX_TRANSPORT_ROWS", 100)
    with pytest.raises(ValueError, match="parquet"):
        _gen(tmp_path / "x")
    _gen(tmp_path / "y", fmt="parquet")                  # parquet is fine


def test_scenario_elsewhere_points_to_region(tmp_path):
    scen = tmp_path / "scenarios" / "syn.yaml"
    _gen(tmp_path / "regions" / "syn-6", scenario=scen)
    sc = yaml.safe_load(scen.read_text())
    assert (scen.parent / sc["region"]).resolve() == (tmp_path / "regions" / "syn-6").resolve()
    assert not (tmp_path / "regions" / "syn-6" / "scenario.yaml").exists()
    assert fl.main([str(scen)]) == 0


def test_cli(tmp_path):
    assert mr.main(["--cities", "5", "--sectors", "2", "--measures-per-sector", "3",
                    "--pollutants", "2", "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "transport.csv").exists()
    assert mr.main(["--cities", "0", "--out", str(tmp_path / "z")]) == 2


# --------------------------------------------------------------------------- floor vs linprog

def _linprog_objective(region, reduction_pct):
    """The floor's LP solved by the independent formulation: every receptor's PM2.5
    reduced by ``reduction_pct`` % of its baseline, at least cost (CNY/yr)."""
    status, cost_cny, res = solve_independently(
        region, {"targets": [{"metric": "PM25", "receptors": "all", "reduction_pct": reduction_pct}]})
    assert status == 0, res.message
    return cost_cny


@pytest.mark.parametrize("kw", [{}, {"receptors": 10}], ids=["cities", "receptors"])
def test_floor_matches_linprog(tmp_path, kw):
    out = tmp_path / "r"
    info = _gen(out, **kw)
    R = info["reduction_pct"]
    res = fl.solve_floor(out, R)
    assert res["status"] == "optimal"
    assert res["max_violation"] < 1e-7
    assert res["objective_cny"] > 0
    assert res["binding_receptors"] >= 1
    assert res["objective_cny"] == pytest.approx(res["highs_objective_cny"], rel=1e-9)
    assert res["rows"] == sum(res["blocks"].values())
    assert res["cols"] == 6 * 15 + 6 * 3 + 6
    ref = _linprog_objective(out, R)
    assert res["objective_cny"] == pytest.approx(ref, rel=1e-6)
    # near the guaranteed reach, removal limits and exclusivity bind too
    hard = 0.9 * info["min_reachable_pct"]
    res_hard = fl.solve_floor(out, hard)
    assert res_hard["status"] == "optimal"
    assert res_hard["objective_cny"] == pytest.approx(_linprog_objective(out, hard), rel=1e-6)
    # a stricter target costs more
    assert fl.solve_floor(out, R + 5)["objective_cny"] > res["objective_cny"] * (1 + 1e-6)


def test_receptors_not_cities(tmp_path):
    out = tmp_path / "r"
    info = _gen(out, receptors=25)
    rec = pd.read_csv(out / "receptors.csv")
    assert list(rec.columns) == ["receptor", "lat", "lon", "population"]
    assert rec["receptor"].tolist() == [f"r{i:06d}" for i in range(1, 26)]
    tr = pd.read_csv(out / "transport.csv")
    assert len(tr) == 25 * 6 * 3
    assert set(tr["receptor"]) == set(rec["receptor"])
    assert set(tr["source"]) == set(pd.read_csv(out / "cities.csv")["city"])
    conc = pd.read_csv(out / "concentrations.csv")
    assert conc["receptor"].tolist() == rec["receptor"].tolist()
    c, anthro, bg, _ = _check_consistency(out, info)
    np.testing.assert_allclose(c.to_numpy(), (bg + anthro).to_numpy(), rtol=1e-12)
    # coefficients follow distance: the nearest source has the largest PM25 coefficient
    cities = pd.read_csv(out / "cities.csv").set_index("city")
    pm = tr[tr["pollutant"] == "PM25"]
    for r in rec.itertuples():
        g = pm[pm["receptor"] == r.receptor].set_index("source")["coef_ugm3_per_kt"]
        x, y = mr._latlon_to_xy(cities.loc[g.index, "lat"], cities.loc[g.index, "lon"])
        rx, ry = mr._latlon_to_xy(r.lat, r.lon)
        d = np.hypot(x - rx, y - ry)
        assert np.corrcoef(np.log(g.to_numpy()), np.log(d + 1))[0, 1] < -0.5
    sc = yaml.safe_load((out / "scenario.yaml").read_text())
    assert sc["name"] == "syn-6-r25"
    assert fl.solve_floor(out, info["reduction_pct"])["status"] == "optimal"
