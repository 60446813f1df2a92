"""Fairness rules, objectives and quadratic costs on toys with hand-worked optima.

The toy (tests/toy.py): cities a (GDP 100 bn CNY) and b (GDP 50 bn), 1 kt PM25 each,
one measure removing 50% at 0.5 M CNY/yr at full application (x = 1); C_a = 20 -
5 x_a - x_b. The target C_a <= 17 means 5 x_a + x_b >= 3; least cost x_a = 0.6
(0.3 M CNY). Burdens: b_a = 0.5 x_a / 1e5, b_b = 0.5 x_b / 5e4 (million CNY).
Each test states its derivation, then asserts the optimum and that the rule holds.
"""

from __future__ import annotations

import pytest

import fairshare as fs
from fairshare.results import gini
from fairshare.solver import Status

from toy import TARGET_A, city, measure, two_city_region, write_scenario


def run(tmp_path, region_kw=None, targets=TARGET_A, **scenario):
    region = two_city_region(tmp_path / "region", **(region_kw or {}))
    sc = fs.load_scenario(write_scenario(tmp_path / "s.yaml", region, targets=targets, **scenario))
    res = fs.solve(sc)
    assert res.status == Status.OPTIMAL, res.message
    return res


def x_of(res) -> dict:
    apps = res.measures.groupby("city")["application"].sum()
    return {c: float(apps.get(c, 0.0)) for c in ("a", "b")}


def burdens(res) -> dict:
    return res.cities.set_index("city")["burden"].to_dict()


def test_burden_band_of_zero_equalises_burdens(tmp_path):
    # b_a = b_b  <=>  x_a = 2 x_b; 5 x_a + x_b = 3 -> x_b = 3/11, x_a = 6/11; cost 4.5/11 M.
    res = run(tmp_path, fairness=[{"rule": "burden_band", "width": 0.0}])
    assert res.total_cost == pytest.approx(4.5e6 / 11, rel=1e-7)
    b = burdens(res)
    regional = res.cities.cost_cny.sum() / 150e9
    assert b["a"] == pytest.approx(regional, rel=1e-6) and b["b"] == pytest.approx(regional, rel=1e-6)


def test_price_of_fairness_and_cost_shifts(tmp_path):
    res = run(tmp_path, fairness=[{"rule": "burden_band", "width": 0.0}])
    assert res.summary["least_cost_cny"] == pytest.approx(300_000)
    assert res.summary["price_of_fairness"] == pytest.approx((4.5 / 11) / 0.3 - 1, rel=1e-6)
    shift = res.cities.set_index("city")["cost_shift_cny"]
    assert shift["a"] == pytest.approx(0.5e6 * 6 / 11 - 300_000, rel=1e-6)
    assert shift["b"] == pytest.approx(0.5e6 * 3 / 11, rel=1e-6)


def test_least_cost_scenario_has_no_price_of_fairness(tmp_path):
    res = run(tmp_path)
    assert res.summary["price_of_fairness"] is None
    assert "cost_shift_cny" not in res.cities


def test_burden_band_width_holds(tmp_path):
    width = 1e-6
    res = run(tmp_path, fairness=[{"rule": "burden_band", "width": width}])
    regional = res.cities.cost_cny.sum() / 150e9
    assert all(abs(v - regional) <= width + 1e-12 for v in burdens(res).values())
    # Least cost has B = 2e-6 and b_b = 0, so b's side binds: B - b_b <= 1e-6 reads
    # (x_a + x_b)/3 - x_b <= 0.1, i.e. x_a - 2 x_b <= 0.3. On 5 x_a + x_b = 3 maximise x_a:
    # x_a = 6.3/11, x_b = 1.5/11, cost 0.5 * 7.8/11 = 3.9/11 M.
    assert res.total_cost == pytest.approx(3.9e6 / 11, rel=1e-7)


def test_equal_reduction_min_pct(tmp_path):
    # 40% of 1 kt in each city: 0.5 x >= 0.4 -> x >= 0.8 both; C_a = 15.2 <= 17. Cost 0.8 M.
    res = run(tmp_path, fairness=[{"rule": "equal_reduction", "pollutant": "PM25", "min_pct": 40}])
    assert res.total_cost == pytest.approx(800_000)
    assert (res.cities.reduction_pct_PM25 >= 40 - 1e-7).all()


def test_equal_reduction_band(tmp_path):
    # Band 0 with equal emissions: x_a = x_b; 6 x >= 3 -> x = 0.5; cost 0.5 M.
    res = run(tmp_path, fairness=[{"rule": "equal_reduction", "pollutant": "PM25", "band_pct": 0}])
    assert res.total_cost == pytest.approx(500_000)
    pct = res.cities.reduction_pct_PM25
    assert pct.max() - pct.min() == pytest.approx(0, abs=1e-6)


