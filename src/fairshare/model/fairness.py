r"""Fairness rules on how the effort and its cost are shared between cities.

Burden ``b_s = city_cost_s / GDP_s``. Rows that compare a city with the region are
multiplied through by the city's GDP (or emissions, or population) so that their
coefficients stay near 1 (a row written in burden units spans 10^-7..1). Where a
burden must be a variable it is in **basis points of GDP** (1 bp = 0.01% of GDP).
"""

from __future__ import annotations

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from fairshare.instance import T_PER_KT, Instance, Rule
from fairshare.model._linear import add_rows, linear_rows

BP = 1e4  # basis points per unit share of GDP


def add_fairness(m: pyo.ConcreteModel, inst: Instance) -> None:
    """Every fairness rule of the scenario, in its order, one component family per kind."""
    add_cost_caps(m, inst)
    by_kind: dict[str, list[Rule]] = {}
    for rule in inst.rules:
        by_kind.setdefault(rule.kind, []).append(rule)
    for kind, rules in by_kind.items():
        _FAMILIES[kind](m, inst, rules)


def add_cost_caps(m: pyo.ConcreteModel, inst: Instance) -> None:
    r"""Burden cap and ability to pay: ``city_cost[s] <= share_s * GDP[s]`` (million CNY/yr).

    ``burden_cap[n, s]`` and ``ability_to_pay[n, s]``: rule n of that kind in the
    scenario, city s; ``share_s`` is one share (burden cap) or the share of the
    city's GDP-per-person class (ability to pay).
    """
    d = inst.data
    for kind in ("burden_cap", "ability_to_pay"):
        index, rows, upper = [], [], []
        for n, cap in enumerate(c for c in inst.cost_caps if c.kind == kind):
            for s in np.flatnonzero(cap.cities):
                index.append((n, d.cities[s]))
                rows.append(m.city_cost[d.cities[s]])
                upper.append(cap.share_of_gdp[s] * inst.gdp_mcny[s])
        add_rows(m, kind, index, rows, upper=upper, doc="city cost at most a share of its GDP")


def _relative_rows(m, var_list, weight: np.ndarray):
    """Rows ``v_s - weight_s * sum_t v_t`` over ``var_list`` (one per city), as expressions."""
    S = len(var_list)
    matrix = np.eye(S) - weight[:, None] * np.ones((1, S))
    return linear_rows(matrix, var_list)


def add_burden_band(m: pyo.ConcreteModel, inst: Instance, rules: list[Rule]) -> None:
    r"""Every burden within ``width`` of the regional burden ``B = sum cost / sum GDP``.

    .. math::  -w\,\mathrm{GDP}_s \le \mathrm{cost}_s - \frac{\mathrm{GDP}_s}{\sum_t \mathrm{GDP}_t}
               \sum_t \mathrm{cost}_t \le w\,\mathrm{GDP}_s

    ``burden_band[n, s]`` (million CNY/yr).
    """
    d, gdp = inst.data, inst.gdp_mcny
    cost = list(m.city_cost.values())
    exprs = _relative_rows(m, cost, gdp / gdp.sum())
    index, rows, lo, hi = [], [], [], []
    for n, rule in enumerate(rules):
        w = rule.params["width"]
        for s, city in enumerate(d.cities):
            index.append((n, city))
            rows.append(exprs[s])
            lo.append(-w * gdp[s])
            hi.append(w * gdp[s])
    add_rows(m, "burden_band", index, rows, lower=lo, upper=hi,
             doc="city burden within the band around the regional burden")


def add_equal_reduction(m: pyo.ConcreteModel, inst: Instance, rules: list[Rule]) -> None:
    r"""Equal effort on one pollutant, ``pct_s = 100 reduction_s / E_s``.

    ``min_pct``: ``reduction[s, p] >= min_pct/100 * E[s, p]`` in every city with emissions;
    ``band_pct``: ``|pct_s - pct_region| <= band`` written times ``E_s`` (kt/yr).
    ``equal_reduction[n, s]``.
    """
    d = inst.data
    index, rows, lo, hi = [], [], [], []
    for n, rule in enumerate(rules):
        p = rule.params["pollutant"]
        e_kt = d.emission_city_t[:, p] / T_PER_KT
        red = [m.reduction[c, d.pollutants[p]] for c in d.cities]
        if rule.params["min_pct"] is not None:
            for s in np.flatnonzero(e_kt > 0):
                index.append((n, d.cities[s]))
                rows.append(red[s])
                lo.append(rule.params["min_pct"] / 100 * e_kt[s])
                hi.append(None)
            continue
        band = rule.params["band_pct"] / 100
        exprs = _relative_rows(m, red, e_kt / e_kt.sum())
        for s in np.flatnonzero(e_kt > 0):
            index.append((n, d.cities[s]))
            rows.append(exprs[s])
            lo.append(-band * e_kt[s])
            hi.append(band * e_kt[s])
    add_rows(m, "equal_reduction", index, rows, lower=_nones(lo), upper=_nones(hi),
             doc="every city cuts the pollutant by at least / about the same share")


