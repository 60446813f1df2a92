"""The Python API (DESIGN §7); the CLI calls exactly these functions."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from fairshare.data import load_region
from fairshare.instance import Instance, build_instance
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


def solve(scenario, model: pyo.ConcreteModel | None = None) -> Result:
    """Solve the scenario (or the given model built from it) and return a :class:`Result`.

    The solution and duals are loaded into ``model``. An infeasible scenario is
    diagnosed (targets below MTFR, then an elastic solve naming violated rows).
    """
    if model is None:
        model = build_model(scenario)
    inst: Instance = model._fairshare_instance
    opts = inst.scenario.solver
    outcome = solve_model(model, time_limit_s=opts.time_limit_s, threads=opts.threads,
                          method=opts.method)
    diagnosis = None
    if outcome.status == Status.INFEASIBLE:
        diagnosis = diagnose(inst, model, opts.time_limit_s)
    return make_result(inst, model, outcome, dict(getattr(inst, "timings", {})), diagnosis)


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
