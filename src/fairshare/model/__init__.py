"""The Pyomo model, one family of rows per module.

:func:`build_model` reads like the model's table of contents: the physics first
(measures, reductions, costs, concentrations), then every target and fairness rule of
the scenario, each by its rule family (:mod:`fairshare.families`, one module per family
with its maths), then the objective. Every family reads prepared arrays from an
:class:`~fairshare.instance.Instance`, never files.

Named components a planner can read and constrain (units in the docstrings):
``application[s, m]``, ``reduction[s, p]`` (kt/yr), ``city_cost[s]`` (million CNY/yr),
``concentration[q, r]`` (µg/m³), the rule families' rows (``aq_target``,
``exposure_target``, ``emission_cap``, ``burden_cap``, ``burden_band``,
``equal_reduction``, ``unified_standard``, ``ability_to_pay``, ``gini_bound``,
``per_capita``, ``polluter_pays``), ``exclusivity``, ``removal_limit`` and the objective
``total_cost``. ``dual`` holds the duals after :func:`fairshare.solve`.
"""

from __future__ import annotations

import pyomo.core as pyo

from fairshare import families
from fairshare.ensemble import add_member_rows
from fairshare.model.air_quality import add_concentrations
from fairshare.model.costs import add_costs
from fairshare.model.emissions import add_reductions
from fairshare.model.measures import add_measures
from fairshare.model.objective import add_objective

COST_UNIT = "million CNY/yr"


def build_model(inst) -> pyo.ConcreteModel:
    """The least-cost (and fair-share) LP of one scenario as a Pyomo ConcreteModel."""
    m = pyo.ConcreteModel(name=str(getattr(inst.scenario, "name", "fairshare")))
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    add_measures(m, inst)          # application, exclusivity, removal_limit
    add_reductions(m, inst)        # reduction, reduction_def
    add_costs(m, inst)             # city_cost, cost_def (and the QP or PWL cost terms)
    add_concentrations(m, inst)    # concentration
    add_rules(m, inst)             # aq_target, exposure_target, emission_cap, burden_cap, ...
    add_member_rows(m, inst)       # a robust plan: aq_target_<member>, ... (fairshare.ensemble)
    add_objective(m, inst)         # total_cost (and max_burden, penalty rows)
    m._fairshare_instance = inst
    return m


def add_rules(m: pyo.ConcreteModel, inst, empty_aq_target: bool = True) -> None:
    """The rows of every target and fairness rule, one rule family at a time
    (:data:`fairshare.families.FAMILIES`); concentration targets always get their
    (possibly empty) ``aq_target`` block, which sweeps and reports read (unless
    ``empty_aq_target=False``: a roadmap's rules over the horizon have no concentrations)."""
    for family in families.FAMILIES:
        items = inst.of(family)
        if items or (family is families.concentration and empty_aq_target):
            family.add_rows(m, inst, items)
