"""Ozone on response surfaces (docs/ozone.md): an exact piecewise-linear optimum by MIP.

Toys of one city whose O3 responds to its own NOx and VOC cuts on a 3 x 3 grid (cut shares
0, 0.5, 1). The city emits 1 kt of each; one measure per precursor removes all of it at
full application (cost 1 M CNY per unit share for NOx, ``cost_v`` for VOC), so the cut
shares are the application shares and the optima can be worked by hand, triangle by
triangle (each cell of the grid splits along its diagonal from (i, j) to (i+1, j+1)).
Every optimum is also checked against the independent MILP of tests/independent.py (a
different formulation: one binary per triangle).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.core as pyo
import pytest

import fairshare as fs
from fairshare.solver import Status, solve_model

from conftest import SCENARIOS, SHIPPED_SCENARIOS
from independent import (Region, read_surfaces, solve_independently, surface_concentration)
from toy import city, measure, write_region, write_scenario

GRID = (0.0, 0.5, 1.0)
# Titration ridge: cutting NOx raises O3 to +6 at half, then it falls to -20 at a full cut;
# VOC alone lowers it by at most 8. z[i][j]: i the NOx index, j the VOC index.
RIDGE = [[0, -4, -8], [6, 0, -5], [-20, -22, -24]]
# NOx cuts raise O3 at every depth without VOC; VOC is what works.
VOC_FIRST = [[0, -6, -12], [8, -2, -9], [2, -8, -16]]


def ozone_region(folder: Path, z, *, cost_v=10000.0, tn=-5.0, tv=8.0, surface=True,
                 nox=GRID, voc=GRID, pm=False) -> Path:
    """One city 'a'; O3 baseline 150; linear coefficients tn (NOx) and tv (VOC) per kt."""
    emissions = [{"city": "a", "sector": "ind", "pollutant": p, "emission_t": 1000.0}
                 for p in ("NOx", "VOC")]
    transport = [{"metric": "O3", "receptor": "a", "source": "a", "pollutant": "NOx",
                  "coef_ugm3_per_kt": tn},
                 {"metric": "O3", "receptor": "a", "source": "a", "pollutant": "VOC",
                  "coef_ugm3_per_kt": tv}]
    if pm:
        transport += [{"metric": "PM25", "receptor": "a", "source": "a", "pollutant": "NOx",
                       "coef_ugm3_per_kt": 10.0}]
    write_region(folder, cities=[city("a")], emissions=emissions,
                 measures=[measure("mn", ref="NOx", cost=1000.0, group="gn"),
                           measure("mv", ref="VOC", cost=cost_v, group="gv")],
                 efficiencies=[{"measure": "mn", "pollutant": "NOx", "efficiency": 1.0},
                               {"measure": "mv", "pollutant": "VOC", "efficiency": 1.0}],
                 transport=transport,
                 concentrations=[{"metric": "O3", "receptor": "a", "baseline_ugm3": 150.0}]
                 + ([{"metric": "PM25", "receptor": "a", "baseline_ugm3": 40.0}] if pm else []))
    if surface:
        pd.DataFrame([{"metric": "O3", "receptor": "a", "part": "local", "nox_cut_share": n,
                       "voc_cut_share": v, "change_ugm3": float(z[i][j])}
                      for i, n in enumerate(nox) for j, v in enumerate(voc)]
                     ).to_csv(folder / "response.csv", index=False)
    return folder


def o3_scenario(tmp_path: Path, region: Path, limit: float, name="oz", **keys) -> Path:
    return write_scenario(tmp_path / f"{name}.yaml", region, name=name,
                          targets=[{"metric": "O3", "max_ugm3": limit}], **keys)


def shares(res) -> tuple[float, float]:
    row = res.cities.set_index("city").loc["a"]
    return row["reduction_pct_NOx"] / 100, row["reduction_pct_VOC"] / 100


def relaxation_cost(path: Path) -> tuple[float, float, float]:
    """The LP relaxation (the interval binaries made continuous): (cost in CNY/yr, NOx and
    VOC cut shares)."""
    sc = fs.load_scenario(path)
    model = fs.build_model(sc)
    assert len(model.surface_choice) > 0
    for v in model.surface_choice.values():
        v.domain = pyo.Reals
        v.setlb(0.0)
        v.setub(1.0)
    out = solve_model(model)
    assert out.status == Status.OPTIMAL and out.mip is None  # an LP now
    return (out.objective * 1e6, model.application["a", "mn"].value,
            model.application["a", "mv"].value)


# --- the two isopleths, worked by hand ---------------------------------------------------------

def test_ridge_optimum_cuts_nox_deep_past_the_titration_ridge(tmp_path):
    """Target O3 <= 140 (a change of -10). VOC alone reaches -8 at most; NOx helps only
    past the ridge at a half cut. In the lower triangle of cell (0.5..1, 0..0.5) the change
    is 6 - 26 a - 2 b (a, b the position in the cell): a NOx step of the cell (0.5 M CNY)
    buys 26 µg/m³, a VOC step (5 M CNY) 2, so NOx only: a = 16/26, u_NOx = 0.5 + 8/26 =
    21/26, cost 21/26 M CNY. Every other triangle is dearer (VOC >= 0.5 costs >= 5 M)."""
    region = ozone_region(tmp_path / "r", RIDGE)
    path = o3_scenario(tmp_path, region, 140.0)
    res = fs.solve(fs.load_scenario(path))
    assert res.status == Status.OPTIMAL
    assert res.total_cost == pytest.approx(21 / 26 * 1e6, rel=1e-7)
    u_n, u_v = shares(res)
    assert u_n == pytest.approx(21 / 26, abs=1e-7) and u_v == pytest.approx(0.0, abs=1e-7)
    assert u_n > 0.5  # past the ridge
    rec = res.receptors.set_index("metric").loc["O3"]
    assert rec["final_ugm3"] == pytest.approx(140.0, abs=1e-6)
    assert rec["regime_baseline"] == "VOC-limited (titration)"
    assert rec["regime_plan"] == "NOx-limited"
    # the linear model (NOx coefficient -5: titration) says the same plan RAISES O3
    assert rec["linear_final_ugm3"] == pytest.approx(150 + 5 * 21 / 26)
    # MIP facts and duals of the LP with the integers fixed: 0.5 M per 26 µg/m³
    mip = res.summary["solver"]["mip"]
    assert mip["relative_gap"] <= 1e-6 and mip["integer_columns"] > 0 and mip["seconds"] >= 0
    assert "no duals" in mip["shadow_prices"]
    assert rec["shadow_price_cny_per_ugm3"] == pytest.approx(0.5e6 / 26, rel=1e-6)
    assert res.summary["response"]["binaries"] == mip["integer_columns"]
    # the independent MILP (one binary per triangle) agrees
    status, cost, _ = solve_independently(region, {"targets": [{"metric": "O3", "max_ugm3": 140}]})
    assert status == 0 and cost == pytest.approx(res.total_cost, rel=1e-6)


def test_ridge_linear_model_and_lp_relaxation_are_wrong(tmp_path):
    """The linear model (O3 = 150 + 5 u_NOx - 8 u_VOC) cannot reach 140 at all (VOC's 8 is
    its most); the LP relaxation mixes no cut (0) with a full NOx cut (-20): u_NOx = 0.5
    for 0.5 M CNY, a plan the surface puts at the ridge, +6 (156 µg/m³)."""
    linear = ozone_region(tmp_path / "lin", RIDGE, surface=False)
    res = fs.solve(fs.load_scenario(o3_scenario(tmp_path, linear, 140.0, name="lin")))
    assert res.status == Status.INFEASIBLE
    region = ozone_region(tmp_path / "r", RIDGE)
    cost, u_n, u_v = relaxation_cost(o3_scenario(tmp_path, region, 140.0))
    assert cost == pytest.approx(0.5e6, rel=1e-7) and u_n == pytest.approx(0.5)
    reg = Region(region)
    x = np.array([u_n, u_v])  # vars: (a, mn), (a, mv)
    assert surface_concentration(reg, read_surfaces(region), "O3", "a", x) == pytest.approx(156.0)


def test_voc_first_isopleth(tmp_path):
    """Target O3 <= 144 (-6), VOC at 4 M CNY per unit share. NOx cuts raise O3 at every
    depth without VOC (+8 at half, +2 at full). Cell (0..0.5, 0..0.5), upper triangle:
    change = -6 b + 4 a, so -6 needs b = 1 (u_VOC = 0.5) and a = 0: 2 M CNY. The best of
    cell (0.5..1, 0..0.5) is 2.6 M (6 a + 10 b >= 14: a = 1, b = 0.8); the cells with
    u_VOC >= 0.5 cost at least 2 M plus their NOx. Optimum: VOC only, 2 M CNY.
    The LP relaxation takes the full cut of both (-16 for 5 M) at 6/16: 1.875 M with a
    NOx cut; the linear model with a NOx coefficient of +10 (no titration) cuts NOx only,
    0.6 M, a plan the surface puts at +6.8."""
    region = ozone_region(tmp_path / "r", VOC_FIRST, cost_v=4000.0, tn=10.0, tv=12.0)
    path = o3_scenario(tmp_path, region, 144.0)
    res = fs.solve(fs.load_scenario(path))
    assert res.status == Status.OPTIMAL
    assert res.total_cost == pytest.approx(2.0e6, rel=1e-7)
    u_n, u_v = shares(res)
    assert u_n == pytest.approx(0.0, abs=1e-7) and u_v == pytest.approx(0.5, abs=1e-7)
    rec = res.receptors.set_index("metric").loc["O3"]
    assert rec["regime_baseline"] == "VOC-limited (titration)"
    status, cost, _ = solve_independently(region, {"targets": [{"metric": "O3", "max_ugm3": 144}]})
    assert status == 0 and cost == pytest.approx(2.0e6, rel=1e-6)
    relaxed, r_n, _ = relaxation_cost(path)
    assert relaxed == pytest.approx(1.875e6, rel=1e-7) and r_n > 0.1
    linear = ozone_region(tmp_path / "lin", VOC_FIRST, cost_v=4000.0, tn=10.0, tv=12.0,
                          surface=False)
    lin = fs.solve(fs.load_scenario(o3_scenario(tmp_path, linear, 144.0, name="lin")))
    assert lin.total_cost == pytest.approx(0.6e6, rel=1e-7)
    l_n, l_v = shares(lin)
    assert l_n == pytest.approx(0.6) and l_v == pytest.approx(0.0, abs=1e-9)
    reg = Region(region)
    assert surface_concentration(reg, read_surfaces(region), "O3", "a",
                                 np.array([l_n, l_v])) == pytest.approx(156.8)


def test_convex_surface_is_an_lp_with_true_duals(tmp_path):
    """A convex surface (sampled from 8a² - 18a + 6b² - 11b - 2ab, whose cross term keeps
    every cell convex across its diagonal) gets no binary: the LP is exact and its duals
    are the LP's own."""
    z = np.array([[0.0, -4.0, -5.0], [-7.0, -11.5, -13.0], [-10.0, -15.0, -17.0]])
    region = ozone_region(tmp_path / "r", z.tolist())
    res = fs.solve(fs.load_scenario(o3_scenario(tmp_path, region, 142.0)))
    assert res.status == Status.OPTIMAL
    assert "mip" not in res.summary["solver"]
    assert res.summary["response"]["binaries"] == 0
    assert res.summary["response"]["convex_surfaces"] == 1
    status, cost, _ = solve_independently(region, {"targets": [{"metric": "O3", "max_ugm3": 142}]})
    assert status == 0 and res.total_cost == pytest.approx(cost, rel=1e-6)