def test_unified_standard_by_measure(tmp_path):
    # x_b >= 0.3 in both cities; 5 x_a + 0.3 >= 3 -> x_a = 0.54; cost 0.5 (0.54 + 0.3) = 0.42 M.
    res = run(tmp_path, fairness=[{"rule": "unified_standard", "measure": "m1",
                                   "min_application": 0.3}])
    assert res.total_cost == pytest.approx(420_000)
    assert min(x_of(res).values()) >= 0.3 - 1e-9


def test_unified_standard_by_sector_removal(tmp_path):
    # removal 0.5 x >= 0.25 -> x >= 0.5 in both; 5 x_a + 0.5 >= 3 -> x_a = 0.5; cost 0.5 M.
    res = run(tmp_path, fairness=[{"rule": "unified_standard", "sector": "ind",
                                   "pollutant": "PM25", "min_removal": 0.25}])
    assert res.total_cost == pytest.approx(500_000)
    assert all(0.5 * v >= 0.25 - 1e-9 for v in x_of(res).values())


def test_ability_to_pay_by_gdp_per_capita_class(tmp_path):
    # GDP per person: a 100,000, b 50,000 CNY. Classes: <= 60,000 -> 1e-6 of GDP (b may
    # spend 0.05 M: x_b <= 0.1), richer -> 1% of GDP. Target C_b <= 19: 5 x_b + x_a >= 1.
    # Least cost x_b = 0.2 (0.1 M); with the rule x_b = 0.1, x_a = 0.5: 0.3 M.
    rule = {"rule": "ability_to_pay", "class_by": "gdp_per_capita",
            "classes": [{"max_gdp_per_capita_cny": 60_000, "max_share_of_gdp": 1e-6},
                        {"max_gdp_per_capita_cny": None, "max_share_of_gdp": 0.01}]}
    res = run(tmp_path, targets=[{"metric": "PM25", "receptors": ["b"], "max_ugm3": 19}],
              fairness=[rule])
    assert res.total_cost == pytest.approx(300_000)
    assert burdens(res)["b"] <= 1e-6 + 1e-15
    assert res.summary["least_cost_cny"] == pytest.approx(100_000)


@pytest.mark.parametrize("max_gini, cost_m", [(0.0, 4.5 / 11), (0.25, 10.5 / 31)])
def test_gini_of_burden(tmp_path, max_gini, cost_m):
    # Two cities: G = |b_a - b_b| / (2 (b_a + b_b)); least cost G = 0.5.
    # G <= 0.25 -> b_a <= 3 b_b -> x_a <= 6 x_b; on 5 x_a + x_b = 3: x_a = 18/31, cost 10.5/31 M.
    res = run(tmp_path, fairness=[{"rule": "gini", "of": "burden", "max": max_gini}])
    assert res.total_cost == pytest.approx(cost_m * 1e6, rel=1e-6)
    b = res.cities.burden.to_numpy()
    assert gini(b) <= max_gini + 1e-6
    assert res.summary["fairness"]["gini_burden"] == pytest.approx(gini(b))


def test_gini_of_cost_per_capita(tmp_path):
    # Equal populations: v = cost; G <= 0.25 -> x_a <= 3 x_b -> x_a = 9/16, x_b = 3/16: 0.375 M.
    res = run(tmp_path, fairness=[{"rule": "gini", "of": "cost_per_capita", "max": 0.25}])
    assert res.total_cost == pytest.approx(375_000, rel=1e-6)
    assert res.summary["fairness"]["gini_cost_per_capita"] <= 0.25 + 1e-6


def test_per_capita_emissions_band(tmp_path):
    # Equal populations (1e6): |post_a - post_b| / 2 <= 0.1 kt -> |x_a - x_b| <= 0.4;
    # on 5 x_a + x_b = 3 maximise x_a: x_a = 3.4/6, x_b = x_a - 0.4; cost 0.5 (2 x_a - 0.4).
    res = run(tmp_path, fairness=[{"rule": "per_capita", "pollutant": "PM25",
                                   "band_t_per_person": 1e-4}])
    xa = 3.4 / 6
    assert res.total_cost == pytest.approx(0.5e6 * (2 * xa - 0.4), rel=1e-6)
    post_t = 1000 - res.cities.set_index("city")["reduction_t_PM25"]
    per_person = post_t / 1e6
    assert (abs(per_person - post_t.sum() / 2e6) <= 1e-4 + 1e-12).all()


