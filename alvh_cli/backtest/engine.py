"""Backtest: the ALVH layers against the 2x/3x stops and holding to expiry (issue 6).

One iron condor is opened every week on daily closes of SPX and VIX, and the
same entries are run through each policy:

* ``hold``: to expiry, cash-settled at the SPX close of the expiry day;
* ``stop2x`` / ``stop3x``: closed at the first daily close where the debit to
  close is at least 2x / 3x the credit (the test of ``check.traditional``);
* ``alvh``: every day the engine's ``check.check_position`` says what to do
  and the recommendation is filled: VIX call spread layers, the Layer 3
  conversion, the unwind, the profit take.

Every policy shares the profit take of ``check.recommend`` (mark ≤ 1 −
``rules.profit_take``), or none with ``profit_take=False``.

Option prices are modelled from VIX, not historical quotes: SPX options by
BSM with ATM vol VIX/100 and the smile of DESIGN §2; VIX futures from the
mean-reverting curve F(τ) = θ + (VIX − θ)·e^(−κτ), κ = ``rules.vix_term_kappa``;
VIX options by Black-76 with a fixed VIX smile. Every fill pays a slippage per
leg (the model price plus it to buy, minus it to sell) and a commission per
contract; cash settlement pays neither. Money is in dollars unless a name
says points.

``run_backtest`` is pure: history and parameters in, a ``BacktestResult`` of
plain data out.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from alvh_cli.errors import InputError
from alvh_cli.method import check
from alvh_cli.method.rules import Rules, bounded_number
from alvh_cli.model.domain import FuturePoint, Leg, Market, Position, Smile
from alvh_cli.model.exchange import is_business_day, previous_business_day
from alvh_cli.model.expirations import vix_expirations
from alvh_cli.model.legs import value_legs
from alvh_cli.model.timing import NEW_YORK, settlement_instant, year_fraction

POLICIES = ("hold", "stop2x", "stop3x", "alvh")
STOPS = {"stop2x": "stop_2x", "stop3x": "stop_3x"}  # policy → key of check.traditional
DEFAULT_DATA = "spx_vix_2014_2018.csv"
MODEL_NOTE = (
    "Option prices are modelled from VIX (BSM with a fixed smile, VIX futures from a "
    "mean-reverting curve, VIX options by Black-76), not historical quotes."
)
FUTURES_HORIZON = timedelta(days=150)  # VIX futures listed each day: expiries up to this far out
STRIKE_RANGE = 0.4  # short strikes are searched within ±40% of spot
CVAR_LEVEL = 0.05


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Param:
    default: float
    help: str
    low: float
    high: float
    integer: bool = False


PARAMS: dict[str, Param] = {
    # Entry rule.
    "weekday": Param(0, "entry weekday, 0 = Monday (the next trading day when closed)", 0, 4, True),
    "dte": Param(45, "target calendar days to expiry: the SPXW Friday nearest it", 1, 365, True),
    "delta": Param(0.16, "|delta| of the short put and the short call", 0.01, 0.49),
    "wing": Param(50, "wing width, SPX points", 1, 1000),
    "strike_step": Param(5, "listed strike grid, SPX points", 0.05, 100),
    "contracts": Param(1, "condors per entry", 1, 10000, True),
    "warmup": Param(
        250,
        "trading days of history before the first entry (the alvh policy's scenario set "
        "is built from the closes before each decision)",
        0,
        5000,
        True,
    ),
    # Model (DESIGN §2 smile; the VIX curve's κ is rules.vix_term_kappa).
    "rate": Param(0.02, "risk-free rate, continuous, annual", -0.05, 0.25),
    "dividend_yield": Param(0.018, "SPX dividend yield, continuous, annual", 0, 0.2),
    "spx_skew": Param(
        -1.1, "SPX smile skew (iv = VIX/100 + skew·k + smile·k², k = ln K/F)", -10, 10
    ),
    "spx_smile": Param(2.5, "SPX smile curvature", -10, 50),
    "vix_theta": Param(19, "long-run VIX level θ of F(τ) = θ + (VIX − θ)·e^(−κτ)", 5, 80),
    "vix_atm": Param(0.9, "VIX option ATM vol (on the future)", 0.05, 5),
    "vix_skew": Param(0.8, "VIX smile skew", -10, 10),
    "vix_smile": Param(0.0, "VIX smile curvature", -10, 50),
    # Costs.
    "slippage_spx": Param(0.05, "slippage per SPX option leg per fill, points", 0, 10),
    "slippage_vix": Param(0.02, "slippage per VIX option leg per fill, points", 0, 10),
    "commission": Param(0.65, "commission per contract per fill, dollars", 0, 100),
}


@dataclass(frozen=True)
class BacktestParams:
    """Entry rule, model and costs of a backtest (defaults and meanings: ``PARAMS``).

    ``profit_take`` False turns the shared profit take off for every policy;
    ``start``/``end`` clip the history (inclusive).
    """

    weekday: int = 0
    dte: int = 45
    delta: float = 0.16
    wing: float = 50.0
    strike_step: float = 5.0
    contracts: int = 1
    warmup: int = 250
    rate: float = 0.02
    dividend_yield: float = 0.018
    spx_skew: float = -1.1
    spx_smile: float = 2.5
    vix_theta: float = 19.0
    vix_atm: float = 0.9
    vix_skew: float = 0.8
    vix_smile: float = 0.0
    slippage_spx: float = 0.05
    slippage_vix: float = 0.02
    commission: float = 0.65
    profit_take: bool = True
    start: date | None = None
    end: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            f.name: (v.isoformat() if isinstance(v, date) else v)
            for f in fields(self)
            for v in [getattr(self, f.name)]
        }


assert [f.name for f in fields(BacktestParams)][: len(PARAMS)] == list(PARAMS)
assert all(getattr(BacktestParams, k) == p.default for k, p in PARAMS.items())


def make_params(
    table: dict, source: str = "--entry", base: BacktestParams | None = None
) -> BacktestParams:
    """``base`` (default: the defaults) overridden by a validated table of parameters.

    Numbers for the ``PARAMS`` keys, a boolean ``profit_take``, dates (or
    ``YYYY-MM-DD`` strings) ``start`` and ``end``. Unknown keys are errors.
    """
    import difflib

    values: dict[str, Any] = {}
    known = [f.name for f in fields(BacktestParams)]
    for key, value in table.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputError(f"unknown backtest parameter '{key}'{hint}", source, key)
        if key == "profit_take":
            if not isinstance(value, bool):
                raise InputError(f"must be true or false, got {value!r}", source, key)
            values[key] = value
        elif key in ("start", "end"):
            values[key] = _as_date(value, source, key)
        else:
            values[key] = _as_number(PARAMS[key], value, source, key)
    params = replace(base or BacktestParams(), **values)
    if params.start and params.end and params.start > params.end:
        raise InputError(f"start {params.start} is after end {params.end}", source, "start")
    return params


def _as_number(spec: Param, value: Any, source: str, key: str) -> float:
    return bounded_number(value, spec, source, key)


def _as_date(value: Any, source: str, key: str) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"must be a date YYYY-MM-DD, got {value!r}", source, key) from None


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


def _prepare(history: pd.DataFrame, params: BacktestParams) -> pd.DataFrame:
    missing = [c for c in ("spx", "vix") if c not in history.columns]
    if missing:
        raise InputError(f"history has no '{missing[0]}' column", "--history", missing[0])
    frame = history[["spx", "vix"]].dropna().sort_index()
    index = pd.DatetimeIndex(frame.index)
    if params.start:
        frame = frame[index >= pd.Timestamp(params.start)]
        index = pd.DatetimeIndex(frame.index)
    if params.end:
        frame = frame[index <= pd.Timestamp(params.end)]
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
        spx_vol=Smile(vix / 100.0, params.spx_skew, params.spx_smile),
        vix_vol=Smile(params.vix_atm, params.vix_skew, params.vix_smile),
        source="backtest",
    )


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Entry:
    """One condor opened on ``opened``; shared by every policy.

    ``credit`` is the net fill per unit in points (model credit less the
    slippage of four legs); ``prices`` holds the model price of each condor
    leg on each close of its life (row 0 the entry, the last row the
    settlement at intrinsic); ``marks`` is debit to close / credit on each.
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
    entry_cash: float  # dollars received at entry, commissions paid
    life: tuple[date, ...] = ()  # the closes from ``opened`` to ``settled``
    prices: np.ndarray = field(default_factory=lambda: np.empty((0, 4)), repr=False)
    marks: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    @property
    def strikes(self) -> tuple[float, ...]:
        return tuple(g.strike for g in self.legs)


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
    vol = smile_vol(market.spx_vol, np.log(grid / float(spx_forward(market, t))))
    r, q = market.rate, market.dividend_yield
    put = bsm_greeks(False, market.spx, grid, t, r, q, vol).delta
    call = bsm_greeks(True, market.spx, grid, t, r, q, vol).delta
    short_put = float(grid[np.argmin(np.abs(put + params.delta))])
    short_call = float(grid[np.argmin(np.abs(call - params.delta))])
    return short_put - params.wing, short_put, short_call, short_call + params.wing


