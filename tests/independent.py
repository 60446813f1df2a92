"""An independent formulation of fairshare's LP: the one oracle of the tests.

Built straight from the region's tables (CSV, or Parquet where a ``.parquet`` file is
there) with pandas and ``scipy.optimize.linprog``, written row by row from the
module docstrings of ``fairshare.families`` without any fairshare code: the
application shares x[s, m] are the only variables (reductions, costs and
concentrations are substituted in), every exclusivity group and removal-share row is
kept (fairshare drops rows that cannot bind), and MTFR is its own linprog per
receptor.

Optional tables: ``applicability`` (else each measure's ``max_application``),
``receptors`` (else the receptors are the cities; its ``population`` weights exposure
targets), ``transport`` and ``concentrations`` (a region without them is planned on
emission caps only).

Entry points: ``solve_independently(region_dir, scenario_dict)`` -> (linprog status,
least cost in CNY/yr or None, the linprog result); ``Region(folder, year)`` with
``mtfr(q, r)``, ``conc_row(q, r)``, ``concentration(q, r, x)`` and ``city_cost_row(s)``
to read a solution ``x`` (ordered as ``Region.vars``: every city, then every measure).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

CNY_PER_MCNY = 1e6  # the LP's costs are in million CNY/yr


def read_table(folder: Path, name: str) -> pd.DataFrame | None:
    """``name.parquet`` if it is there, else ``name.csv``; None if neither (optional table)."""
    parquet, csv = Path(folder) / f"{name}.parquet", Path(folder) / f"{name}.csv"
    if parquet.exists():
        return pd.read_parquet(parquet)
    if csv.exists():
        return pd.read_csv(csv)
    return None


def of_member(table: pd.DataFrame | None, member: str | None) -> pd.DataFrame | None:
    """The rows of one transport member (``member`` or the only one); a table without a
    member column as it is."""
    if table is None or "member" not in table.columns:
        return table
    members = list(dict.fromkeys(table["member"]))
    return table[table["member"] == (member if member is not None else members[0])]


def default_member(folder: Path) -> str | None:
    import yaml

    path = Path(folder) / "region.yaml"
    return (yaml.safe_load(path.read_text()) or {}).get("default_member") if path.exists() else None


def of_year(table: pd.DataFrame | None, year: int | None) -> pd.DataFrame | None:
    """The rows of ``year`` (the first year if None); a table without a year column as it is."""
    if table is None or "year" not in table.columns:
        return table
    return table[table["year"] == (year if year is not None else table["year"].min())]


class Region:
    def __init__(self, folder: Path, year: int | None = None, member: str | None = None):
        read = lambda name: read_table(folder, name)  # noqa: E731
        member = member if member is not None else default_member(folder)
        self.cities = read("cities").astype({"city": str}).set_index("city")
        em = of_year(read("emissions"), year)
        self.emission_t = em.groupby(["city", "sector", "pollutant"])["emission_t"].sum().to_dict()
        self.pollutants = sorted(set(em["pollutant"]))
        self.measures = read("measures").set_index("measure")
        self.sector = self.measures["sector"].to_dict()
        self.eff = {(r.measure, r.pollutant): r.efficiency
                    for r in read("efficiencies").itertuples()}
        app = read("applicability")
        self.app = {} if app is None else self._applicability(app, year)
        # Air quality (both tables optional: a region planned on emission caps only).
        tr = of_member(read("transport"), member)
        self.transport = {} if tr is None else \
            {(r.metric, r.receptor, r.source, r.pollutant): r.coef_ugm3_per_kt
             for r in tr.itertuples()}
        conc = of_year(of_member(read("concentrations"), member), year)
        self.c0 = {} if conc is None else \
            {(r.metric, r.receptor): r.baseline_ugm3 for r in conc.itertuples()}
        # Receptor population (exposure weights): receptors.csv, else the cities' population.
        rec = read("receptors")
        people = self.cities["population"] if rec is None else \
            rec.astype({"receptor": str}).set_index("receptor")["population"]
        self.population = people.to_dict()
        self.vars = [(s, m) for s in self.cities.index for m in self.measures.index]
        self.col = {v: j for j, v in enumerate(self.vars)}
        self._conc_rows: dict = {}
        self._technology = None

    @staticmethod
    def _applicability(app: pd.DataFrame, year) -> dict:
        """Rows without a year apply every year; a row of ``year`` overrides them."""
        if "year" not in app.columns:
            return {(r.city, r.measure): r.max_application for r in app.itertuples()}
        general = app[app["year"].isna()]
        specific = app[app["year"] == year] if year is not None else app.iloc[:0]
        return {(r.city, r.measure): r.max_application
                for part in (general, specific) for r in part.itertuples()}

    def E(self, s, k, p) -> float:
        return self.emission_t.get((s, k, p), 0.0)

    def upper(self, s, m) -> float:
        """Largest share of m in s; 0 where s has none of m's reference pollutant to treat."""
        row = self.measures.loc[m]
        if self.E(s, row.sector, row.ref_pollutant) <= 0:
            return 0.0
        return self.app.get((s, m), row.max_application)

    def cost_mcny(self, s, m) -> float:
        """Cost of x[s, m] = 1: f_s * cost per t of ref * E[s, k(m), ref] * eff[m, ref]."""
        row = self.measures.loc[m]
        f = self.cities.loc[s].get("cost_factor", 1.0)
        f = 1.0 if pd.isna(f) else f
        return f * row.cost_cny_per_t * self.E(s, row.sector, row.ref_pollutant) * \
            self.eff.get((m, row.ref_pollutant), 0.0) / CNY_PER_MCNY

    def removal_kt(self, s, m, p) -> float:
        return self.E(s, self.sector[m], p) * self.eff.get((m, p), 0.0) / 1000

    def conc_row(self, q, r) -> np.ndarray:
        """Coefficients a with C[q, r] = C0[q, r] - a·x."""
        if (q, r) not in self._conc_rows:
            a = np.zeros(len(self.vars))
            for (s, m), j in self.col.items():
                a[j] = sum(self.transport.get((q, r, s, p), 0.0) * self.removal_kt(s, m, p)
                           for p in self.pollutants)
            self._conc_rows[q, r] = a
        return self._conc_rows[q, r]

    def concentration(self, q, r, x) -> float:
        """C[q, r] of the plan x, µg/m³."""
        return self.c0[q, r] - self.conc_row(q, r) @ x

    def city_cost_row(self, s) -> np.ndarray:
        """Coefficients of city s's cost (million CNY/yr) in x."""
        row = np.zeros(len(self.vars))
        for m in self.measures.index:
            row[self.col[s, m]] = self.cost_mcny(s, m)
        return row

    def technology(self):
        """Exclusivity and removal-share rows: (A, b) with A x <= b."""
        if self._technology is None:
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
            self._technology = np.array(A), np.array(b)
        return self._technology

    def bounds(self):
        return [(0.0, self.upper(s, m)) for s, m in self.vars]

    def mtfr(self, q, r) -> float:
        """Lowest C[q, r] with every measure at its limit (max a·x over the technology rows)."""
        A, b = self.technology()
        res = linprog(-self.conc_row(q, r), A_ub=A, b_ub=b, bounds=self.bounds(), method="highs")
        assert res.status == 0
        return self.c0[q, r] + res.fun


