"""Pareto fronts by the epsilon-constraint method, and the cost-of-ambition curve.

* ``y="gini" | "max_burden" | "band"``: the scenario's least cost with the fairness
  metric bounded by epsilon, epsilon swept from its value in the least-cost plan down
  to its lowest reachable value (0 for gini and band; the min-max burden for
  max_burden). The bound is one more fairness rule added to the scenario (Gini:
  ``gini_bound``; max burden: ``burden_cap``; band: ``burden_band``).
* ``sweep="target"``: the cost of attainment: every targeted receptor's limit set to
  ``C0 - gamma (C0 - MTFR)``, gamma from 0 to 1.

The model is built once and kept in HiGHS; each point changes the bound (a row bound
or, for the Gini, the coefficients of one row) and re-solves from the previous basis.
An infeasible point is a point (its status says so), never an error. With
``workers`` or ``scheduler`` the points run as independent tasks on Dask (each
builds its own model from the scenario and solves cold).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairshare.instance import Instance, build_instance
from fairshare.results import city_table, fairness_metrics, solution_arrays
from fairshare.solver import PersistentSolve, Status

Y_METRICS = {"gini": "gini_burden", "max_burden": "max_burden", "band": "band_burden"}


@dataclass(frozen=True)
class Sweep:
    """What one point changes: ``kind`` in gini | max_burden | band | target."""

    kind: str

    def rule(self) -> dict | None:
        """The extra fairness rule whose bound the sweep moves (loose to start)."""
        return {"gini": {"rule": "gini", "of": "burden", "max": 1.0},
                "max_burden": {"rule": "burden_cap", "max_share_of_gdp": 0.999},
                "band": {"rule": "burden_band", "width": 1.0}}.get(self.kind)


def sweep_instance(inst: Instance, sweep: Sweep) -> Instance:
    """The scenario with the sweep's rule appended, resolved on the same region data."""
    rule = sweep.rule()
    if rule is None:
        return inst
    sc = inst.scenario
    fairness = [r.model_dump() for r in sc.fairness] + [rule]
    updated = type(sc).model_validate({**sc.resolved_dict(), "fairness": fairness,
                                       "region": str(sc.region)})
    return build_instance(inst.data, updated)


class PointSetter:
    """Sets the sweep's bound to a value in a :class:`PersistentSolve`."""

    def __init__(self, solver: PersistentSolve, inst: Instance, sweep: Sweep):
        self.solver, self.inst, self.kind = solver, inst, sweep.kind
        m, d = solver.model, inst.data
        if self.kind == "gini":
            n = sum(1 for r in inst.rules if r.kind == "gini") - 1
            self.row = solver.row(m.gini_bound[n])
            self.cols = [solver.column(m.city_cost[c]) for c in d.cities]
        elif self.kind == "max_burden":
            n = sum(1 for c in inst.cost_caps if c.kind == "burden_cap") - 1
            self.rows = [solver.row(m.burden_cap[n, c]) for c in d.cities]
        elif self.kind == "band":
            n = sum(1 for r in inst.rules if r.kind == "burden_band") - 1
            self.rows = [solver.row(m.burden_band[n, c]) for c in d.cities]
        else:
            self.rows = solver.block_rows("aq_target")
            aq = inst.aq
            self.c0 = d.baseline_ugm3[aq.metric, aq.receptor]
            self.mtfr = inst.mtfr(aq.metric, aq.receptor)
            block = m.aq_target
            self.constant = block.constant

    def set(self, value: float) -> None:
        gdp = self.inst.gdp_mcny
        if self.kind == "gini":
            from fairshare.model.fairness import BP
            S = len(self.cols)
            for col, g in zip(self.cols, gdp):
                self.solver.set_coefficient(self.row, col, -S * value * BP / g)
        elif self.kind == "max_burden":
            self.solver.set_row_bounds(self.rows, -np.inf, value * gdp)
        elif self.kind == "band":
            self.solver.set_row_bounds(self.rows, -value * gdp, value * gdp)
        else:
            limit = self.c0 - value * (self.c0 - self.mtfr)
            self.solver.set_row_bounds(self.rows, -np.inf, limit - self.constant)


def point_row(inst: Instance, model, outcome, kind: str, value: float) -> dict:
    row = {"sweep": kind, "epsilon": value, "status": outcome.status.value,
           "total_cost_cny": np.nan, "solve_seconds": outcome.solve_seconds,
           "iterations": outcome.iterations}
    if outcome.status == Status.OPTIMAL:
        x, dE = solution_arrays(model, inst)
        cities = city_table(inst, x, dE)
        row["total_cost_cny"] = float(cities.cost_cny.sum())
        row.update(fairness_metrics(cities, inst))
        if kind == "target":
            from fairshare.results import final_concentration
            conc = final_concentration(inst, dE)
            q = inst.aq.metric
            pop = inst.data.receptor_population
            if len(q):
                row["pop_weighted_ugm3"] = float(pop @ conc[q[0]] / pop.sum())
    return row


