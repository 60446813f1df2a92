"""Solver faults: a time limit, an iteration limit, numerical trouble and an unbounded problem
each exit 4 with what happened and what to try, and still write a results folder whose
summary.json holds the status, the timings and the best objective found (if any)."""

from __future__ import annotations

import json

import pyomo.environ as pyo
import pytest
from click.testing import CliRunner

import fairshare as fs
from fairshare import solver
from fairshare.cli import main
from fairshare.solver import Status

from toy import two_city_region, write_scenario

TARGET_A = [{"metric": "PM25", "receptors": ["a"], "max_ugm3": 17}]


def run(tmp_path, **keys):
    region = two_city_region(tmp_path / "region", **keys.pop("region", {}))
    scenario = write_scenario(tmp_path / "toy.yaml", region, name="toy", targets=TARGET_A, **keys)
    r = CliRunner().invoke(main, ["run", str(scenario), "-o", str(tmp_path / "out"), "--no-plots"])
    summary_path = tmp_path / "out/toy/summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    return r, summary


def assert_fault(r, summary, status: str, *phrases: str) -> None:
    assert r.exit_code == 4, r.output
    assert "Traceback" not in r.output
    assert f"scenario toy: {status}" in r.output
    for phrase in phrases:
        assert phrase in r.output, r.output
    assert summary["status"] == status
    assert summary["message"] and all(p in summary["message"] for p in phrases)
    assert "solve" in summary["seconds"] and "best_objective_cny" in summary
    assert summary["total_cost_cny"] is None
    assert set(summary["input_sha256"]) >= {"region/cities.csv", "scenario/toy.yaml"}


def test_time_limit(tmp_path):
    r, summary = run(tmp_path, solver={"time_limit_s": 1e-9})
    assert_fault(r, summary, "time_limit", "time limit of 1e-09 s reached",
                 "raise solver.time_limit_s")


def test_iteration_limit(tmp_path, monkeypatch):
    new_highs = solver.new_highs

    def limited(*a, **k):
        h = new_highs(*a, **k)
        for option, value in (("simplex_iteration_limit", 0), ("presolve", "off"),
                              ("solver", "simplex")):
            h.setOptionValue(option, value)
        return h
    monkeypatch.setattr(solver, "new_highs", limited)
    r, summary = run(tmp_path)
    assert_fault(r, summary, "iteration_limit", "iteration limit reached", "try solver.method: ipm")


def test_numerical_trouble_from_extreme_input(tmp_path):
    """A transport coefficient of 1e300 µg/m³ per kt: HiGHS cannot take the matrix."""
    huge = [{"metric": "PM25", "receptor": r, "source": s, "pollutant": "PM25",
             "coef_ugm3_per_kt": 1e300 if r == s == "a" else 2.0} for r in "ab" for s in "ab"]
    r, summary = run(tmp_path, region={"transport": huge})
    assert_fault(r, summary, "error", "HiGHS stopped without a solution",
                 "check the tables for extreme values")


def test_optimal_with_a_violated_row_is_numerical_trouble(tmp_path, monkeypatch):
    monkeypatch.setattr(solver, "primal_infeasibility", lambda lp, x: 0.5)
    r, summary = run(tmp_path)
    assert_fault(r, summary, "error", "violates a row by 0.5", "try solver.method: ipm")


def test_unbounded_status_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(solver, "run", lambda h: (Status.UNBOUNDED, "Unbounded"))
    r, summary = run(tmp_path)
    assert_fault(r, summary, "unbounded", "the problem is unbounded", "check for negative costs")


def test_unbounded_model_through_the_api(tmp_path):
    """A planner's own variable with no bound and a negative cost makes the LP unbounded:
    solve returns the status and the advice, it does not raise."""
    region = two_city_region(tmp_path / "region")
    sc = fs.load_scenario(write_scenario(tmp_path / "toy.yaml", region, name="toy",
                                         targets=TARGET_A))
    model = fs.build_model(sc)
    model.free_money = pyo.Var(domain=pyo.Reals)
    model.total_cost.expr = model.total_cost.expr - model.free_money
    res = fs.solve(sc, model=model)
    assert res.status == Status.UNBOUNDED and "check for negative costs" in res.message
    assert res.summary["status"] == "unbounded"


def test_time_limit_with_a_feasible_point_reports_the_best_objective():
    msg = solver.explain(Status.TIME_LIMIT, "Time limit reached", 5, 5.2, 12.5)
    assert msg.startswith("time limit of 5 s reached after 5.2 s (HiGHS: Time limit reached)")
    assert "best objective found 12.5 million CNY/yr (not proven optimal)" in msg


@pytest.mark.parametrize("status", [s for s in Status if s not in (Status.OPTIMAL, Status.INFEASIBLE)])
def test_every_failure_status_has_advice_and_exit_code_4(status):
    assert status.exit_code == 4
    assert solver.explain(status, "x", 1, 1.0).count(";") >= 1
