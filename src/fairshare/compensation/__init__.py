"""Ecological compensation (生态补偿): who pays whom in joint control.

The cooperative cost game of a scenario's joint least-cost plan: players are cities or
groups of them; the characteristic cost ``c(S)`` is what coalition S would pay to meet
its own targets with its own measures; allocations (Shapley, nucleolus, least core,
proportional shares) share ``c(N)``; transfers settle the difference between each
player's allocation and what its measures cost in the joint plan. See
docs/compensation.md.

    import fairshare as fs
    comp = fs.compensate("scenarios/jjj-2030-least-cost.yaml", players="province",
                         methods=["shapley", "nucleolus", "proportional:gdp"])
    comp.allocation, comp.transfers, comp.coalitions, comp.summary

Modules: :mod:`.players` (who the players are), :mod:`.game` (coalition LPs in place),
:mod:`.evaluate` (many coalitions, on Dask, resumable), :mod:`.allocation` (the
allocation rules, pure), :mod:`.transfers` (payments), :mod:`.report` (tables, folder),
:mod:`.plots`.
"""

from fairshare.compensation.api import METHODS, Compensation, compensate, parse_methods
from fairshare.compensation.game import GameError

__all__ = ["METHODS", "Compensation", "GameError", "compensate", "parse_methods"]