def receptors_of(region: Region, metric: str, spec) -> list:
    all_r = sorted({r for (q, r) in region.c0 if q == metric})
    return all_r if spec in (None, "all") else list(spec)


def solve_independently(region_dir, scenario: dict):
    """Least cost (CNY/yr) and x of the scenario; ``scenario`` is its resolved dict.

    ``region_dir`` is the region folder, or a :class:`Region` already read (of the
    scenario's year). Returns (linprog status: 0 optimal, 2 infeasible; the cost or None;
    the linprog result, whose ``x`` is ordered as ``Region.vars``).
    """
    if not isinstance(region_dir, Region) and _targets_a_surface(region_dir, scenario):
        return solve_surfaces_independently(region_dir, scenario)  # response surfaces: a MILP
    reg = region_dir if isinstance(region_dir, Region) else Region(region_dir, scenario.get("year"))
    A_ub, b_ub = _one_year_rows(reg, scenario)
    c = np.array([reg.cost_mcny(s, m) for s, m in reg.vars])
    if scenario.get("objective") == "min_max_burden":
        _min_max_burden_rows(reg, c, A_ub, b_ub)
    res = linprog(c, A_ub=np.array(A_ub), b_ub=np.array(b_ub), bounds=reg.bounds(), method="highs")
    return res.status, (res.fun * CNY_PER_MCNY if res.status == 0 else None), res


