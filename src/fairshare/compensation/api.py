"""``compensate``: the cooperative cost game of joint control, its allocations and transfers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fairshare.compensation import allocation as al
from fairshare.compensation.evaluate import Evaluator, Runner, Store
from fairshare.compensation.game import (RULES, GameError, GameSpec, gray_order, solver_for,
                                         target_holders)
from fairshare.compensation.players import Players, resolve_players
from fairshare.errors import InputError, Problem
from fairshare.solver import Status
from fairshare.units import CNY_PER_MCNY

METHODS = ("shapley", "nucleolus", "least_core", "proportional:gdp", "proportional:polluter",
           "proportional:benefit")
GAME_METHODS = ("shapley", "nucleolus", "least_core")  # those that read coalition costs
EXACT_MAX = 16      # exact up to this many players (2^16 = 65,536 coalition LPs) by default
EXACT_LIMIT = 24    # never exact above this
SEPARATION_START = 10  # constraint generation: local search from this many lowest excesses
SEPARATION_ROUNDS = 20


@dataclass
class Compensation:
    """The tables of a compensation game; costs in CNY/yr.

    ``allocation``: one row per player (members, cost in the joint plan, stand-alone
    cost, then ``alloc_<method>_cny`` and ``transfer_<method>_cny`` per method);
    ``transfers``: the payments (method, from, to, amount_cny); ``coalitions``: every
    coalition's cost when the game is exact (else None); ``summary``: everything else
    (strict-JSON ready).
    """

    scenario: str
    players: Players
    allocation: pd.DataFrame
    transfers: pd.DataFrame
    coalitions: pd.DataFrame | None
    summary: dict
    costs_cny: np.ndarray | None = field(default=None, repr=False)  # c by mask (exact)


def method_key(method: str) -> str:
    return method.replace(":", "_")


def parse_methods(methods) -> list[str]:
    """Method names from a list (or comma-separated strings), checked, without repeats."""
    if isinstance(methods, str):
        methods = [methods]
    names = [m.strip() for item in methods for m in str(item).split(",") if m.strip()]
    problems = []
    for m in names:
        if m not in METHODS:
            hint = ("; give one of proportional:gdp, proportional:polluter, proportional:benefit"
                    if m.startswith("proportional") else "")
            problems.append(Problem("methods", f"unknown method {m!r}: use {', '.join(METHODS)}{hint}",
                                    column="method"))
    if problems:
        raise InputError(problems)
    if not names:
        raise InputError([Problem("methods", "no method given", column="method")])
    return list(dict.fromkeys(names))


def compensate(scenario, players="city", methods=("shapley",), *, others: str = "baseline",
               unmet: str = "penalty", penalty_cny_per_ugm3: float | None = None,
               exact: bool | None = None, exact_max: int = EXACT_MAX, se_target: float = 0.01,
               seed: int = 0, batch: int = 16, min_permutations: int = 32,
               max_permutations: int = 2000, via: str = "direct", receptor_owner=None,
               workers: int | None = None, scheduler: str | None = None, progress: bool = False,
               cache: str | Path | None = None, fresh: bool = False) -> Compensation:
    """Who pays whom: the cooperative cost game of joint control (docs/compensation.md).

    ``scenario``: a scenario file, object or prepared Instance. ``players``: ``"city"``,
    ``"province"``, ``"zone"``, a mapping ``{player: [cities]}`` / ``{city: player}`` or a
    CSV/YAML file. ``methods``: any of ``shapley``, ``nucleolus``, ``least_core``,
    ``proportional:gdp|polluter|benefit``. ``others``: non-members at ``baseline`` or
    carrying out their ``standalone`` plans. ``unmet``: the rule for coalitions that cannot
    meet their targets alone, ``penalty`` (shortfall priced at ``penalty_cny_per_ugm3``,
    default the highest shadow price of the joint plan) or ``reachable`` (the least total
    shortfall, then least cost); both are computed, the other one as a sensitivity.

    The game is exact (every coalition) up to ``exact_max`` players, else sampled: random
    orders until every player's standard error of its Shapley value is at most
    ``se_target`` times c(N) (or ``max_permutations`` orders), and the nucleolus and least
    core over the coalitions met, by constraint generation. ``cache``: a file of solved
    coalitions to resume from and append to. Raises :class:`~fairshare.errors.InputError`
    for bad arguments and :class:`GameError` when the joint plan or a coalition does not
    solve.
    """
    from fairshare.api import least_cost_variant, prepare
    from fairshare.instance import Instance

    t0 = time.perf_counter()
    methods = parse_methods(methods)
    _check_options(others, unmet, via, se_target, exact, exact_max)
    prepared = isinstance(scenario, Instance) or hasattr(scenario, "scenario")  # or a Roadmap
    inst = scenario if prepared else prepare(scenario)
    _single_plan(inst)
    lc = least_cost_variant(inst)
    pl = resolve_players(lc, players, receptor_owner)
    n = pl.n
    exact = n <= exact_max if exact is None else bool(exact)
    if exact and n > EXACT_LIMIT:
        raise InputError([Problem("players", f"{n} players: an exact game needs 2^{n} coalition "
                                             f"LPs; at most {EXACT_LIMIT} players are solved "
                                             "exactly (the Shapley value is sampled above)",
                                  column="exact")])
    price, price_source, joint_prices = _penalty_price(lc, penalty_cny_per_ugm3)
    aq_player, extra = target_holders(lc, pl)
    seconds = {"prepare": time.perf_counter() - t0}

    t1 = time.perf_counter()
    spec = GameSpec(lc, pl, "baseline", unmet, price, aq_player, extra).with_key()
    full = pl.full
    base_values, plans = _singletons_and_joint(spec, n)
    if others == "standalone":
        fixed = np.zeros_like(plans[full])
        for i in range(n):
            fixed[pl.city_player == i] = plans[1 << i][pl.city_player == i]
        spec = GameSpec(lc, pl, "standalone", unmet, price, aq_player, extra, fixed).with_key()
        base_values, plans = _singletons_and_joint(spec, n)
    joint = base_values[full]
    if joint.status != "optimal" or not joint.met:
        known = joint.status in Status._value2member_map_ and joint.status != "optimal"
        raise GameError(f"the joint plan of the players does not solve "
                        f"({joint.status if known else 'infeasible'}): there is no cooperative "
                        "plan to share; `fairshare run` explains why",
                        Status(joint.status) if known else Status.INFEASIBLE)

    from tqdm.auto import tqdm

    store = Store(cache, spec.key, list(pl.names), fresh=fresh)
    first = [v for v in base_values.values() if v.mask not in store]
    store.add(first)
    bar = tqdm(total=(1 << n) - 1 if exact else None, initial=len(store), desc="coalitions",
               unit="coalition", leave=False, disable=None if progress else True)
    sampled = None
    try:
        with Runner(workers, scheduler) as runner:
            ev = Evaluator(spec, store, runner, bar)
            if exact:
                ev.ensure(gray_order(n))
            else:
                scale = max(abs(joint.cost), 1e-12)

                def show(m, se):
                    bar.set_postfix_str(f"{m} orders, largest SE {se / scale:.2%} of c(N)")

                sampled = al.sample_shapley(n, ev.ensure, cost_of=ev.cost,
                                            se_target=se_target * abs(joint.cost), seed=seed,
                                            batch=batch, min_permutations=min_permutations,
                                            max_permutations=max_permutations, progress=show)
            seconds["coalitions"] = time.perf_counter() - t1
            failed = ev.failed()
            if failed:
                shown = "; ".join(f"{pl.label(v.mask)}: {v.status}" for v in failed[:5])
                status = failed[0].status
                raise GameError(f"{len(failed)} coalition LP(s) did not solve ({shown}); raise "
                                "solver.time_limit_s or try solver.method: ipm",
                                Status(status) if status in Status._value2member_map_ else
                                Status.ERROR)
            t2 = time.perf_counter()
            result = _allocate(lc, pl, ev, methods, exact, sampled, plans[full], base_values)
            seconds["allocations"] = time.perf_counter() - t2
    finally:
        bar.close()
        store.close()
    seconds["total"] = time.perf_counter() - t0
    from fairshare.compensation.report import assemble

    return assemble(lc, inst, pl, ev, result, dict(
        methods=methods, exact=exact, sampled=sampled, others=others, unmet=unmet, price=price,
        price_source=price_source, joint_prices=joint_prices, seconds=seconds, seed=seed,
        batch=batch, se_target=se_target, via=via, resumed=store.resumed, store_note=store.note,
        cache=str(cache) if cache else None, solved_this_run=ev.solved + len(first)))


def _single_plan(inst) -> None:
    """The game shares one plan of one year under one transport matrix."""
    from fairshare.instance import Instance

    sc = getattr(inst, "scenario", None)
    what = None
    if sc is not None and (getattr(sc, "years", None) or not isinstance(inst, Instance)):
        what = "a roadmap (years:)"
    elif getattr(inst, "members", None):
        what = "a robust plan over transport members (transport: robust)"
    if what is not None:
        file, line = sc.locate("years" if "roadmap" in what else "transport")
        raise InputError([Problem(file, f"the compensation game shares one plan of one year under "
                                        f"one transport matrix; {what} is not supported: give "
                                        "year: and at most transport: {member: ...}", line)])


def _check_options(others, unmet, via, se_target, exact, exact_max) -> None:
    problems = []
    if others not in ("baseline", "standalone"):
        problems.append(Problem("others", f"others must be baseline or standalone, not {others!r}"))
    if unmet not in RULES:
        problems.append(Problem("unmet", f"unmet must be one of {', '.join(RULES)}, not {unmet!r}"))
    if via not in ("direct", "fund"):
        problems.append(Problem("via", f"via must be direct or fund, not {via!r}"))
    if not (se_target > 0):
        problems.append(Problem("se_target", f"se_target must be positive, not {se_target!r}"))
    if exact_max < 1:
        problems.append(Problem("exact_max", "exact_max must be at least 1"))
    if problems:
        raise InputError(problems)


def _penalty_price(lc, given: float | None):
    """The penalty (million CNY/yr per µg/m³), where it comes from, and the joint plan's
    shadow prices by receptor (CNY/yr per µg/m³)."""
    from fairshare.api import build_model
    from fairshare.families.concentration import shadow_prices_cny_per_ugm3
    from fairshare.solver import solve_model

    opts = lc.scenario.solver
    model = build_model(lc)
    out = solve_model(model, opts.time_limit_s, opts.threads, opts.method)
    if out.status != Status.OPTIMAL:
        raise GameError(f"the scenario's least-cost plan does not solve ({out.status.value}): "
                        "there is no joint plan to share; `fairshare run` explains why",
                        out.status)
    prices = shadow_prices_cny_per_ugm3(lc, model)
    d = lc.data
    named = {f"{d.metrics[q]} at {d.receptors[r]}": float(p)
             for q, r, p in zip(lc.aq.metric, lc.aq.receptor, prices)}
    if given is not None:
        if not given >= 0:
            raise InputError([Problem("penalty", f"the penalty must be 0 or more CNY/yr per µg/m³, "
                                                 f"not {given!r}", column="penalty")])
        return float(given) / CNY_PER_MCNY, "given", named
    if not len(prices) or prices.max() <= 0:
        return 0.0, "no target binds in the joint plan: penalty 0", named
    k = int(np.argmax(prices))
    where = list(named)[k]
    return (float(prices[k]) / CNY_PER_MCNY,
            f"the highest shadow price of a target in the least-cost plan ({where})", named)


def _singletons_and_joint(spec: GameSpec, n: int):
    """Values and plans of N and every single player, in this process."""
    solver = solver_for(spec)
    values, plans = {}, {}
    for mask in [spec.players.full] + [1 << i for i in range(n)]:
        v, plan = solver.value(mask, want_plan=True)
        values[mask], plans[mask] = v, plan
    return values, plans


# --- allocations -------------------------------------------------------------------------

@dataclass
class Allocated:
    plan_cost: np.ndarray            # [n] M CNY/yr: each player's own cost in the joint plan
    standalone: np.ndarray           # [n] c({i})
    c_full: float
    alloc: dict                      # method -> [n]
    alt: dict                        # method -> [n] under the other rule
    se: dict                         # method -> [n] (sampled Shapley)
    core: dict                       # method -> core check
    least_core_eps: float | None
    nucleolus_over: str | None
    pool: int                        # coalitions the core checks covered
    exhaustive: bool
    plan: np.ndarray                 # [S, M] joint plan
    weights: dict                    # proportional method -> [n] weights


def _allocate(lc, pl: Players, ev: Evaluator, methods, exact, sampled, plan,
              base_values) -> Allocated:
    n, full = pl.n, pl.full
    cost = lc.measure_cost_mcny(plan).sum(axis=1)  # [S]
    plan_cost = np.array([cost[pl.city_player == i].sum() for i in range(n)])
    singles = np.array([base_values[1 << i].cost for i in range(n)])
    singles_alt = np.array([base_values[1 << i].alt_cost for i in range(n)])
    c_full = ev.cost(full)  # N meets its targets: the same under both rules
    tol = 1e-6 * max(1.0, abs(c_full))
    needs_rule = any(not v.met for v in ev.store.values.values())
    alloc, alt, se, weights = {}, {}, {}, {}
    if exact:
        c, c_alt = ev.arrays(n)
        masks = np.arange(1 << n, dtype=np.int64)
        sh, sh_alt = al.shapley_exact(c, n), al.shapley_exact(c_alt, n)
    else:
        sh, se["shapley"] = sampled.value, sampled.se
        sh_alt, _ = al.shapley_from_permutations(sampled.permutations, ev.alt_cost)
    eps = nucleolus_over = None
    if "shapley" in methods:
        alloc["shapley"], alt["shapley"] = sh, sh_alt
    if "least_core" in methods or exact:
        eps, x = al.least_core(*_pool(ev, n)[:2], n, c_full, near=sh)
        while not exact and _search(ev, pl, n, x, eps - tol, tol):
            eps, x = al.least_core(*_pool(ev, n)[:2], n, c_full, near=sh)
        if "least_core" in methods:
            masks, c, c_alt = _pool(ev, n)
            alloc["least_core"] = x
            alt["least_core"] = al.least_core(masks, c_alt, n, c_full, near=sh_alt)[1] \
                if needs_rule else x
    if "nucleolus" in methods:
        nu = al.nucleolus(*_pool(ev, n)[:2], n, c_full, singletons=singles)
        while not exact and _search(ev, pl, n, nu.value,
                                    al.excesses(nu.value, *_pool(ev, n)[:2], n)[1].min() - tol, tol):
            nu = al.nucleolus(*_pool(ev, n)[:2], n, c_full, singletons=singles)
        masks, c, c_alt = _pool(ev, n)
        nucleolus_over = nu.over
        alloc["nucleolus"] = nu.value
        alt["nucleolus"] = al.nucleolus(masks, c_alt, n, c_full, singletons=singles_alt).value \
            if needs_rule else nu.value
    for m in methods:
        if m.startswith("proportional"):
            weights[m] = _weights(lc, pl, m, plan)
            alloc[m] = alt[m] = al.proportional(weights[m], c_full)
    alloc = {m: alloc[m] for m in methods}
    alt = {m: alt[m] for m in methods}
    if not exact:
        for x in alloc.values():
            if np.isfinite(x).all():
                _search(ev, pl, n, x, -tol, tol)
    masks, c, _ = _pool(ev, n)
    core = {m: al.core_check(x, masks, c, n, c_full, tol) if np.isfinite(x).all() else None
            for m, x in alloc.items()}
    return Allocated(plan_cost, singles, c_full, alloc, alt, se, core, eps, nucleolus_over,
                     len(masks), exact, plan, weights)


def _pool(ev: Evaluator, n: int):
    """(masks, costs, alternative costs) of every coalition solved so far."""
    masks = np.array(sorted(ev.store.values), dtype=np.int64)
    masks = masks[masks < (1 << n)]
    c = np.array([ev.cost(m) for m in masks])
    alt = np.array([ev.alt_cost(m) for m in masks])
    return masks, c, alt


def _search(ev: Evaluator, pl: Players, n: int, x: np.ndarray, threshold: float,
            tol: float) -> bool:
    """Constraint generation's separation for a sampled game, by local search: from the
    coalitions of lowest excess at x, solve every coalition one player away that is not
    known yet, and go on from the new lowest while the excess falls. True when a coalition
    with an excess below ``threshold`` was found. It does not prove that no coalition
    elsewhere has a lower excess."""
    full = pl.full
    ev.ensure([full ^ (1 << i) for i in range(n)])
    found = False
    for _ in range(SEPARATION_ROUNDS):
        ms, e = al.excesses(x, *_pool(ev, n)[:2], n)
        if not len(ms):
            break
        floor = float(e.min())
        starts = ms[np.argsort(e, kind="stable")[:SEPARATION_START]]
        new = sorted({int(m) ^ (1 << i) for m in starts for i in range(n)} - {0, full}
                     - set(ev.store.values))
        if not new:
            break
        ev.ensure(new)
        _, ne = al.excesses(x, np.array(new, dtype=np.int64),
                            np.array([ev.cost(m) for m in new]), n)
        lowest = float(ne.min()) if len(ne) else np.inf
        found |= lowest < threshold
        if lowest >= floor - tol:
            break
    return found


def _weights(lc, pl: Players, method: str, plan: np.ndarray) -> np.ndarray:
    """The weights of a proportional scheme, per player."""
    from fairshare.families.polluter_pays import causal_shares
    from fairshare.results import final_concentration

    d = lc.data
    n = pl.n
    kind = method.split(":", 1)[1]
    if kind == "gdp":
        per_city = d.gdp_bn_cny.astype(float)
    elif kind == "polluter":
        per_city = causal_shares(lc)
    else:  # benefit: population x µg/m³ of reduction at the player's targeted receptors
        dE = np.einsum("smp,sm->sp", lc.removal_kt, plan)
        after = final_concentration(lc, dE)
        before = np.nan_to_num(d.baseline_ugm3)
        w = np.zeros(n)
        for q, r in zip(lc.aq.metric, lc.aq.receptor):
            i = pl.receptor_player[r]
            if i >= 0:
                w[i] += d.receptor_population[r] * max(0.0, before[q, r] - after[q, r])
        return w
    return np.array([per_city[pl.city_player == i].sum() for i in range(n)])
