"""The Python API; the CLI calls exactly these functions.

One scenario flows one way: :func:`prepare` (scenario file -> region data -> resolved
:class:`~fairshare.instance.Instance`), :func:`build_model` (the Pyomo model),
:func:`solve` (HiGHS, then the MTFR the report needs, then the result tables); an
infeasible scenario is explained by :func:`diagnose`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.core as pyo

from fairshare import families
from fairshare.data import load_region
from fairshare.errors import InputError, Problem
from fairshare.feasibility import MtfrTable
from fairshare.instance import Instance, build_instance, resolve
from fairshare.model import build_model as _build
from fairshare.model.objective import use_cost_objective
from fairshare.results import Result, make_result
from fairshare.roadmap import Roadmap
from fairshare.roadmap.solve import build_roadmap_model, solve_roadmap
from fairshare.solver import Status, elastic_solve, solve_model
from fairshare.units import BP

MTFR_TOL_UGM3 = 1e-6
LEXICOGRAPHIC_REL_TOL = 1e-6  # min-max burden: stage 2 keeps the largest burden within this


def _scenario(scenario):
    if isinstance(scenario, (str, Path)):
        from fairshare.scenario import load_scenario
        return load_scenario(scenario)
    return scenario


def prepare(scenario) -> Instance:
    """Load the scenario's region and resolve its targets and rules into arrays.

    Every problem is reported in one :class:`InputError`: those of the scenario file, of
    the region's tables and of the scenario's references to the region (checked with the
    valid part of an invalid scenario file).
    """
    problems: list[Problem] = []
    try:
        sc = _scenario(scenario)
    except InputError as exc:
        if exc.partial is None:
            raise
        sc, problems = exc.partial, exc.problems + exc.warnings
    if sc.is_roadmap:
        from fairshare.roadmap import prepare_roadmap
        return prepare_roadmap(sc, problems)
    t0 = time.perf_counter()
    try:
        data = load_region(sc.region, sc.year, sc.transport.main_member)
    except InputError as exc:
        raise InputError(problems + exc.problems + exc.warnings) from None
    t1 = time.perf_counter()
    inst, found = resolve(data, sc, MtfrTable(data))
    problems += found
    if sc.transport.robust:
        inst.members, member_problems = _members(sc, data)
        problems += member_problems
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    inst.warnings = list(data.warnings) + [p for p in problems if p.severity == "warning"]
    inst.timings = {"load_data": t1 - t0, "prepare": time.perf_counter() - t1}
    return inst


def _members(sc, data) -> tuple[dict, list[Problem]]:
    """A robust plan's other members, each resolved on its own data (target rows only)."""
    from fairshare.ensemble import load_members
    from fairshare.instance import transport_only

    try:
        return load_members(sc, data.year, lambda d: resolve(d, sc, MtfrTable(d), warn=False,
                                                             keep=transport_only))
    except InputError as exc:
        return {}, exc.problems


def build_model(scenario) -> pyo.ConcreteModel:
    """The scenario's Pyomo ConcreteModel; add constraints to it, then :func:`solve` it.

    Costs in the model are in million CNY/yr, emissions in kt/yr (see
    :mod:`fairshare.model`).
    """
    inst = scenario if isinstance(scenario, (Instance, Roadmap)) else prepare(scenario)
    t0 = time.perf_counter()
    m = build_roadmap_model(inst) if isinstance(inst, Roadmap) else _build(inst)
    inst.timings = {**inst.timings, "build_model": time.perf_counter() - t0}
    return m