def test_titration_makes_a_target_infeasible_and_is_named(tmp_path):
    """Below the surface's lowest point (-24 with every cut: 126) the target is impossible;
    the diagnosis names NOx titration as the cause (the receptor is VOC-limited)."""
    region = ozone_region(tmp_path / "r", RIDGE)
    res = fs.solve(fs.load_scenario(o3_scenario(tmp_path, region, 120.0)))
    assert res.status == Status.INFEASIBLE
    below = res.diagnosis["targets_below_mtfr"]
    assert below[0]["mtfr_ugm3"] == pytest.approx(126.0)
    assert below[0]["cause"] == "NOx titration"
    assert below[0]["titration"]["ridge_nox_cut_share"] == 0.5
    fix = res.diagnosis["targets_must_give"]["relaxations"][0]["fix"]
    assert "NOx titration" in fix and "126" in fix


# --- a surface sampled from a known smooth function ---------------------------------------------

def smooth(a, b):
    """A titrating ozone response (concave in the NOx cut): rises with a light NOx cut,
    falls with a deep one; VOC cuts lower it, more so where NOx is cut less."""
    return 24 * a - 40 * a ** 2 - 15 * b + 5 * a * b


@pytest.mark.parametrize("points", [5, 9])
def test_sampled_surface_true_value_within_the_reported_bound(tmp_path, points):
    grid = np.linspace(0, 1, points)
    z = [[smooth(a, b) for b in grid] for a in grid]
    region = ozone_region(tmp_path / "r", z, cost_v=3000.0, nox=grid, voc=grid)
    res = fs.solve(fs.load_scenario(o3_scenario(tmp_path, region, 141.0)))
    assert res.status == Status.OPTIMAL
    u_n, u_v = shares(res)
    rec = res.receptors.set_index("metric").loc["O3"]
    true = 150.0 + smooth(u_n, u_v)
    assert abs(true - rec["final_ugm3"]) <= rec["error_bound_ugm3"] + 1e-9
    assert rec["error_bound_ugm3"] <= res.summary["response"]["grid_max_error_bound_ugm3"] + 1e-12
    # the bound shrinks with the grid (second order)
    if points == 9:
        assert res.summary["response"]["grid_max_error_bound_ugm3"] < 1.0
    # and holds at random points of the grid, not only at the plan
    from fairshare.data import load_region
    grid_obj = load_region(region).surfaces.grids[0]
    rng = np.random.default_rng(3)
    for u in rng.uniform(0, 1, size=(200, 2)):
        assert abs(smooth(*u) - grid_obj.value(u)) <= grid_obj.error_bound(u) + 1e-12


