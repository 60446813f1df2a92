"""Roadmap options side by side: the table a planner pastes into a report.

One row per scenario: total cost, the range of city costs, burdens and their Gini,
the price of fairness, how many (metric, receptor) targets are attained, the
population-weighted concentration of each metric after control, and the reduction
of each pollutant. Each scenario is solved independently (on Dask when asked).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS_FOR_PLOT = ["total_cost_bn_cny", "max_burden_pct", "gini_burden", "price_of_fairness_pct"]


def compare_row(scenario) -> dict:
    """Solve one scenario (a path or a Scenario) and summarise it as one flat row."""
    from fairshare import api
    from fairshare.scenario import load_scenario
    from fairshare.solver import Status

    sc = load_scenario(scenario) if isinstance(scenario, (str, Path)) else scenario
    inst = api.prepare(sc)
    res = api.solve(inst, model=api.build_model(inst))
    row = {"scenario": sc.name, "description": sc.description, "status": res.status.value}
    if res.status != Status.OPTIMAL:
        return row
    if "npv_cny" in res.summary:
        return {**row, **_roadmap_columns(res)}
    s, f = res.summary, res.summary["fairness"]
    cost = res.cities["cost_cny"]
    row.update({
        "total_cost_bn_cny": res.total_cost / 1e9,
        "min_city_cost_bn_cny": cost.min() / 1e9, "max_city_cost_bn_cny": cost.max() / 1e9,
        "max_burden_pct": 100 * f["max_burden"], "min_burden_pct": 100 * f["min_burden"],
        "regional_burden_pct": 100 * f["regional_burden"], "gini_burden": f["gini_burden"],
        "gini_cost_per_capita": f["gini_cost_per_capita"],
        "price_of_fairness_pct": None if s.get("price_of_fairness") is None
        else 100 * s["price_of_fairness"],
        "targets_attained": s["targets_attained"], "targets_total": s["targets_total"],
    })
    rec = res.receptors
    pop = inst.data.receptor_population
    for metric, group in rec.groupby("metric", sort=False):
        # a robust plan: the highest over its transport members (each member's own rows)
        parts = [g for _, g in group.groupby("member", sort=False)] if "member" in group else [group]
        row[f"pop_weighted_{metric}_ugm3"] = max(
            float(np.average(g["final_ugm3"], weights=pop[[inst.data.receptors.index(r)
                                                           for r in g["receptor"]]]))
            for g in parts)
        targeted = group["target_ugm3"].notna()
        if targeted.any():  # two numbers, never "28/28" (a spreadsheet reads that as a date)
            row[f"attained_{metric}"] = int(group.loc[targeted, "attained"].sum())
            row[f"targets_{metric}"] = int(targeted.sum())
    base_t = inst.data.emission_city_t.sum(axis=0)
    for p, pol in enumerate(inst.data.pollutants):
        red = res.cities[f"reduction_t_{pol}"].sum()
        row[f"reduction_t_{pol}"] = red
        row[f"reduction_pct_{pol}"] = 100 * red / base_t[p] if base_t[p] > 0 else 0.0
    return row


def _roadmap_columns(res) -> dict:
    """A roadmap as one row: its present value, each period's annual cost and attainment,
    the fairness of the path (present-value cost over present-value GDP) and, when
    computed, the cost of myopia."""
    s, f = res.summary, res.summary["fairness"]
    row = {"npv_bn_cny": s["npv_cny"] / 1e9, "foresight": s["foresight"],
           "max_burden_pct": 100 * f["max_burden"], "regional_burden_pct": 100 * f["regional_burden"],
           "gini_burden": f["gini_burden"],
           "targets_attained": s["targets_attained"], "targets_total": s["targets_total"]}
    for year, cost in s["cost_by_year_cny"].items():
        row[f"cost_{year}_bn_cny"] = cost / 1e9
        attained, total = s["attained_by_year"].get(year, [0, 0])
        row[f"attained_{year}"], row[f"targets_{year}"] = attained, total
    myopia = (s.get("foresight_comparison") or {}).get("cost_of_myopia_cny")
    if myopia is not None:
        row["cost_of_myopia_bn_cny"] = myopia / 1e9
    return row


def compare(scenarios: list, workers: int | None = None, scheduler: str | None = None,
            progress: bool = True) -> pd.DataFrame:
    """One row per scenario (in the order given), solved serially or on Dask."""
    from fairshare.distributed import map_tasks

    rows = map_tasks(compare_row, list(scenarios), workers=workers, scheduler=scheduler,
                     progress=progress, desc="compare")
    return pd.DataFrame([_as_row(r, s) for r, s in zip(rows, scenarios)])


def _as_row(result, scenario) -> dict:
    """map_tasks returns an error record for a task that raised: keep it as a row."""
    from fairshare.distributed import is_error

    if is_error(result):
        return {"scenario": str(scenario), "status": result["status"], "error": result["error"]}
    return result