def fill_price(model: float, quantity: float, slippage: float, opening: bool) -> float:
    """Points paid (a buy) or received (a sell): the model price moved against us, never < 0."""
    buying = (quantity > 0) == opening
    return model + slippage if buying else max(model - slippage, 0.0)


def _slippage(leg: Leg, params: BacktestParams) -> float:
    return params.slippage_spx if leg.underlying == "SPX" else params.slippage_vix


def open_entry(day: date, market: Market, expiry: date, params: BacktestParams) -> Entry:
    """The condor opened at ``day``'s close, each leg filled at the model price with slippage.

    Its place in the history and its price path are filled in by ``run_backtest``.
    """
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
            entry_price=fill_price(float(p), g.quantity, params.slippage_spx, True),
            key=f"legs[{j}]",
        )
        for j, (g, p) in enumerate(zip(bare, model, strict=True))
    )
    credit = -sum(g.entry_price * g.quantity for g in legs) / n
    model_credit = -float(sum(p * g.quantity for g, p in zip(bare, model, strict=True))) / n
    cash = credit * n * 100.0 - 4 * n * params.commission
    return Entry(
        f"ic-{day.isoformat()}", day, expiry, expiry, 0, 0, legs, credit, model_credit, cash
    )


def intrinsic(leg: Leg, spot: float) -> float:
    """Settlement value of an option leg per unit, in points."""
    return max(spot - leg.strike, 0.0) if leg.type == "call" else max(leg.strike - spot, 0.0)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BacktestResult:
    """Everything a report needs, as plain data.

    ``trades`` has one dict per (policy, entry); ``equity`` one array of
    dollars per policy, the daily equity curve (closed trades' P&L plus open
    trades marked at the model mid) on ``dates``; ``summary`` one dict per
    policy (see ``summarise``).
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
    note: str = MODEL_NOTE

    def to_dict(self) -> dict:
        """JSON shape: period, source, parameters, rules in force, the note, per-policy summary."""
        from alvh_cli.method.rules import DEFAULTS

        return {
            "start": self.dates[0].isoformat(),
            "end": self.dates[-1].isoformat(),
            "days": len(self.dates),
            "entries": len(self.entries),
            "source": self.source,
            "note": self.note,
            "params": self.params.as_dict(),
            "rules": {k: getattr(self.rules, k) for k in DEFAULTS},
            "policies": {p: self.summary[p] for p in self.policies},
        }


def summarise(pnls: Sequence[float], equity: np.ndarray, rows: Sequence[dict]) -> dict:
    """Per-policy figures (dollars): trade statistics, drawdown, 5% CVaR, hedges, adjusted trades.

    ``max_drawdown`` is the largest fall of the daily equity curve from its
    running peak (the curve starts at 0). ``cvar_5`` is the mean P&L of the
    worst ceil(5% of trades) trades. ``hedge_spend`` is what the VIX call
    spread layers cost to open (commissions included); ``hedge_pnl`` what
    every layer leg (VIX spreads and Layer 3 conversions) made or lost.
    ``adjusted_*`` are the trades whose condor reached 2x on a daily close
    before any profit take — the trades a 2x stop closes, the ones the method
    adjusts.
    """
    pnl = np.asarray(pnls, dtype=float)
    n = len(pnl)
    curve = np.concatenate([[0.0], equity])
    worst = np.sort(pnl)[: max(1, math.ceil(CVAR_LEVEL * n))] if n else np.array([np.nan])
    adjusted = np.array([r["pnl"] for r in rows if r["reached_2x"]], dtype=float)
    exits = {"expiry": 0, "stop": 0, "profit_take": 0}
    for r in rows:
        exits[r["exit_reason"]] += 1
    return {
        "trades": n,
        "win_rate": float((pnl > 0).mean()) if n else math.nan,
        "mean_pnl": float(pnl.mean()) if n else math.nan,
        "median_pnl": float(np.median(pnl)) if n else math.nan,
        "total_pnl": float(pnl.sum()),
        "max_drawdown": float((np.maximum.accumulate(curve) - curve).max()),
        "worst_trade": float(pnl.min()) if n else math.nan,
        "cvar_5": float(worst.mean()),
        "hedge_spend": float(sum(r["hedge_spend"] for r in rows)),
        "hedge_pnl": float(sum(r["hedge_pnl"] for r in rows)),
        "hedges": sum(r["hedges"] for r in rows),
        "conversions": sum(r["conversions"] for r in rows),
        "unwinds": sum(r["unwinds"] for r in rows),
        "commissions": float(sum(r["commissions"] for r in rows)),
        "exits": exits,
        "adjusted_trades": len(adjusted),
        "adjusted_pnl": float(adjusted.sum()),
        "adjusted_mean_pnl": float(adjusted.mean()) if len(adjusted) else math.nan,
    }


# --------------------------------------------------------------------------- the run


def run_backtest(
    history: pd.DataFrame,
    rules: Rules,
    params: BacktestParams | None = None,
    policies: Sequence[str] = POLICIES,
) -> BacktestResult:
    """Open the weekly condors on ``history`` (columns ``spx``, ``vix``, daily, indexed by date)
    and run each policy on the same entries."""
    from alvh_cli.model.pricing import use_compiled_normal

    use_compiled_normal()  # thousands of small pricing calls: scipy's loops pay here
    params = params or BacktestParams()
    policies = parse_policies(policies)
    frame = _prepare(history, params)
    days = tuple(ts.date() for ts in pd.DatetimeIndex(frame.index))
    spx = frame["spx"].to_numpy(dtype=float)
    vix = frame["vix"].to_numpy(dtype=float)
    listed = vix_expirations(days[0], days[-1] + FUTURES_HORIZON)
    kappa = rules.vix_term_kappa

    def market(i: int) -> Market:
        lo = bisect.bisect_left(listed, days[i])
        hi = bisect.bisect_right(listed, days[i] + FUTURES_HORIZON)
        return day_market(days[i], spx[i], vix[i], params, kappa, listed[lo:hi])

    markets = [market(i) for i in range(len(days))]
    entries = _entries(days, markets, params)
    if not entries:
        raise InputError(
            f"no condor fits in the history {days[0]} to {days[-1]}: an entry needs "
            f"{params.warmup} trading days of history before it (warmup) and its expiry "
            f"(about {params.dte} days later) within the history",
            "--history",
        )
    entries = _condor_paths(entries, days, markets, spx)
    reached = {e.id: _first_hit(e, params, rules, "stop2x")[1] == "stop" for e in entries}

    rows: list[dict] = []
    equity: dict[str, np.ndarray] = {}
    for policy in policies:
        if policy == "alvh":
            results = _run_alvh(entries, days, markets, spx, vix, params, rules)
        else:
            results = [_run_simple(e, policy, params, rules, len(days)) for e in entries]
        curve = np.zeros(len(days))
        prows = []
        for e, (row, path) in zip(entries, results, strict=True):
            row = {"policy": policy, **_entry_row(e), **row, "reached_2x": reached[e.id]}
            prows.append(row)
            curve += path
        rows.extend(prows)
        equity[policy] = curve
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
        policies, params, rules, source, days, tuple(entries), tuple(rows), equity, summary
    )


def _entries(days, markets, params: BacktestParams) -> list[Entry]:
    """Every weekly entry whose expiry falls within the history (so that every trade closes)."""
    out = []
    for i in entry_days(days, params.weekday):
        if i < params.warmup:
            continue
        expiry = weekly_expiry(days[i], params.dte)
        if expiry > days[-1]:
            continue
        last = bisect.bisect_right(days, expiry) - 1
        if last <= i:
            continue
        e = open_entry(days[i], markets[i], expiry, params)
        out.append(replace(e, settled=days[last], first=i, last=last))
    return out


def _condor_paths(entries: list[Entry], days, markets, spx) -> list[Entry]:
    """Each condor leg's model price on every close of its life: one pricing call per day."""
    live: dict[int, list[int]] = {}
    for j, e in enumerate(entries):
        for i in range(e.first, e.last + 1):
            live.setdefault(i, []).append(j)
    prices = [np.empty((e.last - e.first + 1, 4)) for e in entries]
    for i, js in live.items():
        legs = [g for j in js for g in entries[j].legs]
        values = value_legs(markets[i], legs).price.reshape(len(js), 4)
        for row, j in zip(values, js, strict=True):
            prices[j][i - entries[j].first] = row
    out = []
    for e, p in zip(entries, prices, strict=True):
        p[-1] = [intrinsic(g, spx[e.last]) for g in e.legs]  # cash settlement at the close
        qty = np.array([g.quantity for g in e.legs], dtype=float)
        debit = -(p @ qty) / abs(e.legs[1].quantity)
        out.append(
            replace(e, life=tuple(days[e.first : e.last + 1]), prices=p, marks=debit / e.credit)
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
    }


