"""What every command's output shares: JSON and CSV emitters, the console, number
formats, the atomic file writer.

The output/ modules are the only ones that import rich. They receive plain data
from the core and never compute a figure of their own beyond formatting.
"""

from __future__ import annotations

import csv
import gc
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from alvh_cli.errors import printable


class Dollars(float):
    """An amount of money in dollars: JSON and CSV round it to cents, whatever its key.

    Every producer of a dollar figure for output wraps it (``records``, and each
    command's output module at its edge); any other float keeps 10 significant digits,
    so a per-unit gamma of 0.00082, a theta of -1e-7 or an RSI of 56.9248 survive.
    """

    __slots__ = ()


_PLAIN = frozenset((str, int, bool, type(None)))


def clean(value):
    """JSON-safe copy: NaN → null, Dollars to cents, other floats to 10 significant digits."""
    # Exact-type fast paths first: a 10,000-position book is a million and a half values.
    t = type(value)
    if t is dict:
        return _clean_dict(value)
    if t is list:
        return _clean_list(value)
    if t is float:
        return float(f"{value:.10g}") if value - value == 0.0 else None
    if t is Dollars:
        return round(value, 2) if value - value == 0.0 else None
    if t in _PLAIN:
        return value
    if isinstance(value, Dollars):
        return round(float(value), 2) if math.isfinite(value) else None
    if isinstance(value, dict):
        return _clean_dict(value)
    if isinstance(value, (list, tuple)):
        return _clean_list(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.10g}") if math.isfinite(value) else None
    return value


# The two loops below repeat clean's leaf cases inline: a call per leaf was most of
# clean's cost. ``x - x == 0.0`` is the finiteness test (NaN and ±inf fail it);
# round() on a Dollars gives a plain float.


def _clean_dict(d) -> dict:
    out = {}
    for k, v in d.items():
        t = type(v)
        if t is Dollars:
            out[k] = round(v, 2) if v - v == 0.0 else None
        elif t is float:
            out[k] = float(f"{v:.10g}") if v - v == 0.0 else None
        elif t in _PLAIN:
            out[k] = v
        elif t is dict:
            out[k] = _clean_dict(v)
        else:
            out[k] = clean(v)
    return out


def _clean_list(items) -> list:
    out = []
    add = out.append
    for v in items:
        t = type(v)
        if t is dict:
            add(_clean_dict(v))
        elif t is Dollars:
            add(round(v, 2) if v - v == 0.0 else None)
        elif t is float:
            add(float(f"{v:.10g}") if v - v == 0.0 else None)
        elif t in _PLAIN:
            add(v)
        else:
            add(clean(v))
    return out


