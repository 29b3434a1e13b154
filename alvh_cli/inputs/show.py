"""Values written back to the trader in messages, as the TOML file writes them."""

from __future__ import annotations

from datetime import date, time


def show_num(x: float) -> str:
    """A number as a trader writes it: 5400, 6100.5, 0.042 (and 1e+308, not 309 digits)."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


def show(value: object) -> str:
    """A value as it would appear in the TOML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return repr(value)  # pragma: no cover
