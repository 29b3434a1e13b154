"""A loaded book: each position file with the market snapshot and the rules in force for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alvh_cli.errors import InputWarning
from alvh_cli.model.domain import Market, PositionFile
from alvh_cli.model.rules import Rules


@dataclass(frozen=True)
class LoadedFile:
    """A position file with the market snapshot and the rules in force for it, the
    warnings about its inputs (``alvh_cli.errors.InputWarning``: stale snapshot, flat
    smile, a quote much wider than its neighbours) for the output to show, and what became
    of the broker's marks on its legs held (``alvh_cli.model.marks.MarkUse``)."""

    file: PositionFile
    market: Market
    rules: Rules
    warnings: tuple[InputWarning, ...] = ()
    marks: tuple = ()


def warnings_of(loaded: Sequence[LoadedFile]) -> list[InputWarning]:
    """Every loaded file's warnings, each once (files sharing a --market share its warnings)."""
    return list(dict.fromkeys(w for lf in loaded for w in lf.warnings))


def marks_of(loaded: Sequence[LoadedFile]) -> list[tuple[str, object]]:
    """Every loaded file's broker marks, file by file: (the file, ``MarkUse``)."""
    return [(lf.file.path, m) for lf in loaded for m in lf.marks]
