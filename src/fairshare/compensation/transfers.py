"""Transfers: who pays whom so that each player bears its allocation.

A player's **transfer** is its allocation minus what its own measures cost in the joint
plan: positive, it pays that much; negative, it receives it. Transfers sum to zero
because an allocation is efficient (it shares out exactly c(N), the cost of the joint
plan). The payments table settles them:

* ``direct``: payer -> receiver flows, as few as possible: the balances are split into
  the largest number of groups that each sum to zero (exact by dynamic programming over
  subsets for up to 16 non-zero balances, greedy beyond), and each group of k players is
  settled with k - 1 flows (the largest payer to the largest receiver first);
* ``fund``: every payer pays a regional fund and the fund pays every receiver (one flow
  per player with a non-zero balance).
"""

from __future__ import annotations

import numpy as np

FUND = "regional fund"
EXACT_MAX = 16
ZERO_SUM_MAX = 4096  # zero-sum subsets searched exactly; beyond, one greedy group


def settle(names: list[str], balance: np.ndarray, tol: float, via: str = "direct") -> list[tuple]:
    """(payer, receiver, amount) flows settling ``balance`` (positive: pays)."""
    b = np.where(np.abs(balance) > tol, np.asarray(balance, dtype=float), 0.0)
    if via == "fund":
        return ([(names[i], FUND, float(b[i])) for i in np.flatnonzero(b > 0)]
                + [(FUND, names[i], float(-b[i])) for i in np.flatnonzero(b < 0)])
    active = np.flatnonzero(b != 0)
    groups = _zero_sum_groups(b[active], tol) if len(active) <= EXACT_MAX else [list(range(len(active)))]
    flows = []
    for group in groups:
        flows += _greedy([names[active[k]] for k in group], b[active[group]], tol)
    return flows


def _greedy(names: list[str], b: np.ndarray, tol: float) -> list[tuple]:
    """Largest payer to largest receiver until settled: at most len(names) - 1 flows."""
    b = b.astype(float).copy()
    flows = []
    while True:
        i, j = int(np.argmax(b)), int(np.argmin(b))
        if b[i] <= tol or b[j] >= -tol:
            break
        amount = min(b[i], -b[j])
        flows.append((names[i], names[j], float(amount)))
        b[i] -= amount
        b[j] += amount
    return flows


def _zero_sum_groups(b: np.ndarray, tol: float) -> list[list[int]]:
    """The partition of the balances into the most groups summing to zero (each group's
    flows are its size - 1, so the most groups is the fewest flows)."""
    k = len(b)
    if k == 0:
        return []
    full = (1 << k) - 1
    sums = np.zeros(1 << k)
    masks = np.arange(1 << k)
    for i in range(k):
        sums[(masks >> i) & 1 == 1] += b[i]
    zero = np.abs(sums) <= tol * max(1, k)
    # best[m]: the most zero-sum groups a zero-sum m splits into; built over zero-sum masks
    best = np.full(1 << k, -1, dtype=int)
    choice = np.zeros(1 << k, dtype=np.int64)
    best[0] = 0
    candidates = np.flatnonzero(zero)[1:]
    if len(candidates) > ZERO_SUM_MAX:  # many zero-sum subsets (round numbers): greedy
        return [list(range(k))]
    for m in candidates:
        m = int(m)
        low = m & -m  # the group holding the lowest member: a zero-sum submask containing it
        sub = m
        while sub:
            if sub & low and zero[sub] and best[m ^ sub] >= 0 and best[m ^ sub] + 1 > best[m]:
                best[m], choice[m] = best[m ^ sub] + 1, sub
            sub = (sub - 1) & m
    if best[full] < 0:  # the balances do not sum to zero within tol: one group
        return [list(range(k))]
    groups, m = [], full
    while m:
        sub = int(choice[m])
        groups.append([i for i in range(k) if sub >> i & 1])
        m ^= sub
    return groups