def epsilon_values(inst: Instance, kind: str, points: int, start: float) -> np.ndarray:
    """From the least-cost plan's value down to the lowest reachable one (gamma 0..1 for
    the target sweep)."""
    if kind == "target":
        return np.linspace(0.0, 1.0, points)
    low = 0.0
    if kind == "max_burden":
        low = min_max_burden(inst)
    return np.linspace(start, low, points)


def min_max_burden(inst: Instance) -> float:
    """The least largest burden (share of GDP) the scenario allows."""
    from fairshare.api import _solve_objective
    from fairshare.model import build_model
    from fairshare.scenario import Objective

    sc = inst.scenario.model_copy(update={"objective": Objective(kind="min_max_burden")})
    variant = build_instance(inst.data, sc)
    model = build_model(variant)
    outcome, extra = _solve_objective(model, variant)
    return extra["min_max_burden"]["max_burden"] if outcome.status == Status.OPTIMAL else 0.0


def pareto(scenario, y: str = "gini", points: int = 15, sweep: str | None = None,
           workers: int | None = None, scheduler: str | None = None,
           progress: bool = True) -> pd.DataFrame:
    """One row per point: the bound (epsilon), status, total cost and every fairness metric,
    plus ``non_dominated`` (cost and y both minimised, among optimal points)."""
    from fairshare.api import prepare
    from fairshare.model import build_model

    kind = "target" if sweep == "target" else y
    if kind not in (*Y_METRICS, "target"):
        raise ValueError(f"unknown front {kind!r}: use y in {sorted(Y_METRICS)} or sweep='target'")
    base = scenario if isinstance(scenario, Instance) else prepare(scenario)
    inst = sweep_instance(base, Sweep(kind))
    model = build_model(inst)
    opts = inst.scenario.solver
    solver = PersistentSolve(model, opts.time_limit_s, opts.threads, opts.method)
    first = solver.solve()  # the sweep's bound is loose: the least-cost plan
    if first.status != Status.OPTIMAL:
        return pd.DataFrame([point_row(inst, model, first, kind, np.nan)])
    start = point_row(inst, model, first, kind, np.nan).get(Y_METRICS.get(kind, ""), 0.0)
    values = epsilon_values(inst, kind, points, start)
    if workers or scheduler:
        from fairshare.distributed import map_tasks
        rows = map_tasks(_cold_point, [(base, kind, float(v)) for v in values], workers=workers,
                         scheduler=scheduler, progress=progress, desc=f"pareto {kind}")
    else:
        rows = _warm_points(solver, inst, kind, values, progress)
    frame = pd.DataFrame(rows)
    frame.insert(0, "point", range(len(frame)))
    frame["non_dominated"] = non_dominated(frame, "total_cost_cny",
                                           "gamma" if kind == "target" else Y_METRICS[kind])
    return frame


def _warm_points(solver: PersistentSolve, inst: Instance, kind: str, values, progress: bool):
    from tqdm.auto import tqdm

    setter = PointSetter(solver, inst, Sweep(kind))
    rows = []
    for v in tqdm(values, desc=f"pareto {kind}", disable=not progress, leave=False):
        setter.set(float(v))
        rows.append(_named(point_row(inst, solver.model, solver.solve(), kind, float(v)), kind))
    return rows


def _cold_point(task) -> dict:
    """One point built and solved from scratch (a Dask task: carries the instance's
    scenario and data, never a Pyomo model)."""
    from fairshare.model import build_model

    base, kind, value = task
    inst = sweep_instance(base, Sweep(kind))
    model = build_model(inst)
    opts = inst.scenario.solver
    solver = PersistentSolve(model, opts.time_limit_s, opts.threads, opts.method)
    PointSetter(solver, inst, Sweep(kind)).set(value)
    return _named(point_row(inst, model, solver.solve(), kind, value), kind)


def _named(row: dict, kind: str) -> dict:
    if kind == "target":
        row["gamma"] = row["epsilon"]
    return row


def non_dominated(points: pd.DataFrame, x: str, y: str) -> pd.Series:
    """True for optimal points no other optimal point beats in both x and y (minimised;
    for the target sweep more ambition, gamma, is better)."""
    from fairshare.plots import non_dominated as both_minimised

    if y != "gamma":
        return both_minimised(points, x, y)
    flipped = points.assign(minus_gamma=-points["gamma"])
    return both_minimised(flipped, x, "minus_gamma")
