"""A roadmap's model, its solve with perfect or myopic foresight, and its diagnosis."""

from __future__ import annotations

import time

import numpy as np
import pyomo.core as pyo

from fairshare import families
from fairshare.model import add_rules
from fairshare.model.air_quality import add_concentrations
from fairshare.model.emissions import add_reductions
from fairshare.model.linking import (add_installations, add_levelised_costs, add_npv_objective,
                                     add_period_costs)
from fairshare.model.measures import add_measures
from fairshare.model.periods import ByYear, PeriodView, origin
from fairshare.solver import Status, elastic_solve, solve_model

HORIZON = "horizon"  # the period name of the rules held over the horizon


def build_roadmap_model(road) -> pyo.ConcreteModel:
    """One LP over the roadmap's years: every period's measures, reductions, concentrations
    and rules (each under its period's names, :mod:`fairshare.model.periods`), the links
    between periods and the present-value objective (:mod:`fairshare.model.linking`)."""
    m = pyo.ConcreteModel(name=str(road.scenario.name))
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    for inst, year in zip(road.periods, road.years):
        view = PeriodView(m, year)
        add_measures(view, inst)        # application_<year>, exclusivity_<year>, ...
        add_reductions(view, inst)      # reduction_<year>
        add_concentrations(view, inst)  # concentration_<year>
    add_installations(m, road)          # installation_<year>, capacity_<year>, irreversible_<year>
    add_period_costs(m, road)           # city_cost_<year>, cost_def_<year>
    for inst, year in zip(road.periods, road.years):
        add_rules(PeriodView(m, year), inst)  # aq_target_<year>, burden_cap_<year>, ...
    if road.horizon is not None:
        view = PeriodView(m, HORIZON)
        add_levelised_costs(m, road, view)  # city_cost_horizon
        add_rules(view, road.horizon, empty_aq_target=False)
    add_npv_objective(m, road)          # npv
    for name in ("application", "reduction", "city_cost", "concentration"):
        setattr(m, name, ByYear(m, name, road.years))
    m._fairshare_instance = road
    return m


def solve_roadmap_model(m, road):
    opts = road.scenario.solver
    return solve_model(m, time_limit_s=opts.time_limit_s, threads=opts.threads, method=opts.method)


def solve_myopic(road):
    """Year by year: each period minimises the present value it sees (its own costs and
    those of earlier periods, fixed), keeping what earlier periods installed. Returns the
    full-horizon model with the myopic path fixed, and its outcome (the path valued over
    the whole horizon), or the first step that failed."""
    fixed: dict[str, dict] = {}
    t0, seconds = time.perf_counter(), 0.0
    for n in range(1, len(road.years) + 1):
        step = build_roadmap_model(road.truncated(n))
        _fix(step, fixed)
        outcome = solve_roadmap_model(step, road.truncated(n))
        seconds += outcome.solve_seconds
        if outcome.status != Status.OPTIMAL:  # the step's model knows its truncated roadmap
            outcome.message = f"myopic step {road.years[n - 1]}: {outcome.message}".rstrip(": ")
            return step, outcome
        for name in _decisions(step, road.years[n - 1]):
            fixed[name] = {k: v.value for k, v in getattr(step, name).items()}
    full = build_roadmap_model(road)
    _fix(full, fixed)
    outcome = solve_roadmap_model(full, road)
    outcome.solve_seconds = seconds + outcome.solve_seconds
    outcome.build_seconds = time.perf_counter() - t0 - outcome.solve_seconds
    return full, outcome


def _decisions(m, year: int) -> list[str]:
    return [name for name in (f"application_{year}", f"installation_{year}") if hasattr(m, name)]


def _fix(m, fixed: dict[str, dict]) -> None:
    for name, values in fixed.items():
        var = getattr(m, name)
        for key, value in values.items():
            var[key].fix(max(0.0, min(value or 0.0, var[key].ub if var[key].ub is not None
                                      else np.inf)))


def diagnose_roadmap(road, m, time_limit_s=None) -> dict:
    """As :func:`fairshare.api.diagnose`, every relaxation with its year: targets below
    their MTFR per year, then the rules that must give (targets kept) and the targets that
    must give (rules kept)."""
    below = []
    for inst, year in zip(road.periods, road.years):
        aq, d = inst.aq, inst.data
        mtfr = inst.mtfr.values(aq.metric, aq.receptor)
        below += [{"year": year, "metric": d.metrics[aq.metric[i]],
                   "receptor": d.receptors[aq.receptor[i]], "target_ugm3": float(aq.limit_ugm3[i]),
                   "mtfr_ugm3": float(mtfr[i]), "entry": aq.source[i]}
                  for i in np.flatnonzero(aq.limit_ugm3 < mtfr - 1e-6)]
    stages = {}
    if any(inst.of(f) for inst in _instances(road) for f in families.RULES):
        stages["rules_must_give"] = _relax(road, m, families.RULES, time_limit_s)
    stages["targets_must_give"] = _relax(road, m, families.TARGETS, time_limit_s)
    return {"targets_below_mtfr": below, **stages}


