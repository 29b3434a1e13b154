"""tastytrade exports: the positions CSV and the transactions (history) CSV.

**Positions** (web platform: Positions → export). The export holds the columns
shown on screen; alvh reads

- ``Account`` (optional), ``Symbol`` (OSI, ``SPXW  261218P05400000``),
  ``Quantity`` (signed: −2 is short two);
- the price per point from ``Trade Price`` — tastytrade's average open price,
  which its API documents as the cost basis of the position
  (``average-open-price``, developer.tastytrade.com, "Account Positions") —
  or, without that column, ``Cost`` in dollars ÷ (|quantity| × 100);
- when ``Symbol`` is not an OSI symbol: ``Exp Date``, ``Strike Price`` and
  ``Call/Put`` with the root from the symbol's first word; when it is, those columns,
  where given, must name the same option (``common.check_restated``);
- the broker's mark per point from ``Mark`` (or ``Mark Price``).

There is no open date in this export, and no time stamp: its marks are written
without ``mark_time`` unless the import is told when the export was taken.
Column names come from tastytrade's own export as documented by open-source
readers (beancount/beanbuff ``tastyworks_positions.py``; graphtrek/srcprofit
``tastytrade-data-sources.md``).

**Transactions** (History → Transactions → CSV): one row per fill, newest
first, columns ``Date``, ``Type``, ``Sub Type`` (newer exports), ``Action``
(``SELL_TO_OPEN`` …), ``Symbol``, ``Instrument Type``, ``Description``,
``Value``, ``Quantity`` (unsigned), ``Average Price`` (signed dollars per
contract), ``Commissions``, ``Fees``, ``Multiplier``, ``Root Symbol``,
``Underlying Symbol``, ``Expiration Date``, ``Strike Price``, ``Call or Put``,
``Order #`` (beanbuff ``tastyworks_transactions.py``; AgileTrossDev/tasty_anaylzer).
alvh replays the option fills first in, first out: openings add a lot at
|``Average Price``| ÷ ``Multiplier`` points (fees excluded, as in the
positions export), closings and ``Receive Deliver`` removals (expiration,
assignment, exercise) take the oldest lots first. What is left is the holding,
its price the average of the lots left and ``opened`` the earliest lot's date.
The file must reach back to the opening of every position still held: a
closing fill with nothing open before it is refused for that contract.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from alvh_cli.errors import InputError
from alvh_cli.inputs.brokers.common import (
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
    option_text,
    osi_option,
    parse_date,
    stamp,
)

POSITIONS = "tastytrade positions"
TRANSACTIONS = "tastytrade transactions"
OPTION_MULTIPLIER = 100.0  # SPX and VIX options


def looks_like_positions(header: Columns) -> bool:
    return (
        header.has("Symbol")
        and header.has("Quantity")
        and header.has("Trade Price", "Cost")
        and header.has("Exp Date", "Call/Put", "DTE", "Strike Price", "P/L Open", "Account")
    )


def looks_like_transactions(header: Columns) -> bool:
    return header.has("Action") and header.has("Average Price") and header.has("Instrument Type")


def read(path: str, text: str) -> ParsedExport:
    """Whichever tastytrade export ``text`` is (InputError when neither)."""
    rows = csv_rows(text, path)
    first_line, first = next(rows)
    header = Columns(first, path, first_line)
    if looks_like_transactions(header):
        return read_transactions(path, header, rows)
    if looks_like_positions(header):
        return read_positions(path, header, rows)
    raise InputError(
        "not a tastytrade export: expected the positions CSV (Symbol, Quantity, Trade Price) "
        "or the transactions CSV (Date, Action, Symbol, Quantity, Average Price)",
        path,
        line=first_line,
    )


# --------------------------------------------------------------------------- positions


def read_positions(
    path: str, header: Columns, rows: Iterable[tuple[int, list[str]]]
) -> ParsedExport:
    """The positions CSV: ``header`` and the rows after it."""
    c_symbol = header.need("symbol", "Symbol")
    c_qty = header.need("quantity", "Quantity")
    c_price = header.find("Trade Price")
    c_cost = header.find("Cost")
    c_account = header.find("Account")
    c_exp = header.find("Exp Date", "Expiration Date")
    c_strike = header.find("Strike Price", "Strike")
    c_cp = header.find("Call/Put", "Call or Put")
    c_mark = header.find("Mark", "Mark Price")
    holdings: dict = defaultdict(list)
    skipped: list[Skipped] = []
    for line, row in rows:
        header.fits(row, line)
        where = f"{path}:{line}"
        symbol = Columns.cell(row, c_symbol)
        if not symbol:
            continue
        option = osi_option(symbol, path, line, "Symbol")
        if option is None and Columns.cell(row, c_cp) and Columns.cell(row, c_strike):
            option = _from_columns(row, path, line, symbol, c_exp, c_strike, c_cp)
        elif option is not None:  # the columns, where the export has them, say the same
            restated = [(kind, header.names[c], Columns.cell(row, c))
                        for kind, c in (("expiry", c_exp), ("strike", c_strike), ("type", c_cp))
                        if c is not None]  # fmt: skip
            check_restated(option, restated, path, line, "Symbol", symbol)
        option = option_or_skip(option, symbol, where, skipped)
        if option is None:
            continue
        qty = contracts(Columns.cell(row, c_qty), path, line, "Quantity")
        price = number(Columns.cell(row, c_price), path, line, "Trade Price", required=False)
        if price is None and c_cost is not None and qty:
            cost = number(Columns.cell(row, c_cost), path, line, "Cost", required=False)
            price = None if cost is None else abs(cost) / (abs(qty) * OPTION_MULTIPLIER)
        mark = mark_price(Columns.cell(row, c_mark), path, line, "Mark")
        lot = Lot(qty, None if price is None else abs(price), None, where, mark)
        owner = account(Columns.cell(row, c_account), path, line, "Account")
        holdings[(owner, option)].append(lot)
    return collect(path, POSITIONS, "positions", holdings, skipped)


def _from_columns(row, path, line, symbol, c_exp, c_strike, c_cp):
    root = symbol.split()[0].upper().lstrip(".")
    cp = Columns.cell(row, c_cp).upper()
    if cp not in ("P", "C", "PUT", "CALL"):
        return None
    strike = number(Columns.cell(row, c_strike), path, line, "Strike Price", required=True)
    expiry = parse_date(Columns.cell(row, c_exp), path, line, "Exp Date")
    return root, "put" if cp.startswith("P") else "call", strike, expiry


# --------------------------------------------------------------------------- transactions

_OPEN = {"BUY_TO_OPEN": 1, "SELL_TO_OPEN": -1}
_CLOSE = {"BUY_TO_CLOSE": 1, "SELL_TO_CLOSE": -1}
_REMOVALS = ("expir", "assign", "exercise", "cash settle")


def read_transactions(
    path: str, header: Columns, rows: Iterable[tuple[int, list[str]]]
) -> ParsedExport:
    """The transactions CSV: ``header`` and the rows after it."""
    c_date = header.need("date", "Date")
    c_type = header.find("Type")
    c_sub = header.find("Sub Type")
    c_action = header.need("action", "Action")
    c_symbol = header.need("symbol", "Symbol")
    c_desc = header.find("Description")
    c_qty = header.need("quantity", "Quantity")
    c_avg = header.need("average price", "Average Price")
    c_value = header.find("Value")
    c_mult = header.find("Multiplier")
    c_account = header.find("Account", "Account Number")

    fills = []
    for line, row in rows:
        header.fits(row, line)
        fills.append((stamp(Columns.cell(row, c_date)), line, row))
    # The export lists the newest fill first; replay oldest first, keeping the
    # file's order (reversed) among fills with the same time stamp.
    if len(fills) > 1 and fills[0][0] and fills[-1][0] and fills[0][0] > fills[-1][0]:
        fills.reverse()
    fills.sort(key=lambda f: f[0] or _NEVER)

    lots: dict = defaultdict(list)  # (account, option) → open lots, oldest first (every
    # contract seen, so a broken one is listed below even when nothing of it was open)
    broken: dict = {}  # (account, option) → why its history cannot be replayed
    skipped: list[Skipped] = []
    other = 0
    for when, line, row in fills:
        where = f"{path}:{line}"
        action = Columns.cell(row, c_action).upper().replace(" ", "_")
        if not action:  # some exports put "Sell to Open" only under Sub Type
            sub = Columns.cell(row, c_sub).upper().replace(" ", "_")
            action = sub if sub in _OPEN or sub in _CLOSE else ""
        kind = " ".join(Columns.cell(row, c) for c in (c_type, c_sub, c_desc)).lower()
        symbol = Columns.cell(row, c_symbol)
        option = osi_option(symbol, path, line, "Symbol") if symbol else None
        removal = not action and any(w in kind for w in _REMOVALS)
        if option is None or not (action in _OPEN or action in _CLOSE or removal):
            other += 1  # money movements, stock trades, dividends: not holdings alvh needs
            continue
        if option_or_skip(option, symbol, where, skipped) is None:
            continue
        if when is None:
            raise InputError(f"not a date, got {Columns.cell(row, c_date)!r}", path, "Date", line)
        owner = account(Columns.cell(row, c_account), path, line, "Account")
        key = (owner, option)
        qty = abs(contracts(Columns.cell(row, c_qty), path, line, "Quantity"))
        if action in _OPEN:
            price = _price(row, path, line, qty, c_avg, c_value, c_mult)
            lots[key].append(Lot(_OPEN[action] * qty, price, when.date(), where))
            continue
        if key in broken:
            continue
        left = _close_lots(lots[key], _CLOSE.get(action), qty)
        if left:
            broken[key] = (
                f"closing fill at {where} closes {left} more than this file opened: "
                "export the history back to the opening of every position held"
            )
    holdings = {}
    for key, open_lots in lots.items():
        if key in broken:
            skipped.append(Skipped(option_text(key[1]), path, broken[key]))
        elif open_lots:
            holdings[key] = open_lots
    notes = []
    if other:
        notes.append(
            f"{path}: {other} "
            + (
                "row that is not an option fill (cash, stock) was not needed"
                if other == 1
                else "rows that are not option fills (cash, stock) were not needed"
            )
        )
    return collect(path, TRANSACTIONS, "transactions", holdings, skipped, notes)


_NEVER = stamp("1900-01-01")


def _close_lots(lots: list[Lot], sign: int | None, qty: int) -> int:
    """Close ``qty`` contracts against the open ``lots`` of one contract, oldest first (the
    list is changed in place): a buy to close (``sign`` 1) closes short lots, a sell to
    close (-1) long ones, a removal (None: expiry, assignment) whatever is open. Returns
    the contracts it found nothing to close against."""
    left = qty
    while left and lots:
        lot = lots[0]
        if sign is not None and (lot.quantity > 0) == (sign > 0):
            break  # buying to close a long, or selling to close a short: not a close
        take = min(left, abs(lot.quantity))
        rest = abs(lot.quantity) - take
        step = 1 if lot.quantity > 0 else -1
        if rest:
            lots[0] = Lot(step * rest, lot.price, lot.opened, lot.source)
        else:
            lots.pop(0)
        left -= take
    return left


def _price(row, path, line, qty, c_avg, c_value, c_mult) -> float:
    """Points per unit of an opening fill: |Average Price| ÷ Multiplier (else from Value)."""
    mult = number(Columns.cell(row, c_mult), path, line, "Multiplier", required=False)
    mult = mult or OPTION_MULTIPLIER
    avg = number(Columns.cell(row, c_avg), path, line, "Average Price", required=False)
    if avg is not None:
        return abs(avg) / mult
    value = number(Columns.cell(row, c_value), path, line, "Value", required=True)
    return abs(value) / (qty * mult)
