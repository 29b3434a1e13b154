"""Markets from option chains: the SPX surface and quotes a chain gives a snapshot.

Option chains (:class:`~alvh_cli.model.chain.ChainSnapshot`) are fitted at a
market's ``asof`` (:func:`fit_chains`), and their fitted SPX expiries become
the snapshot's :class:`~alvh_cli.model.domain.SpxSurface`
(:func:`surface_from_fits`, evaluated by :mod:`alvh_cli.model.surface`):
either on top of a market file's snapshot (:func:`with_chains`, ``--chain``)
or as the whole day's snapshot (:func:`market_from_chains`, ``alvh market``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import numpy as np

from alvh_cli.errors import InputError, InputWarning
from alvh_cli.model import svi
from alvh_cli.model.chain import fit_chain
from alvh_cli.model.domain import (
    CARRY_BOUNDS,
    VOL_FLOOR,
    Market,
    Quote,
    Smile,
    SpxSurface,
    SviSlice,
)
from alvh_cli.model.timing import new_york_date, new_york_stamp, settlement_timestamp

__all__ = [
    "NEAR_MONTH_DAYS",
    "chain_warnings",
    "check_carry",
    "SPOT_TOLERANCE",
    "fit_chains",
    "market_from_chains",
    "near_month",
    "quadratic_smile",
    "surface_from_fits",
    "with_chains",
]

SPOT_TOLERANCE = 0.01
"""A chain whose SPX level is more than 1 % from the market's is refused: on one day the
two describe one market, and further apart one of the files is not that day's."""

NEAR_MONTH_DAYS = 30.0
"""The "near month": the fitted expiry nearest this many calendar days out gives
``alvh market`` its rate, dividend yield and fallback smile (VIX's own 30-day horizon,
and the tenor condors are traded at; a shorter expiry pins the rate poorly, since the
discount factor's error from tick rounding is divided by ``T``)."""

SMILE_SPAN = (-3.0, 2.0)
"""The quadratic fallback smile is fitted over ``k`` from −3 to +2 ATM standard
deviations ``σ_atm·sqrt(T)`` (deltas from about 0.1 % puts to 2.5 % calls): the strikes
condors and their wings use; a parabola cannot follow SVI's straight wings further."""

SMILE_POINTS = 61


# ------------------------------------------------------------------ building


def surface_from_fits(expiries, spot: float, source: str, unfitted=()) -> SpxSurface:
    """An SpxSurface from fitted SPX expiries (``alvh_cli.model.chain.ExpiryFit``).

    ``spot`` is the SPX level the parity forwards belong to. ``unfitted``
    (``UnfittedExpiry`` objects) is kept as (root, expiry, reason) for reports.
    """
    slices = tuple(
        SviSlice(
            expiry=e.expiry,
            root=e.root,
            a=e.smile.params.a,
            b=e.smile.params.b,
            rho=e.smile.params.rho,
            m=e.smile.params.m,
            sigma=e.smile.params.sigma,
            forward=e.forward,
            discount=e.discount,
            rms=e.smile.rms_vol_points,
            n_quotes=e.n_quotes,
            butterfly_free=e.smile.butterfly_free,
        )
        for e in sorted(expiries, key=lambda e: settlement_timestamp(e.root, e.expiry))
    )
    return SpxSurface(
        spot=float(spot),
        slices=slices,
        source=source,
        unfitted=tuple((u.root, u.expiry, u.reason) for u in unfitted),
    )


def fit_chains(chains: Sequence, asof: datetime, spot: float | None = None):
    """Fit every chain snapshot (``ChainSnapshot``) at ``asof``: their FittedChains, in order.

    Each chain with its own quote time must be of ``asof``'s New York day; two
    chains listing one expiry (root and date) of one underlying are refused:
    which file would price it is not for alvh to guess. ``spot`` (SPX, when the
    caller knows it) bounds the calls of a chain that gives no underlying price.
    """
    day = new_york_date(asof)
    seen: dict[tuple, str] = {}
    fitted = []
    for chain in chains:
        if chain.asof is not None and new_york_date(chain.asof) != day:
            raise InputError(
                f"quotes of {new_york_stamp(chain.asof)}, the market is as of "
                f"{new_york_stamp(asof)}: a chain must be from the snapshot's day",
                chain.source,
            )
        groups = set(
            zip(chain.underlying.tolist(), chain.root.tolist(), chain.expiry.tolist(), strict=True)
        )
        for u, root, expiry in sorted(groups):
            if (u, root, expiry) in seen:
                raise InputError(
                    f"{root} {expiry} is also in {seen[(u, root, expiry)]}: give each expiry once",
                    chain.source,
                )
            seen[(u, root, expiry)] = chain.source
        fitted.extend(fit_chain(chain, asof, spot))
    return fitted