def solve(scenario, model: pyo.ConcreteModel | None = None, *,
          price_of_fairness: bool = True) -> Result:
    """Solve the scenario (or the given model built from it) and return a :class:`Result`.

    The solution and duals are loaded into ``model``. An infeasible scenario is
    diagnosed (targets below MTFR, then the rules and targets that must give). A
    scenario with fairness rules or a fairness objective is also solved without them,
    for the price of fairness and each city's cost shift.
    """
    if model is None:
        model = build_model(scenario)
    inst: Instance = model._fairshare_instance
    if isinstance(inst, Roadmap):
        return solve_roadmap(inst, model)
    least = None
    if has_fairness(inst.scenario) and (price_of_fairness or _needs_reference(inst)):
        least = solve(least_cost_variant(inst), price_of_fairness=False)
    extra = {}
    if _needs_reference(inst) and least is not None and least.status == Status.OPTIMAL:
        model.gini_reference_bp.set_value(max(1e-12, float(least.cities["burden"].sum() * BP)))
        extra["gini_reference_bp"] = float(pyo.value(model.gini_reference_bp))
    elif _needs_reference(inst):
        inst.warnings.append(Problem(
            str(inst.scenario.source_file or inst.scenario.name),
            f"the least-cost plan did not solve ({least.status.value if least else 'not run'}), "
            "so the Gini penalty has no reference burden: it weighs pairwise burden differences "
            "over a reference of 1 bp and is not a Gini coefficient", column="objective",
            severity="warning"))
    outcome, extra_solve = solve_objective(model, inst)
    extra.update(extra_solve)
    mtfr_ugm3 = inst.mtfr.for_report(inst.aq.metric, inst.aq.receptor)
    diagnosis = None
    if outcome.status == Status.INFEASIBLE:
        diagnosis = diagnose(inst, model, inst.scenario.solver.time_limit_s)
    result = make_result(inst, model, outcome, dict(inst.timings), mtfr_ugm3, diagnosis, extra)
    if least is not None and price_of_fairness:
        add_price_of_fairness(result, least)
    return result


def has_fairness(sc) -> bool:
    return bool(sc.fairness) or not sc.objective.is_plain_cost


def _needs_reference(inst: Instance) -> bool:
    obj = inst.scenario.objective
    return bool(obj.fairness_weight) and obj.fairness_metric == "gini"


def least_cost_variant(inst: Instance) -> Instance:
    """The same scenario without fairness rules and with the plain least-cost objective."""
    return inst.variant(fairness=[], objective="min_cost")


def solve_objective(model, inst: Instance):
    """One solve, or for ``min_max_burden`` two: the least largest burden, then the
    least cost that keeps it (within LEXICOGRAPHIC_REL_TOL)."""
    opts = inst.scenario.solver

    def run():
        return solve_model(model, time_limit_s=opts.time_limit_s, threads=opts.threads,
                           method=opts.method)

    if inst.scenario.objective.kind != "min_max_burden":
        return run(), {}
    use_cost_objective(model, False)
    first = run()
    if first.status != Status.OPTIMAL:
        return first, {}
    beta_bp = float(model.max_burden_bp.value)
    model.max_burden_bp.setub(beta_bp * (1 + LEXICOGRAPHIC_REL_TOL) + 1e-9)
    use_cost_objective(model, True)
    second = run()
    second.solve_seconds += first.solve_seconds
    return second, {"min_max_burden": {"max_burden": beta_bp / BP,
                                       "relative_tolerance": LEXICOGRAPHIC_REL_TOL}}


def least_max_burden(inst: Instance) -> float:
    """The least largest burden (share of GDP) the scenario's targets and rules allow
    (0 when that problem does not solve)."""
    variant = inst.variant(objective="min_max_burden")
    outcome, extra = solve_objective(_build(variant), variant)
    return extra["min_max_burden"]["max_burden"] if outcome.status == Status.OPTIMAL else 0.0


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


# --- why a scenario is infeasible ---------------------------------------------------------

def diagnose(inst: Instance, model: pyo.ConcreteModel, time_limit_s: float | None = None) -> dict:
    """Why a scenario is infeasible, in the scenario's own terms.

    1. targets below their MTFR (impossible whatever else holds);
    2. with every target kept, how far each fairness rule must give (an elastic solve
       relaxing only the rules), when the scenario has rules;
    3. with every rule kept, how far the targets must give (relaxing only the targets
       and caps).

    Each relaxation names the scenario entry (file and line), the city, receptor or zone,
    the amount in the rule's own unit, and the bound that would hold.
    """
    below = []
    for other in [inst, *inst.members.values()]:
        d, aq = other.data, other.aq
        mtfr = other.mtfr.values(aq.metric, aq.receptor)
        below += [{"metric": d.metrics[aq.metric[i]], "receptor": d.receptors[aq.receptor[i]],
                   "target_ugm3": float(aq.limit_ugm3[i]), "mtfr_ugm3": float(mtfr[i]),
                   "entry": aq.source[i], **({"member": d.member} if inst.members else {}),
                   **_titration(other, aq.metric[i], aq.receptor[i])}
                  for i in np.flatnonzero(aq.limit_ugm3 < mtfr - MTFR_TOL_UGM3)]
    stages = {}
    if any(inst.of(f) for f in families.RULES):
        stages["rules_must_give"] = _relax(inst, model, families.RULES, time_limit_s)
    stages["targets_must_give"] = _relax(inst, model, families.TARGETS, time_limit_s)
    return {"targets_below_mtfr": below, **stages}


