"""Roadmaps: one plan linking years. Toys with optima worked by hand in each test.

One city ``a`` (GDP 100 bn CNY) emits 1 kt PM25 from sector ``ind`` every year; T = 10
µg/m³ per kt at home; C0 = 20 µg/m³. With removal share ρ = Σ eff·x, C = 20 − 10 ρ.
A measure of unit cost ``cu`` CNY per t and efficiency ``eff`` costs ``cu · 1000 t · eff``
CNY/yr at full application. Periods of 5 years: w = Σ_{y<5} (1+r)^-y for the first,
(1+r)^-5 times that for the second.
"""

from __future__ import annotations

import numpy as np
import pytest

import fairshare as fs
from fairshare.solver import Status

from toy import city, measure, two_city_region, write_region, write_scenario

YEARS = [2025, 2030]


def weights(rate: float, years=YEARS, length: int = 5) -> np.ndarray:
    return np.array([sum((1 + rate) ** -(y - years[0]) for y in range(start, start + length))
                     for start in years])


def one_city(folder, measures, efficiencies, years=YEARS, applicability=None):
    return write_region(
        folder, cities=[city("a")],
        emissions=[{"city": "a", "sector": "ind", "pollutant": "PM25", "emission_t": 1000.0,
                    "year": y} for y in years],
        measures=measures, efficiencies=efficiencies, applicability=applicability,
        transport=[{"metric": "PM25", "receptor": "a", "source": "a", "pollutant": "PM25",
                    "coef_ugm3_per_kt": 10.0}],
        concentrations=[{"metric": "PM25", "receptor": "a", "baseline_ugm3": 20.0, "year": y}
                        for y in years])


def eff(mid, e):
    return {"measure": mid, "pollutant": "PM25", "efficiency": e}


def run(tmp_path, region, limits: dict, name="road", **keys):
    targets = [{"metric": "PM25", "receptors": ["a"], "max_ugm3": limits}]
    path = write_scenario(tmp_path / f"{name}.yaml", region, name=name, years=YEARS,
                          targets=targets, **keys)
    res = fs.solve(fs.load_scenario(path))
    return res


def x_of(res, measure_id, year) -> float:
    m = res.measures
    rows = m[(m.measure == measure_id) & (m.year == year)]
    return float(rows.application.sum())


def cost_of(res, year) -> float:
    return res.summary["cost_by_year_cny"][str(year)]


# --- lock-in: myopia picks the cheap measure that blocks the deep one ---------------------

LOCK_IN = dict(
    measures=[measure("b", group="g1", cost=1000.0),    # eff .5: 0.5 M CNY/yr at x = 1
              measure("a", group="g1", cost=1200.0),    # eff 1 : 1.2 M CNY/yr at x = 1
              measure("c", group="g2", cost=4000.0)],   # eff .5: 2.0 M CNY/yr at x = 1
    efficiencies=[eff("b", 0.5), eff("a", 1.0), eff("c", 0.5)])


def test_perfect_foresight_avoids_the_lock_in_that_myopia_walks_into(tmp_path):
    # 2025: C <= 19 (ρ >= 0.1); 2030: C <= 10.5 (ρ >= 0.95). b and a share group g1
    # (x_a + x_b <= 1); per unit of ρ, b costs 1.0, a 1.2, c 4.0 M CNY/yr.
    # Myopic: 2025 the cheapest, x_b = 0.2 (0.10 M); 2030 x_b stays >= 0.2, so x_a <= 0.8
    # (ρ 0.9) and c makes up 0.05: x_c = 0.1. Cost 0.1 + 0.96 + 0.2 = 1.26 M.
    # Perfect: 2030 needs x_b <= 0.1 (x_a = 0.9, x_b = 0.1: 1.13 M), so 2025 takes
    # x_b = 0.1 and x_a = 0.05 (0.11 M).
    region = one_city(tmp_path / "region", **LOCK_IN)
    limits = {2025: 19, 2030: 10.5}
    perfect = run(tmp_path, region, limits, roadmap={"compare_foresight": True})
    assert perfect.status == Status.OPTIMAL
    assert cost_of(perfect, 2025) == pytest.approx(0.11e6) and cost_of(perfect, 2030) == pytest.approx(1.13e6)
    assert (x_of(perfect, "b", 2025), x_of(perfect, "a", 2025)) == (pytest.approx(0.1), pytest.approx(0.05))
    myopic = run(tmp_path, region, limits, name="myopic", roadmap={"foresight": "myopic"})
    assert myopic.status == Status.OPTIMAL
    assert cost_of(myopic, 2025) == pytest.approx(0.10e6) and cost_of(myopic, 2030) == pytest.approx(1.26e6)
    w = weights(0.05)
    assert perfect.summary["npv_cny"] == pytest.approx(w @ [0.11e6, 1.13e6])
    assert myopic.summary["npv_cny"] == pytest.approx(w @ [0.10e6, 1.26e6])
    comparison = perfect.summary["foresight_comparison"]
    assert comparison["cost_of_myopia_cny"] == pytest.approx(w @ [-0.01e6, 0.13e6])
    assert {(d["measure"], d["year"]) for d in comparison["differences"]} >= {("b", 2025), ("c", 2030)}


