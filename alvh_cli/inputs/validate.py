"""Loading, stage 2: a parsed TOML table checked key by key, into one form.

Every key is checked by the field tables of ``schema.py`` (:func:`check_table`),
then what a field table cannot say about the keys themselves: a leg or quote
gives ``occ`` or type, strike and expiry (never both), a root fits its
underlying, a future has no strike, VIX legs carry a layer, ids are printable
and unique, a file holds positions. What the values mean together (the
condor's shape, trading days, bands around spot) is ``sanity.py``'s, after the
objects are built (``build.py``).

Every problem raises :class:`~alvh_cli.errors.InputError` naming the file as
given, the key path (``positions[0].legs[2].strike``) and what is wrong, in the
form ``must be > 0, got -5400``; inside a position, with its id.

Choices (``type``, ``underlying``, ``root``) are matched case-insensitively and
normalised (``"Put"`` → ``"put"``, ``"spxw"`` → ``"SPXW"``): a tired trader's
capital letter is not ambiguous. Each leg and quote comes out with its
``underlying``, ``root``, ``type``, ``strike`` (None for a future) and
``expiry`` filled in, from its OSI symbol or the defaults; ``occ`` is kept, so
that later messages can name it.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from alvh_cli.errors import InputError
from alvh_cli.inputs.schema import FILE_FIELDS, MAX_POINTS, OCC_REPLACES, YEARS, Field
from alvh_cli.inputs.show import show, show_num
from alvh_cli.model.contracts import DEFAULT_ROOT, ROOT_UNDERLYING, parse_osi, root_problem

_MARKET_FIELD = next(f for f in FILE_FIELDS if f.name == "market")


def check_file(raw: dict, source: str) -> dict:
    """A position file's table (positions, optional market and rules), checked and in one
    form (module docstring)."""
    try:
        top = check_table(raw, FILE_FIELDS, source, "")
        if not top.get("positions"):
            raise InputError("no [[positions]] in file", source)
        top["positions"] = _positions(top["positions"], source)
    except InputError as exc:
        raise with_position_id(exc, raw.get("positions")) from None
    if "market" in top:
        top["market"] = _market(top["market"], source)
    return top


def check_market(table: Mapping, source: str) -> dict:
    """A ``[market]`` table (already parsed from TOML), checked and in one form."""
    return _market(check_value(table, _MARKET_FIELD, source, "market"), source)


def check_market_level(value: float, name: str, option: str) -> float:
    """A market level given as a parameter (``alvh market --vix``) instead of in a file,
    held to the bounds a ``[market]`` table's key ``name`` is (``MARKET_FIELDS``): finite,
    and within its range. A bad one is an error naming the parameter by its role
    ``option``, not a file."""
    field = next(f for f in _MARKET_FIELD.fields if f.name == name)
    try:
        return check_value(value, field, "", "")
    except InputError as exc:
        raise InputError(exc.message, option=option) from None


def check_market_file(doc: dict, source: str) -> dict:
    """The ``[market]`` table of a market file (``--market FILE``); other tables are ignored."""
    if "market" not in doc:
        tables = [k for k, v in doc.items() if isinstance(v, (dict, list))]
        close = difflib.get_close_matches("market", tables, n=1, cutoff=0.6)
        if close:
            raise InputError(
                f"no [market] table (did you mean [market] instead of [{close[0]}]?)",
                source,
                close[0],
            )
        raise InputError("no [market] table in file", source, "market")
    return check_market(doc["market"], source)


def check_rules_file(doc: dict, source: str) -> dict:
    """Rule overrides of a rules file (``--rules FILE``): its ``[rules]`` table, or its
    top-level keys. Only checks that every value is a finite number; which keys exist,
    and their ranges, are ``alvh_cli.model.rules``' business."""
    if "rules" in doc:
        return check_rules(doc["rules"], source, "rules")
    other = [k for k in ("positions", "market") if k in doc]
    if other:
        raise InputError(f"no [rules] table in file (it has [{other[0]}])", source, "rules")
    return check_rules(doc, source, "")