def test_polluter_pays(tmp_path):
    # Only a exceeds (by 3); a's own part is left out, so b's causal share is 1. f = 0.5:
    # cost_b >= 0.5 (cost_a + cost_b) -> x_b >= x_a; on 5 x_a + x_b = 3: x = 0.5 -> 0.5 M.
    res = run(tmp_path, fairness=[{"rule": "polluter_pays", "min_fraction": 0.5}])
    assert res.total_cost == pytest.approx(500_000, rel=1e-7)
    cost = res.cities.set_index("city")["cost_cny"]
    assert cost["b"] >= 0.5 * cost.sum() - 1e-6


def test_min_max_burden_is_lexicographic(tmp_path):
    # The least largest burden equalises: x_a = 6/11, x_b = 3/11, b = 2.727e-6; at that level
    # the cost is forced: 4.5/11 M.
    res = run(tmp_path, objective="min_max_burden")
    assert res.summary["min_max_burden"]["max_burden"] == pytest.approx(0.5 * 6 / 11 / 1e5, rel=1e-6)
    # Stage 2 keeps the largest burden within the stated tolerance (1e-6 relative, 1e-9 bp),
    # which lets the cost fall by about the same relative amount.
    beta = 0.5 * 6 / 11 / 1e5
    assert max(burdens(res).values()) <= beta * (1 + 1e-6) + 1e-13 + 1e-12
    assert res.total_cost == pytest.approx(4.5e6 / 11, rel=1e-5)
    assert res.summary["price_of_fairness"] == pytest.approx((4.5 / 11) / 0.3 - 1, abs=1e-5)


@pytest.mark.parametrize("k, cost_m", [(1.0, 0.3), (3.0, 4.5 / 11)])
def test_weighted_max_burden_objective(tmp_path, k, cost_m):
    # cost + w max_burden; with b_a the larger burden the slope along 5 x_a + x_b = 3 is
    # -2 + k x_a with k = w_M * 0.5 / 1e5: k < 2 keeps least cost, k > 2 equalises burdens.
    w_cny = k * 1e5 / 0.5 * 1e6
    res = run(tmp_path, objective={"min_cost": {"fairness_weight": w_cny,
                                                "fairness_metric": "max_burden"}})
    assert res.total_cost == pytest.approx(cost_m * 1e6, rel=1e-6)


def test_weighted_gini_objective_lowers_the_gini(tmp_path):
    plain = run(tmp_path / "0")
    weighted = run(tmp_path / "1", objective={"min_cost": {"fairness_weight": 1e6,
                                                           "fairness_metric": "gini"}})
    assert weighted.summary["fairness"]["gini_burden"] < plain.summary["fairness"]["gini_burden"]
    assert weighted.total_cost > plain.total_cost
    assert weighted.summary["gini_reference_bp"] == pytest.approx(plain.cities.burden.sum() * 1e4)


def test_weighted_band_objective_matches_band_rule_when_weight_is_large(tmp_path):
    res = run(tmp_path, objective={"min_cost": {"fairness_weight": 1e15, "fairness_metric": "band"}})
    assert res.total_cost == pytest.approx(4.5e6 / 11, rel=1e-6)


# --- quadratic costs ----------------------------------------------------------------------

QUAD_REGION = {"cities": [city("a"), city("b", cost_factor=2.0)],
               "measures": [{**measure("m1"), "theta_cny_per_t": 2000.0}]}
CAP = [{"emission_cap": "PM25", "zone": "all", "max_t": 1500}]


def test_quadratic_cost_closed_form(tmp_path):
    # kappa_a = 0.5, theta_a = 1.0; kappa_b = 1.0, theta_b = 2.0 (M CNY). Cap: x_a + x_b >= 1.
    # Equal marginal cost: 0.5 + x_a = 1 + 2 x_b -> x_a = 5/6, x_b = 1/6; cost 69/72 M.
    res = run(tmp_path, region_kw=QUAD_REGION, targets=CAP, cost_model="quadratic",
              quadratic={"method": "qp"})
    assert res.summary["cost_model"]["method"] == "qp"
    x = x_of(res)
    assert x["a"] == pytest.approx(5 / 6, rel=1e-5) and x["b"] == pytest.approx(1 / 6, rel=1e-4)
    assert res.total_cost == pytest.approx(69 / 72 * 1e6, rel=1e-6)


