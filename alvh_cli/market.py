"""The market a position is valued in: time, the exchange calendar, the VIX curve, smiles, quotes.

Everything here is a pure function of a :class:`~alvh_cli.model.domain.Market`
snapshot and the legs (DESIGN §3):

- time to expiry is ACT/365 in fractional days from ``asof`` to the settlement
  instant (09:30 New York for AM-settled SPX monthlies and VIX, 16:00 for
  SPXW), computed on UTC instants so a DST change costs or gains its hour;
- the calendar is the NYSE holiday list from the ``holidays`` package (Cboe
  follows NYSE holidays);
- VIX futures not listed in the snapshot are interpolated linearly in calendar
  days between the listed ones, never extrapolated;
- a leg's volatility is its ``iv``, else its quote's mid as an implied vol,
  else the smile ``atm + skew·k + smile·k²`` in ``k = ln(K/F)``.

:func:`value_legs` is the hot path: one ``bsm_greeks`` call for all SPX
options and one ``black76_greeks`` call for all VIX options.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from alvh_cli.errors import InputError
from alvh_cli.model import pricing
from alvh_cli.model.domain import VOL_FLOOR, Leg, Market, PositionFile, Quote, Smile
from alvh_cli.model.exchange import is_business_day, previous_business_day

NEW_YORK = ZoneInfo("America/New_York")
SECONDS_PER_YEAR = 365.0 * 86400.0

AM_SETTLEMENT = time(9, 30)  # SPX monthly (SET) and VIX (SOQ): the opening print
PM_SETTLEMENT = time(16, 0)  # SPXW: the close
_SETTLEMENT_TIME = {
    "SPX": AM_SETTLEMENT,
    "VIX": AM_SETTLEMENT,
    "VIXW": AM_SETTLEMENT,
    "SPXW": PM_SETTLEMENT,
}

_SPX_OPTION, _VIX_OPTION, _VIX_FUTURE = 0, 1, 2


# --------------------------------------------------------------------------- time


def settlement_instant(root: str, expiry: date) -> datetime:
    """When a contract settles, as an aware New York datetime.

    "SPX" (AM monthly), "VIX" and "VIXW" settle at the 09:30 open of the
    expiry date; "SPXW" at the 16:00 close.
    """
    try:
        at = _SETTLEMENT_TIME[root]
    except KeyError:
        known = sorted(_SETTLEMENT_TIME)
        raise ValueError(f"unknown root {root!r}: expected one of {known}") from None
    return datetime.combine(expiry, at, tzinfo=NEW_YORK)


@functools.lru_cache(maxsize=4096)
def _settlement_timestamp(root: str, expiry: date) -> float:
    return settlement_instant(root, expiry).timestamp()


def _aware(moment: datetime) -> datetime:
    """``moment`` itself, or read as New York wall time when it has no offset (DESIGN §2)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=NEW_YORK)


def year_fraction(asof: datetime, instant: datetime) -> float:
    """ACT/365 years from ``asof`` to ``instant``: elapsed seconds / (365·86400).

    Computed on POSIX timestamps (UTC), so the hour lost or gained at a DST
    change is counted. (Subtracting two datetimes that share a tzinfo would
    compare wall clocks and miss it.) Negative once ``instant`` has passed.
    """
    return (_aware(instant).timestamp() - _aware(asof).timestamp()) / SECONDS_PER_YEAR


def dte(asof: datetime, expiry: date) -> int:
    """Calendar days from ``asof``'s New York date to ``expiry`` (what a trader calls DTE)."""
    return (expiry - _aware(asof).astimezone(NEW_YORK).date()).days


# ----------------------------------------------------------------------- calendar


def third_friday(year: int, month: int) -> date:
    """The third Friday of the month (the standard monthly expiration day)."""
    first = date(year, month, 1)
    return first + timedelta(days=(calendar.FRIDAY - first.weekday()) % 7 + 14)


def spx_monthly_expiration(year: int, month: int) -> date:
    """Standard SPX expiration: the third Friday, or the business day before it on a holiday."""
    friday = third_friday(year, month)
    return friday if is_business_day(friday) else previous_business_day(friday)


