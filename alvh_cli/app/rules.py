"""``alvh rules``: the rules in force, and where each value came from."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alvh_cli.model.rules import Rules


def rules(files: Sequence[Path | str] = (), rules: Path | str | None = None) -> Rules:
    """The rules in force: the defaults, then each file's ``[rules]``, then ``rules`` (a
    file of overrides), each value with its source."""
    from alvh_cli.inputs import positions
    from alvh_cli.model.rules import resolve

    layers = [(pf.rules, pf.path) for pf in positions.load_files([Path(p) for p in files])]
    if rules is not None:
        layers.append((positions.load_rules_table(rules), str(rules)))
    return resolve(*layers)
