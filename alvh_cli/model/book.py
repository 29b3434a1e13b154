"""A loaded book: each position file with the market snapshot and the rules in force for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alvh_cli.errors import InputWarning
from alvh_cli.model.domain import Market, PositionFile
from alvh_cli.model.rules import Rules


@dataclass(frozen=True)
class LoadedFile:
    """A position file with the market snapshot and the rules in force for it, and the
    warnings about its inputs (``alvh_cli.errors.InputWarning``: stale snapshot, flat
    smile, a quote much wider than its neighbours) for the output to show."""

    file: PositionFile
    market: Market
    rules: Rules
    warnings: tuple[InputWarning, ...] = ()


def warnings_of(loaded: Sequence[LoadedFile]) -> list[InputWarning]:
    """Every loaded file's warnings, each once (files sharing a --market share its warnings)."""
    return list(dict.fromkeys(w for lf in loaded for w in lf.warnings))
