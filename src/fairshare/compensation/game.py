"""The characteristic cost ``c(S)`` of every coalition, solved in place in one built model.

``c(S)`` (docs/compensation.md) is the least annual cost for the cities of S to meet the
targets S holds using only their own measures, every other city at its baseline (or,
with ``others="standalone"``, carrying out its own stand-alone plan). The scenario's
fairness rules are left out and its objective is least cost: the game is a least-cost
game, and ``c(N)`` is the joint least-cost plan.

A coalition that cannot meet its targets alone gets ``c(S)`` by a stated rule, and both
rules are computed for it so that the allocation's sensitivity to the choice is known:

* ``penalty``: the least ``cost + P * shortfall``, the shortfall summed over S's target
  rows in µg/m³, P in CNY/yr per µg/m³ (by default the highest shadow price of a target in
  the joint plan: the region's marginal cost of the last µg/m³);
* ``reachable``: the targets relaxed to what S can reach: the least total shortfall
  first, then the least cost that keeps it.

One model is built per worker (:class:`CoalitionSolver`, a
:class:`~fairshare.solver.PersistentSolve`): a coalition is a set of bounds — the
``application`` columns of non-members fixed, the ``aq_target`` rows (and exposure
targets and emission caps) a coalition does not hold relaxed to ±inf, the elastic rows
and their shortfall columns opened or closed — changed in HiGHS in place, and each LP
starts from the previous basis. Only the bounds that differ from the previous coalition
are sent.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pyomo.core as pyo

from fairshare import families
from fairshare.solver import PersistentSolve, Status

RULES = ("penalty", "reachable")
REACH_REL_TOL = 1e-7   # reachable: the least shortfall kept within this (relative) ...
REACH_ABS_TOL = 1e-7   # ... and this (µg/m³)
GAME_VERSION = 1       # part of the resume cache's key
INTERRUPTIBLE_ABOVE_S = 0.5  # LPs slower than this run in HiGHS's own thread (Ctrl-C at once)


class Value(NamedTuple):
    """One coalition's cost. Costs in million CNY/yr, shortfalls in µg/m³ summed over the
    coalition's target rows."""

    mask: int
    status: str            # "optimal", or the solver's status when no rule gave a value
    met: bool              # the coalition meets its targets alone (no rule needed)
    cost: float            # c(S) by the chosen rule
    shortfall: float
    alt_cost: float        # c(S) by the other rule (= cost when met)
    alt_shortfall: float


class GameError(Exception):
    """The game cannot be set up or completed (the joint plan does not solve, a coalition
    LP failed); ``status`` is the solver's status when there is one."""

    def __init__(self, message: str, status: Status | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class GameSpec:
    """Everything a worker needs to solve coalitions (picklable: no Pyomo model)."""

    inst: object                  # the least-cost twin Instance
    players: object               # compensation.players.Players
    others: str                   # "baseline" | "standalone"
    unmet: str                    # "penalty" | "reachable"
    price_mcny: float             # penalty, million CNY/yr per µg/m³
    aq_player: np.ndarray         # [K] player holding each aq_target row, -1 none
    extra: list                   # (component, index key, required player mask or None)
    standalone_x: np.ndarray | None = None  # [S, M] plans of non-members (others="standalone")
    key: str = field(default="")

    def with_key(self) -> GameSpec:
        d = self.inst.data
        payload = {"version": GAME_VERSION, "files": dict(d.files),
                   "scenario": self.inst.scenario.resolved_dict(),
                   "players": list(self.players.names),
                   "city_player": self.players.city_player.tolist(),
                   "receptor_player": self.players.receptor_player.tolist(),
                   "others": self.others, "unmet": self.unmet,
                   "price_mcny": repr(float(self.price_mcny))}
        h = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode())
        if self.standalone_x is not None:
            h.update(np.ascontiguousarray(self.standalone_x, dtype=float).tobytes())
        self.key = h.hexdigest()[:20]
        return self


