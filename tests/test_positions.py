"""Tests for alvh_cli.inputs.positions: loading, validation, OSI symbols, asof, schema.

``BAD_FILES`` (text) and ``BAD_BYTES`` (raw bytes) list one broken file per
validation rule with a substring that the one-line error must contain (the key
path, usually followed by the start of the message). The CLI tests reuse them:
``from test_positions import BAD_FILES``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from builders import condor_legs
from hypothesis import given
from hypothesis import strategies as st

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from alvh_cli.errors import InputError
from alvh_cli.inputs.json_schema import json_schema
from alvh_cli.inputs.positions import (
    expand_book,
    load_file,
    load_files,
    load_market_file,
    load_rules_table,
    parse_market,
)
from alvh_cli.model.contracts import parse_osi
from alvh_cli.model.timing import resolve_asof

# A valid file: condor 5350/5400 - 6150/6200 x2 plus a layer-1 VIX call spread.
GOOD = """\
[market]
asof = 2026-11-24T15:45:00-05:00
spx = 5850.25
vix = 18.2
rate = 0.042
dividend_yield = 0.013
vix_futures = [ { expiry = 2027-01-20, price = 19.8 }, { expiry = 2026-12-16, price = 19.1 } ]

[market.spx_vol]
atm = 0.165
skew = -1.1
smile = 2.5

[market.vix_vol]
atm = 0.95
skew = 0.8

[[market.quotes]]
type = "put"
strike = 5450
expiry = 2026-12-18
bid = 10.10
ask = 10.50

[rules]
layer1_multiple = 1.5

[[positions]]
id = "dec-ic"
opened = 2026-11-03

[[positions.legs]]
type = "put"
strike = 5350
expiry = 2026-12-18
quantity = 2
entry_price = 4.60

[[positions.legs]]
type = "put"
strike = 5400
expiry = 2026-12-18
quantity = -2
entry_price = 6.10

[[positions.legs]]
type = "call"
strike = 6150
expiry = 2026-12-18
quantity = -2
entry_price = 3.20

[[positions.legs]]
type = "call"
strike = 6200
expiry = 2026-12-18
quantity = 2
entry_price = 1.85

[[positions.legs]]
underlying = "VIX"
type = "call"
strike = 21
expiry = 2026-12-16
quantity = 6
entry_price = 1.35
layer = 1
entry_vix = 22.4

