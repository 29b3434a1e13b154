"""One reader of the numbers files write as text: every broker export and every chain file.

A number is read only when it cannot mean two things. Accepted: plain decimals
(``4.95``, ``-2``, ``+20``, ``.925``, ``1e-3``), and a comma only as a thousands
separator in the exact pattern ``1,234`` or ``1,234.56`` (groups of three digits, a
point for decimals), as US exports write money. Refused: anything else with a comma
— ``1,10`` and ``4.950,00`` are European decimals (1.10 and 4950.00), ``1,2345``
and ``12,34,567`` follow no grouping — a second point (``1.234.567``), underscores,
digits of other scripts, and text. No format alvh reads is documented to use another
locale; one that is would get a reader of its own, never a guess here.

Only the standard library is imported, so a reader that needs one number stays fast.
"""

from __future__ import annotations

import re

__all__ = ["NUMBER_CHARS", "read_number", "why_not_a_number"]

_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")

NUMBER_CHARS = frozenset("0123456789+-.eE")
"""Every character of a plain number (:func:`read_number` without a thousands comma): a
column holding no other reads the same through ``float``, which a bulk reader may use."""

_COMMA = (
    "a comma is read only as a thousands separator in groups of three before a decimal "
    "point (1,234.56): {text!r} may be a decimal comma (European 4.950,00 is 4950.00, "
    "1,10 is 1.10) — export with a point for decimals and no other separators"
)


def read_number(text: str) -> float:
    """``text`` (surrounding spaces ignored) as a float; ValueError saying why it is not
    one alvh reads unambiguously (module docstring). ``inf`` and ``nan`` are not numbers
    here; a literal too large for a float (``1e999``) gives ``inf``, for the caller's
    range check."""
    s = text.strip()
    if _PLAIN.fullmatch(s):
        return float(s)
    if _GROUPED.fullmatch(s):
        return float(s.replace(",", ""))
    raise ValueError(why_not_a_number(text))


def why_not_a_number(text: str) -> str:
    """The message for ``text`` that :func:`read_number` refuses."""
    s = text.strip()
    if "," in s:
        return _COMMA.format(text=s)
    if s.count(".") > 1 and s.replace(".", "").lstrip("+-").isdigit():
        return f"{s!r} has more than one point: a number has one decimal point"
    return f"not a number, got {s!r}"
