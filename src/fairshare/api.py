"""The Python API (DESIGN §7); the CLI calls exactly these functions."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.core as pyo

from fairshare.data import load_region
from fairshare.instance import Instance, build_instance
from fairshare.model.fairness import BP
from fairshare.model import build_model as _build
from fairshare.results import Result, make_result
from fairshare.solver import Status, elastic_solve, solve_model

# Rows that define quantities or physics; everything else is a rule that can be relaxed.
HARD_COMPONENTS = {"reduction_def", "cost_def", "exclusivity", "removal_limit"}
MTFR_TOL_UGM3 = 1e-6


def _scenario(scenario):
    if isinstance(scenario, (str, Path)):
        from fairshare.scenario import load_scenario
        return load_scenario(scenario)
    return scenario


def prepare(scenario) -> Instance:
    """Load the scenario's region and resolve its targets and rules into arrays."""
    sc = _scenario(scenario)
    t0 = time.perf_counter()
    data = load_region(sc.region, sc.year)
    t1 = time.perf_counter()
    inst = build_instance(data, sc)
    inst.timings = {"load_data": t1 - t0, "prepare": time.perf_counter() - t1}
    return inst


def build_model(scenario) -> pyo.ConcreteModel:
    """The scenario's Pyomo ConcreteModel; add constraints to it, then :func:`solve` it.

    Costs in the model are in million CNY/yr, emissions in kt/yr (see
    :mod:`fairshare.model`).
    """
    inst = scenario if isinstance(scenario, Instance) else prepare(scenario)
    t0 = time.perf_counter()
    m = _build(inst)
    inst.timings = {**getattr(inst, "timings", {}), "build_model": time.perf_counter() - t0}
    return m


def solve(scenario, model: pyo.ConcreteModel | None = None, *,
          price_of_fairness: bool = True) -> Result:
    """Solve the scenario (or the given model built from it) and return a :class:`Result`.

    The solution and duals are loaded into ``model``. An infeasible scenario is
    diagnosed (targets below MTFR, then an elastic solve naming violated rows). A
    scenario with fairness rules or a fairness objective is also solved without them,
    for the price of fairness and each city's cost shift.
    """
    if model is None:
        model = build_model(scenario)
    inst: Instance = model._fairshare_instance
    least = None
    if has_fairness(inst.scenario) and (price_of_fairness or _needs_reference(inst)):
        least = solve(least_cost_variant(inst), price_of_fairness=False)
    extra = {}
    if _needs_reference(inst) and least is not None and least.status == Status.OPTIMAL:
        model.gini_reference_bp.set_value(max(1e-12, float(least.cities["burden"].sum() * BP)))
        extra["gini_reference_bp"] = float(pyo.value(model.gini_reference_bp))
    outcome, extra_solve = _solve_objective(model, inst)
    extra.update(extra_solve)
    diagnosis = None
    if outcome.status == Status.INFEASIBLE:
        diagnosis = diagnose(inst, model, inst.scenario.solver.time_limit_s)
    result = make_result(inst, model, outcome, dict(getattr(inst, "timings", {})), diagnosis, extra)
    if least is not None and price_of_fairness:
        add_price_of_fairness(result, least)
    return result


def has_fairness(sc) -> bool:
    obj = sc.objective
    return bool(sc.fairness) or obj.kind != "min_cost" or bool(obj.fairness_weight)


def _needs_reference(inst: Instance) -> bool:
    obj = inst.scenario.objective
    return bool(obj.fairness_weight) and obj.fairness_metric == "gini"


def least_cost_variant(inst: Instance) -> Instance:
    """The same scenario without fairness rules and with the plain least-cost objective."""
    from fairshare.scenario import Objective

    sc = inst.scenario.model_copy(update={"fairness": [], "objective": Objective()})
    sc = sc.model_copy(update={"name": inst.scenario.name})
    return build_instance(inst.data, sc)


LEXICOGRAPHIC_REL_TOL = 1e-6  # min-max burden: stage 2 keeps the largest burden within this