@contextmanager
def collector_paused():
    """Python's cycle collector off while a command writes its output (usable as a
    decorator), or for the whole of ``check`` and ``review``. The records are trees of
    dicts, lists and strings, freed by reference counting as each is written; the
    collector would find no cycles in them, but every full pass it makes walks the whole
    checked book again: a third of the output's time on a 1,000-position book. Loading
    a review's book and history is the same: 0.3 s of passes on the 1,000-file
    benchmark book, for the same peak memory."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def console():
    from rich.console import Console

    # markup off: ids, reasons and file names are the user's text, never rich markup
    # Piped output (a script, a file) gets a wide table unless COLUMNS says otherwise.
    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(width=200 if wide else None, markup=False, highlight=False)


def table(title: str, **kw):
    """A rich table titled ``title``: boxed at a terminal, plain aligned columns (no box
    drawing) into a pipe or a file, where a mail or a script reads it."""
    from rich.table import Table

    if not sys.stdout.isatty():
        kw.setdefault("box", None)
    return Table(title=title, title_justify="left", **kw)


def layout_console():
    """The console of the commands laid out by :mod:`alvh_cli.output.layout`: rich at a
    terminal; to a pipe or a file, plain text at ``COLUMNS`` (default 200) columns."""
    if sys.stdout.isatty():
        return console()
    from alvh_cli.output.layout import PipeConsole

    try:
        width = int(os.environ.get("COLUMNS", "200"))
    except ValueError:
        width = 200
    return PipeConsole(max(width, 20), sys.stdout)


def print_table(grid, after: Iterable[str] = ()) -> None:
    """One table (an ``output.layout.Grid``) and the lines after it: a rich table at a
    terminal, aligned plain text into a pipe or a file (no box drawing in a mail)."""
    from alvh_cli.output.layout import Layout, Out

    console = layout_console()
    out = Out(console, Layout(console.width, False, not console.is_terminal))
    out.grid(grid)
    for line in after:
        out.line(line)
    out.flush()


class Encoded(str):
    """A list item already written as compact JSON (:func:`encoded`): a compact writer
    writes it as it is."""

    __slots__ = ()


_COMPACT = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def encoded(value) -> Encoded:
    """``value`` cleaned (:func:`clean`) and written as compact JSON, the text
    :func:`write_json` gives it as a list item: so a forked copy of this process can write
    its share of a list (``alvh_cli.forked``)."""
    return Encoded(_COMPACT(clean(value)))


def compact_stdout() -> bool:
    """Whether :func:`emit_json` writes compact JSON (stdout not a terminal), where a list's
    items may come :class:`Encoded`."""
    return not sys.stdout.isatty()


def emit_json(data: dict, finish: Callable[[Any, str], Any] | None = None) -> None:
    """``data`` as JSON on stdout, cleaned (:func:`clean`; then ``finish(value, key)`` when
    given). Indented for a person at a terminal; compact when stdout is a pipe or a file,
    and then written a list item at a time, so a 10,000-position book is never held as
    one cleaned copy and one string besides the data (memory), and json's C encoder does
    the work (the indenting encoder is pure Python)."""
    write_json(sys.stdout, data, indent=None if compact_stdout() else 2, finish=finish)


def write_json(fh: IO[str], data: dict, indent: int | None = None, finish=None) -> None:
    """``data`` (a dict) as one JSON document on ``fh``, newline-terminated; see
    :func:`emit_json`. Compact (``indent`` None) output streams the top-level lists
    (and iterators, read once: a producer may build each item as it is written);
    ``finish`` then sees each item of such a list (with the list's key), except an
    :class:`Encoded` item: written as it is, or read back to be indented."""

    def ready(value, key: str = ""):
        value = clean(value)
        return finish(value, key) if finish is not None else value

    if indent is not None:
        whole = {k: _decoded(v) if isinstance(v, (list, Iterator)) else v for k, v in data.items()}
        fh.write(json.dumps(ready(whole), indent=indent) + "\n")
        return
    # clean() hands over fresh trees, which cannot hold a cycle: no need to look for one
    compact = _COMPACT
    fh.write("{")
    for i, (key, value) in enumerate(data.items()):
        fh.write(("," if i else "") + compact(key) + ":")
        if isinstance(value, (list, Iterator)):
            fh.write("[")
            for j, item in enumerate(value):
                text = item if type(item) is Encoded else compact(ready(item, key))
                fh.write(("," if j else "") + text)
            fh.write("]")
        else:
            fh.write(compact(ready(value, key)))
    fh.write("}\n")


def _decoded(items) -> list:
    """A list's items, any :class:`Encoded` one read back (an indented writer lays it out)."""
    return [json.loads(x) if type(x) is Encoded else x for x in items]


def emit_csv(rows: Iterable[dict], header: Iterable[str] = ()) -> None:
    """``rows`` as CSV with a header of every key seen (nested keys flattened ``a.b``);
    ``header`` names the columns to write when there are no rows, so a script always
    reads a header."""
    rows = [{k: neutralise(v) for k, v in _flatten(clean(r)).items()} for r in rows]
    fields: list[str] = [] if rows else list(header)
    for r in rows:
        fields.extend(k for k in r if k not in fields)
    writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A CSV cell a spreadsheet will not run as a formula (OWASP's rule against CSV
    injection): text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading ``'`` — an account ``=cmd|' /C calc'!A0`` in a position id is shown,
    not run. Numbers, and text that reads as a number (``-2.5``), are left as they are."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if value[0] in "+-":
        try:
            float(value)
            return value
        except ValueError:
            pass
    return "'" + value


def _flatten(row: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in row.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, f"{name}."))
        elif isinstance(v, list):
            out[name] = json.dumps(v)
        else:
            out[name] = "" if v is None else v
    return out


