"""JSON Schema (draft 2020-12) of the position file, generated from the field tables."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone

from alvh_cli.inputs.schema import FILE_FIELDS, OCC_REPLACES, Field

_NEW_YORK_EST = timezone(timedelta(hours=-5))

EXAMPLES: tuple[dict, ...] = (
    {  # a file that carries its own market snapshot and a rule override
        "market": {
            "asof": datetime(2026, 11, 24, 15, 45, tzinfo=_NEW_YORK_EST),
            "spx": 5850.25,
            "vix": 18.2,
            "rate": 0.042,
            "dividend_yield": 0.013,
            "vix_futures": [
                {"expiry": date(2026, 12, 16), "price": 19.1},
                {"expiry": date(2027, 1, 20), "price": 19.8},
            ],
            "spx_vol": {"atm": 0.165, "skew": -1.1, "smile": 2.5},
            "vix_vol": {"atm": 0.95, "skew": 0.8, "smile": 0.0},
            "quotes": [
                {"underlying": "SPX", "type": "put", "strike": 5400,
                 "expiry": date(2026, 12, 18), "bid": 10.10, "ask": 10.50},
                {"occ": "SPXW  261218P05350000", "bid": 7.90, "ask": 8.30},
            ],
        },
        "rules": {"layer1_multiple": 1.5, "hedge_max_width": 8},
        "positions": [
            {
                "id": "dec-ic",
                "opened": date(2026, 11, 3),
                "credit": 4.85,
                "legs": [
                    {"type": "put", "strike": 5350, "expiry": date(2026, 12, 18),
                     "quantity": 2, "entry_price": 4.40},
                    {"type": "put", "strike": 5400, "expiry": date(2026, 12, 18),
                     "quantity": -2, "entry_price": 6.10},
                    {"type": "call", "strike": 6300, "expiry": date(2026, 12, 18),
                     "quantity": -2, "entry_price": 4.55},
                    {"type": "call", "strike": 6350, "expiry": date(2026, 12, 18),
                     "quantity": 2, "entry_price": 1.40},
                    {"underlying": "VIX", "type": "call", "strike": 21,
                     "expiry": date(2026, 12, 16), "quantity": 6, "entry_price": 1.35,
                     "layer": 1, "entry_vix": 22.4},
                    {"underlying": "VIX", "type": "call", "strike": 30,
                     "expiry": date(2026, 12, 16), "quantity": -6, "entry_price": 0.50,
                     "layer": 1, "entry_vix": 22.4},
                ],
            }
        ],
    },
    {  # legs by OSI symbol, an AM-settled monthly condor; the market comes from --market
        "positions": [
            {
                "id": "dec-am",
                "legs": [
                    {"occ": "SPX   261218P05300000", "quantity": 1, "entry_price": 3.80},
                    {"occ": "SPX   261218P05350000", "quantity": -1, "entry_price": 4.90},
                    {"occ": "SPX   261218C06350000", "quantity": -1, "entry_price": 1.60},
                    {"occ": "SPX   261218C06400000", "quantity": 1, "entry_price": 0.70},
                ],
            }
        ],
    },
    {  # a market file for --market: the snapshot alone, asof a date (16:00 New York)
        "market": {
            "asof": date(2026, 11, 24),
            "spx": 5850.25,
            "vix": 18.2,
            "rate": 0.042,
            "dividend_yield": 0.013,
            "vix_futures": [{"expiry": date(2026, 12, 16), "price": 19.1}],
            "spx_vol": {"skew": -1.1, "smile": 2.5},
            "vix_vol": {"atm": 0.95, "skew": 0.8},
        }
    },
)  # fmt: skip
"""Files the schema documents (``examples``), as TOML values: alvh's loader reads each."""