[[positions.legs]]
underlying = "VIX"
type = "call"
strike = 28
expiry = 2026-12-16
quantity = -6
entry_price = 0.55
layer = 1
"""

# Line blocks that identify one leg of GOOD.
LP = "strike = 5350\nexpiry = 2026-12-18\nquantity = 2\nentry_price = 4.60"
SP = "strike = 5400\nexpiry = 2026-12-18\nquantity = -2\nentry_price = 6.10"
SC = "strike = 6150\nexpiry = 2026-12-18\nquantity = -2\nentry_price = 3.20"
LC = "strike = 6200\nexpiry = 2026-12-18\nquantity = 2\nentry_price = 1.85"
VIX_LONG = "strike = 21\nexpiry = 2026-12-16\nquantity = 6\nentry_price = 1.35\nlayer = 1"
SP_LEG = 'type = "put"\n' + SP
CALL_LEGS = (
    '[[positions.legs]]\ntype = "call"\n' + SC + '\n\n[[positions.legs]]\ntype = "call"\n' + LC
)
QUOTE = 'type = "put"\nstrike = 5450\nexpiry = 2026-12-18\nbid = 10.10\nask = 10.50'
ORDER = "positions[0].legs: the condor legs must be long put < short put < short call < long call, "
SECOND_POSITION = GOOD[GOOD.index("[[positions]]") :]


def sub(old: str, new: str, text: str = GOOD) -> str:
    """``text`` with the one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def edit(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        text = sub(old, new, text)
    return text


BAD_FILES: list[tuple[str, str]] = [
    # --- file level
    ("", "no [[positions]] in file"),
    ("# nothing but a comment\n", "no [[positions]] in file"),
    (GOOD[: GOOD.index("[rules]")], "no [[positions]] in file"),  # market only
    (sub("strike = 5400", "strike = 54 00"), "TOML syntax error"),
    (sub("strike = 5400", "strike = 5400\nstrike = 5401"), "TOML syntax error"),
    ("rules = 5\n" + sub("[rules]\nlayer1_multiple = 1.5\n", ""), "rules: must be a table"),
    (sub("[rules]", "[rule]"), "rule: unknown key 'rule' (did you mean 'rules'?)"),
    (
        sub("[[positions]]", "[positions]").replace("[[positions.legs]]", "[[positions.x]]"),
        "positions: must be an array of tables [[positions]]",
    ),
    # --- unknown keys, with a suggestion
    (
        sub("strike = 5400", "strke = 5400"),
        "positions[0].legs[1].strke: unknown key 'strke' (did you mean 'strike'?)",
    ),
    (
        sub('id = "dec-ic"', 'id = "dec-ic"\ncredits = 2.0'),
        "positions[0].credits: unknown key 'credits' (did you mean 'credit'?)",
    ),
    (sub("dividend_yield = 0.013", "dividend = 0.013"), "market.dividend: unknown key 'dividend'"),
    (sub("bid = 10.10", "bid = 10.10\nsize = 10"), "market.quotes[0].size: unknown key 'size'"),
    (sub("atm = 0.95", "atm = 0.95\nkurtosis = 1"), "market.vix_vol.kurtosis: unknown key"),
    # --- types
    (
        sub("strike = 5400", 'strike = "5400"'),
        "positions[0].legs[1].strike: must be a number, got '5400' (write numbers without quotes)",
    ),
    (
        sub("entry_price = 6.10", "entry_price = true"),
        "positions[0].legs[1].entry_price: must be a number, got true",
    ),
    (
        sub("quantity = 6", "quantity = 2.5"),
        "positions[0].legs[4].quantity: must be a whole number",
    ),
    (
        sub("quantity = 6", "quantity = 6.0"),
        "positions[0].legs[4].quantity: must be a whole number",
    ),
    (sub("quantity = 6", 'quantity = "6"'), "positions[0].legs[4].quantity: must be a number"),
    (
        sub("strike = 6150\nexpiry = 2026-12-18", 'strike = 6150\nexpiry = "2026-12-18"'),
        "positions[0].legs[2].expiry: must be a date (YYYY-MM-DD), got '2026-12-18' "
        "(write dates without quotes)",
    ),
    (
        sub("strike = 6150\nexpiry = 2026-12-18", "strike = 6150\nexpiry = 2026-12-18T16:00:00"),
        "positions[0].legs[2].expiry: must be a date (YYYY-MM-DD), got a date-time",
    ),
    (sub("opened = 2026-11-03", 'opened = "yesterday"'), "positions[0].opened: must be a date"),
    (
        sub("asof = 2026-11-24T15:45:00-05:00", "asof = 15:45:00"),
        "market.asof: must be a date or date-time",
    ),
    (sub('id = "dec-ic"', "id = 7"), "positions[0].id: must be a string"),
    (
        sub(
            "[market.spx_vol]\natm = 0.165", "[market.spx_vol]\natm = 0.165\nskew = 'steep'"
        ).replace("skew = -1.1\n", ""),
        "market.spx_vol.skew: must be a number",
    ),
    # --- finite numbers
    (
        sub("entry_price = 6.10", "entry_price = nan"),
        "positions[0].legs[1].entry_price: must be a finite number, got nan",
    ),
    (sub("spx = 5850.25", "spx = inf"), "market.spx: must be a finite number, got inf"),
    (sub("smile = 2.5", "smile = -inf"), "market.spx_vol.smile: must be a finite number, got -inf"),
    # --- ranges
    (sub("strike = 5400", "strike = -5400"), "positions[0].legs[1].strike: must be > 0, got -5400"),
    (
        sub("entry_price = 6.10", "entry_price = -6.10"),
        "positions[0].legs[1].entry_price: must be >= 0, got -6.1",
    ),
    (sub("quantity = 6", "quantity = 0"), "positions[0].legs[4].quantity: must not be 0"),
    (
        sub("layer = 1\nentry_vix", "layer = 4\nentry_vix"),
        "positions[0].legs[4].layer: must be between 1 and 3, got 4",
    ),
    (
        sub("entry_vix = 22.4", "entry_vix = 0"),
        "positions[0].legs[4].entry_vix: must be > 0, got 0",
    ),
    (sub(SP, SP + "\niv = 0"), "positions[0].legs[1].iv: must be > 0 and < 10, got 0"),
    (sub(SP, SP + "\niv = 19.0"), "positions[0].legs[1].iv: must be > 0 and < 10, got 19.0"),
    (
        sub("opened = 2026-11-03", "opened = 2026-11-03\ncredit = -4.85"),
        "positions[0].credit: must be > 0, got -4.85",
    ),
    (sub("spx = 5850.25", "spx = 0"), "market.spx: must be > 0, got 0"),
    (
        sub("vix = 18.2", "vix = -18.2"),
        "market.vix: must be between 5 and 150 (VIX has closed between 9.14 and 82.69 since "
        "1990), got -18.2",
    ),
    (
        sub("rate = 0.042", "rate = 4.2"),
        "market.rate: must be between -0.05 and 0.2 (4.2% is written 0.042), got 4.2",
    ),
    (
        sub("rate = 0.042", "rate = 1"),
        "market.rate: must be between -0.05 and 0.2 (4.2% is written 0.042), got 1",
    ),
    (
        sub("dividend_yield = 0.013", "dividend_yield = -1.3"),
        "market.dividend_yield: must be between -0.05 and 0.2 (1.3% is written 0.013), got -1.3",
    ),
    (sub("price = 19.1", "price = 0"), "market.vix_futures[1].price: must be > 0, got 0"),
    (sub("atm = 0.165", "atm = 0"), "market.spx_vol.atm: must be > 0 and < 10, got 0"),
    (sub("atm = 0.95", "atm = -0.95"), "market.vix_vol.atm: must be > 0 and < 10, got -0.95"),
    (sub("bid = 10.10", "bid = -0.05"), "market.quotes[0].bid: must be >= 0, got -0.05"),
    (sub("ask = 10.50", "ask = 0"), "market.quotes[0].ask: must be > 0, got 0"),
    (
        sub("bid = 10.10", "bid = 10.60"),
        "market.quotes[0].bid: bid must be <= ask, got bid 10.6 above ask 10.5",
    ),
    # --- choices
    (
        sub(
            'underlying = "VIX"\ntype = "call"\nstrike = 21',
            'underlying = "QQQ"\ntype = "call"\nstrike = 21',
        ),
        'positions[0].legs[4].underlying: must be one of "SPX", "VIX", got \'QQQ\'',
    ),
    (sub(SP_LEG, 'type = "straddle"\n' + SP), "positions[0].legs[1].type: must be one of"),
    (
        sub(SP_LEG, 'type = "future"\n' + SP),
        "positions[0].legs[1].type: 'future' is only for VIX legs",
    ),
    (
        sub('type = "call"\nstrike = 21', 'type = "future"\nstrike = 21'),
        "positions[0].legs[4].strike: a future has no strike",
    ),
    (
        sub(SP_LEG, 'root = "VIX"\n' + SP_LEG),
        'positions[0].legs[1].root: must be "SPX" or "SPXW" for SPX legs',
    ),
    (
        sub(
            'underlying = "VIX"\ntype = "call"\nstrike = 21',
            'underlying = "VIX"\nroot = "SPXW"\ntype = "call"\nstrike = 21',
        ),
        'positions[0].legs[4].root: must be "VIX" or "VIXW"',
    ),
    (
        sub(
            'underlying = "VIX"\ntype = "call"\nstrike = 21',
            'underlying = "VIX"\nroot = "VXM"\ntype = "call"\nstrike = 21',
        ),
        'positions[0].legs[4].root: "VXM" is the Mini VIX future: only for type = "future"',
    ),
    (
        sub(SP_LEG, 'root = "VXM"\n' + SP_LEG),
        'positions[0].legs[1].root: must be "SPX" or "SPXW" for SPX legs',
    ),
    (sub(QUOTE, QUOTE.replace('"put"', '"future"')), "market.quotes[0].type: must be one of"),
    (sub(QUOTE, 'root = "VIX"\n' + QUOTE), "market.quotes[0].root: must be"),
    # --- occ or (type, strike, expiry)
    (
        sub(SP_LEG, 'occ = "SPXW  261218P05400000"\n' + SP),
        "positions[0].legs[1].strike: 'occ' and 'strike' both given",
    ),
    (
        sub(SP_LEG, "quantity = -2\nentry_price = 6.10"),
        "positions[0].legs[1]: a leg needs either occ or type, strike and expiry",
    ),
    (
        sub(SP_LEG, 'type = "put"\nstrike = 5400\nquantity = -2\nentry_price = 6.10'),
        "positions[0].legs[1].expiry: required (or give occ)",
    ),
    (
        sub(SP_LEG, 'occ = "SPXW 2612P5400"\nquantity = -2\nentry_price = 6.10'),
        "positions[0].legs[1].occ: not an OSI option symbol "
        "(ROOT YYMMDD C|P 8-digit strike×1000), got 'SPXW 2612P5400'",
    ),
    (
        sub(SP_LEG, 'occ = "SPXW  261318P05400000"\nquantity = -2\nentry_price = 6.10'),
        "positions[0].legs[1].occ: expiry 261318 is not a valid YYMMDD date",
    ),
    (
        sub(SP_LEG, 'occ = "QQQ   261218P05400000"\nquantity = -2\nentry_price = 6.10'),
        "positions[0].legs[1].occ: root 'QQQ' is not one alvh prices",
    ),
    (
        sub(
            SP_LEG,
            'occ = "SPXW  261218P05400000"\nunderlying = "VIX"\nquantity = -2\nentry_price = 6.10',
        ),
        "positions[0].legs[1].underlying: 'VIX' does not match the occ root 'SPXW'",
    ),
    (
        sub(QUOTE, 'type = "put"\nexpiry = 2026-12-18\nbid = 10.10\nask = 10.50'),
        "market.quotes[0].strike: required (or give occ)",
    ),
    # --- required keys
    (sub("rate = 0.042\n", ""), "market.rate: required"),
    (sub("asof = 2026-11-24T15:45:00-05:00\n", ""), "market.asof: required"),
    (sub("atm = 0.95\n", ""), "market.vix_vol.atm: required"),
    (sub(", price = 19.1 }", " }"), "market.vix_futures[1].price: required"),
    (sub('id = "dec-ic"\n', ""), "positions[0].id: required"),
    (sub('id = "dec-ic"', 'id = "  "'), "positions[0].id: must not be empty"),
    (sub(SP, SP.replace("quantity = -2\n", "")), "positions[0].legs[1].quantity: required"),
    (sub(SP, SP.replace("\nentry_price = 6.10", "")), "positions[0].legs[1].entry_price: required"),
    (GOOD[: GOOD.index("[[positions.legs]]")], "positions[0].legs: required"),
    # --- ids
    (GOOD + "\n" + SECOND_POSITION, "positions[1].id: duplicate id 'dec-ic' (also positions[0])"),
    # --- market tables
    (
        sub("{ expiry = 2026-12-16, price = 19.1 }", "{ expiry = 2027-01-20, price = 19.1 }"),
        "market.vix_futures[1].expiry: duplicate expiry 2027-01-20 (also market.vix_futures[0])",
    ),
    (
        sub("[market.vix_vol]", "[[market.vix_vol]]"),
        "market.vix_vol: must be a single table [market.vix_vol]",
    ),
    (
        sub("[[market.quotes]]", "[market.quotes]"),
        "market.quotes: must be an array of tables [[market.quotes]]",
    ),
    # --- layer-only keys
    (
        sub(VIX_LONG, VIX_LONG.replace("\nlayer = 1", "")),
        "positions[0].legs[4].layer: required on a VIX leg",
    ),
    (
        sub(SP, SP + "\nentry_vix = 22.4"),
        "positions[0].legs[1].entry_vix: only layer legs record entry_vix",
    ),
    # --- the condor's shape
    (
        sub(CALL_LEGS, '[[positions.legs]]\ntype = "call"\n' + SC),
        "positions[0].legs: the condor needs 4 legs without layer",
    ),
    (
        sub(
            CALL_LEGS,
            '[[positions.legs]]\ntype = "call"\n'
            + SC
            + '\n\n[[positions.legs]]\ntype = "put"\n'
            + LC.replace("6200", "5300"),
        ),
        "positions[0].legs: the condor needs 2 puts and 2 calls, got 3 puts and 1 call",
    ),
    (
        sub(LP, LP.replace("quantity = 2", "quantity = -2")),
        "positions[0].legs[1].quantity: the condor needs one long and one short put, "
        "got two short puts",
    ),
    (
        sub(LC, LC.replace("quantity = 2", "quantity = -2")),
        "positions[0].legs[3].quantity: the condor needs one long and one short call",
    ),
    (
        sub("strike = 5350", "strike = 5450"),
        ORDER + "got short put 5400 (legs[1]) below long put 5450 (legs[0])",
    ),
    (
        sub("strike = 6150", "strike = 5300"),
        ORDER + "got short call 5300 (legs[2]) below short put 5400 (legs[1])",
    ),
    (
        sub("strike = 6200", "strike = 6150.0"),
        "got long call 6150 (legs[3]) equal to short call 6150 (legs[2])",
    ),
    (
        sub(LC, LC.replace("2026-12-18", "2027-01-15")),
        "positions[0].legs[3].expiry: the condor's call legs must share one expiry: long call "
        "expires 2027-01-15, short call (legs[2]) 2026-12-18",
    ),
    (
        sub(LC, LC.replace("quantity = 2", "quantity = 3")),
        "positions[0].legs[3].quantity: the condor legs must be equal size",
    ),
    (
        sub(SP_LEG, 'root = "SPX"\n' + SP_LEG),
        "positions[0].legs[1].root: the condor's put legs must share one root: short put is "
        "SPX, long put (legs[0]) SPXW",
    ),
    # --- credit
    (
        sub("entry_price = 6.10", "entry_price = 1.10"),
        "positions[0].credit: credit not given and the condor legs' entry prices net to "
        "a debit of 2.15",
    ),
    (
        sub("opened = 2026-11-03", "opened = 2026-11-03\ncredit = 88.5"),
        "positions[0].credit: a credit of 88.5 exceeds the widest wing (50 points): "
        "no iron condor can take in more than its width",
    ),
    (
        sub("entry_price = 6.10", "entry_price = 66.10"),
        "positions[0].credit: a credit of 62.85 (the net entry premium of the condor legs) "
        "exceeds the widest wing (50 points)",
    ),
    # --- plausibility against spot
    (
        sub("price = 19.1", "price = 1910"),
        "market.vix_futures[1].price: 1910 is more than 3x spot VIX 18.2 — a typo? "
        "(VIX futures trade near spot VIX)",
    ),
    (
        sub("price = 19.1", "price = 1.91"),
        "market.vix_futures[1].price: 1.91 is less than 1/3 of spot VIX 18.2 — a typo?",
    ),
    # --- expiries on trading days only
    (
        sub(LC, LC.replace("2026-12-18", "2026-12-19")),
        "positions[0].legs[3].expiry: 2026-12-19 is a Saturday, not a trading day; "
        "options expire on trading days (the one before is 2026-12-18)",
    ),
    (
        sub(SP_LEG, 'occ = "SPXW  261220P05400000"\nquantity = -2\nentry_price = 6.10'),
        "positions[0].legs[1].occ: 2026-12-20 is a Sunday, not a trading day; "
        "options expire on trading days (the one before is 2026-12-18)",
    ),
    (
        sub(QUOTE, QUOTE.replace("2026-12-18", "2026-12-25")),
        "market.quotes[0].expiry: 2026-12-25 is an exchange holiday, not a trading day; "
        "options expire on trading days (the one before is 2026-12-24)",
    ),
    (
        sub("{ expiry = 2026-12-16, price = 19.1 }", "{ expiry = 2026-12-26, price = 19.1 }"),
        "market.vix_futures[1].expiry: 2026-12-26 is a Saturday, not a trading day; "
        "VIX futures expire on trading days (the one before is 2026-12-24)",
    ),
    # --- a smile table, when given, is complete
    (
        sub("[market.spx_vol]\natm = 0.165\nskew = -1.1\nsmile = 2.5\n", "[market.spx_vol]\n"),
        "market.spx_vol.skew: required when [market.spx_vol] is given "
        "(the smile's slope, e.g. -1.1)",
    ),
    (
        sub("smile = 2.5\n", ""),
        "market.spx_vol.smile: required when [market.spx_vol] is given",
    ),
    # --- TOML slips get a hint and the key
    (
        sub("strike = 5400", "strike = 5,400"),
        "strike: TOML syntax error: ",
    ),
    (
        sub("entry_price = 6.10", "entry_price = 6,10"),
        " — decimals use a point: write 6.10",
    ),
    (sub("rate = 0.042", "rate = 4.2%"), "rate: TOML syntax error: "),
    (
        sub(LP, LP.replace("2026-12-18", "12/18/2026")),
        " — dates are YYYY-MM-DD, e.g. 2026-12-18",
    ),
    # --- a misspelt top-level table
    (sub("[market]\n", "[markte]\n"), "markte: unknown key 'markte' (did you mean 'market'?)"),
    # --- synonyms difflib cannot find
    (
        sub("strike = 6150\nexpiry = 2026-12-18", "strike = 6150\nexpiration = 2026-12-18"),
        "positions[0].legs[2].expiration: unknown key 'expiration' (did you mean 'expiry'?)",
    ),
    # --- ids
    (
        sub('id = "dec-ic"', 'id = "dec\\u001b[31m-ic"'),
        "positions[0].id: id must be printable text",
    ),
    # --- quotes
    (
        sub(QUOTE + "\n", QUOTE + "\n\n[[market.quotes]]\n" + QUOTE + "\n"),
        "market.quotes[1]: duplicate quote for SPX put 5450 2026-12-18 (also market.quotes[0])",
    ),
    # --- rules table values (keys are rules.py's business)
    (
        sub("layer1_multiple = 1.5", 'layer1_multiple = "1.5"'),
        "rules.layer1_multiple: must be a number, got '1.5' (write numbers without quotes)",
    ),
    (
        sub("layer1_multiple = 1.5", "layer1_multiple = nan"),
        "rules.layer1_multiple: must be a finite number, got nan",
    ),
]

BAD_BYTES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    (GOOD.replace("[rules]", "# caf\xe9 close\n[rules]").encode("latin-1"), "not UTF-8 text"),
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(tmp_path: Path, content: str | bytes, name: str = "dec.toml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _error(path: Path, loader=load_file) -> InputError:
    before = _sha(path)
    with pytest.raises(InputError) as info:
        loader(path)
    assert _sha(path) == before  # input files are only ever read
    return info.value


def test_good_file_is_good(tmp_path):
    load_file(_write(tmp_path, GOOD))


@pytest.mark.parametrize(("text", "expected"), BAD_FILES)
def test_bad_file(tmp_path, text, expected):
    path = _write(tmp_path, text)
    message = str(_error(path))
    assert message.startswith(str(path) + ":"), message
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(("data", "expected"), BAD_BYTES)
def test_bad_bytes(tmp_path, data, expected):
    path = _write(tmp_path, data)
    message = str(_error(path))
    assert message.startswith(str(path) + ":")
    assert expected in message


def test_bad_file_cases_are_distinct():
    texts = [t for t, _ in BAD_FILES]
    assert len(set(texts)) == len(texts)
    assert len(BAD_FILES) >= 25


def test_syntax_error_gives_line(tmp_path):
    path = _write(tmp_path, sub("strike = 5400", "strike = 54 00"))
    err = _error(path)
    line = GOOD.splitlines().index("strike = 5400") + 1
    assert err.line == line
    assert str(err).startswith(f"{path}:{line}: TOML syntax error: ")
    assert "(at line" not in str(err)


@pytest.mark.parametrize(
    ("old", "new", "key", "hint"),
    [
        ("strike = 5400", "strike = 5,400", "strike", "no commas in numbers: write 5400"),
        ("spx = 5850.25", "spx = 5,850.25", "spx", "no commas in numbers: write 5850.25"),
        ("rate = 0.042", "rate = 4.2%", "rate", "write 4.2% as 0.042"),
        ("rate = 0.042", "rate = 5 %", "rate", "write 5% as 0.05"),
        (
            "strike = 5350\nexpiry = 2026-12-18",
            "strike = 5350\nexpiry = 12/18/2026",
            "expiry",
            "dates are YYYY-MM-DD, e.g. 2026-12-18",
        ),
        ("entry_price = 6.10", "entry_price = 6,10", "entry_price", "decimals use a point: 6.10"),
        ("vix = 18.2", "vix = 16,20", "vix", "decimals use a point: write 16.20"),
        (
            "{ expiry = 2026-12-16, price = 19.1 }",
            "{ expiry = 2026-12-16, price = 19,1 }",
            "price",
            "decimals use a point: write 19.1",
        ),
    ],
)
def test_syntax_error_hints_at_common_slips(tmp_path, old, new, key, hint):
    path = _write(tmp_path, sub(old, new))
    err = _error(path)
    slip = new.splitlines()[-1]
    line = next(i for i, text in enumerate(sub(old, new).splitlines(), 1) if slip in text)
    assert (err.line, err.key) == (line, key)
    message = str(err)
    assert message.startswith(f"{path}:{line}: {key}: TOML syntax error: "), message
    assert message.endswith(" — " + hint.replace("point: 6", "point: write 6")), message


def test_file_kinds_are_checked_before_reading(tmp_path):
    import os

    if Path("/dev/zero").exists():
        with pytest.raises(InputError, match=r"^/dev/zero: not a regular file \(a device\)"):
            load_file("/dev/zero")
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.toml"
        os.mkfifo(fifo)  # opening it would block until a writer came
        with pytest.raises(InputError, match=r"not a regular file \(a named pipe\)"):
            load_file(fifo)
        with pytest.raises(InputError, match="not a regular file"):
            load_market_file(fifo)
    big = tmp_path / "big.toml"
    with big.open("wb") as fh:
        fh.truncate(21 * 2**20)  # sparse: 21 MB on paper, nothing read
    with pytest.raises(InputError, match=r"file too large \(21 MB\) for a position file"):
        load_file(big)


def test_undecodable_byte_gives_line(tmp_path):
    data, _ = BAD_BYTES[1]
    err = _error(_write(tmp_path, data))
    assert err.line == GOOD.splitlines().index("[rules]") + 1


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(InputError, match="no such file") as info:
        load_file(path)
    assert str(info.value).startswith(str(path))


def test_symlink_loop_is_one_line(tmp_path):
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    path = tmp_path / "a.toml"
    with pytest.raises(InputError) as info:
        load_file(path)
    assert str(info.value) == f"{path}: symbolic link loop: cannot read the file"
    with pytest.raises(InputError) as info:
        load_market_file(path)
    assert str(info.value) == f"{path}: symbolic link loop: cannot read the file"
    # Given as a book path, and met inside a book folder: the loop is named, not skipped.
    with pytest.raises(InputError) as info:
        expand_book([path])
    assert str(info.value) == f"{path}: symbolic link loop: cannot read the file"
    assert expand_book([tmp_path]) == [tmp_path / "a.toml", tmp_path / "b.toml"]


def test_broken_symlink_names_its_target(tmp_path):
    path = tmp_path / "dec.toml"
    path.symlink_to("gone.toml")
    with pytest.raises(InputError) as info:
        load_file(path)
    assert str(info.value) == (
        f"{path}: broken symbolic link: it points to 'gone.toml', which does not exist"
    )


def test_unreadable_file_and_folder(tmp_path, monkeypatch):
    import os

    # Tests may run as root, which reads anything: fake the refusals the OS would give.
    path = _write(tmp_path, GOOD)
    real_open = Path.open

    def no_open(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", no_open)
    with pytest.raises(InputError) as info:
        load_file(path)
    assert str(info.value) == f"{path}: cannot read the file: permission denied"

    def no_listing(where):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "scandir", no_listing)
    with pytest.raises(InputError) as info:
        expand_book([tmp_path])
    assert str(info.value) == f"{tmp_path}: cannot list the directory: permission denied"


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        load_file(tmp_path)


def test_source_is_the_path_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, sub("strike = 5400", "strike = -5400"))
    with pytest.raises(InputError) as info:
        load_file("./dec.toml")
    assert str(info.value) == (
        "./dec.toml: positions[0].legs[1].strike: must be > 0, got -5400 (position 'dec-ic')"
    )


# --- good files ------------------------------------------------------------


def test_defaults_and_credit(tmp_path):
    pf = load_file(_write(tmp_path, GOOD))
    (pos,) = pf.positions
    assert pos.id == "dec-ic" and pos.opened == date(2026, 11, 3)
    assert pos.key == "positions[0]" and pos.source == str(tmp_path / "dec.toml")
    lp, sp, sc, lc = condor_legs(pos)
    for leg in condor_legs(pos):
        assert (leg.underlying, leg.root, leg.layer) == ("SPX", "SPXW", None)
    assert [g.strike for g in condor_legs(pos)] == [5350.0, 5400.0, 6150.0, 6200.0]
    assert [g.quantity for g in condor_legs(pos)] == [2, -2, -2, 2]
    assert pos.units == 2
    # Net entry premium per unit: shorts 6.10 + 3.20 = 9.30, longs 4.60 + 1.85 = 6.45,
    # credit = 9.30 - 6.45 = 2.85.
    assert pos.credit == pytest.approx(2.85, abs=1e-12)
    vix_long, vix_short = pos.hedges
    assert (vix_long.underlying, vix_long.root, vix_long.type) == ("VIX", "VIX", "call")
    assert (vix_long.layer, vix_long.entry_vix, vix_short.entry_vix) == (1, 22.4, None)
    assert vix_long.key == "positions[0].legs[4]"
    assert pos.deployed_layers == (1,)
    assert pf.rules == {"layer1_multiple": 1.5}


def test_credit_given_wins(tmp_path):
    pf = load_file(_write(tmp_path, sub("opened = 2026-11-03", "opened = 2026-11-03\ncredit = 3")))
    assert pf.positions[0].credit == 3.0


def test_market(tmp_path):
    m = load_file(_write(tmp_path, GOOD)).market
    assert (m.spx, m.vix, m.rate, m.dividend_yield) == (5850.25, 18.2, 0.042, 0.013)
    assert [p.expiry for p in m.vix_futures] == [date(2026, 12, 16), date(2027, 1, 20)]  # sorted
    assert [p.price for p in m.vix_futures] == [19.1, 19.8]
    assert (m.spx_vol.atm, m.spx_vol.skew, m.spx_vol.smile) == (0.165, -1.1, 2.5)
    assert (m.vix_vol.atm, m.vix_vol.skew, m.vix_vol.smile) == (0.95, 0.8, 0.0)
    (q,) = m.quotes
    assert (q.underlying, q.type, q.strike, q.bid, q.ask, q.root) == (
        "SPX",
        "put",
        5450.0,
        10.10,
        10.50,
        None,
    )
    assert m.source == str(tmp_path / "dec.toml")


def test_spx_vol_atm_defaults_to_the_level_whose_variance_swap_is_the_vix(tmp_path):
    # skew -1.1, smile 2.5 at VIX 18.2: the ATM vol at which the smile's own Cboe variance
    # swap is 0.182 sits below the VIX (the VIX carries the skew) — about 0.81 x VIX
    m = load_file(_write(tmp_path, sub("atm = 0.165\n", ""))).market
    assert (m.spx_vol.skew, m.spx_vol.smile) == (-1.1, 2.5)
    assert 0.14 < m.spx_vol.atm < 0.16
    from alvh_cli.model.variance_swap import smile_variance_swap

    assert smile_variance_swap(m.spx_vol) == pytest.approx(0.182, abs=1e-6)


def test_a_smile_no_atm_can_fit_to_the_vix_asks_for_atm(tmp_path):
    text = sub("atm = 0.165\n", "").replace("skew = -1.1", "skew = -9.0")
    with pytest.raises(InputError, match=r"market.spx_vol.atm: no ATM vol gives .*give atm"):
        load_file(_write(tmp_path, text))


def test_credit_up_to_the_widest_wing(tmp_path):
    # Wings of 50 (puts) and 100 (calls): the widest wing bounds the credit.
    text = edit(
        GOOD,
        ("opened = 2026-11-03", "opened = 2026-11-03\ncredit = 99.5"),
        ("strike = 6200", "strike = 6250"),
    )
    assert load_file(_write(tmp_path, text)).positions[0].credit == 99.5
    with pytest.raises(InputError, match=r"a credit of 100\.5 exceeds the widest wing \(100 "):
        load_file(_write(tmp_path, sub("credit = 99.5", "credit = 100.5", text)))


def test_a_mini_vix_future_loads_at_100_a_point(tmp_path):
    # a VXM future (root "VXM", no strike) beside a VX one (the default root): $100 and
    # $1,000 a point; the Mini settles with VX, at the VIX opening quotation of its expiry
    future = (
        '[[positions.legs]]\nunderlying = "VIX"\nroot = "VXM"\ntype = "future"\n'
        "expiry = 2027-01-20\nquantity = 6\nentry_price = 20.95\nlayer = 1\nentry_vix = 19.5\n"
        '\n[[positions.legs]]\nunderlying = "VIX"\ntype = "future"\n'
        "expiry = 2027-01-20\nquantity = 1\nentry_price = 20.95\nlayer = 1\n"
    )
    pf = load_file(_write(tmp_path, GOOD + "\n" + future))
    vxm, vx = pf.positions[0].legs[-2:]
    assert (vxm.root, vxm.type, vxm.strike, vxm.multiplier) == ("VXM", "future", None, 100.0)
    assert (vx.root, vx.multiplier) == ("VIX", 1000.0)


def test_vix_futures_within_3x_of_spot_load(tmp_path):
    # 3 x 18.2 = 54.6 and 18.2 / 3 = 6.07: both ends are fine.
    text = edit(GOOD, ("price = 19.1", "price = 54.6"), ("price = 19.8", "price = 6.07"))
    assert [p.price for p in load_file(_write(tmp_path, text)).market.vix_futures] == [54.6, 6.07]


def test_ids_may_hold_brackets_and_unicode(tmp_path):
    text = sub('id = "dec-ic"', 'id = "[bold]dec[/] ic é"')
    assert load_file(_write(tmp_path, text)).positions[0].id == "[bold]dec[/] ic é"
    with pytest.raises(InputError, match="id must be printable text"):
        load_file(_write(tmp_path, sub('id = "dec-ic"', 'id = "dec\\tic"')))


@pytest.mark.parametrize(
    ("word", "meant"),
    [
        ("expiration", "expiry"),
        ("exp", "expiry"),
        ("maturity", "expiry"),
        ("qty", "quantity"),
        ("contracts", "quantity"),
        ("size", "quantity"),
        ("price", "entry_price"),
        ("premium", "entry_price"),
        ("fill", "entry_price"),
        ("k", "strike"),
        ("K", "strike"),
        ("kind", "type"),
        ("right", "type"),
        ("cp", "type"),
        ("symbol", "occ"),
        ("osi", "occ"),
    ],
)
def test_unknown_key_synonyms(tmp_path, word, meant):
    path = _write(tmp_path, sub(SP, SP + f"\n{word} = 1"))
    assert f"positions[0].legs[1].{word}: unknown key {word!r} (did you mean {meant!r}?)" in str(
        _error(path)
    )


def test_unknown_key_synonym_only_when_the_table_has_it(tmp_path):
    # A quote has no quantity: no suggestion rather than a wrong one.
    message = str(_error(_write(tmp_path, sub("bid = 10.10", "bid = 10.10\nqty = 10"))))
    assert message.endswith("market.quotes[0].qty: unknown key 'qty'")


def test_market_defaults(tmp_path):
    text = GOOD[: GOOD.index("[market.spx_vol]")] + GOOD[GOOD.index("[rules]") :]
    m = load_file(_write(tmp_path, text)).market
    assert m.spx_vol.atm == 0.182  # a flat smile: its variance swap is its vol, the VIX
    assert (m.spx_vol.skew, m.spx_vol.smile) == (0.0, 0.0)
    assert m.vix_vol is None
    assert m.quotes == ()


def test_file_without_market(tmp_path):
    text = GOOD[GOOD.index("[rules]") :]
    pf = load_file(_write(tmp_path, text))
    assert pf.market is None


def test_choices_are_case_insensitive(tmp_path):
    text = edit(
        GOOD,
        (SP_LEG, 'type = "Put"\nroot = "spxw"\n' + SP),
        (
            'underlying = "VIX"\ntype = "call"\nstrike = 21',
            'underlying = "vix"\ntype = "CALL"\nstrike = 21',
        ),
    )
    pos = load_file(_write(tmp_path, text)).positions[0]
    assert (pos.legs[1].type, pos.legs[1].root) == ("put", "SPXW")
    assert (pos.legs[4].underlying, pos.legs[4].type) == ("VIX", "call")


def test_occ_legs_and_quotes(tmp_path):
    text = edit(
        GOOD,
        (SP_LEG, 'occ = "SPXW  261218P05400000"\nquantity = -2\nentry_price = 6.10'),
        ('type = "call"\n' + LC, 'occ = "SPXW261218C06200000"\nquantity = 2\nentry_price = 1.85'),
        (QUOTE, 'occ = "SPX   261218P05450000"\nbid = 10.10\nask = 10.50'),
    )
    pf = load_file(_write(tmp_path, text))
    legs = pf.positions[0].legs
    assert (legs[1].root, legs[1].type, legs[1].strike, legs[1].expiry) == (
        "SPXW",
        "put",
        5400.0,
        date(2026, 12, 18),
    )
    assert (legs[3].type, legs[3].strike) == ("call", 6200.0)
    (q,) = pf.market.quotes
    assert (q.root, q.underlying, q.strike) == ("SPX", "SPX", 5450.0)


def test_vix_future_leg(tmp_path):
    text = GOOD + (
        '\n[[positions.legs]]\nunderlying = "VIX"\ntype = "future"\nexpiry = 2026-12-16\n'
        "quantity = 1\nentry_price = 19.4\nlayer = 2\n"
    )
    leg = load_file(_write(tmp_path, text)).positions[0].legs[-1]
    assert (leg.type, leg.strike, leg.root, leg.layer, leg.multiplier) == (
        "future",
        None,
        "VIX",
        2,
        1000.0,
    )


def test_layer3_spx_legs_are_not_condor_legs(tmp_path):
    text = GOOD + (
        '\n[[positions.legs]]\ntype = "put"\nstrike = 5400\nexpiry = 2026-12-18\n'
        "quantity = 1\nentry_price = 40.0\nlayer = 3\n"
        '\n[[positions.legs]]\ntype = "call"\nstrike = 5400\nexpiry = 2026-12-18\n'
        "quantity = -1\nentry_price = 400.0\nlayer = 3\n"
    )
    pos = load_file(_write(tmp_path, text)).positions[0]
    assert len(condor_legs(pos)) == 4 and len(pos.layer_legs) == 4
    # the VIX spread is the hedge (layer 1); the synthetic is a Layer 3 trade, not a hedge
    assert len(pos.hedges) == 2 and pos.hedge_layers == (1,)
    assert pos.deployed_layers == (1, 3)


def test_several_positions(tmp_path):
    second = sub('id = "dec-ic"', 'id = "jan-ic"', SECOND_POSITION)
    pf = load_file(_write(tmp_path, GOOD + "\n" + second))
    assert [p.id for p in pf.positions] == ["dec-ic", "jan-ic"]
    assert pf.positions[1].key == "positions[1]"
    assert pf.positions[1].legs[0].key == "positions[1].legs[0]"


def test_utf8_bom_is_tolerated(tmp_path):
    load_file(_write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode()))


