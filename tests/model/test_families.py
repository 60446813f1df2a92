"""Layer 1: an analytic toy per constraint family, optimum worked out by hand.

The base toy (tests/toy.py): cities a and b each emit 1 kt PM25 from sector
"ind"; measure m1 removes 50% at 1000 CNY/t, so full application in a city costs
0.5 M CNY/yr and removes 0.5 kt; T = 10 µg/m³ per kt at home, 2 next door;
C0 = 20 µg/m³. Applying x_a lowers C_a by 5 x_a and C_b by 1 x_a.
"""

from __future__ import annotations

import pytest

import fairshare as fs
from fairshare.solver import Status

from independent import solve_independently
from toy import city, measure, two_city_region, write_region, write_scenario


def solve_toy(tmp_path, region_kw=None, **scenario):
    region = two_city_region(tmp_path / "region", **(region_kw or {}))
    path = write_scenario(tmp_path / "s.yaml", region, **scenario)
    sc = fs.load_scenario(path)
    model = fs.build_model(sc)
    return fs.solve(sc, model=model), model


def app(res, city_id, measure_id="m1"):
    rows = res.measures[(res.measures.city == city_id) & (res.measures.measure == measure_id)]
    return float(rows.application.sum())


# --- air-quality targets ----------------------------------------------------------------

def test_max_target_uses_the_cheapest_removal_per_ugm3(tmp_path):
    # Lower C_a from 20 to 17: x_a costs 0.1 M CNY per µg/m³ at a, x_b 0.5: x_a = 0.6.
    res, _ = solve_toy(tmp_path, targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}])
    assert res.status == Status.OPTIMAL
    assert res.total_cost == pytest.approx(300_000, rel=1e-9)
    assert app(res, "a") == pytest.approx(0.6)
    assert app(res, "b") == pytest.approx(0.0, abs=1e-9)
    rec = res.receptors.set_index("receptor")
    assert rec.loc["a", "final_ugm3"] == pytest.approx(17.0)
    assert rec.loc["a", "shadow_price_cny_per_ugm3"] == pytest.approx(100_000, rel=1e-9)
    assert rec.loc["b", "shadow_price_cny_per_ugm3"] == 0.0


def test_shadow_price_matches_a_finite_difference_resolve(tmp_path):
    tgt = lambda v: [{"metric": "PM25", "receptors": ["a"], "max_ugm3": v}]  # noqa: E731
    base, _ = solve_toy(tmp_path / "1", targets=tgt(17.0))
    tight, _ = solve_toy(tmp_path / "2", targets=tgt(16.9))
    price = base.receptors.set_index("receptor").loc["a", "shadow_price_cny_per_ugm3"]
    assert price > 0  # marginal cost of tightening is positive
    assert (tight.total_cost - base.total_cost) / 0.1 == pytest.approx(price, rel=1e-6)


def test_reduction_pct_and_gap_closure_give_the_same_limit(tmp_path):
    # 15% of 20 = 3 µg/m³; MTFR_a = 20 - 5 - 1 = 14, so gap closure 0.5 also means 17.
    pct, _ = solve_toy(tmp_path / "1", targets=[{"metric": "PM25", "receptors": ["a"],
                                                 "reduction_pct": 15}])
    gap, _ = solve_toy(tmp_path / "2", targets=[{"metric": "PM25", "receptors": ["a"],
                                                 "gap_closure": 0.5}])
    assert pct.total_cost == pytest.approx(300_000)
    assert gap.total_cost == pytest.approx(300_000)
    assert gap.receptors.set_index("receptor").loc["a", "mtfr_ugm3"] == pytest.approx(14.0)


