"""Layer 3: the alternatives for a tested side, each evaluated over the scenario set.

Evaluated, with their trading cost (assumed fills and fees):

* hold;
* conversion (put side: buy n puts, sell n calls at the short put strike) or
  reversal (call side, the mirror), n = 1..the short contracts on that side;
* close the tested vertical;
* roll the tested vertical out in time (the time-shift): same width, on the
  first listed Friday expiry at least ``roll_min_days`` after the condor's
  (and the two after), on the root that lists it (an SPX vertical rolled off
  the monthly expiry becomes SPXW), short strike back at ``roll_delta``; the nearest
  expiry that rolls for a credit, else the one with the least debit;
* close the whole position (condor and hedges).

The choice: the alternative with the smallest tail loss (highest CVaR as a
P&L) among those whose expected value is not worse than holding by more
than their trading cost (and ``layer3_ev_slack`` of it, the model's noise),
never one that raises both the tail loss and the spread of outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from alvh_cli.method.actions import Action, Alternative, TradeLeg
from alvh_cli.method.risk import Costs, Evaluator, cash, trade, trading_cost
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


def tested_vertical(position: Position, side: str, spot: float) -> tuple[Leg, Leg | None] | None:
    """The tested side's vertical held (its short and wing; the wing None when the short is
    alone), or None when no short of that side is held."""
    return position.vertical(side, spot) if side in ("put", "call") else None


def evaluate(
    ev: Evaluator,
    position: Position,
    values: LegValues,
    leg_pnl: np.ndarray,
    side: str,
    *,
    integral: bool = True,
) -> Layer3:
    """Every alternative for ``side`` over ``ev``'s scenarios. ``values`` and ``leg_pnl``
    (legs × scenarios, dollars) are the position's legs as held, in order.

    Conversions are tried for n = 1..N whole contracts of the N not yet converted, or
    with ``integral=False`` for n = N·j/10, j = 1..10: tenths of the tested side, the
    choices the whole-contract method has at ten contracts, at any size."""
    rules, market = ev.rules, ev.market
    costs = Costs.from_rules(rules)
    legs = list(position.legs)
    today = values.price
    held = leg_pnl.sum(axis=0)
    alts: list[Alternative] = [
        Alternative("hold", Action.HOLD, ev.figures(held, legs, today, 0.0), 0.0, 0.0)
    ]
    pair = tested_vertical(position, side, market.spx)
    if pair is not None:
        alts += _vertical_alternatives(ev, position, values, leg_pnl, side, pair, integral)
    alts.append(_close_all(ev, legs, today, held, costs))
    alts = judge(alts, rules.layer3_ev_slack)
    chosen = max(
        (i for i, a in enumerate(alts) if a.eligible),
        key=lambda i: (alts[i].figures.cvar, -i == 0),
        default=0,
    )
    # a tie in tail loss goes to the cheaper trade, hold first
    best = alts[chosen].figures.cvar
    ties = [i for i, a in enumerate(alts) if a.eligible and a.figures.cvar >= best - 1e-6]
    chosen = min(ties, key=lambda i: alts[i].cost)
    edge = parity_edge(market, pair[0]) if pair is not None else None
    return Layer3(tuple(alts), chosen, edge)


def _close_all(ev: Evaluator, legs, today, held, costs: Costs) -> Alternative:
    """Close everything held (condor and hedges)."""
    all_trades = trade(ev.market, legs, [-g.quantity for g in legs], today, costs, False)
    all_cost = trading_cost(all_trades, costs)
    return Alternative(
        "close position",
        Action.CLOSE_POSITION,
        ev.figures(np.full_like(held, -all_cost), [], [], all_cost),
        all_cost,
        cash(all_trades),
        trades=all_trades,
    )


def _vertical_alternatives(ev, position, values, leg_pnl, side, pair, integral) -> list:
    """Conversions or reversals on the tested short, closing the tested vertical, and
    rolling it out in time."""
    rules, market = ev.rules, ev.market
    costs = Costs.from_rules(rules)
    legs = list(position.legs)
    today = values.price
    held = leg_pnl.sum(axis=0)
    short, long_ = pair
    units = abs(short.quantity)
    alts: list[Alternative] = []

    # conversions / reversals on the tested short strike
    buy, sell = ("put", "call") if side == "put" else ("call", "put")
    syn = [
        Leg("SPX", short.root, buy, short.strike, short.expiry, 1, 0.0, layer=3),
        Leg("SPX", short.root, sell, short.strike, short.expiry, -1, 0.0, layer=3),
    ]
    syn_values = value_legs(market, syn)
    roll = roll_vertical(ev, short, long_, side, costs)
    if roll is None:
        syn_pnl = ev.pnl(syn, syn_values).sum(axis=0)  # one synthetic, per scenario
    else:
        both = ev.pnl([*syn, *roll[0]], _join(syn_values, roll[1]))
        syn_pnl, roll_pnl = both[:2].sum(axis=0), both[2:].sum(axis=0)
    already = sum(
        g.quantity
        for g in position.layer_legs
        if g.layer == 3 and g.type == buy and (g.expiry, g.strike) == (short.expiry, short.strike)
    )
    name = "conversion" if side == "put" else "reversal"
    left = units - max(already, 0)
    sizes = range(1, left + 1) if integral else [left * j / TENTHS for j in range(1, TENTHS + 1)]
    for n in sizes if left > 1e-9 else ():
        trades = trade(market, syn, [n, -n], syn_values.price, costs, True)
        cost = trading_cost(trades, costs)
        after_legs = [*legs, *(replace(g, quantity=g.quantity * n) for g in syn)]
        fig = ev.figures(held + n * syn_pnl - cost, after_legs, [*today, *syn_values.price], cost)
        label = f"{name} {n}" if isinstance(n, int) else f"{name} {n:.3g}"
        alts.append(Alternative(label, Action.CONVERT, fig, cost, cash(trades), trades=trades))

    # close the tested vertical (its short alone when it has no wing)
    pair_legs = [g for g in (short, long_) if g is not None]
    idx = [legs.index(g) for g in pair_legs]
    close_trades = trade(
        market, pair_legs, [-g.quantity for g in pair_legs], today[idx], costs, False
    )
    close_cost = trading_cost(close_trades, costs)
    rest = [g for i, g in enumerate(legs) if i not in idx]
    rest_today = [v for i, v in enumerate(today) if i not in idx]
    rest_pnl = held - leg_pnl[idx].sum(axis=0)
    alts.append(
        Alternative(
            f"close {side} vertical",
            Action.CLOSE_VERTICAL,
            ev.figures(rest_pnl - close_cost, rest, rest_today, close_cost),
            close_cost,
            cash(close_trades),
            trades=close_trades,
        )
    )

    # roll the tested vertical out in time
    if roll is not None and long_ is not None:
        new_legs, new_values, open_trades = roll
        trades = close_trades + open_trades
        cost = trading_cost(trades, costs)
        new_pnl = roll_pnl
        k_s, k_l = new_legs[0].strike, new_legs[1].strike
        alts.append(
            Alternative(
                f"roll {side} vertical to {new_legs[0].expiry} {min(k_s, k_l):g}/{max(k_s, k_l):g}",
                Action.ROLL,
                ev.figures(
                    rest_pnl + new_pnl - cost,
                    [*rest, *new_legs],
                    [*rest_today, *new_values.price],
                    cost,
                ),
                cost,
                cash(trades),
                trades=trades,
            )
        )

    return alts


def _join(a: LegValues, b: LegValues) -> LegValues:
    parts = {}
    for name, value in vars(a).items():
        other = getattr(b, name)
        if isinstance(value, np.ndarray):
            parts[name] = np.concatenate([value, other])
        elif isinstance(value, tuple):
            parts[name] = value + other
        else:
            parts[name] = value
    return type(a)(**parts)


def judge(alts: list[Alternative], slack: float) -> list[Alternative]:
    """Mark each alternative eligible or not against hold (``alts[0]``)."""
    hold = alts[0].figures
    out = [alts[0]]
    for a in alts[1:]:
        f = a.figures
        allowed = hold.ev - a.cost * (1.0 + slack)
        why = ""
        if f.ev < allowed - 1e-9:
            why = (
                f"EV {f.ev:,.0f} is worse than hold's {hold.ev:,.0f} by more than its "
                f"trading cost {a.cost:,.0f}"
            )
        elif f.cvar < hold.cvar - 1e-9 and f.sd > hold.sd + 1e-9:
            why = "raises both the tail loss and the spread of outcomes"
        out.append(replace(a, eligible=not why, why_not=why))
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


def roll_vertical(
    ev: Evaluator, short: Leg, long_: Leg, side: str, costs: Costs
) -> tuple[list[Leg], LegValues, tuple[TradeLeg, ...]] | None:
    """The rolled vertical (short leg first), its values today and its opening trades: on
    each expiry tried, the root that lists it (:func:`alvh_cli.model.contracts.listing_root`)."""
    rules, market = ev.rules, ev.market
    width = abs(short.strike - long_.strike)
    units = abs(short.quantity)
    pairs = []
    after = short.expiry + timedelta(days=int(rules.roll_min_days))
    for expiry in listed_fridays(after, ROLL_EXPIRIES):
        root = listing_root(short.root, expiry)  # an SPX (AM) vertical rolls to SPXW off-month
        k = strike_at_delta(market, side, expiry, root, rules.roll_delta)
        if k is None:
            continue
        k_long = k - width if side == "put" else k + width
        if k_long > 0:
            pairs.append(
                [
                    Leg("SPX", root, side, k, expiry, -units, 0.0),
                    Leg("SPX", root, side, k_long, expiry, units, 0.0),
                ]
            )
    if not pairs:
        return None
    values = value_legs(market, [g for pair in pairs for g in pair])
    best = None
    for j, new in enumerate(pairs):
        prices = values.price[2 * j : 2 * j + 2]
        opens = trade(market, new, [-units, units], prices, costs, True)
        credit = cash(opens)
        key = (credit < 0, -credit if credit < 0 else 0.0)  # a credit first, nearest first
        if best is None or key < best[0]:
            best = (key, j, new, opens)
    _, j, new, opens = best
    return new, _take(values, 2 * j, 2 * j + 2), opens


def _take(values: LegValues, start: int, stop: int) -> LegValues:
    parts = {}
    for name, value in vars(values).items():
        parts[name] = value[start:stop] if isinstance(value, (np.ndarray, tuple)) else value
    return type(values)(**parts)


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
