"""The book hedged as a book: one VIX hedge program for the positions of a check that are
due a hedge layer on the same scenario set.

Positions that share a market snapshot, rules and scenario horizon are revalued over one
scenario set, so their P&L adds up scenario by scenario. Those due a Layer 1 or 2 hedge
today (:func:`alvh_cli.method.check.sizes_a_hedge`) are *members*. One program
(:func:`alvh_cli.method.hedges.program`, exact) chooses the hedge counts that maximise
the members' summed EV + γ·CVaR, within the sum of what each member's layer may still
spend, with the book's CVaR at or above ``-book_cvar_limit`` where that is set. A book's
tail is smaller than the sum of its positions' tails (CVaR is subadditive), so it needs
fewer contracts than the positions hedged one by one, and whole contracts round once for
the book instead of once per position.

*Budget.* The members' budgets are pooled: the program may spend what their layers may
spend in all less what they spent in all, so a member whose share took more than its
own budget one day leaves less room for the book the next.

*Attribution.* Each member's CVaR contribution is its mean P&L over the scenarios in the
book's tail (the Euler allocation: the contributions sum to the book's CVaR). Each hedge
bought is shared out in proportion to the members' losses there, whole contracts by
largest remainder (Hamilton's method), fractions exactly in a method free of rounding.
Futures are offered in Minis (VXM) only and no member gets more than its own size rule
allows (:func:`alvh_cli.method.hedges.futures_room`): a whole VX could give one member
ten times what its loss allows; the program itself buys no more futures than the
members' rules allow together, so every contract it buys finds a member with room.

*Each position still decides.* A member takes its share only if its own preference
prefers it to every Layer 3 alternative (holding among them). A member that would
rather adjust or hold leaves the book, its budget with it, and decides with its own
program, as a book of one; the program is solved again over the rest, until every
member left takes its share (a member given no contract stays while it would hold: its
budget still counts). So no position is told to buy a hedge its own figures say is
worse than holding. Two exceptions, both the trader's hard limits: a position with a
CVaR limit of its own (``cvar_limit``, ``cvar_limit_credit``) keeps its own program,
which that limit binds; and where ``book_cvar_limit`` is set and the book as held
misses it, the members take their shares whatever their own preference (the limit
outranks the objective, as a position's own limit does).

*Books.* Positions are hedged together when they share a snapshot, rules, scenario
horizon and condor expiry. Sharing the expiry keeps each member's candidates its own:
which VIX expiries last, the roll a hedge expiring before the condor needs, the futures
offered at or after the condor's expiry and their roll-down while the condor is held
all depend on it. So the hedges the members would buy one by one (a VX counted as ten
VXM) are a point the book's program weighs, within the pooled budget, unless their
futures together gain more at the book's worst rung than the book loses there; the
program being exact, the book then does at least as well by its objective.
tests/test_book_hedge.py and benchmarks/book_hedge.py compare the two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from alvh_cli import forked
from alvh_cli.method import hedges
from alvh_cli.method.actions import Action
from alvh_cli.method.decision import TIE, Preference
from alvh_cli.method.risk import Costs, Evaluator
from alvh_cli.method.scenarios import RiskFigures, cvar, tail_weights
from alvh_cli.model.valuation import PositionValues


@dataclass(frozen=True)
class Member:
    """A position due a hedge layer, as its own check sees it: its evaluator (with its
    stress rung), P&L per scenario as held, figures, preference, the layer due, its
    Layer 3 alternatives (None where none are weighed) and its candidate expiries."""

    index: int
    pv: PositionValues
    ev: Evaluator
    held: np.ndarray
    before: RiskFigures
    pref: Preference
    layer: int
    l3: object | None
    expiries: tuple[date, ...]
    stress_col: int


@dataclass(frozen=True)
class BookShare:
    """A member's part in its book's program (dollars): the ``positions`` hedged together,
    what they may spend (``budget``) and spend, the book's EV and CVaR before and after,
    this member's ``share`` of the hedges (its loss in the book's tail over the members'
    losses there, :func:`shares`), the program's ``rounds`` (one more per round in which
    members left) and whether the book's CVaR limit ``binding`` makes the shares due."""

    positions: int
    budget: float
    spend: float
    ev_before: float
    ev_after: float
    cvar_before: float
    cvar_after: float
    share: float
    rounds: int
    objective: str
    binding: bool = False  # the book's CVaR limit is set and the book as held misses it


