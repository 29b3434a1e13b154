"""The backtest's run: the weekly condors opened on the closes, each policy run on them, and
the alvh policies simulated day by day.

``run_backtest`` opens the entries (:mod:`alvh_cli.backtest.entries`) on the modelled
market of each close (:mod:`alvh_cli.backtest.market`), runs the plain policies on their
marks (:mod:`alvh_cli.backtest.policies`) and the alvh policies here, close by close: each
day the method's ``check.check_position`` says what to do with every open trade and its
recommendations are filled at the model price moved by the half-spread of
:mod:`alvh_cli.backtest.costs`, fees paid; cash settlement pays neither. Money is in
dollars unless a name says points.

``run_backtest`` is pure: history and parameters in, a ``BacktestResult`` out (typed
records and summaries, :mod:`alvh_cli.backtest.results`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from alvh_cli.backtest.costs import CostModel
from alvh_cli.backtest.defaults import DEFAULT_POLICIES
from alvh_cli.backtest.entries import Entry, condor_paths, first_entry_row, weekly_entries
from alvh_cli.backtest.market import closes, intrinsic, is_embedded, market_model
from alvh_cli.backtest.params import BacktestParams
from alvh_cli.backtest.policies import ALVH_POLICIES, first_exit, parse_policies, run_plain
from alvh_cli.backtest.results import (
    ACTION_COUNTS,
    CATEGORIES,
    CATEGORY_INDEX,
    BacktestResult,
    PolicySummary,
    TradeRecord,
    summarise,
    trade_record,
)
from alvh_cli.errors import InputError
from alvh_cli.method import check
from alvh_cli.method.regime import Regime
from alvh_cli.model.closes import History
from alvh_cli.model.domain import Leg, Market, Position
from alvh_cli.model.legs import value_legs
from alvh_cli.model.rules import Rules
from alvh_cli.model.valuation import summarise as value_position

Progress = Callable[[int, int], None]


def run_backtest(
    history: pd.DataFrame,
    rules: Rules,
    params: BacktestParams | None = None,
    policies: Sequence[str] = DEFAULT_POLICIES,
    progress: Progress | None = None,
) -> BacktestResult:
    """Open the weekly condors on ``history`` (columns ``spx``, ``vix``, daily, indexed by date)
    and run each policy on the same entries. ``progress(done, total)`` is told how many of
    the alvh policies' days are done."""
    from alvh_cli.model.pricing import use_compiled_normal

    use_compiled_normal()  # thousands of small pricing calls: scipy's loops pay here
    params = params or BacktestParams()
    policies = parse_policies(policies)
    costs = CostModel.from_params(params)
    days, spx, vix = closes(history, params)
    market = market_model(days, spx, vix, params, rules)
    first_entry = first_entry_row(days, params)
    runs_alvh = [p for p in policies if p in ALVH_POLICIES]
    entries = weekly_entries(days, params, costs, market, first_entry)
    if not entries:
        where = f" from {params.start}" if params.start else ""
        raise InputError(
            f"no condor fits in the history {days[0]} to {days[-1]}{where}: an entry needs "
            f"{params.warmup} trading days of history before it (warmup) and its expiry "
            f"(about {params.dte} days later) within the history",
            option="history",
        )
    entries = condor_paths(entries, days, spx, vix, params)
    reached = {e.id: first_exit(e, params, rules, "stop2x")[1] == "stop" for e in entries}

    records: list[TradeRecord] = []
    equity: dict[str, np.ndarray] = {}
    curves: dict[str, np.ndarray] = {}
    summary: dict[str, PolicySummary] = {}
    steps = [0, len(runs_alvh) * len(days)]

    def tick(done: int, _total: int) -> None:
        if progress:
            progress(steps[0] + done, steps[1])

    for policy in policies:
        if policy in ALVH_POLICIES:
            results = _run_alvh(
                policy, entries, days, market, spx, vix, params, rules, costs, reached,
                progress=tick if progress else None,
            )  # fmt: skip
            steps[0] += len(days)
        else:
            results = [
                run_plain(e, policy, params, rules, len(days), costs, vix, reached[e.id])
                for e in entries
            ]
        by_category = np.zeros((len(CATEGORIES), len(days)))
        for _record, path in results:
            by_category += path
        mine = [record for record, _path in results]
        records += mine
        curves[policy] = by_category
        equity[policy] = by_category.sum(axis=0)
        summary[policy] = summarise(mine, equity[policy])
    source = ", ".join(str(s) for s in history.attrs.get("sources", [])) or "history"
    return BacktestResult(
        policies, params, rules, source, days, tuple(entries), tuple(records), equity, summary,
        curves, spx, vix, is_embedded(history),
    )  # fmt: skip


