r"""Polluter pays: each city's share of the total cost at least a fraction of its causal share.

In the scenario file::

    fairness:
      - {rule: polluter_pays, min_fraction: 0.5}

.. math::  \mathrm{cost}_s - f\,\mathrm{share}_s \sum_t \mathrm{cost}_t \ge 0

=========================  ==========================================================
``share[s]``               city s's share of the pollution it causes in *other* cities'
                           baseline exceedances of their targets (sums to 1; see
                           :func:`causal_shares`)
``f``                      ``min_fraction``, 0..1
``polluter_pays[n, s]``    entry n, city s (million CNY/yr), for cities with a share
=========================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from fairshare.families.base import Entry, Relaxation, entry_report, relative_matrix, relaxation
from fairshare.units import T_PER_KT
from fairshare.spec import Spec as _Spec, by_year

NAME = "polluter_pays"
SECTION = "fairness"
ROWS = ("polluter_pays",)
CONSTRAINS_COSTS = True  # reads city costs: the exact QP cannot hold it (see instance)


class PolluterPays(_Spec):
    """Polluter pays: ``cost[s]/total cost >= min_fraction * share[s]``.

    ``share[s]`` is city s's share of the pollution it causes in other cities'
    exceedances of their targets (a fraction summing to 1 over cities).
    """

    rule: Literal["polluter_pays"]
    min_fraction: by_year(ge=0, le=1) = Field(description="fraction of the causal share each city must at least pay, 0..1")


Spec = PolluterPays  # the family's entry as written in the scenario file


@dataclass
class Item(Entry):
    min_fraction: float


def resolve(spec: PolluterPays, ctx, where: str) -> Item:
    return Item(where, spec, float(spec.min_fraction))


def causal_shares(inst) -> np.ndarray:
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


def add_rows(m, inst, items: list[Item]) -> None:
    """``polluter_pays[n, s]``: the city's cost at least ``f share_s`` of the total."""
    from fairshare.model._linear import add_rows as add, linear_rows

    d = inst.data
    share = causal_shares(inst)
    cost = list(m.city_cost.values())
    index, rows = [], []
    for n, item in enumerate(items):
        exprs = linear_rows(relative_matrix(item.min_fraction * share), cost)
        for s in np.flatnonzero(share > 0):
            index.append((n, d.cities[s]))
            rows.append(exprs[s])
    add(m, "polluter_pays", index, rows, lower=0.0,
        doc="cost share at least the given fraction of the causal share")


def explain(inst, m, items: list[Item], key, excess: float) -> Relaxation:
    n, city = key
    item, s = items[n], inst.data.cities.index(city)
    share = causal_shares(inst)[s]
    total = sum(c.value or 0.0 for c in m.city_cost.values())
    paid = (m.city_cost[city].value or 0.0) / total if total > 0 else 0.0
    needed = paid / share if share > 0 else 0.0
    fix = (f"{city} pays {100 * paid:.3g}% of the total cost against a causal share of "
           f"{100 * share:.3g}%; lower min_fraction from {item.min_fraction:g} to at most "
           f"{needed:.4g}")
    return relaxation(inst, item.where, NAME, city, item.min_fraction - needed,
                      "fraction of the causal share", item.min_fraction, needed, fix)


def report(inst, m, items: list[Item]) -> list[dict]:
    rows = entry_report(NAME, items, m, "polluter_pays")
    if not causal_shares(inst).any():
        for row in rows:
            row["note"] = ("no targeted receptor exceeds its target at baseline, so no city has "
                           "a causal share: the rule asks nothing")
    return rows
