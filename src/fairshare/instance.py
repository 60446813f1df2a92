"""Scenario + region data -> an :class:`Instance`: every number the model needs.

This is where targets, caps and rules are resolved against the region (which
receptors, which limit in µg/m³, which cities) and checked: a scenario naming a
city, zone, metric or pollutant the region does not define gets one clear
problem per reference. The model code reads only the arrays prepared here.

Model units: emissions and reductions in kt/yr, costs in million CNY/yr
(``mcny``); concentrations in µg/m³.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from fairshare.data import RegionData
from fairshare.errors import Problem, raise_if_errors

T_PER_KT = 1000.0
CNY_PER_MCNY = 1e6
MCNY_PER_BN_CNY = 1000.0


@dataclass
class AqTargets:
    """Concentration limits, one row per (metric, receptor): the tightest target given."""

    metric: np.ndarray      # [n] index into data.metrics
    receptor: np.ndarray    # [n] index into data.receptors
    limit_ugm3: np.ndarray  # [n]
    source: list[str]       # [n] which scenario entry set the limit, e.g. "targets[0]"


@dataclass
class ExposureTarget:
    metric: int
    weight: np.ndarray      # [R] population share of each receptor (sums to 1 over those chosen)
    limit_ugm3: float
    label: str


@dataclass
class EmissionCap:
    pollutant: int
    cities: np.ndarray      # [S] bool
    cap_kt: float           # post-control emissions of the zone must be <= cap_kt
    label: str


@dataclass
class CostCap:
    """burden_cap and ability_to_pay: cost[s] <= share[s] * GDP[s] where share[s] is given."""

    kind: str               # "burden_cap" | "ability_to_pay"
    share_of_gdp: np.ndarray  # [S] max cost/GDP, nan where the rule does not apply
    label: str

    @property
    def cities(self) -> np.ndarray:
        return ~np.isnan(self.share_of_gdp)


@dataclass
class Rule:
    """Any other fairness rule, resolved: ``kind`` is the scenario's rule name and
    ``params`` its numbers with region ids turned into indices or masks."""

    kind: str
    label: str
    params: dict


@dataclass
class Instance:
    data: RegionData
    scenario: object
    aq: AqTargets
    exposure: list[ExposureTarget] = field(default_factory=list)
    caps: list[EmissionCap] = field(default_factory=list)
    cost_caps: list[CostCap] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    cost_method: str = "linear"  # "linear" | "qp" | "pwl" (see _cost_method)
    timings: dict = field(default_factory=dict)  # seconds per stage, for summary.json
    _mtfr: dict = field(default_factory=dict, repr=False)  # (q, r) -> MTFR µg/m³

    @cached_property
    def removal_kt(self) -> np.ndarray:
        """[S, M, P] reduction at full application of each measure, kt/yr."""
        d = self.data
        e_kt = d.emission_t[:, d.measure_sector, :] / T_PER_KT  # [S, M, P]
        return e_kt * d.efficiency[None, :, :]

    @cached_property
    def kappa_mcny(self) -> np.ndarray:
        """[S, M] annual cost at full application, million CNY/yr (DESIGN §2 kappa)."""
        d = self.data
        m = np.arange(len(d.measures))
        ref_removed_t = d.emission_t[:, d.measure_sector, d.measure_ref] * d.efficiency[m, d.measure_ref]
        return d.cost_factor[:, None] * d.cost_cny_per_t[None, :] * ref_removed_t / CNY_PER_MCNY

    @cached_property
    def theta_mcny(self) -> np.ndarray:
        """[S, M] quadratic cost coefficient, million CNY/yr: cost = kappa x + 0.5 theta x^2.

        From measures.csv's ``theta_cny_per_t`` (scaled like kappa) where given, else
        ``quadratic.theta_factor * kappa``; zero for ``cost_model: linear``.
        """
        d = self.data
        if getattr(self.scenario, "cost_model", "linear") != "quadratic":
            return np.zeros_like(self.kappa_mcny)
        if np.any(d.theta_cny_per_t > 0):
            return self.kappa_mcny * (d.theta_cny_per_t / np.where(d.cost_cny_per_t > 0,
                                                                   d.cost_cny_per_t, 1.0))[None, :]
        return float(self.scenario.quadratic.theta_factor) * self.kappa_mcny

    def measure_cost_mcny(self, x: np.ndarray) -> np.ndarray:
        """[S, M] annual cost of applying shares x (exact, quadratic term included)."""
        return self.kappa_mcny * x + 0.5 * self.theta_mcny * x ** 2

    @property
    def gdp_mcny(self) -> np.ndarray:
        return self.data.gdp_bn_cny * MCNY_PER_BN_CNY

    def mtfr(self, metric, receptor) -> np.ndarray:
        """MTFR (µg/m³) of the (metric[i], receptor[i]) pairs, computed once per pair."""
        from fairshare.feasibility import compute_mtfr

        metric, receptor = np.asarray(metric, dtype=int), np.asarray(receptor, dtype=int)
        missing = [i for i, key in enumerate(zip(metric.tolist(), receptor.tolist()))
                   if key not in self._mtfr]
        if missing:
            values = compute_mtfr(self, metric[missing], receptor[missing])
            self._mtfr.update(zip(zip(metric[missing].tolist(), receptor[missing].tolist()),
                                  values.tolist()))
        return np.array([self._mtfr[k] for k in zip(metric.tolist(), receptor.tolist())])

    @property
    def mtfr_ugm3(self) -> np.ndarray:
        """[Q, R] lowest concentration reachable with every measure at its limit."""
        Q, R = len(self.data.metrics), len(self.data.receptors)
        q, r = np.meshgrid(np.arange(Q), np.arange(R), indexing="ij")
        return self.mtfr(q.ravel(), r.ravel()).reshape(Q, R)

    def mtfr_is_cheap(self, n_pairs: int) -> bool:
        from fairshare.feasibility import REPORT_BUDGET
        return n_pairs * self.data.max_application.size <= REPORT_BUDGET


# --- resolving the scenario ---------------------------------------------------------------

def _hint(name: str, choices) -> str:
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


class _Resolver:
    """Collects problems while resolving scenario references against the region."""

    def __init__(self, data: RegionData, scenario):
        self.data = data
        self.sc = scenario
        self.file = str(getattr(scenario, "source_file", None) or "scenario")
        self.problems: list[Problem] = []

    def problem(self, where: str, message: str) -> None:
        locate = getattr(self.sc, "locate", None)
        file, line = locate(where) if locate else (self.file, None)
        self.problems.append(Problem(file, message, row=line, column=where))

    def index(self, where: str, kind: str, value: str, choices: tuple[str, ...]) -> int | None:
        if value in choices:
            return choices.index(value)
        self.problem(where, f"{kind} '{value}' is not defined by region '{self.data.name}' "
                            f"(known: {', '.join(choices[:12])}{' ...' if len(choices) > 12 else ''})"
                            f"{_hint(value, choices)}")
        return None

    def metric(self, where: str, metric: str) -> int | None:
        q = self.index(where + ".metric", "metric", metric, self.data.metrics)
        if q is not None and not np.any(self.data.transport_ugm3_per_kt[q]):
            self.problem(where + ".metric", f"the transport table has no coefficients for metric "
                                            f"'{metric}': a target on it cannot be planned")
            return None
        return q

    def receptors(self, where: str, receptors) -> np.ndarray | None:
        if receptors in (None, "all"):
            return np.arange(len(self.data.receptors))
        idx = [self.index(f"{where}.receptors[{i}]", "receptor", r, self.data.receptors)
               for i, r in enumerate(receptors)]
        return None if any(i is None for i in idx) else np.array(idx, dtype=int)

    def cities(self, where: str, cities) -> np.ndarray | None:
        if cities in (None, "all"):
            return np.ones(len(self.data.cities), dtype=bool)
        idx = [self.index(f"{where}.cities[{i}]", "city", c, self.data.cities)
               for i, c in enumerate(cities)]
        if any(i is None for i in idx):
            return None
        mask = np.zeros(len(self.data.cities), dtype=bool)
        mask[idx] = True
        return mask

    def zone(self, where: str, zone: str) -> np.ndarray | None:
        if zone == "all":
            return self.data.zone_mask("all")
        zones = tuple(dict.fromkeys(self.data.zone))
        return None if self.index(where, "zone", zone, zones) is None else self.data.zone_mask(zone)


def build_instance(data: RegionData, scenario) -> Instance:
    """Resolve every target and rule of ``scenario`` on ``data``; raise InputError on problems."""
    res = _Resolver(data, scenario)
    inst = Instance(data=data, scenario=scenario, aq=AqTargets(np.zeros(0, int), np.zeros(0, int),
                                                               np.zeros(0), []))
    limits: dict[tuple[int, int], tuple[float, str]] = {}
    for i, t in enumerate(scenario.targets):
        where = f"targets[{i}]"
        if getattr(t, "emission_cap", None) is not None:
            _resolve_cap(res, inst, t, where)
        elif getattr(t, "exposure", None) is not None:
            _resolve_exposure(res, inst, t, where)
        else:
            _resolve_concentration(res, inst, t, where, limits)
    for i, rule in enumerate(scenario.fairness):
        _resolve_fairness(res, inst, rule, f"fairness[{i}]")
    inst.cost_method = _cost_method(res, inst, scenario)
    raise_if_errors(res.problems)
    keys = sorted(limits)
    inst.aq = AqTargets(metric=np.array([k[0] for k in keys], dtype=int),
                        receptor=np.array([k[1] for k in keys], dtype=int),
                        limit_ugm3=np.array([limits[k][0] for k in keys]),
                        source=[limits[k][1] for k in keys])
    return inst


def _resolve_concentration(res: _Resolver, inst: Instance, t, where: str, limits: dict) -> None:
    q = res.metric(where, t.metric)
    rec = res.receptors(where, t.receptors)
    if q is None or rec is None:
        return
    c0 = inst.data.baseline_ugm3[q, rec]
    missing = np.isnan(c0)
    if missing.any():
        names = [inst.data.receptors[r] for r in rec[missing][:5]]
        res.problem(where, f"no baseline concentration of {t.metric} for receptor(s) "
                           f"{', '.join(names)}: add them to concentrations.csv")
        return
    if getattr(t, "max_ugm3", None) is not None:
        lim = np.full(len(rec), float(t.max_ugm3))
    elif getattr(t, "reduction_pct", None) is not None:
        lim = c0 * (1 - float(t.reduction_pct) / 100)
    else:
        mtfr = inst.mtfr(np.full(len(rec), q), rec)
        lim = c0 - float(t.gap_closure) * (c0 - mtfr)
    for r, value in zip(rec, lim):
        key = (q, int(r))
        if key not in limits or value < limits[key][0]:
            limits[key] = (float(value), where)


def _resolve_exposure(res: _Resolver, inst: Instance, t, where: str) -> None:
    q = res.metric(where, t.metric)
    rec = res.receptors(where, getattr(t, "receptors", "all"))
    if q is None or rec is None:
        return
    pop = np.zeros(len(inst.data.receptors))
    pop[rec] = inst.data.receptor_population[rec]
    if pop.sum() <= 0:
        res.problem(where, "the chosen receptors have no population to weight exposure by")
        return
    if np.isnan(inst.data.baseline_ugm3[q, rec]).any():
        res.problem(where, f"some receptors have no baseline concentration of {t.metric}")
        return
    inst.exposure.append(ExposureTarget(q, pop / pop.sum(), float(t.max_ugm3), where))


def _resolve_cap(res: _Resolver, inst: Instance, t, where: str) -> None:
    p = res.index(where + ".emission_cap", "pollutant", t.emission_cap, inst.data.pollutants)
    cities = res.zone(where + ".zone", t.zone)
    if p is None or cities is None:
        return
    base_kt = inst.data.emission_city_t[cities, p].sum() / T_PER_KT
    if getattr(t, "max_t", None) is not None:
        cap_kt = float(t.max_t) / T_PER_KT
    else:
        cap_kt = base_kt * (1 - float(t.reduction_pct) / 100)
    inst.caps.append(EmissionCap(p, cities, cap_kt, where))


def _resolve_fairness(res: _Resolver, inst: Instance, rule, where: str) -> None:
    resolve = _FAIRNESS.get(rule.rule)
    if resolve is None:
        res.problem(where + ".rule", f"fairness rule '{rule.rule}' is not available in this "
                                     f"version of fairshare (available: {', '.join(_FAIRNESS)})")
        return
    resolve(res, inst, rule, where)


def _burden_cap(res: _Resolver, inst: Instance, rule, where: str) -> None:
    cities = res.cities(where, rule.cities)
    if cities is not None:
        share = np.where(cities, float(rule.max_share_of_gdp), np.nan)
        inst.cost_caps.append(CostCap("burden_cap", share, where))


def _ability_to_pay(res: _Resolver, inst: Instance, rule, where: str) -> None:
    cities = res.cities(where, rule.cities)
    if cities is None:
        return
    if rule.max_share_of_gdp is not None:
        share = np.full(len(cities), float(rule.max_share_of_gdp))
    else:  # the first class whose upper end is at least the city's GDP per person
        gdp_pc = inst.data.gdp_bn_cny * 1e9 / inst.data.population
        share = np.full(len(cities), np.nan)
        for c in reversed(rule.classes):
            top = np.inf if c.max_gdp_per_capita_cny is None else float(c.max_gdp_per_capita_cny)
            share = np.where(gdp_pc <= top, float(c.max_share_of_gdp), share)
    inst.cost_caps.append(CostCap("ability_to_pay", np.where(cities, share, np.nan), where))


def _burden_band(res, inst, rule, where) -> None:
    inst.rules.append(Rule("burden_band", where, {"width": float(rule.width)}))


def _equal_reduction(res, inst, rule, where) -> None:
    p = res.index(where + ".pollutant", "pollutant", rule.pollutant, inst.data.pollutants)
    if p is not None:
        inst.rules.append(Rule("equal_reduction", where, {
            "pollutant": p, "min_pct": rule.min_pct, "band_pct": rule.band_pct}))


def _unified_standard(res, inst, rule, where) -> None:
    d = inst.data
    cities = res.zone(where + ".zone", rule.zone)
    if rule.by_measure:
        m = res.index(where + ".measure", "measure", rule.measure, d.measures)
        if cities is not None and m is not None:
            inst.rules.append(Rule("unified_standard", where, {
                "cities": cities, "measure": m, "min_application": float(rule.min_application)}))
        return
    k = res.index(where + ".sector", "sector", rule.sector, d.sectors)
    p = res.index(where + ".pollutant", "pollutant", rule.pollutant, d.pollutants)
    if cities is not None and k is not None and p is not None:
        inst.rules.append(Rule("unified_standard", where, {
            "cities": cities, "sector": k, "pollutant": p, "min_removal": float(rule.min_removal)}))


def _gini(res, inst, rule, where) -> None:
    inst.rules.append(Rule("gini", where, {"of": rule.of, "max": float(rule.max)}))


def _per_capita(res, inst, rule, where) -> None:
    p = res.index(where + ".pollutant", "pollutant", rule.pollutant, inst.data.pollutants)
    if p is not None:
        inst.rules.append(Rule("per_capita", where, {
            "pollutant": p, "band_t_per_person": float(rule.band_t_per_person)}))


def _polluter_pays(res, inst, rule, where) -> None:
    inst.rules.append(Rule("polluter_pays", where, {"min_fraction": float(rule.min_fraction)}))


_FAIRNESS = {"burden_cap": _burden_cap, "ability_to_pay": _ability_to_pay,
             "burden_band": _burden_band, "equal_reduction": _equal_reduction,
             "unified_standard": _unified_standard, "gini": _gini, "per_capita": _per_capita,
             "polluter_pays": _polluter_pays}


QP_MAX_COLUMNS = 3000  # HiGHS's QP solver stalls at hundreds of cities (PERF-NOTES)
COST_RULES = ("burden_band", "gini", "polluter_pays")


def costs_are_constrained(inst: Instance, scenario) -> bool:
    """True when a rule or the objective uses city costs beyond their sum."""
    obj = scenario.objective
    return bool(inst.cost_caps or any(r.kind in COST_RULES for r in inst.rules)
                or obj.kind != "min_cost" or obj.fairness_weight)


def _cost_method(res: _Resolver, inst: Instance, scenario) -> str:
    """linear, or for quadratic costs the exact QP where it solves, else a PWL LP."""
    if scenario.cost_model != "quadratic":
        return "linear"
    method = scenario.quadratic.method
    constrained = costs_are_constrained(inst, scenario)
    if method == "qp" and constrained:
        res.problem("quadratic.method", "the exact QP keeps city costs out of the constraints, "
                                        "so it cannot be combined with fairness rules or "
                                        "objectives on costs; use method: pwl (or auto)")
    if method != "auto":
        return method
    return "pwl" if constrained or inst.data.max_application.size > QP_MAX_COLUMNS else "qp"
