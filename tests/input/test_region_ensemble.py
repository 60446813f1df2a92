"""A region may ship several transport estimates (an ensemble: a ``member`` column in
transport.csv and concentrations.csv) and year-specific applicability; a scenario picks
the member (``transport: {member: ...}``, default: region.yaml's ``default_member``) and
the year.

The toy (tests/toy.py): C_a = 20 - 5 x_a - x_b under the central member (T 10 at home,
2 next door, per kt; m1 removes 0.5 kt at 0.5 M CNY). The "low" member halves T.
"""

from __future__ import annotations

import pytest
import yaml

import fairshare as fs
from fairshare.solver import Status

from toy import TARGET_A, two_city_region, write_scenario

MEMBERS = {"central": 1.0, "low": 0.5}


def ensemble_region(folder, default="central"):
    transport = [{"metric": "PM25", "receptor": r, "source": s, "pollutant": "PM25",
                  "coef_ugm3_per_kt": (10.0 if r == s else 2.0) * f, "member": m}
                 for m, f in MEMBERS.items() for r in "ab" for s in "ab"]
    concentrations = [{"metric": "PM25", "receptor": r, "baseline_ugm3": 20.0, "member": m}
                      for m in MEMBERS for r in "ab"]
    region = two_city_region(folder, transport=transport, concentrations=concentrations)
    info = yaml.safe_load((region / "region.yaml").read_text())
    info.update(members=list(MEMBERS), default_member=default)
    (region / "region.yaml").write_text(yaml.safe_dump(info))
    return region


def solve(tmp_path, region, **keys):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = write_scenario(tmp_path / "s.yaml", region, targets=TARGET_A, **keys)
    return fs.solve(fs.load_scenario(path))


def test_the_default_member_is_used_unless_the_scenario_picks_one(tmp_path):
    region = ensemble_region(tmp_path / "region")
    central = solve(tmp_path, region)
    # central: 5 x_a + x_b >= 3, least cost x_a = 0.6: 0.3 M CNY
    assert central.total_cost == pytest.approx(3e5) and central.summary["region"][
        "transport_member"] == "central"
    # low: 2.5 x_a + 0.5 x_b >= 3 needs x_a = x_b = 1: 1.0 M CNY
    low = solve(tmp_path, region, transport={"member": "low"})
    assert low.status == Status.OPTIMAL and low.total_cost == pytest.approx(1e6)
    assert low.summary["region"]["transport_member"] == "low"


def test_an_unknown_member_is_one_clear_problem(tmp_path):
    region = ensemble_region(tmp_path / "region")
    with pytest.raises(fs.InputError, match="no rows for transport member 'lwo'.*did you mean 'low'"):
        solve(tmp_path, region, transport={"member": "lwo"})


def test_an_ensemble_without_a_default_asks_for_a_member(tmp_path):
    region = ensemble_region(tmp_path / "region", default="none-such")
    with pytest.raises(fs.InputError, match="set `transport: {member: ...}`"):
        solve(tmp_path, region)


def test_year_specific_applicability_overrides_the_general_rows(tmp_path):
    # In 2035 only half of a's base can still be treated: x_a <= 0.5 gives C_a = 17.5 at
    # most alone, so b must add x_b = 0.5: 0.25 + 0.25 = 0.5 M CNY. In 2030 the general row
    # (no year) applies: x_a = 0.6, 0.3 M CNY.
    emissions = [{"city": c, "sector": "ind", "pollutant": "PM25", "emission_t": 1000.0,
                  "year": y} for y in (2030, 2035) for c in "ab"]
    concentrations = [{"metric": "PM25", "receptor": r, "baseline_ugm3": 20.0, "year": y}
                      for y in (2030, 2035) for r in "ab"]
    applicability = [{"city": "a", "measure": "m1", "max_application": 1.0, "year": None},
                     {"city": "a", "measure": "m1", "max_application": 0.5, "year": 2035}]
    region = two_city_region(tmp_path / "region", emissions=emissions,
                             concentrations=concentrations, applicability=applicability)
    assert solve(tmp_path / "30", region, year=2030).total_cost == pytest.approx(3e5)
    assert solve(tmp_path / "35", region, year=2035).total_cost == pytest.approx(5e5)