def _run_simple(
    e: Entry, policy: str, params: BacktestParams, rules: Rules, n_days: int
) -> tuple[dict, np.ndarray]:
    """hold / stop2x / stop3x on one entry: its row and its contribution to the equity curve."""
    t, reason = _first_hit(e, params, rules, policy)
    qty = np.array([g.quantity for g in e.legs], dtype=float)
    marked = e.entry_cash + e.prices @ qty * 100.0  # P&L on each close, at the model mid
    commissions = 4 * abs(qty[0]) * params.commission
    if reason == "expiry":
        exits = e.prices[t]  # the settlement payoff: no fill, no commission
        fees = np.zeros(4)
    else:
        exits = np.array(
            [
                fill_price(float(p), g.quantity, params.slippage_spx, False)
                for g, p in zip(e.legs, e.prices[t], strict=True)
            ]
        )
        fees = params.commission * np.abs(qty)
        commissions += float(fees.sum())
    entry = np.array([g.entry_price for g in e.legs])
    each = (exits - entry) * qty * 100.0 - fees - params.commission * np.abs(qty)
    pnl = float(each.sum())
    by = {"condor_put": float(each[:2].sum()), "condor_call": float(each[2:].sum())}
    path = np.zeros(n_days)
    path[e.first : e.first + t] = marked[:t]
    path[e.first + t :] = pnl
    return _row(e, t, reason, float(e.marks[t]), pnl, commissions, by=by), path


