"""The Pyomo model of DESIGN §2, one constraint family per module.

:func:`build_model` reads like the model's table of contents. Every family reads
prepared arrays from an :class:`~fairshare.instance.Instance`, never files.

Named components a planner can read and constrain (units in the docstrings):
``application[s, m]``, ``reduction[s, p]`` (kt/yr), ``city_cost[s]`` (million CNY/yr),
``concentration[q, r]`` (µg/m³), ``aq_target``, ``exposure_target``,
``emission_cap``, one family per fairness rule (``burden_cap``, ``burden_band``,
``equal_reduction``, ``unified_standard``, ``ability_to_pay``, ``gini_bound``,
``per_capita``, ``polluter_pays``), ``exclusivity``, ``removal_limit`` and the
objective ``total_cost``. ``dual`` holds the duals after :func:`fairshare.solve`.
"""

from __future__ import annotations

import pyomo.core as pyo

from fairshare.instance import Instance
from fairshare.model.air_quality import add_air_quality
from fairshare.model.costs import add_costs
from fairshare.model.emissions import add_emission_caps, add_reductions
from fairshare.model.fairness import add_fairness
from fairshare.model.measures import add_measures
from fairshare.model.objective import add_objective

COST_UNIT = "million CNY/yr"


def build_model(inst: Instance) -> pyo.ConcreteModel:
    """The least-cost (and fair-share) LP of one scenario as a Pyomo ConcreteModel."""
    m = pyo.ConcreteModel(name=str(getattr(inst.scenario, "name", "fairshare")))
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    add_measures(m, inst)          # application, exclusivity, removal_limit
    add_reductions(m, inst)        # reduction, reduction_def
    add_costs(m, inst)             # city_cost, cost_def
    add_air_quality(m, inst)       # concentration, aq_target, exposure_target
    add_emission_caps(m, inst)     # emission_cap
    add_fairness(m, inst)          # burden_cap, ability_to_pay, burden_band, equal_reduction,
                                   # unified_standard, gini_*, per_capita, polluter_pays
    add_objective(m, inst)         # total_cost (and max_burden, penalty rows)
    m._fairshare_instance = inst
    return m
