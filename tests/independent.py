"""An independent formulation of fairshare's LP, for checking optima.

Built straight from the region's CSV tables with pandas and
``scipy.optimize.linprog``, written row by row from DESIGN §2 without any
fairshare code: the application shares x[s, m] are the only variables
(reductions, costs and concentrations are substituted in), every exclusivity
group and removal-share row is kept (fairshare drops rows that cannot bind), and
MTFR is its own linprog per receptor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog


class Region:
    def __init__(self, folder: Path, year: int | None):
        read = lambda name: pd.read_csv(Path(folder) / f"{name}.csv")  # noqa: E731
        self.cities = read("cities").astype({"city": str}).set_index("city")
        em = read("emissions")
        conc = read("concentrations")
        if "year" in em.columns:
            em = em[em["year"] == (year if year is not None else em["year"].min())]
        if "year" in conc.columns:
            conc = conc[conc["year"] == (year if year is not None else conc["year"].min())]
        self.emission_t = em.groupby(["city", "sector", "pollutant"])["emission_t"].sum().to_dict()
        self.measures = read("measures").set_index("measure")
        eff = read("efficiencies")
        self.eff = {(r.measure, r.pollutant): r.efficiency for r in eff.itertuples()}
        self.pollutants = sorted(set(em["pollutant"]))
        self.transport = {(r.metric, r.receptor, r.source, r.pollutant): r.coef_ugm3_per_kt
                          for r in read("transport").itertuples()}
        self.c0 = {(r.metric, r.receptor): r.baseline_ugm3 for r in conc.itertuples()}
        path = Path(folder) / "applicability.csv"
        self.app = ({(r.city, r.measure): r.max_application for r in pd.read_csv(path).itertuples()}
                    if path.exists() else {})
        self.sector = self.measures["sector"].to_dict()
        self.vars = [(s, m) for s in self.cities.index for m in self.measures.index]
        self.col = {v: j for j, v in enumerate(self.vars)}

    def E(self, s, k, p) -> float:
        return self.emission_t.get((s, k, p), 0.0)

    def upper(self, s, m) -> float:
        row = self.measures.loc[m]
        if self.E(s, row.sector, row.ref_pollutant) <= 0:
            return 0.0
        return self.app.get((s, m), row.max_application)

    def cost_mcny(self, s, m) -> float:
        row = self.measures.loc[m]
        f = self.cities.loc[s].get("cost_factor", 1.0)
        return f * row.cost_cny_per_t * self.E(s, row.sector, row.ref_pollutant) * \
            self.eff.get((m, row.ref_pollutant), 0.0) / 1e6

    def removal_kt(self, s, m, p) -> float:
        return self.E(s, self.sector[m], p) * self.eff.get((m, p), 0.0) / 1000

    def conc_row(self, q, r) -> np.ndarray:
        """Coefficients a with C[q, r] = C0[q, r] - a·x."""
        a = np.zeros(len(self.vars))
        for (s, m), j in self.col.items():
            a[j] = sum(self.transport.get((q, r, s, p), 0.0) * self.removal_kt(s, m, p)
                       for p in self.pollutants)
        return a

    def technology(self):
        """Exclusivity and removal-share rows: (A, b) with A x <= b."""
        A, b = [], []
        for s in self.cities.index:
            for (k, g), grp in self.measures.groupby(["sector", "group"]):
                row = np.zeros(len(self.vars))
                for m in grp.index:
                    row[self.col[s, m]] = 1.0
                A.append(row)
                b.append(1.0)
            for k, grp in self.measures.groupby("sector"):
                for p in self.pollutants:
                    row = np.zeros(len(self.vars))
                    for m in grp.index:
                        row[self.col[s, m]] = self.eff.get((m, p), 0.0)
                    A.append(row)
                    b.append(1.0)
        return np.array(A), np.array(b)

    def bounds(self):
        return [(0.0, self.upper(s, m)) for s, m in self.vars]

    def mtfr(self, q, r) -> float:
        A, b = self.technology()
        res = linprog(-self.conc_row(q, r), A_ub=A, b_ub=b, bounds=self.bounds(), method="highs")
        assert res.status == 0
        return self.c0[q, r] + res.fun


def receptors_of(region: Region, metric: str, spec) -> list:
    all_r = sorted({r for (q, r) in region.c0 if q == metric})
    return all_r if spec in (None, "all") else list(spec)


def solve_independently(region_dir: Path, scenario: dict):
    """Least cost (CNY/yr) and x of the scenario; ``scenario`` is its resolved dict."""
    reg = Region(region_dir, scenario.get("year"))
    A_ub, b_ub = [], []
    A, b = reg.technology()
    A_ub += list(A)
    b_ub += list(b)
    limits = {}
    for t in scenario.get("targets", []):
        if t.get("emission_cap"):
            _cap_row(reg, t, A_ub, b_ub)
        elif t.get("exposure"):
            rs = receptors_of(reg, t["metric"], t.get("receptors"))
            pop = np.array([reg.cities.loc[r, "population"] for r in rs])
            w = pop / pop.sum()
            A_ub.append(sum(wi * reg.conc_row(t["metric"], r) for wi, r in zip(w, rs)) * -1)
            b_ub.append(t["max_ugm3"] - sum(wi * reg.c0[t["metric"], r] for wi, r in zip(w, rs)))
        else:
            for r in receptors_of(reg, t["metric"], t.get("receptors")):
                c0 = reg.c0[t["metric"], r]
                if t.get("max_ugm3") is not None:
                    lim = t["max_ugm3"]
                elif t.get("reduction_pct") is not None:
                    lim = c0 * (1 - t["reduction_pct"] / 100)
                else:
                    lim = c0 - t["gap_closure"] * (c0 - reg.mtfr(t["metric"], r))
                key = (t["metric"], r)
                limits[key] = min(lim, limits.get(key, np.inf))
    for (q, r), lim in limits.items():
        A_ub.append(-reg.conc_row(q, r))      # C0 - a·x <= L  <=>  -a·x <= L - C0
        b_ub.append(lim - reg.c0[q, r])
    for rule in scenario.get("fairness", []):
        _fairness_rows(reg, rule, A_ub, b_ub)
    c = np.array([reg.cost_mcny(s, m) for s, m in reg.vars])
    if scenario.get("objective") == "min_max_burden":
        _min_max_burden_rows(reg, c, A_ub, b_ub)
    res = linprog(c, A_ub=np.array(A_ub), b_ub=np.array(b_ub), bounds=reg.bounds(), method="highs")
    return res.status, (res.fun * 1e6 if res.status == 0 else None), res


def _city_cost_row(reg: Region, s) -> np.ndarray:
    row = np.zeros(len(reg.vars))
    for m in reg.measures.index:
        row[reg.col[s, m]] = reg.cost_mcny(s, m)
    return row


def _gdp_mcny(reg: Region, s) -> float:
    return reg.cities.loc[s, "gdp_bn_cny"] * 1000


def _fairness_rows(reg: Region, rule: dict, A_ub: list, b_ub: list) -> None:
    kind = rule["rule"]
    if kind == "burden_cap":
        cities = reg.cities.index if rule.get("cities", "all") == "all" else rule["cities"]
        for s in cities:
            A_ub.append(_city_cost_row(reg, s))
            b_ub.append(rule["max_share_of_gdp"] * _gdp_mcny(reg, s))
    elif kind == "burden_band":  # |cost_s - GDP_s/GDP_total * total cost| <= w GDP_s
        total_gdp = sum(_gdp_mcny(reg, s) for s in reg.cities.index)
        total = sum(_city_cost_row(reg, s) for s in reg.cities.index)
        for s in reg.cities.index:
            dev = _city_cost_row(reg, s) - _gdp_mcny(reg, s) / total_gdp * total
            for sign in (1, -1):
                A_ub.append(sign * dev)
                b_ub.append(rule["width"] * _gdp_mcny(reg, s))
    elif kind == "unified_standard":
        zone = rule.get("zone", "all")
        cities = [s for s in reg.cities.index if zone == "all" or reg.cities.loc[s, "zone"] == zone]
        for s in cities:
            row = np.zeros(len(reg.vars))
            if rule.get("measure"):
                a = reg.upper(s, rule["measure"])
                if a <= 0:
                    continue
                row[reg.col[s, rule["measure"]]] = -1.0  # -x <= -min(u, a)
                A_ub.append(row)
                b_ub.append(-min(rule["min_application"], a))
                continue
            if reg.E(s, rule["sector"], rule["pollutant"]) <= 0:
                continue
            for m in reg.measures.index[reg.measures.sector == rule["sector"]]:
                row[reg.col[s, m]] = -reg.eff.get((m, rule["pollutant"]), 0.0)
            A_ub.append(row)
            b_ub.append(-rule["min_removal"])
    else:
        raise NotImplementedError(kind)


def _min_max_burden_rows(reg: Region, c, A_ub: list, b_ub: list) -> None:
    """Stage 1: min beta s.t. cost_s <= beta GDP_s (beta a column appended); then fix it
    within fairshare's stated tolerance (1e-6 relative) for the least-cost stage."""
    n = len(reg.vars)
    A1 = [np.r_[row, 0.0] for row in A_ub]
    b1 = list(b_ub)
    for s in reg.cities.index:
        A1.append(np.r_[_city_cost_row(reg, s), -_gdp_mcny(reg, s)])
        b1.append(0.0)
    res = linprog(np.r_[np.zeros(n), 1.0], A_ub=np.array(A1), b_ub=np.array(b1),
                  bounds=reg.bounds() + [(0, None)], method="highs")
    assert res.status == 0
    beta = res.x[-1] * (1 + 1e-6)
    for s in reg.cities.index:
        A_ub.append(_city_cost_row(reg, s))
        b_ub.append(beta * _gdp_mcny(reg, s))


def _cap_row(reg: Region, t: dict, A_ub: list, b_ub: list) -> None:
    p, zone = t["emission_cap"], t.get("zone", "all")
    cities = [s for s in reg.cities.index if zone == "all" or reg.cities.loc[s, "zone"] == zone]
    base_kt = sum(v for (s, k, pp), v in reg.emission_t.items() if s in cities and pp == p) / 1000
    cap_kt = t["max_t"] / 1000 if t.get("max_t") is not None else base_kt * (1 - t["reduction_pct"] / 100)
    row = np.zeros(len(reg.vars))
    for s in cities:
        for m in reg.measures.index:
            row[reg.col[s, m]] = -reg.removal_kt(s, m, p)
    A_ub.append(row)                          # -sum dE <= cap - base
    b_ub.append(cap_kt - base_kt)
