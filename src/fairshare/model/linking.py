r"""What links the years of a roadmap: installations, irreversibility, costs over time and
the present-value objective.

Periods ``t`` start in the years of the scenario's ``years:`` and stand for the years
until the next period (the last for ``roadmap.last_period_years``). Every period has its
own application shares ``x_t[s, m]`` (``application_<year>``), bounded by that year's
applicability, and its own rows (targets, caps and rules of that year).

.. math::

    x_{t}[s,m] \ge x_{t-1}[s,m] - \max(0,\ a_{t-1}[s,m] - a_t[s,m])
    \qquad \text{(irreversible measures)}

    x_t[s,m]\, B_t[s,m] \le \sum_{t' \le t,\ y_t - y_{t'} < L_m} \mathrm{inv}_{t'}[s,m]\, B_{t'}[s,m]
    \qquad \text{(measures with capital, } c_m > 0)

    \mathrm{city\_cost}_t[s] = \sum_m (1 - c_m)\,\kappa_t[s,m]\, x_t[s,m]
        + \sum_m \sum_{t' \le t,\ y_t - y_{t'} < L_m} c_m\, \kappa_{t'}[s,m]\, \mathrm{inv}_{t'}[s,m]

    \mathrm{NPV} = \sum_t w_t \sum_s \mathrm{city\_cost}_t[s], \qquad
    w_t = \sum_{y = y_t}^{y_t + P_t - 1} (1 + r)^{-(y - y_1)}

==========================  ==========================================================
``x_t[s, m]``               application share in period t (``application_<year>``)
``a_t[s, m]``               applicability in that year
``inv_t[s, m]``             share of the base equipped in period t (``installation_<year>``,
                            only measures with a capital share)
``B_t[s, m]``               the measure's base in year t: the city's emission of its reference
                            pollutant in its sector (equipment treats tonnes: what was
                            installed for a larger base covers a larger share of a smaller)
``c_m``                     ``capex_share`` of measures.csv: the part of the annual cost
                            that repays equipment (0 by default: all operating cost)
``L_m``                     ``lifetime_yr`` (no end by default)
``kappa_t[s, m]``           annual cost at full application with year t's emission base,
                            million CNY/yr
``w_t``, ``P_t``            the discounted years of period t, its length in years
``r``                       ``roadmap.discount_rate``
==========================  ==========================================================

Equipment installed at the start of period t' serves every period whose first year is
within its lifetime (a lifetime that ends inside a period is counted to the period's
end); its annuity ``c_m kappa`` is paid in every year of those periods, and only those
inside the horizon ("Type II" costing: no charge after the horizon, no end-of-horizon
bias). Operating costs are paid in the years of the period they serve. A one-period
roadmap is today's one-year plan: the same plan, its annual cost times ``w``.
"""

from __future__ import annotations

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from fairshare.model._linear import add_rows, linear_rows
from fairshare.units import CNY_PER_MCNY


def discount_weights(years: list[int], lengths: list[int], rate: float) -> np.ndarray:
    """[T] w_t: the discounted years of each period (the first year undiscounted)."""
    first = years[0]
    return np.array([sum((1 + rate) ** -(y - first) for y in range(start, start + n))
                     for start, n in zip(years, lengths)])


def serves(years: list[int], lifetime_yr: float, installed: int, period: int) -> bool:
    """Whether equipment installed at the start of period ``installed`` serves ``period``."""
    return installed <= period and years[period] - years[installed] < lifetime_yr


def add_installations(m: pyo.ConcreteModel, road) -> None:
    """``installation_<year>[s, m]`` for measures with capital, and the rows
    ``capacity_<year>`` (x_t <= installed and serving) and ``irreversible_<year>``."""
    d = road.periods[0].data
    capital = np.flatnonzero(d.capex_share > 0)
    for t, year in enumerate(road.years):
        if len(capital):
            var = pyo.Var(list(d.cities), [d.measures[j] for j in capital], bounds=(0.0, 1.0),
                          doc="share of the base equipped in this period")
            m.add_component(f"installation_{year}", var)
        _add_capacity(m, road, t, capital)
        if t:
            _add_irreversibility(m, road, t)


def measure_base_t(inst) -> np.ndarray:
    """[S, M] each measure's base in the instance's year, t/yr: the city's emission of the
    measure's reference pollutant in its sector."""
    d = inst.data
    return d.emission_t[:, d.measure_sector, d.measure_ref]


def _add_capacity(m, road, t: int, capital: np.ndarray) -> None:
    """x_t B_t <= sum of the serving installations' inv_u B_u, divided through by B_t."""
    d, years = road.periods[0].data, road.years
    base = [measure_base_t(inst) for inst in road.periods]
    index, rows = [], []
    for si, s in enumerate(d.cities):
        for j in capital:
            if base[t][si, j] <= 0:
                continue  # no base this year: the measure cannot be applied anyway
            serving = [u for u in range(t + 1) if serves(years, d.lifetime_yr[j], u, t)]
            variables = [getattr(m, f"application_{years[t]}")[s, d.measures[j]]] + [
                getattr(m, f"installation_{years[u]}")[s, d.measures[j]] for u in serving]
            coef = np.r_[1.0, [-base[u][si, j] / base[t][si, j] for u in serving]]
            index.append((s, d.measures[j]))
            rows.append(linear_rows(coef[None, :], variables)[0])
    add_rows(m, f"capacity_{years[t]}", index, rows, upper=0.0,
             doc="application within the equipment installed and still serving")


