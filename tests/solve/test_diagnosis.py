"""An infeasible scenario is explained in the scenario's own terms: which entry (file and
line), which city, receptor or zone, by how much in the rule's own unit, and what bound
would hold. Every rule family can be relaxed, and the bound it names does make the
scenario feasible.

The toy (tests/toy.py): cities a and b emit 1 kt PM25 each; measure m1 removes 50 % at
0.5 M CNY per unit of application; C_a = 20 - 5 x_a - x_b, C_b = 20 - x_a - 5 x_b;
GDP a 100 bn CNY, b 50 bn CNY. The target C_a <= 17 needs 5 x_a + x_b >= 3.
"""

from __future__ import annotations

import pytest
import yaml

import fairshare as fs
from conftest import SCENARIOS
from fairshare.solver import Status

from toy import two_city_region, write_scenario

A_17 = [{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}]
B_SMALL = {"applicability": [{"city": "b", "measure": "m1", "max_application": 0.1}]}

# (id, region overrides, targets, fairness, stage, family, the key that moves, way)
CASES = [
    ("burden_cap", {}, A_17, [{"rule": "burden_cap", "max_share_of_gdp": 1e-6}],
     "rules_must_give", "burden_cap", "max_share_of_gdp", "up"),
    ("ability_to_pay", {}, A_17, [{"rule": "ability_to_pay", "max_share_of_gdp": 1e-6}],
     "rules_must_give", "ability_to_pay", "max_share_of_gdp", "up"),
    # b can spend at most 0.05 M (x_b <= 0.1): equal burdens cap a at 0.1 M, x_a <= 0.2
    ("burden_band", B_SMALL, A_17, [{"rule": "burden_band", "width": 0.0}],
     "rules_must_give", "burden_band", "width", "up"),
    ("gini", B_SMALL, A_17, [{"rule": "gini", "of": "burden", "max": 0.0}],
     "rules_must_give", "gini", "max", "up"),
    # m1 removes at most 50 % of a city's PM25
    ("equal_reduction", {}, A_17, [{"rule": "equal_reduction", "pollutant": "PM25",
                                    "min_pct": 60}],
     "rules_must_give", "equal_reduction", "min_pct", "down"),
    ("unified_standard", {}, A_17, [{"rule": "unified_standard", "sector": "ind",
                                     "pollutant": "PM25", "min_removal": 0.6}],
     "rules_must_give", "unified_standard", "min_removal", "down"),
    # equal populations and emissions: equal per-capita emissions need x_a = x_b <= 0.1
    ("per_capita", B_SMALL, A_17, [{"rule": "per_capita", "pollutant": "PM25",
                                    "band_t_per_person": 0.0}],
     "rules_must_give", "per_capita", "band_t_per_person", "up"),
    # only a is targeted, so only b causes (a's) exceedance: b must pay it all, a nothing
    ("polluter_pays", {}, A_17, [{"rule": "polluter_pays", "min_fraction": 1.0}],
     "rules_must_give", "polluter_pays", "min_fraction", "down"),
    # at most 1 kt of the 2 kt can be removed
    ("emission_cap", {}, [{"emission_cap": "PM25", "zone": "all", "max_t": 900}], [],
     "targets_must_give", "emission_cap", "max_t", "up"),
    # at the MTFR both receptors are at 14 µg/m³
    ("exposure", {}, [{"metric": "PM25", "exposure": "population_weighted", "max_ugm3": 12}],
     [], "targets_must_give", "exposure", "max_ugm3", "up"),
    ("concentration", {}, [{"metric": "PM25", "receptors": ["a"], "max_ugm3": 12}], [],
     "targets_must_give", "concentration", "max_ugm3", "up"),
]

# the relaxation's unit -> the scenario key's unit
TO_KEY = {"% of GDP": 0.01, "t/yr": 1.0}


def first_entry_line(path, section: str) -> int:
    """1-based line where the first entry of ``section`` starts in the file."""
    root = yaml.compose(path.read_text())
    node = next(v for k, v in root.value if k.value == section)
    return node.value[0].start_mark.line + 1


def solve(tmp_path, region_kw, targets, fairness, name="toy"):
    region = two_city_region(tmp_path / "region", **region_kw)
    path = write_scenario(tmp_path / f"{name}.yaml", region, name=name, targets=targets,
                          fairness=fairness)
    return fs.solve(fs.load_scenario(path)), path


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_family_is_relaxed_in_its_own_terms_and_the_fix_works(tmp_path, case):
    _, region_kw, targets, fairness, stage, family, key, way = case
    res, path = solve(tmp_path, region_kw, targets, fairness)
    assert res.status == Status.INFEASIBLE
    relaxations = res.diagnosis[stage]["relaxations"]
    assert relaxations and {r["rule"] for r in relaxations} == {family}
    section = "fairness" if stage == "rules_must_give" else "targets"
    for r in relaxations:
        assert r["entry"] == f"{section}[0]"
        assert (r["file"], r["line"]) == (str(path), first_entry_line(path, section))
        assert r["amount"] > 0 and r["unit"]
        if section == "fairness":
            assert key in r["fix"]  # the fix names the key to change
        assert (r["needed"] > r["now"]) == (way == "up")
    # the most relaxed bound named makes the scenario feasible (and the plan meets it)
    pick = max if way == "up" else min
    needed = pick(r["needed"] for r in relaxations) * TO_KEY.get(relaxations[0]["unit"], 1.0)
    needed *= 1 + 1e-6 if way == "up" else 1 - 1e-6
    entries = [dict(e) for e in (fairness if section == "fairness" else targets)]
    entries[0][key] = needed
    fixed, _ = solve(tmp_path / "fixed", region_kw,
                     entries if section == "targets" else targets,
                     entries if section == "fairness" else fairness)
    assert fixed.status == Status.OPTIMAL, (needed, fixed.message)


