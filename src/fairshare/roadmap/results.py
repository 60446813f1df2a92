"""A solved roadmap -> the results tables (each with a ``year`` column) and summary.json.

Per period, the tables are those of a one-year plan (:mod:`fairshare.results`), with the
period's annual cost including the annuities of the equipment serving it. The summary
adds the path: ``npv_cny`` (the objective, CNY), ``cost_by_year_cny`` (annual cost of each
period, CNY/yr), ``discount_rate``, ``foresight``, the periods and their weights, fairness
metrics and attainment per year; ``total_cost_cny`` is the net present value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairshare.families.gini import gini_coefficient
from fairshare.model.linking import serves
from fairshare.model.periods import PeriodView
from fairshare.results import (Result, city_table, fairness_metrics, input_hashes, measure_table,
                               receptor_table, rule_reports, solution_arrays, _caps_summary,
                               _versions)
from fairshare.solver import Status
from fairshare.units import CNY_PER_MCNY

__all__ = ["roadmap_result", "measure_costs_mcny"]


def measure_costs_mcny(m, road) -> list[np.ndarray]:
    """[T] of [S, M]: each measure's annual cost in each period, million CNY/yr: its
    operating part and the annuities of its equipment serving the period."""
    d = road.data
    out = []
    for t, (inst, year) in enumerate(zip(road.periods, road.years)):
        x, _ = solution_arrays(PeriodView(m, year), inst)
        cost = (1 - d.capex_share)[None, :] * inst.kappa_mcny * x
        for j in np.flatnonzero(d.capex_share > 0):
            for u in range(t + 1):
                if serves(road.years, d.lifetime_yr[j], u, t):
                    inv = getattr(m, f"installation_{road.years[u]}")
                    equipped = np.array([inv[s, d.measures[j]].value or 0.0 for s in d.cities])
                    cost[:, j] += d.capex_share[j] * road.periods[u].kappa_mcny[:, j] * equipped
        out.append(cost)
    return out


def roadmap_result(road, m, outcome, diagnosis: dict | None = None,
                   extra: dict | None = None) -> Result:
    sc = road.scenario
    summary = _base_summary(road, outcome, diagnosis, extra)
    result = Result(scenario=sc.name, status=outcome.status, message=outcome.message,
                    total_cost=None, summary=summary, diagnosis=diagnosis)
    if outcome.status != Status.OPTIMAL:
        result.receptors = _by_year(road, None, lambda inst, view, t: receptor_table(
            inst, None, None, inst.mtfr.for_report(inst.aq.metric, inst.aq.receptor)))
        summary["diagnosis"] = diagnosis
        if outcome.status != Status.INFEASIBLE:
            summary["best_objective_cny"] = (None if outcome.objective is None
                                             else outcome.objective * CNY_PER_MCNY)
        return result
    costs = measure_costs_mcny(m, road)
    result.cities = _by_year(road, m, lambda inst, view, t: _cities(inst, view, costs[t]))
    result.measures = _by_year(road, m, lambda inst, view, t: measure_table(
        inst, solution_arrays(view, inst)[0], costs[t]))
    result.receptors = _by_year(road, m, lambda inst, view, t: receptor_table(
        inst, view, solution_arrays(view, inst)[1],
        inst.mtfr.for_report(inst.aq.metric, inst.aq.receptor)))
    _path_summary(result, road, m, outcome, costs)
    return result


def _by_year(road, m, table) -> pd.DataFrame:
    """``table(inst, view, t)`` of every period (``view`` the model as that period sees it,
    None without a model), one frame with a leading year column."""
    parts = []
    for t, (inst, year) in enumerate(zip(road.periods, road.years)):
        part = table(inst, None if m is None else PeriodView(m, year), t)
        part.insert(0, "year", year)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _cities(inst, view, cost_mcny: np.ndarray) -> pd.DataFrame:
    x, dE = solution_arrays(view, inst)
    return city_table(inst, x, dE, cost_mcny)


def _base_summary(road, outcome, diagnosis, extra) -> dict:
    sc = road.scenario
    return {
        "scenario": sc.name, "status": outcome.status.value, "message": outcome.message,
        "total_cost_cny": None, "npv_cny": None, "objective": None,
        "objective_unit": "CNY (net present value)", "price_of_fairness": None,
        "years": list(road.years), "discount_rate": road.discount_rate,
        "foresight": sc.roadmap.foresight,
        "periods": [{"year": y, "years": n, "discounted_years": float(w)}
                    for y, n, w in zip(road.years, road.lengths, road.weights)],
        "problem_size": outcome.size,
        "seconds": {**road.timings, "build_solver_model": outcome.build_seconds,
                    "solve": outcome.solve_seconds},
        "solver": {"name": outcome.solver, "version": outcome.solver_version,
                   "iterations": outcome.iterations,
                   "max_primal_infeasibility": outcome.max_primal_infeasibility},
        "versions": _versions(outcome),
        "region": {"name": road.data.name, "folder": str(road.data.folder), "years": road.years,
                   "transport_member": road.data.member},
        "input_sha256": input_hashes(road.periods[0]),
        "scenario_resolved": sc.resolved_dict(),
        "cost_model": {"kind": sc.cost_model, "method": "linear"},
        "warnings": [str(w) for w in road.warnings],
        **(extra or {}),
    }


def _path_summary(result: Result, road, m, outcome, costs) -> None:
    s = result.summary
    by_year = [float(c.sum() * CNY_PER_MCNY) for c in costs]
    npv = float(np.dot(road.weights, [c.sum() for c in costs]) * CNY_PER_MCNY)
    result.total_cost = npv
    s.update(total_cost_cny=npv, npv_cny=npv, objective=outcome.objective * CNY_PER_MCNY,
             cost_by_year_cny={str(y): c for y, c in zip(road.years, by_year)})
    s["fairness_by_year"] = {str(y): fairness_metrics(result.cities[result.cities.year == y], inst)
                             for y, inst in zip(road.years, road.periods)}
    s["fairness"] = _levelised_fairness(result, road)
    targeted = result.receptors["target_ugm3"].notna()
    s["targets_attained"] = int(result.receptors.loc[targeted, "attained"].sum())
    s["targets_total"] = int(targeted.sum())
    s["attained_by_year"] = {
        str(y): [int(g.loc[g.target_ugm3.notna(), "attained"].sum()), int(g.target_ugm3.notna().sum())]
        for y, g in result.receptors.groupby("year")}
    s["receptors_without_mtfr"] = int(result.receptors["mtfr_ugm3"].isna().sum())
    reports = []
    for inst, year in zip(road.periods, road.years):
        reports += [{**r, "year": year} for r in rule_reports(inst, PeriodView(m, year))]
    if road.horizon is not None:
        reports += [{**r, "year": "horizon"} for r in rule_reports(road.horizon,
                                                                   PeriodView(m, "horizon"))]
    s["rules"] = reports
    s.update(_caps_summary(reports))


def _levelised_fairness(result: Result, road) -> dict:
    """Fairness of the path: each city's present-value cost over its present-value GDP."""
    d = road.data
    cost = np.zeros(len(d.cities))
    for w, (year, g) in zip(road.weights, result.cities.groupby("year", sort=True)):
        cost += w * g.set_index("city").loc[list(d.cities), "cost_cny"].to_numpy()
    gdp = d.gdp_bn_cny * 1e9 * float(np.sum(road.weights))
    burden = cost / gdp
    regional = float(cost.sum() / gdp.sum())
    return {"max_burden": float(burden.max()), "min_burden": float(burden.min()),
            "mean_burden": float(burden.mean()), "regional_burden": regional,
            "band_burden": float(np.abs(burden - regional).max()),
            "gini_burden": gini_coefficient(burden),
            "gini_cost_per_capita": gini_coefficient(cost / d.population),
            "basis": "present-value cost over present-value GDP"}
