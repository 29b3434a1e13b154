"""Inputs no market can produce are refused with one exact line (alvh_cli.inputs.sanity).

Each case is a slipped digit a tired trader could type into GOOD (test_positions.py):
spot or a strike out of the 1/5..5x band around each other, an expiry years away,
a quantity of 1e11, an ``asof`` on a weekend or an exchange holiday. The expected
messages are written out in full.
"""

from __future__ import annotations

import pytest
from test_positions import GOOD, QUOTE, edit, sub

from alvh_cli.errors import InputError
from alvh_cli.inputs.book import load_book
from alvh_cli.inputs.positions import load_file
from alvh_cli.inputs.sanity import latest_expiry

NO_QUOTE = sub("[[market.quotes]]\n" + QUOTE + "\n", "")
CONDOR_EXPIRY = "expiry = 2026-12-18\nquantity"  # the four condor legs (not the quote)
# A flat smile for the band edges: the quadratic smile of GOOD (skew -1.1, smile 2.5), a
# 30-day shape, prices puts falling with strike at 5x spot or three years out, which the
# static no-arbitrage check refuses on its own (test_finance_sanity.py).
FLAT = sub("skew = -1.1\nsmile = 2.5", "skew = 0.0\nsmile = 0.0", NO_QUOTE)
VIX_EXTRA_QUOTE = '\n[[market.quotes]]\nunderlying = "VIX"\ntype = "call"\nexpiry = 2026-12-16\n'

# Refused while reading the file: the [market] table alone is enough to tell.
FILE_CASES = [
    (
        sub("quantity = 6", "quantity = 100000000000"),
        "positions[0].legs[4].quantity: must be between -10000 and 10000 (signed contracts; "
        "more than 10,000 is a typo), got 100000000000 (position 'dec-ic')",
    ),
    (
        sub("quantity = 6", "quantity = -10001"),
        "positions[0].legs[4].quantity: must be between -10000 and 10000 (signed contracts; "
        "more than 10,000 is a typo), got -10001 (position 'dec-ic')",
    ),
    (
        sub("vix = 18.2", "vix = 182"),
        "market.vix: must be between 5 and 150 (VIX has closed between 9.14 and 82.69 since "
        "1990), got 182",
    ),
    # 2026-11-28 is a Saturday: a snapshot of no market
    (
        sub("asof = 2026-11-24T15:45:00-05:00", "asof = 2026-11-28T15:45:00-05:00"),
        "market.asof: 2026-11-28 is a Saturday, not a trading day: no market snapshot comes "
        "from it (the trading day before is 2026-11-27)",
    ),
    # 2026-11-26 is Thanksgiving (fourth Thursday of November): the exchange is shut
    (
        sub("asof = 2026-11-24T15:45:00-05:00", "asof = 2026-11-26"),
        "market.asof: 2026-11-26 is an exchange holiday, not a trading day: no market snapshot "
        "comes from it (the trading day before is 2026-11-25)",
    ),
    # Sunday 01:00 UTC is Saturday 20:00 in New York: the New York date decides
    (
        sub("asof = 2026-11-24T15:45:00-05:00", "asof = 2026-11-29T01:00:00Z"),
        "market.asof: 2026-11-28 is a Saturday, not a trading day: no market snapshot comes "
        "from it (the trading day before is 2026-11-27)",
    ),
    # 2099-12-18 is a Friday: a trading day, but 73 years out
    (
        sub(QUOTE, QUOTE.replace("2026-12-18", "2099-12-18")),
        "market.quotes[0].expiry: 2099-12-18 is more than 3 years after asof 2026-11-24 — a "
        "typo? (alvh takes expiries up to 2029-11-24)",
    ),
    (
        sub("{ expiry = 2026-12-16, price = 19.1 }", "{ expiry = 2099-12-16, price = 19.1 }"),
        "market.vix_futures[1].expiry: 2099-12-16 is more than 3 years after asof 2026-11-24 — "
        "a typo? (alvh takes expiries up to 2029-11-24)",
    ),
    # One SPX quote against the spot: either may have slipped, the message says both
    (
        sub("strike = 5450", "strike = 545000"),
        "market.quotes[0].strike: 545000 is more than 5x SPX 5850.25 — a typo in the strike "
        "or in market.spx?",
    ),
    (
        sub("spx = 5850.25", "spx = 60000"),
        "market.quotes[0].strike: 5450 is less than 1/5 of SPX 60000 — a typo in the strike "
        "or in market.spx?",
    ),
    # Two SPX quotes both out of band the same way: the spot slipped
    (
        edit(
            GOOD,
            ("spx = 5850.25", "spx = 60000"),
            (QUOTE + "\n", QUOTE + "\n\n[[market.quotes]]\n" + QUOTE.replace("5450", "5500")),
        ),
        "market.spx: 60000 is more than 5x every strike of the SPX quotes (5450 to 5500) — a typo?",
    ),
    # VIX quotes against the lowest and highest of spot VIX 18.2 and its futures 19.1, 19.8
    (
        GOOD + VIX_EXTRA_QUOTE + "strike = 210\nbid = 0.05\nask = 0.10\n",
        "market.quotes[1].strike: 210 is more than 5x the VIX future 2027-01-20 (19.8) — a typo?",
    ),
    (
        GOOD + VIX_EXTRA_QUOTE + "strike = 3.5\nbid = 14.5\nask = 14.9\n",
        "market.quotes[1].strike: 3.5 is less than 1/5 of VIX 18.2 — a typo?",
    ),
    (
        GOOD + '\n[[market.quotes]]\nocc = "VIX   261216C02100000"\nbid = 0.05\nask = 0.10\n',
        "market.quotes[1].occ: 2100 is more than 5x the VIX future 2027-01-20 (19.8) — a typo?",
    ),
]