def vix_expiration(year: int, month: int) -> date:
    """Final settlement date of the VIX futures/options contract month (``year``, ``month``).

    The Wednesday 30 days before the third Friday of the following calendar
    month; when that Friday is a holiday, 30 days before the business day
    preceding it; when the resulting day is a holiday, the business day
    before it (Cboe VX contract specifications).
    """
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    friday = third_friday(year, month)
    if not is_business_day(friday):
        friday = previous_business_day(friday)
    settle = friday - timedelta(days=30)
    return settle if is_business_day(settle) else previous_business_day(settle)


def _months(year: int, month: int) -> Iterable[tuple[int, int]]:
    while True:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _month_before(d: date) -> tuple[int, int]:
    return (d.year - 1, 12) if d.month == 1 else (d.year, d.month - 1)


def vix_expirations(start: date, end: date) -> list[date]:
    """Monthly VIX expirations in ``[start, end]``, ascending."""
    found = []
    # A contract month's expiry falls in that month; start a month early to be safe.
    for year, month in _months(*_month_before(start)):
        expiry = vix_expiration(year, month)
        if expiry > end:
            return found
        if expiry >= start:
            found.append(expiry)
    raise AssertionError("unreachable")  # pragma: no cover


def next_vix_expiration(on_or_after: date) -> date:
    """The first monthly VIX expiration on or after ``on_or_after``."""
    for year, month in _months(*_month_before(on_or_after)):
        expiry = vix_expiration(year, month)
        if expiry >= on_or_after:
            return expiry
    raise AssertionError("unreachable")  # pragma: no cover


# -------------------------------------------------------------------- VIX curve


def future_prices(market: Market, expiries: Sequence[date]) -> np.ndarray:
    """VIX futures prices for ``expiries``: exact where listed, else linear in calendar days.

    An expiry outside the listed range (or any expiry when none is listed) is
    an input error naming it and ``market.vix_futures``.
    """
    days = np.fromiter((d.toordinal() for d in expiries), dtype=float, count=len(expiries))
    curve = sorted(market.vix_futures, key=lambda p: p.expiry)
    if not curve:
        if len(expiries):
            raise _missing_future(market, expiries[0], "market.vix_futures is empty")
        return days
    listed = np.array([p.expiry.toordinal() for p in curve], dtype=float)
    outside = (days < listed[0]) | (days > listed[-1])
    if outside.any():
        missing = expiries[int(np.argmax(outside))]
        if len(curve) == 1:
            have = f"the only listed expiry is {curve[0].expiry}"
        else:
            have = f"listed expiries run {curve[0].expiry} to {curve[-1].expiry}"
        raise _missing_future(market, missing, have)
    return np.interp(days, listed, [p.price for p in curve])


def future_price(market: Market, expiry: date) -> float:
    """The VIX future for ``expiry`` (see :func:`future_prices`)."""
    return float(future_prices(market, [expiry])[0])


def _missing_future(market: Market, expiry: date, have: str) -> InputError:
    return InputError(
        f"no VIX future at or around {expiry}: {have}; add it to market.vix_futures",
        source=market.source,
        key="market.vix_futures",
    )


# ------------------------------------------------------------------------ smile


def smile_vol(smile: Smile, k) -> np.ndarray:
    """Implied vol from the smile at log-moneyness ``k = ln(K/F)``, floored at ``VOL_FLOOR``."""
    k = np.asarray(k, dtype=float)
    return np.maximum(smile.atm + smile.skew * k + smile.smile * k * k, VOL_FLOOR)


def spx_forward(market: Market, T) -> np.ndarray:
    """SPX forward ``S·e^((r−q)T)`` for ``T`` years (negative ``T`` is treated as 0)."""
    T = np.maximum(np.asarray(T, dtype=float), 0.0)
    return market.spx * np.exp((market.rate - market.dividend_yield) * T)


# ----------------------------------------------------------------------- quotes


_INDEXES: dict[int, tuple[tuple[Quote, ...], dict]] = {}


