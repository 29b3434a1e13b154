"""Integer hedge counts that minimise a position's CVaR, as a mixed-integer LP.

Rockafellar and Uryasev (2000, 2002): for equally likely scenarios s = 1..N
with position P&L ``P_s`` and per-contract hedge P&L ``G_cs`` (already net of
the hedge's cost), the CVaR at level α of the loss L_s(n) = −(P_s + Σ_c n_c
G_cs) is

    min over ζ of  ζ + 1/(αN) · Σ_s max(L_s(n) − ζ, 0),

so minimising it over integer counts n is the linear program in (n, ζ, u)

    minimise    ζ + 1/(αN) Σ u_s + λ Σ_c cost_c n_c
    subject to  u_s ≥ −P_s − Σ_c G_cs n_c − ζ,  u_s ≥ 0,
                Σ_c cost_c n_c ≤ budget,  n_c ∈ {0, 1, 2, ...}.

λ (``min_cvar_per_dollar``) makes every dollar spent earn at least λ of CVaR
reduction, on top of its own cost (already inside G): with λ = 0.25 a
spread costing $100 must cut the tail loss by $125 before its cost counts.
Only scenarios in or near the tail bind; the program is first solved on the
worst share of scenarios and scenarios are added until none left out would
enter the tail (constraint generation: the answer is that of the full program).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from alvh_cli.method.scenarios import cvar

MAX_CANDIDATES = 24  # candidates handed to the solver, chosen by marginal tail gain per $
SMALL = 6  # integer programs over more candidates keep the LP's choice and the best others
FIRST_CUT = 4.0  # first solve on the worst FIRST_CUT × α share of scenarios
ENUMERATE_LIMIT = 4096  # integer boxes this small are solved by evaluating every point
TIE = 1e-6  # relative: a second point this close to the best leaves the choice to the MILP
EDGE = 1e-6  # dollars: a best point this close to the budget leaves the choice to the MILP


@dataclass(frozen=True)
class Allocation:
    """Counts per candidate (aligned with the candidates given), and the figures.

    ``cvar_before``/``cvar_after`` are P&L (negative = loss) over the
    scenarios given, the hedge cost included after; ``spend`` dollars.
    """

    counts: np.ndarray
    spend: float
    cvar_before: float
    cvar_after: float
    status: str  # "optimal", "no candidates", "no budget", or the solver's message


def choose(
    position_pnl: np.ndarray,
    hedge_pnl: np.ndarray,
    cost: np.ndarray,
    budget: float,
    level: float,
    min_cvar_per_dollar: float = 0.0,
    *,
    integral: bool = True,
    max_candidates: int = MAX_CANDIDATES,
) -> Allocation:
    """The counts of each hedge (rows of ``hedge_pnl``: per contract, per scenario, dollars,
    net of cost) that minimise CVaR of the hedged P&L plus λ × spend within ``budget``.

    ``integral=False`` allows fractions of a contract (the method free of rounding).
    """
    p = np.asarray(position_pnl, dtype=float)
    g = np.asarray(hedge_pnl, dtype=float).reshape(-1, len(p))
    cost = np.asarray(cost, dtype=float)
    before = cvar(p, level)
    zero = np.zeros(len(cost))
    if len(cost) == 0:
        return Allocation(zero, 0.0, before, before, "no candidates")
    cap = np.floor(budget / cost + 1e-9) if integral else budget / cost
    usable = np.flatnonzero((cost > 0) & (cap >= (1 if integral else 1e-9)))
    if len(usable) == 0:
        return Allocation(zero, 0.0, before, before, "no budget")
    usable = _shortlist(p, g, cost, usable, level, max_candidates)
    if integral and len(usable) > SMALL:
        usable = _narrow(p, g, cost, cap, budget, level, usable, min_cvar_per_dollar)

    if integral and _box_size(cap[usable]) <= ENUMERATE_LIMIT:
        counts = _enumerate(
            p, g[usable], cost[usable], cap[usable], budget, level, min_cvar_per_dollar
        )
        if counts is not None:
            full = zero.copy()
            full[usable] = counts
            return Allocation(
                full, float(full @ cost), before, cvar(p + full @ g, level), "optimal"
            )
    n = len(p)
    k = max(1, math.ceil(level * n))
    order = np.argsort(p)
    active = np.sort(order[: min(n, max(k, int(math.ceil(FIRST_CUT * k))) + 1)])
    while True:
        counts, zeta = _solve(
            p, g[usable], cost[usable], cap[usable], budget, level, n, active,
            min_cvar_per_dollar, integral,
        )  # fmt: skip
        if counts is None:
            return Allocation(zero, 0.0, before, before, zeta)
        hedged = p + counts @ g[usable]
        outside = np.setdiff1d(np.arange(n), active)
        # a scenario left out whose loss exceeds ζ would add to the objective: add it, resolve
        late = outside[-hedged[outside] > zeta + 1e-7]
        if len(late) == 0:
            break
        active = np.union1d(active, late)
    full = zero.copy()
    full[usable] = counts
    spend = float(full @ cost)
    return Allocation(full, spend, before, cvar(p + full @ g, level), "optimal")


def _box_size(cap: np.ndarray) -> float:
    """Integer points in the box 0 ≤ n_c ≤ cap_c."""
    return float(np.prod(cap + 1.0))


def _enumerate(p, g, cost, cap, budget, level, lam) -> np.ndarray | None:
    """The integer program solved by evaluating every point of the box within the budget:
    each point's objective is −CVaR of the hedged P&L over every scenario (the full program)
    plus λ × spend. The answer when it is the only optimum: None (the MILP decides, as it
    always did) when another point comes within ``TIE`` of it or its spend is within
    ``EDGE`` of the budget — there the solver's tolerances, not the numbers, would choose,
    and the choice must stay the solver's.

    Exact where it answers: the MILP stops within an absolute gap of 1e-6 (HiGHS's
    default) or a relative gap of 1e-9 of the optimum, so when every other point is worse
    by more than that the MILP's point is this one.
    """
    grids = np.meshgrid(*(np.arange(int(c) + 1, dtype=float) for c in cap), indexing="ij")
    points = np.stack([x.ravel() for x in grids], axis=1)  # every integer point, (K, c)
    spend = points @ cost
    inside = spend <= budget + EDGE
    points, spend = points[inside], spend[inside]
    objective = -cvar_rows(p[None, :] + points @ g, level) + lam * spend
    order = np.argsort(objective, kind="stable")
    best = order[0]
    margin = TIE * max(1.0, abs(float(objective[best])))
    if len(order) > 1 and objective[order[1]] <= objective[best] + margin:
        return None
    if abs(float(spend[best]) - budget) <= EDGE:
        return None
    return points[best]


def cvar_rows(pnl: np.ndarray, level: float) -> np.ndarray:
    """``scenarios.cvar`` of every row of ``pnl`` (rows × scenarios), vectorised: the mean of
    the worst ``level`` share, the boundary outcome counted in part."""
    x = np.sort(pnl, axis=1)
    n = x.shape[1]
    k = level * n
    whole = int(math.floor(k + 1e-9))
    total = x[:, :whole].sum(axis=1)
    if whole < n and k - whole > 1e-9:
        total = total + (k - whole) * x[:, whole]
    return total / k


def _narrow(p, g, cost, cap, budget, level, usable, lam) -> np.ndarray:
    """The candidates the LP relaxation buys, and the best of the rest up to ``SMALL``.

    Spreads on neighbouring strikes are nearly interchangeable, and branch and bound
    over two dozen of them takes a fifth of a second; the integer optimum sits on or
    next to the relaxation's support, so the integer program runs on that support
    topped up with the best-scoring others.
    """
    n = len(p)
    k = max(1, math.ceil(level * n))
    active = np.sort(np.argsort(p)[: min(n, int(math.ceil(FIRST_CUT * k)) + 1)])
    counts, _ = _solve(
        p, g[usable], cost[usable], cap[usable], budget, level, n, active, lam, False
    )
    if counts is None:
        return usable[:SMALL]
    support = usable[counts > 1e-9]
    tail = np.argsort(p)[:k]
    score = g[usable][:, tail].mean(axis=1) / cost[usable]
    ranked = [c for c in usable[np.argsort(-score, kind="stable")] if c not in set(support)]
    return np.sort(np.concatenate([support, ranked[: max(0, SMALL - len(support))]]).astype(int))


def _shortlist(p, g, cost, usable, level, limit) -> np.ndarray:
    """At most ``limit`` candidates: the best mean P&L per dollar over today's tail."""
    if len(usable) <= limit:
        return usable
    k = max(1, math.ceil(level * len(p)))
    tail = np.argsort(p)[:k]
    score = g[usable][:, tail].mean(axis=1) / cost[usable]
    return np.sort(usable[np.argsort(-score, kind="stable")[:limit]])