def _targets_a_surface(region_dir, scenario: dict) -> bool:
    """The scenario has a concentration target on a metric with response surfaces."""
    metrics = {q for q, _ in read_surfaces(Path(region_dir), scenario.get("year"))}
    return any(t.get("metric") in metrics and not t.get("exposure")
               for t in scenario.get("targets", []))


def _gdp_mcny(reg: Region, s) -> float:
    return reg.cities.loc[s, "gdp_bn_cny"] * 1000


def _fairness_rows(reg: Region, rule: dict, A_ub: list, b_ub: list) -> None:
    kind = rule["rule"]
    if kind == "burden_cap":
        cities = reg.cities.index if rule.get("cities", "all") == "all" else rule["cities"]
        for s in cities:
            A_ub.append(reg.city_cost_row(s))
            b_ub.append(rule["max_share_of_gdp"] * _gdp_mcny(reg, s))
    elif kind == "burden_band":  # |cost_s - GDP_s/GDP_total * total cost| <= w GDP_s
        total_gdp = sum(_gdp_mcny(reg, s) for s in reg.cities.index)
        total = sum(reg.city_cost_row(s) for s in reg.cities.index)
        for s in reg.cities.index:
            dev = reg.city_cost_row(s) - _gdp_mcny(reg, s) / total_gdp * total
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
        A1.append(np.r_[reg.city_cost_row(s), -_gdp_mcny(reg, s)])
        b1.append(0.0)
    res = linprog(np.r_[np.zeros(n), 1.0], A_ub=np.array(A1), b_ub=np.array(b1),
                  bounds=reg.bounds() + [(0, None)], method="highs")
    assert res.status == 0
    beta = res.x[-1] * (1 + 1e-6)
    for s in reg.cities.index:
        A_ub.append(reg.city_cost_row(s))
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


# --- roadmaps: several years in one LP ----------------------------------------------------

