r"""Allocations of a cost game: Shapley (exact and sampled), nucleolus, least core,
proportional shares, and the core check. Pure functions of the coalition costs.

A game of n players is given by the costs of coalitions, coalitions being bit masks
(bit i: player i). Exact methods take ``c``, an array of the 2^n costs indexed by mask
(``c[0] = 0``); methods over a subset of coalitions (constraint generation, large n)
take ``masks`` and ``costs`` arrays. Units are the caller's.

For a cost game the **excess** of coalition S at allocation x is
``e(S, x) = c(S) - x(S)``: what S would save by leaving (when negative) or what it gains
by staying. The **core** is ``{x : x(N) = c(N), e(S, x) >= 0 for every S}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


def popcount(masks: np.ndarray) -> np.ndarray:
    masks = np.asarray(masks, dtype=np.int64)
    out = np.zeros(masks.shape, dtype=np.int64)
    m = masks.copy()
    while m.any():
        out += m & 1
        m >>= 1
    return out


def incidence(masks: np.ndarray, n: int) -> np.ndarray:
    """[len(masks), n] 0/1 membership of each coalition."""
    masks = np.asarray(masks, dtype=np.int64)
    return ((masks[:, None] >> np.arange(n)) & 1).astype(float)


def subset_sums(x: np.ndarray, n: int) -> np.ndarray:
    """x(S) for every mask S of n players."""
    total = np.zeros(1 << n)
    masks = np.arange(1 << n)
    for i in range(n):
        total[(masks >> i) & 1 == 1] += x[i]
    return total


# --- Shapley ----------------------------------------------------------------------------

def shapley_exact(c: np.ndarray, n: int) -> np.ndarray:
    r"""``phi_i = sum_{S not containing i} |S|! (n-|S|-1)! / n! (c(S + i) - c(S))``."""
    c = np.asarray(c, dtype=float)
    masks = np.arange(1 << n, dtype=np.int64)
    size = popcount(masks)
    weight = np.array([math.exp(math.lgamma(k + 1) + math.lgamma(n - k) - math.lgamma(n + 1))
                       for k in range(n)])
    phi = np.zeros(n)
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        phi[i] = float((weight[size[without]] * (c[without | (1 << i)] - c[without])).sum())
    return phi


def marginals(perms: np.ndarray, cost_of) -> np.ndarray:
    """[m, n] marginal cost of each player in each permutation (rows of ``perms``);
    ``cost_of(mask)`` gives a coalition's cost (c(empty) = 0)."""
    m, n = perms.shape
    out = np.zeros((m, n))
    for k, perm in enumerate(perms):
        mask, before = 0, 0.0
        for i in perm:
            mask |= 1 << int(i)
            now = cost_of(mask)
            out[k, i] = now - before
            before = now
    return out


def prefix_masks(perms: np.ndarray) -> list[int]:
    """The coalitions the permutations visit, in visiting order, without repeats."""
    seen: dict[int, None] = {}
    for perm in perms:
        mask = 0
        for i in perm:
            mask |= 1 << int(i)
            seen.setdefault(mask, None)
    return list(seen)


@dataclass
class Sampled:
    """A sampled Shapley value (Castro, Gómez & Tejada 2009): the mean marginal cost of each
    player over random orders, with its standard error."""

    value: np.ndarray        # [n]
    se: np.ndarray           # [n] standard error of each player's mean
    permutations: np.ndarray  # [m, n] the orders drawn
    converged: bool          # every standard error at or below the target
    se_target: float
    stopped_by: str = ""


def shapley_from_permutations(perms: np.ndarray, cost_of) -> tuple[np.ndarray, np.ndarray]:
    """(mean, standard error) of each player's marginal cost over ``perms``."""
    marg = marginals(perms, cost_of)
    m = len(perms)
    se = marg.std(axis=0, ddof=1) / math.sqrt(m) if m > 1 else np.full(perms.shape[1], np.inf)
    return marg.mean(axis=0), se