# --- the table's checks -----------------------------------------------------------------------

@pytest.mark.parametrize("fault,words,column", [
    (lambda df: df.drop(index=4), "do not fill the grid", "nox_cut_share"),
    (lambda df: df.assign(change_ugm3=df.change_ugm3 + 1.0), "at no cut (0, 0)", "change_ugm3"),
    (lambda df: df.assign(metric="O4"), "metric 'O4' is not defined", "metric"),
    (lambda df: df.assign(part="nearby"), "part 'nearby' is not defined", "part"),
    (lambda df: df.assign(nox_cut_share=df.nox_cut_share * 0.8), "must run from 0 to 1",
     "nox_cut_share"),
    (lambda df: df.assign(voc_cut_share=df.voc_cut_share * 2), "must be between 0 and 1",
     "voc_cut_share"),
])
def test_bad_response_table_is_one_clear_problem(tmp_path, fault, words, column):
    region = ozone_region(tmp_path / "r", RIDGE)
    df = pd.read_csv(region / "response.csv")
    fault(df).to_csv(region / "response.csv", index=False)
    with pytest.raises(fs.InputError) as err:
        fs.solve(fs.load_scenario(o3_scenario(tmp_path, region, 140.0)))
    found = [p for p in err.value.problems if words in p.message]
    assert found, [str(p) for p in err.value.problems]
    assert found[0].file == "response.csv" and found[0].column == column