# --- OSI symbols -------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("SPXW  261218P05400000", ("SPXW", "put", 5400.0, date(2026, 12, 18))),
        ("SPX   270115C06100500", ("SPX", "call", 6100.5, date(2027, 1, 15))),
        ("SPXW261218P05400000", ("SPXW", "put", 5400.0, date(2026, 12, 18))),
        ("SPX270115C06100500", ("SPX", "call", 6100.5, date(2027, 1, 15))),
        ("VIX   261216C00021000", ("VIX", "call", 21.0, date(2026, 12, 16))),
        ("VIXW  261223C00022500", ("VIXW", "call", 22.5, date(2026, 12, 23))),
    ],
)
def test_parse_osi(symbol, expected):
    assert parse_osi(symbol) == expected


@pytest.mark.parametrize(
    "symbol",
    [
        "SPXW 2612P5400",
        "spxw  261218P05400000",  # lower case
        "SPXW  261218X05400000",  # neither C nor P
        "SPXW  261218P5400000",  # 7-digit strike
        "SPXW  261218P054000000",  # 9-digit strike
        "SPXW  2612180P05400000",  # 7-digit date
        " SPXW  261218P05400000",  # leading space
        "SPXW  261218P05400000 ",  # trailing space
        "SPXW  261231P00000000",  # zero strike
        "SPXW  260230P05400000",  # 30 February
        "QQQ   261218P00400000",  # root alvh does not price
        "",
    ],
)
def test_parse_osi_rejects(symbol):
    with pytest.raises(InputError) as info:
        parse_osi(symbol)
    assert repr(symbol) in str(info.value)