def with_position_id(exc: InputError, raw_positions) -> InputError:
    """The error with the position's id appended, when its key is inside ``positions[i]``
    and that position has a string id: ``… (position 'dec-ic')``."""
    m = re.match(r"positions\[(\d+)\]", exc.key)
    if not m or not isinstance(raw_positions, list):
        return exc
    i = int(m.group(1))
    raw = raw_positions[i] if i < len(raw_positions) else None
    pid = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(pid, str) or not pid.strip() or exc.key == f"positions[{i}].id":
        return exc
    return InputError(f"{exc.message} (position {pid!r})", exc.source, exc.key, exc.line)


# ------------------------------------------------------------ what a field table cannot say


def _positions(positions: list[dict], source: str) -> list[dict]:
    """Printable, unique ids; each leg in one form."""
    seen: dict[str, str] = {}
    out = []
    for i, pv in enumerate(positions):
        key = f"positions[{i}]"
        pid = pv["id"]
        if not pid.isprintable():
            raise InputError(
                f"id must be printable text (no control characters or tabs), got {show(pid)}",
                source,
                f"{key}.id",
            )
        if pid in seen:
            raise InputError(f"duplicate id {pid!r} (also {seen[pid]})", source, f"{key}.id")
        seen[pid] = key
        legs = [_leg(lv, source, f"{key}.legs[{j}]") for j, lv in enumerate(pv["legs"])]
        out.append({**pv, "legs": legs})
    return out


def _leg(lv: dict, source: str, key: str) -> dict:
    """A leg gives occ or type/strike/expiry; a root of its underlying; a future only on
    VIX, without strike or iv; VIX legs (hedges) a layer, and only layer legs entry_vix."""
    if "occ" in lv:
        root, typ, strike, expiry, underlying = _occ_fields(lv, source, key)
    else:
        underlying = lv.get("underlying", "SPX")
        if not any(n in lv for n in OCC_REPLACES[1:]):
            raise InputError("a leg needs either occ or type, strike and expiry", source, key)
        for n in ("type", "expiry"):
            if n not in lv:
                raise InputError("required (or give occ)", source, f"{key}.{n}")
        typ = lv["type"]
        expiry = lv["expiry"]
        root = lv.get("root", DEFAULT_ROOT[underlying])
        problem = root_problem(root, underlying, typ)
        if problem is not None:
            raise InputError(problem, source, f"{key}.root")
        if typ == "future":
            if underlying != "VIX":
                raise InputError(
                    "'future' is only for VIX legs (set underlying = \"VIX\")",
                    source,
                    f"{key}.type",
                )
            for n in ("strike", "iv"):
                if n in lv:
                    raise InputError(f"a future has no {n}", source, f"{key}.{n}")
            strike = None
        else:
            if "strike" not in lv:
                raise InputError("required (or give occ)", source, f"{key}.strike")
            strike = lv["strike"]
    if lv.get("layer") is None:
        if underlying != "SPX":
            raise InputError(
                "required on a VIX leg: the condor is SPX options only, hedge legs carry "
                "layer = 1, 2 or 3",
                source,
                f"{key}.layer",
            )
        if "entry_vix" in lv:
            raise InputError(
                "only layer legs record entry_vix (this leg has no layer)",
                source,
                f"{key}.entry_vix",
            )
    return _one_form(lv, underlying, root, typ, strike, expiry)


def _market(mv: dict, source: str) -> dict:
    """Each quote in one form."""
    quotes = [
        _quote(qv, source, f"market.quotes[{i}]") for i, qv in enumerate(mv.get("quotes", []))
    ]
    return {**mv, "quotes": quotes} if "quotes" in mv else mv


