"""Solved model -> tidy tables (DESIGN §6) -> a results folder written atomically.

Tables are computed in numpy from the solution arrays and reported in the units
of the files: CNY/yr, t/yr, µg/m³. Shadow prices are reported as the marginal
cost of *tightening* a target by one unit (≥ 0 when the target binds).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fairshare.instance import CNY_PER_MCNY, T_PER_KT, Instance
from fairshare.solver import SolveOutcome, Status

ATTAINMENT_TOL_UGM3 = 1e-6
APPLIED_MIN = 1e-9  # applications below this are reported as not applied


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


def gini(values: np.ndarray) -> float:
    """Gini coefficient sum_ij |v_i - v_j| / (2 n sum_i v_i) (0 when all are zero)."""
    v = np.asarray(values, dtype=float)
    total = v.sum()
    if len(v) == 0 or total <= 0:
        return 0.0
    return float(np.abs(v[:, None] - v[None, :]).sum() / (2 * len(v) * total))


def solution_arrays(model, inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    """(x [S, M] application shares, dE [S, P] reductions in kt/yr) from the solved model."""
    d = inst.data
    x = np.array([v.value or 0.0 for v in model.application.values()]).reshape(len(d.cities), -1)
    dE = np.array([v.value or 0.0 for v in model.reduction.values()]).reshape(len(d.cities), -1)
    return x, dE


def city_table(inst: Instance, x: np.ndarray, dE_kt: np.ndarray) -> pd.DataFrame:
    d = inst.data
    cost_cny = inst.measure_cost_mcny(x).sum(axis=1) * CNY_PER_MCNY
    table = {"city": list(d.cities), "cost_cny": cost_cny,
             "burden": cost_cny / (d.gdp_bn_cny * 1e9)}
    base_t = d.emission_city_t
    for p, pol in enumerate(d.pollutants):
        red_t = dE_kt[:, p] * T_PER_KT
        table[f"reduction_t_{pol}"] = red_t
        with np.errstate(invalid="ignore", divide="ignore"):
            table[f"reduction_pct_{pol}"] = np.where(base_t[:, p] > 0, 100 * red_t / base_t[:, p], 0.0)
    return pd.DataFrame(table)


def final_concentration(inst: Instance, dE_kt: np.ndarray) -> np.ndarray:
    """[Q, R] µg/m³ after control: C0 - T·dE."""
    d = inst.data
    return np.nan_to_num(d.baseline_ugm3) - np.einsum("qrsp,sp->qr", d.transport_ugm3_per_kt, dE_kt)


def receptor_table(inst: Instance, model, dE_kt: np.ndarray | None) -> pd.DataFrame:
    d = inst.data
    Q, R = len(d.metrics), len(d.receptors)
    target = np.full((Q, R), np.nan)
    target[inst.aq.metric, inst.aq.receptor] = inst.aq.limit_ugm3
    price = np.zeros((Q, R))
    if model is not None and hasattr(model, "aq_target"):
        duals = np.array([model.aq_target.dual.get(k, 0.0) for k in model.aq_target.keys()])
        price[inst.aq.metric, inst.aq.receptor] = -duals * CNY_PER_MCNY
    final = final_concentration(inst, dE_kt) if dE_kt is not None else np.full((Q, R), np.nan)
    with np.errstate(invalid="ignore"):
        attained = np.where(np.isnan(target), np.nan, final <= target + ATTAINMENT_TOL_UGM3)
    q_idx, r_idx = np.meshgrid(np.arange(Q), np.arange(R), indexing="ij")
    frame = pd.DataFrame({
        "metric": np.asarray(d.metrics, dtype=object)[q_idx.ravel()],
        "receptor": np.asarray(d.receptors, dtype=object)[r_idx.ravel()],
        "baseline_ugm3": d.baseline_ugm3.ravel(), "final_ugm3": final.ravel(),
        "target_ugm3": target.ravel(), "mtfr_ugm3": report_mtfr(inst).ravel(),
        "attained": pd.array([None if np.isnan(a) else bool(a) for a in attained.ravel()],
                             dtype="boolean"),
        "shadow_price_cny_per_ugm3": np.where(np.abs(price) < 1e-9, 0.0, price).ravel(),
    })
    has_transport = np.array([d.transport_ugm3_per_kt[q].any() for q in range(Q)])
    return frame[has_transport[q_idx.ravel()]].reset_index(drop=True)


def report_mtfr(inst: Instance) -> np.ndarray:
    """[Q, R] MTFR for the results table: every pair on a regional scale, the targeted
    pairs (if cheap) or those already known otherwise."""
    d = inst.data
    Q, R = len(d.metrics), len(d.receptors)
    if inst.mtfr_is_cheap(Q * R):
        return inst.mtfr_ugm3
    out = np.full((Q, R), np.nan)
    if inst.mtfr_is_cheap(len(inst.aq.metric)):
        out[inst.aq.metric, inst.aq.receptor] = inst.mtfr(inst.aq.metric, inst.aq.receptor)
    for (q, r), value in inst._mtfr.items():
        out[q, r] = value
    return out


def measure_table(inst: Instance, x: np.ndarray) -> pd.DataFrame:
    d = inst.data
    s_idx, m_idx = np.nonzero(x > APPLIED_MIN)
    table = {"city": np.asarray(d.cities, dtype=object)[s_idx],
             "sector": np.asarray(d.sectors, dtype=object)[d.measure_sector[m_idx]],
             "measure": np.asarray(d.measures, dtype=object)[m_idx],
             "application": x[s_idx, m_idx],
             "cost_cny": inst.measure_cost_mcny(x)[s_idx, m_idx] * CNY_PER_MCNY}
    removed_t = inst.removal_kt[s_idx, m_idx, :] * x[s_idx, m_idx, None] * T_PER_KT
    for p, pol in enumerate(d.pollutants):
        table[f"reduction_t_{pol}"] = removed_t[:, p]
    return pd.DataFrame(table)


def fairness_metrics(cities: pd.DataFrame, inst: Instance) -> dict:
    burden = cities["burden"].to_numpy()
    per_capita = cities["cost_cny"].to_numpy() / inst.data.population
    regional = float(cities["cost_cny"].sum() / (inst.data.gdp_bn_cny.sum() * 1e9))
    return {"max_burden": float(burden.max()), "min_burden": float(burden.min()),
            "mean_burden": float(burden.mean()), "regional_burden": regional,
            "band_burden": float(np.abs(burden - regional).max()),
            "gini_burden": gini(burden), "gini_cost_per_capita": gini(per_capita)}


def constraint_report(inst: Instance, model) -> dict:
    """Emission caps and burden caps with their values and shadow prices."""
    d = inst.data
    caps = []
    for i, cap in enumerate(inst.caps):
        con = model.emission_cap[i]
        base_t = float(d.emission_city_t[cap.cities, cap.pollutant].sum())
        red_t = float(sum(model.reduction[c, d.pollutants[cap.pollutant]].value or 0.0
                          for c in np.asarray(d.cities)[cap.cities]) * T_PER_KT)
        caps.append({"entry": cap.label, "pollutant": d.pollutants[cap.pollutant],
                     "cap_t": cap.cap_kt * T_PER_KT, "baseline_t": base_t,
                     "final_t": base_t - red_t,
                     # dual: million CNY per kt of required reduction -> CNY per t
                     "shadow_price_cny_per_t": float(model.dual.get(con, 0.0)) * CNY_PER_MCNY / T_PER_KT})
    cost_caps = []
    for kind in ("burden_cap", "ability_to_pay"):
        caps_of_kind = [c for c in inst.cost_caps if c.kind == kind]
        for (n, city), con in getattr(model, kind).items():
            cap = caps_of_kind[n]
            cost_caps.append({"entry": cap.label, "rule": kind, "city": city,
                              "max_share_of_gdp": float(cap.share_of_gdp[d.cities.index(city)]),
                              # dual: million CNY of total cost per million CNY of allowance
                              "shadow_price_cny_per_cny": -float(model.dual.get(con, 0.0))})
    return {"emission_caps": caps, "cost_caps": cost_caps}


def make_result(inst: Instance, model, outcome: SolveOutcome, timings: dict,
                diagnosis: dict | None = None, extra: dict | None = None) -> Result:
    from fairshare import __version__
    import pyomo.version

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
                   "max_primal_infeasibility": outcome.max_primal_infeasibility},
        "versions": {"fairshare": __version__, "pyomo": pyomo.version.version,
                     "highs": outcome.solver_version},
        "region": {"name": inst.data.name, "folder": str(inst.data.folder), "year": inst.data.year},
        "input_sha256": input_hashes(inst),
        "scenario_resolved": sc.resolved_dict() if hasattr(sc, "resolved_dict") else {},
        "cost_model": {"kind": getattr(sc, "cost_model", "linear"), "method": inst.cost_method},
        **(extra or {}),
    }
    result = Result(scenario=sc.name, status=outcome.status, message=outcome.message,
                    total_cost=None, summary=summary, diagnosis=diagnosis)
    if outcome.status != Status.OPTIMAL:
        result.receptors = receptor_table(inst, None, None)
        summary["diagnosis"] = diagnosis
        if outcome.status != Status.INFEASIBLE:  # a limit or a failure: what is known so far
            summary["best_objective_cny"] = (None if outcome.objective is None
                                             else outcome.objective * CNY_PER_MCNY)
        return result
    x, dE = solution_arrays(model, inst)
    result.cities = city_table(inst, x, dE)
    result.receptors = receptor_table(inst, model, dE)
    result.measures = measure_table(inst, x)
    result.total_cost = float(result.cities["cost_cny"].sum())
    summary["total_cost_cny"] = result.total_cost
    summary["objective"] = outcome.objective * CNY_PER_MCNY
    if inst.cost_method == "pwl":
        from fairshare.model.costs import pwl_error_bound_mcny
        pwl_cost = sum(v.value or 0.0 for v in model.city_cost.values()) * CNY_PER_MCNY
        summary["cost_model"].update({
            "segments": int(sc.quadratic.segments), "pwl_cost_cny": pwl_cost,
            "pwl_minus_exact_cny": pwl_cost - result.total_cost,
            "error_bound_cny": pwl_error_bound_mcny(inst, x) * CNY_PER_MCNY})
    summary["fairness"] = fairness_metrics(result.cities, inst)
    targeted = result.receptors["target_ugm3"].notna()
    summary["targets_attained"] = int(result.receptors.loc[targeted, "attained"].sum())
    summary["targets_total"] = int(targeted.sum())
    # MTFR is one LP per receptor: at large scale only the targeted ones (or none) are reported.
    summary["receptors_without_mtfr"] = int(result.receptors["mtfr_ugm3"].isna().sum())
    summary.update(constraint_report(inst, model))
    return result


def input_hashes(inst: Instance) -> dict:
    from fairshare.data import sha256_file

    hashes = {f"region/{k}": v for k, v in inst.data.files.items()}
    for path in getattr(inst.scenario, "loaded_files", None) or [inst.scenario.source_file]:
        if path is not None and Path(path).exists():
            hashes[f"scenario/{Path(path).name}"] = sha256_file(Path(path))
    return dict(sorted(hashes.items()))


# --- writing -------------------------------------------------------------------------------

class ResultExists(Exception):
    """A finished result is already in place and --overwrite was not given."""


def result_folder(out_root: Path, name: str) -> Path:
    folder = (Path(out_root) / name).resolve()
    if folder.parent != Path(out_root).resolve() or name in ("", ".", ".."):
        from fairshare.errors import InputError, Problem
        raise InputError([Problem(str(out_root), f"scenario name {name!r} would write outside "
                                                 f"the results folder {out_root}", column="name")])
    return folder


def write_results(result: Result, out_root: str | Path, overwrite: bool = False,
                  extra_files=None) -> Path:
    """Write ``out_root/<scenario>/``: tables, summary.json, and ``extra_files(folder)``
    (e.g. plots), all into the temporary folder that :func:`write_folder` renames."""
    def write(folder: Path) -> None:
        _write_files(result, folder)
        if extra_files is not None:
            extra_files(folder)

    return write_folder(out_root, result.scenario, write, overwrite)


def write_folder(out_root: str | Path, name: str, write_files, overwrite: bool = False) -> Path:
    """Write ``out_root/<name>/`` atomically: ``write_files(tmp_folder)`` fills a hidden
    temporary folder, which is then renamed into place.

    A run that dies mid-write leaves only a hidden ``.<name>.partial-<pid>-*`` folder
    (tidied by the next write); a finished folder is replaced only with ``overwrite``,
    and then by an atomic exchange where the system allows it.
    """
    out_root = Path(out_root)
    target = result_folder(out_root, name)
    if out_root.is_dir():
        _recover(out_root, target)  # first: a result put back by it counts as existing
    if target.exists() and not overwrite:
        raise ResultExists(f"{target} already holds a result; use --overwrite to replace it")
    out_root.mkdir(parents=True, exist_ok=True)
    tmp = out_root / f".{name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        write_files(tmp)
        _swap_into_place(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _write_files(result: Result, folder: Path) -> None:
    if result.status == Status.OPTIMAL:
        for name in ("cities", "receptors", "measures"):
            getattr(result, name).to_csv(folder / f"{name}.csv", index=False, float_format="%.10g")
    if result.diagnosis is not None:
        _write_json(folder / "diagnosis.json", result.diagnosis)
    _write_json(folder / "summary.json", result.summary)  # last: its presence marks completion


def _write_json(path: Path, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, default=_json_default)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def _swap_into_place(tmp: Path, target: Path) -> None:
    """Rename the finished ``tmp`` to ``target``. An existing target is exchanged with it in
    one atomic step where the system can (Linux renameat2), else moved aside first; a run
    killed between those two renames is repaired by the next write (:func:`_recover`)."""
    if not target.exists():
        os.rename(tmp, target)
        return
    if _exchange(tmp, target):  # tmp now holds the previous result
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old = target.parent / f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except OSError:
        os.rename(old, target)  # put the previous result back
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    rc = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return rc == 0


def _recover(out_root: Path, target: Path) -> None:
    """Tidy what killed runs left: put back a previous result that was moved aside and not
    replaced, and delete temporary folders whose process is gone."""
    for p in sorted(out_root.glob(f".{target.name}.old-*")):
        if not target.exists() and not _alive(p.name) and (p / "summary.json").is_file():
            os.rename(p, target)
        elif not _alive(p.name):
            shutil.rmtree(p, ignore_errors=True)
    for p in out_root.glob(f".{target.name}.partial-*"):
        if not _alive(p.name):
            shutil.rmtree(p, ignore_errors=True)


def _alive(folder_name: str) -> bool:
    """Whether the process whose id is in a temporary folder's name still runs."""
    try:
        pid = int(folder_name.rsplit("-", 2)[-2])
    except (ValueError, IndexError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