@given(
    root=st.sampled_from(["SPX", "SPXW", "VIX", "VIXW"]),
    is_put=st.booleans(),
    strike_milli=st.integers(1, 99_999_999),
    expiry=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    pad=st.booleans(),
)
def test_osi_round_trip(root, is_put, strike_milli, expiry, pad):
    symbol = (
        f"{root.ljust(6) if pad else root}{expiry:%y%m%d}{'P' if is_put else 'C'}{strike_milli:08d}"
    )
    assert parse_osi(symbol) == (root, "put" if is_put else "call", strike_milli / 1000, expiry)


# --- asof ----------------------------------------------------------------------


def _asof(tmp_path, value: str) -> datetime:
    text = sub("asof = 2026-11-24T15:45:00-05:00", f"asof = {value}")
    return load_file(_write(tmp_path, text)).market.asof


def test_asof_date_is_ny_close(tmp_path):
    # 2026-11-24 is in EST (UTC-5): 16:00 New York = 21:00 UTC.
    asof = _asof(tmp_path, "2026-11-24")
    assert asof.utcoffset() == timedelta(hours=-5)
    assert asof.astimezone(timezone.utc) == datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc)
    # In July (EDT, UTC-4) the close is 20:00 UTC.
    summer = resolve_asof(date(2026, 7, 15))
    assert summer.astimezone(timezone.utc) == datetime(2026, 7, 15, 20, 0, tzinfo=timezone.utc)