def test_tightest_of_several_targets_applies(tmp_path):
    res, _ = solve_toy(tmp_path, targets=[{"metric": "PM25", "receptors": "all", "max_ugm3": 19},
                                          {"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}])
    rec = res.receptors.set_index("receptor")
    assert rec.loc["a", "target_ugm3"] == 17 and rec.loc["b", "target_ugm3"] == 19
    # a: 5 x_a + x_b >= 3 ; b: x_a + 5 x_b >= 1 ; min 0.5 (x_a + x_b): x_a = 7/12, x_b = 1/12
    assert res.total_cost == pytest.approx(0.5e6 * (7 / 12 + 1 / 12), rel=1e-9)


def test_population_weighted_exposure(tmp_path):
    # Equal populations: mean C = 20 - 3 x_a - 3 x_b; b costs twice as much (cost_factor 2).
    res, _ = solve_toy(tmp_path, region_kw={"cities": [city("a"), city("b", cost_factor=2.0)]},
                       targets=[{"metric": "PM25", "exposure": "population_weighted",
                                 "max_ugm3": 18.5}])
    assert app(res, "a") == pytest.approx(0.5)
    assert res.total_cost == pytest.approx(250_000)


def test_exposure_weighted_by_the_receptors_table(tmp_path):
    # Receptors r1 (3 M people, next to a) and r2 (1 M, next to b): weights 3/4 and 1/4, so
    # mean C = 20 - (3/4)(5 x_a + x_b) - (1/4)(x_a + 5 x_b) = 20 - 4 x_a - 2 x_b <= 18:
    # x_a = 0.5, 0.25 M CNY. (Weighted by the cities' equal populations: x = 2/3, 1/3 M more.)
    coef = {("r1", "a"): 10.0, ("r1", "b"): 2.0, ("r2", "a"): 2.0, ("r2", "b"): 10.0}
    region_kw = {
        "receptors": [{"receptor": "r1", "lat": 39.0, "lon": 116.0, "population": 3e6},
                      {"receptor": "r2", "lat": 39.5, "lon": 116.5, "population": 1e6}],
        "transport": [{"metric": "PM25", "receptor": r, "source": s, "pollutant": "PM25",
                       "coef_ugm3_per_kt": v} for (r, s), v in coef.items()],
        "concentrations": [{"metric": "PM25", "receptor": r, "baseline_ugm3": 20.0}
                           for r in ("r1", "r2")]}
    res, _ = solve_toy(tmp_path, region_kw=region_kw,
                       targets=[{"metric": "PM25", "exposure": "population_weighted",
                                 "max_ugm3": 18}])
    assert res.status == Status.OPTIMAL
    assert app(res, "a") == pytest.approx(0.5)
    assert app(res, "b") == pytest.approx(0.0, abs=1e-9)
    assert res.total_cost == pytest.approx(250_000)
    # the independent LP reads the same weights from receptors.csv
    sc = fs.load_scenario(tmp_path / "s.yaml")
    status, cost_cny, _ = solve_independently(sc.region, sc.resolved_dict())
    assert status == 0 and cost_cny == pytest.approx(res.total_cost, rel=1e-6)


# --- emission caps --------------------------------------------------------------------------

def test_emission_cap_reduction_pct_and_its_shadow_price(tmp_path):
    # 40% of 2 kt = 0.8 kt: a fully (0.5 kt, 0.5 M), then b (2000 CNY/t) for 0.3 kt: 0.6 M.
    res, _ = solve_toy(tmp_path, region_kw={"cities": [city("a"), city("b", cost_factor=2.0)]},
                       targets=[{"emission_cap": "PM25", "zone": "all", "reduction_pct": 40}])
    assert res.total_cost == pytest.approx(1.1e6)
    cap = res.summary["emission_caps"][0]
    assert cap["final_t"] == pytest.approx(1200.0)
    assert cap["shadow_price_cny_per_t"] == pytest.approx(2000.0)


def test_emission_cap_max_t_on_one_zone(tmp_path):
    cities = [city("a", zone="north"), city("b", zone="south")]
    res, _ = solve_toy(tmp_path, region_kw={"cities": cities},
                       targets=[{"emission_cap": "PM25", "zone": "south", "max_t": 800}])
    assert app(res, "b") == pytest.approx(0.4)  # b removes 0.2 kt of its 1 kt
    assert app(res, "a") == pytest.approx(0.0, abs=1e-9)
    assert res.total_cost == pytest.approx(200_000)


# --- measures: exclusivity and removal-share limit --------------------------------------------

def one_city(folder, measures, efficiencies):
    return write_region(
        folder, cities=[city("a")],
        emissions=[{"city": "a", "sector": "ind", "pollutant": "PM25", "emission_t": 1000.0}],
        measures=measures, efficiencies=efficiencies,
        transport=[{"metric": "PM25", "receptor": "a", "source": "a", "pollutant": "PM25",
                    "coef_ugm3_per_kt": 10.0}],
        concentrations=[{"metric": "PM25", "receptor": "a", "baseline_ugm3": 20.0}])


def test_exclusive_measures_share_the_emission_base(tmp_path):
    # m1: eff 0.5, 0.5 M at full; m2: eff 0.9, 1.8 M at full; x1 + x2 <= 1; need 0.7 kt.
    # Cheapest: x1 = x2 = 0.5 -> 0.25 + 0.9 = 1.15 M (m2 alone would cost 1.4 M).
    region = one_city(tmp_path / "r", [measure("m1"), measure("m2", cost=2000.0)],
                      [{"measure": "m1", "pollutant": "PM25", "efficiency": 0.5},
                       {"measure": "m2", "pollutant": "PM25", "efficiency": 0.9}])
    sc = fs.load_scenario(write_scenario(tmp_path / "s.yaml", region,
                                         targets=[{"metric": "PM25", "max_ugm3": 13}]))
    res = fs.solve(sc)
    assert res.total_cost == pytest.approx(1.15e6)
    assert app(res, "a", "m1") == pytest.approx(0.5)
    assert app(res, "a", "m2") == pytest.approx(0.5)


def test_stacked_groups_cannot_remove_more_than_everything(tmp_path):
    # Two groups in one sector: 0.7 + 0.6 would exceed 100%; the removal limit caps it at 1 kt,
    # so MTFR = 20 - 10 * 1 = 10 (without the limit it would be 7).
    region = one_city(tmp_path / "r", [measure("m1", group="g1"), measure("m2", group="g2")],
                      [{"measure": "m1", "pollutant": "PM25", "efficiency": 0.7},
                       {"measure": "m2", "pollutant": "PM25", "efficiency": 0.6}])
    sc = fs.load_scenario(write_scenario(tmp_path / "s.yaml", region,
                                         targets=[{"metric": "PM25", "max_ugm3": 10}]))
    table = fs.mtfr(sc)
    assert table.loc[0, "mtfr_ugm3"] == pytest.approx(10.0)
    res = fs.solve(sc)
    assert res.status == Status.OPTIMAL
    rho = 0.7 * app(res, "a", "m1") + 0.6 * app(res, "a", "m2")
    assert rho == pytest.approx(1.0)


def test_negative_coefficients_titration(tmp_path):
    # O3 rises when NOx falls (coefficient -5 per kt); VOC lowers it (8 per kt).
    # MTFR must leave the NOx measure off: 150 - 8 * 1 = 142.
    region = write_region(
        tmp_path / "r", cities=[city("a")],
        emissions=[{"city": "a", "sector": "ind", "pollutant": p, "emission_t": 1000.0}
                   for p in ("NOx", "VOC")],
        measures=[measure("denox", group="g1", ref="NOx"), measure("voc", group="g2", ref="VOC")],
        efficiencies=[{"measure": "denox", "pollutant": "NOx", "efficiency": 1.0},
                      {"measure": "voc", "pollutant": "VOC", "efficiency": 1.0}],
        transport=[{"metric": "O3", "receptor": "a", "source": "a", "pollutant": "NOx",
                    "coef_ugm3_per_kt": -5.0},
                   {"metric": "O3", "receptor": "a", "source": "a", "pollutant": "VOC",
                    "coef_ugm3_per_kt": 8.0}],
        concentrations=[{"metric": "O3", "receptor": "a", "baseline_ugm3": 150.0}])
    sc = fs.load_scenario(write_scenario(
        tmp_path / "s.yaml", region,
        targets=[{"metric": "O3", "max_ugm3": 146}, {"emission_cap": "NOx", "max_t": 800}]))
    assert fs.mtfr(sc).loc[0, "mtfr_ugm3"] == pytest.approx(142.0)
    # The NOx cap forces 0.2 kt NOx (+1 µg/m³ O3), so VOC must remove 5/8 kt: 0.2 M + 0.625 M.
    res = fs.solve(sc)
    assert app(res, "a", "denox") == pytest.approx(0.2)
    assert app(res, "a", "voc") == pytest.approx(0.625)
    assert res.total_cost == pytest.approx(825_000)


# --- fairness: burden cap -----------------------------------------------------------------

def test_burden_cap_shifts_cost_to_the_neighbour(tmp_path):
    # a's GDP is 0.1 bn CNY: a cap of 0.1% lets it spend 0.1 M (x_a <= 0.2, -1 µg/m³).
    # With T_ab = 4, x_b lowers C_a by 2: x_b = 1 closes the rest. Cost 0.1 + 0.5 = 0.6 M.
    transport = [{"metric": "PM25", "receptor": r, "source": s, "pollutant": "PM25",
                  "coef_ugm3_per_kt": {("a", "a"): 10.0, ("a", "b"): 4.0}.get((r, s), 2.0 if r != s else 10.0)}
                 for r in "ab" for s in "ab"]
    kw = {"cities": [city("a", gdp_bn_cny=0.1), city("b", gdp_bn_cny=50.0)],
          "transport": transport}
    target = [{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}]
    free, _ = solve_toy(tmp_path / "1", region_kw=kw, targets=target)
    capped, _ = solve_toy(tmp_path / "2", region_kw=kw, targets=target,
                          fairness=[{"rule": "burden_cap", "max_share_of_gdp": 0.001}])
    assert free.total_cost == pytest.approx(300_000)
    assert capped.total_cost == pytest.approx(600_000)
    burden = capped.cities.set_index("city")["burden"]
    assert (burden <= 0.001 + 1e-12).all()
    assert burden["a"] == pytest.approx(0.001)


# --- infeasibility ------------------------------------------------------------------------

def test_target_below_mtfr_is_named(tmp_path):
    res, _ = solve_toy(tmp_path, targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 10}])
    assert res.status == Status.INFEASIBLE
    below = res.diagnosis["targets_below_mtfr"]
    assert [(b["receptor"], b["target_ugm3"]) for b in below] == [("a", 10.0)]
    assert below[0]["mtfr_ugm3"] == pytest.approx(14.0)
    # no fairness rule: only the targets can give; at the MTFR C_a = 14, 4 µg/m³ above 10
    assert "rules_must_give" not in res.diagnosis
    (give,) = res.diagnosis["targets_must_give"]["relaxations"]
    assert (give["entry"], give["rule"], give["subject"]) == ("targets[0]", "concentration", "PM2.5 at a")
    assert give["amount"] == pytest.approx(4.0) and give["unit"] == "µg/m³"
    assert (give["now"], give["needed"]) == (10.0, pytest.approx(14.0))
    assert give["line"] is not None and give["file"].endswith("s.yaml")


def test_jointly_infeasible_rules_are_named_in_their_own_units(tmp_path):
    # Each target alone is feasible (MTFR 14), but a burden cap of 0.0001% of GDP
    # (0.1 M CNY for a, 0.05 M for b) leaves at most x_a = 0.2, x_b = 0.1: C_a >= 18.9.
    res, _ = solve_toy(tmp_path, targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}],
                       fairness=[{"rule": "burden_cap", "max_share_of_gdp": 0.000001}])
    assert res.status == Status.INFEASIBLE
    assert res.diagnosis["targets_below_mtfr"] == []
    # Rules give, target kept: 5 x_a + x_b >= 3 with x_b at its cap 0.1 -> x_a = 0.58,
    # a's cost 0.29 M CNY = 2.9e-6 of its GDP (cap 1e-6): +1.9e-4 percentage points.
    (rule,) = res.diagnosis["rules_must_give"]["relaxations"]
    assert (rule["entry"], rule["rule"], rule["subject"]) == ("fairness[0]", "burden_cap", "a")
    assert rule["unit"] == "% of GDP"
    assert rule["now"] == pytest.approx(1e-4) and rule["needed"] == pytest.approx(2.9e-4)
    assert "max_share_of_gdp" in rule["fix"]
    # Targets give, rule kept: C_a = 20 - 5 * 0.2 - 0.1 = 18.9, 1.9 above the limit.
    (target,) = res.diagnosis["targets_must_give"]["relaxations"]
    assert (target["entry"], target["subject"]) == ("targets[0]", "PM2.5 at a")
    assert target["needed"] == pytest.approx(18.9)


def test_user_constraint_on_the_built_model(tmp_path):
    # A planner forbids measures in a; then b must do it alone: x_b lowers C_a by 1 per unit,
    # so C_a <= 19.5 needs x_b = 0.5 (0.25 M CNY).
    import pyomo.environ as pyo

    region = two_city_region(tmp_path / "region")
    sc = fs.load_scenario(write_scenario(tmp_path / "s.yaml", region,
                                         targets=[{"metric": "PM25", "receptors": ["a"],
                                                   "max_ugm3": 19.5}]))
    model = fs.build_model(sc)
    model.no_a = pyo.Constraint(expr=model.city_cost["a"] <= 0)
    res = fs.solve(sc, model=model)
    assert res.total_cost == pytest.approx(250_000)
    assert pyo.value(model.concentration["PM25", "a"]) == pytest.approx(19.5)
    assert model.application["b", "m1"].value == pytest.approx(0.5)