def json_schema(
    rule_docs: Mapping[str, str] | None = None,
    rule_bounds: Mapping[str, tuple[float, float, bool]] | None = None,
) -> dict:
    """JSON Schema (draft 2020-12) of a position file, generated from the field tables.

    Dates are strings with ``format: date`` and date-times with ``format:
    date-time`` (local date-times ``partial-date-time``), which is how TOML
    editors (Even Better TOML / taplo) map TOML dates onto JSON Schema.
    ``rule_docs`` (rule name → description, from ``rules.py``) closes the
    ``[rules]`` table to those names; without it any number key is allowed.
    ``rule_bounds`` (rule name → (low, high, whole number)) adds each rule's range.
    Rules are numbers, never true/false, as the loader reads them.
    Choices are listed in their canonical spelling; alvh itself also accepts
    other letter cases. ``examples`` are :data:`EXAMPLES` in JSON form.
    """
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "alvh position file",
        "description": (
            "Iron condor positions, their ALVH layers, and optionally a market snapshot "
            "and rule overrides. A file with only [market] serves as --market FILE."
        ),
    }
    schema.update(_schema_object(FILE_FIELDS, rule_docs, rule_bounds))
    schema["examples"] = [_as_json(e) for e in EXAMPLES]
    return schema


def _as_json(value):
    """A TOML value as JSON: dates and date-times as ISO strings."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _schema_object(fields: tuple[Field, ...], rule_docs, rule_bounds) -> dict:
    obj: dict = {
        "type": "object",
        "properties": {f.name: _schema_field(f, rule_docs, rule_bounds) for f in fields},
        "additionalProperties": False,
    }
    required = [f.name for f in fields if f.required]
    if required:
        obj["required"] = required
    names = {f.name for f in fields}
    if "occ" in names:
        # occ replaces root/type/strike/expiry: forbid them next to it.
        others = [n for n in OCC_REPLACES if n in names]
        obj["dependentSchemas"] = {"occ": {"not": {"anyOf": [{"required": [n]} for n in others]}}}
    return obj


def _schema_field(f: Field, rule_docs, rule_bounds) -> dict:
    s: dict
    if f.kind == "string":
        s = {"type": "string"}
        if f.choices:
            s["enum"] = list(f.choices)
        else:
            s["minLength"] = 1
    elif f.kind in ("number", "integer"):
        s = {"type": f.kind}
        for attr, word in (
            ("gt", "exclusiveMinimum"),
            ("ge", "minimum"),
            ("lt", "exclusiveMaximum"),
            ("le", "maximum"),
        ):
            bound = getattr(f, attr)
            if bound is not None:
                s[word] = bound
        if f.nonzero:
            s["not"] = {"const": 0}
    elif f.kind == "boolean":
        s = {"type": "boolean"}
    elif f.kind == "date":
        s = {"type": "string", "format": "date"}
    elif f.kind == "instant":
        s = {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "partial-date-time"},
                {"type": "string", "format": "date"},
            ]
        }
    elif f.kind == "table":
        s = _schema_object(f.fields, rule_docs, rule_bounds)
    elif f.kind == "tables":
        s = {"type": "array", "items": _schema_object(f.fields, rule_docs, rule_bounds)}
        if f.required:
            s["minItems"] = 1
    elif f.kind == "rules":
        if rule_docs is None:
            s = {"type": "object", "additionalProperties": {"type": "number"}}
        else:
            s = {
                "type": "object",
                "properties": {
                    k: {"description": d, **_rule_value((rule_bounds or {}).get(k))}
                    for k, d in rule_docs.items()
                },
                "additionalProperties": False,
            }
    else:  # pragma: no cover
        raise AssertionError(f"unknown field kind {f.kind!r}")
    return {"description": f.doc, **s}


def _rule_value(bounds: tuple[float, float, bool] | None) -> dict:
    """A rule's value: a number (whole when the rule counts something) within its range."""
    if bounds is None:
        return {"type": "number"}
    low, high, whole = bounds
    out: dict = {"type": "integer" if whole else "number"}
    if low > -math.inf:
        out["minimum"] = low
    if high < math.inf:
        out["maximum"] = high
    return out
