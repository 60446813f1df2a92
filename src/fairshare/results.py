"""Solved model -> tidy tables and summary.json (the results folder's content).

Tables are computed in numpy from the solution arrays and reported in the units
of the files: CNY/yr, t/yr, µg/m³. Shadow prices are reported as the marginal
cost of *tightening* a target by one unit (≥ 0 when the target binds). What each
target and rule did in the solution (binds or not, where, at what price) comes from
its rule family's ``report``. Writing the folder is :mod:`fairshare.folders`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fairshare import families
from fairshare.display import city_names, measure_names
from fairshare.families.concentration import shadow_prices_cny_per_ugm3
from fairshare.families.gini import gini_coefficient
from fairshare.folders import ResultExists, result_folder, write_folder, write_json  # noqa: F401
from fairshare.solver import SolveOutcome, Status
from fairshare.units import CNY_PER_BN_CNY, CNY_PER_MCNY, T_PER_KT

ATTAINMENT_TOL_UGM3 = 1e-6
APPLIED_MIN = 1e-9  # applications below this are reported as not applied
gini = gini_coefficient  # the Gini coefficient of any values (one formula: families.gini)


@dataclass
class Result:
    """The outcome of one scenario. Tables are empty unless ``status`` is optimal."""

    scenario: str
    status: Status
    message: str
    total_cost: float | None              # CNY/yr
    cities: pd.DataFrame = field(default_factory=pd.DataFrame)
    receptors: pd.DataFrame = field(default_factory=pd.DataFrame)
    measures: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict = field(default_factory=dict)
    diagnosis: dict | None = None

    def write(self, out_root: str | Path = "results", overwrite: bool = False,
              plots: bool = True) -> Path:
        """Write ``out_root/<scenario>/`` as ``fairshare run`` does: the tables, summary.json,
        diagnosis.json when infeasible, the plots (unless ``plots=False``), report.html and
        results.xlsx. An extra that fails is a warning (Python's ``warnings``)."""
        import warnings

        from fairshare.extras import write_extras

        def extras(folder: Path) -> None:
            for message in write_extras(folder, plots and self.status == Status.OPTIMAL):
                warnings.warn(message, stacklevel=3)
        return write_results(self, out_root, overwrite, extra_files=extras)

    def _repr_html_(self) -> str:
        """A short summary for Jupyter: status, cost, share of GDP, targets, top cities."""
        from fairshare.report import result_html
        return result_html(self)


def solution_arrays(model, inst) -> tuple[np.ndarray, np.ndarray]:
    """(x [S, M] application shares, dE [S, P] reductions in kt/yr) from the solved model."""
    d = inst.data
    x = np.array([v.value or 0.0 for v in model.application.values()]).reshape(len(d.cities), -1)
    dE = np.array([v.value or 0.0 for v in model.reduction.values()]).reshape(len(d.cities), -1)
    return x, dE


def city_table(inst, x: np.ndarray, dE_kt: np.ndarray,
               cost_mcny: np.ndarray | None = None) -> pd.DataFrame:
    """One row per city: cost (``cost_mcny`` [S, M] where the plan's costs are not
    ``inst.measure_cost_mcny(x)``: a roadmap's include annuities), burden, reductions."""
    d = inst.data
    cost_mcny = inst.measure_cost_mcny(x) if cost_mcny is None else cost_mcny
    cost_cny = cost_mcny.sum(axis=1) * CNY_PER_MCNY
    names = city_names(d)
    table = {"city": list(d.cities), "name": [names[c] for c in d.cities], "cost_cny": cost_cny,
             "burden": cost_cny / (d.gdp_bn_cny * CNY_PER_BN_CNY)}
    base_t = d.emission_city_t
    for p, pol in enumerate(d.pollutants):
        red_t = dE_kt[:, p] * T_PER_KT
        table[f"reduction_t_{pol}"] = red_t
        with np.errstate(invalid="ignore", divide="ignore"):
            table[f"reduction_pct_{pol}"] = np.where(base_t[:, p] > 0, 100 * red_t / base_t[:, p], 0.0)
    return pd.DataFrame(table)


def final_concentration(inst, dE_kt: np.ndarray, linear: bool = False) -> np.ndarray:
    """[Q, R] µg/m³ after control: C0 - T·dE (a metric planned on response surfaces:
    C0 + the surfaces' change, unless ``linear``)."""
    d = inst.data
    final = np.nan_to_num(d.baseline_ugm3) - np.einsum("qrsp,sp->qr", d.transport_ugm3_per_kt, dE_kt)
    if linear or getattr(d, "surfaces", None) is None:
        return final
    from fairshare.model.surfaces import surface_final  # response surfaces (docs/ozone.md)
    return surface_final(inst, dE_kt, final)


def receptor_table(inst, model, dE_kt: np.ndarray | None, mtfr_ugm3: np.ndarray) -> pd.DataFrame:
    """One row per (metric, receptor) of every metric the transport table covers."""
    d = inst.data
    Q, R = len(d.metrics), len(d.receptors)
    target = np.full((Q, R), np.nan)
    target[inst.aq.metric, inst.aq.receptor] = inst.aq.limit_ugm3
    price = np.zeros((Q, R))
    if model is not None:
        price[inst.aq.metric, inst.aq.receptor] = shadow_prices_cny_per_ugm3(inst, model)
    final = final_concentration(inst, dE_kt) if dE_kt is not None else np.full((Q, R), np.nan)
    with np.errstate(invalid="ignore"):
        attained = np.where(np.isnan(target), np.nan, final <= target + ATTAINMENT_TOL_UGM3)
    q_idx, r_idx = np.meshgrid(np.arange(Q), np.arange(R), indexing="ij")
    names = city_names(d)  # a receptor that is a city is named like it
    receptor = np.asarray(d.receptors, dtype=object)[r_idx.ravel()]
    frame = pd.DataFrame({
        "metric": np.asarray(d.metrics, dtype=object)[q_idx.ravel()],
        "receptor": receptor,
        "name": [names.get(r, r) for r in receptor],
        "baseline_ugm3": d.baseline_ugm3.ravel(), "final_ugm3": final.ravel(),
        "target_ugm3": target.ravel(), "mtfr_ugm3": mtfr_ugm3.ravel(),
        "attained": pd.array([None if np.isnan(a) else bool(a) for a in attained.ravel()],
                             dtype="boolean"),
        "shadow_price_cny_per_ugm3": price.ravel(),
    })
    if dE_kt is not None:
        _surface_columns(inst, frame, dE_kt, q_idx.ravel(), r_idx.ravel())
    has_transport = np.array([d.transport_ugm3_per_kt[q].any() for q in range(Q)], dtype=bool)
    return frame[has_transport[q_idx.ravel()]].reset_index(drop=True)


def _surface_columns(inst, frame: pd.DataFrame, dE_kt, q_idx, r_idx) -> None:
    """Metrics planned on response surfaces (docs/ozone.md): the plan's cut shares, the
    surfaces' change, the linear model's prediction, the error estimate and the regimes."""
    from fairshare.model.surfaces import REGIME_COLUMNS, receptor_columns, used_metrics

    if getattr(inst.data, "surfaces", None) is None or not used_metrics(inst):
        return
    values = receptor_columns(inst, dE_kt, final_concentration(inst, dE_kt, linear=True))
    for column in REGIME_COLUMNS:
        frame[column] = [values.get((q, r), {}).get(column) for q, r in zip(q_idx, r_idx)]


def measure_table(inst, x: np.ndarray, cost_mcny: np.ndarray | None = None) -> pd.DataFrame:
    d = inst.data
    cost_mcny = inst.measure_cost_mcny(x) if cost_mcny is None else cost_mcny
    # applied, or still paid for (a roadmap's equipment repaid in a period it is not used)
    s_idx, m_idx = np.nonzero((x > APPLIED_MIN) | (cost_mcny > APPLIED_MIN))
    names = measure_names(d)
    measures = np.asarray(d.measures, dtype=object)[m_idx]
    table = {"city": np.asarray(d.cities, dtype=object)[s_idx],
             "sector": np.asarray(d.sectors, dtype=object)[d.measure_sector[m_idx]],
             "measure": measures, "measure_name": [names[m] for m in measures],
             "application": x[s_idx, m_idx],
             "cost_cny": cost_mcny[s_idx, m_idx] * CNY_PER_MCNY}
    removed_t = inst.removal_kt[s_idx, m_idx, :] * x[s_idx, m_idx, None] * T_PER_KT
    for p, pol in enumerate(d.pollutants):
        table[f"reduction_t_{pol}"] = removed_t[:, p]
    return pd.DataFrame(table)


def fairness_metrics(cities: pd.DataFrame, inst) -> dict:
    burden = cities["burden"].to_numpy()
    per_capita = cities["cost_cny"].to_numpy() / inst.data.population
    regional = float(cities["cost_cny"].sum() / (inst.data.gdp_bn_cny.sum() * CNY_PER_BN_CNY))
    return {"max_burden": float(burden.max()), "min_burden": float(burden.min()),
            "mean_burden": float(burden.mean()), "regional_burden": regional,
            "band_burden": float(np.abs(burden - regional).max()),
            "gini_burden": gini_coefficient(burden),
            "gini_cost_per_capita": gini_coefficient(per_capita)}


def rule_reports(inst, model) -> list[dict]:
    """What every target and rule entry did in the solution, in scenario order: ``binds``
    (tightening it would raise the cost) and where, from each family's ``report``."""
    rows = [row for family in families.FAMILIES if inst.of(family)
            for row in family.report(inst, model, inst.of(family))]
    if getattr(inst, "members", None):
        rows = _under_every_member(inst, model, rows)
    order = {where: i for i, (where, _) in enumerate(inst.scenario.entries())}
    return sorted(rows, key=lambda r: order.get(r["entry"], len(order)))


def _under_every_member(inst, model, rows: list[dict]) -> list[dict]:
    """A robust plan: a target binds if it binds under any member; each place it binds
    names its member ("PM25 at anyang (high)")."""
    from fairshare.ensemble import TRANSPORT_FAMILIES, member_views

    by_entry = {r["entry"]: r for r in rows}
    views = member_views(model, inst)
    main = views[0][0]
    for family in TRANSPORT_FAMILIES:
        for row in rows:
            if row["rule"] == family.NAME:
                row["binding"] = [f"{b} ({main})" for b in row["binding"]]
        for member, other, view in views[1:]:
            if not other.of(family):
                continue
            for extra in family.report(other, view, other.of(family)):
                row = by_entry.get(extra["entry"])
                if row is None:
                    continue
                row["binding"] += [f"{b} ({member})" for b in extra["binding"]]
                row["binds"] = row["binds"] or extra["binds"]
    return rows


def _caps_summary(reports: list[dict]) -> dict:
    """The emission caps and the cost caps (burden cap, ability to pay) with their prices."""
    keys = ("year", "entry", "pollutant", "zone", "cap_t", "baseline_t", "final_t",
            "shadow_price_cny_per_t")
    emission = [{k: r[k] for k in keys if k in r}
                for r in reports if r["rule"] == families.emission_cap.NAME]
    cost = [{**({"year": r["year"]} if "year" in r else {}), "entry": r["entry"],
             "rule": r["rule"], **cap} for r in reports if "caps" in r for cap in r["caps"]]
    return {"emission_caps": emission, "cost_caps": cost}


def make_result(inst, model, outcome: SolveOutcome, timings: dict, mtfr_ugm3: np.ndarray,
                diagnosis: dict | None = None, extra: dict | None = None) -> Result:
    sc = inst.scenario
    summary = {
        "scenario": sc.name, "status": outcome.status.value, "message": outcome.message,
        "total_cost_cny": None, "objective": None, "objective_unit": "CNY/yr",
        "price_of_fairness": None,
        "problem_size": outcome.size,
        "seconds": {**timings, "build_solver_model": outcome.build_seconds,
                    "solve": outcome.solve_seconds},
        "solver": {"name": outcome.solver, "version": outcome.solver_version,
                   "iterations": outcome.iterations,
                   "max_primal_infeasibility": outcome.max_primal_infeasibility,
                   **({"mip": outcome.mip} if outcome.mip is not None else {})},
        "versions": _versions(outcome),
        "region": {"name": inst.data.name, "folder": str(inst.data.folder), "year": inst.data.year,
                   "transport_member": inst.data.member},
        "input_sha256": input_hashes(inst),
        "scenario_resolved": sc.resolved_dict() if hasattr(sc, "resolved_dict") else {},
        "cost_model": {"kind": getattr(sc, "cost_model", "linear"), "method": inst.cost_method},
        "warnings": [str(w) for w in inst.warnings],
        **(extra or {}),
    }
    result = Result(scenario=sc.name, status=outcome.status, message=outcome.message,
                    total_cost=None, summary=summary, diagnosis=diagnosis)
    if outcome.status != Status.OPTIMAL:
        result.receptors = receptor_table(inst, None, None, mtfr_ugm3)
        summary["diagnosis"] = diagnosis
        if outcome.status != Status.INFEASIBLE:  # a limit or a failure: what is known so far
            summary["best_objective_cny"] = (None if outcome.objective is None
                                             else outcome.objective * CNY_PER_MCNY)
        return result
    _fill_tables(result, inst, model, mtfr_ugm3)
    summary["objective"] = outcome.objective * CNY_PER_MCNY
    if inst.cost_method == "pwl":
        summary["cost_model"].update(_pwl_summary(inst, model, result))
    reports = rule_reports(inst, model)
    summary["rules"] = reports
    summary.update(_caps_summary(reports))
    return result


def _fill_tables(result: Result, inst, model, mtfr_ugm3: np.ndarray) -> None:
    x, dE = solution_arrays(model, inst)
    result.cities = city_table(inst, x, dE)
    result.receptors = receptor_table(inst, model, dE, mtfr_ugm3)
    if inst.members:
        result.receptors = _receptors_by_member(inst, model, dE, result.receptors)
        result.summary["robust"] = _robust_summary(result.receptors)
    result.measures = measure_table(inst, x)
    result.total_cost = float(result.cities["cost_cny"].sum())
    _surface_summary(result, inst, model, dE)
    s = result.summary
    s["total_cost_cny"] = result.total_cost
    s["fairness"] = fairness_metrics(result.cities, inst)
    targeted = result.receptors["target_ugm3"].notna()
    s["targets_attained"] = int(result.receptors.loc[targeted, "attained"].sum())
    s["targets_total"] = int(targeted.sum())
    # MTFR is one LP per receptor: at large scale only the targeted ones (or none) are reported.
    s["receptors_without_mtfr"] = int(result.receptors["mtfr_ugm3"].isna().sum())


def _surface_summary(result: Result, inst, model, dE: np.ndarray) -> None:
    """Response surfaces in the plan (docs/ozone.md): each city's VOC/NOx cut ratio and
    summary.json's ``response``."""
    from fairshare.model.surfaces import city_cut_ratio, summary, used_metrics

    if getattr(inst.data, "surfaces", None) is None or not used_metrics(inst):
        return
    result.cities["voc_nox_cut_ratio"] = city_cut_ratio(inst, dE)
    result.summary["response"] = summary(inst, model, result.receptors)


def _receptors_by_member(inst, model, dE: np.ndarray, main: pd.DataFrame) -> pd.DataFrame:
    """A robust plan's receptors under every member (a leading ``member`` column): the
    same plan's concentrations, targets and shadow prices under each member's transport."""
    from fairshare.ensemble import member_views

    parts = []
    for member, other, view in member_views(model, inst):
        table = main if other is inst else receptor_table(
            other, view, dE, other.mtfr.for_report(other.aq.metric, other.aq.receptor))
        parts.append(table.assign(member=member)[["member", *table.columns]])
    return pd.concat(parts, ignore_index=True)


def _robust_summary(receptors: pd.DataFrame) -> dict:
    """Per member: targets attained, and the receptors where its target binds."""
    out = {}
    for member, g in receptors.groupby("member", sort=False):
        targeted = g["target_ugm3"].notna()
        binding = g[g["shadow_price_cny_per_ugm3"] > 0]
        out[str(member)] = {"targets_attained": int(g.loc[targeted, "attained"].sum()),
                            "targets_total": int(targeted.sum()),
                            "binding": [f"{q} at {r}" for q, r in zip(binding.metric, binding.receptor)]}
    return {"members": list(out), "by_member": out}


def _pwl_summary(inst, model, result: Result) -> dict:
    from fairshare.model.costs import pwl_error_bound_mcny

    x, _ = solution_arrays(model, inst)
    pwl_cost = sum(v.value or 0.0 for v in model.city_cost.values()) * CNY_PER_MCNY
    return {"segments": int(inst.scenario.quadratic.segments), "pwl_cost_cny": pwl_cost,
            "pwl_minus_exact_cny": pwl_cost - result.total_cost,
            "error_bound_cny": pwl_error_bound_mcny(inst, x) * CNY_PER_MCNY}


def _versions(outcome: SolveOutcome) -> dict:
    import pyomo.version

    from fairshare import __version__
    return {"fairshare": __version__, "pyomo": pyomo.version.version,
            "highs": outcome.solver_version}


def input_hashes(inst) -> dict:
    from fairshare.data import sha256_file

    hashes = {f"region/{k}": v for k, v in inst.data.files.items()}
    for path in getattr(inst.scenario, "loaded_files", None) or [inst.scenario.source_file]:
        if path is not None and Path(path).exists():
            hashes[f"scenario/{Path(path).name}"] = sha256_file(Path(path))
    return dict(sorted(hashes.items()))


# --- writing -------------------------------------------------------------------------------

def write_results(result: Result, out_root: str | Path, overwrite: bool = False,
                  extra_files=None) -> Path:
    """Write ``out_root/<scenario>/``: tables, summary.json, and ``extra_files(folder)``
    (e.g. plots), all into the temporary folder that :func:`write_folder` renames."""
    def write(folder: Path) -> None:
        write_tables(result, folder)
        if extra_files is not None:
            extra_files(folder)

    return write_folder(out_root, result.scenario, write, overwrite)


def write_tables(result: Result, folder: Path) -> None:
    if result.status == Status.OPTIMAL:
        for name in ("cities", "receptors", "measures"):
            getattr(result, name).to_csv(folder / f"{name}.csv", index=False, float_format="%.10g")
    if result.diagnosis is not None:
        write_json(folder / "diagnosis.json", result.diagnosis)
    write_json(folder / "summary.json", result.summary)  # last: its presence marks completion
