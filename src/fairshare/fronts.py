"""Pareto fronts by the epsilon-constraint method, and the cost-of-attainment curve.

* ``y="gini" | "max_burden" | "band"``: the least cost with the fairness metric bounded
  by epsilon, epsilon swept from its value in the least-cost plan down to its lowest
  reachable value (0 for gini and band; the least largest burden for max_burden). The
  bound is one more fairness rule appended to the scenario; the rule family that owns it
  says how a point moves it (its ``SWEEP``: :mod:`fairshare.families`).
* ``sweep="target"``: the cost of attainment: every targeted receptor's limit set to
  ``C0 - gamma (C0 - MTFR)``, gamma from 0 to 1.

Every point minimises total cost, whatever the scenario's own objective (a min-max
burden or a weighted fairness objective would otherwise make every point the same
plan); the scenario's targets and fairness rules all hold at every point.

The model is built once and kept in HiGHS; each point changes the bound (a row bound
or, for the Gini, the coefficients of one row) and re-solves from the previous basis.
An infeasible point is a point (its status says so), never an error. With
``workers`` or ``scheduler`` the points run as independent tasks on Dask (each
builds its own model from the scenario and solves cold).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairshare import families
from fairshare.families.base import Sweep
from fairshare.instance import Instance
from fairshare.results import city_table, fairness_metrics, final_concentration, solution_arrays
from fairshare.solver import PersistentSolve, Status

SWEEPS = families.SWEEPS
Y_METRICS = {name: sweep.column for name, sweep in SWEEPS.items() if sweep.loose is not None}


def sweep_instance(inst: Instance, sweep: Sweep) -> Instance:
    """The scenario of a front: least cost as objective, and the sweep's rule appended
    (loose) when it moves one; resolved on the same region data and MTFR table."""
    fairness = list(inst.scenario.fairness) + ([sweep.loose] if sweep.loose else [])
    return inst.variant(objective="min_cost", fairness=fairness)


def point_row(inst: Instance, model, outcome, sweep: Sweep, value: float) -> dict:
    row = {"sweep": sweep.name, "epsilon": value, "status": outcome.status.value,
           "total_cost_cny": np.nan, "solve_seconds": outcome.solve_seconds,
           "iterations": outcome.iterations}
    if sweep.name == "target":
        row["gamma"] = value
    if outcome.status != Status.OPTIMAL:
        return row
    x, dE = solution_arrays(model, inst)
    cities = city_table(inst, x, dE)
    row["total_cost_cny"] = float(cities.cost_cny.sum())
    row.update(fairness_metrics(cities, inst))
    if sweep.name == "target" and len(inst.aq.metric):
        conc = final_concentration(inst, dE)[inst.aq.metric[0]]
        pop = inst.data.receptor_population
        row["pop_weighted_ugm3"] = float(pop @ conc / pop.sum())
    return row


def pareto(scenario, y: str = "gini", points: int = 15, sweep: str | None = None,
           workers: int | None = None, scheduler: str | None = None,
           progress: bool = True) -> pd.DataFrame:
    """One row per point: the bound (epsilon), status, total cost and every fairness metric,
    plus ``non_dominated`` (cost and y both minimised, among optimal points)."""
    from fairshare.api import build_model, prepare

    name = "target" if sweep == "target" else y
    if name not in SWEEPS or (name != "target" and name not in Y_METRICS):
        raise ValueError(f"unknown front {name!r}: use y in {sorted(Y_METRICS)} or sweep='target'")
    chosen = SWEEPS[name]
    base = scenario if isinstance(scenario, Instance) else prepare(scenario)
    if name == "target" and not len(base.aq.metric):
        from fairshare.errors import InputError, Problem
        file, line = base.scenario.locate("targets")
        raise InputError([Problem(file, "the target sweep moves the concentration targets, and "
                                        "this scenario has none (emission caps and exposure "
                                        "targets do not move); add a target such as {metric: "
                                        "PM25, max_ugm3: 35} or sweep a fairness metric",
                                  line, "targets")])
    inst = sweep_instance(base, chosen)
    solver = _persistent(build_model(inst), inst)
    first = point_row(inst, solver.model, solver.solve(), chosen, np.nan)  # loose: least cost
    if first["status"] != Status.OPTIMAL.value:
        rows = [first]  # the scenario itself does not solve: one point says so
    elif workers or scheduler:
        from fairshare.distributed import map_tasks
        tasks = [(base, name, float(v)) for v in _values(first, inst, chosen, points)]
        rows = map_tasks(_cold_point, tasks, workers=workers, scheduler=scheduler,
                         progress=progress, desc=f"pareto {name}")
    else:
        rows = _warm_points(solver, inst, chosen, _values(first, inst, chosen, points), progress)
    frame = pd.DataFrame(rows)
    frame.insert(0, "point", range(len(frame)))
    frame["non_dominated"] = non_dominated(frame, "total_cost_cny", chosen.column)
    return frame


def _values(first: dict, inst: Instance, sweep: Sweep, points: int) -> np.ndarray:
    """The bounds of the points: from the least-cost plan's value to the sweep's far end."""
    start = sweep.start(first) if sweep.start else first[sweep.column]
    return np.linspace(start, sweep.end(inst), points)


def _persistent(model, inst: Instance) -> PersistentSolve:
    opts = inst.scenario.solver
    return PersistentSolve(model, opts.time_limit_s, opts.threads, opts.method)


def _warm_points(solver: PersistentSolve, inst: Instance, sweep: Sweep, values, progress: bool):
    from tqdm.auto import tqdm

    rows = []
    for v in tqdm(values, desc=f"pareto {sweep.name}", disable=not progress, leave=False):
        sweep.set(solver, inst, float(v))
        rows.append(point_row(inst, solver.model, solver.solve(), sweep, float(v)))
    return rows


def _cold_point(task) -> dict:
    """One point built and solved from scratch (a Dask task: carries the instance's
    scenario and data, never a Pyomo model)."""
    from fairshare.api import build_model

    base, name, value = task
    sweep = SWEEPS[name]
    inst = sweep_instance(base, sweep)
    solver = _persistent(build_model(inst), inst)
    sweep.set(solver, inst, value)
    return point_row(inst, solver.model, solver.solve(), sweep, value)


def non_dominated(points: pd.DataFrame, x: str, y: str) -> pd.Series:
    """True for optimal points no other optimal point beats in both x and y (minimised;
    for the target sweep more ambition, gamma, is better)."""
    from fairshare.plots import non_dominated as both_minimised

    if y not in points:  # no point solved, so no point has the metric
        return pd.Series(False, index=points.index, name="non_dominated")
    if y != "gamma":
        return both_minimised(points, x, y)
    flipped = points.assign(minus_gamma=-points["gamma"])
    return both_minimised(flipped, x, "minus_gamma")
