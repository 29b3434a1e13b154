"""What a backtest gives back: one record per trade, one summary per policy, daily curves.

Every trade's P&L is split by what earned it (``CATEGORIES``): the condor's put and call
sides, the VIX layers, the Layer 3 synthetics (conversions on the put side, reversals on
the call side) and rolled verticals; each policy keeps a daily curve per category, so a
window's P&L can be read for any of them. Money is in dollars unless a name says points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date

import numpy as np

from alvh_cli.backtest.costs import CostModel
from alvh_cli.backtest.defaults import CVAR_LEVEL
from alvh_cli.backtest.entries import Entry
from alvh_cli.backtest.params import BacktestParams
from alvh_cli.model.rules import Rules

MODEL_NOTE = (
    "Option prices are modelled from VIX (BSM with a tenor-dependent smile, VIX futures from "
    "a mean-reverting curve, VIX options by Black-76), not historical quotes."
)

# What each leg of a trade is, for the attribution of its P&L; the side is the condor side
# the leg belongs to or adjusts (VIX layers hedge the put side: the method buys them only
# when the put side is tested).
CATEGORIES = (
    "condor_put", "condor_call", "vix", "synthetic_put", "synthetic_call",
    "roll_put", "roll_call",
)  # fmt: skip
CATEGORY_INDEX = {c: k for k, c in enumerate(CATEGORIES)}
ACTION_COUNTS = ("open_hedge", "trim_hedge", "close_hedge", "roll", "convert",
                 "close_vertical", "close_position")  # fmt: skip


@dataclass(frozen=True)
class TradeRecord:
    """One trade of one policy: the condor as opened, how and when it closed, what it made.

    Money is in dollars, ``credit`` and ``exit_mark`` in points per condor unit and
    multiples of the credit. ``attribution`` splits ``pnl`` by what earned it
    (``CATEGORIES``; the parts add up to ``pnl``); ``hedge_spend`` is what the VIX call
    spread layers cost to open (fees included), ``hedge_pnl`` what every layer leg made or
    lost; the counts and ``actions`` are the alvh policy's adjustments (none for the
    others). ``reached_2x``: the condor's debit to close was >= 2x the credit on a daily
    close before any profit take (the trades a 2x stop closes).
    """

    policy: str
    id: str
    opened: date
    expiry: date
    strikes: tuple[float, ...]  # long put, short put, short call, long call
    contracts: int
    credit: float
    max_loss: float
    closed: date
    exit_reason: str  # "expiry", "stop" or "profit_take"
    exit_mark: float
    pnl: float
    days_held: int
    return_on_risk: float
    fees: float
    spread_cost: float
    attribution: Mapping[str, float]
    hedge_spend: float
    hedge_pnl: float
    hedges: int
    conversions: int
    rolls: int
    trims: int
    unwinds: int
    actions: tuple[str, ...]
    reached_2x: bool
    hedge_days: tuple[int, ...] = ()  # calendar days each VIX hedge bought was held

    def to_dict(self) -> dict:
        """One flat row: dates as ISO text, the strikes by leg, ``pnl_<category>`` for each
        part of the attribution, the actions joined by "; "."""
        lp, sp, sc, lc = self.strikes
        return {
            "policy": self.policy,
            "id": self.id,
            "opened": self.opened.isoformat(),
            "expiry": self.expiry.isoformat(),
            "long_put": lp,
            "short_put": sp,
            "short_call": sc,
            "long_call": lc,
            "contracts": self.contracts,
            "credit": self.credit,
            "max_loss": self.max_loss,
            "closed": self.closed.isoformat(),
            "exit_reason": self.exit_reason,
            "exit_mark": self.exit_mark,
            "pnl": self.pnl,
            "days_held": self.days_held,
            "return_on_risk": self.return_on_risk,
            "fees": self.fees,
            "spread_cost": self.spread_cost,
            **{f"pnl_{c}": self.attribution[c] for c in CATEGORIES},
            "hedge_spend": self.hedge_spend,
            "hedge_pnl": self.hedge_pnl,
            "hedges": self.hedges,
            "conversions": self.conversions,
            "rolls": self.rolls,
            "trims": self.trims,
            "unwinds": self.unwinds,
            "actions": "; ".join(self.actions),
            "reached_2x": self.reached_2x,
            "hedge_days": " ".join(map(str, self.hedge_days)),
        }


def trade_record(
    policy: str,
    e: Entry,
    closed: date,
    reason: str,
    mark: float,
    pnl: float,
    fees_paid: float,
    spread_cost: float,
    by: Mapping[str, float],
    reached_2x: bool,
    counts: Mapping[str, int] | None = None,
    hedge_spend: float = 0.0,
    actions: Sequence[str] = (),
    hedge_days: Sequence[int] = (),
) -> TradeRecord:
    """The record of ``e`` under ``policy``, closed on ``closed`` for ``reason`` at
    ``mark``; ``by`` is the P&L by category (a category not in it made nothing);
    ``counts`` (by action), ``hedge_spend``, ``actions`` and ``hedge_days`` (how long each
    hedge was held) are the alvh policy's adjustments."""
    counts = counts or {}
    layers = sum(by.get(c, 0.0) for c in CATEGORIES if not c.startswith("condor"))
    return TradeRecord(
        policy=policy,
        id=e.id,
        opened=e.opened,
        expiry=e.expiry,
        strikes=e.strikes,
        contracts=abs(e.legs[1].quantity),
        credit=e.credit,
        max_loss=e.max_loss,
        closed=closed,
        exit_reason=reason,
        exit_mark=mark,
        pnl=pnl,
        days_held=(closed - e.opened).days,
        return_on_risk=pnl / e.max_loss if e.max_loss > 0 else math.nan,
        fees=fees_paid,
        spread_cost=spread_cost,
        attribution={c: by.get(c, 0.0) for c in CATEGORIES},
        hedge_spend=hedge_spend,
        hedge_pnl=layers,
        hedges=counts.get("open_hedge", 0),
        conversions=counts.get("convert", 0),
        rolls=counts.get("roll", 0),
        trims=counts.get("trim_hedge", 0),
        unwinds=counts.get("close_hedge", 0),
        actions=tuple(actions),
        reached_2x=reached_2x,
        hedge_days=tuple(hedge_days),
    )