def _nones(values: list):
    return None if all(v is None for v in values) else np.array(
        [np.nan if v is None else v for v in values], dtype=float)


def add_unified_standard(m: pyo.ConcreteModel, inst: Instance, rules: list[Rule]) -> None:
    r"""One standard for every city of a zone.

    Measure form: ``application[s, m] >= min(u, a[s, m])``; sector form: the removal
    share ``sum_{m in k} eff[m, p] application[s, m] >= u`` in every city of the zone
    that emits p from sector k. ``unified_standard[n, s]``.
    """
    d = inst.data
    index, rows, lo = [], [], []
    for n, rule in enumerate(rules):
        prm = rule.params
        if "measure" in prm:
            j = prm["measure"]
            for s in np.flatnonzero(prm["cities"] & (d.max_application[:, j] > 0)):
                index.append((n, d.cities[s]))
                rows.append(m.application[d.cities[s], d.measures[j]])
                lo.append(min(prm["min_application"], d.max_application[s, j]))
            continue
        k, p = prm["sector"], prm["pollutant"]
        members = np.flatnonzero((d.measure_sector == k) & (d.efficiency[:, p] > 0))
        for s in np.flatnonzero(prm["cities"] & (d.emission_t[:, k, p] > 0)):
            x = [m.application[d.cities[s], d.measures[j]] for j in members]
            index.append((n, d.cities[s]))
            rows.append(linear_rows(d.efficiency[members, p][None, :], x)[0])
            lo.append(prm["min_removal"])
    add_rows(m, "unified_standard", index, rows, lower=lo,
             doc="a minimum application or removal share in every city of the zone")


def gini_values(m, inst: Instance, of: str):
    """(scale [S], label): v_s = scale_s * city_cost_s, burden in bp of GDP or CNY per person."""
    if of == "burden":
        return BP / inst.gdp_mcny, "bp of GDP"
    return 1e6 / inst.data.population, "CNY per person"


def add_gini(m: pyo.ConcreteModel, inst: Instance, rules: list[Rule]) -> None:
    r"""Gini coefficient of burdens (or of cost per person) at most G, exact and linear.

    .. math::

        d_{ab} \ge v_a - v_b,\; d_{ab} \ge v_b - v_a \;(a < b), \qquad
        \sum_{a<b} d_{ab} \le n\,G \sum_a v_a

    which is ``sum_{a,b} |v_a - v_b| <= 2 n G sum_a v`` of DESIGN §2 counted once per
    pair. ``v_s = scale_s * city_cost[s]`` (see :func:`gini_values`).
    Components: ``gini_diff[n, a, b]`` (Var), ``gini_pair[n, a, b, ±1]`` and
    ``gini_bound[n]``; G enters only the coefficients of ``gini_bound`` (a Pareto sweep
    changes them in place).
    """
    d = inst.data
    S = len(d.cities)
    a_idx, b_idx = np.triu_indices(S, k=1)
    pairs = [(n, d.cities[a], d.cities[b]) for n in range(len(rules)) for a, b in zip(a_idx, b_idx)]
    m.gini_diff = pyo.Var(pairs, bounds=(0, None), doc="|v_a - v_b| of the Gini rule")
    cost = list(m.city_cost.values())
    pair_rows, pair_index, bound_rows = [], [], []
    for n, rule in enumerate(rules):
        scale, _ = gini_values(m, inst, rule.params["of"])
        diff = [m.gini_diff[n, d.cities[a], d.cities[b]] for a, b in zip(a_idx, b_idx)]
        P = len(diff)
        for sign in (1, -1):
            # d_ab - sign*(v_a - v_b) >= 0
            vcoef = sp.csr_array((np.r_[-sign * scale[a_idx], sign * scale[b_idx]],
                                  (np.r_[np.arange(P), np.arange(P)], np.r_[a_idx, b_idx])),
                                 shape=(P, S))
            block = sp.hstack([sp.identity(P, format="csr"), vcoef], format="csr")
            pair_rows += linear_rows(block, diff + cost)
            pair_index += [(n, d.cities[a], d.cities[b], sign) for a, b in zip(a_idx, b_idx)]
        coef = np.r_[np.ones(P), -S * rule.params["max"] * scale]
        bound_rows.append(linear_rows(coef[None, :], diff + cost)[0])
    add_rows(m, "gini_pair", pair_index, pair_rows, lower=0.0, doc="d_ab >= |v_a - v_b|")
    add_rows(m, "gini_bound", list(range(len(rules))), bound_rows, upper=0.0,
             doc="sum of pairwise differences <= n G sum v")


