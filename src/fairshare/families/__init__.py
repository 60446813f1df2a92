"""The rule families: one module per kind of scenario entry (see :mod:`.base`).

Targets (``targets:`` in the scenario) come first, then the fairness rules
(``fairness:``); the order is the order of the model's rows and of the messages that
list the rules. To add a rule, write its module and list it here.
"""

from __future__ import annotations

from fairshare.families import (ability_to_pay, burden_band, burden_cap, concentration,
                                emission_cap, equal_reduction, exposure, gini, per_capita,
                                polluter_pays, unified_standard)

# Targets are told apart by their marker key, tried in this order (an exposure entry has
# a metric too, so exposure comes before concentration).
TARGETS = (emission_cap, exposure, concentration)
RULES = (burden_cap, burden_band, equal_reduction, unified_standard, ability_to_pay, gini,
         per_capita, polluter_pays)
FAMILIES = TARGETS + RULES
BY_NAME = {f.NAME: f for f in FAMILIES}
SWEEPS = {f.SWEEP.name: f.SWEEP for f in FAMILIES if getattr(f, "SWEEP", None) is not None}


def family_of(spec):
    """The family module of a scenario entry (a target or a fairness rule)."""
    return BY_NAME[getattr(spec, "rule", None) or spec.kind]


def owner_of_component(name: str):
    """The family whose rule rows live in model component ``name`` (None: a hard row)."""
    return next((f for f in FAMILIES if name in f.ROWS), None)
