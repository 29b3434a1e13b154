"""The policies a backtest compares, run on the same weekly condors:

* ``hold``: to expiry, cash-settled at the SPX close of the expiry day;
* ``stop2x`` / ``stop3x``: closed at the first daily close where the debit to
  close is at least 2x / 3x the credit (the test of ``check.traditional``);
* ``alvh``: every day the method's ``check.check_position`` says what to do
  and the recommendation is filled: VIX call spread layers, their trims, rolls
  and unwinds, the Layer 3 choice, the profit take
  (:mod:`alvh_cli.backtest.simulation`);
* ``alvh_frac``: the same with every adjustment sized in fractions of a contract
  (``check_position(..., integral=False)``): the method free of whole-contract
  rounding. Not a tradable result: fees are charged pro rata.

Every policy shares the method's profit take (``Rules.profit_take_hit``: mark ≤ 1 −
``rules.profit_take``, none at 0), or none with ``params.profit_take`` False.

The plain policies (hold and the stops) never change the condor, so each is worked out
from the condor's marks alone (:func:`run_plain`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from alvh_cli.backtest.costs import CostModel
from alvh_cli.backtest.entries import Entry
from alvh_cli.backtest.params import BacktestParams
from alvh_cli.backtest.results import CATEGORIES, CATEGORY_INDEX, TradeRecord, trade_record
from alvh_cli.errors import InputError
from alvh_cli.method import check
from alvh_cli.model.rules import Rules

POLICIES = ("hold", "stop2x", "stop3x", "alvh", "alvh_frac")
ALVH_POLICIES = {"alvh": True, "alvh_frac": False}  # policy → integral counts
STOPS = {"stop2x": "stop_2x", "stop3x": "stop_3x"}  # policy → key of check.traditional


def parse_policies(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"hold,stop2x"`` → ``("hold", "stop2x")``, in the order of ``POLICIES``."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    for n in names:
        if n not in POLICIES:
            raise InputError(
                f"unknown policy '{n}' (choose from {', '.join(POLICIES)})", option="policies"
            )
    if not names:
        raise InputError(f"no policy given (choose from {', '.join(POLICIES)})", option="policies")
    return tuple(p for p in POLICIES if p in names)


def first_exit(e: Entry, params: BacktestParams, rules: Rules, policy: str) -> tuple[int, str]:
    """(row within the trade's life, reason) where ``policy`` closes a plain condor: the
    method's profit take (``Rules.profit_take_hit``, unless ``params.profit_take`` is
    off), or the policy's stop."""
    stop = STOPS.get(policy)
    take = params.profit_take
    for t in range(1, len(e.marks) - 1):  # closes after entry, before the settlement close
        mark = float(e.marks[t])
        if take and rules.profit_take_hit(mark):
            return t, "profit_take"
        if stop and check.traditional(mark)[stop] == "close":
            return t, "stop"
    return len(e.marks) - 1, "expiry"


def run_plain(
    e: Entry,
    policy: str,
    params: BacktestParams,
    rules: Rules,
    n_days: int,
    costs: CostModel,
    vix: np.ndarray,
    reached_2x: bool,
) -> tuple[TradeRecord, np.ndarray]:
    """hold / stop2x / stop3x on one entry: its record and its daily P&L by category
    (``CATEGORIES`` × days; the condor's put legs and call legs)."""
    t, reason = first_exit(e, params, rules, policy)
    qty = np.array([g.quantity for g in e.legs], dtype=float)
    entry = np.array([g.entry_price for g in e.legs])
    entry_fees = np.array(e.entry_fees)
    model0 = e.prices[0]
    spread = float(np.sum(np.abs(entry - model0) * np.abs(qty))) * 100.0
    if reason == "expiry":
        exits = e.prices[t]  # the settlement payoff: no fill, no fee
        exit_fees = np.zeros(4)
    else:
        day_vix = float(vix[e.first + t])
        pairs = list(zip(e.legs, e.prices[t], strict=True))
        exits = np.array(
            [costs.fill_one(float(p), g.quantity, g.underlying, day_vix, False) for g, p in pairs]
        )
        exit_fees = np.array(
            [
                costs.fees_one(g.underlying, float(x), g.quantity)
                for g, x in zip(e.legs, exits, strict=True)
            ]
        )
        spread += float(np.sum(np.abs(exits - e.prices[t]) * np.abs(qty))) * 100.0
    cash = -entry * qty * 100.0 - entry_fees  # per leg, at entry
    each = cash + exits * qty * 100.0 - exit_fees  # per leg, at the close
    side = ((0, 1), (2, 3))
    by = {
        "condor_put": float(each[0] + each[1]),
        "condor_call": float(each[2] + each[3]),
    }
    pnl = float(each.sum())
    path = np.zeros((len(CATEGORIES), n_days))
    marked = cash[None, :] + e.prices[:t] * (qty * 100.0)[None, :]  # days × legs, at the mid
    for c, legs in zip(("condor_put", "condor_call"), side, strict=True):
        k = CATEGORY_INDEX[c]
        path[k, e.first : e.first + t] = marked[:, legs[0]] + marked[:, legs[1]]
        path[k, e.first + t :] = by[c]
    fee_total = float(entry_fees.sum() + exit_fees.sum())
    record = trade_record(
        policy, e, e.life[t], reason, float(e.marks[t]), pnl, fee_total, spread, by, reached_2x
    )
    return record, path