# --------------------------------------------------------------------------- alvh


@dataclass
class _OpenTrade:
    """The running state of one condor under an alvh policy (money in dollars).

    ``credit`` is the entry's; ``closed`` the legs closed since, at their fills, so the
    position the method sees counts what was realised (``Position.net_debit``) as a
    position file written by ``alvh apply`` does.
    ``by`` holds every fill, fee and settlement by category (``CATEGORIES``);
    ``path`` the trade's value by category on each close of its life.
    """

    entry: Entry
    legs: list[Leg]
    credit: float
    cash: float  # every fill and settlement so far, fees paid
    fees: float
    spread_cost: float
    kind: dict[int, str] = field(default_factory=dict)  # id(leg) → category
    by: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0.0))
    hedge_spend: float = 0.0  # paid to open VIX call spread layers, fees included
    actions: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTION_COUNTS, 0))
    closed_at: int | None = None  # row from the entry's (past the condor's expiry for a roll)
    reason: str = ""
    exit_mark: float = math.nan
    managed: bool = True  # False once a vertical is closed or the condor has settled: what
    # is left is held to its expiry
    closed: list[Leg] = field(default_factory=list)
    path: np.ndarray | None = None
    pristine: bool = True  # the legs are still the condor as opened

    def book(self, leg: Leg, amount: float) -> None:
        self.cash += amount
        self.by[self.kind[id(leg)]] += amount

    def grow(self, row: int) -> None:
        """Make ``path`` reach ``row``: a rolled vertical runs past the condor's expiry."""
        short = row + 1 - self.path.shape[1]
        if short > 0:
            self.path = np.pad(self.path, ((0, 0), (0, short)))

    def mark(self, row: int, prices) -> float:
        """Record the trade's value by category at ``row`` of its life (legs at ``prices``);
        return the total."""
        self.grow(row)
        values = self.path[:, row]
        for c, amount in self.by.items():
            values[CATEGORY_INDEX[c]] = amount
        for g, p in zip(self.legs, prices, strict=True):
            values[CATEGORY_INDEX[self.kind[id(g)]]] += float(p) * g.quantity * g.multiplier
        return float(values.sum())


def spike_flags(vix: np.ndarray, window: int, pct: float) -> np.ndarray:
    """The VIX spike signal on each close: VIX ≥ (1 + pct) × the mean of the ``window``
    closes before it (``indicators.vix_spike``, from the history up to that day only)."""
    out = np.zeros(len(vix), dtype=bool)
    if len(vix) > window:
        c = np.concatenate([[0.0], np.cumsum(vix)])
        mean = (c[window:-1] - c[: -window - 1]) / window  # mean of vix[i-window:i], i ≥ window
        out[window:] = vix[window:] >= mean * (1.0 + pct)
    return out


def engine_rules(rules: Rules, params: BacktestParams, costs: CostModel, vix: float) -> Rules:
    """The rules the alvh scenario_sets decides with on a day with this VIX: the backtest's costs
    (that day's half-spreads, the cost model's fee per contract), its profit take
    (``profit_take`` 0 turns the scenario_sets's off) and its market's ATM per VIX point."""
    return replace(
        rules,
        spx_atm_per_vix=params.atm_ratio,  # the scenarios move ATM vol as the market does
        profit_take=rules.profit_take if params.profit_take else 0.0,
        spx_half_spread=costs.half_spread_one("SPX", vix),
        vix_half_spread=costs.half_spread_one("VIX", vix),
        fee_per_contract=costs.flat_fee(),
    )


