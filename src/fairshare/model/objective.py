"""The objective."""

from __future__ import annotations

import pyomo.environ as pyo

from fairshare.instance import Instance


def add_objective(m: pyo.ConcreteModel, inst: Instance) -> None:
    r"""Least total cost: ``total_cost = sum_s city_cost[s]`` (million CNY/yr), minimised."""
    m.total_cost = pyo.Objective(expr=sum(m.city_cost.values()), sense=pyo.minimize,
                                 doc="total annual cost, million CNY/yr")