def chain_warnings(fitted) -> list[InputWarning]:
    """The fitted chains' doubts about their quotes (``FittedChain.doubts``), as warnings
    naming each file and line."""
    out = []
    for f in fitted:
        for d in f.doubts:
            lines = ",".join(str(n) for n in d.lines)
            out.append(InputWarning(d.message, f"{f.source}:{lines}" if lines else f.source))
    return out


def check_carry(fitted, spot: float) -> None:
    """Refuse chains whose near-month SPX parity (:func:`near_month`) implies a rate or a
    dividend yield outside ``CARRY_BOUNDS`` at ``spot``: ``r = −ln(D)/T``,
    ``q = r − ln(F/S)/T``. The quotes disagree with any market then (every call 50
    points high reads as a dividend yield of −11 %). ``alvh market`` writes these two
    figures into its snapshot; ``--chain`` prices on the forwards they come from, so
    both refuse the same chains."""
    expiries = [e for f in fitted if f.underlying == "SPX" for e in f.expiries]
    if not expiries:
        return
    near = near_month(expiries)
    rate = near.rate
    div = rate - float(np.log(near.forward / spot)) / near.T
    low, high = CARRY_BOUNDS
    sources = ", ".join(dict.fromkeys(f.source for f in fitted if f.underlying == "SPX"))
    for name, value in (("rate", rate), ("dividend yield", div)):
        if not low <= value <= high:
            raise InputError(
                f"parity at {near.root} {near.expiry} implies a {name} of {value:.4f}, outside "
                f"{low:g}..{high:g}: check the chain's quotes",
                sources,
            )


def _spx_surface(fitted, spot: float, spot_given: bool, spx: float | None) -> SpxSurface | None:
    """The SPX surface of fitted chains, or None when they hold no SPX options.

    Refused: SPX quotes with no fitted expiry (the first reason said), and a
    chain spot more than ``SPOT_TOLERANCE`` from ``spx`` (when ``spx`` is given).
    """
    spx_chains = [f for f in fitted if f.underlying == "SPX"]
    if not spx_chains:
        return None
    expiries = [e for f in spx_chains for e in f.expiries]
    unfitted = sorted((u for f in spx_chains for u in f.unfitted), key=lambda u: (u.expiry, u.root))
    sources = ", ".join(dict.fromkeys(f.source for f in spx_chains))
    if not expiries:
        why = f": {unfitted[0].root} {unfitted[0].expiry} {unfitted[0].reason}" if unfitted else ""
        raise InputError(f"no SPX expiry could be fitted{why}", sources)
    if spx is not None and spot_given and abs(spot / spx - 1.0) > SPOT_TOLERANCE:
        raise InputError(
            f"the chain's SPX is {spot:.2f}, the market's {spx:.2f}: more than "
            f"{SPOT_TOLERANCE:.0%} apart, so they are not one day's market",
            sources,
        )
    return surface_from_fits(expiries, spot, sources, unfitted)


def _chain_spot(fitted, underlying: str) -> float | None:
    """The median underlying mid over the chains of ``underlying`` that give one, or None."""
    spots = [f.spot for f in fitted if f.underlying == underlying and f.spot is not None]
    return float(np.median(spots)) if spots else None


def _implied_spot(fitted, market: Market) -> float:
    """SPX implied by the nearest fitted expiry's forward and the market's carry:
    ``F·e^{−(r−q)T}`` (a generic chain gives no spot of its own)."""
    e = min((e for f in fitted if f.underlying == "SPX" for e in f.expiries), key=lambda e: e.T)
    return e.forward * float(np.exp(-(market.rate - market.dividend_yield) * e.T))