def _open_trade(e: Entry) -> _OpenTrade:
    """The running state of ``e`` as opened: its condor legs, entry cash, fees and
    half-spreads, its value on the first close."""
    t = _OpenTrade(e, list(e.legs), e.credit, e.entry_cash, float(sum(e.entry_fees)), 0.0)
    t.spread_cost = float(np.sum(np.abs([g.entry_price for g in e.legs] - e.prices[0])))
    t.spread_cost *= 100.0 * abs(e.legs[0].quantity)
    for g, side, fee in zip(e.legs, ("put", "put", "call", "call"), e.entry_fees, strict=True):
        t.kind[id(g)] = f"condor_{side}"
        t.by[f"condor_{side}"] += -g.entry_price * g.quantity * g.multiplier - fee
    t.path = np.zeros((len(CATEGORIES), e.last - e.first + 1))
    t.mark(0, e.prices[0])
    return t


def _run_alvh(
    policy: str,
    entries: Sequence[Entry],
    days,
    market_at: Callable[[int], Market],
    spx,
    vix,
    params: BacktestParams,
    rules: Rules,
    costs: CostModel,
    reached: Mapping[str, bool],
    *,
    progress: Progress | None = None,
) -> list[tuple[TradeRecord, np.ndarray]]:
    """Each day, ``check.check_position`` on every open trade, its recommendations filled at
    the model price moved by the half-spread, fees paid: each trade's record and its daily
    P&L by category (``CATEGORIES`` × days).

    The method sees only the past: its historical scenarios are the windows of the
    history up to that day, and the VIX spike signal (which brings layer 1 in early) is
    computed from those closes. Its cost assumptions are the backtest's
    (``engine_rules``). ``alvh_frac`` sizes every adjustment in fractions of a contract.
    """
    past = History(
        np.array([d.toordinal() for d in days], dtype=np.int64), np.asarray(spx), vix, "backtest"
    )
    scenario_sets = check.ScenarioSets(past, fallback=False)
    spikes = spike_flags(vix, rules.vix_spike_window, rules.vix_spike_pct)
    trades = [_open_trade(e) for e in entries]
    by_first: dict[int, list[_OpenTrade]] = {}
    for t in trades:
        by_first.setdefault(t.entry.first, []).append(t)
    open_: list[_OpenTrade] = []
    rules_of_day: dict[float, Rules] = {}
    for i in range(len(days)):
        if progress and (i % 25 == 0 or i == len(days) - 1):
            progress(i + 1, len(days))
        live = [t for t in open_ if t.closed_at is None]
        open_ = live + by_first.get(i, [])
        if not live:
            continue
        market = market_at(i)
        day_rules = rules_of_day.get(market.vix)
        if day_rules is None:
            day_rules = rules_of_day[market.vix] = engine_rules(rules, params, costs, market.vix)
        after = days[i + 1] if i + 1 < len(days) else None
        for t in live:
            _expire_vix(t, market)
            _settle_spx(t, market, float(spx[i]), after)
            if after is None or not any(g.underlying == "SPX" for g in t.legs):
                _finish(t, market, costs, i - t.entry.first)
            elif i >= t.entry.last:
                t.managed = False  # the condor has settled: what was rolled is held to expiry
        review = [t for t in live if t.closed_at is None]
        for t in [t for t in review if not t.managed]:
            prices = value_legs(market, t.legs).price if t.legs else []
            t.mark(i - t.entry.first, prices)
        review = [t for t in review if t.managed]
        if review:
            regime = Regime(spike=bool(spikes[i]), note="backtest: VIX spike signal only")
            day = _Day(i, market, day_rules, regime, scenario_sets, params, costs)
            _decide(review, day, integral=ALVH_POLICIES[policy])
    return [_closed(policy, t, days, reached[t.entry.id]) for t in trades]