def sample_shapley(n: int, evaluate, *, cost_of, se_target: float, seed: int = 0,
                   batch: int = 16, min_permutations: int = 32,
                   max_permutations: int = 2000, progress=None) -> Sampled:
    """Draw random orders in batches until every player's standard error is at most
    ``se_target`` (after at least ``min_permutations``) or ``max_permutations`` are drawn.

    ``evaluate(masks)`` solves the coalitions a batch visits (those not known yet);
    ``cost_of(mask)`` then gives each cost. Each order's marginal costs sum to c(N), so
    the estimate is efficient exactly. The orders depend on ``seed`` and ``batch`` only.
    """
    rng = np.random.default_rng(seed)
    perms = np.zeros((0, n), dtype=np.int64)
    value, se = np.zeros(n), np.full(n, np.inf)
    stopped = "max_permutations"
    while len(perms) < max_permutations:
        new = np.array([rng.permutation(n) for _ in range(min(batch, max_permutations - len(perms)))])
        evaluate(prefix_masks(new))
        perms = np.vstack([perms, new])
        value, se = shapley_from_permutations(perms, cost_of)
        if progress is not None:
            progress(len(perms), float(se.max()))
        if len(perms) >= min_permutations and se.max() <= se_target:
            stopped = "standard_error"
            break
    return Sampled(value, se, perms, bool(se.max() <= se_target), se_target, stopped)


# --- core, least core, nucleolus ---------------------------------------------------------

def _proper(masks, costs, n):
    """Coalitions other than the empty one and N, with their costs."""
    masks = np.asarray(masks, dtype=np.int64)
    costs = np.asarray(costs, dtype=float)
    keep = (masks != 0) & (masks != (1 << n) - 1)
    return masks[keep], costs[keep]