def test_installed_measures_stay_installed(tmp_path):
    region = one_city(tmp_path / "region", **LOCK_IN)
    res = run(tmp_path, region, {2025: 19, 2030: 10.5})
    for mid in ("a", "b", "c"):
        assert x_of(res, mid, 2030) >= x_of(res, mid, 2025) - 1e-9


def test_myopia_costs_nothing_when_nothing_links_the_years(tmp_path):
    region = one_city(tmp_path / "region", **LOCK_IN)
    res = run(tmp_path, region, {2025: 19, 2030: 19}, roadmap={"compare_foresight": True})
    assert res.summary["foresight_comparison"]["cost_of_myopia_cny"] == pytest.approx(0, abs=1e-6)


# --- discounting decides between a lasting and a reversible commitment ---------------------

REVERSIBLE = dict(
    measures=[{**measure("lasting", group="g1", cost=1000.0)},               # 1.0 M at x = 1
              {**measure("op", group="g2", cost=1300.0), "reversible": 1}],  # 1.3 M, undone at will
    efficiencies=[eff("lasting", 1.0), eff("op", 1.0)])


@pytest.mark.parametrize("rate, chosen", [(0.05, "op"), (0.30, "lasting")])
def test_discounting_decides_between_a_lasting_and_a_reversible_measure(tmp_path, rate, chosen):
    # Only 2025 has a target (C <= 15: ρ >= 0.5). The lasting measure costs 0.5 M a year and
    # stays in 2030 (irreversible): 0.5 (w1 + w2); the operational one 0.65 M in 2025 only:
    # 0.65 w1. The lasting one wins when w2 < 0.3 w1, i.e. 1/(1+r)^5 < 0.3: r > 27 %.
    region = one_city(tmp_path / "region", **REVERSIBLE)
    res = run(tmp_path, region, {2025: 15}, roadmap={"discount_rate": rate})
    w = weights(rate)
    assert (w[1] < 0.3 * w[0]) == (chosen == "lasting")
    assert x_of(res, chosen, 2025) == pytest.approx(0.5)
    expected = 0.5e6 * (w[0] + w[1]) if chosen == "lasting" else 0.65e6 * w[0]
    assert res.summary["npv_cny"] == pytest.approx(expected)
    assert x_of(res, "op", 2030) == pytest.approx(0.0, abs=1e-9)  # dropped once not needed


# --- capital and lifetimes -----------------------------------------------------------------

@pytest.mark.parametrize("lifetime, reinstalled", [(5, 0.6), (8, 0.0)])
def test_equipment_whose_lifetime_ends_inside_the_horizon_is_installed_again(tmp_path, lifetime,
                                                                             reinstalled):
    # All capital (capex_share 1), 1.0 M CNY/yr at x = 1; both years need ρ >= 0.6.
    # Installed in 2025, it serves 2030 only if 2030 - 2025 < lifetime: with 5 years it must
    # be installed again in 2030; with 8 it serves both periods. Either way each period pays
    # the annuity of the 0.6 serving it: 0.6 M CNY/yr.
    region = one_city(tmp_path / "region",
                      measures=[{**measure("kit", cost=1000.0), "capex_share": 1.0,
                                 "lifetime_yr": lifetime}],
                      efficiencies=[eff("kit", 1.0)])
    res = run(tmp_path, region, {2025: 14, 2030: 14})
    assert cost_of(res, 2025) == pytest.approx(0.6e6) and cost_of(res, 2030) == pytest.approx(0.6e6)
    from fairshare.api import build_model, prepare, solve

    road = prepare(tmp_path / "road.yaml")
    model = build_model(road)
    solve(road, model=model)
    assert model.installation_2025["a", "kit"].value == pytest.approx(0.6)
    assert model.installation_2030["a", "kit"].value == pytest.approx(reinstalled, abs=1e-9)


def test_a_shrinking_applicability_is_not_a_contradiction(tmp_path):
    # 2025 needs x = 0.8; in 2030 only half of the base can still be treated. What was
    # installed stays, but for the base that is gone: x_2030 >= 0.8 - 0.5 = 0.3 (and <= 0.5).
    region = one_city(tmp_path / "region", measures=[measure("m", cost=1000.0)],
                      efficiencies=[eff("m", 1.0)],
                      applicability=[{"city": "a", "measure": "m", "max_application": 0.5,
                                      "year": 2030}])
    res = run(tmp_path, region, {2025: 12})
    assert res.status == Status.OPTIMAL
    assert x_of(res, "m", 2025) == pytest.approx(0.8) and x_of(res, "m", 2030) == pytest.approx(0.3)