# Refused when the positions meet the snapshot that prices them.
BOOK_CASES = [
    # The feature request's 50-wide condor priced at 6.34x with spx = 60000
    (
        sub("spx = 5850.25", "spx = 60000", NO_QUOTE),
        "market.spx: 60000 is more than 5x every strike of position 'dec-ic' (5350 to 6200) — "
        "a typo?",
    ),
    (
        sub("spx = 5850.25", "spx = 1e308", NO_QUOTE),
        "market.spx: 1e+308 is more than 5x every strike of position 'dec-ic' (5350 to 6200) — "
        "a typo?",
    ),
    (
        sub("spx = 5850.25", "spx = 585.025", NO_QUOTE),
        "market.spx: 585.025 is less than 1/5 of every strike of position 'dec-ic' (5350 to "
        "6200) — a typo?",
    ),
    (
        sub("strike = 6200", "strike = 1e308"),
        "positions[0].legs[3].strike: 1e+308 is more than 5x SPX 5850.25 — a typo? "
        "(position 'dec-ic')",
    ),
    (
        sub("strike = 6200", "strike = 62000"),
        "positions[0].legs[3].strike: 62000 is more than 5x SPX 5850.25 — a typo? "
        "(position 'dec-ic')",
    ),
    (
        sub("strike = 21\n", "strike = 210\n"),
        "positions[0].legs[4].strike: 210 is more than 5x the VIX future 2027-01-20 (19.8) — "
        "a typo? (position 'dec-ic')",
    ),
    (
        GOOD.replace(CONDOR_EXPIRY, CONDOR_EXPIRY.replace("2026", "2099")),
        "positions[0].legs[0].expiry: 2099-12-18 is more than 3 years after asof 2026-11-24 — "
        "a typo? (alvh takes expiries up to 2029-11-24; position 'dec-ic')",
    ),
]


def _message(tmp_path, text, loader) -> str:
    path = tmp_path / "dec.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        loader(path)
    return str(info.value).removeprefix(f"{path}: ")


@pytest.mark.parametrize(("text", "expected"), FILE_CASES)
def test_refused_on_reading(tmp_path, text, expected):
    assert _message(tmp_path, text, load_file) == expected


@pytest.mark.parametrize(("text", "expected"), BOOK_CASES)
def test_refused_against_the_snapshot(tmp_path, text, expected):
    ok = tmp_path / "ok.toml"
    ok.write_text(text)
    load_file(ok)  # the file alone is fine: only its snapshot shows the slip
    assert _message(tmp_path, text, lambda p: load_book([p])) == expected


def test_a_shared_market_names_its_own_file(tmp_path):
    market = tmp_path / "today.toml"
    market.write_text(sub("spx = 5850.25", "spx = 60000", NO_QUOTE))
    book = tmp_path / "dec.toml"
    book.write_text(GOOD)
    with pytest.raises(InputError) as info:
        load_book([book], market=market)
    assert str(info.value) == (
        f"{market}: market.spx: 60000 is more than 5x every strike of position 'dec-ic' "
        "(5350 to 6200) — a typo?"
    )


@pytest.mark.parametrize(
    "pair",
    [
        ("quantity = 6", "quantity = 10000"),  # the limit itself is allowed
        ("strike = 6200", "strike = 29000"),  # 29000 < 5 x 5850.25 = 29251.25
        ("strike = 21\n", "strike = 99\n"),  # 99 = 5 x 19.8, the top of the VIX curve
        ("strike = 21\n", "strike = 3.64\n"),  # 3.64 = 18.2 / 5, the bottom
        # A snapshot taken on the evening of Friday 2026-11-27 but stamped in UTC
        ("asof = 2026-11-24T15:45:00-05:00", "asof = 2026-11-28T02:00:00Z"),
    ],
)
def test_edges_of_the_bands_load(tmp_path, pair):
    path = tmp_path / "dec.toml"
    path.write_text(sub(*pair, FLAT))
    load_book([path], allow_expired=True)


def test_latest_expiry_is_three_years_on():
    from datetime import date

    assert latest_expiry(date(2026, 11, 24)) == date(2029, 11, 24)
    assert latest_expiry(date(2028, 2, 29)) == date(2031, 2, 28)


def test_expiry_on_the_last_day_loads(tmp_path):
    # 2029-11-23 is a Friday, the last trading day before 2029-11-24 (3 years after asof)
    path = tmp_path / "dec.toml"
    path.write_text(FLAT.replace(CONDOR_EXPIRY, CONDOR_EXPIRY.replace("2026-12-18", "2029-11-23")))
    load_book([path])