@dataclass(frozen=True)
class _Day:
    """What the method decides with on close ``row``: the market, the rules of the day
    (``engine_rules``), the regime, the scenario sets; and the backtest's parameters
    and costs the fills use."""

    row: int
    market: Market
    rules: Rules
    regime: Regime
    scenario_sets: check.ScenarioSets
    params: BacktestParams
    costs: CostModel


def _decide(review: Sequence[_OpenTrade], day: _Day, *, integral: bool) -> None:
    """The method's recommendations for each managed trade on this close, filled; each
    trade's value recorded. A condor still as opened has its values worked out
    (``Entry.values_at``); the others are priced here, together."""
    i, market = day.row, day.market
    adjusted = [t for t in review if not t.pristine]
    values = value_legs(market, [g for t in adjusted for g in t.legs])
    start = 0
    for t in review:
        if t.pristine:
            part = t.entry.values_at(i - t.entry.first)
        else:
            stop = start + len(t.legs)
            part = _slice_values(values, start, stop)
            start = stop
        position = Position(
            t.entry.id, tuple(t.legs), t.credit, t.entry.opened, "backtest",
            closed=tuple(t.closed), units=abs(t.entry.legs[1].quantity),
        )  # fmt: skip
        pv = value_position(position, market, day.rules, part)
        advice = check.check_position(
            pv, day.regime, day.scenario_sets, figures=False, integral=integral
        )
        changed = False
        for rec in advice.recommendations:
            changed |= _apply(t, rec, pv.mark_multiple, market, day.params, day.costs, i)
            if t.closed_at is not None:
                break
        t.pristine &= not changed
        if t.closed_at is None:
            prices = value_legs(market, t.legs).price if changed else part.price
            t.mark(i - t.entry.first, prices)


def _closed(
    policy: str, t: _OpenTrade, days: Sequence, reached_2x: bool
) -> tuple[TradeRecord, np.ndarray]:
    """A closed trade's record and its daily P&L by category over the whole history (its
    value on each close of its life, then its final P&L)."""
    e = t.entry
    path = np.zeros((len(CATEGORIES), len(days)))
    t.grow(t.closed_at)
    t.path[:, t.closed_at] = [t.by[c] for c in CATEGORIES]
    path[:, e.first : e.first + t.closed_at + 1] = t.path[:, : t.closed_at + 1]
    path[:, e.first + t.closed_at + 1 :] = t.path[:, t.closed_at, None]
    record = trade_record(
        policy, e, days[e.first + t.closed_at], t.reason, t.exit_mark, t.cash, t.fees,
        t.spread_cost, t.by, reached_2x, t.counts, t.hedge_spend, t.actions,
        hedge_days(t.closed),
    )  # fmt: skip
    return record, path


def hedge_days(closed: Sequence[Leg]) -> list[int]:
    """Calendar days each VIX hedge bought was held: from its opening to the last close of
    any of its contracts (a trim sells part, the rest rides), one figure per long leg
    opened (a spread's long call; a future)."""
    last: dict[tuple, date] = {}
    for g in closed:
        if g.underlying == "VIX" and g.quantity > 0 and g.opened and g.closed:
            key = (g.type, g.strike, g.expiry, g.opened)
            last[key] = max(last.get(key, g.closed), g.closed)
    return [(end - key[3]).days for key, end in last.items()]


def _slice_values(values, start: int, stop: int):
    sliced = {}
    for name, value in vars(values).items():
        sliced[name] = value[start:stop] if isinstance(value, (np.ndarray, tuple)) else value
    return type(values)(**sliced)


