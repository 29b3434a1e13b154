"""Generic validation of parsed TOML by the field tables of ``schema.py``.

Every problem raises :class:`~alvh_cli.errors.InputError` naming the file as
given, the key path (``positions[0].legs[2].strike``) and what is wrong, in the
form ``must be > 0, got -5400``.

Choices (``type``, ``underlying``, ``root``) are matched case-insensitively and
normalised (``"Put"`` → ``"put"``, ``"spxw"`` → ``"SPXW"``): a tired trader's
capital letter is not ambiguous.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from datetime import date, datetime

from alvh_cli.errors import InputError
from alvh_cli.inputs.schema import Field
from alvh_cli.inputs.show import show, show_num


def check_table(raw: object, fields: tuple[Field, ...], source: str, key: str) -> dict:
    """Check a table against its fields; return the present keys' cleaned values."""
    if not isinstance(raw, dict):
        raise InputError(f"must be a table, got {show(raw)}", source, key)
    by_name = {f.name: f for f in fields}
    for name in raw:
        if name not in by_name:
            raise InputError(_unknown_key(name, by_name), source, _join(key, name))
    out = {}
    for f in fields:
        sub = _join(key, f.name)
        if f.name in raw:
            out[f.name] = check_value(raw[f.name], f, source, sub)
        elif f.required:
            note = f" {f.required_note}" if f.required_note else ""
            raise InputError(f"required{note}", source, sub)
    return out


def check_value(value: object, f: Field, source: str, key: str) -> object:
    kind = f.kind
    if kind == "table":
        if isinstance(value, list):
            raise InputError(
                f"must be a single table [{_header(key)}], got an array of tables", source, key
            )
        return check_table(value, f.fields, source, key)
    if kind == "tables":
        if isinstance(value, dict):
            raise InputError(
                f"must be an array of tables [[{_header(key)}]], got a single table "
                f"[{_header(key)}]",
                source,
                key,
            )
        if not isinstance(value, list):
            raise InputError(f"must be an array of tables, got {show(value)}", source, key)
        return [check_table(v, f.fields, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if kind == "rules":
        return check_rules(value, source, key)
    if kind == "string":
        return _check_string(value, f, source, key)
    if kind in ("number", "integer"):
        return _check_number(value, f, source, key)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InputError(_want("true or false", value), source, key)
        return value
    if kind == "date":
        if isinstance(value, datetime):
            raise InputError(
                f"must be a date (YYYY-MM-DD), got a date-time {show(value)}", source, key
            )
        if isinstance(value, date):
            return value
        raise InputError(_want("a date (YYYY-MM-DD)", value), source, key)
    if kind == "instant":
        if isinstance(value, date):  # datetime is a date too
            return value
        raise InputError(
            _want("a date or date-time (2026-11-24T15:45:00-05:00)", value), source, key
        )
    raise AssertionError(f"unknown field kind {kind!r}")  # pragma: no cover


def _check_string(value: object, f: Field, source: str, key: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"must be a string (in quotes), got {show(value)}", source, key)
    if not f.choices:
        if not value.strip():
            raise InputError("must not be empty", source, key)
        return value
    canonical = {c.lower(): c for c in f.choices}
    found = canonical.get(value.strip().lower())
    if found is None:
        allowed = ", ".join(f'"{c}"' for c in f.choices)
        raise InputError(f"must be one of {allowed}, got {show(value)}", source, key)
    return found


def _check_number(value: object, f: Field, source: str, key: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(_want("a number", value), source, key)
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"must be a finite number, got {show(value)}", source, key)
    if f.kind == "integer" and not isinstance(value, int):
        raise InputError(
            f"must be a whole number (no decimal point), got {show(value)}", source, key
        )
    if f.nonzero and value == 0:
        raise InputError("must not be 0 (signed contracts: + long, - short)", source, key)
    if not _within(value, f):
        hint = f" {f.hint}" if f.hint else ""
        raise InputError(f"must be {_bounds_text(f)}{hint}, got {show(value)}", source, key)
    return value if f.kind == "integer" else float(value)


def _within(x: float, f: Field) -> bool:
    return not (
        (f.gt is not None and not x > f.gt)
        or (f.ge is not None and not x >= f.ge)
        or (f.lt is not None and not x < f.lt)
        or (f.le is not None and not x <= f.le)
    )


def _bounds_text(f: Field) -> str:
    if f.ge is not None and f.le is not None:
        return f"between {show_num(f.ge)} and {show_num(f.le)}"
    parts = [
        f"{op} {show_num(b)}"
        for op, b in ((">", f.gt), (">=", f.ge), ("<", f.lt), ("<=", f.le))
        if b is not None
    ]
    return " and ".join(parts)


def check_rules(value: object, source: str, key: str) -> dict:
    """A rules table: every value a finite number (keys and ranges checked in rules.py).

    No rule is a switch (``profit_take = 0`` turns the profit take off), so true/false
    is refused here, as the JSON Schema refuses it."""
    if not isinstance(value, dict):
        raise InputError(f"must be a table, got {show(value)}", source, key)
    for name, v in value.items():
        sub = _join(key, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(_want("a number", v), source, sub)
        if not math.isfinite(v):
            raise InputError(f"must be a finite number, got {show(v)}", source, sub)
    return dict(value)


# Words traders use for a key that spelling similarity cannot find.
SYNONYMS = {
    "expiration": "expiry",
    "expiration_date": "expiry",
    "exp": "expiry",
    "maturity": "expiry",
    "qty": "quantity",
    "contracts": "quantity",
    "size": "quantity",
    "price": "entry_price",
    "premium": "entry_price",
    "fill": "entry_price",
    "k": "strike",
    "kind": "type",
    "right": "type",
    "cp": "type",
    "symbol": "occ",
    "osi": "occ",
}


def _unknown_key(name: str, known: Iterable[str]) -> str:
    known = list(known)
    synonym = SYNONYMS.get(name.strip().lower())
    if synonym in known:
        close = [synonym]
    else:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {name!r}{hint}"


def _want(what: str, value: object) -> str:
    hint = ""
    if isinstance(value, str):
        if "date" in what:
            hint = " (write dates without quotes)"
        elif "number" in what and _looks_numeric(value):
            hint = " (write numbers without quotes)"
    return f"must be {what}, got {show(value)}{hint}"


def _looks_numeric(s: str) -> bool:
    try:
        float(s.replace("_", "").replace(",", ""))
    except ValueError:
        return False
    return True


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _header(key: str) -> str:
    """``positions[0].legs`` → ``positions.legs`` (the TOML table header)."""
    return re.sub(r"\[\d+\]", "", key)
