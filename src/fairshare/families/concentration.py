r"""Concentration targets: every targeted receptor at or below its limit.

In the scenario file::

    targets:
      - {metric: PM25, receptors: all, max_ugm3: 35}
      - {metric: PM25, receptors: [beijing], reduction_pct: 20}
      - {metric: PM25, receptors: all, gap_closure: 0.6}

.. math::

    C_{q,r} = C^0_{q,r} - \sum_{s,p} T_{q,r,s,p}\, \mathrm{reduction}_{s,p} \le L_{q,r}

=========================  ==========================================================
``L[q, r]``                limit, µg/m³: ``max_ugm3``; ``C0 (1 - reduction_pct/100)``;
                           or ``C0 - gap_closure (C0 - MTFR)``. Where entries overlap the
                           tightest holds (its entry is named in the report)
``T[q, r, s, p]``          transport coefficient, µg/m³ per kt/yr (may be negative)
``aq_target[q, r]``        the rows, held as a sparse matrix (:class:`MatrixRows`);
                           ``aq_target.dual[q, r]`` in million CNY/yr per µg/m³
=========================  ==========================================================

With many receptors the rows are added only where violated (row generation,
``solver.constraint_generation``). The Pareto sweep ``target`` moves every limit along
``gamma`` from the baseline (0) to the MTFR (1): the cost of attainment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from fairshare.families.base import DUAL_TOL, Entry, Relaxation, Sweep, relaxation
from fairshare.units import CNY_PER_MCNY
from fairshare.spec import AllOrIds, Spec as _Spec, by_year, require_exactly_one

NAME = "concentration"
SECTION = "targets"
MARKER = "metric"  # the key that makes an entry of targets: this kind
ROWS = ("aq_target",)
ROW_GENERATION_MIN_ROWS = 2000  # constraint_generation "auto": above this many target rows


class ConcentrationTarget(_Spec):
    """Air-quality target at each receptor: ``C[q,r] <= L[q,r]``.

    The limit ``L`` is given exactly one way: ``max_ugm3`` (µg/m³),
    ``reduction_pct`` (``L = C0 (1 - pct/100)``) or ``gap_closure``
    (``L = C0 - gamma (C0 - MTFR)``).
    """

    kind: ClassVar[str] = NAME
    metric: str = Field(description="air-quality metric id from concentrations.csv, e.g. PM25")
    receptors: AllOrIds = Field("all", description="'all' or a list of receptor ids")
    max_ugm3: by_year(gt=0) | None = Field(None, description="concentration limit, µg/m³")
    reduction_pct: by_year(gt=0, lt=100) | None = Field(
        None, description="required fall from the baseline concentration, % of baseline"
    )
    gap_closure: by_year(ge=0, le=1) | None = Field(
        None, description="share of the gap between baseline and MTFR to close, 0..1"
    )

    @model_validator(mode="after")
    def _one_limit(self) -> ConcentrationTarget:
        require_exactly_one(self, ("max_ugm3", "reduction_pct", "gap_closure"), "a concentration target")
        return self


Spec = ConcentrationTarget  # the family's entry as written in the scenario file


@dataclass
class Item(Entry):
    metric: int               # index into data.metrics
    receptors: np.ndarray     # [n] indices into data.receptors
    limit_ugm3: np.ndarray    # [n]


@dataclass
class AqTargets:
    """The rows: one per targeted (metric, receptor), the tightest limit of its entries."""

    metric: np.ndarray      # [n] index into data.metrics
    receptor: np.ndarray    # [n] index into data.receptors
    limit_ugm3: np.ndarray  # [n]
    source: list[str]       # [n] the entry that set the limit, e.g. "targets[0]"


def resolve(spec: ConcentrationTarget, ctx, where: str) -> Item | None:
    q = ctx.metric(where, spec.metric)
    rec = ctx.receptors(where, spec.receptors)
    if q is None or rec is None:
        return None
    if not _surfaces_supported(ctx, where, q):  # response surfaces (docs/ozone.md)
        return None
    c0 = ctx.data.baseline_ugm3[q, rec]
    missing = np.isnan(c0)
    if missing.any():
        names = [ctx.data.receptors[r] for r in rec[missing][:5]]
        ctx.problem(where, f"no baseline concentration of {spec.metric} for receptor(s) "
                           f"{', '.join(names)}: add them to concentrations.csv")
        return None
    if spec.max_ugm3 is not None:
        limit = np.full(len(rec), float(spec.max_ugm3))
    elif spec.reduction_pct is not None:
        limit = c0 * (1 - float(spec.reduction_pct) / 100)
    else:
        mtfr = ctx.mtfr.values(np.full(len(rec), q), rec)
        limit = c0 - float(spec.gap_closure) * (c0 - mtfr)
    return Item(where, spec, q, rec, limit)


def merge(items: list[Item]) -> AqTargets:
    """The tightest limit per (metric, receptor), in (metric, receptor) order."""
    limits: dict[tuple[int, int], tuple[float, str]] = {}
    for item in items:
        for r, value in zip(item.receptors.tolist(), item.limit_ugm3.tolist()):
            key = (item.metric, r)
            if key not in limits or value < limits[key][0]:
                limits[key] = (value, item.where)
    keys = sorted(limits)
    return AqTargets(metric=np.array([k[0] for k in keys], dtype=int),
                     receptor=np.array([k[1] for k in keys], dtype=int),
                     limit_ugm3=np.array([limits[k][0] for k in keys], dtype=float),
                     source=[limits[k][1] for k in keys])


def add_rows(m, inst, items: list[Item]) -> None:
    """``aq_target[q, r]``: C ≤ L for every targeted (metric, receptor) (see the module)."""
    from fairshare.model._linear import MatrixRows, attach_matrix_rows
    from fairshare.model.air_quality import transport_rows
    from fairshare.model.surfaces import add_surface_target_rows

    d, aq = inst.data, inst.aq
    T_rows, c0 = transport_rows(inst)  # [Q*R, S*P], [Q*R]
    rows = aq.metric * len(d.receptors) + aq.receptor
    keys = [(d.metrics[q], d.receptors[r]) for q, r in zip(aq.metric, aq.receptor)]
    matrix, variables = _take_rows(T_rows, rows), list(m.reduction.values())
    surface = add_surface_target_rows(m, inst, matrix, variables)  # metrics with surfaces
    if surface is not None:
        matrix, variables = surface
    block = attach_matrix_rows(m, MatrixRows(
        "aq_target", keys, matrix, variables, c0[rows],
        upper=aq.limit_ugm3, doc="concentration at or below the target, µg/m³", scale=-1.0))
    mode = inst.scenario.solver.constraint_generation
    block.lazy = mode == "on" or (mode == "auto" and len(rows) > ROW_GENERATION_MIN_ROWS)


def _surfaces_supported(ctx, where: str, q: int) -> bool:
    """A target on a metric with response surfaces (docs/ozone.md): one year, one transport
    member (roadmaps and robust plans on surfaces are not supported yet)."""
    surfaces = getattr(ctx.data, "surfaces", None)
    if surfaces is None or q not in surfaces.metrics():
        return True
    metric = ctx.data.metrics[q]
    ctx.mtfr.use_surfaces(q)  # planned on its surfaces: its MTFR too
    if getattr(ctx.sc, "years", None):
        ctx.problem(where, f"metric {metric} has response surfaces (response.csv): roadmaps "
                           "(several years) on surfaces are not supported yet; plan one year")
        return False
    if getattr(getattr(ctx.sc, "transport", None), "robust", None):
        ctx.problem(where, f"metric {metric} has response surfaces (response.csv): robust plans "
                           "over transport members are not supported yet on surfaces; plan one "
                           "member")
        return False
    return True


def _take_rows(matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """matrix[rows], without a copy when rows are all rows in order."""
    if len(rows) == matrix.shape[0] and np.array_equal(rows, np.arange(matrix.shape[0])):
        return matrix
    return matrix[rows]


def explain(inst, m, items: list[Item], key, excess: float) -> Relaxation:
    """A target that had to give: by how many µg/m³, and the limit that would hold."""
    metric, receptor = key
    d, aq = inst.data, inst.aq
    i = int(np.flatnonzero((aq.metric == d.metrics.index(metric))
                           & (aq.receptor == d.receptors.index(receptor)))[0])
    now = float(aq.limit_ugm3[i])
    needed = now + excess
    name = metric.replace("PM25", "PM2.5")
    fix = (f"the {name} limit at {receptor} would have to rise from {now:.4g} to "
           f"{needed:.4g} µg/m³ (+{excess:.3g})")
    from fairshare.model.surfaces import titration_note  # response surfaces (docs/ozone.md)
    fix += titration_note(inst, int(aq.metric[i]), int(aq.receptor[i]))
    return relaxation(inst, aq.source[i], NAME, f"{name} at {receptor}", excess, "µg/m³",
                      now, needed, fix)


def report(inst, m, items: list[Item]) -> list[dict]:
    """Per entry: whether any of the rows it sets binds (marginal cost > 0)."""
    block = getattr(m, "aq_target", None)
    binding: dict[str, list[str]] = {item.where: [] for item in items}
    if block is not None:
        for (metric, receptor), source in zip(block.keys(), inst.aq.source):
            if abs(block.dual.get((metric, receptor), 0.0)) > DUAL_TOL:
                binding[source].append(f"{metric} at {receptor}")
    return [{"entry": item.where, "rule": NAME, "binds": bool(binding[item.where]),
             "binding": binding[item.where]} for item in items]


def shadow_prices_cny_per_ugm3(inst, m) -> np.ndarray:
    """[n] marginal cost of tightening each row of ``inst.aq`` by 1 µg/m³ (≥ 0), CNY/yr."""
    block = getattr(m, "aq_target", None)
    if block is None:
        return np.zeros(len(inst.aq.metric))
    price = -np.array([block.dual.get(k, 0.0) for k in block.keys()]) * CNY_PER_MCNY
    return np.where(np.abs(price) < 1e-9, 0.0, price)


# --- the cost-of-attainment sweep ---------------------------------------------------------

def _set_gap_closure(solver, inst, gamma: float) -> None:
    """Every targeted receptor's limit at ``C0 - gamma (C0 - MTFR)``."""
    aq, d = inst.aq, inst.data
    c0 = d.baseline_ugm3[aq.metric, aq.receptor]
    limit = c0 - gamma * (c0 - inst.mtfr.values(aq.metric, aq.receptor))
    block = solver.model.aq_target
    solver.set_row_bounds(solver.block_rows(block.name), -np.inf, limit - block.constant)


SWEEP = Sweep(name="target", family=NAME, column="gamma", loose=None, set=_set_gap_closure,
              start=lambda first: 0.0, end=lambda inst: 1.0)
