#!/usr/bin/env python3
"""The performance floor: fairshare's least-cost LP built with numpy/scipy and
handed to HiGHS in one ``passModel``, with no modelling layer in between.

    python bench/floor.py bench/regions/syn-340 --reduction-pct 20
    python bench/floor.py bench/regions/syn-340/scenario.yaml      # R from the scenario
    python bench/floor.py REGION --json out.json

From Python: ``build_floor_lp(region_dir, reduction_pct) -> (highspy.Highs, info)``
and ``solve_floor(region_dir, reduction_pct) -> dict``.

The LP (model units: emissions kt/yr, costs million CNY/yr):

columns   x[s,m] in [0, a[s,m]]            (city-major: s * M + m)
          reduction[s,p] free, kt/yr        (s * P + p)
          city_cost[s] free, M CNY/yr
rows      reduction_def[s,p]  reduction[s,p] - sum_m E[s,k(m),p] eff[m,p] x[s,m] = 0
          cost_def[s]         city_cost[s] - sum_m kappa[s,m] x[s,m] = 0,
                              kappa = f[s] cu[m] E_t[s,k(m),ref(m)] eff[m,ref(m)] / 1e6
          exclusivity[s,g]    sum_{m in g} x[s,m] <= 1       (groups of >= 2 measures)
          removal_limit[s,k,p] sum_{m in k} eff[m,p] x[s,m] <= 1
                              (only where sum_{m in k} eff[m,p] a[s,m] > 1)
          aq_target[q,r]      sum_{s,p} T[q,r,s,p] reduction[s,p] >= C0[q,r] - L[q,r],
                              L = C0 (1 - R/100)                (dense block)
objective min sum_s city_cost[s]; reported in CNY (x 1e6).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import scipy.sparse as sp
import yaml

METRIC = "PM25"
COST_UNIT = 1e6        # CNY per model cost unit (million CNY)
EMISSION_UNIT = 1e3    # t per model emission unit (kt)


# --------------------------------------------------------------------------- reading

def _find(region: Path, stem: str, required: bool = True) -> Path | None:
    for ext in (".parquet", ".csv"):
        f = region / f"{stem}{ext}"
        if f.exists():
            return f
    if required:
        raise FileNotFoundError(f"{region}: neither {stem}.csv nor {stem}.parquet")
    return None


def read_table(region, stem, id_cols=(), required=True) -> pd.DataFrame | None:
    """A region table as pandas; ``id_cols`` come back as categoricals (cheap
    for tables of tens of millions of rows)."""
    f = _find(Path(region), stem, required)
    if f is None:
        return None
    if f.suffix == ".parquet":
        t = pq.read_table(f, read_dictionary=list(id_cols))
    else:
        dict_t = pa.dictionary(pa.int32(), pa.string())
        t = pacsv.read_csv(f, convert_options=pacsv.ConvertOptions(
            column_types={c: dict_t for c in id_cols}))
    return t.to_pandas()


def _codes(col: pd.Series, order) -> np.ndarray:
    """Positions of the values of ``col`` in ``order``; -1 where missing."""
    order = pd.Index(order)
    if isinstance(col.dtype, pd.CategoricalDtype):
        lookup = order.get_indexer(col.cat.categories)
        codes = col.cat.codes.to_numpy()
        return np.where(codes < 0, -1, lookup[codes])
    return order.get_indexer(col)


def _check(name, codes, col):
    bad = codes < 0
    if bad.any():
        vals = pd.unique(np.asarray(col)[bad])[:5]
        raise ValueError(f"{name}: unknown ids {list(vals)}")


def load_arrays(region_dir, metric: str = METRIC) -> dict:
    """Region package -> dense numpy arrays in file units."""
    region = Path(region_dir)
    cities = read_table(region, "cities")
    emis = read_table(region, "emissions", ("city", "sector", "pollutant"))
    meas = read_table(region, "measures")
    effs = read_table(region, "efficiencies", ("measure", "pollutant"))
    appl = read_table(region, "applicability", ("city", "measure"), required=False)
    trans = read_table(region, "transport", ("metric", "receptor", "source", "pollutant"))
    conc = read_table(region, "concentrations", ("metric", "receptor"))
    if "year" in emis.columns or "year" in conc.columns:
        raise ValueError("year columns are not supported by the floor")

    city_ids = cities["city"].astype(str).tolist()
    meas_ids = meas["measure"].astype(str).tolist()
    sectors = list(dict.fromkeys(meas["sector"].astype(str).tolist() +
                                 [str(v) for v in emis["sector"].cat.categories]))
    pols = list(dict.fromkeys([str(v) for v in emis["pollutant"].cat.categories] +
                              meas["ref_pollutant"].astype(str).tolist()))
    S, M, K, P = len(city_ids), len(meas_ids), len(sectors), len(pols)

    E = np.zeros((S, K, P))
    ci = _codes(emis["city"], city_ids); _check("emissions.city", ci, emis["city"])
    ki = _codes(emis["sector"], sectors)
    pi = _codes(emis["pollutant"], pols)
    np.add.at(E, (ci, ki, pi), emis["emission_t"].to_numpy(float))

    sec = pd.Index(sectors).get_indexer(meas["sector"].astype(str))
    ref = pd.Index(pols).get_indexer(meas["ref_pollutant"].astype(str))
    cu = meas["cost_cny_per_t"].to_numpy(float)
    a = np.tile(meas["max_application"].to_numpy(float), (S, 1))          # (S, M)
    if appl is not None and len(appl):
        ac = _codes(appl["city"], city_ids); am = _codes(appl["measure"], meas_ids)
        _check("applicability.city", ac, appl["city"]); _check("applicability.measure", am, appl["measure"])
        a[ac, am] = appl["max_application"].to_numpy(float)
    eff = np.zeros((M, P))
    mi = _codes(effs["measure"], meas_ids); _check("efficiencies.measure", mi, effs["measure"])
    pe = _codes(effs["pollutant"], pols)
    keep = pe >= 0                      # a pollutant nobody emits removes nothing
    eff[mi[keep], pe[keep]] = effs["efficiency"].to_numpy(float)[keep]

    f = cities["cost_factor"].to_numpy(float) if "cost_factor" in cities.columns else np.ones(S)
    f = np.where(np.isnan(f), 1.0, f)

    conc = conc[conc["metric"] == metric]           # categorical compare: no strings built
    rec_ids = conc["receptor"].astype(str).tolist()
    c0 = conc["baseline_ugm3"].to_numpy(float)
    is_metric = (trans["metric"] == metric).to_numpy()
    if not is_metric.all():
        trans = trans[is_metric]
    T = np.zeros((len(rec_ids), S, P))
    ri = _codes(trans["receptor"], rec_ids); _check("transport.receptor", ri, trans["receptor"])
    si = _codes(trans["source"], city_ids); _check("transport.source", si, trans["source"])
    tp = _codes(trans["pollutant"], pols)
    keep = tp >= 0
    T[ri[keep], si[keep], tp[keep]] = trans["coef_ugm3_per_kt"].to_numpy(float)[keep]
    groups = meas["group"].astype(str).to_numpy()
    # exclusivity groups are keyed by (sector, group)
    gkey = pd.Series(list(zip(sec, groups)))
    return dict(city_ids=city_ids, meas_ids=meas_ids, sectors=sectors, pols=pols,
                rec_ids=rec_ids, E=E, sec=sec, ref=ref, cu=cu, a=a, eff=eff, f=f,
                T=T, c0=c0, group_codes=pd.factorize(gkey)[0])


# --------------------------------------------------------------------------- LP

def assemble(d: dict, reduction_pct: float):
    """Column-wise (CSC) sparse matrix and bounds of the floor LP."""
    E, eff, a, sec, ref, cu, f, T, c0 = (d[k] for k in ("E", "eff", "a", "sec", "ref", "cu", "f", "T", "c0"))
    S, K, P = E.shape
    M = eff.shape[0]
    R = T.shape[0]
    nx, nred = S * M, S * P
    ncol = nx + nred + S
    xcol = np.arange(nx).reshape(S, M)
    redcol = nx + np.arange(nred).reshape(S, P)
    costcol = nx + nred + np.arange(S)
    rows, cols, vals = [], [], []
    lo, up = [], []
    nrow = 0

    # reduction_def[s,p]
    coef = (E[:, sec, :] / EMISSION_UNIT) * eff[None, :, :]              # (S, M, P)
    r_def = np.arange(nred).reshape(S, P)
    rows.append(r_def.ravel()); cols.append(redcol.ravel()); vals.append(np.ones(nred))
    s_i, m_i, p_i = np.nonzero(coef)
    rows.append(r_def[s_i, p_i]); cols.append(xcol[s_i, m_i]); vals.append(-coef[s_i, m_i, p_i])
    lo.append(np.zeros(nred)); up.append(np.zeros(nred)); nrow += nred

    # cost_def[s]
    eref = E[:, sec, ref] * eff[np.arange(M), ref][None, :]                 # (S, M) t at x = 1
    kappa = f[:, None] * cu[None, :] * eref / COST_UNIT
    r_cost = nrow + np.arange(S)
    rows.append(r_cost); cols.append(costcol); vals.append(np.ones(S))
    s_i, m_i = np.nonzero(kappa)
    rows.append(r_cost[s_i]); cols.append(xcol[s_i, m_i]); vals.append(-kappa[s_i, m_i])
    lo.append(np.zeros(S)); up.append(np.zeros(S)); nrow += S

    # exclusivity[s,g], groups of >= 2 measures
    gc = d["group_codes"]
    gsize = np.bincount(gc)
    multi = np.flatnonzero(gsize >= 2)
    n_excl = 0
    if len(multi):
        gpos = -np.ones(len(gsize), dtype=np.int64)
        gpos[multi] = np.arange(len(multi))
        mm = np.flatnonzero(gpos[gc] >= 0)
        G = len(multi)
        r = nrow + np.arange(S)[:, None] * G + gpos[gc[mm]][None, :]       # (S, len(mm))
        rows.append(r.ravel()); cols.append(xcol[:, mm].ravel()); vals.append(np.ones(r.size))
        n_excl = S * G
        lo.append(np.full(n_excl, -np.inf)); up.append(np.ones(n_excl)); nrow += n_excl

    # removal_limit[s,k,p] where sum eff a could exceed 1
    cap = np.zeros((S, K, P))
    for m in range(M):
        cap[:, sec[m], :] += eff[m][None, :] * a[:, m][:, None]
    need = cap > 1.0
    n_rem = int(need.sum())
    if n_rem:
        rid = -np.ones((S, K, P), dtype=np.int64)
        rid[need] = nrow + np.arange(n_rem)
        for m in range(M):
            rr = rid[:, sec[m], :]                                        # (S, P)
            ok = (rr >= 0) & (eff[m][None, :] > 0)
            s_i, p_i = np.nonzero(ok)
            rows.append(rr[s_i, p_i]); cols.append(xcol[s_i, m]); vals.append(eff[m, p_i])
        lo.append(np.full(n_rem, -np.inf)); up.append(np.ones(n_rem)); nrow += n_rem

    A_top = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(nrow, ncol))
    A_top.sum_duplicates()

    # aq_target[r]: dense block over the reduction columns, built row-wise
    r_aq = nrow + np.arange(R)
    Tf = T.reshape(R, S * P)
    if np.count_nonzero(Tf) == Tf.size:          # fully dense: no index search
        aq = sp.csr_matrix((Tf.ravel(), np.tile(np.arange(nx, nx + nred, dtype=np.int32), R),
                            np.arange(R + 1, dtype=np.int64) * nred), shape=(R, ncol))
    else:
        aq = sp.csr_matrix(Tf)
        aq = sp.csr_matrix((aq.data, aq.indices + nx, aq.indptr), shape=(R, ncol))
    lo.append(c0 * reduction_pct / 100.0); up.append(np.full(R, np.inf)); nrow += R
    A = sp.vstack([A_top, aq], format="csr").tocsc()   # HiGHS takes column-wise fastest
    col_lo = np.concatenate([np.zeros(nx), np.full(nred + S, -np.inf)])
    col_up = np.concatenate([a.ravel(), np.full(nred + S, np.inf)])
    cost = np.concatenate([np.zeros(nx + nred), np.ones(S)])
    blocks = {"reduction_def": nred, "cost_def": S, "exclusivity": n_excl,
              "removal_limit": n_rem, "aq_target": R}
    return dict(A=A, cost=cost, col_lo=col_lo, col_up=col_up,
                row_lo=np.concatenate(lo), row_up=np.concatenate(up),
                blocks=blocks, aq_rows=r_aq, costcol=costcol)


def _to_highs(m: dict) -> highspy.Highs:
    """One array ``passModel`` (numpy arrays go in without per-element
    conversion; this overload needs an integrality array of length ncol)."""
    inf = highspy.kHighsInf
    A = m["A"]
    nrow, ncol = A.shape

    def fin(v):
        return np.ascontiguousarray(np.clip(v, -inf, inf), dtype=np.float64)

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    st = h.passModel(
        ncol, nrow, int(A.nnz), int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize),
        0.0, fin(m["cost"]), fin(m["col_lo"]), fin(m["col_up"]), fin(m["row_lo"]), fin(m["row_up"]),
        A.indptr.astype(np.int32), A.indices.astype(np.int32), np.ascontiguousarray(A.data),
        np.zeros(ncol, dtype=np.int32))
    if st != highspy.HighsStatus.kOk:
        raise RuntimeError(f"passModel returned {st}")
    return h


def build_floor_lp(region_dir, reduction_pct: float):
    """(highspy.Highs with the model passed, info dict)."""
    t0 = time.perf_counter()
    d = load_arrays(region_dir)
    t1 = time.perf_counter()
    m = assemble(d, reduction_pct)
    h = _to_highs(m)
    t2 = time.perf_counter()
    info = dict(read_s=t1 - t0, assemble_s=t2 - t1, rows=m["A"].shape[0], cols=m["A"].shape[1],
                nnz=int(m["A"].nnz), blocks=m["blocks"], model=m, data=d,
                reduction_pct=reduction_pct)
    return h, info


def solve_floor(region_dir, reduction_pct: float, keep=False) -> dict:
    """Build, solve and check; returns objective_cny, status, assemble_s,
    solve_s, rows, cols, nnz (and read_s, blocks, binding receptors, max
    primal violation).  ``keep=True`` also returns the solution vector."""
    h, info = build_floor_lp(region_dir, reduction_pct)
    t0 = time.perf_counter()
    h.run()
    solve_s = time.perf_counter() - t0
    ms = h.getModelStatus()
    status = h.modelStatusToString(ms).lower()
    out = {k: info[k] for k in ("read_s", "assemble_s", "rows", "cols", "nnz", "blocks")}
    out.update(status=status, solve_s=solve_s, objective_cny=None, reduction_pct=reduction_pct,
               highs_version=h.version())
    if ms == highspy.HighsModelStatus.kOptimal:
        m = info["model"]
        x = np.asarray(h.getSolution().col_value)
        ax = m["A"] @ x
        viol = max(float(np.max(np.maximum(m["row_lo"] - ax, 0), initial=0)),
                   float(np.max(np.maximum(ax - m["row_up"], 0), initial=0)),
                   float(np.max(np.maximum(m["col_lo"] - x, 0), initial=0)),
                   float(np.max(np.maximum(x - m["col_up"], 0), initial=0)))
        aq = m["aq_rows"]
        slack = ax[aq] - m["row_lo"][aq]
        out.update(objective_cny=float(x[m["costcol"]].sum()) * COST_UNIT,
                   highs_objective_cny=h.getInfo().objective_function_value * COST_UNIT,
                   max_violation=viol,
                   binding_receptors=int((slack <= 1e-6 * np.maximum(1.0, m["row_lo"][aq])).sum()),
                   receptors=len(aq),
                   iterations=int(h.getInfo().simplex_iteration_count))
        if viol > 1e-6:
            out["status"] = "optimal_but_infeasible_solution"
        if keep:
            out["x"] = x
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="fairshare LP floor: numpy/scipy -> highspy")
    ap.add_argument("path", help="region folder or scenario.yaml")
    ap.add_argument("--reduction-pct", type=float, default=None,
                    help="PM25 cut at every receptor, %% (default: from the scenario)")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    a = ap.parse_args(argv)
    path = Path(a.path)
    red = a.reduction_pct
    if path.is_file():
        sc = yaml.safe_load(path.read_text())
        region = (path.parent / sc["region"]).resolve()
        if red is None:
            red = next(t["reduction_pct"] for t in sc["targets"] if "reduction_pct" in t)
    else:
        region = path
        if red is None:
            scen = path / "scenario.yaml"
            if not scen.exists():
                ap.error("--reduction-pct is needed when the folder has no scenario.yaml")
            sc = yaml.safe_load(scen.read_text())
            red = next(t["reduction_pct"] for t in sc["targets"] if "reduction_pct" in t)
    res = solve_floor(region, float(red))
    for k in ("status", "objective_cny", "read_s", "assemble_s", "solve_s", "rows", "cols",
              "nnz", "blocks", "binding_receptors", "receptors", "max_violation", "iterations"):
        if k in res:
            v = res[k]
            print(f"{k:18s} {v:.6g}" if isinstance(v, float) else f"{k:18s} {v}")
    if a.json:
        Path(a.json).write_text(json.dumps({**res, "region": str(region)}, indent=1, default=str))
    return 0 if res["status"] == "optimal" else 4


if __name__ == "__main__":
    sys.exit(main())