def target_holders(inst, players) -> tuple[np.ndarray, list]:
    """The player holding each ``aq_target`` row, and for exposure targets and emission caps
    ``(component, key, mask of the players that must all be members)`` (None: a city
    outside the game is concerned, so no coalition holds it)."""
    aq_player = players.receptor_player[inst.aq.receptor] if len(inst.aq.receptor) else \
        np.zeros(0, dtype=int)

    def need(player_ids) -> int | None:
        ids = np.unique(np.asarray(player_ids, dtype=int))
        if (ids < 0).any():
            return None
        return int(sum(1 << int(i) for i in ids))

    extra = []
    for n, item in enumerate(inst.of(families.exposure)):
        extra.append(("exposure_target", n, need(players.receptor_player[item.weight > 0])))
    for n, item in enumerate(inst.of(families.emission_cap)):
        extra.append(("emission_cap", n, need(players.city_player[item.cities])))
    return aq_player, extra


class _Model:
    """One built model kept in HiGHS, with an elastic copy of the target rows.

    ``objective="cost"``: total cost + price * shortfall; ``"shortfall"``: the total
    shortfall alone (the first stage of the ``reachable`` rule).
    """

    def __init__(self, spec: GameSpec, objective: str):
        from fairshare.api import build_model

        inst = spec.inst
        self.spec = spec
        m = build_model(inst)
        keys = m.aq_target.keys()
        K = len(keys)
        limit = inst.aq.limit_ugm3
        m.compensation_unmet = pyo.Var(range(K), bounds=(0.0, None),
                                       doc="shortfall of a target row, µg/m³")
        unmet = list(m.compensation_unmet.values())
        if K:
            m.compensation_soft = pyo.Constraint(
                range(K), rule=lambda _m, k: m.concentration[keys[k]] - unmet[k] <= float(limit[k]),
                doc="a target row with its shortfall")
            m.compensation_unmet_total = pyo.Constraint(expr=sum(unmet) <= 0.0)
        m.total_cost.deactivate()
        if objective == "shortfall":
            expr = sum(unmet) if K else 0.0 * next(iter(m.city_cost.values()))
            quad = getattr(m, "quadratic_cost", None)
            if quad is not None:
                quad.active = False
        else:
            expr = m.total_cost.expr + (float(spec.price_mcny) * sum(unmet) if K else 0.0)
        m.compensation_objective = pyo.Objective(expr=expr, sense=pyo.minimize)
        opts = inst.scenario.solver
        # The LP's values are read from the outcome, not loaded into Pyomo.
        ps = PersistentSolve(m, opts.time_limit_s, opts.threads, opts.method, load_values=False)
        if ps.refused is not None:
            raise GameError(f"HiGHS refused the coalition model: {ps.refused}", Status.ERROR)
        self.ps, self.model = ps, m
        self._first = True
        d = inst.data
        S, M = len(d.cities), len(d.measures)
        cols = np.array([_column(ps, v) for v in m.application.values()], dtype=int)
        self.app_pos = np.flatnonzero(cols >= 0)          # positions s*M + m present in the LP
        self.app_cols = cols[self.app_pos]
        self.app_city = self.app_pos // M
        self.shape = (S, M)
        self.unmet_cols = np.array([ps.column(v) for v in unmet], dtype=int)
        self.aq_rows = ps.block_rows("aq_target") if K else np.zeros(0, dtype=int)
        self.soft_rows = np.array([ps.row(m.compensation_soft[k]) for k in range(K)], dtype=int)
        self.total_row = np.array([ps.row(m.compensation_unmet_total)] if K else [], dtype=int)
        self.extra_rows = np.array([ps.row(getattr(m, comp)[key]) for comp, key, _ in spec.extra],
                                   dtype=int)
        self.extra_need = [need for _, _, need in spec.extra]
        lp = ps.lp
        self.cols = np.concatenate([self.app_cols, self.unmet_cols])
        self.rows = np.concatenate([self.aq_rows, self.soft_rows, self.total_row, self.extra_rows])
        self.col_lo0, self.col_hi0 = lp.col_lo[self.cols].copy(), lp.col_hi[self.cols].copy()
        self.row_lo0, self.row_hi0 = lp.row_lo[self.rows].copy(), lp.row_hi[self.rows].copy()
        fixed = np.zeros(S * M) if spec.standalone_x is None else spec.standalone_x.ravel()
        app_lo0, app_hi0 = self.col_lo0[:len(self.app_cols)], self.col_hi0[:len(self.app_cols)]
        self.fix = np.clip(fixed[self.app_pos], app_lo0, app_hi0)  # non-members' application

    # -- a coalition as bounds ------------------------------------------------------------

    def apply(self, mask: int, elastic: bool = False, cap: float | None = None) -> None:
        """Bounds of coalition ``mask``: hard targets, or elastic ones (shortfall allowed,
        its total at most ``cap``)."""
        spec = self.spec
        players = spec.players
        inm = players.in_mask(mask)
        cp = players.city_player
        member_city = np.zeros(len(cp), dtype=bool)
        member_city[cp >= 0] = inm[cp[cp >= 0]]
        A = len(self.app_cols)
        K = len(self.unmet_cols)
        col_lo, col_hi = self.col_lo0.copy(), self.col_hi0.copy()
        member = member_city[self.app_city]
        col_lo[:A] = np.where(member, col_lo[:A], self.fix)
        col_hi[:A] = np.where(member, col_hi[:A], self.fix)
        held = np.zeros(K, dtype=bool)
        ok = spec.aq_player >= 0
        held[ok] = inm[spec.aq_player[ok]]
        col_hi[A:] = np.where(held & elastic, np.inf, 0.0)
        row_lo, row_hi = self.row_lo0.copy(), self.row_hi0.copy()
        aq = slice(0, K)
        soft = slice(K, 2 * K)
        row_lo[aq] = np.where(held & (not elastic), row_lo[aq], -np.inf)
        row_hi[aq] = np.where(held & (not elastic), row_hi[aq], np.inf)
        row_lo[soft] = -np.inf
        row_hi[soft] = np.where(held & elastic, row_hi[soft], np.inf)
        t = 2 * K
        if K:
            row_lo[t], row_hi[t] = -np.inf, (np.inf if cap is None else cap)
            t += 1
        for j, need in enumerate(self.extra_need):
            if need is None or (need & ~int(mask)):
                row_lo[t + j], row_hi[t + j] = -np.inf, np.inf
        self._push(col_lo, col_hi, row_lo, row_hi)

    def _push(self, col_lo, col_hi, row_lo, row_hi) -> None:
        lp = self.ps.lp
        changed = (_differs(lp.col_lo[self.cols], col_lo)) | (_differs(lp.col_hi[self.cols], col_hi))
        if changed.any():
            self.ps.set_column_bounds(self.cols[changed], col_lo[changed], col_hi[changed])
        changed = (_differs(lp.row_lo[self.rows], row_lo)) | (_differs(lp.row_hi[self.rows], row_hi))
        if changed.any():
            self.ps.set_row_bounds(self.rows[changed], row_lo[changed], row_hi[changed])

    def solve(self):
        out = self.ps.solve()
        if self._first:
            # Coalition LPs of a region this size take milliseconds: run HiGHS in this
            # thread (as the MTFR batch does) rather than in a solver thread per LP, whose
            # start and thread-pool reset cost as much as the LP. Ctrl-C then stops the run
            # between two LPs. Larger LPs keep the interruptible run.
            self._first = False
            if out.solve_seconds < INTERRUPTIBLE_ABOVE_S:
                self.ps.run_in_this_thread()
        return out

    def plan(self, x: np.ndarray) -> np.ndarray:
        """[S, M] application shares of the LP solution ``x``."""
        full = np.zeros(self.shape[0] * self.shape[1])
        full[self.app_pos] = x[self.app_cols]
        return full.reshape(self.shape)

    def shortfall(self, x: np.ndarray) -> float:
        return float(x[self.unmet_cols].sum()) if len(self.unmet_cols) else 0.0