def _instances(road) -> list:
    return list(road.periods) + ([road.horizon] if road.horizon is not None else [])


def _relax(road, m, soft_families, time_limit_s) -> dict:
    periods = dict(zip(road.years, road.periods))
    if road.horizon is not None:
        periods[HORIZON] = road.horizon
    soft = {f"{name}_{year}" for f in soft_families for name in f.ROWS for year in periods}
    status, violations = elastic_solve(m, soft, time_limit_s)
    out = []
    for v in violations:
        name, year = origin(m, v.component)
        family = families.owner_of_component(name)
        inst = periods[year]
        relaxed = family.explain(inst, PeriodView(m, year), inst.of(family), v.key, v.violation)
        out.append({"year": year, **relaxed.as_dict()})
    return {"status": status.value, "relaxations": out}


def solve_roadmap(road, model=None):
    """Solve the roadmap with its foresight; explain it when infeasible; with
    ``compare_foresight`` also solve the other foresight and report the cost of myopia."""
    from fairshare.roadmap.results import roadmap_result

    sc = road.scenario
    if sc.roadmap.foresight == "myopic":
        model, outcome, failed_at = _myopic(road)
    else:
        model = model if model is not None else build_roadmap_model(road)
        outcome, failed_at = solve_roadmap_model(model, road), road
    diagnosis = None
    if outcome.status == Status.INFEASIBLE:
        diagnosis = diagnose_roadmap(failed_at, model, sc.solver.time_limit_s)
    elif outcome.status == Status.OPTIMAL:
        annualise_duals(model, road)
    extra = {}
    if sc.roadmap.compare_foresight and outcome.status == Status.OPTIMAL:
        extra["foresight_comparison"] = compare_foresight(road, model, outcome)
    return roadmap_result(road, model, outcome, diagnosis, extra)


def annualise_duals(m, road) -> None:
    """Duals in yearly terms: a row of period t costs the objective (a present value) w_t
    times its yearly cost, so its dual divided by w_t is the marginal cost per year; a
    row over the horizon is on levelised costs, its dual divided by the sum of w."""
    weight = dict(zip(road.years, road.weights))
    weight[HORIZON] = float(np.sum(road.weights))
    for con in list(m.dual):
        _, year = origin(m, con.parent_component().name)
        if year in weight:
            m.dual[con] = m.dual[con] / weight[year]
    for block in getattr(m, "_fs_matrix_rows", []):
        _, year = origin(m, block.name)
        if year in weight:
            block.dual = {k: v / weight[year] for k, v in block.dual.items()}


def _myopic(road):
    """(model, outcome, the roadmap it covers: the whole one, or the failed step's)."""
    model, outcome = solve_myopic(road)
    covered = road if model._fairshare_instance is road else model._fairshare_instance
    return model, outcome, covered


def compare_foresight(road, model, outcome) -> dict:
    """The other foresight's present value, the cost of myopia (myopic minus perfect, ≥ 0)
    and where the plans differ most (city, measure, year, both applications)."""
    if road.scenario.roadmap.foresight == "myopic":
        other_model = build_roadmap_model(road)
        other = solve_roadmap_model(other_model, road)
        perfect, myopic = (other_model, other), (model, outcome)
    else:
        other_model, other = solve_myopic(road)
        perfect, myopic = (model, outcome), (other_model, other)
    out = {"npv_perfect_cny": _npv(perfect[1]), "npv_myopic_cny": _npv(myopic[1]),
           "myopic_status": myopic[1].status.value}
    if perfect[1].status == Status.OPTIMAL and myopic[1].status == Status.OPTIMAL:
        out["cost_of_myopia_cny"] = out["npv_myopic_cny"] - out["npv_perfect_cny"]
        out["differences"] = _differences(road, perfect[0], myopic[0])
    return out


def _npv(outcome) -> float | None:
    return None if outcome.objective is None else outcome.objective * 1e6


def _differences(road, a, b, top: int = 20) -> list[dict]:
    """Where two plans of the roadmap apply measures differently, largest first."""
    rows = []
    for year in road.years:
        xa, xb = getattr(a, f"application_{year}"), getattr(b, f"application_{year}")
        for key in xa:
            diff = (xb[key].value or 0.0) - (xa[key].value or 0.0)
            if abs(diff) > 1e-6:
                rows.append({"city": key[0], "measure": key[1], "year": year,
                             "perfect": xa[key].value or 0.0, "myopic": xb[key].value or 0.0})
    return sorted(rows, key=lambda r: -abs(r["myopic"] - r["perfect"]))[:top]