def _row(
    e: Entry,
    t: int,
    reason: str,
    mark: float,
    pnl: float,
    commissions: float,
    state: _Trade | None = None,
    by: dict[str, float] | None = None,
) -> dict:
    """The per-trade record; ``state`` carries the alvh policy's adjustments. ``pnl_*`` split
    the P&L by what earned it (``CATEGORIES``; they add up to ``pnl``)."""
    by = state.by if state else (by or {})
    counts = state.counts if state else {}
    vix = by.get("vix", 0.0)
    layers = vix + sum(by.get(k, 0.0) for k in CATEGORIES if k.startswith(("synthetic", "roll")))
    return {
        "closed": e.life[t].isoformat(),
        "exit_reason": reason,
        "exit_mark": mark,
        "pnl": pnl,
        "commissions": commissions,
        **{f"pnl_{k}": by.get(k, 0.0) for k in CATEGORIES},
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

# What each leg of an alvh trade is, for the attribution of its P&L.
CATEGORIES = (
    "condor_put", "condor_call", "vix", "synthetic_put", "synthetic_call",
    "roll_put", "roll_call",
)  # fmt: skip
ACTION_COUNTS = ("open_hedge", "trim_hedge", "close_hedge", "roll", "convert",
                 "close_vertical", "close_position")  # fmt: skip


@dataclass
class _Trade:
    """The running state of one condor under the alvh policy (money in dollars).

    ``credit`` starts as the entry's and takes in a roll's net premium (per unit),
    so the mark stays debit to close over what the position has collected.
    ``by`` holds every fill, fee and settlement by category (``CATEGORIES``).
    """

    entry: Entry
    legs: list[Leg]
    credit: float
    cash: float  # every fill and settlement so far, commissions paid
    commissions: float
    kind: dict[int, str] = field(default_factory=dict)  # id(leg) → category
    by: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0.0))
    hedge_spend: float = 0.0  # paid to open VIX call spread layers, commissions included
    actions: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTION_COUNTS, 0))
    closed_at: int | None = None  # row within the trade's life
    reason: str = ""
    exit_mark: float = math.nan
    managed: bool = True  # False once a vertical is closed: the other is held to expiry

    def book(self, leg: Leg, amount: float) -> None:
        self.cash += amount
        self.by[self.kind[id(leg)]] += amount