def with_chains(market: Market, chains: Sequence) -> Market:
    """``market`` with the SPX surface fitted to ``chains`` (``ChainSnapshot``) and their quotes.

    The chains are fitted at ``market.asof`` (:func:`fit_chains`). The
    surface's forwards belong to the chains' SPX mid where the files give
    one, else to the market's SPX. The chains' quotes replace the market's
    own quote of every contract they list; the market's others are kept. The
    market's flat-smile warning goes: the surface prices those legs now.
    Refused: a chain of another day, an SPX level more than
    ``SPOT_TOLERANCE`` from the market's (from the file's mid, or implied by
    the nearest forward and the market's carry), SPX quotes with no
    fittable expiry.
    """
    fitted = fit_chains(chains, market.asof, market.spx)
    spot = _chain_spot(fitted, "SPX")
    given = spot is not None
    if any(f.underlying == "SPX" and f.expiries for f in fitted) and not given:
        implied = _implied_spot(fitted, market)
        if abs(implied / market.spx - 1.0) > SPOT_TOLERANCE:
            sources = ", ".join(dict.fromkeys(f.source for f in fitted if f.underlying == "SPX"))
            raise InputError(
                f"the chain's nearest forward implies SPX {implied:.2f} at the market's rate "
                f"and dividend yield, the market says {market.spx:.2f}: more than "
                f"{SPOT_TOLERANCE:.0%} apart, so they are not one day's market",
                sources,
            )
    surface = _spx_surface(fitted, spot if given else market.spx, given, market.spx)
    check_carry(fitted, spot if given else market.spx)
    quotes = _merge_quotes(market.quotes, [q for f in fitted for q in f.quotes])
    warnings = market.warnings
    if surface is not None:  # the flat-smile warning: the surface prices those legs now
        warnings = tuple(w for w in warnings if getattr(w, "key", "") != "market.spx_vol")
    warnings = (*warnings, *chain_warnings(fitted))
    return replace(
        market, spx_surface=surface or market.spx_surface, quotes=quotes, warnings=warnings
    )


def _merge_quotes(own: tuple[Quote, ...], chain: list[Quote]) -> tuple[Quote, ...]:
    """The chain's quotes, after the market's own quotes of contracts the chain does not list.

    A quote of the market without a root stands for every root, so any chain
    quote of its contract replaces it.
    """
    if not own:
        return tuple(chain)
    listed: dict[tuple, set] = {}
    for q in chain:
        listed.setdefault((q.underlying, q.type, round(q.strike, 6), q.expiry), set()).add(q.root)
    kept = []
    for q in own:
        roots = listed.get((q.underlying, q.type, round(q.strike, 6), q.expiry))
        if roots is None or (q.root is not None and q.root not in roots):
            kept.append(q)
    return (*kept, *chain)


# ------------------------------------------------------------------ alvh market


def near_month(expiries):
    """The fitted expiry whose ``T`` is nearest ``NEAR_MONTH_DAYS`` (the earlier on a tie)."""
    target = NEAR_MONTH_DAYS / 365.0
    return min(expiries, key=lambda e: (abs(e.T - target), e.T))


def quadratic_smile(params: svi.SviParams, T: float) -> Smile:
    """The smile ``atm + skew·k + smile·k²`` nearest an SVI slice's vols.

    Unweighted least squares on ``SMILE_POINTS`` evenly spaced ``k`` from
    ``SMILE_SPAN[0]`` to ``SMILE_SPAN[1]`` ATM standard deviations
    ``σ_atm·sqrt(T)``, ``σ_atm`` the slice's vol at ``k = 0``.
    """
    atm = float(svi.svi_vol(params, 0.0, T))
    k = np.linspace(*SMILE_SPAN, SMILE_POINTS) * atm * np.sqrt(T)
    vol = svi.svi_vol(params, k, T)
    design = np.stack([np.ones_like(k), k, k * k], axis=1)
    c0, c1, c2 = np.linalg.lstsq(design, vol, rcond=None)[0]
    return Smile(atm=max(float(c0), VOL_FLOOR), skew=float(c1), smile=float(c2))


def _check_given_spx(fitted, spx: float, chain_spx: float | None, sources: str) -> None:
    """A given ``spx`` (:func:`market_from_chains`) against the chains it is to belong to,
    refused naming the parameter: more than ``SPOT_TOLERANCE`` from the chains' SPX mid;
    or, when they give none, outside the SPX their near-month parity allows at a dividend
    yield within ``CARRY_BOUNDS``: ``q = r − ln(F/S)/T`` in ``[low, high]`` is
    ``S`` in ``[F·e^{−(r−low)T}, F·e^{−(r−high)T}]`` (what :func:`check_carry` would
    otherwise refuse as the chain's dividend yield). A chain whose parity rate is itself
    out of bounds is the chain's fault: :func:`check_carry` says so."""
    if chain_spx is not None:
        if abs(chain_spx / spx - 1.0) > SPOT_TOLERANCE:
            raise InputError(
                f"{spx:g} is more than {SPOT_TOLERANCE:.0%} from the chain's SPX mid "
                f"{chain_spx:.2f} ({sources}): not that day's SPX — a typo?",
                option="spx",
            )
        return
    expiries = [e for f in fitted if f.underlying == "SPX" for e in f.expiries]
    if not expiries:
        return  # no SPX expiry fitted: _spx_surface says why
    near = near_month(expiries)
    low, high = CARRY_BOUNDS
    if not low <= near.rate <= high:
        return
    least = near.forward * float(np.exp(-(near.rate - low) * near.T))
    most = near.forward * float(np.exp(-(near.rate - high) * near.T))
    if least <= spx <= most:
        return
    raise InputError(
        f"{spx:g} is not the SPX of the chain's quotes ({sources}): parity at {near.root} "
        f"{near.expiry} (forward {near.forward:.2f}, rate {near.rate:.4f}) puts SPX between "
        f"{least:.2f} and {most:.2f}, for a dividend yield of {low:g} to {high:g} — a typo?",
        option="spx",
    )


