"""Concentrations at receptors after control: the physics the air-quality targets read."""

from __future__ import annotations

import numpy as np
import pyomo.core as pyo

from fairshare.model._linear import RowExpressions


def transport_rows(inst) -> tuple[np.ndarray, np.ndarray]:
    """(T [Q*R, S*P], C0 [Q*R]): the transport table as rows over the reductions
    (column s*P + p, as ``reduction`` is ordered) and the baseline (0 where not given).

    A view of the region's dense array, never a copy.
    """
    d = inst.data
    Q, R, S, P = len(d.metrics), len(d.receptors), len(d.cities), len(d.pollutants)
    return d.transport_ugm3_per_kt.reshape(Q * R, S * P), np.nan_to_num(d.baseline_ugm3).ravel()


def add_concentrations(m: pyo.ConcreteModel, inst) -> None:
    r"""Concentration of every metric at every receptor, linear in the reductions.

    .. math::

        C_{q,r} = C^0_{q,r} - \sum_{s,p} T_{q,r,s,p}\, \mathrm{reduction}_{s,p}

    ===========================  =======================================================
    ``metric``, ``receptor``     the sets (a region planned with emission caps only has
                                 no metric)
    ``concentration[q, r]``      C: µg/m³ after control, a Pyomo expression built on first
                                 use (the transport block stays a matrix: a region of S
                                 cities and P pollutants has S·P terms per receptor)
    ===========================  =======================================================

    T is in µg/m³ per kt/yr and reductions in kt/yr. The targets on C are rule families:
    :mod:`fairshare.families.concentration` and :mod:`fairshare.families.exposure`.
    """
    d = inst.data
    m.metric = pyo.Set(initialize=d.metrics, ordered=True, doc="air-quality metrics")
    m.receptor = pyo.Set(initialize=d.receptors, ordered=True, doc="receptors")
    T_rows, c0 = transport_rows(inst)
    keys = [(q, r) for q in d.metrics for r in d.receptors]
    m.concentration = RowExpressions(keys, T_rows, list(m.reduction.values()), c0, scale=-1.0,
                                     doc="concentration after control, µg/m³")