def test_a_robust_plan_meets_every_target_under_every_member(tmp_path):
    # central: 5 x_a + x_b >= 3 (0.3 M CNY alone); low: 2.5 x_a + 0.5 x_b >= 3 needs
    # x_a = x_b = 1 (1.0 M). One plan for both: the low member's, 1.0 M CNY; it binds there.
    region = ensemble_region(tmp_path / "region")
    res = solve(tmp_path, region, transport={"robust": ["central", "low"]})
    assert res.status == Status.OPTIMAL and res.total_cost == pytest.approx(1e6)
    rec = res.receptors.set_index(["member", "receptor"])
    assert rec.loc[("central", "a"), "final_ugm3"] == pytest.approx(20 - 5 - 1)
    assert rec.loc[("low", "a"), "final_ugm3"] == pytest.approx(17.0)
    assert rec.loc[(slice(None), "a"), "attained"].all()
    robust = res.summary["robust"]["by_member"]
    assert robust["low"]["binding"] == ["PM25 at a"] and robust["central"]["binding"] == []


def test_a_robust_plan_that_cannot_hold_names_the_member(tmp_path):
    # C_a <= 14.5: the central member's MTFR is 14 (reachable), the low member's 17 (not).
    region = ensemble_region(tmp_path / "region")
    path = write_scenario(tmp_path / "s.yaml", region, name="s", transport={"robust": ["central", "low"]},
                          targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 14.5}])
    res = fs.solve(fs.load_scenario(path))
    assert res.status == Status.INFEASIBLE
    (give,) = res.diagnosis["targets_must_give"]["relaxations"]
    assert give["member"] == "low" and give["needed"] == pytest.approx(17.0)
    (below,) = res.diagnosis["targets_below_mtfr"]
    assert (below["member"], below["mtfr_ugm3"]) == ("low", pytest.approx(17.0))


def test_a_robust_plan_reports_where_each_member_binds(tmp_path):
    """The rules say the target binds (it binds under low, not under central, the member
    the plan is built on); the MTFR table and the comparison read every member."""
    from fairshare.comparison import compare

    region = ensemble_region(tmp_path / "region")
    res = solve(tmp_path, region, transport={"robust": ["central", "low"]})
    (rule,) = res.summary["rules"]
    assert rule["binds"] and rule["binding"] == ["PM25 at a (low)"]
    table = fs.mtfr(fs.load_scenario(tmp_path / "s.yaml"))
    assert list(table.columns[:2]) == ["member", "metric"]
    # MTFR of a (x_a = x_b = 1): central 20 - 5 - 1 = 14; low 20 - 2.5 - 0.5 = 17
    mtfr = table.set_index(["member", "receptor"])["mtfr_ugm3"]
    assert mtfr[("central", "a")] == pytest.approx(14.0) and mtfr[("low", "a")] == pytest.approx(17.0)
    # the plan is x_a = x_b = 1: C = 14 at a and b under central, 17 under low; the
    # comparison gives the worse member's population-weighted mean
    row = compare([fs.load_scenario(tmp_path / "s.yaml")]).iloc[0]
    assert row["pop_weighted_PM25_ugm3"] == pytest.approx(17.0)


def test_a_member_named_for_a_region_with_one_transport_estimate_is_a_problem(tmp_path):
    region = two_city_region(tmp_path / "region")
    with pytest.raises(fs.InputError, match="asks for transport member 'high'.*one transport"):
        solve(tmp_path, region, transport={"member": "high"})


def test_a_robust_diagnosis_names_the_member_of_every_relaxation(tmp_path):
    # C_a <= 13: below both members' MTFR (14 and 17); each relaxation names its member.
    region = ensemble_region(tmp_path / "region")
    path = write_scenario(tmp_path / "s.yaml", region, name="s", transport={"robust": ["central", "low"]},
                          targets=[{"metric": "PM25", "receptors": ["a"], "max_ugm3": 13}])
    res = fs.solve(fs.load_scenario(path))
    assert res.status == Status.INFEASIBLE
    members = {r["member"] for r in res.diagnosis["targets_must_give"]["relaxations"]}
    assert members == {"central", "low"}
