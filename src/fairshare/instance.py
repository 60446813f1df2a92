"""Scenario + region data (+ MTFR) -> an :class:`Instance`: every number the model needs.

Each entry of the scenario's ``targets`` and ``fairness`` is resolved by its rule family
(:mod:`fairshare.families`): ids become indices, limits become numbers. A scenario
naming a city, zone, metric or pollutant the region does not define gets one clear
problem per reference; likely-wrong values get a warning. The model code reads only
what is prepared here.

Data flow is one way: region data -> MTFR table (:mod:`fairshare.feasibility`, computed
on demand, for gap-closure targets and the report) -> instance -> model -> solve ->
results.

Model units: emissions and reductions in kt/yr, costs in million CNY/yr (``mcny``);
concentrations in µg/m³.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from fairshare import families
from fairshare.data import RegionData
from fairshare.errors import Problem, raise_if_errors
from fairshare.families.base import Resolver
from fairshare.families.concentration import AqTargets, merge
from fairshare.feasibility import MtfrTable
from fairshare.model.measures import removal_kt
from fairshare.spec import at_year
from fairshare.units import CNY_PER_MCNY, MCNY_PER_BN_CNY, T_PER_KT

__all__ = ["Instance", "build_instance", "T_PER_KT", "CNY_PER_MCNY", "MCNY_PER_BN_CNY"]


@dataclass
class Instance:
    data: RegionData
    scenario: object
    mtfr: MtfrTable
    items: dict[str, list] = field(default_factory=dict)  # family name -> resolved entries
    cost_method: str = "linear"  # "linear" | "qp" | "pwl" (see _cost_method)
    warnings: list[Problem] = field(default_factory=list)  # likely-wrong values
    timings: dict = field(default_factory=dict)  # seconds per stage, for summary.json
    members: dict = field(default_factory=dict)  # a robust plan's other transport members:
    #                                              name -> Instance of their target rows

    def of(self, family) -> list:
        """The resolved entries of one family (a module or its NAME), in scenario order."""
        return self.items.get(getattr(family, "NAME", family), [])

    @cached_property
    def aq(self) -> AqTargets:
        """The concentration-target rows: the tightest limit per (metric, receptor)."""
        return merge(self.of(families.concentration))

    @cached_property
    def removal_kt(self) -> np.ndarray:
        """[S, M, P] reduction at full application of each measure, kt/yr."""
        return removal_kt(self.data)

    @cached_property
    def kappa_mcny(self) -> np.ndarray:
        """[S, M] annual cost at full application, million CNY/yr (kappa of the docs)."""
        return self._per_tonne_mcny(self.data.cost_cny_per_t)

    def _per_tonne_mcny(self, cny_per_t: np.ndarray) -> np.ndarray:
        """[S, M] a per-tonne figure of each measure (CNY per t of its reference pollutant
        removed) times the tonnes it removes at full application, million CNY/yr."""
        d = self.data
        m = np.arange(len(d.measures))
        ref_removed_t = d.emission_t[:, d.measure_sector, d.measure_ref] * d.efficiency[m, d.measure_ref]
        return d.cost_factor[:, None] * cny_per_t[None, :] * ref_removed_t / CNY_PER_MCNY

    @cached_property
    def theta_mcny(self) -> np.ndarray:
        """[S, M] quadratic cost coefficient, million CNY/yr: cost = kappa x + 0.5 theta x^2.

        From measures.csv's ``theta_cny_per_t`` (scaled like kappa) when the column is
        there (a blank or 0 is a linear measure), else ``quadratic.theta_factor * kappa``;
        zero for ``cost_model: linear``.
        """
        d = self.data
        if getattr(self.scenario, "cost_model", "linear") != "quadratic":
            return np.zeros_like(self.kappa_mcny)
        if "theta_cny_per_t" in d.measure_table.columns:  # given: 0 or blank means linear
            return self._per_tonne_mcny(d.theta_cny_per_t)
        return float(self.scenario.quadratic.theta_factor) * self.kappa_mcny

    def measure_cost_mcny(self, x: np.ndarray) -> np.ndarray:
        """[S, M] annual cost of applying shares x (exact, quadratic term included)."""
        return self.kappa_mcny * x + 0.5 * self.theta_mcny * x ** 2

    @property
    def gdp_mcny(self) -> np.ndarray:
        return self.data.gdp_bn_cny * MCNY_PER_BN_CNY

    def variant(self, **keys) -> Instance:
        """The instance of ``scenario.variant(**keys)`` on the same data and MTFR tables
        (a robust plan's members too)."""
        scenario = self.scenario.variant(**keys)
        inst = build_instance(self.data, scenario, self.mtfr)
        inst.members = {name: build_instance(other.data, scenario, other.mtfr, keep=transport_only)
                        for name, other in self.members.items()}
        return inst


def build_instance(data: RegionData, scenario, mtfr: MtfrTable | None = None,
                   keep=lambda spec: True) -> Instance:
    """Resolve every entry of ``scenario`` on ``data``; raise InputError listing the problems.

    ``mtfr`` is the region's MTFR table (shared by the variants of one scenario); one is
    made when not given. ``keep`` as for :func:`resolve`.
    """
    inst, problems = resolve(data, scenario, mtfr, keep=keep)
    inst.warnings = raise_if_errors(problems)
    return inst


def resolve(data: RegionData, scenario, mtfr: MtfrTable | None = None,
            year: int | None = None, warn: bool = True,
            keep=lambda spec: True) -> tuple[Instance, list[Problem]]:
    """The instance and every problem and warning of resolving ``scenario`` on ``data``
    (:func:`fairshare.api.prepare` gathers them with the problems of other stages).

    Values given by year take their value in ``year`` (default: the data's year); an
    entry whose values by year do not name it does not apply that year. ``warn=False``
    leaves out the warnings about likely-wrong values (a roadmap warns once, not per year);
    ``keep(spec)`` selects the entries resolved (a roadmap resolves the rules held over its
    horizon apart from those held each year).
    """
    mtfr = mtfr if mtfr is not None else MtfrTable(data)
    year = data.year if year is None else year
    ctx = Resolver(data, scenario, mtfr)
    inst = Instance(data=data, scenario=scenario, mtfr=mtfr,
                    items={f.NAME: [] for f in families.FAMILIES})
    for where, spec in _entries(scenario):
        if not keep(spec):
            continue
        family = families.family_of(spec)
        for message in getattr(family, "warnings", lambda s, w: [])(spec, where) if warn else []:
            ctx.warn(where, message)
        spec_in_year = at_year(spec, year)
        if spec_in_year is None:
            _not_this_year(ctx, where, spec, year, roadmap=bool(getattr(scenario, "years", None)))
            continue
        item = family.resolve(spec_in_year, ctx, where)
        if item is not None:
            inst.items[family.NAME].append(item)
    inst.cost_method = _cost_method(ctx, inst, scenario)
    return inst, ctx.problems


def transport_only(spec) -> bool:
    """The entries a robust plan repeats for each transport member (they read transport)."""
    return families.family_of(spec) in (families.concentration, families.exposure)


def _not_this_year(ctx: Resolver, where: str, spec, year: int | None, roadmap: bool) -> None:
    """An entry with values by year that do not name ``year``: a roadmap leaves it out of
    that year; a one-year plan says why the entry does nothing."""
    if roadmap:
        return
    if year is None:
        ctx.problem(where, "gives values by year, but the scenario names no year: set year: "
                           "(or years: for a roadmap)")
    else:
        ctx.warn(where, f"gives values by year but none for {year}: it does not apply")


def _entries(scenario):
    entries = getattr(scenario, "entries", None)
    if entries is not None:
        return entries()
    return ([(f"targets[{i}]", t) for i, t in enumerate(scenario.targets)]
            + [(f"fairness[{i}]", r) for i, r in enumerate(scenario.fairness)])


QP_MAX_COLUMNS = 3000  # HiGHS's QP solver stalls at hundreds of cities


def costs_are_constrained(inst: Instance, scenario) -> bool:
    """True when a rule (a family with ``CONSTRAINS_COSTS``) or the objective uses city
    costs beyond their sum."""
    return (any(inst.of(f) for f in families.FAMILIES if getattr(f, "CONSTRAINS_COSTS", False))
            or not scenario.objective.is_plain_cost)


def _cost_method(ctx: Resolver, inst: Instance, scenario) -> str:
    """linear, or for quadratic costs the exact QP where it solves, else a PWL LP."""
    if scenario.cost_model != "quadratic":
        return "linear"
    method = scenario.quadratic.method
    constrained = costs_are_constrained(inst, scenario)
    if method == "qp" and constrained:
        ctx.problem("quadratic.method", "the exact QP keeps city costs out of the constraints, "
                                        "so it cannot be combined with fairness rules or "
                                        "objectives on costs; use method: pwl (or auto)")
    if method != "auto":
        return method
    return "pwl" if constrained or inst.data.max_application.size > QP_MAX_COLUMNS else "qp"
