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
    from alvh_cli.output.layout import Column, Grid

    grid = Grid(
        [Column("key", "left"), Column("value"), Column("default"), Column("source", "left"),
         Column("meaning", "left", wrap=True)],
        title="Effective rules",
    )  # fmt: skip
    for r in rows:
        grid.add(
            r["key"],
            "unset" if r["value"] is None else f"{r['value']:g}",
            "unset" if r["default"] is None else f"{r['default']:g}",
            r["source"],
            r["help"],
        )
    common.print_table(grid)