def spike_flags(vix: np.ndarray, window: int, pct: float) -> np.ndarray:
    """The VIX spike signal on each close: VIX ≥ (1 + pct) × the mean of the ``window``
    closes before it (``indicators.vix_spike``, from the history up to that day only)."""
    out = np.zeros(len(vix), dtype=bool)
    if len(vix) > window:
        c = np.concatenate([[0.0], np.cumsum(vix)])
        mean = (c[window:-1] - c[: -window - 1]) / window  # mean of vix[i-window:i], i ≥ window
        out[window:] = vix[window:] >= mean * (1.0 + pct)
    return out


def _run_alvh(
    entries: Sequence[Entry], days, markets, spx, vix, params: BacktestParams, rules: Rules
) -> list[tuple[dict, np.ndarray]]:
    """Each day, ``check.check_position`` on every open trade, its recommendations filled at
    the model price with slippage and commission.

    The engine sees only the past: its historical scenarios are the windows of the
    history up to that day, and the VIX spike signal (which brings layer 1 in early) is
    computed from those closes. Its cost assumptions are the backtest's (slippage as the
    half-spread, the commission as the fee per contract).
    """
    from alvh_cli.method.regime import Regime
    from alvh_cli.method.scenarios import History
    from alvh_cli.model.valuation import summarise

    # With the profit take off the engine gets profit_take = 0, which turns it off.
    engine_rules = replace(
        rules,
        profit_take=rules.profit_take if params.profit_take else 0.0,
        spx_half_spread=params.slippage_spx,
        vix_half_spread=params.slippage_vix,
        fee_per_contract=params.commission,
    )
    closes = History(
        np.array([d.toordinal() for d in days], dtype=np.int64), np.asarray(spx), vix, "backtest"
    )
    engine = check.Engine(closes, fallback=False)
    spikes = spike_flags(vix, rules.vix_spike_window, rules.vix_spike_pct)
    n = params.contracts
    trades = []
    for e in entries:
        t = _Trade(e, list(e.legs), e.credit, e.entry_cash, 4 * n * params.commission)
        for g, side in zip(e.legs, ("put", "put", "call", "call"), strict=True):
            t.kind[id(g)] = f"condor_{side}"
            t.by[f"condor_{side}"] += -g.entry_price * g.quantity * g.multiplier - (
                params.commission * abs(g.quantity)
            )
        trades.append(t)
    paths = [np.zeros(len(days)) for _ in entries]
    for i in range(len(days)):
        market = markets[i]
        live = [
            (k, t)
            for k, t in enumerate(trades)
            if t.entry.first < i <= t.entry.last and t.closed_at is None
        ]
        review = [(k, t) for k, t in live if i < t.entry.last]
        for k, t in [(k, t) for k, t in review if not t.managed]:
            prices = value_legs(market, t.legs).price if t.legs else []
            paths[k][i] = t.cash + float(
                sum(p * g.quantity * g.multiplier for g, p in zip(t.legs, prices, strict=True))
            )
        review = [(k, t) for k, t in review if t.managed]
        if review:
            regime = Regime(spike=bool(spikes[i]), note="backtest: VIX spike signal only")
            legs = [g for _, t in review for g in t.legs]
            values = value_legs(market, legs)
            start = 0
            for k, t in review:
                stop = start + len(t.legs)
                part = _slice_values(values, start, stop)
                start = stop
                position = Position(t.entry.id, tuple(t.legs), t.credit, t.entry.opened, "backtest")
                pv = summarise(position, market, engine_rules, part)
                advice = check.check_position(pv, regime, engine, figures=False)
                changed = False
                for rec in advice.recommendations:
                    changed |= _apply(t, rec, pv.mark_multiple, market, params, i)
                    if t.closed_at is not None:
                        break
                if t.closed_at is None:
                    prices = value_legs(market, t.legs).price if changed else part.price
                    paths[k][i] = t.cash + float(
                        sum(
                            p * g.quantity * g.multiplier
                            for g, p in zip(t.legs, prices, strict=True)
                        )
                    )
        for _, t in live:
            if i == t.entry.last:
                _settle(t, market, float(spx[i]), params)
    out = []
    for e, t, path in zip(entries, trades, paths, strict=True):
        qty = np.array([g.quantity for g in e.legs], dtype=float)
        path[e.first] = e.entry_cash + float(e.prices[0] @ qty) * 100.0
        path[e.first + t.closed_at :] = t.cash
        row = _row(e, t.closed_at, t.reason, t.exit_mark, t.cash, t.commissions, t)
        out.append((row, path))
    return out