def test_local_surface_needs_a_city_receptor(tmp_path):
    region = ozone_region(tmp_path / "r", RIDGE)
    pd.DataFrame([{"receptor": "station", "population": 10.0}, {"receptor": "a", "population": 1.0}]
                 ).to_csv(region / "receptors.csv", index=False)
    df = pd.read_csv(region / "response.csv")
    df.assign(receptor="station").to_csv(region / "response.csv", index=False)
    with pytest.raises(fs.InputError) as err:
        fs.load_region(region) if hasattr(fs, "load_region") else __import__(
            "fairshare.data", fromlist=["load_region"]).load_region(region)
    assert any("local surface needs a receptor that is a city" in p.message and p.row == 2
               for p in err.value.problems)


def test_roadmaps_and_robust_plans_on_surfaces_are_not_supported_yet(tmp_path):
    region = ozone_region(tmp_path / "r", RIDGE)
    for name in ("transport.csv", "concentrations.csv"):  # two transport members, a and b
        t = pd.read_csv(region / name)
        pd.concat([t.assign(member="a"), t.assign(member="b")]).to_csv(region / name, index=False)
    path = o3_scenario(tmp_path, region, 140.0, transport={"robust": ["a", "b"]})
    with pytest.raises(fs.InputError) as err:
        fs.solve(fs.load_scenario(path))
    assert any("not supported yet" in p.message for p in err.value.problems)