def _quote_index(quotes: tuple[Quote, ...]) -> dict[tuple, list[Quote]]:
    """Quotes by contract, built once per quotes tuple. Keyed by identity: hashing the
    tuple (every frozen Quote) on each lookup cost more than the lookups themselves."""
    hit = _INDEXES.get(id(quotes))
    if hit is not None and hit[0] is quotes:
        return hit[1]
    index: dict[tuple, list[Quote]] = {}
    for q in quotes:
        index.setdefault((q.underlying, q.type, _strike_key(q.strike), q.expiry), []).append(q)
    if len(_INDEXES) >= 16:
        _INDEXES.clear()
    _INDEXES[id(quotes)] = (quotes, index)  # keeps the tuple alive, so the id stays its own
    return index


def _strike_key(strike: float) -> float:
    return round(float(strike), 6)


def find_quote(
    market: Market,
    leg_or_underlying: Leg | str,
    type: str | None = None,
    strike: float | None = None,
    expiry: date | None = None,
    root: str | None = None,
) -> Quote | None:
    """The quote for a contract, or None.

    Call as ``find_quote(market, leg)`` or
    ``find_quote(market, "SPX", "put", 5400, date(2026, 12, 18), root="SPXW")``.
    Underlying, type, strike and expiry must match; a quote that names a root
    must match the contract's root (a quote without one matches any root), and
    a quote naming the exact root is preferred.
    """
    if isinstance(leg_or_underlying, Leg):
        leg = leg_or_underlying
        underlying, type, strike, expiry, root = (
            leg.underlying,
            leg.type,
            leg.strike,
            leg.expiry,
            leg.root,
        )
    else:
        underlying = leg_or_underlying
    if not market.quotes:
        return None
    return _lookup(_quote_index(market.quotes), underlying, type, strike, expiry, root)


def _lookup(index, underlying, type, strike, expiry, root) -> Quote | None:
    if strike is None or type not in ("put", "call"):
        return None
    candidates = index.get((underlying, type, _strike_key(strike), expiry))
    if not candidates:
        return None
    if root is None:
        return candidates[0]
    fallback = None
    for q in candidates:
        if q.root == root:
            return q
        if q.root is None and fallback is None:
            fallback = q
    return fallback


def natural_price(
    market: Market,
    underlying: str,
    type: str,
    strike: float,
    expiry: date,
    side: str,
    root: str | None = None,
) -> float | None:
    """The natural price: the ask to ``"buy"``, the bid to ``"sell"``; None when unquoted."""
    if side not in ("buy", "sell"):
        raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")
    quote = find_quote(market, underlying, type, strike, expiry, root)
    if quote is None:
        return None
    return quote.ask if side == "buy" else quote.bid


# -------------------------------------------------------------------- valuation

_GREEKS = ("price", "delta", "gamma", "vega", "theta", "rho")


@dataclass(frozen=True)
class LegValues:
    """Per-leg arrays in the order of the legs given. Units DESIGN §3 (per unit).

    ``T`` is negative for a leg past settlement (it is then priced at
    intrinsic). ``vol_source`` says where each vol came from: ``"iv"`` (the
    leg's own), ``"quote"`` (the quote's mid), ``"smile"``, ``"scenario"``
    (vols passed in) or ``""`` for futures. ``smile_vol`` is what the smile
    alone gives, so a caller can carry ``vol − smile_vol`` into a scenario.
    """

    T: np.ndarray  # years to settlement
    dte: np.ndarray  # calendar days (int)
    underlying: np.ndarray  # S for SPX options, the VIX future F for VIX options and futures
    forward: np.ndarray  # F (SPX forward, or VIX future)
    vol: np.ndarray  # NaN for futures
    vol_source: tuple[str, ...]
    smile_vol: np.ndarray  # NaN for futures and for VIX options when there is no VIX smile
    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
    rho: np.ndarray
    quantity: np.ndarray  # signed contracts (float)
    multiplier: np.ndarray  # 100 SPX, 100 VIX options, 1000 VIX futures

    def dollars(self, name: str) -> np.ndarray:
        """A per-unit figure as position dollars: ``figure × quantity × multiplier``."""
        if name not in _GREEKS:
            raise ValueError(f"dollars() takes one of {_GREEKS}, got {name!r}")
        return getattr(self, name) * self.quantity * self.multiplier