# --- values by year and rules over the horizon ----------------------------------------------

def test_a_target_by_year_holds_only_in_the_years_it_names(tmp_path):
    region = one_city(tmp_path / "region", measures=[measure("m", cost=1000.0)],
                      efficiencies=[eff("m", 1.0)])
    res = run(tmp_path, region, {2030: 17})
    assert x_of(res, "m", 2025) == pytest.approx(0.0, abs=1e-9)
    assert x_of(res, "m", 2030) == pytest.approx(0.3)
    rec = res.receptors
    assert rec[rec.year == 2025].target_ugm3.isna().all()
    assert rec[rec.year == 2030].target_ugm3.tolist() == [17.0]


def two_city_years(folder):
    em = [{"city": c, "sector": "ind", "pollutant": "PM25", "emission_t": 1000.0, "year": y}
          for y in YEARS for c in "ab"]
    conc = [{"metric": "PM25", "receptor": r, "baseline_ugm3": 20.0, "year": y}
            for y in YEARS for r in "ab"]
    return two_city_region(folder, emissions=em, concentrations=conc)


@pytest.mark.parametrize("over", ["each_year", "horizon"])
def test_a_burden_cap_each_year_or_over_the_horizon(tmp_path, over):
    # The two-city toy (a: GDP 100 bn, b: 50 bn); only 2030 asks C_a <= 17: least cost
    # x_a = 0.6, a pays 0.3 M CNY (3e-6 of its GDP) in 2030 and nothing in 2025. A cap of
    # 2e-6 each year cannot hold (b alone cannot lower C_a enough within its own cap); over
    # the horizon a's present-value cost spread over the discounted years is
    # 0.3 w2 / (w1 + w2) = 0.132 M: 1.32e-6 of its GDP, within the cap.
    region = two_city_years(tmp_path / "region")
    res = run(tmp_path, region, {2030: 17},
              fairness=[{"rule": "burden_cap", "max_share_of_gdp": 2e-6, "over": over}])
    if over == "each_year":
        assert res.status == Status.INFEASIBLE
        (give,) = [r for r in res.diagnosis["rules_must_give"]["relaxations"]]
        assert (give["year"], give["entry"], give["subject"]) == (2030, "fairness[0]", "a")
    else:
        w = weights(0.05)
        assert res.status == Status.OPTIMAL and cost_of(res, 2030) == pytest.approx(0.3e6)
        level = 0.3e6 * w[1] / w.sum()
        cap = next(r for r in res.summary["rules"] if r["rule"] == "burden_cap")
        assert cap["year"] == "horizon" and level / 100e9 < 2e-6


# --- a one-period roadmap is the one-year plan ----------------------------------------------

def test_a_one_period_roadmap_is_the_one_year_plan(tmp_path):
    region = two_city_years(tmp_path / "region")
    targets = [{"metric": "PM25", "receptors": "all", "max_ugm3": 17}]
    one_year = fs.solve(fs.load_scenario(write_scenario(
        tmp_path / "y.yaml", region, name="y", year=2030, targets=targets)))
    roadmap = fs.solve(fs.load_scenario(write_scenario(
        tmp_path / "r.yaml", region, name="r", years=[2030], targets=targets)))
    assert roadmap.summary["cost_by_year_cny"]["2030"] == pytest.approx(one_year.total_cost)
    assert roadmap.summary["npv_cny"] == pytest.approx(weights(0.05, [2030])[0] * one_year.total_cost)
    plan = roadmap.measures.drop(columns="year").reset_index(drop=True)
    assert np.allclose(plan.application, one_year.measures.application)
    # shadow prices in yearly terms (CNY/yr per µg/m³), as the one-year plan's
    assert np.allclose(roadmap.receptors.shadow_price_cny_per_ugm3,
                       one_year.receptors.shadow_price_cny_per_ugm3, rtol=1e-7)
    assert one_year.receptors.shadow_price_cny_per_ugm3.max() > 0


def test_what_roadmaps_do_not_offer_is_said(tmp_path):
    region = two_city_years(tmp_path / "region")
    path = write_scenario(tmp_path / "r.yaml", region, name="r", years=[2025, 2030],
                          targets=[{"metric": "PM25", "max_ugm3": 17}], objective="min_max_burden",
                          cost_model="quadratic")
    with pytest.raises(fs.InputError) as err:
        fs.solve(fs.load_scenario(path))
    text = str(err.value)
    assert "present value" in text and "quadratic costs are for one year" in text


