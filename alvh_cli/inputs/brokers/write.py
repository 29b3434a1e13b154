"""The position file ``alvh import`` writes: TOML that ``alvh check`` reads as is.

A small emitter of the TOML alvh's files use (tables, arrays of tables,
strings, numbers, booleans, dates and date-times) rather than a dependency:
position files need nothing more, and what it writes is read back with the
standard ``tomllib`` and alvh's own loader before anything is written.

The file carries, per position, ``id``, ``opened`` (when the export gives it),
``credit`` (the net entry premium per unit, from the cost basis) and its legs (a
condor's four, a vertical's two), then any hedge layer legs (``underlying = "VIX"``,
``layer``); each leg with the broker's ``mark`` and ``mark_time`` when the export gives
them. A market snapshot given with ``--market`` is copied in as ``[market]``; without
one a comment says to pass ``--market`` to ``alvh check``. Legs left out are listed in
comments so the file says what it does not hold.

``alvh_cli.app.importer`` writes the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from alvh_cli.inputs.brokers.common import ImportedLeg
from alvh_cli.inputs.brokers.group import ImportedPosition, Leftover
from alvh_cli.inputs.brokers.journalled import Journalled
from alvh_cli.inputs.brokers.journalled import render as render_journalled
from alvh_cli.toml_text import toml_string, toml_table, toml_value

PRICE_DECIMALS = 6  # cost bases per point come with up to 4-6 decimals; more is float noise

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def price(x: float) -> float:
    """A price per point as written: rounded to ``PRICE_DECIMALS``."""
    return round(float(x), PRICE_DECIMALS)


def number(x: float) -> int | float:
    """Whole numbers as integers (strikes), others as floats."""
    return int(x) if float(x).is_integer() else float(x)


def comment(text: str) -> str:
    """Text made safe for one comment line."""
    return re.sub(r"[\x00-\x1f\x7f]", "?", text)


# --------------------------------------------------------------------------- the book


def render_book(
    condors: Sequence[ImportedPosition],
    *,
    sources: Sequence[tuple[str, str]],
    market: Mapping | None = None,
    market_source: str | None = None,
    leftovers: Sequence[Leftover] = (),
    journalled: Sequence[Journalled] = (),
) -> str:
    """The position file's text. ``sources`` are (export path, format) pairs; ``market``
    the raw ``[market]`` table of the ``--market`` file, if one was given; ``journalled``
    the positions the journal recorded, written first as the journal has them."""
    out = ["# alvh position file written by `alvh import` from:"]
    out += [f"#   {comment(path)} ({fmt})" for path, fmt in sources]
    if condors:
        out.append("# Entry prices and credits are the exports' cost basis, per index point.")
    if journalled:
        out.append(
            "# Positions from the journal keep the entry prices, credit and closed legs alvh "
            "apply wrote."
        )
    if market is None:
        out += [
            "# No market snapshot in this file: give one each time you run alvh, e.g.",
            "#   alvh check THIS_FILE --market today.toml",
        ]
    if leftovers:
        out += [
            "#",
            "# Not in this file (alvh import listed them; add them by hand if they belong):",
        ]
        for lo in leftovers:
            out.append(f"#   {comment(lo.describe())}: {comment(lo.reason)}")
    out.append("")
    if market is not None:
        out.append(f"# [market] copied from {comment(market_source or '--market')}")
        out += toml_table("market", market)
        out.append("")
    taken = {c.id for c in condors}
    for j in journalled:
        new_id = None
        if j.id in taken:
            new_id = next(f"{j.id}-{n}" for n in range(2, 10**6) if f"{j.id}-{n}" not in taken)
        taken.add(new_id or j.id)
        out.append(f"# from the journal: {comment(j.id)} {comment(j.describe())}")
        out += render_journalled(j, mark_lines, new_id)
        out.append("")
    for c in condors:
        out += _position(c)
    return "\n".join(out).rstrip("\n") + "\n"


def _position(c: ImportedPosition) -> list[str]:
    lines = ["[[positions]]", f"id = {toml_string(c.id)}"]
    if c.opened is not None:
        lines.append(f"opened = {c.opened.isoformat()}")
    shorts = [price(g.entry_price) for g in c.legs if g.quantity < 0]
    longs = [price(g.entry_price) for g in c.legs if g.quantity > 0]
    credit = sum(shorts)
    for x in longs:
        credit -= x
    net = " + ".join(map(repr, shorts)) + "".join(f" - {x!r}" for x in longs)
    lines.append(f"credit = {toml_value(round(credit, PRICE_DECIMALS))}    # per unit: {net}")
    for role, g in zip(c.roles, c.legs, strict=True):
        lines += _leg(g, role)
    for h in c.hedges:
        for g in h.legs:
            side = "long" if g.quantity > 0 else "short"
            lines += _leg(g, f"layer {h.layer} {side} VIX call", layer=h.layer)
    lines.append("")
    return lines


def _leg(g: ImportedLeg, role: str, layer: int | None = None) -> list[str]:
    lines = ["", f"  [[positions.legs]]    # {comment(role)} ({comment(g.source)})"]
    if g.underlying != "SPX":
        lines.append(f"  underlying = {toml_string(g.underlying)}")
    lines += [
        f"  root = {toml_string(g.root)}",
        f"  type = {toml_string(g.type)}",
        f"  strike = {toml_value(number(g.strike))}",
        f"  expiry = {g.expiry.isoformat()}",
        f"  quantity = {g.quantity}",
        f"  entry_price = {toml_value(price(g.entry_price))}",
    ]
    if layer is not None:
        lines.append(f"  layer = {layer}")
    return lines + mark_lines(g, "  ")


def mark_lines(g: ImportedLeg, indent: str = "") -> list[str]:
    """The broker's ``mark`` and ``mark_time`` of a leg, when the export gives them."""
    if g.mark is None:
        return []
    lines = [f"{indent}mark = {toml_value(price(g.mark))}"]
    if g.mark_time is not None:
        lines.append(f"{indent}mark_time = {toml_value(g.mark_time)}")
    return lines


# --------------------------------------------------------------------------- writing
