"""JSON Schema (draft 2020-12) of the position file, generated from the field tables."""

from __future__ import annotations

from collections.abc import Mapping

from alvh_cli.inputs.schema import FILE_FIELDS, OCC_REPLACES, Field


def json_schema(rule_docs: Mapping[str, str] | None = None) -> dict:
    """JSON Schema (draft 2020-12) of a position file, generated from the field tables.

    Dates are strings with ``format: date`` and date-times with ``format:
    date-time`` (local date-times ``partial-date-time``), which is how TOML
    editors (Even Better TOML / taplo) map TOML dates onto JSON Schema.
    ``rule_docs`` (rule name → description, from ``rules.py``) closes the
    ``[rules]`` table to those names; without it any number/boolean key is allowed.
    Choices are listed in their canonical spelling; alvh itself also accepts
    other letter cases.
    """
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "alvh position file",
        "description": (
            "Iron condor positions, their ALVH layers, and optionally a market snapshot "
            "and rule overrides (DESIGN section 2). A file with only [market] serves as "
            "--market FILE."
        ),
    }
    schema.update(_schema_object(FILE_FIELDS, rule_docs))
    return schema


def _schema_object(fields: tuple[Field, ...], rule_docs: Mapping[str, str] | None) -> dict:
    obj: dict = {
        "type": "object",
        "properties": {f.name: _schema_field(f, rule_docs) for f in fields},
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


def _schema_field(f: Field, rule_docs: Mapping[str, str] | None) -> dict:
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
        s = _schema_object(f.fields, rule_docs)
    elif f.kind == "tables":
        s = {"type": "array", "items": _schema_object(f.fields, rule_docs)}
        if f.required:
            s["minItems"] = 1
    elif f.kind == "rules":
        value = {"type": ["number", "boolean"]}
        if rule_docs is None:
            s = {"type": "object", "additionalProperties": value}
        else:
            s = {
                "type": "object",
                "properties": {k: {**value, "description": d} for k, d in rule_docs.items()},
                "additionalProperties": False,
            }
    else:  # pragma: no cover
        raise AssertionError(f"unknown field kind {f.kind!r}")
    return {"description": f.doc, **s}