def test_asof_local_datetime_is_new_york(tmp_path):
    asof = _asof(tmp_path, "2026-11-24T15:45:00")
    assert asof.astimezone(timezone.utc) == datetime(2026, 11, 24, 20, 45, tzinfo=timezone.utc)
    assert str(asof.tzinfo) == "America/New_York"


def test_asof_offset_datetime_is_kept(tmp_path):
    asof = _asof(tmp_path, "2026-11-24T21:45:00+01:00")
    assert asof.utcoffset() == timedelta(hours=1)
    assert asof == datetime(2026, 11, 24, 20, 45, tzinfo=timezone.utc)
    assert _asof(tmp_path, "2026-11-24T20:45:00Z").utcoffset() == timedelta(0)


# --- market and rules files ------------------------------------------------------


def test_load_market_file_from_market_only_file(tmp_path):
    path = _write(tmp_path, GOOD[: GOOD.index("[rules]")], "today.toml")
    m = load_market_file(path)
    assert m.spx == 5850.25 and m.source == str(path)


def test_load_market_file_from_position_file(tmp_path):
    assert load_market_file(_write(tmp_path, GOOD)).vix == 18.2


def test_load_market_file_needs_market(tmp_path):
    path = _write(tmp_path, GOOD[GOOD.index("[rules]") :])
    assert str(_error(path, load_market_file)) == f"{path}: market: no [market] table in file"


