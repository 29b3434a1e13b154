"""Output of ``alvh market``: the day's market snapshot as a TOML file that ``--market`` reads.

The file is the ``[market]`` table of a position file plus the fitted SPX surface
(``[[market.spx_svi]]``), with a header saying where each derived figure
came from. Floats are written with ``repr`` (the shortest text that reads
back as the same double), so a book priced from the file prices exactly as
one priced from the chains. Before anything is written the file is read
back through the market loader (``alvh_cli.app.market``): a file alvh would
refuse is never written. Written atomically; an existing file is replaced
only when asked.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from alvh_cli.model.domain import Market, Quote, Smile
from alvh_cli.output.common import note_text
from alvh_cli.output.files import write_atomic
from alvh_cli.toml_text import toml_comment, toml_value


@dataclass(frozen=True)
class SnapshotToml:
    """The snapshot's TOML ``text``, and the same file in the two parts it is read back in.

    ``quote_rows`` are the rows of its ``quotes = [...]`` array as the values they read
    back as: each row of the text is one of them written by
    :func:`alvh_cli.toml_text.toml_value`, one inline table a line. ``rest`` is the text
    without that array: the header, the other keys of ``[market]`` and its sub-tables.
    A chain at the row limit makes a snapshot of 250,000 quote rows, whose parse would
    take longer than the fit; the rest is a few hundred lines.
    """

    text: str
    rest: str
    quote_rows: tuple[dict, ...]


def market_toml(market: Market, notes: dict) -> str:
    """The snapshot as TOML text: a commented header, ``[market]`` and its sub-tables."""
    return snapshot_toml(market, notes).text


def snapshot_toml(market: Market, notes: dict) -> SnapshotToml:
    """The snapshot as TOML text (:func:`market_toml`), with its quote rows' values."""
    head = [toml_comment(line) for line in _header(market, notes)]
    head += [
        "",
        "[market]",
        f"asof = {market.asof.isoformat()}",
        f"spx = {_f(market.spx)}",
        f"vix = {_f(market.vix)}",
        f"rate = {_f(market.rate)}",
        f"dividend_yield = {_f(market.dividend_yield)}",
    ]
    if market.vix_futures:
        head.append("vix_futures = [")
        head += [
            f"  {{ expiry = {p.expiry.isoformat()}, price = {_f(p.price)} }},"
            for p in market.vix_futures
        ]
        head.append("]")
    rows = tuple(quote_row(q) for q in market.quotes)
    quotes = ["quotes = [", *(f"  {toml_value(row)}," for row in rows), "]"] if rows else []
    tail = ["", "[market.spx_vol]", *_smile(market.spx_vol)]
    if market.vix_vol is not None:
        tail += ["", "[market.vix_vol]", *_smile(market.vix_vol)]
    if market.spx_surface is not None:
        for s in market.spx_surface.slices:
            tail += [
                "",
                "[[market.spx_svi]]",
                f"expiry = {s.expiry.isoformat()}",
                f'root = "{s.root}"',
                *(f"{name} = {_f(getattr(s, name))}" for name in _SLICE_NUMBERS),
            ]
            if s.n_quotes is not None:
                tail.append(f"n_quotes = {int(s.n_quotes)}")
            if s.butterfly_free is not None:
                tail.append(f"butterfly_free = {'true' if s.butterfly_free else 'false'}")
    return SnapshotToml(
        text="\n".join([*head, *quotes, *tail]) + "\n",
        rest="\n".join([*head, *tail]) + "\n",
        quote_rows=rows,
    )


_SLICE_NUMBERS = ("a", "b", "rho", "m", "sigma", "forward", "discount", "rms")


def _f(x: float) -> str:
    return repr(float(x))


def _smile(smile: Smile) -> list[str]:
    return [f"atm = {_f(smile.atm)}", f"skew = {_f(smile.skew)}", f"smile = {_f(smile.smile)}"]


def quote_row(q: Quote) -> dict:
    """One quote as the values of its row in the snapshot: by its OSI symbol where it has
    one (a third the text of the spelt-out keys, so a 10,000-quote snapshot reads in half
    the time)."""
    if q.root is not None and _osi_exact(q.strike):
        symbol = (
            f"{q.root:<6}{_yymmdd(q.expiry)}{'C' if q.type == 'call' else 'P'}"
            f"{round(q.strike * 1000):08d}"
        )
        return {"occ": symbol, "bid": float(q.bid), "ask": float(q.ask)}
    root = {} if q.root is None else {"root": q.root}
    return {
        "underlying": q.underlying,
        **root,
        "type": q.type,
        "strike": float(q.strike),
        "expiry": q.expiry,
        "bid": float(q.bid),
        "ask": float(q.ask),
    }


@functools.lru_cache(maxsize=1024)
def _yymmdd(expiry: date) -> str:
    """An OSI symbol's expiry; once a day, not once a quote (strftime is most of a row's
    time)."""
    return f"{expiry:%y%m%d}"


def _osi_exact(strike: float) -> bool:
    """An OSI symbol holds the strike × 1000 in 8 digits: exact for a strike of at most
    three decimals below 100,000."""
    milli = strike * 1000.0
    return 0 < milli < 1e8 and round(milli) / 1000.0 == strike


def _header(market: Market, notes: dict) -> list[str]:
    near = notes["near_month"]
    vix_near = notes.get("vix_near_month")
    surface = market.spx_surface
    out = [
        "Market snapshot written by `alvh market`; use it with --market.",
        f"Chains: {surface.source}"
        + (f"; VIX futures: {notes['futures']}" if notes.get("futures") else ""),
        f"spx from {note_text(notes['spx_from'])}; vix from {note_text(notes['vix_from'])}.",
        f"rate and dividend_yield: put-call parity at {near.root} {near.expiry} (the fitted",
        "expiry nearest 30 days): rate = -ln(D)/T, dividend_yield = rate - ln(F/spx)/T.",
        "[market.spx_vol]: the quadratic smile nearest that expiry's SVI over k = -3..+2 ATM",
        "standard deviations: the smile for anything off the surface, and the reference the",
        "scenarios move with VIX.",
    ]
    if vix_near is not None:
        out.append(f"[market.vix_vol]: the same from the VIX options of {vix_near.expiry}.")
    else:
        out.append("No VIX options fitted: add [market.vix_vol] to price VIX options off quotes.")
    if not market.vix_futures:
        out.append("No --futures file: add vix_futures to price VIX hedges.")
    if notes.get("left_out"):
        out.append(
            f"{notes['left_out']} quote{'s' if notes['left_out'] != 1 else ''} left out: strikes "
            "beyond 1/5..5x of the underlying or expiries over 3 years out (a market file "
            "refuses them)."
        )
    if notes.get("no_quotes"):
        out.append("No quotes (--no-quotes): SPX legs on the surface, orders at model prices.")
    out.append(
        f"[[market.spx_svi]]: {len(surface.slices)} raw SVI slices (rms in vol points); "
        f"forwards at spx {_f(market.spx)}."
    )
    for root, expiry, reason in surface.unfitted:
        out.append(f"Not fitted: {root} {expiry.isoformat()}: {reason}.")
    return out


def emit_market(text: str, output: Path | None) -> None:
    """The snapshot's TOML ``text`` to ``output`` (atomically) or to stdout."""
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, lambda fh: fh.write(text))