def _column(ps: PersistentSolve, var) -> int:
    """The LP column of ``var``, -1 when it is in no row (an application fixed at 0 by the
    region data: the compiler leaves such a variable out)."""
    try:
        return ps.column(var)
    except KeyError:
        return -1


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    return ~both_inf & (a != b)


class CoalitionSolver:
    """``value(mask)``: the coalition's cost by both rules, from one built model (and a
    second one, built on first need, for the least shortfall of the ``reachable`` rule)."""

    def __init__(self, spec: GameSpec):
        self.spec = spec
        self.main = _Model(spec, "cost")
        self._short: _Model | None = None
        self.lps = 0
        self.rebuilds = 0  # models built afresh after numerical trouble
        self._cost = spec.inst.measure_cost_mcny  # [S, M] cost of a plan, exact
        self._cp = spec.players.city_player

    @property
    def short(self) -> _Model:
        if self._short is None:
            self._short = _Model(self.spec, "shortfall")
        return self._short

    def _members_cost(self, mask: int, plan: np.ndarray) -> float:
        inm = self.spec.players.in_mask(mask)
        member = np.zeros(len(self._cp), dtype=bool)
        member[self._cp >= 0] = inm[self._cp[self._cp >= 0]]
        return float(self._cost(plan)[member].sum())

    def _run(self, which: str, mask: int, elastic: bool = False, cap: float | None = None):
        """(model, outcome) of one LP of the coalition. A warm start that ends in numerical
        trouble (HiGHS's status unknown) is solved once more from a fresh model, cold."""
        model = self.main if which == "main" else self.short
        model.apply(mask, elastic, cap)
        out = model.solve()
        self.lps += 1
        if out.status not in (Status.OPTIMAL, Status.INFEASIBLE):
            model = _Model(self.spec, "cost" if which == "main" else "shortfall")
            if which == "main":
                self.main = model
            else:
                self._short = model
            model.apply(mask, elastic, cap)
            out = model.solve()
            self.lps += 1
            self.rebuilds += 1
        return model, out

    def value(self, mask: int, want_plan: bool = False):
        """(Value, the plan [S, M] of the chosen rule or None).

        One LP when the coalition meets its targets; else four: the hard LP (infeasible),
        the least total shortfall, the least cost keeping it (``reachable``) and the least
        cost plus the priced shortfall (``penalty``)."""
        mask = int(mask)
        model, out = self._run("main", mask)
        if out.status == Status.OPTIMAL:
            plan = model.plan(out.x)
            cost = self._members_cost(mask, plan)
            return Value(mask, "optimal", True, cost, 0.0, cost, 0.0), (plan if want_plan else None)
        if out.status != Status.INFEASIBLE:
            return _failed(mask, out), None
        short, least = self._run("short", mask, elastic=True)
        if least.status != Status.OPTIMAL:
            return _failed(mask, least), None
        v = short.shortfall(least.x)
        model, reach = self._run("main", mask, elastic=True,
                                 cap=v * (1 + REACH_REL_TOL) + REACH_ABS_TOL)
        if reach.status != Status.OPTIMAL:
            return _failed(mask, reach), None
        reach_plan = model.plan(reach.x)
        reach_cost = self._members_cost(mask, reach_plan)
        reach_short = model.shortfall(reach.x)
        if v <= REACH_ABS_TOL:  # infeasible only within HiGHS's tolerances: the targets are met
            value = Value(mask, "optimal", True, reach_cost, 0.0, reach_cost, 0.0)
            return value, (reach_plan if want_plan else None)
        model, pen = self._run("main", mask, elastic=True)
        if pen.status != Status.OPTIMAL:
            return _failed(mask, pen), None
        pen_plan = model.plan(pen.x)
        pen_short = model.shortfall(pen.x)
        pen_cost = self._members_cost(mask, pen_plan) + self.spec.price_mcny * pen_short
        if self.spec.unmet == "penalty":
            value = Value(mask, "optimal", False, pen_cost, pen_short, reach_cost, reach_short)
            plan = pen_plan
        else:
            value = Value(mask, "optimal", False, reach_cost, reach_short, pen_cost, pen_short)
            plan = reach_plan
        return value, (plan if want_plan else None)


def _failed(mask: int, out) -> Value:
    return Value(mask, out.status.value, False, math.nan, math.nan, math.nan, math.nan)


# --- one solver per worker process -----------------------------------------------------------

_SOLVERS: dict[str, CoalitionSolver] = {}


def solver_for(spec: GameSpec) -> CoalitionSolver:
    """The process's solver of this game, built on first use (one model per worker)."""
    solver = _SOLVERS.get(spec.key)
    if solver is None:
        _SOLVERS.clear()
        solver = _SOLVERS[spec.key] = CoalitionSolver(spec)
    return solver


def solve_chunk(task) -> list[tuple]:
    """A Dask (or in-process) task: ``(spec, masks)`` -> one Value tuple per mask, solved
    in the given order (consecutive masks differ little: warm starts stay close)."""
    spec, masks = task
    solver = solver_for(spec)
    return [tuple(solver.value(int(m))[0]) for m in masks]


def gray_order(n: int) -> np.ndarray:
    """Every non-empty coalition of n players, consecutive ones differing by one player."""
    k = np.arange(1, 1 << n, dtype=np.int64)
    return k ^ (k >> 1)