def _quote(qv: dict, source: str, key: str) -> dict:
    """A quote gives occ or type, strike and expiry; a root (optional) of its underlying."""
    if "occ" in qv:
        root, typ, strike, expiry, underlying = _occ_fields(qv, source, key)
    else:
        for n in ("type", "strike", "expiry"):
            if n not in qv:
                raise InputError("required (or give occ)", source, f"{key}.{n}")
        underlying = qv.get("underlying", "SPX")
        root = qv.get("root")
        typ, strike, expiry = qv["type"], qv["strike"], qv["expiry"]
        if root is not None and ROOT_UNDERLYING[root] != underlying:
            allowed = " or ".join(f'"{r}"' for r, u in ROOT_UNDERLYING.items() if u == underlying)
            raise InputError(
                f"must be {allowed} for {underlying} quotes, got {root!r}", source, f"{key}.root"
            )
    return _one_form(qv, underlying, root, typ, strike, expiry)


def _one_form(raw: dict, underlying: str, root, typ: str, strike, expiry: date) -> dict:
    """``raw`` with its contract spelled out, however the file gave it."""
    return {
        **raw,
        "underlying": underlying,
        "root": root,
        "type": typ,
        "strike": strike,
        "expiry": expiry,
    }


def _occ_fields(raw: dict, source: str, key: str) -> tuple[str, str, float, date, str]:
    """Root, type, strike, expiry and underlying from a table's ``occ`` (leg or quote)."""
    clash = [n for n in OCC_REPLACES if n in raw]
    if clash:
        raise InputError(
            f"'occ' and '{clash[0]}' both given: give either the OSI symbol or "
            "type, strike and expiry",
            source,
            f"{key}.{clash[0]}",
        )
    try:
        root, typ, strike, expiry = parse_osi(raw["occ"])
    except InputError as e:
        raise e.located(source, f"{key}.occ") from None
    underlying = ROOT_UNDERLYING[root]
    if raw.get("underlying", underlying) != underlying:
        raise InputError(
            f"{raw['underlying']!r} does not match the occ root {root!r} ({underlying})",
            source,
            f"{key}.underlying",
        )
    return root, typ, strike, expiry, underlying


# ------------------------------------------------------------ the field tables


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
        if f.name in raw:
            out[f.name] = check_value(raw[f.name], f, source, _join(key, f.name))
        elif f.required:
            note = f" {f.required_note}" if f.required_note else ""
            raise InputError(f"required{note}", source, _join(key, f.name))
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
            return _check_year(value, source, key)
        raise InputError(_want("a date (YYYY-MM-DD)", value), source, key)
    if kind == "instant":
        if isinstance(value, date):  # datetime is a date too
            return _check_year(value, source, key)
        raise InputError(
            _want("a date or date-time (2026-11-24T15:45:00-05:00)", value), source, key
        )
    raise AssertionError(f"unknown field kind {kind!r}")  # pragma: no cover


def _check_year(value: date, source: str, key: str) -> date:
    """A date or date-time within ``YEARS``: outside them it is a typo, and near the ends
    of the calendar (9999-12-31) a time zone or a three-year horizon would overflow."""
    low, high = YEARS
    if not low <= value.year <= high:
        raise InputError(
            f"must be in the years {low} to {high} (a typo?), got {show(value)}", source, key
        )
    return value


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
        if f.lt == MAX_POINTS and value >= MAX_POINTS:
            hint = " (points: a price that large is a typo)"
        raise InputError(f"must be {_bounds_text(f, value)}{hint}, got {show(value)}", source, key)
    return value if f.kind == "integer" else float(value)


def _within(x: float, f: Field) -> bool:
    return not (
        (f.gt is not None and not x > f.gt)
        or (f.ge is not None and not x >= f.ge)
        or (f.lt is not None and not x < f.lt)
        or (f.le is not None and not x <= f.le)
    )


def _bounds_text(f: Field, value: float) -> str:
    """The field's bounds as a message says them; the typo guard ``MAX_POINTS`` only when
    ``value`` is past it (a negative price is told its lower bound alone)."""
    if f.ge is not None and f.le is not None:
        return f"between {show_num(f.ge)} and {show_num(f.le)}"
    lt = f.lt if f.lt != MAX_POINTS or value >= MAX_POINTS else None
    gt, ge = (f.gt, f.ge) if lt is None or lt != MAX_POINTS else (None, None)
    parts = [
        f"{op} {show_num(b)}"
        for op, b in ((">", gt), (">=", ge), ("<", lt), ("<=", f.le))
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