def _slice_values(values, start: int, stop: int):
    sliced = {}
    for name, value in vars(values).items():
        sliced[name] = value[start:stop] if isinstance(value, (np.ndarray, tuple)) else value
    return type(values)(**sliced)


def _apply(t: _Trade, rec, mark: float, market: Market, params: BacktestParams, i: int) -> bool:
    """Fill one recommendation's trades; True when the legs changed."""
    from alvh_cli.method.actions import Action

    action = rec.action
    if action == Action.HOLD or not rec.trades:
        return False
    if action == Action.TAKE_PROFIT and not params.profit_take:
        return False
    day = market.asof.date().isoformat()
    t.counts[action.value] = t.counts.get(action.value, 0) + 1
    opened_cash = 0.0
    for tr in rec.trades:
        if tr.opening:
            opened_cash += _open_leg(t, tr, market, params, action)
        else:
            _close_leg(t, tr, params)
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
        for g in list(t.legs):  # anything left over (a hedge) goes with the condor
            price = float(value_legs(market, [g]).price[0])
            _close_at(t, g, -g.quantity, price, params)
    return True


def _describe(rec) -> str:
    legs = ", ".join(
        f"{'+' if tr.quantity > 0 else ''}{tr.quantity} {tr.leg.underlying} "
        f"{tr.leg.strike:g}{tr.leg.type[0].upper()} {tr.leg.expiry}"
        for tr in rec.trades
    )
    layer = f" L{rec.layer}" if rec.layer else ""
    return f"{rec.action.value}{layer}: {legs}"