def value_legs(
    market: Market,
    legs: Sequence[Leg],
    *,
    vols: np.ndarray | None = None,
    use_quotes: bool = True,
) -> LegValues:
    """Price every leg and its Greeks in ``market`` (vectorised; see the module docstring).

    ``vols`` (one per leg; ignored for futures) replaces the volatility of
    every option — the scenario module passes stressed vols this way.
    ``use_quotes=False`` skips quotes (a stressed market's quotes are stale).
    """
    n = len(legs)
    asof_ts = _aware(market.asof).timestamp()
    asof_day = _aware(market.asof).astimezone(NEW_YORK).date().toordinal()

    T = np.empty(n)
    days = np.empty(n, dtype=int)
    kind = np.empty(n, dtype=np.int8)
    is_call = np.zeros(n, dtype=bool)
    strike = np.full(n, np.nan)
    leg_iv = np.full(n, np.nan)
    quantity = np.empty(n)
    multiplier = np.empty(n)
    for i, leg in enumerate(legs):
        T[i] = (_settlement_timestamp(leg.root, leg.expiry) - asof_ts) / SECONDS_PER_YEAR
        days[i] = leg.expiry.toordinal() - asof_day
        if leg.type == "future":
            kind[i] = _VIX_FUTURE
        else:
            kind[i] = _SPX_OPTION if leg.underlying == "SPX" else _VIX_OPTION
            is_call[i] = leg.type == "call"
            strike[i] = leg.strike
            if leg.iv is not None:
                leg_iv[i] = leg.iv
        quantity[i] = leg.quantity
        multiplier[i] = leg.multiplier

    spx = kind == _SPX_OPTION
    vix_opt = kind == _VIX_OPTION
    fut = kind == _VIX_FUTURE
    option = ~fut
    on_vix = ~spx
    tau = np.maximum(T, 0.0)  # past settlement: pricing's T → 0 limit, intrinsic

    forward = np.empty(n)
    forward[spx] = spx_forward(market, tau[spx])
    if on_vix.any():
        forward[on_vix] = future_prices(market, [legs[i].expiry for i in np.flatnonzero(on_vix)])
    underlying = np.where(spx, market.spx, forward)

    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.log(strike / forward)
    base_vol = np.full(n, np.nan)
    base_vol[spx] = smile_vol(market.spx_vol, k[spx])
    if market.vix_vol is not None:
        base_vol[vix_opt] = smile_vol(market.vix_vol, k[vix_opt])

    source = np.full(n, "", dtype=object)
    if vols is not None:
        vol = np.array(vols, dtype=float, copy=True).reshape(n)
        vol[fut] = np.nan
        source[option] = "scenario"
    else:
        vol = leg_iv
        source[option & ~np.isnan(vol)] = "iv"
        if use_quotes and market.quotes:
            wanted = option & np.isnan(vol)
            quoted = _quote_vols(market, legs, wanted, spx, is_call, strike, forward, tau)
            found = np.isfinite(quoted)
            vol[found] = quoted[found]
            source[found] = "quote"
        from_smile = option & np.isnan(vol)
        if (from_smile & vix_opt).any() and market.vix_vol is None:
            raise InputError(
                "no VIX smile to price a VIX option: add [market.vix_vol] or an iv/quote",
                source=market.source,
                key="market.vix_vol",
            )
        vol[from_smile] = base_vol[from_smile]
        source[from_smile] = "smile"

    greeks = {name: np.zeros(n) for name in _GREEKS}
    if spx.any():
        g = pricing.bsm_greeks(
            is_call[spx],
            market.spx,
            strike[spx],
            tau[spx],
            market.rate,
            market.dividend_yield,
            vol[spx],
        )
        for name in _GREEKS:
            greeks[name][spx] = getattr(g, name)
    if vix_opt.any():
        g = pricing.black76_greeks(
            is_call[vix_opt],
            forward[vix_opt],
            strike[vix_opt],
            tau[vix_opt],
            market.rate,
            vol[vix_opt],
        )
        for name in _GREEKS:
            greeks[name][vix_opt] = getattr(g, name)
    # A VIX future is worth its price; delta 1 per point of itself, no other Greeks.
    greeks["price"][fut] = forward[fut]
    greeks["delta"][fut] = 1.0

    return LegValues(
        T=T,
        dte=days,
        underlying=underlying,
        forward=forward,
        vol=vol,
        vol_source=tuple(source.tolist()),
        smile_vol=base_vol,
        quantity=quantity,
        multiplier=multiplier,
        **greeks,
    )


