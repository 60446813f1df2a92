"""One model over several years: every period's components under one Pyomo model.

A roadmap's model is one LP. The model modules and the rule families are written for one
period (they read ``m.application``, ``m.city_cost``, add ``burden_cap`` ...); for a
roadmap each of them is called once per period with a :class:`PeriodView` of the one
model, under which a component ``name`` of year ``t`` is the model component
``name_t`` (``application_2030``, ``burden_cap_2035``, ``aq_target_2030``). The index
sets (cities, measures, pollutants, sectors, metrics, receptors) are the region's and
shared by every period; so is ``dual``. :mod:`fairshare.model.linking` adds what links
the periods (investments, irreversibility, the present-value objective).

:class:`ByYear` gives the time index back to a reader: ``m.application[s, m, t]``,
``m.city_cost[s, t]``, ``m.reduction[s, p, t]``, ``m.concentration[q, r, t]``.
"""

from __future__ import annotations

SHARED = {"city", "measure", "pollutant", "sector", "metric", "receptor", "dual"}


def period_name(name: str, year: int) -> str:
    return f"{name}_{year}"


class PeriodView:
    """The model as the families of one period see it (see the module docstring)."""

    def __init__(self, model, year: int):
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "year", year)

    def qualify(self, name: str) -> str:
        """The model's name of this period's component ``name``."""
        return name if name in SHARED or name.startswith("_") else period_name(name, self.year)

    def __getattr__(self, name: str):
        m = object.__getattribute__(self, "_model")
        qualified = self.qualify(name)
        if qualified != name and hasattr(m, qualified):
            return getattr(m, qualified)
        return getattr(m, name)

    def __setattr__(self, name: str, value) -> None:
        m = self._model
        if name in SHARED and hasattr(m, name):
            return  # the region's index sets: the same in every period
        qualified = self.qualify(name)
        if qualified != name:
            _origin(m)[qualified] = (name, self.year)
        if hasattr(value, "construct"):  # a Pyomo component
            m.add_component(qualified, value)
        else:  # a matrix block, a row-expression map, a quadratic term
            setattr(m, qualified, value)

    def add_component(self, name: str, value) -> None:
        setattr(self, name, value)

    def __contains__(self, name: str) -> bool:
        return hasattr(self._model, self.qualify(name))


def _origin(model) -> dict:
    if not hasattr(model, "_fs_origin"):
        model._fs_origin = {}
    return model._fs_origin


def origin(model, component: str) -> tuple[str, int | None]:
    """(name as the families call it, year) of a model component (year None: not per
    period), e.g. "burden_cap_2030" -> ("burden_cap", 2030)."""
    return getattr(model, "_fs_origin", {}).get(component, (component, None))


class ByYear:
    """``name[..., t]``: the component ``name`` of year t indexed by the rest of the key
    (read access for planners; the rows live in the per-year components)."""

    def __init__(self, model, name: str, years):
        self.model, self.name, self.years = model, name, list(years)

    def __getitem__(self, key):
        *rest, year = key if isinstance(key, tuple) else (key,)
        part = getattr(self.model, period_name(self.name, year))
        return part[tuple(rest) if len(rest) > 1 else rest[0]] if rest else part

    def keys(self):
        for year in self.years:
            part = getattr(self.model, period_name(self.name, year))
            for key in part.keys():
                yield (*key, year) if isinstance(key, tuple) else (key, year)

    def __repr__(self) -> str:
        return f"<{self.name} by year {self.years}>"