def test_load_market_file_suggests_a_misspelt_market_table(tmp_path):
    text = GOOD[: GOOD.index("[rules]")].replace("[market", "[markte")
    path = _write(tmp_path, text, "today.toml")
    assert str(_error(path, load_market_file)) == (
        f"{path}: markte: no [market] table (did you mean [market] instead of [markte]?)"
    )


def test_load_market_file_validates(tmp_path):
    path = _write(tmp_path, sub("rate = 0.042\n", "", GOOD[: GOOD.index("[rules]")]))
    assert str(_error(path, load_market_file)) == f"{path}: market.rate: required"


def test_parse_market_from_dict():
    table = tomllib.loads(GOOD)["market"]
    assert parse_market(table, "x.toml").spx == 5850.25
    del table["spx"]
    with pytest.raises(InputError, match=r"^x\.toml: market\.spx: required$"):
        parse_market(table, "x.toml")


def test_load_rules_table(tmp_path):
    assert load_rules_table(_write(tmp_path, GOOD)) == {"layer1_multiple": 1.5}
    flat = _write(tmp_path, "layer1_multiple = 1.4\nvix_beta = -5\n", "r.toml")
    assert load_rules_table(flat) == {"layer1_multiple": 1.4, "vix_beta": -5}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("layer1_multiple = inf\n", "layer1_multiple: must be a finite number, got inf"),
        ('layer1_multiple = "high"\n', "layer1_multiple: must be a number, got 'high'"),
        ("layer1_multiple = true\n", "layer1_multiple: must be a number, got true"),
        ("[rules.layer1]\nmultiple = 1.5\n", "rules.layer1: must be a number, got a table"),
        ('[[positions]]\nid = "x"\n', "rules: no [rules] table in file (it has [positions])"),
    ],
)
def test_load_rules_table_rejects(tmp_path, text, expected):
    path = _write(tmp_path, text, "r.toml")
    message = str(_error(path, load_rules_table))
    assert message.startswith(f"{path}: ") and expected in message


