"""thinkorswim exports: the Position Statement and the Account Statement (CSV).

**Position Statement** (Monitor → Activity and Positions → Position Statement
menu → Export to File). A first line ``Position Statement for ACCOUNT (...) on
11/24/26 15:45:00``, then per section a header starting ``Instrument,Qty`` and
rows that go underlying, then its options: the underlying row names the symbol
(``SPX``) and each option row describes the contract in the ``Instrument``
column, ``100 (Weeklys) 18 DEC 26 5400 PUT``. alvh reads ``Instrument``,
``Qty`` (signed, ``+2``/``-2``), ``Trade Price`` (the average open price per
point) and ``Mark`` (the mark per point), marked at the title's time (written as
New York time, the exchange's clock; ``check`` only needs its day). The series
tag decides the root: any tag — ``(Weeklys)``,
``(Quarterlys)``, ``(EOM)`` — or a date that is not the month's third Friday
is the PM-settled SPXW (VIXW for VIX); no tag on the monthly expiration day
(the third Friday; VIX: its Wednesday), or ``[AM]``, is the AM-settled monthly
SPX (VIX). An ``Instrument`` given as a thinkorswim code
(``.SPXW261218P5400``) is read from the code. Layout from beancount/beanbuff
``thinkorswim_positions.py`` and its tests, and the exports quoted in
CompareONEToTDA's README.

**Account Statement** (Monitor → Account Statement → Export to File). A
first line ``Account Statement for ACCOUNT …`` and sections; alvh reads the
``Options`` section, ``Symbol,Option Code,Exp,Strike,Type,Qty,Trade Price,
Mark,Mark Value`` (older exports: ``Close Price,Close Value``), up to its
``OVERALL TOTALS`` row: the root, expiry, type and strike from ``Option
Code`` (``SPXW261218P5400``, with or without a leading dot; ``Exp``, ``Strike``
and ``Type``, when given, must say the same: ``18 DEC 26``, ``5400``, ``PUT``), the signed
``Qty``, ``Trade Price`` per point and ``Mark`` per point (else ``Mark Value``,
``Close Price`` or ``Close Value``; the values are dollars for the row), marked on
the title's ``through`` day (a date: that day's close).

Neither export carries the date a position was opened (``Days`` in the
Position Statement is days to expiry).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, time

from alvh_cli.errors import InputError
from alvh_cli.inputs.brokers.common import (
    NOT_OPTION,
    Columns,
    Lot,
    ParsedExport,
    Skipped,
    account,
    check_restated,
    collect,
    contracts,
    csv_rows,
    mark_price,
    number,
    option_or_skip,
    parse_date,
    refuse_cut_short,
    tos_option,
)
from alvh_cli.model.expirations import spx_monthly_expiration, vix_expiration

POSITION_STATEMENT = "thinkorswim position statement"
ACCOUNT_STATEMENT = "thinkorswim account statement"

# Strategy subgroup rows (no quantity) that must not be taken for an underlying's row.
_STRATEGIES = {
    "SINGLE", "VERTICAL", "BUTTERFLY", "CONDOR", "STRADDLE", "STRANGLE", "CALENDAR",
    "DIAGONAL", "COVERED", "COLLAR", "COMBO", "CUSTOM", "UNBALANCED", "BACKRATIO", "STOCK",
}  # fmt: skip
_OPTION_HEADER = ("symbol", "option code", "exp", "strike", "type", "qty")
_DESCRIPTION = re.compile(
    r"(\d+)(?: \(([^)]*)\))? (\d{1,2} [A-Z]{3} \d{2})( \[AM\])? (\d+(?:\.\d+)?) (PUT|CALL)"
)


def looks_like_position_statement(text: str) -> bool:
    return text.lstrip().startswith("Position Statement for") or bool(
        re.search(r"(?m)^\ufeff?Instrument,Qty,", text)
    )


def looks_like_account_statement(text: str) -> bool:
    return text.lstrip().startswith("Account Statement for") or bool(
        re.search(r"(?mi)^Symbol,Option Code,Exp,Strike,Type,Qty", text)
    )


def read(path: str, text: str) -> ParsedExport:
    if looks_like_position_statement(text):
        return read_position_statement(path, text)
    if looks_like_account_statement(text):
        return read_account_statement(path, text)
    raise InputError(
        "not a thinkorswim export: expected a Position Statement (Instrument,Qty,… rows) "
        "or an Account Statement with an Options section",
        path,
    )


def _account(text: str, title: str, path: str) -> str:
    m = re.match(rf"\s*{title} for (\S+)", text)
    return account(m.group(1), path, 1, "account") if m else ""


_WHEN = r"(\d{1,2}/\d{1,2}/\d{2,4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?"


def _stamp(text: str, title: str, after: str) -> datetime | date | None:
    """When the statement was taken, from its first line: the date (and time) after
    ``after`` (``on`` in a Position Statement, ``through`` in an Account Statement); a
    time is New York's, as the platform writes it."""
    first = text.lstrip().split("\n", 1)[0]
    m = re.match(rf"{title} for .*? {after} {_WHEN}", first)
    if m is None:
        return None
    try:
        day = parse_date(m.group(1))
    except InputError:
        return None
    if m.group(2) is None:
        return day
    h, mi, sec = int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
    return datetime.combine(day, time(h, mi, sec)) if h < 24 and mi < 60 and sec < 60 else day


# --------------------------------------------------------------------------- position statement


