"""Which export a file is, from its first lines and headers — or the broker the user names.

The checks are each format's own marks, tried from the most to the least
specific: Flex XML (``<FlexQueryResponse>``), thinkorswim's titled
statements, IBKR's sectioned Activity Statement (``…,Header,…``), IBKR Flex
CSV (``ClientAccountID``/``AssetClass``), tastytrade's transactions (``Action``
+ ``Average Price``) and positions (``Symbol`` + ``Quantity`` + ``Trade
Price``), and last the generic CSV (an OSI ``symbol`` column, ``quantity``
and a price). A file that matches none is an InputError that says what alvh
looked for; naming the broker (``broker``) skips the guessing between brokers.
"""

from __future__ import annotations

from collections.abc import Callable

from alvh_cli.errors import InputError
from alvh_cli.inputs.brokers import generic, ibkr, thinkorswim
from alvh_cli.inputs.brokers import tastytrade as tasty
from alvh_cli.inputs.brokers.common import Columns, ParsedExport, csv_rows

BROKERS = ("tastytrade", "thinkorswim", "ibkr", "generic")

READERS: dict[str, Callable[[str, str], ParsedExport]] = {
    "tastytrade": tasty.read,
    "thinkorswim": thinkorswim.read,
    "ibkr": ibkr.read,
    "generic": generic.read,
}


def detect(path: str, text: str) -> str:
    """The broker whose export ``text`` is (one of ``BROKERS``), or InputError."""
    if ibkr.looks_like_flex_xml(text):
        return "ibkr"
    if thinkorswim.looks_like_position_statement(text) or thinkorswim.looks_like_account_statement(
        text
    ):
        return "thinkorswim"
    if ibkr.looks_like_activity(text):
        return "ibkr"
    first = next(csv_rows(text, path), (1, []))
    header = Columns(first[1], path, first[0])
    if first[1][:1] in (["BOF"], ["HEADER"]) or ibkr.looks_like_flex_csv(header):
        return "ibkr"
    if tasty.looks_like_transactions(header) or tasty.looks_like_positions(header):
        return "tastytrade"
    if generic.looks_like(header):
        return "generic"
    raise InputError(
        "not an export alvh recognises: expected tastytrade (positions or transactions CSV), "
        "thinkorswim (Position or Account Statement), Interactive Brokers (Flex query XML/CSV "
        "or Activity Statement) or a CSV with symbol, quantity and entry_price columns; "
        "{flag:broker} says which",
        path,
        line=first[0],
    )


def read_export(path: str, text: str, broker: str = "auto") -> ParsedExport:
    """Read one export; ``broker`` ``auto`` detects it, a broker name forces that reader."""
    if broker == "auto":
        broker = detect(path, text)
    if broker not in READERS:
        raise InputError(
            f"unknown broker {broker!r}; one of auto, {', '.join(BROKERS)}", option="broker"
        )
    return READERS[broker](path, text)