def test_results_folder_has_the_isopleths(tmp_path):
    region = ozone_region(tmp_path / "r", RIDGE)
    res = fs.solve(fs.load_scenario(o3_scenario(tmp_path, region, 140.0)))
    folder = res.write(tmp_path / "out")
    assert (folder / "isopleths.png").is_file()
    rec = pd.read_csv(folder / "receptors.csv")
    assert {"regime_plan", "linear_final_ugm3", "error_bound_ugm3"} <= set(rec.columns)
    assert "voc_nox_cut_ratio" in pd.read_csv(folder / "cities.csv").columns


# --- exact, lazily: several receptors, both SOS2 encodings, against the independent MILP -------

def two_city_ozone_region(folder: Path, seed: int) -> Path:
    """Cities a and b (1 kt of NOx and of VOC each, one measure per precursor, VOC dearer in
    b); O3 at each has a local surface (its own cuts) and a regional one (the other's),
    non-convex, random on a 4 x 4 grid (seeded); PM2.5 from NOx."""
    rng = np.random.default_rng(seed)
    grid = np.array([0.0, 0.3, 0.6, 1.0])
    cities = ["a", "b"]
    emissions = [{"city": c, "sector": "ind", "pollutant": p, "emission_t": 1000.0}
                 for c in cities for p in ("NOx", "VOC")]
    transport = [{"metric": "O3", "receptor": r, "source": s, "pollutant": p,
                  "coef_ugm3_per_kt": 4.0 if r == s else 2.0}
                 for r in cities for s in cities for p in ("NOx", "VOC")]
    transport += [{"metric": "PM25", "receptor": r, "source": s, "pollutant": "NOx",
                   "coef_ugm3_per_kt": 6.0 if r == s else 2.0} for r in cities for s in cities]
    write_region(folder, cities=[city(c) for c in cities], emissions=emissions,
                 measures=[measure("mn", ref="NOx", cost=1000.0, group="gn"),
                           measure("mv", ref="VOC", cost=2500.0, group="gv")],
                 efficiencies=[{"measure": "mn", "pollutant": "NOx", "efficiency": 1.0},
                               {"measure": "mv", "pollutant": "VOC", "efficiency": 1.0}],
                 transport=transport,
                 concentrations=[{"metric": m, "receptor": r, "baseline_ugm3": v}
                                 for r in cities for m, v in (("O3", 150.0), ("PM25", 40.0))])
    rows = []
    for r in cities:
        for part in ("local", "regional"):
            a, b = np.meshgrid(grid, grid, indexing="ij")
            # titration along NOx (up, then down), VOC cuts lower it, a random bump
            z = 14 * a - 22 * a ** 2 - 10 * b + 3 * a * b + rng.uniform(-2, 2, a.shape)
            z -= z[0, 0]
            rows += [{"metric": "O3", "receptor": r, "part": part, "nox_cut_share": grid[i],
                      "voc_cut_share": grid[j], "change_ugm3": round(float(z[i, j]), 3) + 0.0}
                     for i in range(4) for j in range(4)]
    pd.DataFrame(rows).to_csv(folder / "response.csv", index=False)
    return folder