def problem_json(problem) -> dict:
    """An InputWarning or InputError as JSON: ``source``, ``key``, ``message`` (errors also
    ``line``, the line of a TOML syntax error or null)."""
    out = {"source": problem.source, "key": problem.key, "message": problem.message}
    if isinstance(problem, Exception):
        out["line"] = problem.line
    return out


def with_problems(data: dict, warnings=(), errors=(), notes=()) -> dict:
    """``data`` with its ``warnings`` and ``errors`` lists.

    ``warnings``: InputWarnings from loading; ``notes``: a command's own warnings as
    plain text (no file or key); ``errors``: the InputErrors of the files that could
    not be run. Both keys are always present, so a script can read them unguarded.
    """
    data["warnings"] = [problem_json(w) for w in warnings] + [
        {"source": "", "key": "", "message": n} for n in notes
    ]
    data["errors"] = [problem_json(e) for e in errors]
    return data


def marks_lines(marks) -> list[str]:
    """One line per file with broker marks on its legs (``marks``: (file, ``MarkUse``)): how
    many priced their legs and when they were marked, then each not used and why."""
    if not marks:
        return []
    from alvh_cli.model.marks import STATUS
    from alvh_cli.model.timing import new_york_stamp

    by_file: dict[str, list] = {}
    for source, m in marks:
        by_file.setdefault(source, []).append(m)
    out = []
    for source, ms in by_file.items():
        used = [m for m in ms if m.used]
        parts = []
        if used:
            stamps = ", ".join(sorted({new_york_stamp(m.leg.mark_time) for m in used}))
            parts.append(f"{len(used)} priced {'its leg' if len(used) == 1 else 'their legs'} "
                         f"(marked {stamps})")  # fmt: skip
        parts += [f"{m.leg.key} {STATUS[m.status]}" for m in ms if not m.used]
        out.append(f"broker marks ({source}): {'; '.join(parts)}")
    return out


def print_problems(warnings=(), errors=()) -> None:
    """Warnings, then the bad files' errors, one line each on stderr, after the results:
    ``warning: file: key: message`` and ``alvh: file: key: message``. The same warning on
    several files (seven sample files with one stale snapshot time) is one line naming
    the first file and how many more."""
    groups: dict[tuple[str, str], list] = {}
    for w in warnings:
        groups.setdefault((w.key, w.message), []).append(w)
    for same in groups.values():
        w = same[0]
        if len(same) > 1:
            others = f"{len(same) - 1} other file{'s' * (len(same) > 2)}"
            w = type(w)(w.message, f"{w.source} and {others}", w.key)
        print(printable(f"warning: {w}"), file=sys.stderr)
    for e in errors:
        print(printable(f"alvh: {e}"), file=sys.stderr)


