"""Interactive Brokers exports: Flex query Open Positions (XML or CSV), Activity Statement CSV.

**Flex query, XML** (Reports → Flex Queries → Activity Flex Query with the
Open Positions section). alvh reads every ``<OpenPosition>`` element's
attributes ``accountId``, ``assetCategory`` (``OPT``), ``symbol`` (OSI-style,
``SPXW  261218P05400000``) or else ``description`` (``SPXW 18DEC26 5400 P``),
``position`` (signed), ``multiplier``, the cost basis ``costBasisMoney``
(dollars; the price per point is it ÷ (|position| × multiplier)) or else
``costBasisPrice`` or ``openPrice`` (points), and ``levelOfDetail`` with
``openDateTime`` (``20261103;153107``), and the mark ``markPrice`` (points) of the
row's ``reportDate`` (else the statement's ``toDate``): a date, the mark being that
day's closing price. Attribute names from csingley/ibflex ``Types.py``
(``OpenPosition``), which mirrors IBKR's Flex schema.

**Flex query, CSV**: the same section with a header row of the Flex field
labels — ``ClientAccountID``, ``AssetClass``, ``Symbol``, ``Description``,
``Quantity``, ``Multiplier``, ``CostBasisMoney``/``CostBasisPrice``/
``OpenPrice``, ``LevelOfDetail``, ``OpenDateTime``, ``MarkPrice`` (or
``ClosePrice``) and ``ReportDate`` (tfiala/ibkr-flex-statement-rs
README; beancount/beanbuff ``ibkr_flex_reports_csv.py``). With "include header
and trailer records" the rows carry ``HEADER``/``DATA`` and the section code
(``POST``) in front, and ``BOF``/``EOF`` records around; both layouts are read.

**Activity Statement, CSV** (Statements → Activity → CSV). Every row starts
with its section and ``Header``/``Data``/``Total``; alvh reads ``Account
Information`` → ``Account`` and the ``Open Positions`` section: ``Data`` rows
with ``DataDiscriminator`` ``Summary`` or ``Lot``, ``Asset Category``
(``Equity and Index Options``), ``Symbol`` (``SPXW 18DEC26 5400 P``),
``Quantity`` (signed), ``Mult``, ``Cost Basis`` (dollars; price per point = it
÷ (|quantity| × Mult)) or else ``Cost Price``, on lot rows ``Open`` (the
lot's date-time), and the mark ``Close Price`` (or ``Mark Price``) of the
``Statement`` section's ``Period`` end (a date: that day's close). Layout as
in the statements quoted by the open-source readers found through code search
(e.g. ``Open Positions,Header,DataDiscriminator,Asset Category,Currency,Symbol,
Open,Quantity,Mult,Cost Price,Cost Basis,Close Price,Value,Unrealized P/L,Code``).

IBKR's cost basis includes commissions, so the credit alvh writes is net of
them. Where an export gives both summary and lot rows, the summary gives the
quantity and price and the lots the open date (the earliest lot's); with lot
rows only, the lots are added up. SPX vs SPXW is read from the symbol or the
description, never guessed from the underlying alone. The description beside an OSI
symbol, and the ``Strike``, ``Expiry`` and ``Put/Call`` columns (``strike``, ``expiry``,
``putCall`` in XML), where given, must name the option read (``common.check_restated``).
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from xml.parsers import expat

from alvh_cli.errors import InputError
from alvh_cli.inputs.brokers import common
from alvh_cli.inputs.brokers.common import (
    Columns,
    Lot,
    ParsedExport,
    Skipped,
    account,
    cells_after,
    check_restated,
    collect,
    contracts,
    csv_rows,
    ib_option,
    mark_price,
    number,
    option_or_skip,
    osi_option,
    parse_date,
    refuse_cut_short,
)

FLEX_XML = "IBKR flex query (XML)"
FLEX_CSV = "IBKR flex query (CSV)"
ACTIVITY = "IBKR activity statement"
OPTION_MULTIPLIER = 100.0


@dataclass(frozen=True)
class _Row:
    """One open-position record, whatever the layout it came in."""

    account: str
    asset: str
    symbol: str
    description: str
    quantity: str
    multiplier: str
    money: str  # cost basis in dollars
    price: str  # cost basis (or open price) per point
    level: str  # "summary" | "lot"
    opened: str
    source: str
    line: int
    mark: str = ""  # points
    marked: str = ""  # the day the mark is of
    description_column: str = "description"  # the column ``description`` was read from
    strike: str = ""  # the option restated in columns of its own, where the layout has them
    expiry: str = ""
    right: str = ""


def looks_like_flex_xml(text: str) -> bool:
    head = text.lstrip()[:2000]
    return head.startswith("<") and ("FlexQueryResponse" in head or "OpenPosition" in text)


def looks_like_activity(text: str) -> bool:
    return bool(re.search(r"(?m)^\ufeff?(Statement|[A-Za-z ]*Open Positions),Header,", text))


def looks_like_flex_csv(header: Columns) -> bool:
    return (
        header.has("ClientAccountID", "AccountID")
        or (header.has("AssetClass") and header.has("Symbol"))
    ) and header.has("Quantity", "Position")


def read(path: str, text: str) -> ParsedExport:
    if looks_like_flex_xml(text):
        return read_flex_xml(path, text)
    if looks_like_activity(text):
        return read_activity(path, text)
    rows = csv_rows(text, path)
    head = list(itertools.islice(rows, 3))
    flex = bool(head) and looks_like_flex_csv(
        Columns(_strip_record(head[0][1])[1], path, head[0][0])
    )
    if flex or any(r[1][:1] in (["BOF"], ["HEADER"]) for r in head):
        return read_flex_csv(path, itertools.chain(head, rows))
    raise InputError(
        "not an Interactive Brokers export: expected a Flex query with Open Positions "
        "(XML or CSV) or an Activity Statement CSV",
        path,
    )


# --------------------------------------------------------------------------- flex XML


def read_flex_xml(path: str, text: str) -> ParsedExport:
    records: list[_Row] = []
    statement_account = [""]
    statement_day = [""]
    parser = expat.ParserCreate()

    def start(name, attrs):
        if name == "FlexStatement":
            statement_account[0] = attrs.get("accountId", "")
            statement_day[0] = attrs.get("toDate", "")
        if name != "OpenPosition":
            return
        line = parser.CurrentLineNumber
        limit = common.MAX_EXPORT_ROWS
        if len(records) >= limit:  # refused as it streams, as a CSV's rows are
            raise InputError(
                f"more than {limit:,} <OpenPosition> records: not a broker export alvh reads "
                f"(at most {limit:,} rows of positions or fills)",
                path,
                line=line,
            )
        get = attrs.get
        records.append(
            _Row(
                account=get("accountId") or statement_account[0],
                asset=get("assetCategory", ""),
                symbol=get("symbol", ""),
                description=get("description", ""),
                quantity=get("position", ""),
                multiplier=get("multiplier", ""),
                money=get("costBasisMoney", ""),
                price=get("costBasisPrice") or get("openPrice", ""),
                level=get("levelOfDetail", "summary").lower() or "summary",
                opened=get("openDateTime", ""),
                source=f"{path}:{line}",
                line=line,
                mark=get("markPrice", ""),
                marked=get("reportDate") or statement_day[0],
                strike=get("strike", ""),
                expiry=get("expiry", ""),
                right=get("putCall", ""),
            )
        )

    parser.StartElementHandler = start
    try:
        parser.Parse(text, True)
    except expat.ExpatError as e:
        raise InputError(
            f"XML syntax error: {expat.ErrorString(e.code)}", path, line=e.lineno
        ) from None
    if not records and "OpenPositions" not in text:
        raise InputError(
            "no <OpenPositions> in this Flex query: add the Open Positions section", path
        )
    return _combine(path, FLEX_XML, records)


# --------------------------------------------------------------------------- flex CSV

_TRAILERS = {"BOF", "BOA", "BOS", "EOS", "EOA", "EOF"}


def _strip_record(row: list[str]) -> tuple[str, list[str]]:
    """(section code, cells) for ``HEADER``/``DATA`` records; ("", row) otherwise."""
    if row and row[0].upper() in ("HEADER", "DATA") and len(row) > 2:
        return row[1].upper(), cells_after(row, 2)
    return "", row


def read_flex_csv(path: str, rows: Iterable[tuple[int, list[str]]]) -> ParsedExport:
    records: list[_Row] = []
    header: Columns | None = None
    found = False
    for line, raw in rows:
        if raw[0].upper() in _TRAILERS:
            continue
        code, row = _strip_record(raw)
        is_header = raw[0].upper() == "HEADER" or (not code and header_is(row))
        if is_header:
            cols = Columns(row, path, line)
            usable = (not code or code == "POST") and cols.has("Quantity", "Position")
            header = cols if usable and cols.has("Symbol", "Description") else None
            found = found or header is not None
            continue
        if header is None or (code and code != "POST"):
            continue
        header.fits(row, line)
        records.append(_flex_csv_row(header, row, path, line))
    if not found:
        raise InputError(
            "no Open Positions header (ClientAccountID, AssetClass, Symbol, Quantity, …) "
            "in this Flex query CSV",
            path,
        )
    return _combine(path, FLEX_CSV, records)


def header_is(row: list[str]) -> bool:
    lowered = {c.lower() for c in row}
    return "symbol" in lowered and bool(lowered & {"quantity", "position"})


def _flex_csv_row(h: Columns, row: list[str], path: str, line: int) -> _Row:
    cell = Columns.cell
    return _Row(
        account=cell(row, h.find("ClientAccountID", "AccountID")),
        asset=cell(row, h.find("AssetClass", "AssetCategory", "Asset Class")),
        symbol=cell(row, h.find("Symbol")),
        description=cell(row, h.find("Description")),
        quantity=cell(row, h.find("Quantity", "Position")),
        multiplier=cell(row, h.find("Multiplier")),
        money=cell(row, h.find("CostBasisMoney")),
        price=cell(row, h.find("CostBasisPrice")) or cell(row, h.find("OpenPrice")),
        level=(cell(row, h.find("LevelOfDetail")) or "summary").lower(),
        opened=cell(row, h.find("OpenDateTime")),
        source=f"{path}:{line}",
        line=line,
        mark=cell(row, h.find("MarkPrice", "Mark Price", "ClosePrice", "Close Price")),
        marked=cell(row, h.find("ReportDate", "Report Date")),
        strike=cell(row, h.find("Strike")),
        expiry=cell(row, h.find("Expiry")),
        right=cell(row, h.find("Put/Call")),
    )


# --------------------------------------------------------------------------- activity statement


def read_activity(path: str, text: str) -> ParsedExport:
    records: list[_Row] = []
    owner = ""
    period_end = ""
    header: Columns | None = None
    found = False
    for line, row in csv_rows(text, path):
        if len(row) < 3:
            refuse_cut_short(row, path, line)
            continue
        section, kind = row[0], row[1].lower()
        if section == "Account Information" and kind == "data" and row[2] == "Account":
            owner = account(row[3], path, line, "Account") if len(row) > 3 else ""
            continue
        if section == "Statement" and kind == "data" and row[2] == "Period" and len(row) > 3:
            period_end = _period_end(row[3])
            continue
        if not section.endswith("Open Positions"):
            continue
        cells = cells_after(row, 2)
        if kind == "header":
            header = Columns(cells, path, line)
            header.need("quantity", "Quantity")
            header.need("symbol", "Symbol")
            found = True
            continue
        if kind != "data" or header is None:
            continue  # Total and SubTotal rows
        header.fits(cells, line)
        cell = Columns.cell
        records.append(
            _Row(
                account=owner,
                asset=cell(cells, header.find("Asset Category")),
                symbol="",
                description=cell(cells, header.find("Symbol")),
                quantity=cell(cells, header.find("Quantity")),
                multiplier=cell(cells, header.find("Mult", "Multiplier")),
                money=cell(cells, header.find("Cost Basis")),
                price=cell(cells, header.find("Cost Price")),
                level=(cell(cells, header.find("DataDiscriminator")) or "summary").lower(),
                opened=cell(cells, header.find("Open")),
                source=f"{path}:{line}",
                line=line,
                mark=cell(cells, header.find("Close Price", "Mark Price")),
                marked=period_end,
                description_column="Symbol",
            )
        )
    if not found:
        raise InputError("no Open Positions section in this Activity Statement", path)
    return _combine(path, ACTIVITY, records)


# --------------------------------------------------------------------------- combining


def _combine(path: str, fmt: str, records: list[_Row]) -> ParsedExport:
    """Summary rows give quantity and price, lot rows the open date (see module doc)."""
    skipped: list[Skipped] = []
    by_key: dict = defaultdict(lambda: {"summary": [], "lot": []})
    for r in records:
        option = _option(r)
        if (
            option is None
            and r.asset.upper() in ("OPT", "EQUITY AND INDEX OPTIONS")
            and (r.symbol or r.description)
        ):
            skipped.append(
                Skipped(r.symbol or r.description, r.source, "option symbol not understood")
            )
            continue
        option = option_or_skip(option, r.symbol or r.description, r.source, skipped)
        if option is None:
            continue
        level = "lot" if r.level.startswith("lot") else "summary"
        owner = account(r.account, path, r.line, "account")
        by_key[(owner, option)][level].append(r)
    holdings = {}
    for key, levels in by_key.items():
        lots = [_lot(r, path) for r in levels["lot"]]
        summary = [_lot(r, path) for r in levels["summary"]]
        if not summary:
            holdings[key] = lots
            continue
        opened = None
        dates = [lot.opened for lot in lots]
        lot_total = sum(lot.quantity for lot in lots)
        if lots and all(dates) and lot_total == sum(s.quantity for s in summary):
            opened = min(dates)
        holdings[key] = [
            Lot(s.quantity, s.price, s.opened or opened, s.source, s.mark, s.mark_time)
            for s in summary
        ]
    return collect(path, fmt, "positions", holdings, skipped)


def _option(r: _Row):
    if r.asset and r.asset.upper() not in ("OPT", "EQUITY AND INDEX OPTIONS", "OPTIONS"):
        return None
    path = r.source.rsplit(":", 1)[0]
    option = osi_option(r.symbol, path, r.line, "symbol") if r.symbol else None
    if option is not None:
        read_from, code = "symbol", r.symbol
        # the description, when it is one, is the same option
        restated = [("option", r.description_column, r.description)]
    else:
        for text, column in ((r.description, r.description_column), (r.symbol, "symbol")):
            option = ib_option(text, path, r.line, column) if text else None
            if option is not None:
                read_from, code = column, text
                break
        else:
            return None
        restated = []
    restated += [("strike", "strike", r.strike), ("expiry", "expiry", r.expiry),
                 ("type", "put/call", r.right)]  # fmt: skip
    check_restated(option, restated, path, r.line, read_from, code)
    return option


def _lot(r: _Row, path: str) -> Lot:
    qty = contracts(r.quantity, path, r.line, "quantity")
    mult = number(r.multiplier, path, r.line, "multiplier", required=False) or OPTION_MULTIPLIER
    money = number(r.money, path, r.line, "cost basis", required=False)
    price = None
    if money is not None and qty:
        price = abs(money) / (abs(qty) * mult)
    else:
        p = number(r.price, path, r.line, "cost price", required=False)
        price = None if p is None else abs(p)
    opened: date | None = None
    if r.opened.strip() not in ("", "-", "--"):
        opened = parse_date(r.opened, path, r.line, "open date")
    mark = mark_price(r.mark, path, r.line, "mark price")
    marked = (
        parse_date(r.marked, path, r.line, "report date") if mark is not None and r.marked else None
    )
    return Lot(qty, price, opened, r.source, mark, marked)


def _period_end(text: str) -> str:
    """The last day of an Activity Statement's ``Period`` (``November 24, 2026``, or
    ``November 1, 2026 - November 24, 2026``) as ``2026-11-24``; "" when not a date."""
    try:
        return datetime.strptime(text.rsplit(" - ", 1)[-1].strip(), "%B %d, %Y").date().isoformat()
    except ValueError:
        return ""