# --- the independent formulation ----------------------------------------------------------

ORACLE_CASES = [
    ("lock-in", LOCK_IN, {2025: 19, 2030: 10.5}, {}),
    ("reversible", REVERSIBLE, {2025: 15}, {"discount_rate": 0.3}),
    ("lifetime", dict(measures=[{**measure("kit", cost=1000.0), "capex_share": 0.7,
                                 "lifetime_yr": 5},
                                {**measure("op", group="g2", cost=1500.0), "reversible": 1}],
                      efficiencies=[eff("kit", 0.8), eff("op", 0.5)]),
     {2025: 15, 2030: 12}, {"discount_rate": 0.08, "last_period_years": 10}),
]


@pytest.mark.parametrize("case", ORACLE_CASES, ids=[c[0] for c in ORACLE_CASES])
def test_the_npv_equals_the_independent_formulation(tmp_path, case):
    from independent import solve_roadmap_independently

    _, region_kw, limits, options = case
    region = one_city(tmp_path / "region", **region_kw)
    res = run(tmp_path, region, limits, roadmap=options)
    scenario = res.summary["scenario_resolved"]
    status, npv, _ = solve_roadmap_independently(region, scenario)
    assert status == 0 and res.status == Status.OPTIMAL
    assert res.summary["npv_cny"] == pytest.approx(npv, rel=1e-6)


# --- fronts over a roadmap -----------------------------------------------------------------

def test_the_cost_of_raising_one_years_ambition(tmp_path):
    """Gap closure of the 2030 target from 0 (the 2030 baseline: only the 2025 target binds,
    x_m = 0.1 both years as the measure stays) to 1 (the MTFR, x_m = 1 in 2030): the present
    value rises from w1 0.1 + w2 0.1 to w1 0.1 + w2 1.0 (M CNY), monotone in between."""
    from fairshare.fronts import pareto

    region = one_city(tmp_path / "region", measures=[measure("m", cost=1000.0)],
                      efficiencies=[eff("m", 1.0)])
    run(tmp_path, region, {2025: 19, 2030: 15})
    front = pareto(fs.load_scenario(tmp_path / "road.yaml"), sweep="target", points=5,
                   progress=False, year=2030)
    w = weights(0.05)
    assert front.gamma.iloc[0] == 0 and front.gamma.iloc[-1] == 1
    assert front.total_cost_cny.iloc[0] == pytest.approx(w @ [0.1e6, 0.1e6])
    assert front.total_cost_cny.iloc[-1] == pytest.approx(w @ [0.1e6, 1.0e6])
    assert (np.diff(front.total_cost_cny) >= -1e-6).all()
    with pytest.raises(fs.InputError, match="fronts of cost against fairness are for one year"):
        pareto(fs.load_scenario(tmp_path / "road.yaml"), y="gini", progress=False)


# --- seams found in review -------------------------------------------------------------------

def test_a_value_for_a_year_the_roadmap_does_not_plan_is_an_input_problem(tmp_path):
    """{2030: 15, 2036: 12}: 2036 is not one of the years; without the check the entry would
    silently hold in 2030 only (a typo for 2035 left out of the plan)."""
    region = one_city(tmp_path / "region", measures=[measure("m", cost=1000.0)],
                      efficiencies=[eff("m", 1.0)])
    with pytest.raises(fs.InputError) as err:
        run(tmp_path, region, {2030: 15, 2036: 12})
    (problem,) = err.value.problems
    assert problem.column == "targets[0].max_ugm3" and "2036" in problem.message
    assert "[2025, 2030]" in problem.message and problem.row is not None


def test_equipment_repaid_while_unused_is_listed_so_measures_add_up_to_cities(tmp_path):
    """A reversible measure with capital: needed in 2025 (x = 0.1), not in 2030 (x = 0),
    its annuity (capex 0.6 of 1 M CNY/yr at x = 1, lifetime 10 years) still paid in 2030:
    0.06 M CNY/yr, on a measures.csv row with application 0."""
    region = one_city(tmp_path / "region",
                      measures=[{**measure("m", cost=1000.0), "capex_share": 0.6,
                                 "lifetime_yr": 10, "reversible": 1}],
                      efficiencies=[eff("m", 1.0)])
    res = run(tmp_path, region, {2025: 19})
    assert res.status == Status.OPTIMAL
    later = res.measures[res.measures.year == 2030]
    assert list(later.application) == [pytest.approx(0.0, abs=1e-9)]
    assert list(later.cost_cny) == [pytest.approx(0.06e6)]
    for year in YEARS:
        by_measures = res.measures[res.measures.year == year].cost_cny.sum()
        assert by_measures == pytest.approx(res.cities[res.cities.year == year].cost_cny.sum())
