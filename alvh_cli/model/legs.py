"""Price and Greeks of every leg in a market snapshot, per unit (:mod:`alvh_cli.model.pricing`).

A leg's volatility is its ``iv``, else its quote's mid as an implied vol,
else the broker's ``mark`` of the snapshot's day (:func:`mark_day`) as an implied
vol, else the smile ``atm + skew·k + smile·k²`` in ``k = ln(K/F)`` — for SPX
options, when the market carries a fitted surface, the surface's SVI vol
instead. With a surface, every SPX option takes its forward and discount
factor from it (:mod:`alvh_cli.model.surface`): priced
``D·Black76(F, K, T, σ)``, as Black-Scholes-Merton on spot with the rate
and dividend yield that reproduce ``F`` and ``D``, so the Greeks stay in
the pricing units (delta per point of SPX spot).

:func:`value_legs` is the hot path: one ``bsm_greeks`` call for all SPX
options and one ``black76_greeks`` call for all VIX options.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from alvh_cli.errors import InputError
from alvh_cli.model import pricing
from alvh_cli.model.domain import Leg, Market, Quote
from alvh_cli.model.quotes import lookup_quote, quote_index
from alvh_cli.model.smile import carry_rates, smile_vol, spx_forward
from alvh_cli.model.timing import SECONDS_PER_YEAR, aware, new_york_date, settlement_timestamp
from alvh_cli.model.vix_curve import future_prices

_SPX_OPTION, _VIX_OPTION, _VIX_FUTURE = 0, 1, 2

_GREEKS = ("price", "delta", "gamma", "vega", "theta", "rho")


@dataclass(frozen=True)
class LegValues:
    """Per-leg arrays in the order of the legs given, per unit in the units of
    :mod:`alvh_cli.model.pricing` (price in points, delta per point, vega per vol point).

    ``T`` is negative for a leg past settlement (it is then priced at
    intrinsic). ``vol_source`` says where each vol came from: ``"iv"`` (the
    leg's own), ``"quote"`` (the quote's mid), ``"mark"`` (the broker's mark of the
    snapshot's day), ``"svi"`` (the market's fitted
    SPX surface), ``"smile"`` (the quadratic smile), ``"scenario"`` (vols
    passed in) or ``""`` for futures.

    ``smile_vol`` is what the reference smile alone gives — ``market.spx_vol``
    or ``market.vix_vol``, the smiles the stress and scenario engines move
    with VIX — so a caller can carry the residual ``vol − smile_vol`` into a
    scenario. For SPX it is taken at ``k = ln(K/(S·e^{(r−q)T}))`` with the
    market's ``rate`` and ``dividend_yield``, the moneyness those engines
    move the smile in, so an unmoved scenario gives back ``vol`` exactly.
    It stays the quadratic smile's value for a leg on the SVI surface: the
    residual then carries the surface's difference from the smile (its
    skew and term structure) into the scenarios. ``forward`` is the forward
    the leg is priced on (the surface's, where there is one).
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
    use_marks: bool = True,
) -> LegValues:
    """Price every leg and its Greeks in ``market`` (vectorised; see the module docstring).

    Long on purpose: it is the hot path, one pass that sorts the legs into the two
    models, resolves every vol (iv, quote, mark, surface, smile) as arrays and prices
    each model in one call; split into per-leg helpers it would loop in Python.

    ``vols`` (one per leg; ignored for futures) replaces the volatility of
    every option — the scenario module passes stressed vols this way.
    ``use_quotes=False`` skips quotes and marks (a stressed market's prices are stale);
    ``use_marks=False`` skips the broker's marks alone (what the model says without them).
    """
    n = len(legs)
    asof_ts = aware(market.asof).timestamp()
    asof_day = new_york_date(market.asof).toordinal()

    # one pass of plain Python per field: item assignment into numpy arrays costs more
    T = (
        np.fromiter((settlement_timestamp(g.root, g.expiry) for g in legs), float, n) - asof_ts
    ) / SECONDS_PER_YEAR
    days = np.fromiter((g.expiry.toordinal() for g in legs), int, n) - asof_day
    kind = np.fromiter(
        (
            _VIX_FUTURE
            if g.type == "future"
            else (_SPX_OPTION if g.underlying == "SPX" else _VIX_OPTION)
            for g in legs
        ),
        np.int8,
        n,
    )
    is_call = np.fromiter((g.type == "call" for g in legs), bool, n)
    strike = np.fromiter(
        (np.nan if g.type == "future" or g.strike is None else g.strike for g in legs), float, n
    )
    leg_iv = np.fromiter(
        (np.nan if g.type == "future" or g.iv is None else g.iv for g in legs), float, n
    )
    quantity = np.fromiter((g.quantity for g in legs), float, n)
    multiplier = np.fromiter((g.multiplier for g in legs), float, n)

    spx = kind == _SPX_OPTION
    vix_opt = kind == _VIX_OPTION
    fut = kind == _VIX_FUTURE
    option = ~fut
    on_vix = ~spx
    tau = np.maximum(T, 0.0)  # past settlement: pricing's T → 0 limit, intrinsic

    surface = market.spx_surface
    forward = np.empty(n)
    model_forward = spx_forward(market, tau[spx])  # S·e^((r−q)T): the reference smile's
    rate = np.full(n, market.rate)  # per leg: the surface's rates differ by expiry
    dividend = np.full(n, market.dividend_yield)
    if surface is None:
        forward[spx] = model_forward
    else:
        from alvh_cli.model.surface import spx_carry_rates, spx_forward_discount

        forward[spx] = spx_forward_discount(market, tau[spx])[0]
        rate[spx], dividend[spx] = spx_carry_rates(market, tau[spx])
    if on_vix.any():
        forward[on_vix] = future_prices(market, [legs[i].expiry for i in np.flatnonzero(on_vix)])
    underlying = np.where(spx, market.spx, forward)

    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.log(strike / forward)
        k_model = np.log(strike[spx] / model_forward)
    base_vol = np.full(n, np.nan)
    base_vol[spx] = smile_vol(market.spx_vol, k_model, tau[spx])
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
            quoted = _quote_vols(
                market, legs, wanted, spx, is_call, strike, forward, tau, rate, dividend
            )
            found = np.isfinite(quoted)
            vol[found] = quoted[found]
            source[found] = "quote"
        if use_quotes and use_marks:
            marks = _marks_of_the_day(legs, option & np.isnan(vol), new_york_date(market.asof))
            if marks is not None:
                wanted = ~np.isnan(marks)
                implied = _implied_vols(
                    market, marks, wanted, spx, is_call, strike, forward, tau, rate, dividend
                )
                found = np.isfinite(implied)
                vol[found] = implied[found]
                source[found] = "mark"
        from_smile = option & np.isnan(vol)
        if (from_smile & vix_opt).any() and market.vix_vol is None:
            raise InputError(
                "no VIX smile to price a VIX option: add [market.vix_vol] or an iv/quote",
                source=market.source,
                key="market.vix_vol",
            )
        vol[from_smile] = base_vol[from_smile]
        source[from_smile] = "smile"
        on_surface = from_smile & spx if surface is not None else np.zeros(n, dtype=bool)
        if on_surface.any():
            from alvh_cli.model.surface import surface_vol

            vol[on_surface] = surface_vol(market, k[on_surface], tau[on_surface])
            source[on_surface] = "svi"

    greeks = {name: np.zeros(n) for name in _GREEKS}
    if spx.any():
        g = pricing.bsm_greeks(
            is_call[spx],
            market.spx,
            strike[spx],
            tau[spx],
            rate[spx],
            dividend[spx],
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


# Implied vols of quote mids, per market snapshot: (market, {(id(quote), root): vol}).
# Keyed by identity, as quotes.quote_index is (hashing a Market hashes every quote); the
# market is kept alive beside its cache so its id stays its own.
_QUOTE_VOLS: dict[int, tuple[Market, dict[tuple[int, str], float]]] = {}


def _quote_vol_cache(market: Market) -> dict[tuple[int, str], float]:
    hit = _QUOTE_VOLS.get(id(market))
    if hit is not None and hit[0] is market:
        return hit[1]
    if len(_QUOTE_VOLS) >= 16:
        _QUOTE_VOLS.clear()
    cache: dict[tuple[int, str], float] = {}
    _QUOTE_VOLS[id(market)] = (market, cache)
    return cache


def quote_vols(market: Market) -> dict[tuple[int, str], float]:
    """The implied vols of ``market``'s quote mids inverted so far in this process, by (the
    quote's index in ``market.quotes``, root): for another process pricing the same
    snapshot (:func:`seed_quote_vols`). A vol is inverted under the normal distribution in
    use at the time (``pricing.use_normal``), so a process that inverted it anew could
    differ in its last bits; given these, it prices with the very same vols."""
    hit = _QUOTE_VOLS.get(id(market))
    if hit is None or hit[0] is not market:
        return {}
    where = {id(q): i for i, q in enumerate(market.quotes)}
    return {(where[q], root): v for (q, root), v in hit[1].items() if q in where}


def seed_quote_vols(market: Market, vols: dict[tuple[int, str], float]) -> None:
    """Take the vols :func:`quote_vols` gave (of a copy of ``market``) as this process's own
    for ``market``, before any of them is inverted here."""
    cache = _quote_vol_cache(market)
    for (i, root), v in vols.items():
        cache.setdefault((id(market.quotes[i]), root), v)


def _quote_vols(
    market, legs, wanted, spx, is_call, strike, forward, tau, rate, dividend
) -> np.ndarray:
    """The implied vol of each ``wanted`` leg's quote mid; NaN when unquoted or unfit.

    A quote's vol depends on the market and, through the settlement time, on the
    leg's root, so it is inverted once per market and root and cached
    (``_QUOTE_VOLS``): a check values the same quoted contracts for every position
    and candidate. What is not cached yet is inverted in one ``implied_vol`` call
    for the SPX legs and one ``implied_vol_black76`` for the VIX legs. A mid no
    volatility reproduces stays NaN (the smile takes over;
    ``inputs.market_warnings.unusable_quotes`` says why).
    """
    index = quote_index(market.quotes)
    cache = _quote_vol_cache(market)
    n = len(legs)
    iv = np.full(n, np.nan)
    mid = np.full(n, np.nan)
    keys: list[tuple[int, tuple[int, str]]] = []
    for i in np.flatnonzero(wanted):
        leg = legs[i]
        quote = lookup_quote(index, leg.underlying, leg.type, leg.strike, leg.expiry, leg.root)
        if quote is None:
            continue
        key = (id(quote), leg.root)
        hit = cache.get(key)
        if hit is not None:
            iv[i] = hit
        else:
            mid[i] = quote.mid
            keys.append((i, key))
    if not keys:
        return iv
    todo = ~np.isnan(mid)
    iv[todo] = _implied_vols(market, mid, todo, spx, is_call, strike, forward, tau, rate, dividend)[
        todo
    ]
    for i, key in keys:
        cache[key] = float(iv[i])
    return iv


def _implied_vols(
    market, price, todo, spx, is_call, strike, forward, tau, rate, dividend
) -> np.ndarray:
    """The implied vol of ``price`` (points per contract) for each ``todo`` leg, NaN
    elsewhere and where no volatility reproduces it: one ``implied_vol`` call for the SPX
    legs (on spot, with each leg's carry) and one ``implied_vol_black76`` for the VIX legs
    (on their future)."""
    iv = np.full(len(price), np.nan)
    on_spx = todo & spx
    if on_spx.any():
        iv[on_spx] = pricing.implied_vol(
            price[on_spx],
            is_call[on_spx],
            market.spx,
            strike[on_spx],
            tau[on_spx],
            rate[on_spx],
            dividend[on_spx],
        )
    on_vix = todo & ~spx
    if on_vix.any():
        iv[on_vix] = pricing.implied_vol_black76(
            price[on_vix], is_call[on_vix], forward[on_vix], strike[on_vix], tau[on_vix],
            market.rate,
        )  # fmt: skip
    return iv


def mark_day(leg: Leg) -> date | None:
    """The New York day of the broker's mark of ``leg``; None without a mark or its time.

    A mark prices its leg only on the market snapshot's day (:func:`value_legs`): a
    mark of another day belongs to another market, and one without a time to none
    (``alvh_cli.model.marks`` says which marks did not price their leg, and why)."""
    if leg.mark is None or leg.mark_time is None:
        return None
    return new_york_date(leg.mark_time)


def _marks_of_the_day(legs: Sequence[Leg], wanted: np.ndarray, day: date) -> np.ndarray | None:
    """Each ``wanted`` leg's mark when it is of ``day`` (NaN for the others); None when no
    leg has one (the path of every file without marks: one pass, no array)."""
    if not any(g.mark is not None for g in legs):
        return None
    return np.fromiter(
        (g.mark if w and mark_day(g) == day else np.nan for g, w in zip(legs, wanted, strict=True)),
        float,
        len(legs),
    )


@dataclass(frozen=True)
class QuoteProblem:
    """A quote that would price a leg but from which no volatility can be implied.

    ``reason`` is a code of :data:`alvh_cli.model.pricing.NO_VOL_REASONS`;
    ``bound`` the value the mid fails against, in points: the discounted
    intrinsic value (``below_intrinsic``, ``at_intrinsic``) or the upper bound
    (``above_bound``: the discounted forward for a call, strike for a put), else NaN.
    """

    quote: Quote
    root: str
    reason: str
    bound: float


def quote_problems(market: Market, legs: Sequence[Leg]) -> list[QuoteProblem]:
    """The quotes of ``market`` that :func:`value_legs` would use for ``legs`` (options
    without an ``iv`` of their own) and must replace by the smile because no volatility
    reproduces their mid; one per quote and root, in the order of ``market.quotes``.

    The same inputs as the valuation (settlement time by root; for SPX the market's
    carry, or the fitted surface's per expiry when there is one; the VIX future of
    the expiry); legs past settlement are left out (they are worth their intrinsic
    value whatever the vol), and so are VIX legs whose expiry has no future to
    price them (the valuation reports those as errors).
    """
    if not market.quotes:
        return []
    index = quote_index(market.quotes)
    found: dict[tuple[int, str], tuple[Quote, str]] = {}
    for g in legs:
        if g.type == "future" or g.iv is not None:
            continue
        q = lookup_quote(index, g.underlying, g.type, g.strike, g.expiry, g.root)
        if q is not None:
            found.setdefault((id(q), g.root), (q, g.root))
    asof = aware(market.asof).timestamp()
    items = []
    for q, root in found.values():
        T = (settlement_timestamp(root, q.expiry) - asof) / SECONDS_PER_YEAR
        if T <= 0:
            continue
        if q.underlying == "SPX":
            forward = np.nan  # from the carry below
        else:
            try:
                forward = float(future_prices(market, [q.expiry])[0])
            except InputError:
                continue
        items.append((q, root, T, forward))
    if not items:
        return []
    mid = np.array([q.mid for q, *_ in items])
    is_call = np.array([q.type == "call" for q, *_ in items])
    strike = np.array([float(q.strike) for q, *_ in items])
    T = np.array([t for *_, t, _ in items])
    fwd = np.array([f for *_, f in items])
    spx = np.array([q.underlying == "SPX" for q, *_ in items])
    rate, dividend = carry_rates(market, T)  # the market's own without a surface
    rate = np.where(spx, rate, market.rate)
    fwd = np.where(spx, market.spx * np.exp((rate - dividend) * T), fwd)
    reason = np.where(
        spx,
        pricing.implied_vol_reason(mid, is_call, market.spx, strike, T, rate, dividend),
        pricing.implied_vol_black76_reason(mid, is_call, fwd, strike, T, market.rate),
    )
    df = np.exp(-rate * T)
    intrinsic = df * np.maximum(np.where(is_call, fwd - strike, strike - fwd), 0.0)
    upper = df * np.where(is_call, fwd, strike)
    order = {id(q): i for i, q in enumerate(market.quotes)}
    out = []
    for k, (q, root, _, _) in enumerate(items):
        code = str(reason[k])
        if not code:
            continue
        bound = (
            intrinsic[k]
            if code in ("below_intrinsic", "at_intrinsic")
            else upper[k]
            if code == "above_bound"
            else np.nan
        )
        out.append((order[id(q)], QuoteProblem(q, root, code, float(bound))))
    return [p for _, p in sorted(out, key=lambda item: item[0])]
