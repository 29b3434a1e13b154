"""Integer hedge counts that maximise EV + γ·CVaR of the hedged position, exactly.

The decision rule of :mod:`alvh_cli.method.decision`, applied to the counts of every
candidate at once. For equally likely scenarios s = 1..N with position P&L ``P_s``
and per-contract hedge P&L ``G_cs`` (already net of the hedge's cost and of any roll
it will need), the hedged P&L is X_s(n) = P_s + Σ_c n_c G_cs, its expected value
EV(n) = mean(P) + Σ_c n_c Ḡ_c (Ḡ_c the mean of G_c over the scenarios), and its
CVaR at level α (a P&L, negative in a loss: the mean of the worst α share) is, by
Rockafellar and Uryasev (2000, 2002),

    −CVaR(n) = min over ζ of  ζ + 1/(αN) · Σ_s max(−X_s(n) − ζ, 0).

So maximising EV + γ·CVaR over integer counts n is the mixed-integer LP in (n, ζ, u)

    minimise    F = −mean(P) − Σ_c Ḡ_c n_c + γ·(ζ + 1/(αN) Σ_s u_s)
    subject to  u_s ≥ −P_s − Σ_c G_cs n_c − ζ,  u_s ≥ 0,
                ζ + 1/(αN) Σ_s u_s ≤ −floor      (only with a CVaR floor),
                Σ_c a_rc n_c ≤ b_r   (row 0 the budget: a_0 = cost; any other limit, a ≥ 0),
                n_c ∈ {0, 1, ..., cap_c}.

F = −(EV + γ·CVaR). The floor row is exact: some (ζ, u) meets it if and only if
−CVaR(n) ≤ −floor, since −CVaR(n) is the least value its left side takes; with γ > 0
the objective drives the shared (ζ, u) to that least value anyway. γ = 0 without a
floor leaves only the EV part: a hedge is bought only where its mean P&L is positive.

When no integer point within the limits meets the floor, the program gives the
highest CVaR within them instead (the decision rule's answer when nothing meets its
limit): the same program with the EV weight 0 and the CVaR weight 1, and no floor.
``Allocation.meets`` says which was solved. Below, e and c are the weights of EV and
CVaR in F (1 and γ; 0 and 1 for that fallback).

The answer is the optimum of that program over **every** candidate and every
scenario (within a relative 1e-9). Three steps make it fast, and none can lose
the optimum:

1. *Scenarios* (constraint generation): only scenarios in or near the tail
   bind. Each program is solved on the worst scenarios first; a scenario left
   out whose loss exceeds ζ is added and the program solved again, until none
   is left out that would enter the tail. A program over a subset of the
   scenarios is a relaxation of the full one (its u_s ≥ 0 drop out, from the
   objective and from the floor row alike; the EV part is over every scenario
   throughout, through Ḡ), and at the end its answer is feasible for the full one
   at the same objective: it is the full program's answer.
2. *Candidates* (a Lagrangian bound, as in reduced-cost fixing). CVaR has the
   dual form CVaR_α(X) = min over q ∈ Q of q·X, Q = {q : 0 ≤ q_s ≤ 1/(αN),
   Σ_s q_s = 1} (Rockafellar and Uryasev 2002: the LP dual of the formula
   above), so −CVaR(X) ≥ −q·X for every q ∈ Q. Take any q ∈ Q, a multiplier
   ν ≥ 0 of the floor and μ_r ≥ 0 of the limits. A feasible n has
   ν·(floor − CVaR(n)) ≤ 0 and μ_r·(a_r·n − b_r) ≤ 0, so adding both to F(n)
   gives a lower bound, and with w = c + ν ≥ 0:

       F(n) ≥ −e·mean(P) − c·CVaR(n) − ν·CVaR(n) + ν·floor + μ·(A n − b)
            ≥ −e·mean(P) − w·q·P + ν·floor − μ·b + Σ_c d_c n_c,
       d_c  = −e·Ḡ_c − w·q·G_c + Σ_r μ_r a_rc,

   that is F(n) ≥ L + Σ_c |d_c|·dist_c(n), with L = −e·mean(P) − w·q·P + ν·floor
   − μ·b + Σ_{d_c<0} d_c cap_c and dist_c(n) = n_c where d_c ≥ 0, cap_c − n_c where
   d_c < 0 (all terms ≥ 0). Given z, the objective of a feasible integer point
   already found, no feasible point further than z − L from the bound is as good as
   z: the candidates with |d_c| > z − L stay at 0 (or at their cap), the others
   move at most (z − L)/|d_c| contracts. (ν·floor is left out, ν = 0, without a
   floor; without the CVaR part, c = 0 and no floor, w = 0 and the bound is the
   knapsack's own.) q, ν and μ come from the LP relaxation's duals — the tail rows'
   duals y sum to c + ν and are each at most (c + ν)/(αN) (the LP's conditions on ζ
   and u_s), so q = y/(c + ν) — put back into Q and ≥ 0 before use, so the bound
   holds whatever the LP solver's tolerances; a margin of ``MARGIN`` relative is
   kept.
3. *Search*: every integer point within that distance is listed (typically
   a few hundred to some tens of thousands of points over a dozen or two of
   several hundred candidates), least distance first, and the best feasible one
   kept. A point is left unevaluated only when a lower bound of its F exceeds the
   best so far — a cut −e·EV(n) − c·q·X(n) for the tail weights q of a point
   already evaluated (the dual form again), or its F with the CVaR over the
   scenarios of step 1 only (the worst share of a subset is no worse than that of
   the whole) — or when that subset's CVaR, an upper bound of the whole's, is
   already under the floor. The distance starts where a dozen candidates can move
   and grows to z − L, where the search is conclusive. Among points within ``TIE``
   of the best, the one needing fewest contracts wins, then the least spend. Where
   the points would be too many (``MAX_POINTS``), or no feasible point is found
   near the bound, the candidates that can move go to branch and bound
   (``scipy.optimize.milp``, HiGHS) with their counts bounded by the same distance.

``integral=False`` (fractions of a contract) is the linear program of step 1,
over every candidate.

Why one long module (about 700 lines): the program, the proof that the candidate filter
keeps its optimum, the constraint generation and the search share one formulation and
its notation (above); split, the proof would sit apart from the code it licenses.
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
FLOOR_TOL = 1e-9  # dollars: a CVaR this close to the floor meets it (as Preference.meets)


@dataclass(frozen=True)
class Allocation:
    """Counts per candidate (aligned with the candidates given), and the figures.

    ``cvar_*`` and ``ev_*`` are P&L (negative = loss) over the scenarios given, the
    hedge costs included after; ``spend`` dollars. ``meets``: the CVaR after meets the
    floor (else no point within the limits does, and the counts give the highest CVaR).
    ``bound`` is the Lagrangian upper bound of the objective EV + γ·CVaR (of the CVaR
    alone when ``meets`` is False; module docstring) and ``solved`` the candidates the
    last search could move.
    """

    counts: np.ndarray
    spend: float
    cvar_before: float
    cvar_after: float
    status: str  # "optimal", "no candidates", "no budget", or the solver's message
    ev_before: float = math.nan
    ev_after: float = math.nan
    meets: bool = True
    bound: float = math.nan
    solved: int = 0


def objective(
    position_pnl: np.ndarray,
    hedge_pnl: np.ndarray,
    level: float,
    risk_aversion: float,
    counts: np.ndarray,
) -> float:
    """What the program maximises, in dollars: EV + γ·CVaR of the hedged P&L."""
    counts = np.asarray(counts, dtype=float)
    hedged = position_pnl + counts @ hedge_pnl
    return float(np.mean(hedged)) + risk_aversion * cvar(hedged, level)


def choose(
    position_pnl: np.ndarray,
    hedge_pnl: np.ndarray,
    cost: np.ndarray,
    budget: float,
    level: float,
    risk_aversion: float = 0.0,
    *,
    cvar_floor: float = -math.inf,
    integral: bool = True,
    most: np.ndarray | None = None,
    limits: Sequence[tuple[np.ndarray, float]] = (),
) -> Allocation:
    """The counts of each hedge (rows of ``hedge_pnl``: per contract, per scenario, dollars,
    net of cost) that maximise EV + γ·CVaR of the hedged P&L (γ ``risk_aversion``) within
    ``budget`` (the candidates' ``cost``, dollars), with a CVaR of at least ``cvar_floor``
    (a P&L) — or, when no counts within the limits meet that, the highest CVaR.

    ``most`` caps each candidate's count (default: what the budget buys); ``limits`` are
    further constraints Σ_c a_c n_c ≤ b, each (a, b) with a ≥ 0 (e.g. the futures' gain at
    the crash rung against the position's loss there). ``integral=False`` allows fractions
    of a contract (the method free of rounding).
    """
    p = np.asarray(position_pnl, dtype=float)
    g = np.asarray(hedge_pnl, dtype=float).reshape(-1, len(p))
    cost = np.asarray(cost, dtype=float)
    floor = float(cvar_floor)
    before, ev_before = cvar(p, level), float(np.mean(p))
    holds = not math.isfinite(floor) or before >= floor - FLOOR_TOL
    zero = np.zeros(len(cost))
    nothing = dict(ev_before=ev_before, ev_after=ev_before, meets=holds)
    if len(cost) == 0:
        return Allocation(zero, 0.0, before, before, "no candidates", **nothing)
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
        return Allocation(zero, 0.0, before, before, "no budget", **nothing)
    args = (p, g[usable], cost[usable], cap[usable], rows[:, usable], bounds, level)
    highest = _Problem(*args, 0.0, 1.0, -math.inf)  # the CVaR alone: where the floor fails
    fallback: list = []

    def highest_cvar():
        if not fallback:
            fallback.append(highest.solve(integral))
        return fallback[0]

    solved = _Problem(*args, 1.0, float(risk_aversion), floor).solve(integral, highest_cvar)
    meets = True
    if solved == "infeasible":
        solved, meets = highest_cvar(), False
    if solved is None or solved == "infeasible":
        return Allocation(zero, 0.0, before, before, "solver: the relaxation failed", **nothing)
    counts, low, moved = solved
    full = zero.copy()
    full[usable] = counts
    hedged = p + full @ g
    return Allocation(
        full, float(full @ cost), before, cvar(hedged, level), "optimal", ev_before,
        float(np.mean(hedged)), meets, -low, moved,
    )  # fmt: skip


@dataclass(frozen=True)
class _Relaxed:
    counts: np.ndarray
    value: float  # the relaxation's optimum of F: a lower bound of the integer program's
    q: np.ndarray  # scenario multipliers, in Q
    weight: float  # w = c + ν: the weight of q·X in the bound
    nu: float  # the floor's multiplier, >= 0
    mu: np.ndarray  # limit multipliers, >= 0
    active: np.ndarray  # the scenarios the relaxation ended on


class _Problem:
    """One hedge program: the candidates that fit, their caps and limit rows, and F's
    weights: ``e`` on EV, ``c`` on CVaR, ``floor`` the CVaR floor (−inf: none)."""

    def __init__(self, p, g, cost, cap, rows, bounds, level, e, c, floor):
        self.p, self.g, self.cost, self.cap = p, g, cost, cap
        self.rows, self.bounds, self.level = rows, bounds, level
        self.e, self.c, self.floor = float(e), float(c), float(floor)
        self.floored = math.isfinite(self.floor)
        self.tail = self.c > 0 or self.floored  # the program has a CVaR part
        self.n = len(p)
        self.gbar = g.mean(axis=1)
        self.pbar = float(p.mean())
        k = max(1, math.ceil(level * self.n))
        worst = np.argsort(p)[: min(self.n, int(math.ceil(FIRST_CUT * k)) + 1)]
        self.first = np.sort(worst) if self.tail else np.arange(0)

    def solve(self, integral: bool = True, seed=None):
        """(counts, the bound's L, candidates the last search could move) of this program;
        "infeasible" when no counts within the limits meet the floor; None when the solver
        fails. ``seed()``, where the program has a floor, gives the counts of the highest
        CVaR within the limits (:meth:`integer`)."""
        relaxed = self.relaxation()
        if not isinstance(relaxed, _Relaxed):
            return relaxed
        if not integral:
            return relaxed.counts, relaxed.value, len(self.cost)
        counts, low, moved = self.integer(relaxed, seed)
        return "infeasible" if counts is None else (counts, low, moved)

    def value(self, counts: np.ndarray) -> float:
        """F of ``counts``: −e·EV − c·CVaR, +inf where the CVaR misses the floor."""
        hedged = self.p + counts @ self.g
        risk = cvar(hedged, self.level) if self.tail else 0.0
        if self.floored and risk < self.floor - FLOOR_TOL:
            return math.inf
        return -self.e * float(np.mean(hedged)) - self.c * risk

    # ------------------------------------------------------------- step 1: the relaxation
    def relaxation(self) -> _Relaxed | str | None:
        """The LP relaxation over every candidate and scenario, by rows and columns: it starts
        on the worst scenarios and the candidates that gain most per dollar on them; a
        scenario whose loss exceeds ζ joins (step 1), and so does every candidate whose
        reduced cost at the duals is negative (it would enter the LP's basis), until
        neither is left. The duals are then optimal for the whole relaxation. "infeasible"
        when no fractional counts of any candidate meet the floor (the first candidates
        failing it, every candidate joins); None when the solver fails."""
        c = len(self.cost)
        k = max(1, math.ceil(self.level * self.n))
        tail = np.argsort(self.p)[:k]
        score = (self.e * self.gbar + max(self.c, 1.0) * self.g[:, tail].mean(axis=1)) / self.cost
        cols = np.sort(np.argsort(-score, kind="stable")[: min(c, FIRST_COLUMNS)])
        active = self.first
        everything = np.arange(self.n)
        while True:
            out = self._lp(cols, active)
            if out == "infeasible" and len(cols) < c:
                # the floor out of reach of these candidates only: let every one join
                cols = np.arange(c)
                continue
            if not isinstance(out, tuple):
                return out
            x, zeta, y, mu, nu, value = out
            counts = np.zeros(c)
            counts[cols] = x
            late = np.arange(0)
            if self.tail:
                hedged = self.p + counts @ self.g
                outside = np.setdiff1d(everything, active)
                late = outside[-hedged[outside] > zeta + 1e-7]
            y_all = np.zeros(self.n)
            y_all[active] = y
            d = -self.e * self.gbar - self.g @ y_all + mu @ self.rows
            d[cols] = 0.0
            enter = np.flatnonzero(d < -1e-9 * max(1.0, abs(value)))
            if len(late) == 0 and len(enter) == 0:
                break
            active = np.union1d(active, late)
            cols = np.union1d(cols, enter[np.argsort(d[enter])][:FIRST_COLUMNS])
        nu = max(nu, 0.0)
        weight = self.c + nu if self.tail else 0.0
        q = self._into_q(y / weight if weight > 0 else y * 0.0, active, counts)
        return _Relaxed(counts, value, q, weight, nu, np.maximum(mu, 0.0), active)

    def _generate(self, solve, g, active):
        """``solve(active)`` → (counts, ζ, ...) over the scenarios ``active`` (``g`` the P&L
        of the candidates it counts), repeated with every scenario left out whose loss
        exceeds ζ until there is none (step 1)."""
        everything = np.arange(self.n)
        while True:
            out = solve(active)
            if out is None:
                return None
            if not self.tail:
                return out, active
            counts, zeta = out[0], out[1]
            hedged = self.p + counts @ g
            outside = np.setdiff1d(everything, active)
            late = outside[-hedged[outside] > zeta + 1e-7]
            if len(late) == 0:
                return out, active
            active = np.union1d(active, late)

    def _lp(self, cols, active):
        """The relaxation over the candidates ``cols`` and the scenarios ``active``: counts
        of ``cols``, ζ, scenario duals, limit duals, the floor's dual, value (F); or
        "infeasible", or None when the solver fails."""
        from scipy.optimize import linprog

        a, upper, objective, lower, high = self._matrices(
            self.g[cols], self.cost[cols], self.cap[cols], self.rows[:, cols], active
        )
        res = linprog(
            objective, A_ub=a, b_ub=upper, bounds=np.column_stack([lower, high]), method="highs"
        )
        if res.status == 2:
            return "infeasible"
        if res.status != 0 or res.x is None:
            return None
        c = len(cols)
        duals = -np.asarray(res.ineqlin.marginals)  # ≤ rows: marginals are ≤ 0
        m, r = len(active), len(self.rows)
        zeta = float(res.x[c]) if self.tail else 0.0
        nu = float(duals[m + r]) if self.floored else 0.0
        return res.x[:c], zeta, duals[:m], duals[m : m + r], nu, float(res.fun) - self.e * self.pbar

    def _matrices(self, g, cost, cap, rows, active):
        """(A, b, objective, lower, upper) of the LP over the candidates given and the
        scenarios ``active``: variables n_1..n_c, then ζ, u_1..u_m where the program has a
        CVaR part; rows the tail (u_s ≥ loss_s − ζ), the limits, then the floor. The
        objective leaves out F's constant −e·mean(P)."""
        from scipy.sparse import csr_array, hstack, identity, vstack

        m, c = len(active), len(cost)
        gbar = g.mean(axis=1)
        if not self.tail:
            a = csr_array(rows)
            return a, self.bounds.copy(), -self.e * gbar, np.zeros(c), cap.astype(float)
        top = 1.0 / (self.level * self.n)
        objective = np.concatenate([-self.e * gbar, [self.c], np.full(m, self.c * top)])
        tail = hstack(
            [csr_array(-g[:, active].T), csr_array(-np.ones((m, 1))), -identity(m, format="csr")]
        )
        parts = [tail, csr_array(np.hstack([rows, np.zeros((len(rows), 1 + m))]))]
        upper = [self.p[active], self.bounds]
        if self.floored:
            parts.append(csr_array(np.concatenate([np.zeros(c), [1.0], np.full(m, top)])[None]))
            upper.append([-self.floor])
        a = vstack(parts).tocsr()
        lower = np.concatenate([np.zeros(c), [-np.inf], np.zeros(m)])
        high = np.concatenate([cap, [np.inf], np.full(m, np.inf)])
        return a, np.concatenate(upper), objective, lower, high

    def _into_q(self, y, active, counts) -> np.ndarray:
        """The LP's normalised scenario duals as a point of Q: clipped to [0, 1/(αN)], then
        the small shortfall or excess of Σ q = 1 taken up by the worst (or given back by the
        best) scenarios of the relaxed point."""
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
        relaxation favours: 0 when d_c ≥ 0, cap_c when d_c < 0) for every feasible n."""
        w, q = relaxed.weight, relaxed.q
        d = -self.e * self.gbar - w * (self.g @ q) + relaxed.mu @ self.rows
        low = -self.e * self.pbar - w * float(q @ self.p) - float(relaxed.mu @ self.bounds)
        if self.floored:
            low += relaxed.nu * self.floor
        low += float(np.minimum(d, 0.0) @ self.cap)
        return d, low

    def integer(self, relaxed: _Relaxed, seed=None):
        """(counts, the bound's L, candidates the last search could move): steps 2 and 3;
        counts None when no integer point within the limits meets the floor.

        Where neither start meets the floor, ``seed()`` gives the counts of the highest
        CVaR within the limits (that program solved exactly): the first feasible point, or
        the proof that there is none.

        Every integer point n within a Lagrangian distance s of the bound, Σ|d_c|·dist_c(n)
        ≤ s, is searched (:class:`_Search`); any feasible point further away has F(n) >
        L + s. Starting from the relaxation rounded down (within the limits: their
        coefficients are ≥ 0) and from no hedge at all, s starts small (the points within
        it are few) and grows, at most fourfold a step, to z − L, z the best found so far,
        where the search is conclusive. When the points within z − L are too many (or no
        feasible point is found before they are), the candidates that can be in them go to
        the MILP, their counts bounded by the same distance.
        """
        d, low = self.bound(relaxed)
        d = np.where((d < 0) & (d > -1e-9), 0.0, d)  # a basic variable's reduced cost is 0
        below = d < 0  # the relaxation holds these at their cap
        weight = np.abs(d)
        state = _Search(self)
        state.active = np.union1d(state.active, relaxed.active)
        start = np.minimum(np.floor(relaxed.counts + 1e-9), self.cap)
        state.offer(np.vstack([start, np.zeros_like(start)]))
        if not state.found and self.floored and seed is not None:
            # the highest CVaR within the limits meets the floor, or nothing does
            highest = seed()
            if not isinstance(highest, tuple):
                return None, low, 0
            state.offer(highest[0][None, :])
            if not state.found:
                return None, low, 0
        moving = np.sort(weight[weight > 0])
        first = moving[min(FIRST_FREE, len(moving)) - 1] if len(moving) else 0.0
        box = float(weight @ self.cap)  # the furthest point of all: beyond it, nothing is left
        s, too_many = min(state.z - low, first), math.inf  # too_many: a distance found too big
        while True:
            margin = MARGIN * max(1.0, abs(state.z) if state.found else abs(low))
            final = s >= min(state.z - low, box)
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
                s = s / 4.0 if s > first / 64.0 else (0.0 if s > 0 else min(state.z - low, box))
                continue
            distance = np.abs(np.where(below[free], self.cap[free] - points, points)) @ weight[free]
            state.search(points[np.argsort(distance, kind="stable")], free, fixed)
            if final or (state.found and state.z <= low + s + margin):
                return state.best, low, len(free)
            grown = max(4.0 * s, first)
            end = min(state.z - low, box)
            s = end if grown >= too_many or grown <= s else min(end, grown)
        # too many points within the distance: the MILP over what can be in them
        margin = MARGIN * max(1.0, abs(state.z) if state.found else abs(low))
        slack = state.z - low + margin
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
        sub = _Problem(base, g, cost, upper, rows, room, self.level, self.e, self.c, self.floor)
        k = max(1, math.ceil(self.level * self.n))
        start = np.union1d(active, np.sort(np.argsort(base)[:k])) if self.tail else sub.first
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
        integrality = np.concatenate([np.ones(c), np.zeros(len(objective) - c)])
        res = milp(
            objective,
            constraints=LinearConstraint(a, -np.inf, upper),
            bounds=Bounds(low, high),
            integrality=integrality,
            options={"mip_rel_gap": GAP},
        )
        if res.x is None:
            return None
        return np.round(res.x[:c]), (float(res.x[c]) if self.tail else 0.0)


class _Search:
    """The best feasible integer point found so far and the bounds that let most others go
    unseen.

    ``z`` is the best point's F over every scenario (+inf before one is found). A point
    is left out only when a lower bound of its F exceeds z by more than ``TIE``: a cut
    (for the tail weights q of a point already seen, F(n) ≥ −e·EV(n) − c·q·X(n), the dual
    form of CVaR) or its F with the CVaR over the scenarios ``active`` only (the worst
    share of a subset is no worse than that of the whole); or when that subset's CVaR, at
    least the whole's, is under the floor. The rest are evaluated on every scenario; a
    point needing more scenarios than ``active`` adds its tail to them. Among points
    within ``TIE`` of the best, the one needing fewest contracts, then least spend, wins.
    """

    def __init__(self, problem: _Problem):
        self.problem = problem
        self.k = problem.level * problem.n
        self.best: np.ndarray | None = None
        self.z = math.inf
        self.cuts: list[np.ndarray] = []
        self.active = problem.first

    @property
    def found(self) -> bool:
        return self.best is not None

    def cut(self, counts: np.ndarray) -> None:
        """Add the tail weights of ``counts``'s hedged P&L as a cut (at most ``CUTS`` kept)."""
        pr = self.problem
        if not pr.tail:
            return
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
        g = pr.g[free]
        base = pr.p + fixed @ pr.g
        ev0 = float(base.mean())
        for at in range(0, len(points), CHUNK):
            part = points[at : at + CHUNK]
            ev = ev0 + part @ pr.gbar[free]
            if self.cuts and self.found:
                tol = TIE * max(1.0, abs(self.z))
                q = np.array(self.cuts)
                bound = -pr.e * ev[:, None] - pr.c * ((q @ base)[None, :] + part @ (g @ q.T))
                keep = bound.max(axis=1) <= self.z + tol
                part, ev = part[keep], ev[keep]
            if not len(part):
                continue
            lower = -pr.e * ev
            if pr.tail:
                hedged = base[self.active][None, :] + part @ g[:, self.active]
                risk = _tail_sum(hedged, self.k) / self.k  # ≥ the CVaR over every scenario
                lower = lower - pr.c * risk
                if pr.floored:
                    lower = np.where(risk < pr.floor - FLOOR_TOL, np.inf, lower)
            order = np.argsort(lower, kind="stable")
            for first in range(0, len(order), BATCH):
                batch = order[first : first + BATCH]
                if self.found:
                    tol = TIE * max(1.0, abs(self.z))
                    batch = batch[lower[batch] <= self.z + tol]
                else:
                    batch = batch[np.isfinite(lower[batch])]
                if not len(batch):
                    break  # the rest are bounded above z (or miss the floor)
                full = np.tile(fixed, (len(batch), 1))
                full[:, free] = part[batch]
                self.offer(full)

    def offer(self, full: np.ndarray) -> None:
        """Evaluate full count vectors on every scenario and keep the best feasible one; the
        scenarios of a new best's tail join ``active``, so later bounds are tighter."""
        pr = self.problem
        hedged = pr.p[None, :] + full @ pr.g
        value = -pr.e * hedged.mean(axis=1)
        if pr.tail:
            risk = _tail_sum(hedged, self.k) / self.k
            value = value - pr.c * risk
            if pr.floored:
                value = np.where(risk < pr.floor - FLOOR_TOL, np.inf, value)
        for i in np.argsort(value, kind="stable"):
            if not np.isfinite(value[i]):
                break
            if self.found:
                tol = TIE * max(1.0, abs(self.z))
                if value[i] > self.z + tol:
                    break
                mine = (full[i].sum(), float(full[i] @ pr.cost))
                theirs = (self.best.sum(), float(self.best @ pr.cost))
                if not (value[i] < self.z - tol or mine < theirs):
                    continue
            self.best, self.z = full[i], min(float(value[i]), self.z)
            self.cut(full[i])
            if pr.tail:
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
            with np.errstate(over="ignore"):  # a tiny weight: the cap decides
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


def objective_rows(
    pnl: np.ndarray, level: float, risk_aversion: float, ev_weight: float = 1.0
) -> np.ndarray:
    """EV + γ·CVaR of every row of ``pnl`` (rows × scenarios); ``ev_weight`` 0 leaves the
    CVaR part alone (γ then 1: the program where the CVaR floor is out of reach)."""
    return ev_weight * pnl.mean(axis=1) + risk_aversion * cvar_rows(pnl, level)