def test_the_burden_cap_that_conflicts_is_named_on_the_default_region(tmp_path):
    """A burden cap of 0.3 % of GDP on the 35 µg/m³ plan (least cost puts 0.88 % on Anyang;
    0.4 % is still reachable by buying more upwind): the diagnosis used to blame only
    aq_target[PM25,anyang] and never named the cap. Now: the cap must rise in Anyang
    (with every target kept), or Anyang's target must give."""
    path = tmp_path / "cap.yaml"
    path.write_text(yaml.safe_dump({
        "extends": str(SCENARIOS / "jjj-2030-least-cost.yaml"), "name": "cap-03",
        "fairness": [{"rule": "burden_cap", "max_share_of_gdp": 0.003}]}))
    res = fs.solve(fs.load_scenario(path))
    assert res.status == Status.INFEASIBLE
    rules = res.diagnosis["rules_must_give"]["relaxations"]
    assert {(r["entry"], r["rule"]) for r in rules} == {("fairness[0]", "burden_cap")}
    assert [r["subject"] for r in rules] == ["anyang"]
    assert all(r["now"] == pytest.approx(0.3) and r["needed"] > 0.3 for r in rules)
    assert (rules[0]["file"], rules[0]["line"]) == (str(path), first_entry_line(path, "fairness"))
    targets = res.diagnosis["targets_must_give"]["relaxations"]
    assert targets[0]["subject"] == "PM2.5 at anyang" and targets[0]["unit"] == "µg/m³"
    assert targets[0]["file"].endswith("jjj-2030-least-cost.yaml")


def test_quadratic_costs_never_blame_an_internal_row(tmp_path):
    """With a piecewise-linear cost the elastic solve blamed segment_sum[tangshan,...], a
    row that defines the cost; only the scenario's own entries may be relaxed."""
    region = two_city_region(tmp_path / "q")
    path = write_scenario(tmp_path / "q.yaml", region, name="q", targets=A_17,
                          fairness=[{"rule": "burden_cap", "max_share_of_gdp": 1e-6}],
                          cost_model="quadratic", quadratic={"method": "pwl", "segments": 4})
    res = fs.solve(fs.load_scenario(path))
    assert res.status == Status.INFEASIBLE
    for stage in ("rules_must_give", "targets_must_give"):
        for r in res.diagnosis[stage]["relaxations"]:
            assert r["entry"] in ("targets[0]", "fairness[0]"), r
            assert r["rule"] in ("concentration", "burden_cap")


def test_mtfr_is_computed_once_per_pair_and_read_back_whole(tmp_path, monkeypatch):
    """fs.mtfr() rebuilt the whole [metric, receptor] array for every cell it read
    (quadratic in receptors); the gap-closure target, the results table and fs.mtfr now
    share one table whose pairs are each computed once (bench/bench_mtfr.py times it)."""
    import fairshare.feasibility as feasibility
    from fairshare.api import prepare

    calls = []
    real = feasibility.compute_mtfr

    def counting(data, metric, receptor):
        calls.append(len(metric))
        return real(data, metric, receptor)
    monkeypatch.setattr(feasibility, "compute_mtfr", counting)
    region = two_city_region(tmp_path / "region")
    path = write_scenario(tmp_path / "s.yaml", region, name="s",
                          targets=[{"metric": "PM25", "receptors": ["a"], "gap_closure": 0.5}])
    inst = prepare(path)
    assert calls == [1]  # the gap-closure target needs a's MTFR, computed once
    fs.solve(inst)
    table = fs.mtfr(inst)
    assert calls == [1, 1]  # the report adds b; fs.mtfr computes nothing new
    assert table.set_index("receptor")["mtfr_ugm3"].to_dict() == {"a": pytest.approx(14.0),
                                                                 "b": pytest.approx(14.0)}


def test_polluter_pays_without_exceedance_says_it_asks_nothing(tmp_path):
    res, _ = solve(tmp_path, {}, [{"metric": "PM25", "receptors": ["a"], "max_ugm3": 25}],
                   [{"rule": "polluter_pays", "min_fraction": 0.5}])
    assert res.status == Status.OPTIMAL and res.total_cost == 0
    (rule,) = [r for r in res.summary["rules"] if r["rule"] == "polluter_pays"]
    assert not rule["binds"] and "no city has a causal share" in rule["note"]


def test_an_unbinding_emission_cap_has_a_price_of_plain_zero(tmp_path):
    import math

    res, _ = solve(tmp_path, {}, A_17 + [{"emission_cap": "PM25", "zone": "all", "max_t": 1999}],
                   [])
    (cap,) = res.summary["emission_caps"]
    assert cap["shadow_price_cny_per_t"] == 0.0 and math.copysign(1, cap["shadow_price_cny_per_t"]) == 1


def test_a_gini_penalty_without_its_reference_is_warned_about(tmp_path, monkeypatch):
    """The weighted Gini objective divides by the least-cost plan's burdens; when that plan
    does not solve, the penalty is no Gini coefficient, and the summary says so."""
    import fairshare.api as api

    monkeypatch.setattr(api, "least_cost_variant", lambda inst: inst.variant(
        fairness=[], objective="min_cost",
        targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 1}]))  # below the MTFR
    region = two_city_region(tmp_path / "w")
    path = write_scenario(tmp_path / "w.yaml", region, name="w", targets=A_17,
                          objective={"min_cost": {"fairness_weight": 1.0e9,
                                                  "fairness_metric": "gini"}})
    res = fs.solve(fs.load_scenario(path))
    assert any("has no reference burden" in w for w in res.summary["warnings"])
