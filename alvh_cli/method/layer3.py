"""Layer 3: the alternatives for a tested side, each evaluated over the scenario set.

Evaluated, with their trading cost (assumed fills and fees):

* hold;
* conversion (put side: buy n puts, sell n calls at the short put strike) or
  reversal (call side, the mirror), n = 1..the short contracts on that side;
* close the tested vertical, on k = 1..N of its N lots;
* roll the tested vertical out in time: the whole vertical, same width, to each
  of the next ``ROLL_EXPIRIES`` listed Friday expiries at least ``roll_min_days``
  after its own (on the root that lists it: an SPX vertical rolled off the
  monthly expiry becomes SPXW), at its own strikes and at the strikes whose
  short has the ``roll_delta`` the condor was sold at; a move to other strikes
  for a debit is named for what it is, a close and a new sale;
* close the position (condor and hedges), or k of its N lots (the SPX legs).

The choice is the trader's preference (:mod:`alvh_cli.method.decision`): the best
EV + γ·CVaR within the CVaR limit, hold on a tie.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from alvh_cli.method import scenarios as sc
from alvh_cli.method.actions import Action, Alternative, TradeLeg
from alvh_cli.method.decision import Preference
from alvh_cli.method.risk import Costs, Evaluator, cash, subset, trade, trading_cost
from alvh_cli.model.contracts import listing_root
from alvh_cli.model.domain import Leg, Market, Position
from alvh_cli.model.exchange import is_business_day, previous_business_day
from alvh_cli.model.legs import LegValues, value_legs
from alvh_cli.model.quotes import find_quote

STRIKE_STEP = 5.0  # SPX/SPXW strikes are listed every 5 points near the money
ROLL_EXPIRIES = 3  # Friday expiries tried for a roll
TENTHS = 10  # conversion sizes of a method sized in fractions: tenths of the tested side


@dataclass(frozen=True)
class Layer3:
    """The alternatives (hold first) and the index of the one chosen."""

    alternatives: tuple[Alternative, ...]
    chosen: int
    parity_edge: float | None  # C − P − e^(−rT)(F − K) from quote mids at the short strike
    preference: Preference | None = None


def tested_vertical(position: Position, side: str, spot: float) -> tuple[Leg, Leg | None] | None:
    """The tested side's vertical held (its short and wing; the wing None when the short is
    alone), or None when no short of that side is held."""
    return position.vertical(side, spot) if side in ("put", "call") else None


@dataclass(frozen=True)
class _Held:
    """The position as held, over the scenarios: its legs, today's prices and P&L rows."""

    legs: list[Leg]
    today: np.ndarray
    leg_pnl: np.ndarray

    @property
    def pnl(self) -> np.ndarray:
        return self.leg_pnl.sum(axis=0)

    def figures(self, ev: Evaluator, drafts: Sequence[_Draft]) -> list:
        """The figures of every draft at once: one P&L row per draft, one sort of them all.

        Why one matrix: every alternative keeps a share of the legs held and may add legs
        of its own, so its P&L in scenario s is

            P(s) = −cost + added(s) + Σ_i keep_i · L_i(s)

        (L_i the P&L row of leg i as held). The sizes k of N of one kind trade k/N of the
        same legs (a conversion: k synthetics of one P&L row a(s)): keep_i = 1 − k/N
        (rounded to whole contracts), added = k·a, and the cost is Σ (|fill − model| ×
        multiplier + fee) × |q| over its trades, each |q| linear in k — P is linear in k
        but for the rounding, and EV, a mean of P, with it (CVaR, the mean of P's worst
        tail, is concave in k: it is computed per row). So the rows of all sizes are
        formed from the same L_i and a in one broadcast, each element by the very
        operations, in the same order, that the alternative computed alone takes — the
        same floats — and the figures are row-wise reductions
        (:func:`alvh_cli.method.scenarios.figures_rows`), each the same as alone.
        """
        if not drafts:
            return []
        n = ev.scenarios.n
        cost = np.array([d.cost for d in drafts])
        pnl = np.empty((len(drafts), n))
        for r, d in enumerate(drafts):  # −cost + added, the added row 0.0 where none is
            if d.added is not None:
                np.add(-d.cost, d.added[2], out=pnl[r])
            else:
                pnl[r] = -d.cost + 0.0
        keep = np.array([d.keep for d in drafts])
        part = np.empty((len(drafts), n))  # a leg's kept share of its P&L, row by row
        for i in range(len(self.legs)):
            if (keep[:, i] == 1.0).all():
                pnl += self.leg_pnl[i]  # 1.0·x is x: the product is skipped, not changed
            else:
                np.multiply(keep[:, i, None], self.leg_pnl[i], out=part)
                pnl += part
        return ev.figures_rows(pnl, self._floors(drafts, keep), cost)

    def _floors(self, drafts: Sequence[_Draft], keep: np.ndarray) -> np.ndarray:
        """Each draft's expiry floor (:func:`alvh_cli.method.scenarios.expiry_floor`): the
        legs it keeps (a leg at 1e-12 of its size or less is gone) at their kept
        quantities, then the legs it adds. One small sum per draft: a few legs, a few
        levels, where arrays cost more to set up than to use."""
        quantity = [g.quantity for g in self.legs]
        held = list(zip(self.legs, self.today.tolist(), quantity, strict=True))
        out = []
        memo: dict = {}  # groups kept alike by several drafts (the hedges, mostly): once
        for d, kept in zip(drafts, keep.tolist(), strict=True):
            legs, today, qty = [], [], []
            for (g, price, q), k in zip(held, kept, strict=True):
                if k > 1e-12:
                    legs.append(g)
                    today.append(price)
                    qty.append(q * k)
            if d.added is not None:
                legs += d.added[0]
                today += [float(x) for x in d.added[1]]
                qty += d.added[3]
            out.append(sc.expiry_floor(legs, today, qty, memo))
        return np.array(out)