def solve_roadmap_independently(region_dir, scenario: dict):
    """Least present value (CNY) of a roadmap, written from the roadmap docs: per year t
    the shares x_t (bounded by that year's applicability, its technology rows, targets
    and caps with their value in that year, burden caps each year), installations inv_t
    of the measures with capital (capacity in tonnes of the measure's base, lifetimes in
    whole periods), irreversibility less the base that is gone, operating costs plus
    annuities, discounted years per period. Variables: [x_1 .. x_T, inv_1 .. inv_T].

    Returns (linprog status, NPV in CNY or None, the linprog result)."""
    years = scenario["years"]
    opts = scenario.get("roadmap", {})
    rate, last = opts.get("discount_rate", 0.05), opts.get("last_period_years", 5)
    lengths = [b - a for a, b in zip(years, years[1:])] + [last]
    w = [sum((1 + rate) ** -(y - years[0]) for y in range(start, start + n))
         for start, n in zip(years, lengths)]
    regs = [Region(region_dir, y) for y in years]
    reg, T = regs[0], len(years)
    n = len(reg.vars)
    meas = reg.measures
    capex = (meas["capex_share"].fillna(0.0) if "capex_share" in meas else pd.Series(0.0, meas.index))
    life = (meas["lifetime_yr"].fillna(np.inf) if "lifetime_yr" in meas else pd.Series(np.inf, meas.index))
    reversible = (meas["reversible"].fillna(0) > 0 if "reversible" in meas else pd.Series(False, meas.index))
    N = 2 * T * n                                    # x blocks, then inv blocks
    X = lambda t, j: t * n + j                       # noqa: E731
    INV = lambda t, j: (T + t) * n + j               # noqa: E731
    serves = lambda u, t, m: u <= t and years[t] - years[u] < life[m]  # noqa: E731
    A_ub, b_ub, c = [], [], np.zeros(N)
    bounds = [(0.0, 0.0)] * N

    def row(entries):
        r = np.zeros(N)
        for col, v in entries:
            r[col] += v
        return r

    for t, rg in enumerate(regs):
        one = {k: v for k, v in scenario.items() if k not in ("years", "roadmap")}
        one["targets"] = [_at(tg, years[t]) for tg in scenario.get("targets", [])]
        one["targets"] = [tg for tg in one["targets"] if tg is not None]
        one["fairness"] = [_at(f, years[t]) for f in scenario.get("fairness", [])]
        one["fairness"] = [f for f in one["fairness"] if f is not None]
        A, b = _one_year_rows(rg, one)
        for a_row, bound in zip(A, b):
            A_ub.append(row((X(t, j), v) for j, v in enumerate(a_row) if v))
            b_ub.append(bound)
        for j, (s, m) in enumerate(rg.vars):
            bounds[X(t, j)] = (0.0, rg.upper(s, m))
            if capex[m] > 0:
                bounds[INV(t, j)] = (0.0, 1.0)
            # operating cost, discounted years of the period
            c[X(t, j)] += w[t] * (1 - capex[m]) * rg.cost_mcny(s, m)
            if capex[m] > 0:  # the annuity of inv_t, in every period it serves
                for u in range(t, T):
                    if serves(t, u, m):
                        c[INV(t, j)] += w[u] * capex[m] * rg.cost_mcny(s, m)
                base_t = rg.E(s, rg.sector[m], meas.loc[m, "ref_pollutant"])
                if base_t > 0:  # x_t B_t <= sum of serving inv_u B_u
                    A_ub.append(row([(X(t, j), base_t)] + [
                        (INV(u, j), -regs[u].E(s, rg.sector[m], meas.loc[m, "ref_pollutant"]))
                        for u in range(t + 1) if serves(u, t, m)]))
                    b_ub.append(0.0)
            if t and not reversible[m] and regs[t - 1].upper(s, m) > 0:
                shrink = max(0.0, regs[t - 1].upper(s, m) - rg.upper(s, m))
                A_ub.append(row([(X(t - 1, j), 1.0), (X(t, j), -1.0)]))  # x_{t-1} - x_t <= shrink
                b_ub.append(shrink)
    res = linprog(c, A_ub=np.array(A_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
    return res.status, (res.fun * CNY_PER_MCNY if res.status == 0 else None), res


def _at(entry: dict, year: int) -> dict | None:
    """The entry with every value given by year replaced by its value in ``year``; None if
    a value by year does not name it."""
    out = dict(entry)
    for key, value in entry.items():
        if isinstance(value, dict) and value and all(str(k).isdigit() for k in value):
            by_year = {int(k): v for k, v in value.items()}
            if year not in by_year:
                return None
            out[key] = by_year[year]
    return out


def _one_year_rows(reg: Region, scenario: dict):
    """(A, b) of one year's rows over that year's x: technology, targets, caps, rules."""
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
            pop = np.array([reg.population[r] for r in rs])
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
    return A_ub, b_ub


def solve_robust_independently(region_dir, scenario: dict, members: list[str]):
    """The least cost (CNY/yr) of one plan meeting the scenario's concentration targets
    under every transport member: the union of the members' target rows (each on its own
    baseline), the other rows once (the first member's)."""
    year = scenario.get("year")
    first = Region(region_dir, year, members[0])
    A_ub, b_ub = _one_year_rows(first, scenario)
    for member in members[1:]:
        reg = Region(region_dir, year, member)
        only_targets = {"targets": [t for t in scenario.get("targets", []) if t.get("metric")]}
        A, b = _one_year_rows(reg, only_targets)
        A_ub += A
        b_ub += b
    c = np.array([first.cost_mcny(s, m) for s, m in first.vars])
    res = linprog(c, A_ub=np.array(A_ub), b_ub=np.array(b_ub), bounds=first.bounds(),
                  method="highs")
    return res.status, (res.fun * CNY_PER_MCNY if res.status == 0 else None), res


# --- response surfaces (docs/ozone.md): an independent MIP -----------------------------------------
#
# Read from response.csv and the docs alone: for receptor r of metric q with its own city c,
# C = C0 + f_local(u) + f_regional(w), u_p = dE[c, p] / E[c, p] and
# w_p = sum_{s != c} |T[q, r, s, p]| dE[s, p] / sum_{s != c} |T[q, r, s, p]| E[s, p] (p = NOx,
# VOC); each f linear on the triangles that split every grid cell by its diagonal from
# (nox_i, voc_j) to (nox_i+1, voc_j+1). fairshare writes an SOS2 formulation on marginal sums;
# this oracle uses another one, the disaggregated convex combination: one binary per
# triangle and its own copy of the vertex weights (scipy.optimize.milp).

def read_surfaces(folder: Path, year=None, member=None) -> dict:
    """{(metric, receptor): [(part, nox [n], voc [m], z [n, m])]} of response.csv (empty
    without it)."""
    df = read_table(folder, "response")
    if df is None:
        return {}
    if "year" in df.columns:
        df = df[df["year"].isna() | (df["year"] == year)]
    if "member" in df.columns:
        df = df[df["member"].isna() | (df["member"] == member)]
    out = {}
    for (q, r, part), g in df.groupby(["metric", "receptor", "part"]):
        piv = g.pivot_table(index="nox_cut_share", columns="voc_cut_share", values="change_ugm3")
        out.setdefault((q, str(r)), []).append((part, piv.index.to_numpy(float),
                                                piv.columns.to_numpy(float), piv.to_numpy(float)))
    return out


def surface_share_rows(reg: Region, q, r, part) -> np.ndarray:
    """[2, len(vars)]: the NOx and VOC cut-share coordinates of a surface, linear in x."""
    rows = np.zeros((2, len(reg.vars)))
    E = {(s, p): sum(v for (s2, _, p2), v in reg.emission_t.items() if s2 == s and p2 == p) / 1000
         for s in reg.cities.index for p in ("NOx", "VOC")}
    for a, p in enumerate(("NOx", "VOC")):
        if part == "local":
            weight = {r: 1.0 / E[r, p]} if E[r, p] > 0 else {}
        else:
            omega = {s: abs(reg.transport.get((q, r, s, p), 0.0)) for s in reg.cities.index if s != r}
            if not any(omega.values()):
                omega = {s: 1.0 for s in reg.cities.index if s != r}
            total = sum(w * E[s, p] for s, w in omega.items())
            weight = {s: w / total for s, w in omega.items()} if total > 0 else {}
        for s, w in weight.items():
            for m in reg.measures.index:
                rows[a, reg.col[s, m]] += w * reg.removal_kt(s, m, p)
    return rows


def surface_reach(reg: Region, q, r, part) -> np.ndarray:
    """[2] the largest NOx and VOC cut-share coordinates of a surface any plan reaches
    (max of the coordinate over the measures' bounds and technology rows, linprog)."""
    A, b = reg.technology()
    share = surface_share_rows(reg, q, r, part)
    out = np.zeros(2)
    for a in range(2):
        res = linprog(-share[a], A_ub=A, b_ub=b, bounds=reg.bounds(), method="highs")
        assert res.status == 0
        out[a] = min(1.0, -res.fun)
    return out


def interpolate(nox, voc, z, u) -> float:
    """The surface's value at u on its triangulation (written again, not imported)."""
    i = min(max(np.searchsorted(nox, u[0], side="right") - 1, 0), len(nox) - 2)
    j = min(max(np.searchsorted(voc, u[1], side="right") - 1, 0), len(voc) - 2)
    a = (u[0] - nox[i]) / (nox[i + 1] - nox[i])
    b = (u[1] - voc[j]) / (voc[j + 1] - voc[j])
    if b <= a:  # vertices (i, j), (i+1, j), (i+1, j+1)
        return (1 - a) * z[i, j] + (a - b) * z[i + 1, j] + b * z[i + 1, j + 1]
    return (1 - b) * z[i, j] + (b - a) * z[i, j + 1] + a * z[i + 1, j + 1]


def surface_concentration(reg: Region, surfaces: dict, q, r, x) -> float:
    """C[q, r] of the plan x on the surfaces."""
    total = reg.c0[q, r]
    for part, nox, voc, z in surfaces[q, r]:
        u = np.clip(surface_share_rows(reg, q, r, part) @ x, 0, 1)
        total += interpolate(nox, voc, z, u)
    return total


def solve_surfaces_independently(region_dir, scenario: dict):
    """As :func:`solve_independently`, with the concentration targets of metrics that have
    surfaces written on them (a MILP): (milp status: 0 optimal, 2 infeasible; cost in CNY/yr
    or None; the result, whose ``x`` starts with ``Region.vars``)."""
    from scipy.optimize import LinearConstraint, milp

    folder = Path(region_dir)
    reg = Region(folder, scenario.get("year"))
    surfaces = read_surfaces(folder, scenario.get("year"))
    metrics = {q for q, _ in surfaces}
    plain = {**scenario, "targets": [t for t in scenario.get("targets", [])
                                     if t.get("metric") not in metrics or t.get("exposure")]}
    A_ub, b_ub = _one_year_rows(reg, plain)
    nx = len(reg.vars)
    limits = {}
    for t in scenario.get("targets", []):
        if t.get("metric") in metrics and not t.get("exposure"):
            for r in receptors_of(reg, t["metric"], t.get("receptors")):
                c0 = reg.c0[t["metric"], r]
                lim = t["max_ugm3"] if t.get("max_ugm3") is not None else \
                    c0 * (1 - t["reduction_pct"] / 100)
                limits[t["metric"], r] = min(lim, limits.get((t["metric"], r), np.inf))
    # columns: x, then per surface and triangle 3 vertex weights, then one binary per triangle;
    # only the triangles that meet the box of cut shares the measures can reach (each
    # coordinate's largest value, an LP over the technology rows): a plan lies in that box
    blocks, n_w, n_b = [], 0, 0
    for (q, r), lim in limits.items():
        for part, nox, voc, z in surfaces.get((q, r), []):
            top = surface_reach(reg, q, r, part)
            tris = []
            for i in range(len(nox) - 1):
                for j in range(len(voc) - 1):
                    if nox[i] > top[0] + 1e-9 or voc[j] > top[1] + 1e-9:
                        continue
                    tris.append(((i, j), (i + 1, j), (i + 1, j + 1)))
                    tris.append(((i, j), (i, j + 1), (i + 1, j + 1)))
            blocks.append((q, r, part, nox, voc, z, tris, n_w, n_b))
            n_w += 3 * len(tris)
            n_b += len(tris)
    n = nx + n_w + n_b
    rows, lo, hi = [], [], []
    for a_row, b in zip(A_ub, b_ub):
        rows.append(np.r_[a_row, np.zeros(n_w + n_b)])
        lo.append(-np.inf)
        hi.append(b)
    target_rows = {}
    for q, r, part, nox, voc, z, tris, w0, b0 in blocks:
        share = surface_share_rows(reg, q, r, part)
        one = np.zeros(n)
        one[nx + n_w + b0: nx + n_w + b0 + len(tris)] = 1.0
        rows.append(one), lo.append(1.0), hi.append(1.0)   # one triangle
        for t in range(len(tris)):                          # its weights sum to its binary
            row = np.zeros(n)
            row[nx + w0 + 3 * t: nx + w0 + 3 * t + 3] = 1.0
            row[nx + n_w + b0 + t] = -1.0
            rows.append(row), lo.append(0.0), hi.append(0.0)
        for a, coord in enumerate((nox, voc)):              # the weights' point is the plan's
            row = np.zeros(n)
            row[:nx] = -share[a]
            for t, tri in enumerate(tris):
                for v, (i, j) in enumerate(tri):
                    row[nx + w0 + 3 * t + v] = coord[i] if a == 0 else coord[j]
            rows.append(row), lo.append(0.0), hi.append(0.0)
        value = target_rows.setdefault((q, r), np.zeros(n))
        for t, tri in enumerate(tris):
            for v, (i, j) in enumerate(tri):
                value[nx + w0 + 3 * t + v] += z[i, j]
    for (q, r), value in target_rows.items():
        rows.append(value), lo.append(-np.inf), hi.append(limits[q, r] - reg.c0[q, r])
    c = np.r_[[reg.cost_mcny(s, m) for s, m in reg.vars], np.zeros(n_w + n_b)]
    bounds_lo = np.r_[np.zeros(nx), np.zeros(n_w + n_b)]
    bounds_hi = np.r_[[u for _, u in reg.bounds()], np.ones(n_w + n_b)]
    from scipy.optimize import Bounds
    res = milp(c, constraints=LinearConstraint(np.array(rows), lo, hi),
               integrality=np.r_[np.zeros(nx + n_w), np.ones(n_b)],
               bounds=Bounds(bounds_lo, bounds_hi), options={"mip_rel_gap": 1e-9})
    return res.status, (res.fun * CNY_PER_MCNY if res.status == 0 else None), res
