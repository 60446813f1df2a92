"""Solver faults: a time limit, an iteration limit, numerical trouble and an unbounded problem
each exit 4 with what happened and what to try, and still write a results folder whose
summary.json holds the status, the timings and the best objective found (if any)."""

from __future__ import annotations

import json

import pyomo.environ as pyo
import pytest

import fairshare as fs
from fairshare import solver
from fairshare.solver import Status, highs

from conftest import invoke
from toy import TARGET_A, two_city_region, write_scenario


def run(tmp_path, **keys):
    region = two_city_region(tmp_path / "region", **keys.pop("region", {}))
    scenario = write_scenario(tmp_path / "toy.yaml", region, name="toy", targets=TARGET_A, **keys)
    r = invoke("run", scenario, "-o", tmp_path / "out", "--no-plots")
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
    new_highs = highs.new_highs

    def limited(*a, **k):
        h = new_highs(*a, **k)
        for option, value in (("simplex_iteration_limit", 0), ("presolve", "off"),
                              ("solver", "simplex")):
            h.setOptionValue(option, value)
        return h
    monkeypatch.setattr(highs, "new_highs", limited)
    r, summary = run(tmp_path)
    assert_fault(r, summary, "iteration_limit", "iteration limit reached", "try solver.method: ipm")


def test_a_value_highs_would_refuse_is_named_not_solved_as_an_empty_model(toy_scenario):
    """A planner's own row with a coefficient of 1e16: HiGHS treats it as infinite and
    refuses the model. The outcome says which value, in which row and column; before the
    fix the empty model was "solved" and reported as numerical trouble ("HiGHS: Empty")."""
    sc = fs.load_scenario(toy_scenario())
    model = fs.build_model(sc)
    model.huge = pyo.Constraint(expr=1e16 * model.application["b", "m1"] <= 1e16)
    res = fs.solve(sc, model=model)
    assert res.status == Status.ERROR
    assert "coefficient 1e+16 of application[b,m1] in huge" in res.message
    assert "Empty" not in res.message and res.total_cost is None


def test_optimal_with_a_violated_row_is_numerical_trouble(tmp_path, monkeypatch):
    monkeypatch.setattr(highs, "primal_infeasibility", lambda lp, x: 0.5)
    r, summary = run(tmp_path)
    assert_fault(r, summary, "error", "violates a row by 0.5", "try solver.method: ipm")


def test_unbounded_status_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(highs, "run", lambda h, lp=None: (Status.UNBOUNDED, "Unbounded"))
    r, summary = run(tmp_path)
    assert_fault(r, summary, "unbounded", "the problem is unbounded", "check for negative costs")


def test_unbounded_model_through_the_api(toy_scenario):
    """A planner's own variable with no bound and a negative cost makes the LP unbounded:
    solve returns the status and the advice, it does not raise."""
    sc = fs.load_scenario(toy_scenario())
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


# --- one way to finish a solve: the same checks on every path ------------------------------

@pytest.mark.parametrize("path", ["row_generation", "sweep"])
def test_every_path_checks_an_optimal_answer_against_the_rows(monkeypatch, path, toy_scenario):
    """Row generation and the persistent sweep solve accepted OPTIMAL without the
    feasibility check of the plain solve; now every path finishes in highs.finish."""
    monkeypatch.setattr(highs, "primal_infeasibility", lambda lp, x: 0.5)
    keys = {"solver": {"constraint_generation": "on"}} if path == "row_generation" else {}
    sc = fs.load_scenario(toy_scenario(**keys))
    if path == "row_generation":
        outcome = solver.solve_model(fs.build_model(sc))
    else:
        outcome = solver.PersistentSolve(fs.build_model(sc)).solve()
    assert outcome.status == Status.ERROR and "violates a row by 0.5" in outcome.message


def test_presolve_is_restored_after_an_unbounded_or_infeasible_status(monkeypatch):
    """run() solves once more without presolve to tell infeasible from unbounded; it used
    to leave presolve off for every later solve of the instance (sweep points, MTFR)."""
    import numpy as np
    import scipy.sparse as sp
    from fairshare.solver.lp import INF, LpArrays

    # min -x, x >= 0, no upper bound, one row 0*x <= 1: unbounded (presolve may say "or infeasible")
    lp = LpArrays(A=sp.csc_array(np.array([[1.0, -1.0]])), c=np.array([-1.0, 0.0]), offset=0.0,
                  row_lo=np.array([-INF]), row_hi=np.array([1.0]), col_lo=np.zeros(2),
                  col_hi=np.full(2, INF), columns=[], rows=[])
    h = highs.new_highs()
    highs.pass_lp(h, lp)
    seen, real_run = [], highs._run_interruptibly

    def run_recording_presolve(highs_instance):
        seen.append(highs.get_option(highs_instance, "presolve"))
        real_run(highs_instance)
    monkeypatch.setattr(highs, "_run_interruptibly", run_recording_presolve)
    import highspy
    statuses = iter([highspy.HighsModelStatus.kUnboundedOrInfeasible])
    real_status = h.getModelStatus
    monkeypatch.setattr(h, "getModelStatus", lambda: next(statuses, None) or real_status())
    status, _ = highs.run(h)
    assert status == Status.UNBOUNDED
    assert seen == ["choose", "off"]  # the second look ran without presolve
    assert highs.get_option(h, "presolve") == "choose"  # and presolve is back
    highs.run(h)
    assert seen[-1] == "choose"  # the next solve of the instance runs with presolve


def test_a_failure_of_the_second_run_is_an_outcome_not_an_exception(monkeypatch):
    """The second h.run() after an ambiguous status was outside the try that promises
    no exception."""
    import highspy

    h = highs.new_highs()
    calls = []

    def fake_run(highs_instance):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("HiGHS crashed")
    monkeypatch.setattr(highs, "_run_interruptibly", fake_run)
    monkeypatch.setattr(h, "getModelStatus", lambda: highspy.HighsModelStatus.kUnboundedOrInfeasible)
    status, text = highs.run(h)
    assert status == Status.ERROR and "HiGHS crashed" in text
    assert highs.get_option(h, "presolve") == "choose"


def test_cli_exit_codes_come_from_the_status(tmp_path, monkeypatch):
    """Status.exit_code is the one map from outcome to exit code (the CLI used its own)."""
    for status in (s for s in Status if s != Status.OPTIMAL):  # optimal: exit 0 elsewhere
        monkeypatch.setattr(highs, "run", lambda h, lp=None, s=status: (s, s.value))
        r, summary = run(tmp_path / status.value)
        assert r.exit_code == status.exit_code, (status, r.output)