def _apply(
    t: _OpenTrade,
    rec,
    mark: float,
    market: Market,
    params: BacktestParams,
    costs: CostModel,
    i: int,
) -> bool:
    """Fill one recommendation's trades; True when the legs changed."""
    from alvh_cli.method.actions import Action

    action = rec.action
    if action == Action.HOLD or not rec.trades:
        return False
    if action == Action.TAKE_PROFIT and not params.profit_take:
        return False
    day = market.asof.date().isoformat()
    held = {id(g) for g in t.legs}
    if any(not tr.opening and id(tr.leg) not in held for tr in rec.trades):
        # an earlier order today already traded these legs (a layer trimmed, then due for a
        # roll): the method sees the new position tomorrow and decides again
        t.actions.append(f"{day} skipped {rec.action.value}: its legs were traded earlier today")
        return False
    t.counts[action.value] = t.counts.get(action.value, 0) + 1
    opened_cash = 0.0
    for tr in rec.trades:
        if tr.opening:
            paid = _open_leg(t, tr, market, costs)
            opened_cash += paid if tr.leg.type != "future" else 0.0  # a future: no premium
        else:
            _close_leg(t, tr, market, costs)
    if action == Action.OPEN_HEDGE:
        t.hedge_spend -= opened_cash
    t.actions.append(f"{day} {_describe(rec)}")
    side = rec.trades[0].leg.type
    if action == Action.CLOSE_VERTICAL and not any(
        g.type == side and g.quantity < 0 and g.layer is None for g in t.legs
    ):
        t.managed = False  # what is left is one vertical: held to expiry, not a condor
    # a close of k of N lots leaves the rest of the condor to the method
    if action == Action.TAKE_PROFIT or not any(g.layer is None for g in t.legs):
        t.closed_at = i - t.entry.first
        t.reason = "profit_take" if action == Action.TAKE_PROFIT else "stop"
        t.exit_mark = mark
        if t.legs:  # anything left over (a hedge) goes with the condor
            prices = value_legs(market, t.legs).price
            for g, price in zip(list(t.legs), prices, strict=True):
                _close_at(t, g, -g.quantity, float(price), market, costs)
    return True


def _describe(rec) -> str:
    legs = ", ".join(
        f"{'+' if tr.quantity > 0 else ''}{_count(tr.quantity)} {tr.leg.underlying} "
        + (f"{tr.leg.strike:g}{tr.leg.type[0].upper()}" if tr.leg.is_option else tr.leg.root)
        + f" {tr.leg.expiry}"
        for tr in rec.trades
    )
    layer = f" L{rec.layer}" if rec.layer else ""
    return f"{rec.action.value}{layer}: {legs}"


def _count(q) -> str:
    return str(q) if float(q).is_integer() else f"{q:.4g}"


def _open_leg(t: _OpenTrade, tr, market: Market, costs: CostModel) -> float:
    """Open ``tr`` at the model price moved by the half-spread; the cash it took (< 0 when
    paid), fees included."""
    g = tr.leg
    price = costs.fill_one(float(tr.model), tr.quantity, g.underlying, market.vix, True)
    leg = replace(
        g, quantity=tr.quantity, entry_price=price, entry_vix=market.vix, key="",
        opened=market.asof.date(),
    )  # fmt: skip
    if g.underlying == "VIX":
        kind = "vix"
    elif g.layer is None:  # a rolled vertical joins the condor
        kind = f"roll_{g.type}"
    else:
        kind = "synthetic_put" if _is_conversion(t, g) else "synthetic_call"
    t.kind[id(leg)] = kind
    fee = costs.fees_one(g.underlying, price, tr.quantity)
    amount = -price * tr.quantity * g.multiplier - fee
    t.legs.append(leg)
    t.fees += fee
    t.spread_cost += abs(price - tr.model) * abs(tr.quantity) * g.multiplier
    t.book(leg, amount)
    return amount


def _is_conversion(t: _OpenTrade, g: Leg) -> bool:
    """A synthetic at the short put's strike is a conversion (put side), else a reversal."""
    return g.strike == t.entry.legs[1].strike