def _open_leg(t: _Trade, tr, market: Market, params: BacktestParams, action) -> float:
    """Open ``tr`` at the model price with slippage; the cash it took (< 0 when paid)."""
    g = tr.leg
    price = fill_price(tr.model, tr.quantity, _slippage(g, params), True)
    leg = replace(g, quantity=tr.quantity, entry_price=price, entry_vix=market.vix, key="")
    if g.underlying == "VIX":
        kind = "vix"
    elif g.layer is None:  # a rolled vertical joins the condor
        kind = f"roll_{g.type}"
    else:
        kind = "synthetic_put" if _is_conversion(t, g) else "synthetic_call"
    t.kind[id(leg)] = kind
    fee = params.commission * abs(tr.quantity)
    amount = -price * tr.quantity * g.multiplier - fee
    t.legs.append(leg)
    t.commissions += fee
    t.book(leg, amount)
    return amount


def _is_conversion(t: _Trade, g: Leg) -> bool:
    """A synthetic at the short put's strike is a conversion (put side), else a reversal."""
    return g.strike == t.entry.legs[1].strike


def _close_leg(t: _Trade, tr, params: BacktestParams) -> None:
    held = next((g for g in t.legs if g is tr.leg), None)
    if held is None:  # the same contract held under another object (should not happen)
        raise AssertionError(f"closing a leg not held: {tr.leg}")  # pragma: no cover
    _close_at(t, held, tr.quantity, tr.model, params)


def _close_at(t: _Trade, held: Leg, quantity: int, model: float, params: BacktestParams):
    """Trade ``quantity`` (opposite sign to the holding) of ``held`` at the model price with
    slippage; the rest of the holding stays."""
    price = fill_price(model, -quantity, _slippage(held, params), False)
    fee = params.commission * abs(quantity)
    t.commissions += fee
    t.book(held, -price * quantity * held.multiplier - fee)
    left = held.quantity + quantity
    k = next(j for j, g in enumerate(t.legs) if g is held)
    if left == 0:
        del t.legs[k]
    else:
        rest = replace(held, quantity=left)
        t.kind[id(rest)] = t.kind[id(held)]
        t.legs[k] = rest


def _settle(t: _Trade, market: Market, spot: float, params: BacktestParams) -> None:
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
            _close_at(t, g, -g.quantity, float(p), params)
    t.legs = []
    t.closed_at = len(t.entry.life) - 1
    t.reason = "expiry"
    t.exit_mark = float(t.entry.marks[-1])