def contributions(members_pnl: np.ndarray, level: float) -> np.ndarray:
    """Each row's CVaR contribution to the sum of the rows (Euler): its P&L weighted by
    the tail weights of the sum. They add up to the CVaR of the sum."""
    return members_pnl @ tail_weights(members_pnl.sum(axis=0), level)


def shares(contrib: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """The members' shares of the book's hedges: their losses in the book's tail (a
    contribution ≥ 0 takes none), or, where no member loses there, their spending limits."""
    loss = np.maximum(-contrib, 0.0)
    if loss.sum() > 0:
        return loss / loss.sum()
    return limits / limits.sum() if limits.sum() > 0 else np.full(len(limits), 1 / len(limits))


def apportion(
    count: float, weights: np.ndarray, integral: bool = True, caps: np.ndarray | None = None
) -> np.ndarray:
    """``count`` contracts shared by ``weights`` (summing to 1): whole contracts by largest
    remainder (ties to the earlier member), else exactly; the parts sum to ``count``. With
    ``caps`` no member gets more than its cap: what a capped member's quota asks beyond
    it goes to the others with room, by their quotas; what none has room for is left out
    (the parts then sum to less)."""
    quota = count * weights
    if caps is None:
        caps = np.full(len(quota), np.inf)
    if not integral:
        out, left = np.zeros(len(quota)), float(count)
        free = np.ones(len(quota), dtype=bool)
        while left > 1e-12 and free.any():  # water-filling: each round caps someone or ends
            w = np.where(free, weights, 0.0)
            w = w / w.sum() if w.sum() > 0 else free / free.sum()
            add = np.minimum(left * w, caps - out)
            out += add
            left -= float(add.sum())
            free &= caps - out > 1e-12
        return out
    n = int(round(count))
    out = np.minimum(np.floor(quota + 1e-9), caps)
    for _ in range(n - int(out.sum())):  # one contract at a time: the largest unmet quota
        room = out < caps
        if not room.any():
            break
        gap = np.where(room, quota - out, -np.inf)
        out[int(np.argmax(gap))] += 1
    return out


FORK_FROM = 16
"""Members from which a snapshot's books, when it has two or more (positions of different
condor expiries), are solved by forked copies of this process as well (``alvh_cli.forked``:
each copy a book in turn): the review benchmark's three books cost 0.2-0.4 s each."""


def plans(members: Sequence[Member], integral: bool = True) -> dict[int, hedges.HedgePlan | None]:
    """The hedge plan of each member (by its ``index``), its books solved (module
    docstring): members are grouped by market snapshot, rules (their values, wherever
    they were set), scenario horizon and condor expiry. None for a member that keeps its
    own program: alone in its book, leaving it, or held to a CVaR limit of its own."""
    books: dict[tuple, list[Member]] = {}
    markets: dict[int, object] = {}
    out: dict[int, hedges.HedgePlan | None] = {}
    for m in members:
        if m.pref.limited:  # its own limit decides its hedge: the book's program has none
            out[m.index] = None
            continue
        market = m.pv.market
        if id(market) not in markets:  # the same snapshot read from two files is one
            markets[id(market)] = replace(market, source="")
        rules = replace(m.ev.rules, origin=())
        key = (markets[id(market)], rules, m.ev.base.horizon_days, m.pv.position.expiry)
        books.setdefault(key, []).append(m)
    groups = list(books.values())
    # a book each in turn to a forked copy, where several are big enough to pay for it
    workers = forked.fork_workers() if len(groups) > 1 and len(members) >= FORK_FROM else 1
    for plans_of_book in forked.ordered_map(
        lambda i: _book(groups[i], integral), len(groups), workers
    ):
        out.update(plans_of_book)
    return out


def _book(members: list[Member], integral: bool) -> dict[int, hedges.HedgePlan | None]:
    """One book's plans: the program solved over the members that take their share."""
    if len(members) < 2:
        return {m.index: None for m in members}
    first = members[0].ev
    base = first.shared()
    rules = base.rules
    lasting = members[0].expiries  # one condor expiry and horizon: the same for every member
    own = hedges.candidates(base, lasting, Costs.from_rules(rules), None, members[0].pv.position)
    # futures in Minis only: shared out, a VX could give a member ten times what its own
    # loss allows (the futures' size rule, hedges._futures_limit); ten VXM can go to ten
    cands = [c for c in own if not (c.instrument == "vix_future" and c.root != "VXM")]
    n = base.scenarios.n
    hist = base.scenarios.historical
    gains = np.array([c.pnl[hist] for c in own])  # each member's own candidates, per scenario
    means = gains.mean(axis=1)  # the same for every member: taken once
    costs = np.array([c.cost for c in own])
    out: dict[int, hedges.HedgePlan | None] = {}
    active = list(members)
    rounds = 0
    while len(active) > 1:
        rounds += 1
        taken, left = _solve(base, active, cands, lasting, n, rounds, integral)
        out.update(taken)
        if not left:
            return out
        for m in left:  # it decides with its own program, as a book of one
            buys = _own_buys(m, gains, means, costs, hist)
            out[m.index] = None if buys else _buys_nothing(m, lasting, own)
        active = [m for m in active if m not in left]
    for m in active:  # a book of one left: the position's own program
        out[m.index] = None
    return out


def _own_buys(
    m: Member, gains: np.ndarray, means: np.ndarray, costs: np.ndarray, hist: slice
) -> bool:
    """Whether ``m``'s own program could beat its best alternative (the Layer 3 choice, or
    holding where none is weighed); when not, the program need not be solved.

    The objective V(n) = EV + γ·CVaR of its P&L with n hedges is concave in the counts,
    and d_c = mean(G_c) + γ·q·G_c (q the tail weights of its P&L as held, G_c a
    candidate's P&L net of its cost) is a supergradient at n = 0 (``hedges._ranked``):
    V(n) ≤ V(0) + Σ n_c·d_c ≤ V(0) + limit·max(0, max_c d_c/cost_c) within its spending
    limit. Without a CVaR limit only (a member with one keeps its own program). ``means``
    are the rows' means of ``gains``; q·G_c is summed over q's tail alone (about 5% of
    the scenarios: the full product cost most of a review's book plans)."""
    if not len(gains):
        return False
    x = m.held[hist]
    gamma = m.pref.risk_aversion
    level = m.ev.rules.cvar_level
    q = tail_weights(x, level)
    tail = np.flatnonzero(q)
    d = means + gamma * (gains[:, tail] @ q[tail])
    limit = hedges.spending(m.pv.position, m.ev.rules, m.layer)[3]
    bound = float(x.mean()) + gamma * cvar(x, level) + limit * max(0.0, float(np.max(d / costs)))
    rival = m.before if m.l3 is None else m.l3.alternatives[m.l3.chosen].figures
    return bound > m.pref.objective(rival) - 1e-9 * max(1.0, abs(bound))


def _buys_nothing(m: Member, lasting, own) -> hedges.HedgePlan:
    """The plan of a member that left its book and whose own program cannot beat its best
    alternative (:func:`_own_buys`): no hedge."""
    limit = hedges.spending(m.pv.position, m.ev.rules, m.layer)[3]
    note = (
        f"no VIX hedge within the layer's ${limit:,.0f} can beat the best alternative by "
        f"{m.pref.describe()} (a bound: what each dollar of the best candidate adds at the "
        "margin)"
    )
    return _no_hedge(m, lasting, len(own), note, m.pref.describe())


def _no_hedge(m: Member, lasting, n_candidates: int, note: str, objective: str, share=None):
    """``m``'s plan when it buys nothing: its figures as held, and why (``note``)."""
    budget, spent, _, limit = hedges.spending(m.pv.position, m.ev.rules, m.layer)
    return hedges.HedgePlan(
        m.layer, budget, spent, limit, lasting, (), (), 0.0, m.before, m.before,
        -float(m.held[m.stress_col]), False, note, n_candidates,
        tuple(float(x) for x in m.held[m.ev.scenarios.ladder]), objective,
        m.pref.meets(m.before), share,
    )  # fmt: skip


def _solve(base, active, cands, lasting, n, rounds, integral):
    """One round: the program over ``active``, each member's share and whether it takes it.
    (plans by index, the members that leave)."""
    rules = base.rules
    level = rules.cvar_level
    hist = base.scenarios.historical
    pnl = np.array([m.held[:n] for m in active])
    book = pnl.sum(axis=0)
    # each member's room: what its layer may spend less what it spent (below 0 where its
    # shares of earlier book programs took more than its own budget)
    spending = [hedges.spending(m.pv.position, rules, m.layer) for m in active]
    rooms = np.array([cap - spent for _, spent, cap, _ in spending])
    limits = np.maximum(rooms, 0.0)
    pool = max(float(rooms.sum()), 0.0)
    units = sum(m.pv.position.units for m in active)
    floor = -rules.book_cvar_limit if rules.book_cvar_limit else -math.inf
    pref = Preference(rules.risk_aversion, floor, TIE * max(units, 1e-9))
    empty = _plans_without(active, lasting, cands, pref, rounds, book[hist], level, pool)
    if not cands or pool < min(c.cost for c in cands):
        return empty, []
    # the members' futures' size rules together: every future bought finds a member with room
    caps = [_caps(base, active, c) for c in cands]
    futures = np.array([c is not None for c in caps], dtype=float)
    room = sum(float(c.sum()) for c in caps if c is not None)
    extra = [(futures, math.floor(room + 1e-9) if integral else room)] if futures.any() else []
    alloc, ranked, limited, objective = hedges.program(
        base, book, cands, pool, pref, integral, extra
    )
    counts = alloc.counts
    if not np.any(counts > 1e-9):
        return empty, []
    weights = shares(contributions(pnl[:, hist], level), limits)
    pairs = zip(counts, caps, strict=True)
    parts = np.array([apportion(x, weights, integral, cap) for x, cap in pairs]).T
    counts = parts.sum(axis=0)  # parts: (members, candidates), every contract placed
    spend = float(counts @ np.array([c.cost for c in cands]))
    hedged_book = book[hist] + counts @ np.array([c.pnl[hist] for c in cands])
    figures = (
        float(book[hist].mean()), float(hedged_book.mean()),
        cvar(book[hist], level), cvar(hedged_book, level),
    )  # fmt: skip
    binding = pref.limited and figures[2] < pref.cvar_floor - 1e-9
    plans: dict[int, hedges.HedgePlan] = {}
    left = []
    for m, part, w, lim in zip(active, parts, weights, limits, strict=True):
        share = BookShare(
            len(active), pool, spend, *figures, float(w), rounds,
            objective, binding,
        )  # fmt: skip
        plan = _member_plan(m, part, cands, lasting, ranked, limited, share, lim, integral)
        plans[m.index] = plan
        if not _takes(m, plan):
            left.append(m)
    return plans, left


def _caps(base: Evaluator, active: Sequence[Member], hedge: hedges.Hedge) -> np.ndarray | None:
    """The most of ``hedge`` each member may take: for a future, what its own P&L over the
    book's scenarios allows (:func:`alvh_cli.method.hedges.futures_room`, the ladder the
    future was revalued on); None for an option (no cap)."""
    if hedge.instrument != "vix_future":
        return None
    n = base.scenarios.n
    return np.array([hedges.futures_room(base, m.held[:n], hedge) for m in active])


def _member_plan(m, part, cands, lasting, ranked, limited, share, limit, integral):
    """Member ``m``'s plan: its ``part`` of each candidate, its figures with them."""
    p = m.pv.position
    rules = m.ev.rules
    budget, spent, _, _ = hedges.spending(p, rules, m.layer)
    mine = [(k, x) for k, x in enumerate(part) if x > 1e-9]
    chosen = tuple(
        (replace(cands[k], pnl=(row := hedges.pnl_over(m.ev, cands[k])), stress_gain=float(
            row[m.stress_col])), int(x) if integral else float(x))
        for k, x in mine
    )  # fmt: skip
    hedged = m.held + sum((x * c.pnl for c, x in chosen), np.zeros(len(m.held)))
    after = hedges.hedged_figures(m.ev, p, hedged, m.pv.values.price, chosen) if chosen else None
    spend = float(sum(c.cost * x for c, x in chosen))
    note = _note(share, spend, chosen)
    if spend > limit + 1e-9:
        note += (
            f"; ${spend:,.0f} is more than this position's layer has left (${limit:,.0f}): "
            "the book's budget is pooled"
        )
    return hedges.HedgePlan(
        m.layer, budget, spent, limit, lasting, ranked, chosen, spend, m.before,
        after if after is not None else m.before, -float(m.held[m.stress_col]), limited, note,
        len(cands), tuple(float(x) for x in hedged[m.ev.scenarios.ladder]), share.objective,
        m.pref.meets(after if after is not None else m.before), share,
    )  # fmt: skip


def _note(share: BookShare, spend: float, chosen) -> str:
    book = (
        f"hedged as a book of {share.positions} positions due a layer: ${share.spend:,.0f} of "
        f"their ${share.budget:,.0f}, book CVaR {share.cvar_before:,.0f} → "
        f"{share.cvar_after:,.0f}, EV {share.ev_before:,.0f} → {share.ev_after:,.0f}"
    )
    if share.binding:
        book += f"; holding misses the book's limit ({share.objective})"
    if chosen:
        return f"{book}; this position's share {share.share:.0%} (by its CVaR contribution)"
    if share.spend > 0:
        return (
            f"{book}; this position's share {share.share:.0%} (by its CVaR contribution) "
            "rounds to no contract"
        )
    return f"{book}; no VIX hedge raises the book's {share.objective}"


def _plans_without(active, lasting, cands, pref, rounds, book_hist, level, pool):
    """Plans for a book that buys nothing: each member's figures as held, and why."""
    ev_, cv = float(book_hist.mean()), cvar(book_hist, level)
    share = BookShare(
        len(active), pool, 0.0, ev_, ev_, cv, cv, math.nan, rounds,
        pref.describe(),
    )  # fmt: skip
    if not cands:
        why = "no VIX hedge of at least 0.05 on the expiries that last"
    elif pool < min(c.cost for c in cands):
        why = f"their layers have ${pool:,.0f} left in all: nothing fits"
    else:
        why = f"no VIX hedge raises the book's {pref.describe()}"
    note = f"hedged as a book of {len(active)} positions due a layer: {why}"
    return {
        m.index: _no_hedge(m, lasting, len(cands), note, pref.describe(), share) for m in active
    }


def rivals(plan: hedges.HedgePlan, l3, before: RiskFigures) -> list[RiskFigures]:
    """What a position's hedges compete with: its Layer 3 alternatives (holding first), or
    holding alone where none is weighed — nothing when the plan is a share of a book whose
    CVaR limit holding misses (module docstring)."""
    if plan.book is not None and plan.book.binding:
        return []  # the book's hard limit decides: the share is taken
    return [a.figures for a in l3.alternatives] if l3 is not None else [before]


def _takes(m: Member, plan: hedges.HedgePlan) -> bool:
    """Whether ``m`` stays in the book: it takes its share (its own preference prefers it
    to every rival, :func:`rivals`), or it gets no share and would hold anyway (its budget
    still counts)."""
    if plan.chosen:
        figures = rivals(plan, m.l3, m.before)
        return m.pref.choose([*figures, plan.after]) == len(figures)
    if m.l3 is None:
        return True
    return m.l3.alternatives[m.l3.chosen].action == Action.HOLD
