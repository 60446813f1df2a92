"""What a rule family is, and what its modules share.

A rule family is one kind of scenario entry — a target kind (``concentration``,
``exposure``, ``emission_cap``) or a fairness rule (``rule: burden_cap`` ...) — and
lives in one module of :mod:`fairshare.families` that holds everything about it, as
Switch keeps a policy's define/load/post-solve together:

==================================  ===================================================
``NAME``                            the kind: a fairness rule's ``rule:`` value, or the
                                    target kind
``SECTION``                         ``"targets"`` or ``"fairness"``
``Spec``                            the pydantic model of one entry as written in the file
``resolve(spec, ctx, where)``       the entry on the region's arrays (ids to indices);
                                    problems go to ``ctx`` (a :class:`Resolver`); returns
                                    an :class:`Entry` or None
``add_rows(m, inst, items)``        the Pyomo rows of every entry of the family; the
                                    docstring holds the maths and a symbol table
``ROWS``                            the components holding the rule's rows: what an
                                    infeasible scenario may relax (rows that define a
                                    quantity stay hard)
``explain(inst, m, items, key, excess)``  a relaxed row of the elastic solve in the rule's
                                    own unit and what would make it hold (a
                                    :class:`Relaxation`; ``m`` holds the least-violation
                                    plan)
``report(inst, m, items)``          after an optimal solve: one dict per entry saying
                                    whether it binds, where, at what marginal cost
``warnings(spec, where)``           (optional) likely-wrong values, as sentences
``CONSTRAINS_COSTS``                (optional) True when the rule reads city costs beyond
                                    their sum; the exact QP of quadratic costs keeps the
                                    quadratic part in the objective only, so such a rule
                                    makes ``method: auto`` use the piecewise-linear LP
``SWEEP``                           (optional) the bound a Pareto front moves (a
                                    :class:`Sweep`)
==================================  ===================================================

A newcomer adds a rule by writing one such module and listing it in
:data:`fairshare.families.FAMILIES`.

Model units: emissions in kt/yr, costs in million CNY/yr, concentrations in µg/m³.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from fairshare.errors import Problem, did_you_mean
from fairshare.units import BP

if TYPE_CHECKING:  # pragma: no cover
    from fairshare.data import RegionData
    from fairshare.feasibility import MtfrTable
    from fairshare.instance import Instance

DUAL_TOL = 1e-9  # |dual| below this (model units) counts as not binding


@dataclass
class Entry:
    """One scenario entry resolved on the region; each family adds its own fields."""

    where: str  # the entry's key path in the scenario, e.g. "fairness[2]"
    spec: Any   # the entry as written (the family's Spec)


@dataclass
class Relaxation:
    """How far one row of a rule had to give in the least-violation plan, in the rule's unit.

    ``now`` is the bound the scenario states and ``needed`` the bound that would hold in
    that plan; ``fix`` says it as an edit of the scenario file.
    """

    entry: str        # e.g. "fairness[0]"
    rule: str         # the family's NAME
    subject: str      # which city, receptor or zone, e.g. "anyang"
    amount: float     # by how much, in ``unit``
    unit: str
    now: float | None
    needed: float | None
    fix: str
    file: str = ""
    line: int | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("entry", "rule", "subject", "amount", "unit",
                                              "now", "needed", "fix", "file", "line")}

    def __str__(self) -> str:
        where = f"{self.entry} ({self.rule})"
        if self.file:
            where += f" in {self.file}" + (f", line {self.line}" if self.line else "")
        return f"{where}, {self.subject}: {self.fix}"


@dataclass(frozen=True)
class Sweep:
    """The bound a Pareto front moves, owned by the family whose rule holds it.

    ``loose`` is the entry appended to the scenario with its bound loose (None: the sweep
    moves the scenario's own entries); ``set(solver, inst, value)`` moves the bound of a
    :class:`fairshare.solver.PersistentSolve` to ``value``. The front runs from
    ``start(first)`` — by default the value of ``column`` in the first, loose point (the
    least-cost plan) — to ``end(inst)``.
    """

    name: str
    family: str
    column: str
    loose: dict | None
    set: Callable[[Any, "Instance", float], None]
    end: Callable[["Instance"], float] = field(default=lambda inst: 0.0)
    start: Callable[[dict], float] | None = None


class Resolver:
    """Resolves scenario references against the region; collects problems and warnings."""

    def __init__(self, data: "RegionData", scenario, mtfr: "MtfrTable"):
        self.data = data
        self.sc = scenario
        self.mtfr = mtfr
        self.problems: list[Problem] = []

    def problem(self, where: str, message: str, severity: str = "error") -> None:
        file, line = locate(self.sc, where)
        self.problems.append(Problem(file, message, row=line, column=where, severity=severity))

    def warn(self, where: str, message: str) -> None:
        self.problem(where, message, severity="warning")

    def index(self, where: str, kind: str, value: str, choices: tuple[str, ...]) -> int | None:
        if value in choices:
            return choices.index(value)
        known = ", ".join(choices[:12]) + (" ..." if len(choices) > 12 else "")
        self.problem(where, f"{kind} '{value}' is not defined by region '{self.data.name}' "
                            f"(known: {known or 'none'}){did_you_mean(value, choices)}")
        return None

    def pollutant(self, where: str, pollutant: str) -> int | None:
        return self.index(where, "pollutant", pollutant, self.data.pollutants)

    def metric(self, where: str, metric: str) -> int | None:
        if not self.data.metrics:
            self.problem(where + ".metric", f"region '{self.data.name}' has no air-quality "
                                            "metrics (no transport or concentrations table): "
                                            "plan it with emission caps only")
            return None
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
        """[S] bool mask of the listed cities ("all": every city)."""
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


def locate(scenario, where: str) -> tuple[str, int | None]:
    """File and line of a scenario key path (the scenario's own ``locate``, if it has one)."""
    finder = getattr(scenario, "locate", None)
    if finder is not None:
        return finder(where)
    return str(getattr(scenario, "source_file", None) or "scenario"), None


def relaxation(inst: "Instance", entry: str, rule: str, subject: str, amount: float, unit: str,
               now: float | None, needed: float | None, fix: str) -> Relaxation:
    file, line = locate(inst.scenario, entry)
    return Relaxation(entry, rule, subject, float(amount), unit,
                      None if now is None else float(now),
                      None if needed is None else float(needed), fix, file, line)


# --- rows shared by several families ----------------------------------------------------


def relative_matrix(weight: np.ndarray) -> np.ndarray:
    """[S, S] rows ``v_s - weight_s * sum_t v_t``: a city against the region."""
    S = len(weight)
    return np.eye(S) - weight[:, None] * np.ones((1, S))


def duals(m, component: str) -> dict:
    """{index: dual} of a constraint component (d objective / d bound, model units)."""
    con = getattr(m, component, None)
    if con is None:
        return {}
    return {key: float(m.dual.get(con[key], 0.0)) for key in con}


def entry_report(name: str, items: list[Entry], m, component: str, subject=None,
                 details=None) -> list[dict]:
    """One dict per entry: ``binds`` (a row of the entry has a nonzero dual, i.e.
    tightening it would change the optimum) and ``binding`` (the subjects of those rows).

    Rows are indexed ``(n, ...)`` with n the entry's position in ``items``;
    ``subject(key)`` names a row (default: the rest of the key).
    """
    subject = subject or (lambda key: ",".join(map(str, key[1:])) if len(key) > 1 else "")
    by_entry: dict[int, list[str]] = {n: [] for n in range(len(items))}
    for key, y in duals(m, component).items():
        n = key[0] if isinstance(key, tuple) else key
        if abs(y) > DUAL_TOL:
            by_entry[n].append(subject(key if isinstance(key, tuple) else (key,)))
    out = []
    for n, item in enumerate(items):
        row = {"entry": item.where, "rule": name, "binds": bool(by_entry[n]),
               "binding": by_entry[n]}
        if details is not None:
            row.update(details(n, item))
        out.append(row)
    return out


def pct(share: float) -> str:
    """A share of GDP (fraction) as text in percent of GDP."""
    return f"{100 * share:.3g}% of GDP"


@dataclass
class CostShareItem(Entry):
    """An entry capping each listed city's cost at a share of its GDP."""

    share_of_gdp: np.ndarray  # [S] max cost/GDP, nan where the entry does not apply

    @property
    def cities(self) -> np.ndarray:
        return ~np.isnan(self.share_of_gdp)


def add_cost_share_rows(m, inst, component: str, items: list[CostShareItem]) -> None:
    """``component[n, s]``: ``city_cost[s] <= share_s GDP[s]`` (million CNY/yr) for entry n."""
    from fairshare.model._linear import add_rows

    d = inst.data
    index, rows, upper = [], [], []
    for n, item in enumerate(items):
        for s in np.flatnonzero(item.cities):
            index.append((n, d.cities[s]))
            rows.append(m.city_cost[d.cities[s]])
            upper.append(item.share_of_gdp[s] * inst.gdp_mcny[s])
    add_rows(m, component, index, rows, upper=upper, doc="city cost at most a share of its GDP")


def explain_cost_share(inst, name: str, items: list[CostShareItem], key, excess: float,
                       key_name: str) -> Relaxation:
    """A city whose cost had to pass its cap: by how much of its GDP."""
    n, city = key
    item, s = items[n], inst.data.cities.index(city)
    now = float(item.share_of_gdp[s])
    extra = excess / inst.gdp_mcny[s]
    fix = (f"{city}'s cost would have to reach {pct(now + extra)} against a cap of {pct(now)} "
           f"(+{100 * extra:.3g} percentage points); raise {key_name} to at least "
           f"{now + extra:.4g} for {city}")
    return relaxation(inst, item.where, name, city, 100 * extra, "% of GDP", 100 * now,
                      100 * (now + extra), fix)


def cost_share_report(inst, m, name: str, items: list[CostShareItem]) -> list[dict]:
    """Per entry: the cities where the cap binds, with its price (CNY of total cost per CNY
    of allowance) in ``caps``."""
    d = inst.data
    prices = duals(m, name)

    def details(n: int, item: CostShareItem) -> dict:
        caps = [{"city": city, "max_share_of_gdp": float(item.share_of_gdp[d.cities.index(city)]),
                 # dual: million CNY of total cost per million CNY of allowance
                 "shadow_price_cny_per_cny": -y}
                for (k, city), y in prices.items() if k == n]
        return {"caps": caps}

    return entry_report(name, items, m, name, details=details)


def cost_share_family(name: str):
    """``add_rows``, ``explain`` and ``report`` of a family that caps each city's cost at
    a share of its GDP (burden_cap, ability_to_pay): the rows ``name[n, s]``."""
    def add_rows(m, inst, items: list[CostShareItem]) -> None:
        add_cost_share_rows(m, inst, name, items)

    def explain(inst, m, items: list[CostShareItem], key, excess: float) -> Relaxation:
        return explain_cost_share(inst, name, items, key, excess, "max_share_of_gdp")

    def report(inst, m, items: list[CostShareItem]) -> list[dict]:
        return cost_share_report(inst, m, name, items)

    return add_rows, explain, report


def share_warnings(value, key: str) -> list[str]:
    """A share of GDP of 5% or more is more likely a percent typed as a fraction (``value``
    a number or a mapping year -> number)."""
    for v in (value.values() if isinstance(value, dict) else [value]):
        if v is not None and v >= 0.05:
            return [f"{key}: {v:g} means {100 * v:g}% of GDP a year, far above what air-quality "
                    f"plans cost (well under 1%); if you meant {v:g}%, write {v / 100:g}"]
    return []