def _solve_objective(model, inst: Instance):
    """One solve, or for ``min_max_burden`` two: the least largest burden, then the
    least cost that keeps it (within LEXICOGRAPHIC_REL_TOL)."""
    opts = inst.scenario.solver
    run = lambda: solve_model(model, time_limit_s=opts.time_limit_s,  # noqa: E731
                              threads=opts.threads, method=opts.method)
    if inst.scenario.objective.kind != "min_max_burden":
        return run(), {}
    _set_cost_objective(model, False)
    first = run()
    if first.status != Status.OPTIMAL:
        return first, {}
    beta_bp = float(model.max_burden_bp.value)
    model.max_burden_bp.setub(beta_bp * (1 + LEXICOGRAPHIC_REL_TOL) + 1e-9)
    _set_cost_objective(model, True)
    second = run()
    second.solve_seconds += first.solve_seconds
    return second, {"min_max_burden": {"max_burden": beta_bp / BP,
                                       "relative_tolerance": LEXICOGRAPHIC_REL_TOL}}


def _set_cost_objective(model, on: bool) -> None:
    (model.total_cost.activate if on else model.total_cost.deactivate)()
    (model.max_burden.deactivate if on else model.max_burden.activate)()
    quad = getattr(model, "quadratic_cost", None)
    if quad is not None:
        quad.active = on


def add_price_of_fairness(result: Result, least: Result) -> None:
    """price_of_fairness = cost_fair / cost_least - 1, and each city's cost shift."""
    if result.status != Status.OPTIMAL or least.status != Status.OPTIMAL:
        return
    shift = result.cities.set_index("city")["cost_cny"] - least.cities.set_index("city")["cost_cny"]
    result.cities["cost_shift_cny"] = result.cities["city"].map(shift).to_numpy()
    price = result.total_cost / least.total_cost - 1 if least.total_cost > 0 else None
    result.summary["price_of_fairness"] = price
    result.summary["least_cost_cny"] = least.total_cost
    result.summary["cost_shift_cny"] = {c: float(v) for c, v in shift.items()}


def diagnose(inst: Instance, model: pyo.ConcreteModel, time_limit_s: float | None = None) -> dict:
    """Why a scenario is infeasible: targets below their MTFR, then the rules that conflict."""
    d = inst.data
    below = []
    mtfr = inst.mtfr(inst.aq.metric, inst.aq.receptor)
    for i in np.flatnonzero(inst.aq.limit_ugm3 < mtfr - MTFR_TOL_UGM3):
        below.append({"metric": d.metrics[inst.aq.metric[i]],
                      "receptor": d.receptors[inst.aq.receptor[i]],
                      "target_ugm3": float(inst.aq.limit_ugm3[i]), "mtfr_ugm3": float(mtfr[i]),
                      "entry": inst.aq.source[i]})
    soft = {c.name for c in model.component_objects(pyo.Constraint, active=True)}
    soft |= {b.name for b in getattr(model, "_fs_matrix_rows", [])}
    soft -= HARD_COMPONENTS
    status, violations = elastic_solve(model, soft, time_limit_s)
    return {
        "targets_below_mtfr": below,
        "elastic_status": status.value,
        "violated_rows": [{"constraint": v.constraint, "violation": v.violation,
                           "bound": v.bound} for v in violations],
        "note": "violations are in the row's model units: µg/m³ for aq_target and "
                "exposure_target, kt/yr for emission_cap, million CNY/yr for burden_cap",
    }


def mtfr(scenario) -> pd.DataFrame:
    """MTFR per metric and receptor, with the baseline and the scenario's target."""
    inst = scenario if isinstance(scenario, Instance) else prepare(scenario)
    d = inst.data
    target = np.full((len(d.metrics), len(d.receptors)), np.nan)
    target[inst.aq.metric, inst.aq.receptor] = inst.aq.limit_ugm3
    rows = []
    for q, metric in enumerate(d.metrics):
        if not d.transport_ugm3_per_kt[q].any():
            continue
        for r, rec in enumerate(d.receptors):
            rows.append({"metric": metric, "receptor": rec,
                         "baseline_ugm3": d.baseline_ugm3[q, r], "mtfr_ugm3": inst.mtfr_ugm3[q, r],
                         "target_ugm3": target[q, r]})
    frame = pd.DataFrame(rows)
    frame["target_feasible"] = pd.array(
        [None if np.isnan(t) else bool(t >= m - MTFR_TOL_UGM3)
         for t, m in zip(frame["target_ugm3"], frame["mtfr_ugm3"])], dtype="boolean")
    return frame