def _quote_vols(market, legs, wanted, spx, is_call, strike, forward, tau) -> np.ndarray:
    """The implied vol of each ``wanted`` leg's quote mid; NaN when unquoted or unfit.

    One ``implied_vol`` call for the SPX legs, one ``implied_vol_black76`` for
    the VIX legs. A mid no volatility reproduces stays NaN (the smile takes over).
    """
    index = _quote_index(market.quotes)
    mid = np.full(len(legs), np.nan)
    for i in np.flatnonzero(wanted):
        leg = legs[i]
        quote = _lookup(index, leg.underlying, leg.type, leg.strike, leg.expiry, leg.root)
        if quote is not None:
            mid[i] = quote.mid
    quoted = ~np.isnan(mid)
    iv = np.full(len(legs), np.nan)
    on_spx = quoted & spx
    if on_spx.any():
        iv[on_spx] = pricing.implied_vol(
            mid[on_spx],
            is_call[on_spx],
            market.spx,
            strike[on_spx],
            tau[on_spx],
            market.rate,
            market.dividend_yield,
        )
    on_vix = quoted & ~spx
    if on_vix.any():
        iv[on_vix] = pricing.implied_vol_black76(
            mid[on_vix], is_call[on_vix], forward[on_vix], strike[on_vix], tau[on_vix], market.rate
        )
    return iv


# ---------------------------------------------------------------------- expiries


def check_expiries(position_file: PositionFile, market: Market, allow_expired: bool) -> None:
    """Reject a position opened after ``market.asof``, and any leg settled at or before
    it unless ``allow_expired``.

    The error names the file and the key, e.g.
    ``book/dec.toml: positions[0].legs[2].expiry: expired 2026-11-20 09:30 EST
    before asof 2026-11-24 15:45 EST (position 'dec-ic'; use --allow-expired)``.
    """
    asof = _aware(market.asof)
    asof_ts = asof.timestamp()
    today = asof.astimezone(NEW_YORK).date()
    for position in position_file.positions:
        if position.opened is not None and position.opened > today:
            raise InputError(
                f"opened {position.opened} is after asof {_stamp(asof.astimezone(NEW_YORK))} "
                f"(position {position.id!r})",
                source=position_file.path,
                key=f"{position.key}.opened" if position.key else "opened",
            )
        if allow_expired:
            continue
        for leg in position.legs:
            if _settlement_timestamp(leg.root, leg.expiry) <= asof_ts:
                settled = settlement_instant(leg.root, leg.expiry)
                key = f"{leg.key}.expiry" if leg.key else "expiry"
                raise InputError(
                    f"expired {_stamp(settled)} before asof "
                    f"{_stamp(asof.astimezone(NEW_YORK))} "
                    f"(position {position.id!r}; use --allow-expired)",
                    source=position_file.path,
                    key=key,
                )


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z")


__all__ = [
    "AM_SETTLEMENT",
    "NEW_YORK",
    "PM_SETTLEMENT",
    "SECONDS_PER_YEAR",
    "LegValues",
    "check_expiries",
    "dte",
    "find_quote",
    "future_price",
    "future_prices",
    "is_business_day",
    "natural_price",
    "next_vix_expiration",
    "previous_business_day",
    "settlement_instant",
    "smile_vol",
    "spx_forward",
    "spx_monthly_expiration",
    "third_friday",
    "value_legs",
    "vix_expiration",
    "vix_expirations",
    "year_fraction",
]