def _add_irreversibility(m, road, t: int) -> None:
    """x_t >= x_{t-1} - (a_{t-1} - a_t)^+ for measures that cannot be undone."""
    d = road.periods[0].data
    a_now, a_before = road.periods[t].data.max_application, road.periods[t - 1].data.max_application
    x_now = list(getattr(m, f"application_{road.years[t]}").values())  # s-major: j = s*M + m
    x_before = list(getattr(m, f"application_{road.years[t - 1]}").values())
    held = (~d.reversible)[None, :] & (a_before > 0)                     # [S, M]
    cols = np.flatnonzero(held.ravel())
    n, SM = len(cols), a_now.size
    rows = np.arange(n)
    matrix = sp.csr_array((np.r_[np.ones(n), -np.ones(n)], (np.r_[rows, rows], np.r_[cols, SM + cols])),
                          shape=(n, 2 * SM))
    s_idx, m_idx = np.divmod(cols, a_now.shape[1])
    index = [(d.cities[s], d.measures[j]) for s, j in zip(s_idx, m_idx)]
    lower = -np.maximum(0.0, a_before - a_now).ravel()[cols]
    add_rows(m, f"irreversible_{road.years[t]}", index, linear_rows(matrix, x_now + x_before),
             lower=lower, doc="what was installed stays, but for the base that is gone")


def add_period_costs(m: pyo.ConcreteModel, road) -> None:
    """``city_cost_<year>[s]``: operating costs of the period and the annuities of the
    equipment serving it, million CNY/yr (``cost_def_<year>``)."""
    d = road.periods[0].data
    years = road.years
    for t, year in enumerate(years):
        inst = road.periods[t]
        city_cost = pyo.Var(list(d.cities), doc="annual cost in this period, million CNY/yr")
        m.add_component(f"city_cost_{year}", city_cost)
        x = getattr(m, f"application_{year}")
        rows = []
        for si, s in enumerate(d.cities):
            terms = [(city_cost[s], 1.0)]
            terms += [(x[s, d.measures[j]], -(1 - d.capex_share[j]) * inst.kappa_mcny[si, j])
                      for j in range(len(d.measures)) if inst.kappa_mcny[si, j]]
            terms += _annuities(m, road, t, si, s)
            rows.append(linear_rows(np.array([[c for _, c in terms]]), [v for v, _ in terms])[0])
        add_rows(m, f"cost_def_{year}", list(d.cities), rows, lower=0.0, upper=0.0,
                 doc="city cost = operating cost + annuities of the equipment serving the period")


def _annuities(m, road, t: int, si: int, s: str) -> list:
    """(installation var, -annuity) of the equipment of city s serving period t."""
    d, years = road.periods[0].data, road.years
    out = []
    for j in np.flatnonzero(d.capex_share > 0):
        for u in range(t + 1):
            kappa = road.periods[u].kappa_mcny[si, j]
            if kappa and serves(years, d.lifetime_yr[j], u, t):
                out.append((getattr(m, f"installation_{years[u]}")[s, d.measures[j]],
                            -d.capex_share[j] * kappa))
    return out


def add_npv_objective(m: pyo.ConcreteModel, road) -> None:
    """``npv``: the present value of every period's cost, million CNY."""
    terms = [w * c for w, year in zip(road.weights, road.years)
             for c in getattr(m, f"city_cost_{year}").values()]
    m.npv = pyo.Objective(expr=sum(terms), sense=pyo.minimize,
                          doc="net present value of the roadmap's costs, million CNY")


def add_levelised_costs(m: pyo.ConcreteModel, road, view) -> None:
    """``city_cost_horizon[s]``: each city's present-value cost spread evenly over the
    horizon's discounted years (million CNY/yr), for the rules held over the horizon:
    ``sum_t w_t cost_t[s] / sum_t w_t``."""
    d = road.periods[0].data
    total = float(np.sum(road.weights))
    view.city_cost = pyo.Var(list(d.cities), doc="levelised annual cost, million CNY/yr")
    level = view.city_cost
    rows = []
    for s in d.cities:
        terms = [(level[s], 1.0)] + [(getattr(m, f"city_cost_{y}")[s], -w / total)
                                     for w, y in zip(road.weights, road.years)]
        rows.append(linear_rows(np.array([[c for _, c in terms]]), [v for v, _ in terms])[0])
    add_rows(view, "cost_def", list(d.cities), rows, lower=0.0, upper=0.0,
             doc="levelised cost = present value / discounted years")


def npv_cny(road, costs_mcny_by_period: np.ndarray) -> float:
    """NPV in CNY of annual costs [T] in million CNY/yr."""
    return float(np.dot(road.weights, costs_mcny_by_period) * CNY_PER_MCNY)