def _titration(inst: Instance, q: int, r: int) -> dict:
    """A target on a response surface that NOx titration keeps out of reach: its cause
    (docs/ozone.md); {} otherwise."""
    from fairshare.model.surfaces import titration, used_metrics

    found = titration(inst, int(q), int(r)) if int(q) in used_metrics(inst) else None
    return {} if found is None else {"cause": found.pop("cause"), "titration": found}


def _relax(inst: Instance, model, soft_families, time_limit_s) -> dict:
    """The least violation of the rows of ``soft_families``, the others held (a robust
    plan's member rows too: each relaxation then names its member)."""
    from fairshare.ensemble import member_views
    from fairshare.model.periods import origin, period_name

    soft = {name for f in soft_families for name in f.ROWS}
    soft |= {period_name(name, member) for name in set(soft) for member in inst.members}
    views = {member: (other, view) for member, other, view in member_views(model, inst)}
    status, violations = elastic_solve(model, soft, time_limit_s)
    relaxations = []
    for v in violations:
        name, member = origin(model, v.component)
        other, view = views[member] if member in inst.members else (inst, model)
        member = member if member in inst.members else inst.data.member  # the main member's rows
        family = families.owner_of_component(name)
        relaxed = family.explain(other, view, other.of(family), v.key, v.violation).as_dict()
        relaxations.append({**relaxed, "member": member} if inst.members else relaxed)
    return {"status": status.value, "relaxations": relaxations}


# --- MTFR ------------------------------------------------------------------------------

def mtfr(scenario) -> pd.DataFrame:
    """MTFR per metric and receptor, with the baseline and the scenario's target.

    Empty (with its columns) for a region without concentrations: a region planned with
    emission caps only has no concentration to compute.
    """
    prepared = isinstance(scenario, Instance) or hasattr(scenario, "periods")
    inst = scenario if prepared else prepare(scenario)
    periods = getattr(inst, "periods", None)
    if periods is not None:  # a roadmap: each year on its own data, a `year` column first
        return pd.concat([mtfr(one).assign(year=year) for year, one in zip(inst.years, periods)],
                         ignore_index=True).pipe(lambda f: f[["year", *f.columns[:-1]]])
    if inst.members:  # a robust plan: each transport member, a `member` column first
        every = [inst, *inst.members.values()]
        return pd.concat([_mtfr_table(one).assign(member=one.data.member) for one in every],
                         ignore_index=True).pipe(lambda f: f[["member", *f.columns[:-1]]])
    return _mtfr_table(inst)


def _mtfr_table(inst: Instance) -> pd.DataFrame:
    """The MTFR table of one year under one transport member."""
    d = inst.data
    Q, R = len(d.metrics), len(d.receptors)
    target = np.full((Q, R), np.nan)
    target[inst.aq.metric, inst.aq.receptor] = inst.aq.limit_ugm3
    planned = np.array([d.transport_ugm3_per_kt[q].any() for q in range(Q)], dtype=bool)
    q_idx, r_idx = np.meshgrid(np.flatnonzero(planned), np.arange(R), indexing="ij")
    q_idx, r_idx = q_idx.ravel(), r_idx.ravel()
    frame = pd.DataFrame({
        "metric": np.asarray(d.metrics, dtype=object)[q_idx] if Q else np.array([], object),
        "receptor": np.asarray(d.receptors, dtype=object)[r_idx] if Q else np.array([], object),
        "baseline_ugm3": d.baseline_ugm3[q_idx, r_idx],
        "mtfr_ugm3": inst.mtfr.values(q_idx, r_idx),
        "target_ugm3": target[q_idx, r_idx],
    })
    t, m = frame["target_ugm3"].to_numpy(), frame["mtfr_ugm3"].to_numpy()
    frame["target_feasible"] = pd.array(
        [None if np.isnan(ti) else bool(ti >= mi - MTFR_TOL_UGM3) for ti, mi in zip(t, m)],
        dtype="boolean")
    return frame
