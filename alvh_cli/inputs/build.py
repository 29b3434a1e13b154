"""Loading, stage 3: the domain types from checked tables, and where each sits in its file.

The tables come from ``validate.py``, every leg and quote already in one form
(underlying, root, type, strike, expiry filled in), so building cannot fail:
whether the values make sense together is ``sanity.py``'s, and it needs to
know where each value was written to name it. That is the :class:`Layout`
built beside the objects.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from alvh_cli.errors import InputError
from alvh_cli.model.domain import (
    FuturePoint,
    Leg,
    Market,
    Position,
    PositionFile,
    Quote,
    Smile,
    SpxSurface,
    SviSlice,
    opening_trade,
)
from alvh_cli.model.timing import resolve_asof, settlement_timestamp


@dataclass(frozen=True)
class Layout:
    """How a file wrote what its objects hold, for the messages of the checks after building.

    ``by_occ``: the keys of the legs and quotes written as an OSI symbol
    (``positions[0].legs[2]``, ``market.quotes[1]``: their strike and expiry
    are named ``occ``); ``credit_given``: the keys of the positions whose
    credit the file gives (``positions[0]``; the others take the condor legs'
    net entry premium); ``futures`` and ``slices``: the VIX futures and SVI
    slices in the file's order (the market holds them sorted), so
    ``market.vix_futures[i]`` is ``futures[i]``; ``spx_vol_given``: the market
    gives ``[market.spx_vol]``.
    """

    by_occ: frozenset[str] = frozenset()
    credit_given: frozenset[str] = frozenset()
    futures: tuple[FuturePoint, ...] = ()
    slices: tuple[SviSlice, ...] = ()
    spx_vol_given: bool = False


def build_file(table: dict, source: str) -> tuple[PositionFile, Layout]:
    """A position file's objects from its checked table (``validate.check_file``)."""
    positions = table["positions"]
    market, layout = (
        build_market(table["market"], source) if "market" in table else (None, Layout())
    )
    by_occ = {
        f"positions[{i}].legs[{j}]"
        for i, pv in enumerate(positions)
        for j, lv in enumerate(pv["legs"])
        if "occ" in lv
    }
    given = {f"positions[{i}]" for i, pv in enumerate(positions) if "credit" in pv}
    layout = replace(layout, by_occ=layout.by_occ | by_occ, credit_given=frozenset(given))
    built = PositionFile(
        path=source,
        positions=tuple(_position(pv, source, f"positions[{i}]") for i, pv in enumerate(positions)),
        market=market,
        rules=dict(table.get("rules", {})),
    )
    return built, layout


def _position(pv: dict, source: str, key: str) -> Position:
    """A position: the legs held and those closed; its size, the opening legs' largest; and
    without a credit in the file, the opening legs' net entry premium (short entry prices
    minus long ones, per unit: ``sanity.py`` refuses one that is not above 0)."""
    every = [_leg(lv, f"{key}.legs[{j}]") for j, lv in enumerate(pv["legs"])]
    bare = Position(pv["id"], (), 1.0, pv.get("opened"))
    opening = [g for g in every if bare.is_opening(g)]
    units = max((abs(g.quantity) for g in opening_trade(opening)), default=0) or max(
        (abs(g.quantity) for g in every if g.underlying == "SPX"), default=1
    )
    credit = pv.get("credit")
    if credit is None:
        short = sum(g.entry_price * abs(g.quantity) for g in opening if g.quantity < 0)
        long = sum(g.entry_price * abs(g.quantity) for g in opening if g.quantity > 0)
        credit = round((short - long) / units, 10)
    return Position(
        id=pv["id"],
        legs=tuple(g for g in every if g.closed is None),
        credit=credit,
        opened=pv.get("opened"),
        source=source,
        key=key,
        closed=tuple(g for g in every if g.closed is not None),
        units=units,
    )


