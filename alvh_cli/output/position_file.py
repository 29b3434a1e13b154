"""A position file rewritten after a fill: the lines of the legs that changed, nothing else.

The file stays the trader's: comments, order and layout are kept. A leg closed in full
gains ``closed`` and ``exit_price``; a leg closed in part has its ``quantity`` changed and
the part closed is written as a new leg; legs opened are written after the position's
last leg. Files whose legs are not written as ``[[positions.legs]]`` tables (inline
arrays) cannot be edited this way: :class:`NotEditable` says so, and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from alvh_cli.model.domain import Leg, Position
from alvh_cli.toml_text import toml_string, toml_value

_HEADER = re.compile(r"^\s*\[\[?\s*[A-Za-z0-9_\".\- ]+\]\]?\s*(#.*)?$")
_POSITION = re.compile(r"^\s*\[\[\s*positions\s*\]\]\s*(#.*)?$")
_LEG = re.compile(r"^(\s*)\[\[\s*positions\s*\.\s*legs\s*\]\]\s*(#.*)?$")
_QUANTITY = re.compile(r"^(\s*quantity\s*=\s*)([-+]?\d+)(.*)$")


class NotEditable(ValueError):
    """The file's layout is not one this editor can change line by line."""


def edit_position(text: str, old: Position, new: Position, index: int, note: str) -> str:
    """``text`` (a position file) with the ``index``-th position's legs changed from ``old``
    to ``new`` (:func:`alvh_cli.method.fills.apply_trades`); ``note`` ends the comment of
    each leg header written."""
    lines = text.splitlines()
    blocks = _leg_blocks(lines, index, len(old.legs) + len(old.closed))
    by_key = {g.key: g for g in (*new.legs, *new.closed) if g.key}
    inserts: dict[int, list[str]] = {}
    for g in old.legs:
        j = _leg_index(g.key)
        start, end = blocks[j]
        after = by_key.get(g.key)
        if after is None:
            raise NotEditable(f"{g.key} is not in the position after the fill")
        indent = _indent(lines[start])
        if after.closed is not None and g.closed is None:
            inserts.setdefault(_last_value(lines, start, end), []).extend(
                [
                    f"{indent}closed = {after.closed.isoformat()}",
                    f"{indent}exit_price = {toml_value(_price(after.exit_price))}",
                ]  # fmt: skip
            )
        elif after.quantity != g.quantity:
            k = next((k for k in range(start, end) if _QUANTITY.match(lines[k])), None)
            if k is None:
                raise NotEditable(f"{g.key}: no 'quantity = ...' line to change")
            m = _QUANTITY.match(lines[k])
            lines[k] = f"{m.group(1)}{after.quantity}{m.group(3)}"
    added = [g for g in (*new.legs, *new.closed) if not g.key]
    if added:
        start, end = max(blocks.values())  # the position's last leg table in the file
        at, indent = _last_value(lines, start, end), _indent(lines[start])
        text_added = []
        for g in added:
            text_added += ["", *(indent + line for line in leg_lines(g, note))]
        inserts.setdefault(at, []).extend(text_added)
    out = []
    for k, line in enumerate(lines):
        out.append(line)
        out.extend(inserts.get(k, ()))
    return "\n".join(out) + "\n"


def leg_lines(g: Leg, note: str) -> list[str]:
    """One leg as a ``[[positions.legs]]`` table."""
    out = [f"[[positions.legs]]    # {note}"]
    if g.underlying != "SPX":
        out.append(f"underlying = {toml_string(g.underlying)}")
    out.append(f"root = {toml_string(g.root)}")
    out.append(f"type = {toml_string(g.type)}")
    if g.strike is not None:
        out.append(f"strike = {toml_value(_number(g.strike))}")
    out += [
        f"expiry = {g.expiry.isoformat()}",
        f"quantity = {int(g.quantity)}",
        f"entry_price = {toml_value(_price(g.entry_price))}",
    ]
    if g.layer is not None:
        out.append(f"layer = {g.layer}")
    if g.entry_vix is not None:
        out.append(f"entry_vix = {toml_value(float(g.entry_vix))}")
    for name in ("opened", "closed"):
        day: date | None = getattr(g, name)
        if day is not None:
            out.append(f"{name} = {day.isoformat()}")
    if g.exit_price is not None:
        out.append(f"exit_price = {toml_value(_price(g.exit_price))}")
    return out


def _leg_blocks(lines: Sequence[str], index: int, count: int) -> dict[int, tuple[int, int]]:
    """The line span [start, end) of each ``[[positions.legs]]`` table of the ``index``-th
    position, by the leg's index in it."""
    headers = [k for k, line in enumerate(lines) if _HEADER.match(line)]
    position, legs = -1, {}
    for n, k in enumerate(headers):
        if _POSITION.match(lines[k]):
            position += 1
            continue
        if _LEG.match(lines[k]) and position == index:
            end = headers[n + 1] if n + 1 < len(headers) else len(lines)
            legs[len(legs)] = (k, end)
    if len(legs) != count:
        raise NotEditable(
            f"the file writes {len(legs)} [[positions.legs]] tables for position {index}, "
            f"which has {count} legs (inline tables cannot be edited line by line)"
        )
    return legs


def _leg_index(key: str) -> int:
    return int(key.rsplit("[", 1)[1].rstrip("]"))


def _last_value(lines: Sequence[str], start: int, end: int) -> int:
    """The last line of a table that is not blank or a comment."""
    for k in range(end - 1, start - 1, -1):
        stripped = lines[k].strip()
        if stripped and not stripped.startswith("#"):
            return k
    return start


def _indent(header: str) -> str:
    return header[: len(header) - len(header.lstrip())]


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _price(x: float) -> float:
    return round(float(x), 6)  # finer than any price alvh writes (fills: 4 decimals)