@pytest.mark.parametrize("encoding", ["interval", "log"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_lazy_binaries_and_both_encodings_equal_the_independent_milp(tmp_path, monkeypatch,
                                                                    seed, encoding):
    """Two receptors, four non-convex surfaces: the lazy rounds (binaries only for the
    targets a relaxed optimum misses) with either SOS2 encoding give the optimum of the
    independent MILP (one binary per triangle), and the plan meets every target on the
    surfaces; the full MIP (every binary from the start) gives the same."""
    import fairshare.model.surfaces as ms

    monkeypatch.setattr(ms, "ENCODING", encoding)
    region = two_city_ozone_region(tmp_path / "r", seed)
    targets = [{"metric": "O3", "max_ugm3": 141.0}, {"metric": "PM25", "max_ugm3": 37.0}]
    path = write_scenario(tmp_path / "two.yaml", region, name="two", targets=targets)
    res = fs.solve(fs.load_scenario(path))
    status, cost, _ = solve_independently(region, {"targets": targets})
    if status == 2:
        assert res.status == Status.INFEASIBLE
        return
    assert status == 0 and res.status == Status.OPTIMAL
    assert res.total_cost == pytest.approx(cost, rel=1e-6)
    reg, surfaces = Region(region), read_surfaces(region)
    x = res.measures.set_index(["city", "measure"])["application"]
    xv = np.array([x.get(v, 0.0) for v in reg.vars])
    for r in ("a", "b"):
        assert surface_concentration(reg, surfaces, "O3", r, xv) <= 141.0 + 1e-6
    # every binary from the start: the same optimum
    model = fs.build_model(fs.load_scenario(path))
    del model._fs_lazy_binaries
    out = solve_model(model)
    assert out.status == Status.OPTIMAL and out.objective * 1e6 == pytest.approx(cost, rel=1e-6)


def test_a_target_that_cannot_bind_needs_no_binaries(tmp_path):
    """A lax target: the relaxation's plan meets it on the surface, so the solve is the LP
    (no integer column made integer, no MIP report), and exact."""
    region = ozone_region(tmp_path / "r", RIDGE)
    res = fs.solve(fs.load_scenario(o3_scenario(tmp_path, region, 157.0)))
    assert res.status == Status.OPTIMAL and res.total_cost == pytest.approx(0.0, abs=1e-6)
    assert "mip" not in res.summary["solver"]


def test_surface_mtfr_only_when_the_scenario_plans_on_the_surfaces(tmp_path):
    """A scenario without an O3 target reports O3's MTFR on the linear rows (no MIP per
    receptor); one with an O3 target, on the surfaces (the titration floor, 126)."""
    region = ozone_region(tmp_path / "r", RIDGE, pm=True)
    pm = write_scenario(tmp_path / "pm.yaml", region, name="pm",
                        targets=[{"metric": "PM25", "max_ugm3": 35.0}])
    res = fs.solve(fs.load_scenario(pm))
    o3 = res.receptors.set_index("metric").loc["O3"]
    assert o3["mtfr_ugm3"] == pytest.approx(150.0 - 8.0)  # linear: the VOC cut, 8 per kt
    assert "response" not in res.summary
    res = fs.solve(fs.load_scenario(o3_scenario(tmp_path, region, 140.0)))
    assert res.receptors.set_index("metric").loc["O3"]["mtfr_ugm3"] == pytest.approx(126.0)


def test_mip_rel_gap_is_a_scenario_key(tmp_path):
    region = ozone_region(tmp_path / "r", RIDGE)
    path = o3_scenario(tmp_path, region, 140.0, solver={"mip_rel_gap": 1e-4})
    model = fs.build_model(fs.load_scenario(path))
    assert model._fs_mip_rel_gap == 1e-4
    with pytest.raises(fs.InputError):
        fs.load_scenario(o3_scenario(tmp_path, region, 140.0, name="bad",
                                     solver={"mip_rel_gap": -1}))


# --- the shipped co-control scenario -----------------------------------------------------------

CO_CONTROL = SCENARIOS / "jjj-2030-co-control.yaml"


def _o3_on_surfaces(res) -> dict:
    """Each city's O3 of the plan ``res`` (2030) on the shipped surfaces (tests/independent.py)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shipped"))
    from test_shipped_scenarios import one_year_and_member

    flat = one_year_and_member(SCENARIOS.parent / "models" / "jjj-2plus26", 2030, "central")
    reg, surfaces = Region(flat), read_surfaces(flat)
    x = res.measures.set_index(["city", "measure"])["application"]
    xv = np.array([x.get(v, 0.0) for v in reg.vars])
    return {r: surface_concentration(reg, surfaces, "O3", r, xv) for r in reg.cities.index}


@pytest.mark.parametrize("rule", [{"rule": "burden_cap", "max_share_of_gdp": 0.005},
                                  {"rule": "burden_band", "width": 0.004}],
                         ids=lambda r: r["rule"])
def test_co_control_with_fairness_rules(tmp_path, rule):
    """The co-control option under a fairness rule: optimal, every O3 target met on the
    surfaces themselves, the rule held, no cheaper than without it."""
    import yaml

    path = tmp_path / "fair.yaml"
    path.write_text(yaml.safe_dump({"extends": str(CO_CONTROL), "name": "fair",
                                    "fairness": [rule]}))
    res = fs.solve(fs.load_scenario(path))
    assert res.status == Status.OPTIMAL
    assert max(_o3_on_surfaces(res).values()) <= 160.0 + 1e-6
    cities = pd.read_csv(SCENARIOS.parent / "models" / "jjj-2plus26" / "cities.csv").set_index("city")
    burden = res.cities.set_index("city")["cost_cny"] / (cities["gdp_bn_cny"] * 1e9)
    if rule["rule"] == "burden_cap":
        assert (burden <= 0.005 + 1e-9).all()
    else:
        regional = res.total_cost / (cities["gdp_bn_cny"].sum() * 1e9)
        assert ((burden - regional).abs() <= 0.004 + 1e-9).all()
    assert res.summary["price_of_fairness"] >= -1e-9


def test_co_control_the_linear_model_misjudges_ozone(tmp_path):
    """On the surfaces, the PM2.5 plan (jjj-2030-least-cost) RAISES O3 in every city
    (regional titration: NOx cut, VOC hardly), where the linear model says it falls; the
    co-control plan planned on the linear O3 rows instead of the surfaces meets 160 on the
    surfaces too, but costs far more (the linear model sees too little of what VOC cuts
    do): the surfaces change the plan both ways."""
    import shutil

    import yaml

    pm = fs.solve(fs.load_scenario(SCENARIOS / "jjj-2030-least-cost.yaml"))
    on = _o3_on_surfaces(pm)
    rec = pm.receptors.set_index(["metric", "receptor"])
    for r, value in on.items():
        c0 = rec.loc[("O3", r), "baseline_ugm3"]
        assert value > c0 and rec.loc[("O3", r), "final_ugm3"] < c0
    region = tmp_path / "linear"
    shutil.copytree(SCENARIOS.parent / "models" / "jjj-2plus26", region)
    (region / "response.csv").unlink()
    path = tmp_path / "lin.yaml"
    path.write_text(yaml.safe_dump({"extends": str(CO_CONTROL), "name": "lin",
                                    "region": str(region)}))
    linear = fs.solve(fs.load_scenario(path))
    surface = fs.solve(fs.load_scenario(CO_CONTROL))
    assert linear.status == surface.status == Status.OPTIMAL
    assert max(_o3_on_surfaces(linear).values()) <= 160.0 + 1e-6  # no violation (honestly)
    assert linear.total_cost > 2 * surface.total_cost
    # and the linear model's O3 for the surface plan is far above 160 where O3 binds
    o3 = surface.receptors[surface.receptors.metric == "O3"].set_index("receptor")
    binding = o3[o3.final_ugm3 >= 160.0 - 1e-6]
    assert len(binding) >= 1 and (binding.linear_final_ugm3 > 165.0).all()


def test_shipped_surfaces_are_reproducible_and_meet_the_record(tmp_path):
    """build_response.py rewrites response.csv byte for byte, and its surfaces reproduce the
    2013->2019 record on the 28-city mean (NOx -20 %, VOC +11 %: O3 +21 % over 2013)."""
    import importlib.util
    import subprocess
    import sys

    region = SCENARIOS.parent / "models" / "jjj-2plus26"
    subprocess.run([sys.executable, str(region / "build_response.py"), "--out", str(tmp_path)],
                   check=True)
    assert (tmp_path / "response.csv").read_bytes() == (region / "response.csv").read_bytes()
    spec = importlib.util.spec_from_file_location("jjj_build_response", region / "build_response.py")
    br = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(br)
    cities, k_loc, A, k_reg, B, base, bg = br.surfaces(region)
    rise = br.record_change(k_loc, A, k_reg, B)
    assert rise.mean() == pytest.approx(0.21 / 1.21 * base.mean(), rel=0.01)
    assert k_reg < 1 and all(k_loc[cities.index(c)] < 1 for c in br.K_LOC_CORE)
    full = base - (A * br.g(1, 1, k_loc) + B * br.g(1, 1, k_reg))
    assert np.allclose(full, bg)  # every precursor cut: the background


def test_a_mip_point_keeps_the_time_limit():
    """HiGHS reads its time limit as a point on the instance's run clock for an LP but as
    seconds from the run's start for a MIP: a sweep's MIP point (lazy rounds, a persistent
    instance whose clock has already run) must stop at the scenario's limit, not at the
    limit plus the clock's earlier seconds. The co-control target sweep's middle point
    takes far longer than 3 s to prove."""
    sc = fs.load_scenario(CO_CONTROL).variant(solver={"time_limit_s": 3})
    front = fs.pareto(sc, sweep="target", points=3)
    table = front.table if hasattr(front, "table") else front
    middle = table[table["epsilon"] == 0.5].iloc[0]
    assert middle["status"] == "time_limit"
    assert middle["solve_seconds"] <= 3 * 1.5 + 1.5


def test_a_mip_stopped_at_its_limit_says_how_far_it_got():
    """A MIP that ends at the time limit still reports its MIP block (gap, bound, nodes,
    lazy rounds, binaries made integer) in summary.json, without shadow prices. O3 <= 150
    in every city: round 1 (an LP) takes well under a second, round 2's MIP far more than
    3 s (about 5 s to a 1e-4 gap)."""
    sc = fs.load_scenario(CO_CONTROL).variant(
        targets=[{"metric": "PM25", "receptors": "all", "max_ugm3": 35},
                 {"metric": "O3", "receptors": "all", "max_ugm3": 150}],
        solver={"time_limit_s": 3})
    res = fs.solve(sc)
    assert res.status == Status.TIME_LIMIT
    mip = res.summary["solver"]["mip"]
    assert mip["shadow_prices"] is None and mip["rounds"] == 2
    assert mip["pairs_with_binaries"] >= 1 and mip["relative_gap"] > 0