def read_position_statement(path: str, text: str) -> ParsedExport:
    owner = _account(text, "Position Statement", path)
    marked = _stamp(text, "Position Statement", "on")
    holdings: dict = defaultdict(list)
    skipped: list[Skipped] = []
    header: Columns | None = None
    underlying = ""
    seen_header = False
    for line, row in csv_rows(text, path):
        first = row[0]
        if first.lower() == "instrument" and len(row) > 1 and row[1].lower() == "qty":
            header = Columns(row, path, line)
            header.need("quantity", "Qty")
            header.need("trade price", "Trade Price")
            seen_header = True
            continue
        if header is None or len(row) < 2:
            if header is not None:
                refuse_cut_short(row, path, line)
            continue  # title, group names, section captions
        header.fits(row, line)
        qty_text = Columns.cell(row, header.find("Qty"))
        where = f"{path}:{line}"
        if not qty_text and " " not in first and first.upper() not in _STRATEGIES:
            underlying = first.upper()  # the underlying's summary row: SPX, /ES, AAPL
            continue
        option = _position_option(first, underlying, path, line)
        if option is None:
            if qty_text and number(qty_text, path, line, "Qty", required=False):
                skipped.append(Skipped(first, where, NOT_OPTION))
            continue  # the index or stock row of an options-only underlying, Qty 0
        if option_or_skip(option, first, where, skipped) is None:
            continue
        qty = contracts(qty_text, path, line, "Qty")
        if qty == 0:
            continue
        price = number(
            Columns.cell(row, header.find("Trade Price")), path, line, "Trade Price", required=False
        )
        mark = mark_price(Columns.cell(row, header.find("Mark")), path, line, "Mark")
        lot = Lot(qty, None if price is None else abs(price), None, where, mark, marked)
        holdings[(owner, option)].append(lot)
    if not seen_header:
        raise InputError("no 'Instrument,Qty,…' header row: not a Position Statement", path)
    return collect(path, POSITION_STATEMENT, "positions", holdings, skipped)


def _position_option(instrument: str, underlying: str, path: str, line: int):
    code = tos_option(instrument, path, line, "Instrument")
    if code is not None:
        return code
    m = _DESCRIPTION.fullmatch(" ".join(instrument.upper().split()))
    if m is None or not underlying or underlying.startswith("/"):
        return None
    _, tag, day, am, strike, cp = m.groups()
    expiry = parse_date(day, path, line, "Instrument")
    return _root(underlying, tag, bool(am), expiry), cp.lower(), float(strike), expiry


def _root(underlying: str, tag: str | None, am: bool, expiry) -> str:
    """SPX/VIX for the AM-settled monthly series, SPXW/VIXW for the others (see module doc)."""
    if underlying not in ("SPX", "VIX"):
        return underlying
    if am:
        return underlying
    if underlying == "SPX":
        monthly = expiry == spx_monthly_expiration(expiry.year, expiry.month)
    else:
        monthly = expiry == vix_expiration(expiry.year, expiry.month)
    if tag is None and monthly:
        return underlying
    return underlying + "W"


# --------------------------------------------------------------------------- account statement


def read_account_statement(path: str, text: str) -> ParsedExport:
    owner = _account(text, "Account Statement", path)
    marked = _stamp(text, "Account Statement", "through")
    holdings: dict = defaultdict(list)
    skipped: list[Skipped] = []
    header: Columns | None = None
    found = False
    for line, row in csv_rows(text, path):
        lowered = tuple(c.lower() for c in row[: len(_OPTION_HEADER)])
        if lowered == _OPTION_HEADER:
            header = Columns(row, path, line)
            header.need("trade price", "Trade Price")
            found = True
            continue
        if header is None:
            continue
        if len(row) == 1:
            refuse_cut_short(row, path, line)
        if len(row) == 1 or (len(row) > 1 and row[1].upper() == "OVERALL TOTALS"):
            header = None  # the next section's caption, or the totals row
            continue
        header.fits(row, line)
        where = f"{path}:{line}"
        code = Columns.cell(row, header.find("Option Code"))
        option = tos_option(code, path, line, "Option Code")
        if option_or_skip(option, code or ",".join(row), where, skipped) is None:
            continue
        restated = [
            (kind, name, Columns.cell(row, header.find(name)))
            for kind, name in (("expiry", "Exp"), ("strike", "Strike"), ("type", "Type"))
        ]
        check_restated(option, restated, path, line, "Option Code", code)
        qty = contracts(Columns.cell(row, header.find("Qty")), path, line, "Qty")
        if qty == 0:
            continue
        price = number(
            Columns.cell(row, header.find("Trade Price")), path, line, "Trade Price", required=False
        )
        mark = _statement_mark(row, header, path, line, qty)
        holdings[(owner, option)].append(
            Lot(qty, None if price is None else abs(price), None, where, mark, marked)
        )
    if not found:
        raise InputError(
            "no Options section (Symbol,Option Code,Exp,Strike,Type,Qty,…) in this "
            "Account Statement",
            path,
        )
    return collect(path, ACCOUNT_STATEMENT, "positions", holdings, skipped)


def _statement_mark(row, header: Columns, path: str, line: int, qty: int) -> float | None:
    """The Options section's mark per point: ``Mark`` (``Close Price`` in older exports),
    else the row's value in dollars (``Mark Value``, ``Close Value``) per contract."""
    for name, value in (("Mark", False), ("Close Price", False), ("Mark Value", True),
                        ("Close Value", True)):  # fmt: skip
        cell = Columns.cell(row, header.find(name))
        if cell:
            return mark_price(cell, path, line, name, qty, value=value)
    return None
