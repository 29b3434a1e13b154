"""Backtest: the ALVH method against the 2x/3x stops and holding to expiry.

One iron condor is opened every week on daily closes of SPX and VIX, and the
same entries are run through each policy:

* ``hold``: to expiry, cash-settled at the SPX close of the expiry day;
* ``stop2x`` / ``stop3x``: closed at the first daily close where the debit to
  close is at least 2x / 3x the credit (the test of ``check.traditional``);
* ``alvh``: every day the engine's ``check.check_position`` says what to do
  and the recommendation is filled: VIX call spread layers, their trims, rolls
  and unwinds, the Layer 3 choice, the profit take;
* ``alvh_frac``: the same with every adjustment sized in fractions of a contract
  (``check_position(..., integral=False)``): the method free of whole-contract
  rounding. Not a tradable result: fees are charged pro rata.

Every policy shares the profit take of ``check.recommend`` (mark ≤ 1 −
``rules.profit_take``), or none with ``profit_take=False``.

Option prices are modelled from VIX, not historical quotes: SPX options by BSM
with ATM vol VIX/100 and a smile whose slope depends on the tenor; VIX futures
from the mean-reverting curve F(τ) = θ + (VIX − θ)·e^(−κτ), κ =
``rules.vix_term_kappa``; VIX options by Black-76 with an ATM vol that rises with
VIX (``params`` gives each rule and its source). Every fill is the model price
moved by the half-spread of :mod:`alvh_cli.backtest.costs` and pays its fees;
cash settlement pays neither. Money is in dollars unless a name says points.

Every trade's P&L is split by what earned it (``CATEGORIES``): the condor's put and
call sides, the VIX layers, the Layer 3 synthetics (conversions on the put side,
reversals on the call side) and rolled verticals; each policy keeps a daily curve per
category, so a window's P&L can be read for any of them.

``run_backtest`` is pure: history and parameters in, a ``BacktestResult`` of
plain data out.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from alvh_cli.backtest.costs import CostModel
from alvh_cli.backtest.params import (  # noqa: F401  (re-exported: the engine's public names)
    LEGACY,
    PARAMS,
    BacktestParams,
    Param,
    make_params,
)
from alvh_cli.errors import InputError
from alvh_cli.method import check
from alvh_cli.model.domain import VOL_FLOOR, FuturePoint, Leg, Market, Position, Smile
from alvh_cli.model.exchange import is_business_day, previous_business_day
from alvh_cli.model.expirations import vix_expirations
from alvh_cli.model.legs import value_legs
from alvh_cli.model.rules import Rules
from alvh_cli.model.timing import (
    NEW_YORK,
    SECONDS_PER_YEAR,
    settlement_instant,
    settlement_timestamp,
    year_fraction,
)

POLICIES = ("hold", "stop2x", "stop3x", "alvh", "alvh_frac")
DEFAULT_POLICIES = ("hold", "stop2x", "stop3x", "alvh")
ALVH_POLICIES = {"alvh": True, "alvh_frac": False}  # policy → integral counts
STOPS = {"stop2x": "stop_2x", "stop3x": "stop_3x"}  # policy → key of check.traditional
DEFAULT_DATA = "spx_vix_2014_2018.csv"
MODEL_NOTE = (
    "Option prices are modelled from VIX (BSM with a tenor-dependent smile, VIX futures from "
    "a mean-reverting curve, VIX options by Black-76), not historical quotes."
)
FUTURES_HORIZON = timedelta(days=150)  # VIX futures listed each day: expiries up to this far out
STRIKE_RANGE = 0.4  # short strikes are searched within ±40% of spot
CVAR_LEVEL = 0.05

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

Progress = Callable[[int, int], None]


def parse_policies(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"hold,stop2x"`` → ``("hold", "stop2x")``, in the order of ``POLICIES``."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    for n in names:
        if n not in POLICIES:
            raise InputError(
                f"unknown policy '{n}' (choose from {', '.join(POLICIES)})", "--policies"
            )
    if not names:
        raise InputError(f"no policy given (choose from {', '.join(POLICIES)})", "--policies")
    return tuple(p for p in POLICIES if p in names)


# --------------------------------------------------------------------------- data


def default_history() -> pd.DataFrame:
    """The embedded daily SPX and VIX closes (2014–2018); ``attrs["sources"]`` names the source."""
    from importlib import resources

    path = resources.files("alvh_cli") / "data" / DEFAULT_DATA
    with path.open(encoding="utf-8") as fh:
        first = fh.readline().strip()
        fh.seek(0)
        frame = pd.read_csv(fh, comment="#", parse_dates=["date"], index_col="date")
    frame.attrs["sources"] = [f"{DEFAULT_DATA} ({first.lstrip('# ').removeprefix('source: ')})"]
    return frame


def is_embedded(history: pd.DataFrame) -> bool:
    """Whether ``history`` is the embedded data (its named stress windows apply)."""
    sources = history.attrs.get("sources", [])
    return bool(sources) and str(sources[0]).startswith(DEFAULT_DATA)


def _prepare(history: pd.DataFrame, params: BacktestParams) -> pd.DataFrame:
    """The closes up to ``params.end``; the rows before ``params.start`` stay (the warm-up)."""
    missing = [c for c in ("spx", "vix") if c not in history.columns]
    if missing:
        raise InputError(f"history has no '{missing[0]}' column", "--history", missing[0])
    frame = history[["spx", "vix"]].dropna().sort_index()
    if params.end:
        frame = frame[pd.DatetimeIndex(frame.index) <= pd.Timestamp(params.end)]
    if len(frame) < 2:
        raise InputError("fewer than two days of history in the period", "--history")
    if (frame.to_numpy() <= 0).any():
        raise InputError("spx and vix must be > 0", "--history")
    return frame


# --------------------------------------------------------------------------- market


def close_instant(day: date) -> datetime:
    """16:00 New York on ``day``: the instant every daily close is priced at."""
    return datetime.combine(day, time(16), tzinfo=NEW_YORK)


def vix_future(vix: float, theta: float, kappa: float, tau: float) -> float:
    """F(τ) = θ + (VIX − θ)·e^(−κτ) for a tenor of ``tau`` years."""
    return theta + (vix - theta) * math.exp(-kappa * max(tau, 0.0))


def spx_smile(vix: float, params: BacktestParams) -> Smile:
    """The SPX smile on a day with this VIX: ATM VIX/100, the tenor-dependent slope."""
    return Smile(vix / 100.0, params.spx_skew, params.spx_smile, params.spx_skew_term)


def day_market(
    day: date,
    spx: float,
    vix: float,
    params: BacktestParams,
    kappa: float,
    expiries: Sequence[date],
) -> Market:
    """The modelled snapshot at the close of ``day``; ``expiries`` are the VIX futures listed."""
    asof = close_instant(day)
    futures = tuple(
        FuturePoint(
            e,
            vix_future(
                vix, params.vix_theta, kappa, year_fraction(asof, settlement_instant("VIX", e))
            ),
        )
        for e in expiries
    )
    return Market(
        asof=asof,
        spx=float(spx),
        vix=float(vix),
        rate=params.rate,
        dividend_yield=params.dividend_yield,
        vix_futures=futures,
        spx_vol=spx_smile(vix, params),
        vix_vol=Smile(params.vix_option_atm(vix), params.vix_skew, params.vix_smile),
        source="backtest",
    )


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Entry:
    """One condor opened on ``opened``; shared by every policy.

    ``credit`` is the net fill per unit in points (model credit less four
    half-spreads); ``prices`` holds the model price of each condor leg on each
    close of its life (row 0 the entry, the last row the settlement at
    intrinsic); ``marks`` is debit to close / credit on each. ``entry_fees``
    are the dollars of fees per leg at entry.
    """

    id: str
    opened: date
    expiry: date
    settled: date  # the last close on or before expiry (= expiry unless the history has a gap)
    first: int  # row of ``opened`` in the history
    last: int  # row of ``settled``
    legs: tuple[Leg, ...]  # long put, short put, short call, long call; entry_price = fill
    credit: float
    model_credit: float
    entry_cash: float  # dollars received at entry, fees paid
    entry_fees: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
    life: tuple[date, ...] = ()  # the closes from ``opened`` to ``settled``
    prices: np.ndarray = field(default_factory=lambda: np.empty((0, 4)), repr=False)
    marks: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    values: dict = field(default_factory=dict, repr=False)  # LegValues fields, rows × legs

    def values_at(self, row: int):
        """The condor's ``LegValues`` on row ``row`` of its life (before settlement): what
        ``value_legs`` gives for these four legs in that day's market, worked out for every
        close at once by ``_condor_paths``."""
        from alvh_cli.model.legs import LegValues

        v = self.values
        return LegValues(
            **{name: v[name][row] for name in _VALUE_FIELDS},
            vol_source=("smile",) * 4,
            smile_vol=v["vol"][row],
            quantity=v["quantity"],
            multiplier=v["multiplier"],
        )

    @property
    def strikes(self) -> tuple[float, ...]:
        return tuple(g.strike for g in self.legs)

    @property
    def max_loss(self) -> float:
        """The condor's largest loss at expiry in dollars, the capital at risk: the wider
        wing less the credit, × 100 × contracts (fees not included)."""
        lp, sp, sc, lc = self.strikes
        wing = max(sp - lp, lc - sc)
        return (wing - self.credit) * 100.0 * abs(self.legs[1].quantity)


def entry_days(days: Sequence[date], weekday: int) -> list[int]:
    """Rows of each week's entry: the ``weekday`` close, or the next close when the exchange
    was shut that day (a holiday). A week whose entry day is missing from the history for
    another reason (a gap in the data, the first partial week) has no entry."""
    out = []
    for i, d in enumerate(days):
        target = d - timedelta(days=d.weekday() - weekday)
        if d < target:
            continue
        skipped = (target + timedelta(days=k) for k in range((d - target).days))
        if all(not is_business_day(x) for x in skipped) and (i == 0 or days[i - 1] < target):
            out.append(i)
    return out


def weekly_expiry(day: date, dte: int) -> date:
    """The SPXW Friday expiry (the business day before on a holiday) nearest ``dte`` days out."""
    friday = day + timedelta(days=(4 - day.weekday()) % 7)
    best = None
    for k in range(dte // 7 + 3):
        e = friday + timedelta(days=7 * k)
        e = e if is_business_day(e) else previous_business_day(e)
        if e <= day:
            continue
        key = (abs((e - day).days - dte), e)
        if best is None or key < best:
            best = key
    return best[1]


def condor_strikes(market: Market, expiry: date, params: BacktestParams) -> tuple[float, ...]:
    """Long put, short put, short call, long call: shorts at ``delta`` on the strike grid."""
    from alvh_cli.model.pricing import bsm_greeks
    from alvh_cli.model.smile import smile_vol, spx_forward

    step = params.strike_step
    lo = math.floor(market.spx * (1 - STRIKE_RANGE) / step)
    hi = math.ceil(market.spx * (1 + STRIKE_RANGE) / step)
    grid = np.arange(lo, hi + 1) * step
    t = year_fraction(market.asof, settlement_instant("SPXW", expiry))
    vol = smile_vol(market.spx_vol, np.log(grid / float(spx_forward(market, t))), t)
    r, q = market.rate, market.dividend_yield
    put = bsm_greeks(False, market.spx, grid, t, r, q, vol).delta
    call = bsm_greeks(True, market.spx, grid, t, r, q, vol).delta
    short_put = float(grid[np.argmin(np.abs(put + params.delta))])
    short_call = float(grid[np.argmin(np.abs(call - params.delta))])
    return short_put - params.wing, short_put, short_call, short_call + params.wing


def fill(costs: CostModel, model: float, quantity: float, leg: Leg, vix: float, opening: bool):
    """Points per unit paid (a buy) or received (a sell) for a holding of signed ``quantity``
    of ``leg`` being opened (``opening``) or closed: the model price moved against the
    trader by the half-spread at this VIX, never < 0."""
    return costs.fill_one(float(model), quantity, leg.underlying, vix, opening)


def fees(costs: CostModel, leg: Leg, price: float, quantity: float) -> float:
    """Dollars of fees to trade ``quantity`` contracts of ``leg`` at ``price`` points."""
    return costs.fee_one(leg.underlying, price) * abs(quantity)


def open_entry(
    day: date, market: Market, expiry: date, params: BacktestParams, costs: CostModel
) -> Entry:
    """The condor opened at ``day``'s close, each leg filled at the model price moved by the
    half-spread, fees paid. Its place in the history and its price path are filled in by
    ``run_backtest``."""
    strikes = condor_strikes(market, expiry, params)
    n = params.contracts
    shape = (("put", n), ("put", -n), ("call", -n), ("call", n))
    bare = [
        Leg("SPX", "SPXW", t, k, expiry, q, 0.0) for (t, q), k in zip(shape, strikes, strict=True)
    ]
    model = value_legs(market, bare).price
    legs = tuple(
        replace(
            g,
            entry_price=fill(costs, float(p), g.quantity, g, market.vix, True),
            key=f"legs[{j}]",
        )
        for j, (g, p) in enumerate(zip(bare, model, strict=True))
    )
    paid = tuple(fees(costs, g, g.entry_price, g.quantity) for g in legs)
    credit = -sum(g.entry_price * g.quantity for g in legs) / n
    model_credit = -float(sum(p * g.quantity for g, p in zip(bare, model, strict=True))) / n
    cash = credit * n * 100.0 - sum(paid)
    return Entry(
        f"ic-{day.isoformat()}", day, expiry, expiry, 0, 0, legs, credit, model_credit, cash,
        paid,
    )  # fmt: skip


def intrinsic(leg: Leg, spot: float) -> float:
    """Settlement value of an option leg per unit, in points."""
    return max(spot - leg.strike, 0.0) if leg.type == "call" else max(leg.strike - spot, 0.0)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BacktestResult:
    """Everything a report needs, as plain data.

    ``trades`` has one dict per (policy, entry); ``equity`` one array of
    dollars per policy, the daily equity curve (closed trades' P&L plus open
    trades marked at the model mid) on ``dates``; ``curves`` the same split by
    ``CATEGORIES`` (policy → array categories × days; its rows add up to the
    equity curve); ``summary`` one dict per policy (see ``summarise``). ``spx``
    and ``vix`` are the closes on ``dates``; ``embedded`` says whether they are
    the embedded data.
    """

    policies: tuple[str, ...]
    params: BacktestParams
    rules: Rules
    source: str
    dates: tuple[date, ...]
    entries: tuple[Entry, ...]
    trades: tuple[dict, ...]
    equity: dict[str, np.ndarray]
    summary: dict[str, dict]
    curves: dict[str, np.ndarray] = field(default_factory=dict)
    spx: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    vix: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    embedded: bool = False
    note: str = MODEL_NOTE

    def rows(self, policy: str) -> list[dict]:
        """The trades of ``policy``, in entry order."""
        return [r for r in self.trades if r["policy"] == policy]

    def pnl(self, policy: str) -> np.ndarray:
        """Per-trade P&L of ``policy`` in entry order (dollars)."""
        return np.array([r["pnl"] for r in self.rows(policy)], dtype=float)

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
            "params": self.params.as_dict(),
            "costs": self.params.costs.as_dict(),
            "rules": {k: getattr(self.rules, k) for k in DEFAULTS},
            "policies": {p: self.summary[p] for p in self.policies},
        }


def summarise(pnls: Sequence[float], equity: np.ndarray, rows: Sequence[dict]) -> dict:
    """Per-policy figures (dollars): trade statistics, drawdown, 5% CVaR, costs, hedges,
    adjusted trades, the P&L by category, per condor unit and per unit of risk.

    ``max_drawdown`` is the largest fall of the daily equity curve from its
    running peak (the curve starts at 0). ``cvar_5`` is the mean P&L of the
    worst ceil(5% of trades) trades. ``hedge_spend`` is what the VIX call
    spread layers cost to open (fees included); ``hedge_pnl`` what every layer
    leg (VIX spreads, Layer 3 synthetics and rolled verticals) made or lost.
    ``adjusted_*`` are the trades whose condor reached 2x on a daily close
    before any profit take — the trades a 2x stop closes, the ones the method
    adjusts. ``attribution`` is the total of each ``pnl_<category>``;
    ``pnl_per_unit`` the total per condor unit (per contract of the condor);
    ``return_on_risk`` the mean over trades of P&L / the condor's max loss at
    entry; ``pnl_per_day_held`` the total over the calendar days the trades
    were open.
    """
    pnl = np.asarray(pnls, dtype=float)
    n = len(pnl)
    curve = np.concatenate([[0.0], equity])
    # 1e-9: 0.05·60 is 3.0000000000000004 in floating point, and the worst 3 are meant
    worst = np.sort(pnl)[: max(1, math.ceil(CVAR_LEVEL * n - 1e-9))] if n else np.array([np.nan])
    adjusted = np.array([r["pnl"] for r in rows if r["reached_2x"]], dtype=float)
    exits = {"expiry": 0, "stop": 0, "profit_take": 0}
    for r in rows:
        exits[r["exit_reason"]] += 1
    units = sum(r["contracts"] for r in rows) / n if n else math.nan
    days = float(sum(r["days_held"] for r in rows))
    return {
        "trades": n,
        "win_rate": float((pnl > 0).mean()) if n else math.nan,
        "mean_pnl": float(pnl.mean()) if n else math.nan,
        "median_pnl": float(np.median(pnl)) if n else math.nan,
        "total_pnl": float(pnl.sum()),
        "max_drawdown": float((np.maximum.accumulate(curve) - curve).max()),
        "worst_trade": float(pnl.min()) if n else math.nan,
        "cvar_5": float(worst.mean()),
        "pnl_per_unit": float(pnl.sum() / units) if n else math.nan,
        "return_on_risk": float(np.mean([r["return_on_risk"] for r in rows])) if n else math.nan,
        "pnl_per_day_held": float(pnl.sum() / days) if days else math.nan,
        "days_held": days,
        "hedge_spend": float(sum(r["hedge_spend"] for r in rows)),
        "hedge_pnl": float(sum(r["hedge_pnl"] for r in rows)),
        "hedges": sum(r["hedges"] for r in rows),
        "conversions": sum(r["conversions"] for r in rows),
        "rolls": sum(r["rolls"] for r in rows),
        "trims": sum(r["trims"] for r in rows),
        "unwinds": sum(r["unwinds"] for r in rows),
        "fees": float(sum(r["fees"] for r in rows)),
        "spread_cost": float(sum(r["spread_cost"] for r in rows)),
        "exits": exits,
        "adjusted_trades": len(adjusted),
        "adjusted_pnl": float(adjusted.sum()),
        "adjusted_mean_pnl": float(adjusted.mean()) if len(adjusted) else math.nan,
        "attribution": {c: float(sum(r[f"pnl_{c}"] for r in rows)) for c in CATEGORIES},
    }


# --------------------------------------------------------------------------- the run


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
    costs = params.costs
    frame = _prepare(history, params)
    days = tuple(ts.date() for ts in pd.DatetimeIndex(frame.index))
    spx = frame["spx"].to_numpy(dtype=float)
    vix = frame["vix"].to_numpy(dtype=float)
    listed = vix_expirations(days[0], days[-1] + FUTURES_HORIZON)
    kappa = rules.vix_term_kappa
    lows = [bisect.bisect_left(listed, d) for d in days]
    highs = [bisect.bisect_right(listed, d + FUTURES_HORIZON) for d in days]
    first_entry = _first_entry_row(days, params)
    runs_alvh = [p for p in policies if p in ALVH_POLICIES]

    def market(i: int) -> Market:
        return day_market(days[i], spx[i], vix[i], params, kappa, listed[lows[i] : highs[i]])

    # the alvh policies read every close from the first entry on; the others only entries
    markets: dict[int, Market] = {}
    if runs_alvh:
        markets = {i: market(i) for i in range(max(first_entry, 0), len(days))}
    entries = _entries(days, spx, vix, params, costs, markets, market, first_entry)
    if not entries:
        where = f" from {params.start}" if params.start else ""
        raise InputError(
            f"no condor fits in the history {days[0]} to {days[-1]}{where}: an entry needs "
            f"{params.warmup} trading days of history before it (warmup) and its expiry "
            f"(about {params.dte} days later) within the history",
            "--history",
        )
    entries = _condor_paths(entries, days, spx, vix, params)
    reached = {e.id: _first_hit(e, params, rules, "stop2x")[1] == "stop" for e in entries}

    rows: list[dict] = []
    equity: dict[str, np.ndarray] = {}
    curves: dict[str, np.ndarray] = {}
    steps = [0, len(runs_alvh) * len(days)]

    def tick(done: int, _total: int) -> None:
        if progress:
            progress(steps[0] + done, steps[1])

    for policy in policies:
        if policy in ALVH_POLICIES:
            results = _run_alvh(
                entries, days, markets, spx, vix, params, rules, costs,
                integral=ALVH_POLICIES[policy], progress=tick if progress else None,
            )  # fmt: skip
            steps[0] += len(days)
        else:
            results = [
                _run_simple(e, policy, params, rules, len(days), costs, vix) for e in entries
            ]
        by_category = np.zeros((len(CATEGORIES), len(days)))
        for e, (row, path) in zip(entries, results, strict=True):
            rows.append({"policy": policy, **_entry_row(e), **row, "reached_2x": reached[e.id]})
            by_category += path
        curves[policy] = by_category
        equity[policy] = by_category.sum(axis=0)
    summary = {
        p: summarise(
            [r["pnl"] for r in rows if r["policy"] == p],
            equity[p],
            [r for r in rows if r["policy"] == p],
        )
        for p in policies
    }
    source = ", ".join(str(s) for s in history.attrs.get("sources", [])) or "history"
    return BacktestResult(
        policies, params, rules, source, days, tuple(entries), tuple(rows), equity, summary,
        curves, spx, vix, is_embedded(history),
    )  # fmt: skip


def _first_entry_row(days: Sequence[date], params: BacktestParams) -> int:
    """The first row an entry may open on: ``warmup`` closes in, and not before ``start``."""
    row = params.warmup
    if params.start:
        row = max(row, bisect.bisect_left(days, params.start))
    return row


def _entries(days, spx, vix, params, costs, markets, market, first: int) -> list[Entry]:
    """Every weekly entry from row ``first`` whose expiry falls within the history (so that
    every trade closes)."""
    out = []
    for i in entry_days(days, params.weekday):
        if i < first:
            continue
        expiry = weekly_expiry(days[i], params.dte)
        if expiry > days[-1]:
            continue
        last = bisect.bisect_right(days, expiry) - 1
        if last <= i:
            continue
        e = open_entry(days[i], markets.get(i) or market(i), expiry, params, costs)
        out.append(replace(e, settled=days[last], first=i, last=last))
    return out


_VALUE_FIELDS = (
    "T", "dte", "underlying", "forward", "vol", "price", "delta", "gamma", "vega", "theta", "rho",
)  # fmt: skip


def _condor_paths(entries: list[Entry], days, spx, vix, params: BacktestParams) -> list[Entry]:
    """Each condor leg's model price and Greeks on every close of its life, in one pricing
    call: the arithmetic of ``value_legs`` (BSM on spot, the day's smile at k = ln(K/F) and
    the leg's tenor), vectorised over every (close, leg); equal to it bit for bit (tested)."""
    from alvh_cli.model.pricing import bsm_greeks

    sizes = [e.last - e.first + 1 for e in entries]
    row_day = np.concatenate([np.arange(e.first, e.last + 1) for e in entries])
    close_ts = np.array([close_instant(d).timestamp() for d in days])
    ordinal = np.array([d.toordinal() for d in days])
    strike = np.repeat(np.array([e.strikes for e in entries]), sizes, axis=0)  # rows × 4
    settle = np.repeat(np.array([settlement_timestamp("SPXW", e.expiry) for e in entries]), sizes)
    expiry = np.repeat(np.array([e.expiry.toordinal() for e in entries]), sizes)
    is_call = np.array([False, False, True, True])
    s = spx[row_day][:, None]
    T = np.repeat(((settle - close_ts[row_day]) / SECONDS_PER_YEAR)[:, None], 4, axis=1)
    tau = np.maximum(T, 0.0)
    fwd = s * np.exp((params.rate - params.dividend_yield) * tau)
    k = np.log(strike / fwd)
    smile = spx_smile(1.0, params)
    atm = (vix[row_day] / 100.0)[:, None]
    vol = np.maximum(atm + smile.skew_at(tau) * k + smile.smile * k * k, VOL_FLOOR)
    g = bsm_greeks(is_call, s, strike, tau, params.rate, params.dividend_yield, vol)
    table = {
        "T": T,
        "dte": np.repeat((expiry - ordinal[row_day])[:, None], 4, axis=1),
        "underlying": np.broadcast_to(s, T.shape),
        "forward": fwd,
        "vol": vol,
        **{name: getattr(g, name) for name in ("price", "delta", "gamma", "vega", "theta", "rho")},
    }
    out = []
    start = 0
    for e, size in zip(entries, sizes, strict=True):
        part = {name: np.ascontiguousarray(a[start : start + size]) for name, a in table.items()}
        start += size
        qty = np.array([g.quantity for g in e.legs], dtype=float)
        part["quantity"], part["multiplier"] = qty, np.full(4, 100.0)
        p = part["price"].copy()
        p[-1] = [intrinsic(g, spx[e.last]) for g in e.legs]  # cash settlement at the close
        debit = -(p @ qty) / abs(e.legs[1].quantity)
        out.append(
            replace(
                e,
                life=tuple(days[e.first : e.last + 1]),
                prices=p,
                marks=debit / e.credit,
                values=part,
            )
        )
    return out


def _profit_take_hit(mark: float, params: BacktestParams, rules: Rules) -> bool:
    """The profit take of ``check.recommend``, shared by every policy."""
    return params.profit_take and mark <= 1.0 - rules.profit_take


def _first_hit(e: Entry, params: BacktestParams, rules: Rules, policy: str) -> tuple[int, str]:
    """(row within the trade's life, reason) where ``policy`` closes a plain condor."""
    stop = STOPS.get(policy)
    for t in range(1, len(e.marks) - 1):  # closes after entry, before the settlement close
        mark = float(e.marks[t])
        if _profit_take_hit(mark, params, rules):
            return t, "profit_take"
        if stop and check.traditional(mark)[stop] == "close":
            return t, "stop"
    return len(e.marks) - 1, "expiry"


def _entry_row(e: Entry) -> dict:
    lp, sp, sc, lc = e.strikes
    return {
        "id": e.id,
        "opened": e.opened.isoformat(),
        "expiry": e.expiry.isoformat(),
        "long_put": lp,
        "short_put": sp,
        "short_call": sc,
        "long_call": lc,
        "contracts": abs(e.legs[1].quantity),
        "credit": e.credit,
        "max_loss": e.max_loss,
    }


def _run_simple(
    e: Entry,
    policy: str,
    params: BacktestParams,
    rules: Rules,
    n_days: int,
    costs: CostModel,
    vix: np.ndarray,
) -> tuple[dict, np.ndarray]:
    """hold / stop2x / stop3x on one entry: its row and its daily P&L by category
    (``CATEGORIES`` × days; the condor's put legs and call legs)."""
    t, reason = _first_hit(e, params, rules, policy)
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
        exits = np.array([fill(costs, float(p), g.quantity, g, day_vix, False) for g, p in pairs])
        exit_fees = np.array(
            [fees(costs, g, float(x), g.quantity) for g, x in zip(e.legs, exits, strict=True)]
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
    row = _row(e, t, reason, float(e.marks[t]), pnl, fee_total, spread, by=by)
    return row, path


def _row(
    e: Entry,
    t: int,
    reason: str,
    mark: float,
    pnl: float,
    fees_paid: float,
    spread_cost: float,
    state: _Trade | None = None,
    by: dict[str, float] | None = None,
) -> dict:
    """The per-trade record; ``state`` carries the alvh policy's adjustments. ``pnl_*`` split
    the P&L by what earned it (``CATEGORIES``; they add up to ``pnl``)."""
    by = state.by if state else (by or {})
    counts = state.counts if state else {}
    layers = sum(by.get(c, 0.0) for c in CATEGORIES if not c.startswith("condor"))
    closed = e.life[t]
    return {
        "closed": closed.isoformat(),
        "exit_reason": reason,
        "exit_mark": mark,
        "pnl": pnl,
        "days_held": (closed - e.opened).days,
        "return_on_risk": pnl / e.max_loss if e.max_loss > 0 else math.nan,
        "fees": fees_paid,
        "spread_cost": spread_cost,
        **{f"pnl_{c}": by.get(c, 0.0) for c in CATEGORIES},
        "hedge_spend": state.hedge_spend if state else 0.0,
        "hedge_pnl": layers,
        "hedges": counts.get("open_hedge", 0),
        "conversions": counts.get("convert", 0),
        "rolls": counts.get("roll", 0),
        "trims": counts.get("trim_hedge", 0),
        "unwinds": counts.get("close_hedge", 0),
        "actions": "; ".join(state.actions) if state else "",
    }


# --------------------------------------------------------------------------- alvh


@dataclass
class _Trade:
    """The running state of one condor under an alvh policy (money in dollars).

    ``credit`` starts as the entry's and takes in a roll's net premium (per unit),
    so the mark stays debit to close over what the position has collected.
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
    closed_at: int | None = None  # row within the trade's life
    reason: str = ""
    exit_mark: float = math.nan
    managed: bool = True  # False once a vertical is closed: the other is held to expiry
    path: np.ndarray | None = None
    pristine: bool = True  # the legs are still the condor as opened

    def book(self, leg: Leg, amount: float) -> None:
        self.cash += amount
        self.by[self.kind[id(leg)]] += amount

    def mark(self, row: int, prices) -> float:
        """Record the trade's value by category at ``row`` of its life (legs at ``prices``);
        return the total."""
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
    """The rules the alvh engine decides with on a day with this VIX: the backtest's costs
    (that day's half-spreads, the cost model's fee per contract) and its profit take
    (``profit_take`` 0 turns the engine's off)."""
    return replace(
        rules,
        profit_take=rules.profit_take if params.profit_take else 0.0,
        spx_half_spread=costs.half_spread_one("SPX", vix),
        vix_half_spread=costs.half_spread_one("VIX", vix),
        fee_per_contract=costs.flat_fee(),
    )


def _run_alvh(
    entries: Sequence[Entry],
    days,
    markets: dict[int, Market],
    spx,
    vix,
    params: BacktestParams,
    rules: Rules,
    costs: CostModel,
    *,
    integral: bool = True,
    progress: Progress | None = None,
) -> list[tuple[dict, np.ndarray]]:
    """Each day, ``check.check_position`` on every open trade, its recommendations filled at
    the model price moved by the half-spread, fees paid.

    The engine sees only the past: its historical scenarios are the windows of the
    history up to that day, and the VIX spike signal (which brings layer 1 in early) is
    computed from those closes. Its cost assumptions are the backtest's
    (``engine_rules``). ``integral=False`` sizes every adjustment in fractions of a
    contract.
    """
    from alvh_cli.method.regime import Regime
    from alvh_cli.method.scenarios import History
    from alvh_cli.model.valuation import summarise as value_position

    closes = History(
        np.array([d.toordinal() for d in days], dtype=np.int64), np.asarray(spx), vix, "backtest"
    )
    engine = check.Engine(closes, fallback=False)
    spikes = spike_flags(vix, rules.vix_spike_window, rules.vix_spike_pct)
    trades = []
    for e in entries:
        t = _Trade(e, list(e.legs), e.credit, e.entry_cash, float(sum(e.entry_fees)), 0.0)
        t.spread_cost = float(np.sum(np.abs([g.entry_price for g in e.legs] - e.prices[0])))
        t.spread_cost *= 100.0 * abs(e.legs[0].quantity)
        for g, side, fee in zip(e.legs, ("put", "put", "call", "call"), e.entry_fees, strict=True):
            t.kind[id(g)] = f"condor_{side}"
            t.by[f"condor_{side}"] += -g.entry_price * g.quantity * g.multiplier - fee
        t.path = np.zeros((len(CATEGORIES), e.last - e.first + 1))
        t.mark(0, e.prices[0])
        trades.append(t)
    by_first: dict[int, list[_Trade]] = {}
    for t in trades:
        by_first.setdefault(t.entry.first, []).append(t)
    open_: list[_Trade] = []
    rules_of_day: dict[float, Rules] = {}
    for i in range(len(days)):
        if progress and (i % 25 == 0 or i == len(days) - 1):
            progress(i + 1, len(days))
        live = [t for t in open_ if t.closed_at is None]
        open_ = live + by_first.get(i, [])
        if not live:
            continue
        market = markets[i]
        day_rules = rules_of_day.get(market.vix)
        if day_rules is None:
            day_rules = rules_of_day[market.vix] = engine_rules(rules, params, costs, market.vix)
        for t in live:
            _expire_vix(t, market)
        review = [t for t in live if i < t.entry.last]
        for t in [t for t in review if not t.managed]:
            prices = value_legs(market, t.legs).price if t.legs else []
            t.mark(i - t.entry.first, prices)
        review = [t for t in review if t.managed]
        if review:
            regime = Regime(spike=bool(spikes[i]), note="backtest: VIX spike signal only")
            # a condor still as opened has its values worked out; the others are priced here
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
                position = Position(t.entry.id, tuple(t.legs), t.credit, t.entry.opened, "backtest")
                pv = value_position(position, market, day_rules, part)
                advice = check.check_position(pv, regime, engine, figures=False, integral=integral)
                changed = False
                for rec in advice.recommendations:
                    changed |= _apply(t, rec, pv.mark_multiple, market, params, costs, i)
                    if t.closed_at is not None:
                        break
                t.pristine &= not changed
                if t.closed_at is None:
                    prices = value_legs(market, t.legs).price if changed else part.price
                    t.mark(i - t.entry.first, prices)
        for t in live:
            if i == t.entry.last:
                _settle(t, market, float(spx[i]), costs)
    out = []
    for e, t in zip(entries, trades, strict=True):
        path = np.zeros((len(CATEGORIES), len(days)))
        t.path[:, t.closed_at] = [t.by[c] for c in CATEGORIES]
        path[:, e.first : e.first + t.closed_at + 1] = t.path[:, : t.closed_at + 1]
        path[:, e.first + t.closed_at + 1 :] = t.path[:, t.closed_at, None]
        row = _row(e, t.closed_at, t.reason, t.exit_mark, t.cash, t.fees, t.spread_cost, t)
        out.append((row, path))
    return out


def _slice_values(values, start: int, stop: int):
    sliced = {}
    for name, value in vars(values).items():
        sliced[name] = value[start:stop] if isinstance(value, (np.ndarray, tuple)) else value
    return type(values)(**sliced)


def _apply(
    t: _Trade, rec, mark: float, market: Market, params: BacktestParams, costs: CostModel, i: int
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
    if action == Action.ROLL and any(tr.leg.layer is None for tr in rec.trades):
        units = abs(t.entry.legs[1].quantity)
        net = sum(-tr.price * tr.quantity * tr.leg.multiplier for tr in rec.trades)
        t.credit += net / (units * 100.0)
    t.actions.append(f"{day} {_describe(rec)}")
    if action == Action.CLOSE_VERTICAL:
        t.managed = False  # what is left is one vertical: held to expiry, not a condor
    if action in (Action.TAKE_PROFIT, Action.CLOSE_POSITION) or not any(
        g.layer is None for g in t.legs
    ):
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


def _open_leg(t: _Trade, tr, market: Market, costs: CostModel) -> float:
    """Open ``tr`` at the model price moved by the half-spread; the cash it took (< 0 when
    paid), fees included."""
    g = tr.leg
    price = fill(costs, tr.model, tr.quantity, g, market.vix, True)
    leg = replace(g, quantity=tr.quantity, entry_price=price, entry_vix=market.vix, key="")
    if g.underlying == "VIX":
        kind = "vix"
    elif g.layer is None:  # a rolled vertical joins the condor
        kind = f"roll_{g.type}"
    else:
        kind = "synthetic_put" if _is_conversion(t, g) else "synthetic_call"
    t.kind[id(leg)] = kind
    fee = fees(costs, g, price, tr.quantity)
    amount = -price * tr.quantity * g.multiplier - fee
    t.legs.append(leg)
    t.fees += fee
    t.spread_cost += abs(price - tr.model) * abs(tr.quantity) * g.multiplier
    t.book(leg, amount)
    return amount


def _is_conversion(t: _Trade, g: Leg) -> bool:
    """A synthetic at the short put's strike is a conversion (put side), else a reversal."""
    return g.strike == t.entry.legs[1].strike


def _close_leg(t: _Trade, tr, market: Market, costs: CostModel) -> None:
    held = next((g for g in t.legs if g is tr.leg), None)
    if held is None:  # the same contract held under another object (should not happen)
        raise AssertionError(f"closing a leg not held: {tr.leg}")  # pragma: no cover
    _close_at(t, held, tr.quantity, tr.model, market, costs)


def _close_at(t: _Trade, held: Leg, quantity, model: float, market: Market, costs: CostModel):
    """Trade ``quantity`` (opposite sign to the holding) of ``held`` at the model price moved
    by the half-spread; the rest of the holding stays."""
    price = fill(costs, model, -quantity, held, market.vix, False)  # closing the holding
    fee = fees(costs, held, price, quantity)
    t.fees += fee
    t.spread_cost += abs(price - model) * abs(quantity) * held.multiplier
    t.book(held, -price * quantity * held.multiplier - fee)
    left = held.quantity + quantity
    k = next(j for j, g in enumerate(t.legs) if g is held)
    if abs(left) < 1e-9:  # a fractional holding sold in parts leaves float dust, not a leg
        del t.legs[k]
    else:
        rest = replace(held, quantity=left)
        t.kind[id(rest)] = t.kind[id(held)]
        t.legs[k] = rest


def _expire_vix(t: _Trade, market: Market) -> None:
    """VIX legs whose expiry has come while the condor runs (a layer on the VIX expiry before
    the condor's that was not rolled) are cash-settled at intrinsic value against that day's
    VIX close: no fill, no fee. (The real settlement is the special opening quotation of the
    expiry morning; the backtest has closes only.)"""
    day = market.asof.date()
    for g in [g for g in t.legs if g.underlying == "VIX" and g.expiry <= day]:
        value = market.vix if g.type == "future" else intrinsic(g, market.vix)
        t.book(g, value * g.quantity * g.multiplier)
        t.legs = [x for x in t.legs if x is not g]
        t.pristine = False


def _settle(t: _Trade, market: Market, spot: float, costs: CostModel) -> None:
    """The condor's last close: SPX legs expiring that day are cash-settled at the close;
    legs expiring later (VIX hedges, a rolled vertical) are sold at the model price."""
    day = market.asof.date()
    for g in list(t.legs):
        if g.underlying == "SPX" and g.expiry <= day:
            t.book(g, intrinsic(g, spot) * g.quantity * g.multiplier)
            t.legs.remove(g)
    if t.legs:
        prices = value_legs(market, t.legs).price
        for g, p in zip(list(t.legs), prices, strict=True):
            _close_at(t, g, -g.quantity, float(p), market, costs)
    t.legs = []
    t.closed_at = len(t.entry.life) - 1
    t.reason = "expiry"
    t.exit_mark = float(t.entry.marks[-1])