@dataclass(frozen=True)
class PolicySummary:
    """One policy's figures over its trades (dollars unless said; see ``summarise``)."""

    trades: int
    win_rate: float  # share of trades with P&L > 0
    mean_pnl: float
    median_pnl: float
    total_pnl: float
    max_drawdown: float  # of the daily equity curve, >= 0
    worst_trade: float
    cvar_5: float  # mean P&L of the worst 5% of trades
    pnl_per_unit: float  # total per condor unit
    return_on_risk: float  # mean of P&L / max loss at entry (a fraction)
    pnl_per_day_held: float
    days_held: float  # calendar days, summed over the trades
    hedge_spend: float
    hedge_pnl: float
    hedges: int
    conversions: int
    rolls: int
    trims: int
    unwinds: int
    median_hedge_days: float  # calendar days a VIX hedge was held, median over all bought
    fees: float
    spread_cost: float
    exits: Mapping[str, int]  # "expiry", "stop", "profit_take" → trades
    adjusted_trades: int
    adjusted_pnl: float
    adjusted_mean_pnl: float
    attribution: Mapping[str, float]  # category → total P&L

    def to_dict(self) -> dict:
        """Every figure by its name, in field order."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["exits"], out["attribution"] = dict(self.exits), dict(self.attribution)
        return out


@dataclass(frozen=True)
class BacktestResult:
    """Everything a report needs.

    ``trades`` has one ``TradeRecord`` per (policy, entry); ``equity`` one array of
    dollars per policy, the daily equity curve (closed trades' P&L plus open
    trades marked at the model mid) on ``dates``; ``curves`` the same split by
    ``CATEGORIES`` (policy → array categories × days; its rows add up to the
    equity curve); ``summary`` one ``PolicySummary`` per policy. ``spx`` and ``vix``
    are the closes on ``dates``; ``embedded`` says whether they are the embedded data.
    """

    policies: tuple[str, ...]
    params: BacktestParams
    rules: Rules
    source: str
    dates: tuple[date, ...]
    entries: tuple[Entry, ...]
    trades: tuple[TradeRecord, ...]
    equity: dict[str, np.ndarray]
    summary: dict[str, PolicySummary]
    curves: dict[str, np.ndarray] = field(default_factory=dict)
    spx: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    vix: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    embedded: bool = False
    note: str = MODEL_NOTE

    def trades_of(self, policy: str) -> list[TradeRecord]:
        """The trades of ``policy``, in entry order."""
        return [r for r in self.trades if r.policy == policy]

    def pnl(self, policy: str) -> np.ndarray:
        """Per-trade P&L of ``policy`` in entry order (dollars)."""
        return np.array([r.pnl for r in self.trades_of(policy)], dtype=float)

    def to_dict(self) -> dict:
        """JSON shape: period, source, parameters, rules in force, the note, per-policy summary."""
        from alvh_cli.model.rules import DEFAULTS

        return {
            "start": self.dates[0].isoformat(),
            "end": self.dates[-1].isoformat(),
            "first_entry": self.entries[0].opened.isoformat(),
            "days": len(self.dates),
            "entries": len(self.entries),
            "source": self.source,
            "note": self.note,
            "params": self.params.to_dict(),
            "costs": CostModel.from_params(self.params).to_dict(),
            "rules": {k: getattr(self.rules, k) for k in DEFAULTS},
            "policies": {p: self.summary[p].to_dict() for p in self.policies},
        }


def _hedge_days(records: Sequence[TradeRecord]) -> list[int]:
    return [d for r in records for d in r.hedge_days]


def summarise(records: Sequence[TradeRecord], equity: np.ndarray) -> PolicySummary:
    """One policy's figures from its trades and its daily equity curve (dollars).

    ``max_drawdown`` is the largest fall of the daily equity curve from its
    running peak (the curve starts at 0). ``cvar_5`` is the mean P&L of the
    worst ceil(5% of trades) trades. ``adjusted_*`` are the trades whose condor
    reached 2x on a daily close before any profit take — the trades a 2x stop
    closes, the ones the method adjusts. ``attribution`` is the total of each
    category's P&L; ``pnl_per_unit`` the total per condor unit (per contract of
    the condor); ``return_on_risk`` the mean over trades of P&L / the condor's
    max loss at entry; ``pnl_per_day_held`` the total over the calendar days the
    trades were open.
    """
    pnl = np.asarray([r.pnl for r in records], dtype=float)
    n = len(pnl)
    curve = np.concatenate([[0.0], equity])
    # 1e-9: 0.05·60 is 3.0000000000000004 in floating point, and the worst 3 are meant
    worst = np.sort(pnl)[: max(1, math.ceil(CVAR_LEVEL * n - 1e-9))] if n else np.array([np.nan])
    adjusted = np.array([r.pnl for r in records if r.reached_2x], dtype=float)
    exits = {"expiry": 0, "stop": 0, "profit_take": 0}
    for r in records:
        exits[r.exit_reason] += 1
    units = sum(r.contracts for r in records) / n if n else math.nan
    days = float(sum(r.days_held for r in records))
    return PolicySummary(
        trades=n,
        win_rate=float((pnl > 0).mean()) if n else math.nan,
        mean_pnl=float(pnl.mean()) if n else math.nan,
        median_pnl=float(np.median(pnl)) if n else math.nan,
        total_pnl=float(pnl.sum()),
        max_drawdown=float((np.maximum.accumulate(curve) - curve).max()),
        worst_trade=float(pnl.min()) if n else math.nan,
        cvar_5=float(worst.mean()),
        pnl_per_unit=float(pnl.sum() / units) if n else math.nan,
        return_on_risk=float(np.mean([r.return_on_risk for r in records])) if n else math.nan,
        pnl_per_day_held=float(pnl.sum() / days) if days else math.nan,
        days_held=days,
        hedge_spend=float(sum(r.hedge_spend for r in records)),
        hedge_pnl=float(sum(r.hedge_pnl for r in records)),
        hedges=sum(r.hedges for r in records),
        conversions=sum(r.conversions for r in records),
        rolls=sum(r.rolls for r in records),
        trims=sum(r.trims for r in records),
        unwinds=sum(r.unwinds for r in records),
        median_hedge_days=float(np.median(lives)) if (lives := _hedge_days(records)) else math.nan,
        fees=float(sum(r.fees for r in records)),
        spread_cost=float(sum(r.spread_cost for r in records)),
        exits=exits,
        adjusted_trades=len(adjusted),
        adjusted_pnl=float(adjusted.sum()),
        adjusted_mean_pnl=float(adjusted.mean()) if len(adjusted) else math.nan,
        attribution={c: float(sum(r.attribution[c] for r in records)) for c in CATEGORIES},
    )
