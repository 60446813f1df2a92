"""Roadmaps: one plan linking several years (``years: [2025, 2030, 2035]``).

A roadmap resolves the scenario once per year, on that year's region data (emissions,
baseline concentrations and applicability of the year; targets, caps and rules with
their value in that year), and links the years in one LP (:mod:`fairshare.model.linking`):
installed measures stay installed, equipment is paid for by annuities over its lifetime,
the objective is the net present value of every year's cost. Two foresights:

* ``perfect``: the one LP over all years;
* ``myopic``: year by year, each year minimising the cost it sees (up to its own end)
  with what earlier years installed kept; the path is then valued over the whole horizon,
  so that the two are comparable (the cost of myopia, ``compare_foresight: true``).

Rules on city costs may hold each year (``over: each_year``, the default) or over the
horizon (``over: horizon``: on each city's present-value cost spread evenly over the
horizon's discounted years).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from fairshare.errors import InputError, Problem
from fairshare.model.linking import discount_weights

__all__ = ["Roadmap", "prepare_roadmap"]


@dataclass
class Roadmap:
    """A scenario's years, each resolved on its own data, and how they are weighed."""

    scenario: object
    years: list[int]
    lengths: list[int]          # years each period stands for
    weights: np.ndarray         # [T] discounted years of each period
    periods: list               # one Instance per year: the entries held each year
    horizon: object | None      # an Instance of the entries held over the horizon
    warnings: list[Problem] = field(default_factory=list)
    timings: dict = field(default_factory=dict)

    @property
    def data(self):
        """The first year's region data (the region's ids, names and GDP)."""
        return self.periods[0].data

    @property
    def discount_rate(self) -> float:
        return float(self.scenario.roadmap.discount_rate)

    def truncated(self, n: int) -> Roadmap:
        """The first ``n`` periods, ending where the n-th period ends (a myopic step)."""
        return Roadmap(self.scenario, self.years[:n], self.lengths[:n], self.weights[:n],
                       self.periods[:n], self.horizon if n == len(self.years) else None,
                       self.warnings, self.timings)


def held_over_horizon(spec) -> bool:
    return getattr(spec, "over", "each_year") == "horizon"


def period_lengths(years: list[int], last: int) -> list[int]:
    return [b - a for a, b in zip(years, years[1:])] + [last]


def prepare_roadmap(sc, problems: list[Problem] | None = None) -> Roadmap:
    """Load the region for every year of ``sc.years`` and resolve the scenario on each;
    raise InputError listing every problem (with ``problems`` found before)."""
    from fairshare.data import load_region
    from fairshare.feasibility import MtfrTable
    from fairshare.instance import resolve

    problems = list(problems or []) + _unsupported(sc) + _years_not_planned(sc)
    t0 = time.perf_counter()
    periods, found = [], []
    for i, year in enumerate(sc.years):
        try:
            data = load_region(sc.region, year, sc.transport.main_member)
        except InputError as exc:
            raise InputError(problems + exc.problems + exc.warnings) from None
        inst, period_problems = resolve(data, sc, MtfrTable(data), year=year, warn=i == 0,
                                        keep=lambda spec: not held_over_horizon(spec))
        periods.append(inst)
        found += [p for p in period_problems if p not in found]
    horizon = None
    if any(held_over_horizon(spec) for _, spec in sc.entries()):
        horizon, horizon_problems = resolve(periods[0].data, sc, periods[0].mtfr, warn=False,
                                            year=sc.years[0], keep=held_over_horizon)
        found += _horizon_problems(sc) + horizon_problems
    problems += found
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    lengths = period_lengths(sc.years, sc.roadmap.last_period_years)
    road = Roadmap(sc, list(sc.years), lengths,
                   discount_weights(sc.years, lengths, sc.roadmap.discount_rate), periods,
                   horizon)
    road.warnings = list(periods[0].data.warnings) + [p for p in problems if p.severity == "warning"]
    road.timings = {"load_and_prepare": time.perf_counter() - t0}
    return road


def _unsupported(sc) -> list[Problem]:
    """What roadmaps do not offer (yet), as problems of the scenario file."""
    problems = []
    if not sc.objective.is_plain_cost:
        file, line = sc.locate("objective")
        problems.append(Problem(file, "a roadmap minimises the present value of its costs; "
                                      "min_max_burden and weighted fairness objectives are for "
                                      "one year (hold fairness with rules instead)",
                                line, "objective"))
    if sc.transport.robust:
        file, line = sc.locate("transport")
        problems.append(Problem(file, "a robust plan over transport members is for one year; "
                                      "a roadmap uses one member (transport: {member: ...})",
                                line, "transport"))
    if sc.cost_model != "linear":
        file, line = sc.locate("cost_model")
        problems.append(Problem(file, "quadratic costs are for one year; a roadmap's costs are "
                                      "linear (operating cost plus annuities)", line, "cost_model"))
    return problems


def _years_not_planned(sc) -> list[Problem]:
    """A value by year for a year that is not one of the roadmap's: a typo (2036) would
    otherwise drop the entry from the plan without a word."""
    out = []
    for where, spec in sc.entries():
        for key in type(spec).model_fields:
            value = getattr(spec, key)
            if not (isinstance(value, dict) and value and all(isinstance(y, int) for y in value)):
                continue
            stray = sorted(set(value) - set(sc.years))
            if stray:
                file, line = sc.locate(f"{where}.{key}")
                out.append(Problem(file, f"{key} gives a value for {', '.join(map(str, stray))}, "
                                         f"which is not one of the roadmap's years "
                                         f"{list(sc.years)}: add the year to years: or "
                                         f"correct it", line, f"{where}.{key}"))
    return out


def _horizon_problems(sc) -> list[Problem]:
    """A rule held over the horizon has one bound: a value by year means nothing there."""
    out = []
    for where, spec in sc.entries():
        if held_over_horizon(spec) and any(isinstance(getattr(spec, k), dict)
                                           for k in type(spec).model_fields):
            file, line = sc.locate(where)
            out.append(Problem(file, "a rule held over the horizon has one bound for all years: "
                                     "give a number, not values by year (or hold it each year)",
                               line, where))
    return out
