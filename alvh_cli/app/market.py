"""``alvh market``: the day's market snapshot from option chains, as a ``[market]`` file.

The chains are read by ``alvh_cli.inputs.chain`` and fitted by
:func:`alvh_cli.model.chain_market.market_from_chains` (parity forwards, SVI smiles); the
snapshot is rendered as TOML (``alvh_cli.output.market``) and read back through the
loader before it is handed over, so a file written is a file ``--market`` reads
(:func:`read_back`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from alvh_cli.errors import InputError
from alvh_cli.model.domain import Market

if TYPE_CHECKING:
    from alvh_cli.output.market import SnapshotToml


@dataclass(frozen=True)
class MarketRun:
    """The snapshot (``market``: as the file reads back), the notes on how it was made, and
    the TOML ``text`` to write."""

    market: Market
    notes: dict
    text: str


def market(
    chains: Sequence[Path | str],
    *,
    futures: Path | str | None = None,
    vix: float | None = None,
    spx: float | None = None,
    asof: datetime | date | str | None = None,
    quotes: bool = True,
    output: Path | str | None = None,
    force: bool = False,
    now: datetime | None = None,
) -> MarketRun:
    """Fit ``chains`` into a market snapshot.

    ``asof`` defaults to the chains' quote time (the generic layout has none: give it);
    VIX futures come from the ``futures`` settlements file; ``quotes=False`` leaves the
    chains' quotes out. ``vix``, ``spx`` and ``asof`` are checked first, as a market
    file's would be (:func:`check_given`; ``now`` is the clock, None skips the check
    that ``asof`` is not in the future), then ``output``, the file the caller will
    write (:func:`alvh_cli.output.files.refuse_output`); nothing is written here.
    """
    from alvh_cli.output.files import refuse_output
    from alvh_cli.output.market import snapshot_toml

    when = check_given(vix=vix, spx=spx, asof=asof, now=now)
    if output is not None:
        refuse_output(output, [*chains, *([futures] if futures is not None else [])], force)
    snapshot, notes = market_from_files(
        chains, futures=futures, asof=when, spx=spx, vix=vix, quotes=quotes, now=now
    )
    if vix is not None and snapshot.spx_vol is not None:  # the flag's VIX against the quotes
        from alvh_cli.inputs.sanity import check_atm

        check_atm(snapshot.spx_vol.atm, vix, option="vix")
    toml = snapshot_toml(snapshot, notes)
    refuse_too_large(toml.text, snapshot, str(output or "<stdout>"))
    return MarketRun(read_back(toml, str(output or "<stdout>")), notes, toml.text)


def refuse_too_large(text: str, snapshot: Market, source: str) -> None:
    """A snapshot is written only if ``--market`` can read it back: a text over the market
    file's size limit (``toml_reader.MAX_FILE_BYTES``) is refused before it is parsed or
    written, with the way to a smaller one."""
    from alvh_cli.inputs.toml_reader import MAX_FILE_BYTES

    size = len(text.encode("utf-8"))
    if size <= MAX_FILE_BYTES:
        return
    raise InputError(
        f"the snapshot would be {size / 2**20:.1f} MB, over the {MAX_FILE_BYTES // 2**20} MB a "
        f"market file may be (--market reads at most that): its {len(snapshot.quotes):,} "
        "quotes are most of it; give {flag:no_quotes} (the fitted smiles keep the chain's "
        "information) or a chain of fewer expiries",
        source,
    )


def read_back(toml: SnapshotToml, source: str) -> Market:
    """The snapshot's ``[market]`` table as the loader reads it from the file, every check
    applied: its text parsed as TOML but for the quote rows, which are checked as the
    values they read back as (:class:`~alvh_cli.output.market.SnapshotToml`). Parsing
    those rows, which ``toml_value`` wrote, would be most of the time ``alvh market``
    takes on a large chain."""
    from alvh_cli.inputs.positions import parse_market
    from alvh_cli.inputs.toml_reader import tomllib

    table = tomllib.loads(toml.rest)["market"]
    if toml.quote_rows:
        table["quotes"] = list(toml.quote_rows)
    return parse_market(table, source)


def check_given(
    *,
    vix: float | None = None,
    spx: float | None = None,
    asof: datetime | date | str | None = None,
    now: datetime | None = None,
) -> datetime | None:
    """The levels and time given for a snapshot (not read from its chains), checked
    before any file is read: ``vix`` and ``spx`` within the bounds a market file's
    ``vix`` and ``spx`` keep (``validate.check_market_level``), ``asof`` a date or
    date-time not in the future of ``now`` (as a market file's ``asof``:
    ``sanity.check_asof_not_future``). Returns ``asof`` as an aware instant (None when
    not given); an error names the parameter (``option="vix"``)."""
    from alvh_cli.app.context import as_instant
    from alvh_cli.inputs import sanity
    from alvh_cli.inputs.validate import check_market_level

    if vix is not None:
        check_market_level(vix, "vix", "vix")
    if spx is not None:
        check_market_level(spx, "spx", "spx")
    when = as_instant(asof, "asof")
    if when is not None and now is not None:
        sanity.check_asof_not_future(when, now, option="asof")
    return when


def market_from_files(
    chains: Sequence[Path | str],
    *,
    futures: Path | str | None = None,
    asof: datetime | date | str | None = None,
    spx: float | None = None,
    vix: float | None = None,
    quotes: bool = True,
    now: datetime | None = None,
) -> tuple[Market, dict]:
    """The day's market snapshot from chain files: (Market, notes).

    ``quotes=False`` leaves the chains' quotes out of the snapshot (``notes``
    says so). ``asof`` defaults to the chains' quote time; a chain without one (the
    generic layout) needs it. ``vix``, ``spx`` and ``asof`` are checked before the files
    are read (:func:`check_given`); a snapshot time in the future of ``now`` is refused
    (None skips that check). VIX futures come from the ``futures`` settlements file,
    each not expired before the snapshot's day and within a factor 3 of VIX as a market
    file's must be; one off the VIX expirations is a warning (in ``notes["warnings"]``).
    See :func:`alvh_cli.model.chain_market.market_from_chains`.
    """
    from alvh_cli.inputs import sanity
    from alvh_cli.inputs.book import read_chains
    from alvh_cli.inputs.chain import read_futures, require_readable
    from alvh_cli.model.chain_market import market_from_chains
    from alvh_cli.model.timing import new_york_date

    when = check_given(vix=vix, spx=spx, asof=asof, now=now)
    require_readable([*chains, *([futures] if futures is not None else [])])
    snapshots = read_chains(chains)
    if when is None:
        times = [s.asof for s in snapshots if s.asof is not None]
        if not times:
            raise InputError(
                "the chain carries no quote time (generic layout): give {flag:asof}",
                ", ".join(str(c) for c in chains),
            )
        when = times[0]
        if now is not None:
            source = next(s.source for s in snapshots if s.asof is not None)
            sanity.check_asof_not_future(when, now, source, "quote_date")
    settlements = read_futures(futures) if futures is not None else None
    points = settlements.points if settlements is not None else ()
    today = new_york_date(when)
    for i in _in_file_order(settlements):
        try:
            sanity.check_future_expiry(points[i].expiry, today, "", "")
        except InputError as exc:
            raise settlements.error(exc.message, i, "expiry") from None
    market, notes = market_from_chains(snapshots, asof=when, spx=spx, vix=vix, vix_futures=points)
    market, notes["left_out"] = _loadable_quotes(market)
    if settlements is not None:
        _check_futures_file(settlements, market.vix, notes)
        notes["futures"] = str(futures)
    if not quotes:
        market, notes["no_quotes"] = replace(market, quotes=()), True
    return market, notes


def _check_futures_file(settlements, vix: float, notes: dict) -> None:
    """A futures file's settlements as a market file's ``vix_futures`` are held: each
    within a factor 3 of ``vix`` (``sanity.check_future_price``), named by its line; each
    off the VIX expirations a warning added to ``notes["warnings"]``
    (``market_warnings.unlisted_future``)."""
    from alvh_cli.inputs import sanity
    from alvh_cli.inputs.market_warnings import unlisted_future

    warnings = list(notes.get("warnings", ()))
    for i in _in_file_order(settlements):
        p = settlements.points[i]
        try:
            sanity.check_future_price(p.price, vix, "", "")
        except InputError as exc:
            raise settlements.error(exc.message, i, "price") from None
        w = unlisted_future(p.expiry, settlements.where(i), settlements.key(i, "expiry"))
        if w is not None:
            warnings.append(w)
    notes["warnings"] = warnings


def _in_file_order(settlements) -> list[int]:
    """The indices of a futures file's points (held by expiry) in the order of its lines,
    so that the first problem said is the first in the file; none without a file."""
    if settlements is None:
        return []
    return sorted(range(len(settlements.points)), key=lambda i: settlements.lines[i])


def _loadable_quotes(market: Market) -> tuple[Market, int]:
    """``market`` without the quotes a market file may not hold (``sanity``: a strike
    beyond 1/5..5x of its underlying, an expiry over 3 years after ``asof``), and how
    many went. Real chains list such strikes (SPX puts at 100); no condor uses them."""
    from alvh_cli.inputs import sanity
    from alvh_cli.model.timing import new_york_date

    last = sanity.latest_expiry(new_york_date(market.asof))
    (_, vix_low), (_, vix_high) = sanity.vix_references(market)
    band = sanity.STRIKE_BAND
    keep = []
    for q in market.quotes:
        low, high = (market.spx, market.spx) if q.underlying == "SPX" else (vix_low, vix_high)
        if q.expiry <= last and low / band <= q.strike <= high * band:
            keep.append(q)
    return replace(market, quotes=tuple(keep)), len(market.quotes) - len(keep)