def test_quadratic_as_piecewise_linear_reports_its_error(tmp_path):
    res = run(tmp_path, region_kw=QUAD_REGION, targets=CAP, cost_model="quadratic",
              quadratic={"method": "pwl", "segments": 8})
    cm = res.summary["cost_model"]
    assert cm["method"] == "pwl"
    exact_optimum = 69 / 72 * 1e6
    # The plan's exact cost is no better than the QP optimum, and the PWL objective
    # overestimates the plan's exact cost by no more than the reported bound.
    assert res.total_cost >= exact_optimum - 1e-3
    assert 0 <= cm["pwl_minus_exact_cny"] <= cm["error_bound_cny"] + 1e-6
    assert cm["pwl_cost_cny"] - exact_optimum <= cm["error_bound_cny"] + 1e-6
    assert cm["pwl_cost_cny"] == pytest.approx(exact_optimum, rel=0.01)


def test_a_theta_column_of_zeros_means_linear_costs(tmp_path):
    # theta_cny_per_t given and 0: linear; before, an all-zero column fell back to
    # theta_factor * kappa (quadratic). Linear: x_a = 1 (0.5 M CNY/unit, cheaper), cost 0.5 M.
    zero = {"cities": QUAD_REGION["cities"], "measures": [{**measure("m1"), "theta_cny_per_t": 0.0}]}
    res = run(tmp_path, region_kw=zero, targets=CAP, cost_model="quadratic",
              quadratic={"method": "qp"})
    assert res.total_cost == pytest.approx(0.5e6, rel=1e-9)


def test_theta_of_a_free_measure_is_kept(tmp_path):
    # cost 0 CNY/t and theta 2000 CNY/t: kappa = 0, theta_a = 1, theta_b = 2 (M CNY).
    # Equal marginal cost x_a = 2 x_b, x_a + x_b = 1: x_a = 2/3, x_b = 1/3;
    # cost 0.5 (4/9) + 0.5 * 2 (1/9) = 1/3 M. Before, theta was scaled by the cost and vanished.
    free = {"cities": QUAD_REGION["cities"],
            "measures": [{**measure("m1", cost=0.0), "theta_cny_per_t": 2000.0}]}
    res = run(tmp_path, region_kw=free, targets=CAP, cost_model="quadratic",
              quadratic={"method": "qp"})
    assert res.total_cost == pytest.approx(1e6 / 3, rel=1e-6)
    assert x_of(res)["a"] == pytest.approx(2 / 3, rel=1e-5)


def test_quadratic_auto_uses_pwl_when_costs_are_constrained(tmp_path):
    res = run(tmp_path, region_kw=QUAD_REGION, targets=CAP, cost_model="quadratic",
              fairness=[{"rule": "burden_cap", "max_share_of_gdp": 0.01}])
    assert res.summary["cost_model"]["method"] == "pwl"
    res = run(tmp_path / "2", region_kw=QUAD_REGION, targets=CAP, cost_model="quadratic")
    assert res.summary["cost_model"]["method"] == "qp"


def test_quadratic_qp_with_a_cost_rule_is_an_input_error(tmp_path):
    region = two_city_region(tmp_path / "region", **QUAD_REGION)
    path = write_scenario(tmp_path / "s.yaml", region, targets=CAP, cost_model="quadratic",
                          quadratic={"method": "qp"},
                          fairness=[{"rule": "burden_cap", "max_share_of_gdp": 0.01}])
    with pytest.raises(fs.InputError, match="method: pwl"):
        fs.solve(fs.load_scenario(path))


def test_every_rule_together_on_the_shipped_region(shipped_scenario):
    """All rules at once on the 2+26 region: solves, and each holds in the solution."""
    sc = fs.load_scenario(shipped_scenario("jjj-2030-least-cost"))
    rules = [{"rule": "burden_cap", "max_share_of_gdp": 0.012},
             {"rule": "equal_reduction", "pollutant": "NOx", "min_pct": 5},
             {"rule": "unified_standard", "measure": "dust_control", "min_application": 0.2},
             {"rule": "gini", "of": "burden", "max": 0.45}]
    from fairshare.scenario import Scenario

    sc2 = Scenario.model_validate({**sc.resolved_dict(), "name": "all-rules", "fairness": rules})
    res = fs.solve(sc2)
    assert res.status == Status.OPTIMAL
    assert res.cities.burden.max() <= 0.012 + 1e-9
    assert (res.cities.reduction_pct_NOx >= 5 - 1e-6).all()
    assert res.summary["fairness"]["gini_burden"] <= 0.45 + 1e-6
    dust = res.measures[res.measures.measure == "dust_control"].set_index("city")["application"]
    assert (dust.reindex(res.cities.city).fillna(0) >= 0.2 - 1e-9).all()
    assert res.summary["price_of_fairness"] > 0