# --- books ---------------------------------------------------------------------------


def test_expand_book(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    for name in ("b.toml", "a.toml", "notes.txt"):
        (book / name).write_text(GOOD)
    (book / "sub").mkdir()
    (book / "sub" / "c.toml").write_text(GOOD)
    extra = _write(tmp_path, GOOD, "z.toml")
    got = expand_book([book, extra, book / "a.toml"])
    assert got == [book / "a.toml", book / "b.toml", extra]
    assert [pf.path for pf in load_files([book])] == [str(book / "a.toml"), str(book / "b.toml")]


def test_expand_book_rejects_missing_and_empty(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        expand_book([tmp_path / "missing"])
    with pytest.raises(InputError, match=r"no \*\.toml files"):
        expand_book([tmp_path])


# --- JSON schema -----------------------------------------------------------------------

# Every key a position file may hold, written out by hand (not derived from the code).
ALL_KEYS = {
    "market", "rules", "positions",
    "market.asof", "market.spx", "market.vix", "market.rate", "market.dividend_yield",
    "market.vix_futures", "market.vix_futures[].expiry", "market.vix_futures[].price",
    "market.spx_vol", "market.spx_vol.atm", "market.spx_vol.skew", "market.spx_vol.smile",
    "market.vix_vol", "market.vix_vol.atm", "market.vix_vol.skew", "market.vix_vol.smile",
    "market.quotes", "market.quotes[].occ", "market.quotes[].underlying",
    "market.quotes[].root", "market.quotes[].type", "market.quotes[].strike",
    "market.quotes[].expiry", "market.quotes[].bid", "market.quotes[].ask",
    "market.spx_svi", "market.spx_svi[].expiry", "market.spx_svi[].root", "market.spx_svi[].a",
    "market.spx_svi[].b", "market.spx_svi[].rho", "market.spx_svi[].m",
    "market.spx_svi[].sigma", "market.spx_svi[].forward", "market.spx_svi[].discount",
    "market.spx_svi[].rms", "market.spx_svi[].n_quotes", "market.spx_svi[].butterfly_free",
    "positions[].id", "positions[].opened", "positions[].credit", "positions[].legs",
    "positions[].legs[].occ", "positions[].legs[].underlying", "positions[].legs[].root",
    "positions[].legs[].type", "positions[].legs[].strike", "positions[].legs[].expiry",
    "positions[].legs[].quantity", "positions[].legs[].entry_price", "positions[].legs[].iv",
    "positions[].legs[].layer", "positions[].legs[].entry_vix", "positions[].legs[].opened",
    "positions[].legs[].closed", "positions[].legs[].exit_price", "positions[].legs[].mark",
    "positions[].legs[].mark_time",
}  # fmt: skip

# GOOD plus every optional key at least once.
FULL = (
    edit(
        GOOD,
        ("skew = 0.8", "skew = 0.8\nsmile = 0.1"),
        (QUOTE, 'underlying = "SPX"\nroot = "SPXW"\n' + QUOTE),
        ("opened = 2026-11-03", "opened = 2026-11-03\ncredit = 2.85"),
        (SP_LEG, 'underlying = "SPX"\nroot = "SPXW"\n' + SP_LEG + "\niv = 0.19"),
        ('type = "call"\n' + LC, 'occ = "SPXW  261218C06200000"\nquantity = 2\nentry_price = 1.85'),
    )
    + '\n[[market.quotes]]\nocc = "VIX   261216C00021000"\nbid = 0.5\nask = 0.6\n'
    # a put bought later and sold since, marked by the broker when it was held
    + '\n[[positions.legs]]\ntype = "put"\nstrike = 5300\nexpiry = 2026-12-18\n'
    "quantity = 2\nentry_price = 3.0\nopened = 2026-11-10\nclosed = 2026-11-20\n"
    "exit_price = 1.5\nmark = 1.6\nmark_time = 2026-11-20T15:45:00-05:00\n"
    + '\n[[market.spx_svi]]\nexpiry = 2026-12-18\nroot = "SPXW"\na = 0.0009\nb = 0.045\n'
    "rho = -0.75\nm = 0.012\nsigma = 0.04\nforward = 5861.4\ndiscount = 0.99725\nrms = 0.03\n"
    "n_quotes = 61\nbutterfly_free = true\n"
)


def _data_keys(value, prefix="") -> set[str]:
    keys = set()
    if isinstance(value, dict):
        for k, v in value.items():
            path = f"{prefix}.{k}" if prefix else k
            keys.add(path)
            keys |= _data_keys(v, path)
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, dict):
                keys |= _data_keys(v, prefix + "[]")
    return keys


def _schema_keys(schema, prefix="") -> set[str]:
    keys = set()
    if schema.get("type") == "array":
        return _schema_keys(schema["items"], prefix + "[]")
    if prefix.endswith("rules"):  # rule names live in rules.py
        return keys
    for k, sub_schema in schema.get("properties", {}).items():
        path = f"{prefix}.{k}" if prefix else k
        keys.add(path)
        keys |= _schema_keys(sub_schema, path)
    return keys


def test_full_file_uses_every_key_and_loads(tmp_path):
    load_file(_write(tmp_path, FULL))
    assert _data_keys(tomllib.loads(FULL)) - {"rules.layer1_multiple"} == ALL_KEYS


def test_schema_lists_every_key():
    schema = json_schema()
    assert json.loads(json.dumps(schema)) == schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert _schema_keys(schema) == ALL_KEYS


def _objects(schema):
    yield schema
    for value in schema.values():
        if isinstance(value, dict):
            yield from _objects(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _objects(item)


def test_schema_objects_are_closed_and_documented():
    schema = json_schema()
    for obj in _objects(schema):
        if obj.get("type") == "object" and "properties" in obj:
            assert obj["additionalProperties"] is False
            for name, prop in obj["properties"].items():
                assert prop.get("description"), name


def test_schema_types_and_bounds():
    legs = json_schema()["properties"]["positions"]["items"]["properties"]["legs"]["items"]
    props = legs["properties"]
    assert props["expiry"] == {"description": props["expiry"]["description"],
                               "type": "string", "format": "date"}  # fmt: skip
    assert props["strike"]["exclusiveMinimum"] == 0
    assert props["quantity"]["type"] == "integer" and props["quantity"]["not"] == {"const": 0}
    assert (props["layer"]["minimum"], props["layer"]["maximum"]) == (1, 3)
    assert props["type"]["enum"] == ["put", "call", "future"]
    assert set(legs["required"]) == {"quantity", "entry_price"}
    assert "occ" in legs["dependentSchemas"]
    market = json_schema()["properties"]["market"]
    formats = {s["format"] for s in market["properties"]["asof"]["anyOf"]}
    assert {"date", "date-time"} <= formats
    assert set(market["required"]) == {"asof", "spx", "vix", "rate", "dividend_yield"}


def test_schema_closes_rules_when_given_their_names():
    rules = json_schema({"layer1_multiple": "Mark multiple for layer 1."})["properties"]["rules"]
    assert rules["additionalProperties"] is False
    assert set(rules["properties"]) == {"layer1_multiple"}


# --- sample_positions/ ---------------------------------------------------------------

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "sample_positions").glob("*.toml"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_file_loads(path):
    pf = load_file(path)
    m = pf.market
    assert m is not None and m.vix_vol is not None
    assert m.asof == datetime(2026, 11, 24, 20, 45, tzinfo=timezone.utc)
    assert 5600 <= m.spx <= 6100 and 13 <= m.vix <= 32


def test_samples_cover_the_scenarios():
    names = {p.name for p in SAMPLES}
    assert {
        "calm.toml",
        "put_tested_1_6x.toml",
        "put_tested_2_3x.toml",
        "put_breached_3x.toml",
        "call_tested.toml",
        "layer1_on.toml",
        "book.toml",
    } <= names


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_file_states_its_mark(path):
    """The multiple written in each sample's header is what the model gives today."""
    from alvh_cli.model.legs import value_legs

    header = path.read_text(encoding="utf-8").split("[market]")[0]
    stated = dict(re.findall(r"^#\s+([\w-]+)\s+(\d+\.\d\d)x$", header, re.MULTILINE))
    pf = load_file(path)
    if not stated:
        (pos,) = pf.positions
        stated = {pos.id: re.search(r"(\d+\.\d\d)x the credit", header).group(1)}
    assert set(stated) == {p.id for p in pf.positions}
    for pos in pf.positions:
        values = value_legs(pf.market, condor_legs(pos))
        debit = -float((values.price * values.quantity).sum()) / pos.units
        assert f"{debit / pos.credit:.2f}" == stated[pos.id], pos.id
