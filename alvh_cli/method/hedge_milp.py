"""Integer hedge counts that minimise a position's CVaR, as a mixed-integer LP, exactly.

Rockafellar and Uryasev (2000, 2002): for equally likely scenarios s = 1..N
with position P&L ``P_s`` and per-contract hedge P&L ``G_cs`` (already net of
the hedge's cost), the CVaR at level α of the loss L_s(n) = −(P_s + Σ_c n_c
G_cs) is

    min over ζ of  ζ + 1/(αN) · Σ_s max(L_s(n) − ζ, 0),

so minimising it over integer counts n is the linear program in (n, ζ, u)

    minimise    F = ζ + 1/(αN) Σ u_s + λ Σ_c cost_c n_c
    subject to  u_s ≥ −P_s − Σ_c G_cs n_c − ζ,  u_s ≥ 0,
                Σ_c a_rc n_c ≤ b_r   (row 0 the budget: a_0 = cost; any other limit, a ≥ 0),
                n_c ∈ {0, 1, ..., cap_c}.

λ (``min_cvar_per_dollar``) makes every dollar spent earn at least λ of CVaR
reduction, on top of its own cost (already inside G): with λ = 0.25 a
spread costing $100 must cut the tail loss by $125 before its cost counts.

The answer is the optimum of that program over **every** candidate and every
scenario (within a relative 1e-9). Three steps make it fast, and none can lose
the optimum:

1. *Scenarios* (constraint generation): only scenarios in or near the tail
   bind. Each program is solved on the worst scenarios first; a scenario left
   out whose loss exceeds ζ is added and the program solved again, until none
   is left out that would enter the tail. A program over a subset of the
   scenarios is a relaxation of the full one (its u_s ≥ 0 drop out), and at
   the end its answer is feasible for the full one at the same objective: it
   is the full program's answer.
2. *Candidates* (a Lagrangian bound, as in reduced-cost fixing). CVaR has
   the dual form −CVaR_α(X) = max over q ∈ Q of Σ_s q_s·(−X_s), Q = {q :
   0 ≤ q_s ≤ 1/(αN), Σ_s q_s = 1} (Rockafellar and Uryasev 2002: the LP dual
   of the formula above). So for any q ∈ Q and any multipliers μ_r ≥ 0 of the
   limits, every feasible n (μ_r·(a_r·n − b_r) ≤ 0 added) has

       F(n) ≥ −q·P − μ·b + Σ_c d_c n_c,    d_c = λ cost_c − q·G_c + Σ_r μ_r a_rc,

   that is F(n) ≥ L + Σ_c |d_c|·dist_c(n), with L = −q·P − μ·b + Σ_{d_c<0}
   d_c cap_c and dist_c(n) = n_c where d_c ≥ 0, cap_c − n_c where d_c < 0 (all
   terms ≥ 0). Given z, the objective of an integer point already found, no
   point further than z − L from the bound is as good as z: the candidates
   with |d_c| > z − L stay at 0 (or at their cap), the others move at most
   (z − L)/|d_c| contracts. q and μ are the duals of the LP relaxation (the
   tightest such bound), put back into Q and ≥ 0 before use, so the bound holds
   whatever the LP solver's tolerances; a margin of ``MARGIN`` relative is kept.
3. *Search*: every integer point within that distance is listed (typically
   a few hundred to some tens of thousands of points over a dozen or two of
   several hundred candidates), least distance first, and the best kept. A
   point is left unevaluated only when a lower bound of its objective exceeds
   the best so far: a cut −q·(P + nG) + λ·cost·n for the tail weights q of a
   point already evaluated (the dual form again), or its objective over the
   scenarios of step 1 only (the worst share of a subset is no worse than
   that of the whole). The distance starts where a dozen candidates can move
   and grows to z − L, where the search is conclusive. Among
   points within ``TIE`` of the best, the one needing fewest contracts wins,
   then the least spend. Where the points would be too many (``MAX_POINTS``),
   the candidates that can move go to branch and bound (``scipy.optimize.milp``,
   HiGHS) with their counts bounded by the same distance.

``integral=False`` (fractions of a contract) is the linear program of step 1,
over every candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alvh_cli.method.scenarios import cvar

FIRST_CUT = 2.0  # first solve on the worst FIRST_CUT × α share of scenarios
FIRST_COLUMNS = 40  # ... and on this many candidates; more join as their reduced cost asks
MAX_POINTS = 200_000  # integer points searched at most; more go to the MILP
FIRST_POINTS = 20_000  # ... at most before the conclusive distance
FIRST_FREE = 12  # the first distance lets about this many candidates move
CHUNK = 16_384  # points bounded at a time
BATCH = 32  # points evaluated on every scenario at a time, least bound first
CUTS = 8  # cuts kept by the search
TIE = 1e-9  # relative: points this close are equal, and the fewest contracts wins
MARGIN = 1e-7  # relative: the bound must beat z by this much before a point is left out
GAP = 1e-9  # HiGHS's relative MIP gap


@dataclass(frozen=True)
class Allocation:
    """Counts per candidate (aligned with the candidates given), and the figures.

    ``cvar_before``/``cvar_after`` are P&L (negative = loss) over the
    scenarios given, the hedge cost included after; ``spend`` dollars.
    ``bound`` is the Lagrangian lower bound of the objective (−CVaR + λ·spend,
    module docstring) and ``solved`` the candidates the last search could move.
    """

    counts: np.ndarray
    spend: float
    cvar_before: float
    cvar_after: float
    status: str  # "optimal", "no candidates", "no budget", or the solver's message
    bound: float = math.nan
    solved: int = 0


def objective(
    position_pnl: np.ndarray,
    hedge_pnl: np.ndarray,
    cost: np.ndarray,
    level: float,
    min_cvar_per_dollar: float,
    counts: np.ndarray,
) -> float:
    """What the program minimises, in dollars: −CVaR of the hedged P&L + λ × spend."""
    counts = np.asarray(counts, dtype=float)
    return -cvar(position_pnl + counts @ hedge_pnl, level) + min_cvar_per_dollar * float(
        counts @ cost
    )


def choose(
    position_pnl: np.ndarray,
    hedge_pnl: np.ndarray,
    cost: np.ndarray,
    budget: float,
    level: float,
    min_cvar_per_dollar: float = 0.0,
    *,
    integral: bool = True,
    most: np.ndarray | None = None,
    limits: Sequence[tuple[np.ndarray, float]] = (),
) -> Allocation:
    """The counts of each hedge (rows of ``hedge_pnl``: per contract, per scenario, dollars,
    net of cost) that minimise CVaR of the hedged P&L plus λ × spend within ``budget``.

    ``most`` caps each candidate's count (default: what the budget buys); ``limits`` are
    further constraints Σ_c a_c n_c ≤ b, each (a, b) with a ≥ 0 (e.g. the futures' gain at
    the crash rung against the position's loss there). ``integral=False`` allows fractions
    of a contract (the method free of rounding).
    """
    p = np.asarray(position_pnl, dtype=float)
    g = np.asarray(hedge_pnl, dtype=float).reshape(-1, len(p))
    cost = np.asarray(cost, dtype=float)
    lam = float(min_cvar_per_dollar)
    before = cvar(p, level)
    zero = np.zeros(len(cost))
    if len(cost) == 0:
        return Allocation(zero, 0.0, before, before, "no candidates")
    rows = np.vstack([cost, *(np.asarray(a, dtype=float) for a, _ in limits)])
    bounds = np.array([budget, *(float(b) for _, b in limits)])
    if np.any(rows < 0):
        raise ValueError("limits take coefficients >= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(rows > 0, bounds[:, None] / rows, np.inf).min(axis=0)
    cap = np.floor(room + 1e-9) if integral else room
    if most is not None:
        cap = np.minimum(cap, np.asarray(most, dtype=float))
    cap = np.where(cost > 0, cap, 0.0)
    usable = np.flatnonzero(cap >= (1 if integral else 1e-9))
    if len(usable) == 0:
        return Allocation(zero, 0.0, before, before, "no budget")
    problem = _Problem(p, g[usable], cost[usable], cap[usable], rows[:, usable], bounds, level, lam)

    relaxed = problem.relaxation()
    if relaxed is None:
        return Allocation(zero, 0.0, before, before, "solver: the relaxation failed")
    if not integral:
        full = zero.copy()
        full[usable] = relaxed.counts
        return Allocation(
            full, float(full @ cost), before, cvar(p + full @ g, level), "optimal",
            relaxed.value, len(usable),
        )  # fmt: skip
    counts, bound, solved = problem.integer(relaxed)
    full = zero.copy()
    full[usable] = counts
    return Allocation(
        full, float(full @ cost), before, cvar(p + full @ g, level), "optimal", bound, solved
    )


@dataclass(frozen=True)
class _Relaxed:
    counts: np.ndarray
    value: float  # the relaxation's optimum: a lower bound of the integer program's
    q: np.ndarray  # scenario multipliers, in Q
    mu: np.ndarray  # limit multipliers, >= 0
    active: np.ndarray  # the scenarios the relaxation ended on


class _Problem:
    """One hedge program: the candidates that fit, their caps and limit rows."""

    def __init__(self, p, g, cost, cap, rows, bounds, level, lam):
        self.p, self.g, self.cost, self.cap = p, g, cost, cap
        self.rows, self.bounds, self.level, self.lam = rows, bounds, level, lam
        self.n = len(p)
        k = max(1, math.ceil(level * self.n))
        self.first = np.sort(np.argsort(p)[: min(self.n, int(math.ceil(FIRST_CUT * k)) + 1)])

    def value(self, counts: np.ndarray, subset=None) -> float:
        g = self.g if subset is None else self.g[subset]
        cost = self.cost if subset is None else self.cost[subset]
        return objective(self.p, g, cost, self.level, self.lam, counts)

    # ------------------------------------------------------------- step 1: the relaxation
    def relaxation(self) -> _Relaxed | None:
        """The LP relaxation over every candidate and scenario, by rows and columns: it starts
        on the worst scenarios and the candidates that gain most per dollar on them; a
        scenario whose loss exceeds ζ joins (step 1), and so does every candidate whose
        reduced cost at the duals is negative (it would enter the LP's basis), until
        neither is left. The duals are then optimal for the whole relaxation."""
        c = len(self.cost)
        k = max(1, math.ceil(self.level * self.n))
        tail = np.argsort(self.p)[:k]
        score = self.g[:, tail].mean(axis=1) / self.cost
        cols = np.sort(np.argsort(-score, kind="stable")[: min(c, FIRST_COLUMNS)])
        active = self.first
        everything = np.arange(self.n)
        while True:
            out = self._lp(cols, active)
            if out is None:
                return None
            x, zeta, y, mu, value = out
            counts = np.zeros(c)
            counts[cols] = x
            hedged = self.p + counts @ self.g
            outside = np.setdiff1d(everything, active)
            late = outside[-hedged[outside] > zeta + 1e-7]
            q = np.zeros(self.n)
            q[active] = y
            d = self.lam * self.cost - self.g @ q + mu @ self.rows
            d[cols] = 0.0
            enter = np.flatnonzero(d < -1e-9 * max(1.0, abs(value)))
            if len(late) == 0 and len(enter) == 0:
                break
            active = np.union1d(active, late)
            cols = np.union1d(cols, enter[np.argsort(d[enter])][:FIRST_COLUMNS])
        return _Relaxed(counts, value, self._into_q(y, active, counts), np.maximum(mu, 0.0), active)

    def _generate(self, solve, g, active):
        """``solve(active)`` → (counts, ζ, ...) over the scenarios ``active`` (``g`` the P&L
        of the candidates it counts), repeated with every scenario left out whose loss
        exceeds ζ until there is none (step 1)."""
        everything = np.arange(self.n)
        while True:
            out = solve(active)
            if out is None:
                return None
            counts, zeta = out[0], out[1]
            hedged = self.p + counts @ g
            outside = np.setdiff1d(everything, active)
            late = outside[-hedged[outside] > zeta + 1e-7]
            if len(late) == 0:
                return out, active
            active = np.union1d(active, late)

    def _lp(self, cols, active):
        """The relaxation over the candidates ``cols`` and the scenarios ``active``: counts
        of ``cols``, ζ, scenario duals, limit duals, value."""
        from scipy.optimize import linprog

        a, upper, objective, lower, high = self._matrices(
            self.g[cols], self.cost[cols], self.cap[cols], self.rows[:, cols], active
        )
        res = linprog(
            objective, A_ub=a, b_ub=upper, bounds=np.column_stack([lower, high]), method="highs"
        )
        if res.status != 0 or res.x is None:
            return None
        c = len(cols)
        duals = -np.asarray(res.ineqlin.marginals)  # ≤ rows: marginals are ≤ 0
        m = len(active)
        return res.x[:c], float(res.x[c]), duals[:m], duals[m:], float(res.fun)

    def _matrices(self, g, cost, cap, rows, active):
        from scipy.sparse import csr_array, hstack, identity, vstack

        m, c = len(active), len(cost)
        # variables: n_1..n_c, ζ, u_1..u_m
        objective = np.concatenate(
            [self.lam * cost, [1.0], np.full(m, 1.0 / (self.level * self.n))]
        )
        tail = hstack(
            [csr_array(-g[:, active].T), csr_array(-np.ones((m, 1))), -identity(m, format="csr")]
        )
        limit_rows = csr_array(np.hstack([rows, np.zeros((len(rows), 1 + m))]))
        a = vstack([tail, limit_rows]).tocsr()
        upper = np.concatenate([self.p[active], self.bounds])
        lower = np.concatenate([np.zeros(c), [-np.inf], np.zeros(m)])
        high = np.concatenate([cap, [np.inf], np.full(m, np.inf)])
        return a, upper, objective, lower, high

    def _into_q(self, y, active, counts) -> np.ndarray:
        """The LP's scenario duals as a point of Q: clipped to [0, 1/(αN)], then the small
        shortfall or excess of Σ q = 1 taken up by the worst (or given back by the best)
        scenarios of the relaxed point."""
        top = 1.0 / (self.level * self.n)
        q = np.zeros(self.n)
        q[active] = np.clip(y, 0.0, top)
        gap = 1.0 - q.sum()
        order = np.argsort(self.p + counts @ self.g)  # worst first
        if gap > 0:
            room = top - q[order]
            before = np.cumsum(room) - room
            q[order] += np.clip(gap - before, 0.0, room)
        elif gap < 0:
            order = order[::-1]
            have = q[order]
            before = np.cumsum(have) - have
            q[order] -= np.clip(-gap - before, 0.0, have)
        return q

    # ------------------------------------------------------- steps 2 and 3: integer counts
    def bound(self, relaxed: _Relaxed) -> tuple[np.ndarray, float]:
        """(d, L) of step 2: the reduced cost of one more contract of each candidate and the
        bound's constant, so that F(n) ≥ L + Σ_c |d_c|·(n_c's distance from the bound the
        relaxation favours: 0 when d_c ≥ 0, cap_c when d_c < 0)."""
        d = self.lam * self.cost - self.g @ relaxed.q + relaxed.mu @ self.rows
        low = -float(relaxed.q @ self.p) - float(relaxed.mu @ self.bounds)
        low += float(np.minimum(d, 0.0) @ self.cap)
        return d, low

    def integer(self, relaxed: _Relaxed):
        """(counts, bound L, candidates the last search could move): steps 2 and 3.

        Every integer point n within a Lagrangian distance s of the bound, Σ|d_c|·dist_c(n)
        ≤ s, is searched (:class:`_Search`); any point further away has F(n) > L + s.
        Starting from the relaxation rounded down (feasible: the limits' coefficients are
        ≥ 0), s starts small (the points within it are few) and grows, at most fourfold a
        step, to z − L, z the best found so far, where the search is conclusive. When the
        points within z − L are too many, the candidates that can be in them go to the
        MILP, their counts bounded by the same distance.
        """
        d, low = self.bound(relaxed)
        d = np.where((d < 0) & (d > -1e-9), 0.0, d)  # a basic variable's reduced cost is 0
        below = d < 0  # the relaxation holds these at their cap
        weight = np.abs(d)
        state = _Search(self, np.where(below, self.cap, np.floor(relaxed.counts + 1e-9)))
        state.active = relaxed.active
        state.cut(state.best)
        moving = np.sort(weight[weight > 0])
        first = moving[min(FIRST_FREE, len(moving)) - 1] if len(moving) else 0.0
        s, too_many = min(state.z - low, first), math.inf  # too_many: a distance found too big
        while True:
            margin = MARGIN * max(1.0, abs(state.z))
            final = s >= state.z - low
            slack = s + margin
            free = np.flatnonzero(weight <= slack)
            fixed = np.where(weight > slack, np.where(below, self.cap, 0.0), 0.0)
            points = _within(
                weight[free], below[free], self.cap[free], self.rows[:, free],
                self.bounds - self.rows @ fixed, slack, MAX_POINTS if final else FIRST_POINTS,
            )  # fmt: skip
            if points is None:
                if final:
                    break
                # look for a better point nearer the bound first; from 0 on, give up on that
                too_many = s
                s = s / 4.0 if s > first / 64.0 else (0.0 if s > 0 else state.z - low)
                continue
            distance = np.abs(np.where(below[free], self.cap[free] - points, points)) @ weight[free]
            state.search(points[np.argsort(distance, kind="stable")], free, fixed)
            if state.z <= low + s + margin:
                return state.best, low, len(free)
            grown = max(4.0 * s, first)
            s = state.z - low if grown >= too_many or grown <= s else min(state.z - low, grown)
        # too many points within the distance: the MILP over what can be in them
        slack = state.z - low + MARGIN * max(1.0, abs(state.z))
        free = np.flatnonzero(weight <= slack)
        reach = np.floor(
            np.minimum(slack / np.maximum(weight[free], 1e-300), self.cap[free]) + 1e-9
        )
        lower = np.where(below[free], self.cap[free] - reach, 0.0)
        upper = np.where(below[free], self.cap[free], reach)
        fixed = np.where(weight > slack, np.where(below, self.cap, 0.0), 0.0)
        found = self._milp_on(free, lower, upper, fixed, state.active)
        if found is not None:
            state.offer(found[None, :])
        return state.best, low, len(free)

    def _milp_on(self, free, lower, upper, fixed, active):
        """The MILP over the candidates ``free`` with bounds, the others at ``fixed``."""
        g, cost, rows = self.g[free], self.cost[free], self.rows[:, free]
        base = self.p + fixed @ self.g
        room = self.bounds - self.rows @ fixed
        sub = _Problem(base, g, cost, upper, rows, room, self.level, self.lam)
        k = max(1, math.ceil(self.level * self.n))
        start = np.union1d(active, np.sort(np.argsort(base)[:k]))
        solved = sub._generate(lambda a: sub._milp(lower, a), g, start)
        if solved is None:
            return None
        out = fixed.copy()
        out[free] = solved[0][0]
        return out

    def _milp(self, lower, active):
        from scipy.optimize import Bounds, LinearConstraint, milp

        a, upper, objective, low, high = self._matrices(
            self.g, self.cost, self.cap, self.rows, active
        )
        c = len(self.cost)
        low[:c] = lower
        integrality = np.concatenate([np.ones(c), np.zeros(1 + len(active))])
        res = milp(
            objective,
            constraints=LinearConstraint(a, -np.inf, upper),
            bounds=Bounds(low, high),
            integrality=integrality,
            options={"mip_rel_gap": GAP},
        )
        if res.x is None:
            return None
        return np.round(res.x[:c]), float(res.x[c])


class _Search:
    """The best integer point found so far and the bounds that let most others go unseen.

    ``z`` is the best point's objective over every scenario. A point is left out only
    when a lower bound of its objective exceeds z by more than ``TIE``: a cut (for the tail
    weights q of a point already seen, F(n) ≥ −q·(P + nG) + λ·cost·n, the dual form of
    CVaR) or its objective over the scenarios ``active`` only (the worst share of a subset
    is no worse than that of the whole). The rest are evaluated on every scenario; a
    point needing more scenarios than ``active`` adds its tail to them. Among points
    within ``TIE`` of the best, the one needing fewest contracts, then least spend, wins.
    """

    def __init__(self, problem: _Problem, start: np.ndarray):
        self.problem = problem
        self.k = problem.level * problem.n
        self.best = start
        self.z = problem.value(start)
        self.cuts: list[np.ndarray] = []
        self.active = problem.first

    def cut(self, counts: np.ndarray) -> None:
        """Add the tail weights of ``counts``'s hedged P&L as a cut (at most ``CUTS`` kept)."""
        pr = self.problem
        hedged = pr.p + counts @ pr.g
        order = np.argsort(hedged, kind="stable")
        whole = int(math.floor(self.k + 1e-9))
        q = np.zeros(pr.n)
        q[order[:whole]] = 1.0 / self.k
        if whole < pr.n and self.k - whole > 1e-9:
            q[order[whole]] = (self.k - whole) / self.k
        self.cuts = [*self.cuts[-(CUTS - 1) :], q]

    def search(self, points: np.ndarray, free: np.ndarray, fixed: np.ndarray) -> None:
        """Search ``points`` (counts of the candidates ``free``; the others at ``fixed``) in
        their order, best-bounded first."""
        pr = self.problem
        g, cost = pr.g[free], pr.cost[free]
        base = pr.p + fixed @ pr.g
        spend0 = float(fixed @ pr.cost)
        for at in range(0, len(points), CHUNK):
            part = points[at : at + CHUNK]
            tol = TIE * max(1.0, abs(self.z))
            q = np.array(self.cuts)
            bound = (-(q @ base) + pr.lam * spend0)[None, :] + part @ (
                pr.lam * cost[:, None] - g @ q.T
            )
            part = part[bound.max(axis=1) <= self.z + tol]
            if not len(part):
                continue
            hedged = base[self.active][None, :] + part @ g[:, self.active]
            lower = -_tail_sum(hedged, self.k) / self.k + pr.lam * (part @ cost + spend0)
            order = np.argsort(lower, kind="stable")
            for first in range(0, len(order), BATCH):
                tol = TIE * max(1.0, abs(self.z))
                batch = order[first : first + BATCH]
                batch = batch[lower[batch] <= self.z + tol]
                if not len(batch):
                    break  # the rest are bounded above z
                full = np.tile(fixed, (len(batch), 1))
                full[:, free] = part[batch]
                self.offer(full)

    def offer(self, full: np.ndarray) -> None:
        """Evaluate full count vectors on every scenario and keep the best; the scenarios of
        a new best's tail join ``active``, so later bounds are tighter."""
        pr = self.problem
        hedged = pr.p[None, :] + full @ pr.g
        value = -_tail_sum(hedged, self.k) / self.k + pr.lam * (full @ pr.cost)
        for i in np.argsort(value, kind="stable"):
            tol = TIE * max(1.0, abs(self.z))
            if value[i] > self.z + tol:
                break
            mine = (full[i].sum(), float(full[i] @ pr.cost))
            theirs = (self.best.sum(), float(self.best @ pr.cost))
            if value[i] < self.z - tol or mine < theirs:
                self.best, self.z = full[i], min(float(value[i]), self.z)
                self.cut(full[i])
                tail = np.argsort(hedged[i], kind="stable")[: int(math.ceil(self.k)) + 1]
                self.active = np.union1d(self.active, tail)


def _within(weight, below, cap, rows, room, slack, limit) -> np.ndarray | None:
    """Every integer point n, 0 ≤ n ≤ ``cap``, with Σ_c weight_c·dist_c ≤ ``slack`` and
    rows·n ≤ ``room``, where dist_c = n_c, or cap_c − n_c for the candidates ``below`` (the
    relaxation holds those at their cap): (points, candidates) counts, or None when there
    would be more than ``limit`` points on the way.

    Built one candidate at a time, each partial point extended by every count its distance
    and the limits still allow (the ``below`` candidates first: once they are set, the
    limits only tighten as counts are added).
    """
    ups = np.flatnonzero(~below)
    order = np.concatenate([np.flatnonzero(below), ups[np.argsort(-weight[ups], kind="stable")]])
    used = np.zeros(1)
    left = (room - rows[:, below] @ cap[below])[None, :]  # limits left, (points, rows)
    steps: list[tuple[np.ndarray, np.ndarray]] = []
    for i in order:
        top = np.full(len(used), cap[i])
        if weight[i] > 0:
            top = np.minimum(top, np.floor((slack - used) / weight[i] + 1e-9))
        if not below[i]:
            a = rows[:, i]
            on = a > 0
            if on.any():
                fit = np.floor((left[:, on] + 1e-9) / a[on]).min(axis=1)
                top = np.minimum(top, fit)
        reps = np.maximum(top, -1).astype(np.int64) + 1
        total = int(reps.sum())
        if total > limit:
            return None
        keep = np.repeat(np.arange(len(used)), reps)
        step = (np.arange(total) - np.repeat(np.cumsum(reps) - reps, reps)).astype(float)
        steps.append((keep, step))
        used = used[keep] + weight[i] * step
        # a count added uses room; a below candidate's distance from its cap gives it back
        left = left[keep] - np.outer(-step if below[i] else step, rows[:, i])
    # walk back the parents: each point's distance per candidate
    dist = np.empty((len(used), len(order)))
    at = np.arange(len(used))
    for j in range(len(order) - 1, -1, -1):
        keep, step = steps[j]
        dist[:, j] = step[at]
        at = keep[at]
    counts = np.empty_like(dist)
    counts[:, order] = dist
    counts = np.where(below[None, :], cap[None, :] - counts, counts)
    if below.any():  # a below candidate's room was only checked as the others were added
        counts = counts[np.all(counts @ rows.T <= room + 1e-9, axis=1)]
    return counts


def _tail_sum(pnl: np.ndarray, k: float) -> np.ndarray:
    """Per row of ``pnl``, the sum of its worst ``k`` entries (the boundary one in part)."""
    whole = int(math.floor(k + 1e-9))
    part = k - whole if k - whole > 1e-9 else 0.0
    need = whole + (1 if part else 0)
    n = pnl.shape[1]
    x = (
        np.sort(np.partition(pnl, need - 1, axis=1)[:, :need], axis=1)
        if need < n
        else np.sort(pnl, axis=1)
    )
    total = x[:, :whole].sum(axis=1)
    if part:
        total = total + part * x[:, whole]
    return total


def cvar_rows(pnl: np.ndarray, level: float) -> np.ndarray:
    """``scenarios.cvar`` of every row of ``pnl`` (rows × scenarios), vectorised: the mean of
    the worst ``level`` share, the boundary outcome counted in part."""
    k = level * pnl.shape[1]
    return _tail_sum(pnl, k) / k
