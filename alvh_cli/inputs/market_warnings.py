"""Loading, stage 5: doubts about the inputs that do not stop alvh pricing them: warnings.

- **stale**: ``asof`` is before the most recent close — prices have moved since;
- **ahead of the clock**: ``asof`` is after ``now``, by less than the clock skew
  ``sanity.CLOCK_SKEW_S`` allows (further is refused);
- **unlisted future**: a VIX future whose expiry is not a monthly VIX expiration
  (a day off is a typo; the nearest expiration is named);
- **flat smile**: no ``[market.spx_vol]`` and no fitted surface, so SPX options
  without a quote or ``iv`` are priced at VIX/100 across strikes (far too cheap
  out of the money);
- **concave smile**: a typed ``[market.spx_vol]`` (no fitted surface) whose ``smile``
  below 0 bends the vols down in both wings, where SPX smiles bend up: the wings are
  priced below the money's vol (``smile = -20`` for 2.0 valued a calm condor at 0.14x,
  a profit take);
- **wide quote**: a quote's bid/ask width is more than ``WIDE_FACTOR`` (3) times
  the median width of its neighbours and at least ``WIDE_MIN`` (0.20 points)
  wider than that median. Neighbours are the quotes of the same underlying,
  root, type and expiry at the ``NEIGHBOURS`` (3) nearest quoted strikes on
  each side. A typed ask of 105.0 for 10.50 moves the mid — and so the leg's
  implied volatility and the mark — by half the slip;
- **unusable quote**: a quote a leg would be priced from, whose mid no
  volatility reproduces (below or at its intrinsic value, at or above the most
  the option can be worth): the leg falls back to the smile, and the warning
  names the quote, the reason and the bound it fails;
- **broker marks** (``alvh_cli.model.marks``): a leg's mark not used (of another day
  than the snapshot, without a time, or no volatility reproduces it), and a mark the
  model's own price of the leg is further from than the rule
  ``broker_mark_tolerance`` allows.

:func:`snapshot_warnings` gives a snapshot's own (flat smile, unlisted futures, wide
quotes) and :func:`loaded_warnings` all of a loaded file's, in the order they are shown.
Pure functions of their arguments: the clock is read by the caller (``cli.py``)
and passed in as ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from alvh_cli.errors import InputWarning
from alvh_cli.inputs.build import Layout
from alvh_cli.inputs.show import show_num
from alvh_cli.model.domain import Leg, Market, Quote
from alvh_cli.model.exchange import last_close
from alvh_cli.model.quotes import NEIGHBOURS, WIDE_FACTOR, WIDE_MIN
from alvh_cli.model.timing import aware, new_york_stamp


def loaded_warnings(
    snapshot: Market,
    layout: Layout,
    market: Market,
    legs: Sequence[Leg],
    now: datetime | None,
) -> tuple[InputWarning, ...]:
    """The warnings about the inputs of one loaded file: the snapshot's own
    (:func:`snapshot_warnings`), staleness against ``now`` (None skips it), the quotes
    ``legs`` would be priced from but cannot be (:func:`unusable_quotes`), and what fitting
    option chains onto it added to ``market.warnings`` (their doubtful quotes, by file and
    line); its broker marks' are :func:`mark_warnings`.

    ``snapshot`` is the market as its file gave it (``layout`` says how), ``market``
    the same with any option chains fitted onto it: what prices the legs.
    """
    before, after = market_loaded_warnings(snapshot, layout, market, now)
    unusable = unusable_quotes(market, legs) if market.quotes else []
    return (*before, *unusable, *after)


def market_loaded_warnings(
    snapshot: Market, layout: Layout, market: Market, now: datetime | None
) -> tuple[tuple[InputWarning, ...], tuple[InputWarning, ...]]:
    """What :func:`loaded_warnings` says of the market alone, before a file's unusable
    quotes and after them: the same for every file priced in it, so a book of files
    sharing a snapshot works them out once."""
    stale = None
    if now is not None:
        stale = stale_snapshot(market, now) or ahead_of_clock(market, now)
    chains = tuple(w for w in market.warnings if w not in snapshot.warnings)
    return (*snapshot_warnings(snapshot, layout, market), *([stale] if stale else [])), chains


def snapshot_warnings(
    snapshot: Market, layout: Layout, market: Market | None = None
) -> tuple[InputWarning, ...]:
    """A snapshot's own warnings, as its file gave it: a flat smile (no ``[market.spx_vol]``,
    unless a surface prices SPX options: the file's own, or the chains fitted in
    ``market``) or a concave one (:func:`concave_smile`), each VIX future off the VIX
    expirations (:func:`unlisted_future`), then each quote much wider than its
    neighbours."""
    surface = (market or snapshot).spx_surface
    flat = [flat_smile(snapshot)] if not layout.spx_vol_given and surface is None else []
    if layout.spx_vol_given and surface is None and _bends_down(snapshot.spx_vol):
        flat.append(concave_smile(snapshot))
    futures = [
        unlisted_future(f.expiry, snapshot.source, f"market.vix_futures[{i}].expiry")
        for i, f in enumerate(layout.futures)
    ]
    keys = [f"market.quotes[{i}]" for i in range(len(snapshot.quotes))]
    return (
        *flat,
        *(w for w in futures if w is not None),
        *wide_quotes(snapshot.quotes, keys, snapshot.source),
    )


def unlisted_future(expiry: date, source: str, key: str) -> InputWarning | None:
    """A warning when a VIX future's ``expiry`` is not a monthly VIX expiration
    (:func:`alvh_cli.model.expirations.vix_expirations`: the Wednesday 30 days before the
    next month's third Friday, earlier around a holiday), naming the nearest one. A day
    off is a typo more often than a weekly future; either way the curve takes the
    point as given."""
    from alvh_cli.model.expirations import vix_expirations

    window = timedelta(days=40)  # monthly expirations are at most 35 days apart
    listed = vix_expirations(expiry - window, expiry + window)
    nearest = min(listed, key=lambda d: (abs((d - expiry).days), d))
    if nearest == expiry:
        return None
    return InputWarning(
        f"{expiry} is not a monthly VIX futures expiration (the nearest is {nearest}, a "
        f"{nearest:%A}) — a typo? The curve takes the point as given",
        source,
        key,
    )


def stale_snapshot(market: Market, now: datetime) -> InputWarning | None:
    """A warning when ``market.asof`` is before the last close at or before ``now``.

    A snapshot of Friday's close read on Saturday is current; one of Friday
    15:45 read after Friday's close is not (the last 15 minutes moved prices)."""
    close = last_close(now)
    asof = aware(market.asof)
    if asof >= close:
        return None
    return InputWarning(
        f"snapshot of {new_york_stamp(asof)} is older than the last close "
        f"({new_york_stamp(close)}): prices "
        "have moved since — update the market data",
        market.source,
        "market.asof",
    )


def ahead_of_clock(market: Market, now: datetime) -> InputWarning | None:
    """A warning when ``market.asof`` is after ``now`` (by less than a refusal's
    ``sanity.CLOCK_SKEW_S``): one of the two clocks is off."""
    ahead = aware(market.asof).timestamp() - now.timestamp()
    if ahead <= 0:
        return None
    return InputWarning(
        f"snapshot of {new_york_stamp(market.asof)} is {ahead:.0f} s ahead of the clock "
        f"({new_york_stamp(now)}): this computer's clock or the snapshot's is off",
        market.source,
        "market.asof",
    )


def _bends_down(smile) -> bool:
    """Whether a typed smile bends below its ATM vol in both wings (``smile`` < 0 and both
    vols at 10% from the money, k = ±0.1, under ``atm``): ``smile = -20`` for 2.0 does; a
    steep skew beside a small negative curvature (a fitted chain's quadratic) does not,
    its put wing still rising."""
    if smile is None or smile.smile >= 0:
        return False
    return all(smile.skew * k + smile.smile * k * k < 0 for k in (-0.1, 0.1))


def concave_smile(market: Market) -> InputWarning:
    """The warning for a snapshot whose SPX smile bends down (``smile`` < 0)."""
    return InputWarning(
        f"{market.spx_vol.smile:g} bends the vols down in both wings, where SPX smiles bend "
        "up (smile > 0, e.g. 2.5): the wings are priced below the money's vol and a condor "
        "looks cheap to close — a typo of the sign?",
        market.source,
        "market.spx_vol.smile",
    )


def flat_smile(market: Market) -> InputWarning:
    """The warning for a snapshot without ``[market.spx_vol]``."""
    return InputWarning(
        f"not given: SPX options without a quote or iv are priced on a flat smile at VIX/100 "
        f"({market.vix / 100:.1%}), which prices out-of-the-money puts far too cheap — give "
        "atm, skew and smile",
        market.source,
        "market.spx_vol",
    )


def wide_quotes(quotes: Sequence[Quote], keys: Sequence[str], source: str) -> list[InputWarning]:
    """A warning for each quote much wider than its neighbours (module docstring).

    ``keys[i]`` is where ``quotes[i]`` sits in the file (``market.quotes[3]``)."""
    groups: dict[tuple, list[int]] = {}
    for i, q in enumerate(quotes):
        groups.setdefault((q.underlying, q.root or "", q.type, q.expiry), []).append(i)
    flagged = []
    for members in groups.values():
        members.sort(key=lambda i: quotes[i].strike)
        for pos, i in enumerate(members):
            near = members[max(0, pos - NEIGHBOURS) : pos] + members[pos + 1 : pos + 1 + NEIGHBOURS]
            if not near:
                continue
            median = _median([quotes[j].ask - quotes[j].bid for j in near])
            q = quotes[i]
            width = q.ask - q.bid
            if width > WIDE_FACTOR * median and width - median >= WIDE_MIN - 1e-9:
                flagged.append((i, width, median, len(near)))
    out = []
    for i, width, median, n in sorted(flagged):
        q = quotes[i]
        name = f"{q.root or q.underlying} {q.type} {show_num(q.strike)} {q.expiry}"
        out.append(
            InputWarning(
                f"{name} is {width:.2f} wide (bid {show_num(q.bid)}, ask {show_num(q.ask)}), "
                f"more than {WIDE_FACTOR:g}x the {median:.2f} median width of the "
                f"{n} nearest quoted strike{'s' if n != 1 else ''} — a typo? Its mid prices "
                "the contract",
                source,
                keys[i],
            )
        )
    return out


def unusable_quotes(market: Market, legs: Sequence[Leg]) -> list[InputWarning]:
    """A warning for each quote ``legs`` would be priced from but whose mid no volatility
    reproduces (:func:`alvh_cli.model.legs.quote_problems`): the smile prices them
    instead, and a trader should know which and why."""
    return unusable_quotes_each(market, [legs])[0]


def unusable_quotes_each(
    market: Market, legs_each: Sequence[Sequence[Leg]]
) -> list[list[InputWarning]]:
    """:func:`unusable_quotes` of each of several files' ``legs``, in the order each file
    alone would say them: a quote's mid is tried once for all the files, as a quote's
    problem is its own and its root's, whichever leg meets it."""
    if not market.quotes:
        return [[] for _ in legs_each]
    from alvh_cli.model.legs import quote_problems
    from alvh_cli.model.quotes import lookup_quote, quote_index

    problems = quote_problems(market, [g for legs in legs_each for g in legs])
    if not problems:
        return [[] for _ in legs_each]
    order = {id(q): i for i, q in enumerate(market.quotes)}
    said = {(id(p.quote), p.root): _unusable(market, p, order) for p in problems}
    index = quote_index(market.quotes)
    out = []
    for legs in legs_each:
        met: dict[tuple[int, str], None] = {}  # as quote_problems meets them: first seen first
        for g in legs:
            if g.type == "future" or g.iv is not None:
                continue
            q = lookup_quote(index, g.underlying, g.type, g.strike, g.expiry, g.root)
            if q is not None:
                met.setdefault((id(q), g.root))
        mine = sorted((k for k in met if k in said), key=lambda k: order[k[0]])
        out.append([said[k] for k in mine])
    return out


def _unusable(market: Market, p, order: dict[int, int]) -> InputWarning:
    """The warning of one quote problem (``alvh_cli.model.legs.QuoteProblem``)."""
    from alvh_cli.model.pricing import NO_VOL_REASONS

    q = p.quote
    name = f"{q.root or p.root} {q.type} {show_num(q.strike)} {q.expiry}"
    on_surface = market.spx_surface is not None and q.underlying == "SPX"
    fallback = "fitted surface" if on_surface else "smile"
    why = {
        "below_intrinsic": f"is below its intrinsic value {p.bound:.2f}",
        "at_intrinsic": f"equals its intrinsic value {p.bound:.2f}: no time value",
        "above_bound": f"is at or above the most the option can be worth, {p.bound:.2f}",
    }.get(p.reason, f"cannot be used: {NO_VOL_REASONS.get(p.reason, p.reason)}")
    return InputWarning(
        f"{name}: mid {show_num(q.mid)} (bid {show_num(q.bid)}, ask "
        f"{show_num(q.ask)}) {why}; no volatility reproduces it, so the leg is "
        f"priced from the {fallback} instead",
        market.source,
        f"market.quotes[{order[id(q)]}]",
    )


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else 0.5 * (xs[mid - 1] + xs[mid])


_PRICED_BY = {
    "iv": "its iv",
    "quote": "its quote",
    "svi": "the fitted surface",
    "smile": "the smile",
}


def mark_warnings(
    marks: Sequence, market: Market, tolerance: float, source: str
) -> list[InputWarning]:
    """A warning for each broker mark (``alvh_cli.model.marks.MarkUse``) that did not price
    its leg for a reason the trader should know — of another day than the snapshot,
    without a time, no volatility reproduces it (unless the model is within a tick of it:
    a far wing marked 0) — and for each the model's own price of the leg is further from
    than ``tolerance`` (the rule ``broker_mark_tolerance``) allows. ``source`` is the
    position file the legs are in."""
    out = []
    for m in marks:
        g = m.leg
        contract = f"{g.root} {g.type} {show_num(g.strike)} {g.expiry}"
        name = f"{contract}: the broker's mark {show_num(g.mark)}"
        priced = f"the leg is priced from {_PRICED_BY.get(m.model_source, m.model_source)}"
        key = f"{g.key}.mark"
        if m.status in ("older", "later"):
            when = "older than" if m.status == "older" else "of a day after"
            text = (
                f"{name} of {new_york_stamp(g.mark_time)} is {when} the snapshot "
                f"({new_york_stamp(market.asof)}): not used, {priced}"
            )
        elif m.status == "untimed":
            text = (
                f"{name} has no mark_time, so its day is not known: not used, {priced} "
                "(give mark_time, when the broker marked it)"
            )
        elif m.status == "unusable" and not m.within_a_tick:
            text = (
                f"{name}: no volatility reproduces it, so it is not used; {priced} at {m.model:.2f}"
            )
        elif m.disagrees(tolerance):
            by = "the mark prices the leg" if m.used else f"{_PRICED_BY[m.status]} prices the leg"
            model = f"the model's {m.model:.2f} ({_PRICED_BY.get(m.model_source, m.model_source)})"
            share = abs(m.difference) / g.mark if g.mark else math.inf
            text = (
                f"{name} and {model} differ by {abs(m.difference):.2f}, "
                f"{_share(share)} of the mark (broker_mark_tolerance {tolerance:.0%}); {by}"
            )
        else:
            continue
        out.append(InputWarning(text, source, key))
    return out


def _share(x: float) -> str:
    return "all" if not math.isfinite(x) else f"{x:.0%}"