def excesses(x: np.ndarray, masks, costs, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(masks, c(S) - x(S)) over the proper coalitions given."""
    masks, costs = _proper(masks, costs, n)
    return masks, costs - incidence(masks, n) @ np.asarray(x, dtype=float)


def core_check(x: np.ndarray, masks, costs, n: int, c_full: float, tol: float,
               top: int = 5) -> dict:
    """Is x in the core (among the coalitions given)? The coalitions that would do best
    by leaving: ``saving = x(S) - c(S) > 0``."""
    ms, e = excesses(x, masks, costs, n)
    order = np.argsort(e, kind="stable")
    blocking = [{"mask": int(ms[k]), "saving": float(-e[k])} for k in order[:top] if e[k] < -tol]
    return {"in_core": bool(len(e) == 0 or e.min() >= -tol) and abs(float(np.sum(x)) - c_full) <= tol,
            "min_excess": float(e.min()) if len(e) else 0.0, "blocking": blocking,
            "coalitions_checked": int(len(e) + 1)}


@dataclass
class Nucleolus:
    value: np.ndarray
    epsilon: list = field(default_factory=list)  # the least excess fixed at each stage
    over: str = "pre-imputations"                # or "imputations"
    lps: int = 0


def _linprog(c, A_ub, b_ub, A_eq, b_eq, bounds):
    from scipy.optimize import linprog

    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"the allocation LP did not solve: {res.message}")
    return res


def least_core(masks, costs, n: int, c_full: float, near: np.ndarray | None = None):
    """(epsilon*, x): the largest epsilon with ``c(S) - x(S) >= epsilon`` for every proper
    coalition given, x efficient; epsilon* >= 0 iff the core is non-empty. Of the least-core
    allocations, x is the one nearest ``near`` (L1; e.g. the Shapley value), else any."""
    ms, cs = _proper(masks, costs, n)
    scale = max(1.0, float(np.abs(cs).max(initial=0.0)), abs(c_full))
    cs, cf = cs / scale, c_full / scale
    A = sp.csr_array(incidence(ms, n))
    ones = np.ones((len(ms), 1))
    # max eps  s.t.  x(S) + eps <= c(S),  x(N) = c(N)
    res = _linprog(np.r_[np.zeros(n), -1.0], sp.hstack([A, ones], format="csr"), cs,
                   np.r_[np.ones(n), 0.0][None, :], [cf], [(None, None)] * (n + 1))
    eps = -res.fun
    x = res.x[:n]
    if near is not None:
        # min sum t  s.t.  x(S) <= c(S) - eps,  x(N) = c(N),  -t <= x - near <= t
        p = np.asarray(near, dtype=float) / scale
        I = sp.identity(n, format="csr")
        A_ub = sp.vstack([sp.hstack([A, sp.csr_array((len(ms), n))]),
                          sp.hstack([I, -I]), sp.hstack([-I, -I])], format="csr")
        slack = 1e-9 * max(1.0, abs(eps))
        b_ub = np.r_[cs - eps + slack, p, -p]
        res2 = _linprog(np.r_[np.zeros(n), np.ones(n)], A_ub, b_ub,
                        np.r_[np.ones(n), np.zeros(n)][None, :], [cf], [(None, None)] * (2 * n))
        x = res2.x[:n]
    return eps * scale, x * scale


def nucleolus(masks, costs, n: int, c_full: float, singletons: np.ndarray | None = None,
              tol: float = 1e-9) -> Nucleolus:
    """The nucleolus by a sequence of LPs (Maschler, Peleg & Shapley; Kohlberg).

    Stage k maximises the least excess epsilon_k of the coalitions not yet fixed; the
    coalitions whose row has a positive dual are tight in every optimum and are fixed at
    ``x(S) = c(S) - epsilon_k``; coalitions whose membership vector lies in the span of the
    fixed ones have a constant excess and leave the LP. It ends when the fixed rows
    determine x. With ``singletons`` (the stand-alone costs) and sum c({i}) >= c(N), x is
    kept individually rational (the nucleolus over imputations); otherwise over all
    efficient allocations (the pre-nucleolus; equal to the nucleolus when the core is
    non-empty).
    """
    ms, cs = _proper(masks, costs, n)
    scale = max(1.0, float(np.abs(cs).max(initial=0.0)), abs(c_full))
    cs, cf = cs / scale, c_full / scale
    V = incidence(ms, n)
    bounds = [(None, None)] * n
    over = "pre-imputations"
    if singletons is not None and float(np.sum(singletons)) >= c_full - 1e-9 * scale:
        bounds = [(None, float(v) / scale) for v in singletons]
        over = "imputations"
    fixed_A = [np.ones(n)]
    fixed_b = [cf]
    free = np.ones(len(ms), dtype=bool)
    result = Nucleolus(np.zeros(n), [], over)
    x = None
    while True:
        basis = np.array(fixed_A)
        if np.linalg.matrix_rank(basis) >= n:
            break
        free &= ~_in_span(V, basis)
        idx = np.flatnonzero(free)
        if len(idx) == 0:
            break
        A = sp.hstack([sp.csr_array(V[idx]), np.ones((len(idx), 1))], format="csr")
        A_eq = np.hstack([basis, np.zeros((len(basis), 1))])
        res = _linprog(np.r_[np.zeros(n), -1.0], A, cs[idx], A_eq, np.array(fixed_b),
                       bounds + [(None, None)])
        result.lps += 1
        eps = -res.fun
        x = res.x[:n]
        dual = -np.asarray(res.ineqlin.marginals)
        tight = idx[dual > tol]
        if len(tight) == 0:  # cannot happen (the duals of the free rows sum to 1); be safe
            tight = idx[np.argsort(cs[idx] - V[idx] @ x)[:1]]
        result.epsilon.append(eps * scale)
        for k in tight:
            fixed_A.append(V[k])
            fixed_b.append(cs[k] - eps)
        free[tight] = False
    if x is None or np.linalg.matrix_rank(np.array(fixed_A)) >= n:
        x = np.linalg.lstsq(np.array(fixed_A), np.array(fixed_b), rcond=None)[0]
    result.value = x * scale
    return result


def _in_span(V: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """[len(V)] whether each row of V is a combination of the rows of ``basis``."""
    q, r = np.linalg.qr(basis.T)  # columns of q span the row space (up to rank)
    keep = np.abs(np.diag(r)) > 1e-9 if r.size else np.zeros(0, dtype=bool)
    q = q[:, keep] if keep.size else q[:, :0]
    resid = V - (V @ q) @ q.T
    return np.abs(resid).max(axis=1) < 1e-8


# --- proportional shares -----------------------------------------------------------------

def proportional(weights: np.ndarray, c_full: float) -> np.ndarray:
    """``c(N) * w_i / sum w`` (NaN for every player when the weights sum to 0)."""
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    if total <= 0:
        return np.full(len(w), np.nan)
    return c_full * w / total


# --- axioms ------------------------------------------------------------------------------

def symmetric_pairs(c: np.ndarray, n: int, tol: float) -> list[tuple[int, int]]:
    """Pairs (i, j) with c(S + i) = c(S + j) for every S holding neither."""
    masks = np.arange(1 << n, dtype=np.int64)
    pairs = []
    for i in range(n):
        for j in range(i + 1, n):
            without = masks[((masks >> i) & 1 == 0) & ((masks >> j) & 1 == 0)]
            if np.all(np.abs(c[without | (1 << i)] - c[without | (1 << j)]) <= tol):
                pairs.append((i, j))
    return pairs


def null_players(c: np.ndarray, n: int, tol: float) -> list[int]:
    """Players with c(S + i) = c(S) for every S."""
    masks = np.arange(1 << n, dtype=np.int64)
    return [i for i in range(n)
            if np.all(np.abs(c[masks[(masks >> i) & 1 == 0] | (1 << i)]
                             - c[masks[(masks >> i) & 1 == 0]]) <= tol)]
