"""``alvh schema``: the JSON Schema of the position file, for editors."""

from __future__ import annotations


def schema() -> dict:
    """The JSON Schema of the position file, each rule documented with its default."""
    from alvh_cli.inputs.json_schema import json_schema
    from alvh_cli.model.rules import DEFAULTS

    docs = {
        key: f"{rule.help} (default {'unset' if rule.default is None else rule.default})"
        for key, rule in DEFAULTS.items()
    }
    bounds = {key: (rule.low, rule.high, rule.integer) for key, rule in DEFAULTS.items()}
    return json_schema(docs, bounds)