def _leg(lv: dict, key: str) -> Leg:
    return Leg(
        underlying=lv["underlying"],
        root=lv["root"],
        type=lv["type"],
        strike=lv["strike"],
        expiry=lv["expiry"],
        quantity=lv["quantity"],
        entry_price=lv["entry_price"],
        iv=lv.get("iv"),
        layer=lv.get("layer"),
        entry_vix=lv.get("entry_vix"),
        key=key,
        opened=lv.get("opened"),
        closed=lv.get("closed"),
        exit_price=lv.get("exit_price"),
        mark=lv.get("mark"),
        mark_time=resolve_asof(lv["mark_time"]) if "mark_time" in lv else None,
    )


def _default_atm(vix: float, spx_vol: dict, source: str) -> float:
    # loaded only for a smile without atm: most files give it, and every load pays an import
    from alvh_cli.model.variance_swap import atm_for_vix

    try:
        return atm_for_vix(vix, spx_vol.get("skew", 0.0), spx_vol.get("smile", 0.0))
    except ValueError:
        raise InputError(
            f"no ATM vol gives this skew and smile a variance swap of the VIX ({vix:g}): give atm",
            source,
            "market.spx_vol.atm",
        ) from None


def build_market(mv: dict, source: str) -> tuple[Market, Layout]:
    """A market snapshot from its checked ``[market]`` table (``validate.check_market``).

    ``asof`` made aware (:func:`alvh_cli.model.timing.resolve_asof`); the SPX
    smile's ``atm`` defaults to the level at which the file's own smile has a variance swap
    equal to the VIX (the VIX itself for a flat smile; ``variance_swap.atm_for_vix``), the
    VIX smile's skew and smile to 0; futures sorted by expiry and SVI slices by settlement.
    """
    vix = mv["vix"]
    futures = tuple(
        FuturePoint(expiry=fv["expiry"], price=fv["price"]) for fv in mv.get("vix_futures", [])
    )
    quotes = tuple(_quote(qv) for qv in mv.get("quotes", []))
    slices = tuple(_slice(sv) for sv in mv.get("spx_svi", []))
    surface = None
    if slices:  # its forwards belong to the file's spx
        ordered = sorted(slices, key=lambda s: settlement_timestamp(s.root, s.expiry))
        surface = SpxSurface(spot=mv["spx"], slices=tuple(ordered), source=source)
    spx_vol = mv.get("spx_vol", {})
    vix_vol = mv.get("vix_vol")
    market = Market(
        asof=resolve_asof(mv["asof"]),
        spx=mv["spx"],
        vix=vix,
        rate=mv["rate"],
        dividend_yield=mv["dividend_yield"],
        vix_futures=tuple(sorted(futures, key=lambda p: p.expiry)),
        spx_vol=Smile(
            atm=spx_vol["atm"] if "atm" in spx_vol else _default_atm(vix, spx_vol, source),
            skew=spx_vol.get("skew", 0.0),
            smile=spx_vol.get("smile", 0.0),
        ),
        vix_vol=None
        if vix_vol is None
        else Smile(vix_vol["atm"], vix_vol.get("skew", 0.0), vix_vol.get("smile", 0.0)),
        quotes=quotes,
        source=source,
        spx_surface=surface,
    )
    layout = Layout(
        by_occ=frozenset(
            f"market.quotes[{i}]" for i, qv in enumerate(mv.get("quotes", [])) if "occ" in qv
        ),
        futures=futures,
        slices=slices,
        spx_vol_given="spx_vol" in mv,
    )
    return market, layout


def _quote(qv: dict) -> Quote:
    return Quote(
        underlying=qv["underlying"],
        type=qv["type"],
        strike=qv["strike"],
        expiry=qv["expiry"],
        bid=qv["bid"],
        ask=qv["ask"],
        root=qv["root"],
    )


def _slice(sv: dict) -> SviSlice:
    return SviSlice(
        expiry=sv["expiry"],
        root=sv["root"],
        a=sv["a"],
        b=sv["b"],
        rho=sv["rho"],
        m=sv["m"],
        sigma=sv["sigma"],
        forward=sv["forward"],
        discount=sv["discount"],
        rms=sv["rms"],
        n_quotes=sv.get("n_quotes"),
        butterfly_free=sv.get("butterfly_free"),
    )
