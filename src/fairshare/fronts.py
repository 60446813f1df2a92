"""Pareto fronts by the epsilon-constraint method, and the cost-of-attainment curve.

* ``y="gini" | "max_burden" | "band"``: the least cost with the fairness metric bounded
  by epsilon, epsilon swept from its value in the least-cost plan down to its lowest
  reachable value. The bound is one more fairness rule appended to the scenario; the rule
  family that owns it says how a point moves it and where the sweep aims (its ``SWEEP``:
  :mod:`fairshare.families`: 0 for gini and band, the least largest burden for max_burden).
* ``sweep="target"``: the cost of attainment: every targeted receptor's limit set to
  ``C0 - gamma (C0 - MTFR)``, gamma from 0 to 1.

Where the points go (:func:`reachable_end`, :func:`place_points`):

1. **The reachable end first.** A point at the sweep's aim (Gini 0, band 0, the least
   largest burden, gamma 1) is solved; when it is infeasible, the least reachable bound
   is found by bisection on feasibility between that aim (infeasible) and the least-cost
   plan's value (feasible), to ``END_REL_TOL`` of the range (about 14 warm re-solves),
   and the front ends at the last feasible bound found. No point lies beyond it.
2. **Then where the front bends.** ``INITIAL_POINTS`` points evenly spaced from the
   least-cost plan to the reachable end; the rest are added in three or four rounds, each
   splitting the intervals whose piece of the cost curve is longest and most bent (length
   in the plane of bound and cost, both scaled to 0..1, times one plus the turn at its
   ends), so the steep end and the knees get the points and straight stretches few.
   The rounds are the same with or without Dask: the same scenario gives the same bounds.

A front whose metric cannot move below the least-cost plan's value has that one point,
then the remaining points evenly from there to the sweep's aim with the status
``unreachable`` (not solved: bisection proved them infeasible); ``reachable`` says which
rows lie within the front.

Every point minimises total cost, whatever the scenario's own objective (a min-max
burden or a weighted fairness objective would otherwise make every point the same
plan); the scenario's targets and fairness rules all hold at every point.

The model is built once and kept in HiGHS; each point changes the bound (a row bound
or, for the Gini, the coefficients of one row) and re-solves from the previous basis.
An infeasible point is a point (its status says so), never an error. With
``workers`` or ``scheduler`` the points of each round run as independent tasks on Dask
(each builds its own model from the scenario and solves cold; the rounds share one
cluster); the reachable end is found here, on the warm model.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

from fairshare import families
from fairshare.families.base import Sweep
from fairshare.instance import Instance
from fairshare.results import city_table, fairness_metrics, final_concentration, solution_arrays
from fairshare.solver import PersistentSolve, Status

SWEEPS = families.SWEEPS
Y_METRICS = {name: sweep.column for name, sweep in SWEEPS.items() if sweep.loose is not None}

#: The status of a point beyond the reachable end (not solved).
UNREACHABLE = "unreachable"
#: Evenly spaced points placed first; the rest go where the front bends.
INITIAL_POINTS = 5
#: The reachable end is found to this fraction of the range of the sweep.
END_REL_TOL = 1e-4
_MAX_BISECTIONS = 60
#: Weight of the turn of the cost curve against the length of an interval (see
#: :func:`_interval_losses`).
BEND_WEIGHT = 2.0


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
           progress: bool = True, year: int | None = None) -> pd.DataFrame:
    """One row per point: the bound (epsilon), status, total cost and every fairness metric,
    plus ``non_dominated`` (cost and y both minimised, among optimal points) and
    ``reachable`` (False for a point beyond the reachable end, status ``unreachable``).

    Rows run from the least-cost plan (point 0) to the reachable end; the points are
    placed where the front bends (module docstring). For a roadmap, ``sweep="target"``
    moves the targets of ``year`` (default: its last) and the cost is the net present
    value (:func:`roadmap_front`)."""
    from fairshare.api import build_model, prepare
    from fairshare.roadmap import Roadmap

    name = "target" if sweep == "target" else y
    if name not in SWEEPS or (name != "target" and name not in Y_METRICS):
        raise ValueError(f"unknown front {name!r}: use y in {sorted(Y_METRICS)} or sweep='target'")
    chosen = SWEEPS[name]
    base = scenario if isinstance(scenario, (Instance, Roadmap)) else prepare(scenario)
    if isinstance(base, Roadmap):
        return roadmap_front(base, name, points, year, progress, workers or scheduler)
    if name == "target" and base.members:
        from fairshare.errors import InputError, Problem
        file, line = base.scenario.locate("transport")
        raise InputError([Problem(file, "the target sweep moves one member's targets; a robust "
                                        "plan holds them under every member: sweep a fairness "
                                        "metric, or run the sweep per member (transport: {member: ...})",
                                  line, "transport")])
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
    else:
        start = float(chosen.start(first) if chosen.start else first[chosen.column])
        aim = float(chosen.end(inst))
        end = reachable_end(solver, inst, chosen, start, aim)
        if workers or scheduler:
            from fairshare.distributed import map_tasks

            map_tasks(_cold_point, [], workers=workers, scheduler=scheduler)  # checks the arguments
            with _cluster(workers, scheduler) as address:
                def run(values):
                    return map_tasks(_cold_point, [(base, name, float(v)) for v in values],
                                     scheduler=address, progress=progress, desc=f"pareto {name}")
                rows = place_points(run, start, end, aim, points, chosen)
        else:
            def run(values):
                return _warm_points(solver, inst, chosen, values, progress)
            rows = place_points(run, start, end, aim, points, chosen)
    frame = pd.DataFrame(rows)
    frame.insert(0, "point", range(len(frame)))
    frame["non_dominated"] = non_dominated(frame, "total_cost_cny", chosen.column)
    frame["reachable"] = (frame["status"] != UNREACHABLE).to_numpy()
    return frame


def roadmap_front(road, name: str, points: int, year: int | None, progress: bool,
                  distributed=None) -> pd.DataFrame:
    """The cost (net present value) of raising the ambition of one year's targets of a
    roadmap, gap closure 0..1 there, the other years' targets as they are; one model,
    warm re-solves, points placed as for every front."""
    from fairshare.errors import InputError, Problem
    from fairshare.model.periods import PeriodView
    from fairshare.roadmap.solve import build_roadmap_model

    sc = road.scenario
    year = road.years[-1] if year is None else year
    problems = []
    if name != "target":
        problems.append("a roadmap's fronts sweep the ambition of a year's targets (sweep "
                        "target, with its year); fronts of cost against fairness are for one year")
    if year not in road.years:
        problems.append(f"year {year} is not a year of the roadmap ({road.years})")
    if distributed:
        problems.append("a roadmap's front runs in this process (no --workers or --scheduler)")
    if not problems and not len(road.periods[road.years.index(year)].aq.metric):
        problems.append(f"the roadmap has no concentration target in {year} to sweep")
    if problems:
        file, line = sc.locate("years")
        raise InputError([Problem(file, text, line, "years") for text in problems])
    period = road.periods[road.years.index(year)]
    model = build_roadmap_model(road)
    solver = _InPeriod(_persistent(model, road), PeriodView(model, year))
    sweep = SWEEPS["target"]

    def run(values):
        rows = []
        for v in values:
            sweep.set(solver, period, float(v))
            rows.append(_roadmap_point(road, model, solver.solve(), float(v), year))
        return rows

    first = _roadmap_point(road, model, solver.solve(), np.nan, year)
    if first["status"] != Status.OPTIMAL.value:
        rows = [first]
    else:
        end = reachable_end(solver, period, sweep, 0.0, 1.0)
        rows = place_points(run, 0.0, end, 1.0, points, sweep)
    frame = pd.DataFrame(rows)
    frame.insert(0, "point", range(len(frame)))
    frame["non_dominated"] = non_dominated(frame, "total_cost_cny", "gamma")
    frame["reachable"] = (frame["status"] != UNREACHABLE).to_numpy()
    return frame


class _InPeriod:
    """A :class:`PersistentSolve` whose ``model`` is one period's view of a roadmap model
    (so that a family's sweep finds that year's rows)."""

    def __init__(self, solver: PersistentSolve, view):
        self._solver, self.model = solver, view

    def __getattr__(self, name):
        return getattr(self._solver, name)


def _roadmap_point(road, model, outcome, gamma: float, year: int) -> dict:
    row = {"sweep": "target", "epsilon": gamma, "gamma": gamma, "year": year,
           "status": outcome.status.value, "total_cost_cny": np.nan,
           "solve_seconds": outcome.solve_seconds, "iterations": outcome.iterations}
    if outcome.status == Status.OPTIMAL:
        row["total_cost_cny"] = outcome.objective * 1e6  # the net present value, CNY
        for y in road.years:
            row[f"cost_{y}_cny"] = sum(v.value or 0.0 for v in
                                       getattr(model, f"city_cost_{y}").values()) * 1e6
    return row


def reachable_end(solver: PersistentSolve, inst: Instance, sweep: Sweep, start: float,
                  aim: float) -> float:
    """The far end of the front: ``aim`` (the sweep's end) when a point there solves, else
    the bound nearest to it that still solves, by bisection on feasibility between ``aim``
    (infeasible) and ``start`` (the least-cost plan's value, feasible) to ``END_REL_TOL``
    of ``|start - aim|``. Feasibility is monotone in the bound (a looser bound only adds
    plans), so the bisection brackets the least reachable value; the end returned is
    always a bound that solved. A solve that ends neither optimal nor infeasible (a time
    limit, numerical trouble) stops the search: nothing more is known, and the last
    bound that solved (or ``aim`` when none but the start did) is the end, its points
    reporting their own status. Leaves the solver's bound wherever it was last set."""
    if not np.isfinite(start) or not np.isfinite(aim) or start == aim:
        return aim
    sweep.set(solver, inst, aim)
    status = solver.solve().status
    if status != Status.INFEASIBLE:
        return aim  # reachable, or unknown: the points will say
    infeasible, feasible = aim, start
    tol = END_REL_TOL * abs(start - aim)
    for _ in range(_MAX_BISECTIONS):
        if abs(feasible - infeasible) <= tol:
            break
        mid = 0.5 * (feasible + infeasible)
        sweep.set(solver, inst, mid)
        status = solver.solve().status
        if status == Status.OPTIMAL:
            feasible = mid
        elif status == Status.INFEASIBLE:
            infeasible = mid
        else:  # unknown: the points beyond the last feasible bound are not proven unreachable
            return aim if feasible == start else feasible
    return feasible


def place_points(run, start: float, end: float, aim: float, points: int,
                 sweep: Sweep) -> list[dict]:
    """The rows of ``points`` points from ``start`` (least cost) to ``end`` (reachable end),
    in that order; ``run(values)`` solves a list of bounds and returns their rows.

    ``INITIAL_POINTS`` even points first (all of them when ``points`` is that or fewer),
    then rounds of half the points left (at least a quarter of those to add, so at most
    three or four rounds), each given to the intervals by :func:`_interval_losses`,
    greedily: the next point goes to the interval of the largest loss / (points it already
    got + 1), and an interval's points split it evenly. When the front is one point
    (``end`` is ``start``), the other points lie evenly from ``start`` to ``aim`` with
    the status ``unreachable``, unsolved; when ``start`` is ``aim`` there is nothing
    beyond, and the front is that one row."""
    points = max(int(points), 1)
    span = end - start
    tol = END_REL_TOL * abs(aim - start)
    if not np.isfinite(span) or abs(span) <= tol:
        rows = run([start])
        if start == aim or not np.isfinite(aim):
            return rows
        beyond = np.linspace(start, aim, points)[1:]
        return rows + [_unreachable_row(sweep, float(v)) for v in beyond]
    def at(positions):  # the bounds at shares of the way; the end exactly
        return [end if u == 1.0 else start + u * span for u in positions]

    n0 = min(points, INITIAL_POINTS)
    t = list(np.linspace(0.0, 1.0, n0))
    solved = dict(zip(t, run(at(t))))
    left = points - n0
    step = max(1, -(-left // 4))
    while left > 0:
        batch = min(left, max(step, -(-left // 2)))
        new = _split(solved, sweep.column, batch, tol / abs(span))
        if not new:
            break
        solved.update(zip(new, run(at(new))))
        left -= len(new)
    return [solved[u] for u in sorted(solved)]


def _interval_losses(t: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """How much each interval [t_i, t_i+1] of the front needs another point.

    Both axes scaled to 0..1 (t: the share of the way from least cost to the reachable
    end; cost: from the least to the largest cost found), the loss of an interval is
    its length in that plane times one plus ``BEND_WEIGHT`` times the turn (radians / pi)
    of the curve at its two ends, the larger one: straight stretches get points by their
    length only, the steep end by its length, and knees twice or three times more. An
    interval with an end that did not solve counts by its width in t."""
    finite = np.isfinite(cost)
    lo, hi = (np.nanmin(cost), np.nanmax(cost)) if finite.any() else (0.0, 0.0)
    c = (cost - lo) / (hi - lo) if hi > lo else np.where(finite, 0.0, np.nan)
    dt, dc = np.diff(t), np.diff(c)
    length = np.hypot(dt, dc)
    heading = np.arctan2(dc, dt)
    turn = np.abs(np.diff(heading)) / np.pi  # at the inner points, 0..1
    turn = np.where(np.isfinite(turn), turn, 0.0)
    at_left = np.r_[0.0, turn]
    at_right = np.r_[turn, 0.0]
    loss = length * (1.0 + BEND_WEIGHT * np.maximum(at_left, at_right))
    return np.where(np.isfinite(loss), loss, dt)


def _split(solved: dict, column: str, batch: int, min_width: float) -> list[float]:
    """``batch`` new positions (0..1) in the intervals between the solved points."""
    t = np.array(sorted(solved))
    cost = np.array([_cost(solved[u]) for u in t])
    loss = np.round(_interval_losses(t, cost), 9)  # ties broken alike in every run
    width = np.diff(t)
    got = np.zeros(len(width), dtype=int)
    for _ in range(batch):
        score = np.where(width / (got + 2) > min_width, loss / (got + 1), -1.0)
        i = int(np.argmax(score))
        if score[i] < 0:
            break
        got[i] += 1
    new = [float(t[i] + width[i] * j / (k + 1)) for i, k in enumerate(got) for j in range(1, k + 1)]
    return sorted(new)


def _cost(row: dict) -> float:
    value = row.get("total_cost_cny", np.nan) if row.get("status") == Status.OPTIMAL.value else np.nan
    return float(value) if value is not None else np.nan


def _unreachable_row(sweep: Sweep, value: float) -> dict:
    row = {"sweep": sweep.name, "epsilon": value, "status": UNREACHABLE,
           "total_cost_cny": np.nan, "solve_seconds": 0.0, "iterations": 0}
    if sweep.name == "target":
        row["gamma"] = value
    return row


@contextlib.contextmanager
def _cluster(workers: int | None, scheduler: str | None):
    """The scheduler address the rounds of a front share: ``scheduler``, or a local
    cluster of ``workers`` processes started once for all of them (as
    :func:`fairshare.distributed.map_tasks` would start one per call) and closed after."""
    if scheduler is not None or not workers:
        yield scheduler
        return
    from distributed import LocalCluster

    with LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _persistent(model, inst) -> PersistentSolve:
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
