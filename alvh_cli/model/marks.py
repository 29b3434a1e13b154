"""The broker's marks on the legs held: which priced their leg, which did not and why, and
how far the model's own price of each leg is from it.

A leg may carry ``mark`` (the broker's price per contract, in points) and ``mark_time``
(``alvh import`` writes both from an export). :func:`alvh_cli.model.legs.value_legs`
prices a leg from its mark like a quote, an implied vol from the price, when the mark is
of the market snapshot's New York day and the leg has neither ``iv`` nor a quote. For
every leg with a mark, :func:`mark_uses` says what became of it (:data:`STATUS`) and
what the model prices the leg at without it — its quote, surface or smile — so that a
disagreement between the broker and the model beyond the rule ``broker_mark_tolerance``
is said (:meth:`MarkUse.disagrees`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from alvh_cli.model.contracts import tick_size
from alvh_cli.model.domain import Leg, Market
from alvh_cli.model.legs import mark_day, value_legs
from alvh_cli.model.quotes import find_quote
from alvh_cli.model.timing import new_york_date

STATUS = {
    "mark": "priced the leg",
    "iv": "not used: the leg's own iv prices it",
    "quote": "not used: the leg's quote prices it",
    "unusable": "not used: no volatility reproduces it",
    "older": "not used: older than the snapshot",
    "later": "not used: of a day after the snapshot",
    "untimed": "not used: no mark_time, so its day is not known",
}
"""What became of a mark, by code (:attr:`MarkUse.status`)."""
COMPARED = ("mark", "iv", "quote")  # marks of the snapshot's day, compared with the model


@dataclass(frozen=True)
class MarkUse:
    """One leg's broker mark and what became of it.

    ``status`` is a code of :data:`STATUS`. ``model`` is the leg's price per contract
    in points without its mark, from ``model_source`` (``"iv"``, ``"quote"``, ``"svi"``
    or ``"smile"``): what priced the leg when the mark did not.
    """

    leg: Leg
    status: str
    model: float
    model_source: str

    @property
    def used(self) -> bool:
        return self.status == "mark"

    @property
    def difference(self) -> float:
        """The model's price less the broker's mark, points per contract."""
        return self.model - self.leg.mark

    @property
    def within_a_tick(self) -> bool:
        """The model's price within one tick of the mark (a difference the price grid makes,
        not a disagreement): a far wing the broker marks at 0 and the model at 0.0002."""
        return abs(self.difference) <= tick_size(self.leg.root, self.leg.mark) + 1e-9

    def disagrees(self, tolerance: float) -> bool:
        """The model and the broker further apart than ``tolerance`` × the mark and by more
        than one tick of the contract: the rule ``broker_mark_tolerance``."""
        if self.status not in COMPARED or self.within_a_tick:
            return False
        return abs(self.difference) > tolerance * self.leg.mark + 1e-12


def mark_uses(market: Market, legs: Sequence[Leg]) -> list[MarkUse]:
    """What became of the broker's mark of each option in ``legs`` priced in ``market``, in
    their order (legs without a mark, futures and legs past settlement are left out: a
    settled leg is worth its intrinsic value whatever its mark)."""
    marked = [g for g in legs if g.mark is not None and g.is_option]
    if not marked:
        return []
    day = new_york_date(market.asof)
    priced = value_legs(market, marked)
    model_price, model_source = _without_marks(market, marked)
    out = []
    for i, g in enumerate(marked):
        if priced.T[i] <= 0:
            continue
        when = mark_day(g)
        if when is None:
            status = "untimed"
        elif when < day:
            status = "older"
        elif when > day:
            status = "later"
        else:
            source = priced.vol_source[i]
            status = source if source in ("mark", "iv", "quote") else "unusable"
        out.append(MarkUse(g, status, model_price[i], model_source[i]))
    return out


def _without_marks(market: Market, legs: Sequence[Leg]) -> tuple[list[float], list[str]]:
    """The legs' prices and vol sources without their marks; NaN and "" for a VIX option
    nothing but its mark can price (no VIX smile in the market, no iv, no quote)."""
    able = [
        g.underlying == "SPX" or market.vix_vol is not None or g.iv is not None
        or find_quote(market, g) is not None
        for g in legs
    ]  # fmt: skip
    values = value_legs(market, [g for g, a in zip(legs, able, strict=True) if a], use_marks=False)
    prices, sources = iter(values.price.tolist()), iter(values.vol_source)
    return (
        [next(prices) if a else math.nan for a in able],
        [next(sources) if a else "" for a in able],
    )