@dataclass(frozen=True)
class _Draft:
    """An alternative before its figures: its trades, their cost and cash, and what of the
    position it leaves — ``keep`` the share kept of each leg held (in order), ``added``
    the legs it opens (legs, their prices today, their P&L per scenario, their quantities:
    a conversion's, k × the synthetic's) or None."""

    name: str
    action: Action
    cost: float
    cash: float
    trades: tuple[TradeLeg, ...]
    keep: tuple[float, ...]
    added: tuple | None = None

    def alternative(self, figures, pref: Preference, best) -> Alternative:
        """The alternative with its ``figures``, weighed by ``pref`` against ``best``'s."""
        return Alternative(
            self.name, self.action, figures, self.cost, self.cash,
            eligible=pref.meets(figures), why_not=pref.why_not(figures, best),
            trades=self.trades, objective=pref.objective(figures),
        )  # fmt: skip


def _keep(n_legs: int, share: dict[int, float]) -> tuple[float, ...]:
    """The share kept of each of ``n_legs`` legs held, ``share`` of some closed."""
    return tuple(1.0 - share.get(i, 0.0) for i in range(n_legs))


def evaluate(
    ev: Evaluator,
    position: Position,
    values: LegValues,
    leg_pnl: np.ndarray,
    side: str,
    *,
    integral: bool = True,
    hold: sc.RiskFigures | None = None,
) -> Layer3:
    """Every alternative for ``side`` over ``ev``'s scenarios. ``values`` and ``leg_pnl``
    (legs × scenarios, dollars) are the position's legs as held, in order; ``hold`` their
    figures when the caller has them (``ev.figures`` of the summed rows), else computed.

    Partial alternatives are tried for k = 1..N of N whole contracts, or with
    ``integral=False`` for k = N·j/10, j = 1..10: tenths, the choices the whole-contract
    method has at ten contracts, at any size. Their figures are computed together
    (:meth:`_Held.figures`)."""
    rules, market = ev.rules, ev.market
    pref = Preference.for_position(rules, position)
    held = _Held(list(position.legs), values.price, leg_pnl)
    drafts: list[_Draft] = [_Draft("hold", Action.HOLD, 0.0, 0.0, (), ())]
    pair = tested_vertical(position, side, market.spx)
    if pair is not None:
        # the legs Layer 3 may open, valued and revalued together: a synthetic, the rolls
        syn = synthetic(pair[0], side)
        targets = roll_targets(ev, pair[0], pair[1], side) if pair[1] is not None else []
        new = [*syn, *(g for t in targets for g in t)]
        new_values = ev.values(new)
        prices = new_values.price.tolist()  # today's, per unit: all a trade reads of them
        # only the rolls offered are revalued over the scenarios (half are not: a debit to
        # other strikes), each leg's rows the same whichever legs it is revalued beside
        offers = _roll_offers(ev, held, side, pair, targets, prices[2:])
        kept = [0, 1, *(2 + 2 * o.index + k for o in offers for k in (0, 1))]
        opened = [new[i] for i in kept]
        new_pnl = ev.pnl(opened, subset(new_values, kept))
        syn_opened = (prices[:2], new_pnl[:2])
        drafts += _conversions(ev, position, held, side, pair[0], integral, syn, syn_opened)
        drafts += _close_vertical(ev, held, side, pair, integral)
        drafts += _rolls(ev, held, side, pair, offers, new_pnl[2:])
    drafts += _close_lots(ev, position, held, integral)
    if hold is None:
        hold = ev.figures(held.pnl, held.legs, held.today, 0.0)
    figures = [hold, *held.figures(ev, drafts[1:])]
    chosen = pref.choose(figures)
    alts = [d.alternative(f, pref, figures[chosen]) for d, f in zip(drafts, figures, strict=True)]
    edge = parity_edge(market, pair[0]) if pair is not None else None
    return Layer3(tuple(alts), chosen, edge, pref)