def money(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return _unsigned_zero(f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}")


def num(x, fmt: str = ".2f") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return _unsigned_zero(format(x, fmt))


def _unsigned_zero(text: str) -> str:
    """'-0.00' → '0.00': a value that rounds to zero has no sign worth showing."""
    if text.startswith("-") and not text.strip("-0.,"):
        return text[1:]
    return text


def side_text(side: str) -> str:
    """ "put side tested", or "no side tested" while a calm position leans on neither."""
    return "no side tested" if side == "none" else f"{side} side tested"


def note_text(text: str) -> str:
    """A note of the method as a command-line user reads it: each parameter it names
    (``{flag:events}``) as its option (``--events``)."""
    from alvh_cli.errors import options_named

    return options_named(text)


def regime_json(regime) -> dict:
    return {
        "elevated": regime.elevated,
        "active_signals": regime.active if regime.elevated is not None else None,
        "signals": [signal_json(s) for s in regime.signals],
        "note": note_text(regime.note),
    }


def signal_json(s) -> dict:
    return {
        "name": s.name,
        "active": s.active,
        "value": s.value,
        "threshold": s.threshold,
        "asof": s.asof.isoformat() if s.asof else None,
        "note": note_text(s.note),
    }


RECOMMENDATION_NOTE = (
    "! = needs attention (layer 3 or past the 2x stop) even when the decision is to hold. "
    "Orders: one per venue (SPX and VIX legs never together), the limit per unit on the "
    "exchange tick, rounded in your favour from the assumed fills (natural bid/ask when "
    "quoted, else model ± half-spread); cash $: received (> 0) or paid at those limits. "
    "CVaR/EV: the position's figures over the scenario set, before → after."
)


def action_text(rec: dict) -> str:
    """``open_hedge L1 !``: the action, the layer it adds to, and the attention mark."""
    text = rec["action"]
    if rec["action"] in ("open_hedge", "trim_hedge", "close_hedge") and rec.get("layer"):
        text += f" L{rec['layer']}"
    return text + (" !" if rec.get("attention") else "")


def order_lines(rec: dict) -> list[str]:
    """Each order of a recommendation record: its legs, one a line, then its limit
    ("debit 2.10 × 8")."""
    lines = []
    for o in rec.get("orders") or ():
        lines.extend(leg_text_of(g) for g in o["legs"])
        lines.append(f"{o['limit_text']} × {o['quantity']}")
    return lines


def leg_text_of(g: dict) -> str:
    """An order leg record in a few words: "BTC 10 SPXW 18Dec26 5650P"."""
    from datetime import date

    when = date.fromisoformat(g["expiry"]).strftime("%d%b%y")
    if g["type"] == "future":
        product = "VXM" if g["root"] == "VXM" else "VX"
        return f"{g['action']} {g['quantity']} {product} {when} future"
    return f"{g['action']} {g['quantity']} {g['root']} {when} {g['strike']:g}{g['type'][0].upper()}"


def cash_text(rec: dict) -> str:
    """Dollars received (> 0) or paid (< 0) at the orders' limits; blank without orders."""
    return money(-rec["cost"]) if rec.get("cost") is not None else ""


def recommendations_grid(items):
    """The orders to place as a grid: ``items`` are (position id, recommendation record)
    pairs, the records of ``output.records.recommendation_json``. The figures before →
    after share one column (CVaR over EV), so the grid fits 120 columns."""
    from alvh_cli.output.layout import Column, Grid

    grid = Grid(
        [
            Column("position", "left"),
            Column("action", "left"),
            Column("orders", "left"),
            Column("CVaR / EV $", "left"),
            Column("reason", "left", wrap=True),
        ],
        title="Recommendations",
    )
    for pid, rec in items:
        hold = rec["action"] == "hold"
        figures = [
            change(rec.get("cvar_before"), rec.get("cvar_after")),
            change(rec.get("ev_before"), rec.get("ev_after")),
        ]
        grid.add(
            pid,
            action_text(rec),
            "\n".join(order_lines(rec)),
            "\n".join(f for f in figures if f),
            "; ".join([rec.get("reason", ""), *order_notes(rec)]),
            style="" if hold and not rec.get("attention") else "bold",
        )
    return grid


# Alternatives that differ only in size: one line for the best size and one for the whole.
SIZED = ("convert", "close_vertical", "close_position")


def shown_alternatives(rec: dict) -> tuple[list[tuple[dict, bool]], int]:
    """The Layer 3 alternatives of a recommendation record worth a line, each with whether
    it is the decision, and how many were left out: of those that differ only in size,
    the best and the whole size."""
    alts = list(rec.get("alternatives") or ())

    def mine(a) -> bool:
        return a.get("ev") == rec.get("ev_after") and a.get("cvar") == rec.get("cvar_after")

    keep = set()
    for i, a in enumerate(alts):
        if a["action"] not in SIZED or mine(a) or i == 0:
            keep.add(i)
    for action in SIZED:
        group = [i for i, a in enumerate(alts) if a["action"] == action]
        if group:
            keep.add(max(group, key=lambda i: (alts[i].get("objective") or 0.0, -i)))
            keep.add(group[-1])
    rows = [(alts[i], mine(alts[i])) for i in sorted(keep)]
    return rows, len(alts) - len(keep)


def hidden_note(hidden: int) -> str:
    return f"{hidden} other size{'s' if hidden != 1 else ''} weighed: --format json lists them"


def verdict(a: dict, mine: bool, short: bool = False) -> str:
    """ "chosen", or why not: in a grid (``short``) only what its objective column does
    not say."""
    if mine:
        return "chosen"
    if not a.get("eligible"):
        return "over the CVaR limit" if short else a.get("why_not") or ""
    return "" if short else a.get("why_not") or "as good, not chosen"


def loss_text(x) -> str:
    """A max loss: "unlimited" for −inf (or None, as JSON writes it)."""
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return "unlimited"
    return money(x)


def alternatives_of(pid: str, rec: dict):
    """The Layer 3 alternatives of a recommendation record as a grid (its decision marked
    "chosen"), or None when it weighed none."""
    from alvh_cli.output.layout import Column, Grid

    rows, hidden = shown_alternatives(rec)
    if not rows:
        return None
    grid = Grid(
        [Column("alternative", "left"), Column("objective $"), Column("EV $"),
         Column("CVaR $"), Column("max loss $"), Column("cost $"), Column("verdict", "left")],
        title=f"{pid}: layer 3 alternatives, each over the scenarios (objective "
        f"{rec.get('preference') or 'EV + γ·CVaR'})"
        + (f"; {hidden_note(hidden)}" if hidden else ""),
    )  # fmt: skip
    for a, mine in rows:
        grid.add(
            a["name"],
            money(a.get("objective")),
            money(a.get("ev")),
            money(a.get("cvar")),
            loss_text(a.get("max_loss")),
            money(a.get("trading_cost")),
            verdict(a, mine, short=True),
            style="bold" if mine else "",
        )
    return grid


def order_notes(rec: dict) -> list[str]:
    return [f"order note: {o['note']}" for o in rec.get("orders") or () if o.get("note")]


def recommendation_block(out, rec: dict, indent: int = 2, pid: str = "") -> None:
    """One recommendation stacked: action, each order (its limit, then its legs one a
    line), the cash and figures, then the reason on a line of its own."""
    hold = rec["action"] == "hold"
    head = f"{pid}: " if pid else ""
    out.line(
        f"{head}{action_text(rec)}",
        style="" if hold and not rec.get("attention") else "bold",
        indent=indent,
    )
    for o in rec.get("orders") or ():
        out.line(
            f"{o['underlying']} order, {o['limit_text']} × {o['quantity']}:", indent=indent + 2
        )
        for g in o["legs"]:
            out.line(leg_text_of(g), indent=indent + 4)
        if o.get("note"):
            out.line(f"note: {o['note']}", indent=indent + 4)
    figures = []
    if rec.get("cost") is not None:
        figures.append(f"cash $ {cash_text(rec)}")
    if rec.get("cvar_before") is not None:
        figures.append(f"CVaR $ {change(rec.get('cvar_before'), rec.get('cvar_after'))}")
        figures.append(f"EV $ {change(rec.get('ev_before'), rec.get('ev_after'))}")
    if figures:
        out.fields(figures, indent=indent + 2)
    if rec.get("reason"):
        out.line(f"why: {rec['reason']}", indent=indent + 2)


def change(before, after) -> str:
    if before is None:
        return ""
    if after is None or after == before:
        return money(before)
    return f"{money(before)} → {money(after)}"