def _close_leg(t: _OpenTrade, tr, market: Market, costs: CostModel) -> None:
    held = next((g for g in t.legs if g is tr.leg), None)
    if held is None:  # the same contract held under another object (should not happen)
        raise AssertionError(f"closing a leg not held: {tr.leg}")  # pragma: no cover
    _close_at(t, held, tr.quantity, tr.model, market, costs)


def _close_at(t: _OpenTrade, held: Leg, quantity, model: float, market: Market, costs: CostModel):
    """Trade ``quantity`` (opposite sign to the holding) of ``held`` at the model price moved
    by the half-spread; the rest of the holding stays."""
    # closing the holding
    price = costs.fill_one(float(model), -quantity, held.underlying, market.vix, False)
    fee = costs.fees_one(held.underlying, price, quantity)
    t.fees += fee
    t.spread_cost += abs(price - model) * abs(quantity) * held.multiplier
    t.book(held, -price * quantity * held.multiplier - fee)
    t.closed.append(
        replace(held, quantity=-quantity, closed=market.asof.date(), exit_price=price, key="")
    )
    left = held.quantity + quantity
    k = next(j for j, g in enumerate(t.legs) if g is held)
    if abs(left) < 1e-9:  # a fractional holding sold in parts leaves float dust, not a leg
        del t.legs[k]
    else:
        rest = replace(held, quantity=left)
        t.kind[id(rest)] = t.kind[id(held)]
        t.legs[k] = rest


def _expire_vix(t: _OpenTrade, market: Market) -> None:
    """VIX legs whose expiry has come while the condor runs (a layer on the VIX expiry before
    the condor's that was not rolled) are cash-settled at intrinsic value against that day's
    VIX close: no fill, no fee. (The real settlement is the special opening quotation of the
    expiry morning; the backtest has closes only.)"""
    day = market.asof.date()
    for g in [g for g in t.legs if g.underlying == "VIX" and g.expiry <= day]:
        value = market.vix if g.type == "future" else intrinsic(g, market.vix)
        t.book(g, value * g.quantity * g.multiplier)
        t.closed.append(replace(g, closed=day, exit_price=float(value), key=""))
        t.legs = [x for x in t.legs if x is not g]
        t.pristine = False


def _settle_spx(t: _OpenTrade, market: Market, spot: float, after: date | None) -> None:
    """SPX legs whose expiry has come are cash-settled at intrinsic value against the close:
    no fill, no fee. A leg settles on the close of its expiry, or on the last close before
    it when the history has no close that day (``after``, the next close, is past it).
    Every SPX leg is held to its own expiry: the condor's, and a rolled vertical's after
    the condor's legs have settled — held as what is left of a closed vertical is, marked
    at the model every close and not managed, its VIX hedges kept until it settles."""
    day = market.asof.date()
    due = [
        g
        for g in t.legs
        if g.underlying == "SPX" and (g.expiry <= day or (after is not None and g.expiry < after))
    ]
    for g in due:
        value = intrinsic(g, spot)
        t.book(g, value * g.quantity * g.multiplier)
        t.closed.append(replace(g, closed=day, exit_price=float(value), key=""))
        t.legs = [x for x in t.legs if x is not g]
        t.pristine = False


def _finish(t: _OpenTrade, market: Market, costs: CostModel, row: int) -> None:
    """The trade ends at ``row`` of its life: no SPX leg is left, or the history ends. What
    is left (VIX hedges; SPX legs expiring after the history's last close) is sold at the
    model price. The exit mark is the condor's settlement mark when the trade ends with the
    condor, else 1 − P&L / credit (the debit the whole trade cost, fees included, in
    multiples of the credit)."""
    if t.legs:
        prices = value_legs(market, t.legs).price
        for g, p in zip(list(t.legs), prices, strict=True):
            _close_at(t, g, -g.quantity, float(p), market, costs)
    t.legs = []
    t.closed_at = row
    t.reason = "expiry"
    e = t.entry
    if row == e.last - e.first:
        t.exit_mark = float(e.marks[-1])
    else:
        t.exit_mark = 1.0 - t.cash / (t.credit * 100.0 * abs(e.legs[1].quantity))
