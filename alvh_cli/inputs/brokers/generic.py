"""A generic CSV of option positions with an OSI symbol column: for any other broker.

One row per contract held (rows of the same contract and account are added
up). Column names are matched case-insensitively, spaces or underscores alike:

- ``symbol`` (or ``occ``, ``osi``): the OSI symbol, ``SPXW  261218P05400000``
  (root, YYMMDD, C or P, strike × 1000 in 8 digits; any padding) — required;
- ``quantity`` (or ``qty``): signed contracts, + long, − short — required;
- ``entry_price`` (or ``price``, ``avg_price``, ``average_price``,
  ``trade_price``, ``cost_price``): premium per index point — or
  ``cost_basis``: dollars for the row, the price then being
  |cost_basis| ÷ (|quantity| × 100) — one of them required;
- ``account`` and ``opened`` (a date, e.g. 2026-11-03): optional;
- ``mark`` (the broker's mark per index point) and ``mark_time`` (when it was
  marked: an ISO date-time, New York time without an offset, or a date for that
  day's close): optional.

Rows whose symbol is not an OSI symbol are errors (this format exists to be
unambiguous); OSI symbols of other underlyings are listed as not imported.
"""

from __future__ import annotations

from collections import defaultdict

from alvh_cli.errors import InputError
from alvh_cli.inputs.brokers.common import (
    Columns,
    Lot,
    ParsedExport,
    Skipped,
    account,
    collect,
    contracts,
    csv_rows,
    mark_price,
    number,
    option_or_skip,
    osi_option,
    parse_date,
    parse_instant,
)

GENERIC = "generic OSI CSV"
SYMBOL = ("symbol", "occ", "osi")
QUANTITY = ("quantity", "qty")
PRICE = ("entry_price", "price", "avg_price", "average_price", "trade_price", "cost_price")
COST_BASIS = ("cost_basis",)
OPTION_MULTIPLIER = 100.0


def looks_like(header: Columns) -> bool:
    return header.has(*SYMBOL) and header.has(*QUANTITY) and header.has(*PRICE, *COST_BASIS)


def read(path: str, text: str) -> ParsedExport:
    rows = csv_rows(text, path)
    first_line, first = next(rows)
    header = Columns(first, path, first_line)
    c_symbol = header.need("OSI symbol", *SYMBOL)
    c_qty = header.need("quantity", *QUANTITY)
    c_price = header.find(*PRICE)
    c_cost = header.find(*COST_BASIS)
    if c_price is None and c_cost is None:
        header.need("entry price", *PRICE, *COST_BASIS)
    c_account = header.find("account")
    c_opened = header.find("opened", "open_date", "date_opened")
    c_mark = header.find("mark", "mark_price")
    c_marked = header.find("mark_time")
    holdings: dict = defaultdict(list)
    skipped: list[Skipped] = []
    name = header.names[c_symbol]
    for line, row in rows:
        header.fits(row, line)
        where = f"{path}:{line}"
        symbol = Columns.cell(row, c_symbol)
        option = osi_option(symbol, path, line, name)
        if option is None:
            raise InputError(
                f"not an OSI option symbol (ROOT YYMMDD C|P 8-digit strike×1000), got {symbol!r}",
                path,
                name,
                line,
            )
        if option_or_skip(option, symbol, where, skipped) is None:
            continue
        qty = contracts(Columns.cell(row, c_qty), path, line, header.names[c_qty])
        if qty == 0:
            continue
        price = None
        if c_price is not None:
            price = number(
                Columns.cell(row, c_price),
                path,
                line,
                header.names[c_price],
                required=c_cost is None,
            )
        if price is None:
            cost = number(
                Columns.cell(row, c_cost), path, line, header.names[c_cost], required=True
            )
            price = abs(cost) / (abs(qty) * OPTION_MULTIPLIER)
        if price < 0:
            raise InputError(
                f"must be >= 0 (premium per point; the sign is the quantity's), got {price:g}",
                path,
                header.names[c_price],
                line,
            )
        opened_text = Columns.cell(row, c_opened)
        opened = parse_date(opened_text, path, line, "opened") if opened_text else None
        mark = mark_price(Columns.cell(row, c_mark), path, line, "mark")
        marked_text = Columns.cell(row, c_marked)
        marked = parse_instant(marked_text, path, line, "mark_time") if marked_text else None
        lot = Lot(qty, price, opened, where, mark, marked)
        owner = account(Columns.cell(row, c_account), path, line, "account")
        holdings[(owner, option)].append(lot)
    return collect(path, GENERIC, "positions", holdings, skipped)