def market_from_chains(
    chains: Sequence,
    *,
    asof: datetime,
    spx: float | None = None,
    vix: float | None = None,
    vix_futures=(),
    source: str = "",
) -> tuple[Market, dict]:
    """The day's market snapshot from option chains, and how its figures were derived.

    ``spx``: given, else the chains' SPX mid (required when they give none;
    a given level more than ``SPOT_TOLERANCE`` from the chains' mid, or outside what
    their parity allows, is refused naming ``spx``: :func:`_check_given_spx`; a nearer
    one moves every forward with it). ``vix``: given, else
    the VIX options' underlying mid (required when there is none). ``rate``
    and ``dividend_yield``: those of the near-month SPX expiry
    (:func:`near_month`), ``r = −ln(D)/T`` and ``q = r − ln(F/S)/T``, so the
    market's own ``S·e^{(r−q)T}`` and ``e^{−rT}`` reproduce that expiry's
    parity forward and discount. ``spx_vol``: :func:`quadratic_smile` of the
    near-month SVI; ``vix_vol`` likewise from the near-month VIX expiry when
    VIX options were fitted, else absent. The SPX surface (its forwards at
    ``spx``) and every quote of the chains. Returns the Market and notes for
    the file's header: ``spx_from``, ``vix_from``, ``near_month`` (an
    ExpiryFit) and ``vix_near_month`` (one, or None).
    """
    fitted = fit_chains(chains, asof, spx)
    sources = ", ".join(dict.fromkeys(c.source for c in chains))
    chain_spx = _chain_spot(fitted, "SPX")
    notes: dict = {"spx_from": "{flag:spx}", "vix_from": "{flag:vix}", "vix_near_month": None}
    if spx is not None:
        _check_given_spx(fitted, spx, chain_spx, sources)
    elif chain_spx is None:
        raise InputError("the chain gives no SPX level: give {flag:spx}", sources)
    else:
        spx, notes["spx_from"] = chain_spx, "the chain's SPX mid"
    if vix is None:
        vix = _chain_spot(fitted, "VIX")
        if vix is None:
            raise InputError(
                "the chain holds no VIX options with an underlying mid: give {flag:vix}", sources
            )
        notes["vix_from"] = "the VIX options' underlying mid"
    spot = chain_spx if chain_spx is not None else spx
    surface = _spx_surface(fitted, spot, chain_spx is not None, spx)
    if surface is None:
        raise InputError("no SPX options in the chain: the snapshot needs an SPX surface", sources)
    if spot != spx:
        surface = replace(
            surface,
            spot=float(spx),
            slices=tuple(replace(s, forward=s.forward * spx / spot) for s in surface.slices),
        )
    check_carry(fitted, spot)
    near = near_month([e for f in fitted if f.underlying == "SPX" for e in f.expiries])
    rate = near.rate
    div = rate - float(np.log(near.forward / spot)) / near.T
    notes["near_month"] = near
    notes["warnings"] = chain_warnings(fitted)
    vix_fits = [e for f in fitted if f.underlying == "VIX" for e in f.expiries]
    vix_vol = None
    if vix_fits:
        vix_near = notes["vix_near_month"] = near_month(vix_fits)
        vix_vol = quadratic_smile(vix_near.smile.params, vix_near.T)
    market = Market(
        asof=asof,
        spx=float(spx),
        vix=float(vix),
        rate=float(rate),
        dividend_yield=float(div),
        vix_futures=tuple(vix_futures),
        spx_vol=quadratic_smile(near.smile.params, near.T),
        vix_vol=vix_vol,
        quotes=tuple(q for f in fitted for q in f.quotes),
        source=source,
        spx_surface=surface,
    )
    return market, notes