def add_per_capita(m: pyo.ConcreteModel, inst: Instance, rules: list[Rule]) -> None:
    r"""Post-control emissions per person within a band around the regional mean.

    With ``post_s = E_s - reduction_s`` (kt/yr) and ``w_s = POP_s / sum POP``:
    ``|post_s - w_s sum_t post_t| <= band * POP_s / 1000`` (band in t per person),
    i.e. ``reduction_s - w_s sum_t reduction_t`` within ``(E_s - w_s E) ± band POP_s/1000``.
    ``per_capita[n, s]`` (kt/yr).
    """
    d = inst.data
    w = d.population / d.population.sum()
    index, rows, lo, hi = [], [], [], []
    for n, rule in enumerate(rules):
        p = rule.params["pollutant"]
        e_kt = d.emission_city_t[:, p] / T_PER_KT
        exprs = _relative_rows(m, [m.reduction[c, d.pollutants[p]] for c in d.cities], w)
        centre = e_kt - w * e_kt.sum()
        half = rule.params["band_t_per_person"] * d.population / T_PER_KT
        for s, city in enumerate(d.cities):
            index.append((n, city))
            rows.append(exprs[s])
            lo.append(centre[s] - half[s])
            hi.append(centre[s] + half[s])
    add_rows(m, "per_capita", index, rows, lower=lo, upper=hi,
             doc="post-control emissions per person within the band")


def causal_shares(inst: Instance) -> np.ndarray:
    r"""[S] each city's share of the pollution it causes in *other* cities' exceedances.

    For each targeted (metric, receptor) with baseline exceedance ``e_r = max(0, C0 - L)``,
    source s's part is ``e_r * c_rs / sum_t c_rt`` with ``c_rs = max(0, sum_p T E)`` its
    baseline contribution; parts at a receptor named like the source city are left
    out; the sums over receptors are normalised to 1 (all zeros if no exceedance).
    """
    d = inst.data
    e_kt = d.emission_city_t / T_PER_KT  # [S, P]
    amount = np.zeros(len(d.cities))
    for q, r, limit in zip(inst.aq.metric, inst.aq.receptor, inst.aq.limit_ugm3):
        exceed = max(0.0, float(d.baseline_ugm3[q, r]) - float(limit))
        contrib = np.maximum(0.0, (d.transport_ugm3_per_kt[q, r] * e_kt).sum(axis=1))
        if exceed <= 0 or contrib.sum() <= 0:
            continue
        part = exceed * contrib / contrib.sum()
        part[[s for s, c in enumerate(d.cities) if c == d.receptors[r]]] = 0.0
        amount += part
    return amount / amount.sum() if amount.sum() > 0 else amount


def add_polluter_pays(m: pyo.ConcreteModel, inst: Instance, rules: list[Rule]) -> None:
    r"""Each city's share of the total cost at least ``f`` times its causal share.

    .. math::  \mathrm{cost}_s - f\,\mathrm{share}_s \sum_t \mathrm{cost}_t \ge 0

    ``share`` from :func:`causal_shares`. ``polluter_pays[n, s]`` (million CNY/yr).
    """
    d = inst.data
    share = causal_shares(inst)
    cost = list(m.city_cost.values())
    index, rows = [], []
    for n, rule in enumerate(rules):
        exprs = _relative_rows(m, cost, rule.params["min_fraction"] * share)
        for s in np.flatnonzero(share > 0):
            index.append((n, d.cities[s]))
            rows.append(exprs[s])
    add_rows(m, "polluter_pays", index, rows, lower=0.0,
             doc="cost share at least the given fraction of the causal share")


_FAMILIES = {"burden_band": add_burden_band, "equal_reduction": add_equal_reduction,
             "unified_standard": add_unified_standard, "gini": add_gini,
             "per_capita": add_per_capita, "polluter_pays": add_polluter_pays}