def _sizes(units: float, integral: bool) -> list:
    """k of ``units``: 1..units whole contracts, or tenths of the size."""
    if units <= 1e-9:
        return []
    if integral:
        return list(range(1, int(round(units)) + 1))
    return [units * j / TENTHS for j in range(1, TENTHS + 1)]


def _of(k, units) -> str:
    """ "1 of 3" lots, or a share of a method sized in fractions."""
    if isinstance(k, int):
        return "" if k == units else f" {k} of {units}"
    return "" if abs(k - units) < 1e-9 else f" {k / units:.0%}"


def synthetic(short: Leg, side: str) -> list[Leg]:
    """One conversion (put side: a put bought, a call sold) or reversal (call side, the
    mirror) at ``short``'s strike and expiry."""
    buy, sell = ("put", "call") if side == "put" else ("call", "put")
    return [
        Leg("SPX", short.root, buy, short.strike, short.expiry, 1, 0.0, layer=3),
        Leg("SPX", short.root, sell, short.strike, short.expiry, -1, 0.0, layer=3),
    ]


def _conversions(
    ev, position, held: _Held, side: str, short: Leg, integral, syn, opened
) -> list[_Draft]:
    """n conversions (put side) or reversals (call side) at the tested short strike; ``syn``
    one of them, ``opened`` its legs' (prices today, P&L rows)."""
    market = ev.market
    costs = Costs.from_rules(ev.rules)
    buy = syn[0].type
    prices = opened[0]
    syn_pnl = opened[1].sum(axis=0)  # one synthetic, per scenario
    already = sum(
        g.quantity
        for g in position.layer_legs
        if g.layer == 3 and g.type == buy and (g.expiry, g.strike) == (short.expiry, short.strike)
    )
    name = "conversion" if side == "put" else "reversal"
    left = abs(short.quantity) - max(already, 0)
    keep = _keep(len(held.legs), {})
    fills: dict = {}
    out = []
    for n in _sizes(left, integral):
        trades = trade(market, syn, [n, -n], prices, costs, True, fills)
        cost = trading_cost(trades, costs)
        added = (syn, prices, n * syn_pnl, [g.quantity * n for g in syn])
        label = f"{name} {n}" if isinstance(n, int) else f"{name} {n:.3g}"
        out.append(_Draft(label, Action.CONVERT, cost, cash(trades), trades, keep, added))
    return out


def _close_vertical(ev, held: _Held, side: str, pair, integral) -> list[_Draft]:
    """Close the tested vertical (its short alone when it has no wing) on k of its lots."""
    costs = Costs.from_rules(ev.rules)
    legs = [g for g in pair if g is not None]
    idx = [held.legs.index(g) for g in legs]
    units = abs(pair[0].quantity)
    models = held.today[idx].tolist()
    fills: dict = {}
    out = []
    for k in _sizes(units, integral):
        share = k / units
        qty = [_part(-g.quantity, share, integral) for g in legs]
        trades = trade(ev.market, legs, qty, models, costs, False, fills)
        cost = trading_cost(trades, costs)
        keep = _keep(
            len(held.legs), {i: q / -g.quantity for i, g, q in zip(idx, legs, qty, strict=True)}
        )
        name = f"close {side} vertical{_of(k, units)}"
        out.append(_Draft(name, Action.CLOSE_VERTICAL, cost, cash(trades), trades, keep))
    return out


