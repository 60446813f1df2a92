"""Robust plans over a transport ensemble (``transport: {robust: [low, central, high]}``).

A region may ship several estimates of its transport (a ``member`` column in transport.csv
and concentrations.csv): how far pollution travels is the most uncertain part of the
model. A robust plan is one plan (one set of measures, one cost) under which every
concentration and exposure target holds under **each** listed member: the union of the
members' target rows. The plan is built on the first member listed; every other member
adds its own concentrations and target rows (``aq_target_<member>``,
``exposure_target_<member>``), resolved on that member's baseline (each member has its
own, as the baseline is background plus transport of emissions). Emission caps and
fairness rules do not depend on transport and hold once.

The results say, per member, the concentrations, which targets are attained and where
each member binds (``receptors.csv`` gains a ``member`` column).
"""

from __future__ import annotations

from fairshare import families
from fairshare.model.air_quality import add_concentrations
from fairshare.model.periods import PeriodView

#: The rule families that read transport: their rows are repeated per member.
TRANSPORT_FAMILIES = (families.concentration, families.exposure)


def load_members(sc, year: int | None, resolve_on) -> tuple[dict, list]:
    """{member: instance} of the robust plan's other members, each resolved on its own
    region data (``resolve_on(data)`` -> (instance, problems)), and their problems."""
    from fairshare.data import load_region

    members, problems = {}, []
    for member in (sc.transport.robust or [])[1:]:
        data = load_region(sc.region, year, member)
        inst, found = resolve_on(data)
        members[member] = inst
        problems += [p for p in found if p not in problems]
    return members, problems


def add_member_rows(m, inst) -> None:
    """Each other member's concentrations and target rows, under its own names."""
    for member, other in inst.members.items():
        view = PeriodView(m, member)
        add_concentrations(view, other)
        for family in TRANSPORT_FAMILIES:
            items = other.of(family)
            if items or family is families.concentration:
                family.add_rows(view, other, items)


def member_views(m, inst) -> list[tuple[str | None, object, object]]:
    """(member, instance, the model as that member's rows see it) of every member of the
    plan: the main one first (its rows under the plain names)."""
    main = [(inst.data.member, inst, m)]
    return main + [(name, other, PeriodView(m, name)) for name, other in inst.members.items()]
