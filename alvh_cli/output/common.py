"""What every command's output shares: JSON and CSV emitters, the console, number
formats, the atomic file writer.

The output/ modules are the only ones that import rich. They receive plain data
from the core and never compute a figure of their own beyond formatting.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from alvh_cli.errors import InputError


class Dollars(float):
    """An amount of money in dollars: JSON and CSV round it to cents, whatever its key.

    Every producer of a dollar figure for output wraps it (``records``, and each
    command's output module at its edge); any other float keeps 10 significant digits,
    so a per-unit gamma of 0.00082, a theta of -1e-7 or an RSI of 56.9248 survive.
    """

    __slots__ = ()


def clean(value):
    """JSON-safe copy: NaN → null, Dollars to cents, other floats to 10 significant digits."""
    if isinstance(value, Dollars):
        return round(float(value), 2) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.10g}") if math.isfinite(value) else None
    return value


def write_atomic(path: Path | str, write: Callable[[IO[Any]], object], mode: str = "w") -> None:
    """Write a file whole or not at all: ``write(fh)`` fills a temporary file in
    ``path``'s folder, which is then renamed over ``path``.

    For every file alvh writes (position files, trades CSV, plots): an existing
    file is replaced only once the new one is complete, and a failed write leaves
    neither a half file nor the temporary one. ``mode`` is ``"w"`` (UTF-8 text,
    no newline translation: the writer's ``\n`` is what lands) or ``"wb"``. The
    file gets the permissions of any file the user creates (0666 less the umask,
    not mkstemp's 0600). A missing folder or an OS error raises InputError naming
    ``path``.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"no such directory: {folder}", str(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    try:
        text = {"newline": "", "encoding": "utf-8"} if "b" not in mode else {}
        with os.fdopen(fd, mode, **text) as fh:
            write(fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        _discard(tmp)
        raise InputError(f"cannot write: {exc.strerror or exc}", str(path)) from None
    except BaseException:
        _discard(tmp)
        raise


def _discard(tmp: str) -> None:
    if os.path.exists(tmp):
        os.unlink(tmp)


def console():
    from rich.console import Console

    # markup off: ids, reasons and file names are the user's text, never rich markup
    # Piped output (a script, a file) gets a wide table unless COLUMNS says otherwise.
    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(width=200 if wide else None, markup=False, highlight=False)


def emit_json(data) -> None:
    sys.stdout.write(json.dumps(clean(data), indent=2) + "\n")


def emit_csv(rows: Iterable[dict]) -> None:
    rows = [_flatten(clean(r)) for r in rows]
    fields: list[str] = []
    for r in rows:
        fields.extend(k for k in r if k not in fields)
    writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


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
    """``data`` with its ``warnings`` and ``errors`` lists (DESIGN §7, §8).

    ``warnings``: InputWarnings from loading; ``notes``: a command's own warnings as
    plain text (no file or key); ``errors``: the InputErrors of the files that could
    not be run. Both keys are always present, so a script can read them unguarded.
    """
    data["warnings"] = [problem_json(w) for w in warnings] + [
        {"source": "", "key": "", "message": n} for n in notes
    ]
    data["errors"] = [problem_json(e) for e in errors]
    return data


def print_problems(warnings=(), errors=()) -> None:
    """Warnings, then the bad files' errors, one line each on stderr, after the results:
    ``warning: file: key: message`` and ``alvh: file: key: message``."""
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    for e in errors:
        print(f"alvh: {e}", file=sys.stderr)


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


def regime_json(regime) -> dict:
    return {
        "elevated": regime.elevated,
        "active_signals": regime.active if regime.elevated is not None else None,
        "signals": [signal_json(s) for s in regime.signals],
        "note": regime.note,
    }


def signal_json(s) -> dict:
    return {
        "name": s.name,
        "active": s.active,
        "value": s.value,
        "threshold": s.threshold,
        "asof": s.asof.isoformat() if s.asof else None,
        "note": s.note,
    }


def print_recommendations(console, items) -> None:
    """The orders to place: ``items`` are (position id, recommendation record) pairs, the
    records of ``output.records.recommendation_json``."""
    from rich.table import Table

    right = ("qty", "cash $", "CVaR $", "EV $")
    r = Table(title="Recommendations", title_justify="left")
    for col in ("position", "action", "what", *right, "reason"):
        r.add_column(
            col,
            justify="right" if col in right else "left",
            overflow="fold",
            no_wrap=col in ("action", *right),
        )
    for pid, rec in items:
        hold = rec["action"] == "hold"
        r.add_row(
            pid,
            rec["action"] + (" !" if rec.get("attention") else ""),
            what(rec),
            "" if rec.get("quantity") is None else f"{rec['quantity']:g}",
            money(-rec["cost"]) if rec.get("cost") is not None else "",
            change(rec.get("cvar_before"), rec.get("cvar_after")),
            change(rec.get("ev_before"), rec.get("ev_after")),
            rec.get("reason", ""),
            style="" if hold and not rec.get("attention") else "bold",
        )
    console.print(r)
    console.print(
        "! = needs attention (layer 3 or past the 2x stop) even when the decision is to hold. "
        "cash $: premium received (> 0) or paid at the assumed fills; CVaR/EV: the position's "
        "figures over the scenario set, before → after."
    )


def change(before, after) -> str:
    if before is None:
        return ""
    if after is None or after == before:
        return money(before)
    return f"{money(before)} → {money(after)}"


def what(rec: dict) -> str:
    """The instrument, expiry and strikes of a recommendation record, in a few words."""
    action = rec["action"]
    if action == "open_hedge":
        return (
            f"VIX {rec['long_strike']:g}/{rec['short_strike']:g} C {rec['expiry']} L{rec['layer']}"
        )
    if action == "convert":
        return f"{rec['instrument']} {rec['root']} {rec['strike']:g} {rec['expiry']}"
    if action == "roll" and "from_strikes" in rec:
        a = "/".join(f"{k:g}" for k in rec["from_strikes"])
        b = "/".join(f"{k:g}" for k in rec["to_strikes"])
        name = rec["instrument"].replace("_", " ")
        return f"{name} {a} {rec['from_expiry']} → {b} {rec['to_expiry']}"
    if rec.get("legs"):
        n = len(rec["legs"])
        return f"{rec.get('instrument', '').replace('_', ' ')} ({n} leg{'s' * (n != 1)})"
    return ""