def _solve(p, g, cost, cap, budget, level, n, active, lam, integral):
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array, hstack, identity, vstack

    m = len(active)
    c = len(cost)
    # variables: n_1..n_c, ζ, u_1..u_m
    objective = np.concatenate([lam * cost, [1.0], np.full(m, 1.0 / (level * n))])
    # −G n − ζ − u ≤ P  (for the active scenarios)
    a_tail = hstack(
        [csr_array(-g[:, active].T), csr_array(-np.ones((m, 1))), -identity(m, format="csr")]
    )
    a_budget = csr_array(np.concatenate([cost, [0.0], np.zeros(m)])[None, :])
    a = vstack([a_tail, a_budget]).tocsr()
    upper = np.concatenate([p[active], [budget]])
    constraints = LinearConstraint(a, -np.inf, upper)
    lower = np.concatenate([np.zeros(c), [-np.inf], np.zeros(m)])
    high = np.concatenate([cap, [np.inf], np.full(m, np.inf)])
    integrality = np.concatenate([np.full(c, 1 if integral else 0), np.zeros(1 + m)])
    res = milp(
        objective,
        constraints=constraints,
        bounds=Bounds(lower, high),
        integrality=integrality,
        options={"mip_rel_gap": 1e-9},
    )
    if res.x is None:
        return None, f"solver: {res.message}"
    counts = res.x[:c]
    if integral:
        counts = np.round(counts)
    return counts, float(res.x[c])