def _part(quantity, share: float, integral: bool):
    """``share`` of a leg's ``quantity`` (signed): whole contracts, rounded, when integral."""
    q = quantity * share
    return int(round(q)) if integral else q


def _close_lots(ev, position: Position, held: _Held, integral) -> list[_Draft]:
    """Close everything held (condor and hedges), or k of the position's N lots: that
    share of its SPX legs, the hedges kept."""
    costs = Costs.from_rules(ev.rules)
    fills: dict = {}
    out = []
    units = position.units
    spx = [i for i, g in enumerate(held.legs) if g.underlying == "SPX"]
    today = held.today.tolist()
    for k in _sizes(units, integral):
        whole = abs(k - units) < 1e-9
        idx = range(len(held.legs)) if whole else spx
        legs = [held.legs[i] for i in idx]
        qty = [-g.quantity if whole else _part(-g.quantity, k / units, integral) for g in legs]
        if not any(qty):
            continue
        trades = trade(ev.market, legs, qty, [today[i] for i in idx], costs, False, fills)
        cost = trading_cost(trades, costs)
        share = {i: q / -g.quantity for i, g, q in zip(idx, legs, qty, strict=True)}
        name = f"close position{_of(k, units)}"
        keep = _keep(len(held.legs), share)
        out.append(_Draft(name, Action.CLOSE_POSITION, cost, cash(trades), trades, keep))
    return out


@dataclass(frozen=True)
class _RollOffer:
    """A roll offered (:func:`_roll_offers`): the index of its target, the vertical it opens,
    its legs' prices today (per unit), its trades and the cash they bring, and that net in
    points per vertical."""

    index: int  # of its target
    target: tuple[Leg, Leg]
    prices: list
    trades: tuple
    paid: float
    net: float


def _roll_offers(ev, held: _Held, side: str, pair, targets, today) -> list[_RollOffer]:
    """The rolls of the tested vertical, whole, to each of ``targets``
    (:func:`roll_targets`, their legs' ``today`` prices in order) that are offered: a move
    to other strikes for a debit is not a roll but a close and a new sale."""
    if not targets:
        return []
    costs = Costs.from_rules(ev.rules)
    short, long_ = pair
    idx = [held.legs.index(short), held.legs.index(long_)]
    close = trade(ev.market, [short, long_], [-short.quantity, -long_.quantity],
                  held.today[idx].tolist(), costs, False)  # fmt: skip
    out = []
    for j, (s_new, l_new) in enumerate(targets):
        prices = today[2 * j : 2 * j + 2]
        opens = trade(ev.market, [s_new, l_new], [s_new.quantity, l_new.quantity], prices,
                      costs, True)  # fmt: skip
        trades = close + opens
        paid = cash(trades)
        net = paid / (abs(short.quantity) * short.multiplier)  # points per vertical
        if net < 0 and s_new.strike != short.strike:
            continue
        out.append(_RollOffer(j, (s_new, l_new), prices, trades, paid, net))
    return out


def _rolls(ev, held: _Held, side: str, pair, offers: list[_RollOffer], pnl) -> list[_Draft]:
    """The rolls ``offers`` (:func:`_roll_offers`) as alternatives; ``pnl`` their legs' P&L
    rows, in order."""
    if not offers:  # none, or a short alone on the side: no vertical to roll
        return []
    costs = Costs.from_rules(ev.rules)
    short, long_ = pair
    idx = [held.legs.index(short), held.legs.index(long_)]
    keep = _keep(len(held.legs), {i: 1.0 for i in idx})
    out = []
    for j, offer in enumerate(offers):
        s_new, l_new = offer.target
        cost = trading_cost(offer.trades, costs)
        row = pnl[2 * j : 2 * j + 2].sum(axis=0)
        added = ([s_new, l_new], offer.prices, row, [s_new.quantity, l_new.quantity])
        k_s, k_l = sorted((s_new.strike, l_new.strike))
        where = f"{s_new.expiry:%d%b%y} {k_s:g}/{k_l:g}"  # as a ticket writes it
        for_ = f"{abs(offer.net):.2f} {'credit' if offer.net >= 0 else 'debit'}"
        name = f"roll {side}s to {where} ({for_})"
        out.append(_Draft(name, Action.ROLL, cost, offer.paid, offer.trades, keep, added))
    return out


