"""Output of ``alvh rules``: the rules in force and where each came from."""

from __future__ import annotations

from alvh_cli.output import common


def emit_rules(rules, fmt: str) -> None:
    from alvh_cli.model.rules import effective_table

    rows = effective_table(rules)
    if fmt == "json":
        return common.emit_json(
            {r["key"]: {k: v for k, v in r.items() if k != "key"} for r in rows}
        )
    if fmt == "csv":
        return common.emit_csv(rows)
    from rich.table import Table

    t = Table(title="Effective rules", title_justify="left")
    for col in ("key", "value", "default", "source", "meaning"):
        t.add_column(col, justify="right" if col in ("value", "default") else "left")
    for r in rows:
        t.add_row(
            r["key"],
            "unset" if r["value"] is None else f"{r['value']:g}",
            "unset" if r["default"] is None else f"{r['default']:g}",
            r["source"],
            r["help"],
        )
    common.console().print(t)