def listed_fridays(after: date, count: int) -> list[date]:
    """The next ``count`` SPXW Friday expiries on or after ``after`` (the business day
    before a Friday holiday)."""
    day = after + timedelta(days=(4 - after.weekday()) % 7)
    out = []
    while len(out) < count:
        e = day if is_business_day(day) else previous_business_day(day)
        if e >= after:
            out.append(e)
        day += timedelta(days=7)
    return out


def roll_targets(ev: Evaluator, short: Leg, long_: Leg, side: str) -> list[tuple[Leg, Leg]]:
    """The verticals a roll may open (short leg first), the same size and width: on each of
    the next ``ROLL_EXPIRIES`` Fridays at least ``roll_min_days`` after the vertical's
    expiry, on the root that lists it (:func:`alvh_cli.model.contracts.listing_root`), at
    the vertical's own strikes and at the strikes whose short has ``roll_delta``."""
    rules, market = ev.rules, ev.market
    width = abs(short.strike - long_.strike)
    out = []
    after = short.expiry + timedelta(days=int(rules.roll_min_days))
    for expiry in listed_fridays(after, ROLL_EXPIRIES):
        root = listing_root(short.root, expiry)  # an SPX (AM) vertical rolls to SPXW off-month
        strikes = [short.strike]
        k = ev.block(
            ("strike_at_delta", side, expiry, root, rules.roll_delta),
            lambda e=expiry, r=root: strike_at_delta(market, side, e, r, rules.roll_delta),
        )
        if k is not None and k != short.strike:
            strikes.append(k)
        for k in strikes:
            k_long = k - width if side == "put" else k + width
            if k_long > 0:
                out.append(
                    (
                        Leg("SPX", root, side, k, expiry, short.quantity, 0.0),
                        Leg("SPX", root, side, k_long, expiry, long_.quantity, 0.0),
                    )
                )
    return out


def strike_at_delta(market: Market, side: str, expiry: date, root: str, target: float):
    """The 5-point strike whose |delta| on the smile is nearest ``target``, or None."""
    from alvh_cli.model.pricing import bsm_greeks
    from alvh_cli.model.smile import smile_vol, spx_forward
    from alvh_cli.model.timing import settlement_instant, year_fraction

    t = year_fraction(market.asof, settlement_instant(root, expiry))
    if t <= 0:
        return None
    lo = math.floor(market.spx * 0.5 / STRIKE_STEP)
    hi = math.ceil(market.spx * 1.5 / STRIKE_STEP)
    grid = np.arange(lo, hi + 1) * STRIKE_STEP
    if market.spx_surface is not None:  # a fitted chain: its vols and forwards
        legs = [Leg("SPX", root, side, float(k), expiry, 1, 0.0) for k in grid]
        delta = np.abs(value_legs(market, legs, use_quotes=False).delta)
    else:
        fwd = float(spx_forward(market, t))
        vol = smile_vol(market.spx_vol, np.log(grid / fwd), t)
        r, q = market.rate, market.dividend_yield
        delta = np.abs(bsm_greeks(side == "call", market.spx, grid, t, r, q, vol).delta)
    i = int(np.argmin(np.abs(delta - target)))
    return float(grid[i]) if np.isfinite(delta[i]) else None


def parity_edge(market: Market, short: Leg) -> float | None:
    """C − P − e^(−rT)(F − K) from the quote mids at the short strike: what a conversion
    gains (< 0) or gives (> 0) against parity; None unless both are quoted."""
    call = find_quote(market, "SPX", "call", short.strike, short.expiry, short.root)
    put = find_quote(market, "SPX", "put", short.strike, short.expiry, short.root)
    if call is None or put is None:
        return None
    v = value_legs(market, [short])
    return (
        call.mid
        - put.mid
        - math.exp(-market.rate * float(v.T[0])) * (float(v.forward[0]) - short.strike)
    )


def synthetic_count(trades: Sequence[TradeLeg]) -> int:
    return max((abs(t.quantity) for t in trades), default=0)
