"""Chain files (alvh_cli.inputs.chain) and their fit (alvh_cli.model.chain)."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from chain_builders import ASOF, EXPIRIES, SPOT, chain_rows, write_cboe

from alvh_cli.errors import InputError
from alvh_cli.inputs import chain as chain_io
from alvh_cli.inputs.chain import (
    FuturesSettlements,
    read_chain,
    read_futures,
    read_option_chain,
    require_readable,
)
from alvh_cli.model.chain import SKIP_UNFITTED, SKIP_ZERO_BID, fit_chain
from alvh_cli.model.domain import FuturePoint, Quote
from alvh_cli.model.svi import durrleman_g, svi_vol

FIXTURES = Path(__file__).parent / "fixtures" / "chains"
NY = ZoneInfo("America/New_York")
CBOE_HEAD = (
    "quote_date,root,expiration,strike,option_type,bid_1545,ask_1545,"
    "underlying_bid_1545,underlying_ask_1545\n"
)
GOOD = "2026-11-24,SPXW,2026-12-18,5800,C,98.4,99.1,5850.1,5850.4\n"


def write(tmp_path: Path, text: str, name: str = "chain.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(path: Path) -> str:
    with pytest.raises(InputError) as err:
        read_chain(path)
    return str(err.value)


# ------------------------------------------------------------------- readers


def test_cboe_layout():
    snap = read_option_chain(FIXTURES / "cboe_eod.csv")
    # ten quotes; the 7500 call (bid and ask 0, line 8) is no market: left out, counted
    assert len(snap) == 9
    assert snap.skipped == (("no market (bid and ask 0)", 1),)
    assert snap.asof == datetime(2026, 11, 24, 15, 45, tzinfo=NY)
    assert snap.root.tolist() == ["SPXW"] * 5 + ["SPX"] * 2 + ["SPXW"] * 2
    assert snap.underlying.tolist() == ["SPX"] * 9
    assert snap.strike.tolist()[:5] == [5800.0, 5800.0, 5850.0, 5850.0, 7000.0]
    assert snap.is_call.tolist() == [True, False, True, False, True, True, False, True, False]
    assert snap.bid.tolist()[:5] == [98.4, 43.2, 64.3, 58.6, 0.0]
    assert snap.ask.tolist()[:5] == [99.1, 43.7, 64.9, 59.1, 0.05]
    # the underlying's mid, (5850.10 + 5850.40)/2
    assert np.allclose(snap.underlying_price, 5850.25)
    # file lines: the header is line 1 and line 6 is blank
    assert snap.line.tolist() == [2, 3, 4, 5, 7, 9, 10, 11, 12]
    assert snap.expiry.astype(str).tolist()[-2:] == ["2027-01-15", "2027-01-15"]
    q = snap.quotes()
    assert q[0] == Quote("SPX", "call", 5800.0, date(2026, 12, 18), 98.4, 99.1, "SPXW")
    assert q[6] == Quote("SPX", "put", 5850.0, date(2026, 12, 18), 58.4, 58.9, "SPX")


def test_generic_layout():
    snap = read_option_chain(FIXTURES / "generic.csv")
    assert snap.asof is None and snap.skipped == ()
    assert snap.underlying.tolist() == ["SPX", "SPX", "VIX", "VIX"]
    assert snap.root.tolist() == ["SPXW", "SPXW", "VIX", "VIX"]
    assert snap.is_call.tolist() == [False, True, True, False]  # put, call, call, P
    assert np.isnan(snap.underlying_price).all()
    assert snap.quotes()[2] == Quote("VIX", "call", 20.0, date(2026, 12, 16), 1.35, 1.45, "VIX")


def test_generic_layout_defaults_the_root(tmp_path):
    # no root column: SPX quotes are SPXW (PM), VIX quotes VIX (DESIGN §2)
    path = write(
        tmp_path,
        "expiry,strike,type,bid,ask,underlying\n"
        "2026-12-18,5800,put,1,2,SPX\n2026-12-16,20,call,1,2,vix\n",
    )
    assert read_option_chain(path).root.tolist() == ["SPXW", "VIX"]


def test_vix_futures():
    got = read_futures(FIXTURES / "vix_futures.csv")
    assert isinstance(got, FuturesSettlements)
    assert got.points == (
        FuturePoint(date(2026, 12, 16), 19.1),
        FuturePoint(date(2027, 1, 20), 19.8),
        FuturePoint(date(2027, 2, 17), 20.35),
    )


def test_the_wrong_kind_of_file_is_named():
    path = FIXTURES / "vix_futures.csv"
    with pytest.raises(InputError) as err:
        read_option_chain(path)
    assert str(err.value) == f"{path}: is a VIX futures file (expiry, price), not option quotes"
    path = FIXTURES / "generic.csv"
    with pytest.raises(InputError) as err:
        read_futures(path)
    assert str(err.value) == f"{path}: holds option quotes, not VIX futures (expiry, price)"


def test_parquet_reads_like_csv(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    # typed columns as a Parquet export would have them: dates, floats, strings
    table = pacsv.read_csv(FIXTURES / "cboe_eod.csv")
    assert pa.types.is_date32(table.schema.field("quote_date").type)
    path = tmp_path / "chain.parquet"
    pq.write_table(table, path)
    got, want = read_option_chain(path), read_option_chain(FIXTURES / "cboe_eod.csv")
    assert got.quotes() == want.quotes()
    assert got.asof == want.asof and got.skipped == want.skipped
    assert got.line.tolist() == [0, 1, 2, 3, 4, 6, 7, 8, 9]  # Parquet rows, from 0


def test_parquet_bad_row_is_named_by_row(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "chain.parquet"
    pq.write_table(
        pa.table(
            {
                "expiry": ["2026-12-18", "2026-12-18"],
                "strike": [5800.0, 5850.0],
                "type": ["put", "put"],
                "bid": [1.0, None],
                "ask": [1.2, 2.0],
            }
        ),
        path,
    )
    assert refused(path) == f"{path}: rows[1].bid: missing"


def test_parquet_without_pyarrow_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(chain_io, "has_pyarrow", lambda: False)
    path = write(tmp_path, "not parquet at all", "chain.parquet")
    msg = f"{path}: reading Parquet needs pyarrow: pip install 'alvh[parquet]'"
    assert refused(path) == msg
    with pytest.raises(InputError) as err:
        require_readable([FIXTURES / "generic.csv", path])
    assert str(err.value) == msg


def test_a_missing_file(tmp_path):
    assert refused(tmp_path / "nope.csv") == f"{tmp_path / 'nope.csv'}: no such file"


# ------------------------------------------------------------ bad input, exact


@pytest.mark.parametrize(
    "text, where, expected",
    [
        ("", "", "empty file: no header"),
        (
            "a,b\n1,2\n",
            ":1",
            "not a chain layout alvh knows: expected the Cboe end-of-day "
            "columns (quote_date, expiration, strike, option_type, bid_1545, ask_1545, "
            "underlying_bid_1545, underlying_ask_1545), or expiry, strike, type, bid, ask, or "
            "expiry, price; found a, b",
        ),
        (CBOE_HEAD, "", "no quotes: the file has a header only"),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,2026-12-18,5850,C,abc,1,5850.1,5850.4\n",
            ":3: bid_1545",
            "not a number: 'abc'",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,2026-12-18,5850,C,,1,5850.1,5850.4\n",
            ":3: bid_1545",
            "missing",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,2026-12-18,5850,C,1,inf,5850.1,5850.4\n",
            ":3: ask_1545",
            "not a number: 'inf'",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,2026-12-18,5850,C,-0.05,1,5850.1,5850.4\n",
            ":3: bid_1545",
            "must be >= 0, got -0.05",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,2026-12-18,5850,C,5,4,5850.1,5850.4\n",
            ":3: bid_1545",
            "bid 5 is above ask 4 (crossed quote)",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,2026-12-18,0,C,5,6,5850.1,5850.4\n",
            ":3: strike",
            "must be > 0, got 0",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,2026-12-18,5850,X,5,6,5850.1,5850.4\n",
            ":3: option_type",
            "must be C or P, got 'X'",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,2026-12-19,5850,C,5,6,5850.1,5850.4\n",
            ":3: expiration",
            "2026-12-19 is a Saturday, not a trading day; options expire on "
            "trading days (the one before is 2026-12-18)",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,2026-12-25,5850,C,5,6,5850.1,5850.4\n",
            ":3: expiration",
            "2026-12-25 is an exchange holiday, not a trading day; options "
            "expire on trading days (the one before is 2026-12-24)",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,2026-11-20,5850,C,5,6,5850.1,5850.4\n",
            ":3: expiration",
            "2026-11-20 is before quote_date 2026-11-24",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-25,SPXW,2026-12-18,5850,C,5,6,5850.1,5850.4\n",
            ":3: quote_date",
            "one snapshot per file: 2026-11-25 differs from 2026-11-24 on line 2",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,18/12/2026,5850,C,5,6,5850.1,5850.4\n",
            ":3: expiration",
            "not a date (YYYY-MM-DD): '18/12/2026'",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,XSP,2026-12-18,5850,C,5,6,5850.1,5850.4\n",
            ":3: root",
            "must be one of SPX, SPXW, VIX, VIXW, got 'XSP'",
        ),
        (
            CBOE_HEAD + GOOD + GOOD.replace("98.4,99.1", "98.5,99.0"),
            ":3: strike",
            "duplicate quote for SPXW call 5800 2026-12-18 (also line 2)",
        ),
        (
            CBOE_HEAD + GOOD + "2026-11-24,SPXW,2026-12-18,5850,C,5,6\n",
            ":3",
            "has 7 fields, the header (line 1) has 9: a value with an unquoted comma, or a "
            "missing one, shifts the columns after it",
        ),
        (
            "underlying_symbol," + CBOE_HEAD + "^VIX," + GOOD,
            ":2: root",
            "root SPXW is not an option on VIX",
        ),
        (
            "underlying_symbol," + CBOE_HEAD + "^NDX," + GOOD,
            ":2: underlying_symbol",
            "must be ^SPX or ^VIX, got '^NDX'",
        ),
        (
            "expiry,strike,type,bid,ask\n2026-12-18,5800,put,1,2\n2026-12-18,5800,put,1,2\n",
            ":3: strike",
            "duplicate quote for SPXW put 5800 2026-12-18 (also line 2); add a root "
            "column (SPX or SPXW)",
        ),
        (
            "expiry,strike,type,bid,ask,udnerlying\n2026-12-18,5800,put,1,2,SPX\n",
            ":1: udnerlying",
            "unknown column (the generic layout has expiry, strike, type, bid, "
            "ask and optionally root, underlying)",
        ),
        (
            "expiry,strike,type,bid,ask\n2026-12-18,5800,straddle,1,2\n",
            ":2: type",
            "must be call or put (or C or P), got 'straddle'",
        ),
        (
            "expiry,strike,type,bid,ask,underlying\n2026-12-18,5800,put,1,2,NDX\n",
            ":2: underlying",
            "must be SPX or VIX, got 'NDX'",
        ),
        (
            "expiry,strike,type,bid,ask,root,underlying\n2026-12-16,20,put,1,2,SPXW,VIX\n",
            ":2: root",
            "root SPXW is not an option on VIX",
        ),
        ("expiry,Strike,type,bid,ask,STRIKE\n", ":1: strike", "appears twice in the header"),
        (
            "expiry,price\n2026-12-16,19.1\n2026-12-16,19.2\n",
            ":3: expiry",
            "duplicate expiry 2026-12-16 (also line 2)",
        ),
        ("expiry,price\n2026-12-16,0\n", ":2: price", "must be > 0, got 0"),
        (
            "expiry,price\n2026-12-19,19\n",
            ":2: expiry",
            "2026-12-19 is a Saturday, not a "
            "trading day; VIX futures expire on trading days (the one before is 2026-12-18)",
        ),
        (
            "expiry,price,settle\n2026-12-16,19,19\n",
            ":1: settle",
            "unknown column (a VIX futures file has expiry, price)",
        ),
    ],
)
def test_bad_input_is_one_exact_line(tmp_path, text, where, expected):
    path = write(tmp_path, text)
    assert refused(path) == f"{path}{where}: {expected}"


def test_a_quoted_field_over_two_lines_keeps_the_line_count(tmp_path):
    # the generic layout's first row spans lines 2-3, so the bad row is on line 5
    path = write(
        tmp_path,
        'expiry,strike,type,bid,ask\n2026-12-18,5800,"put\n",1,2\n\n2026-12-18,5850,put,3,2\n',
    )
    assert refused(path) == f"{path}:5: bid: bid 3 is above ask 2 (crossed quote)"


# ------------------------------------------------------------------ fitting


@pytest.fixture(scope="module")
def invented(tmp_path_factory):
    """The invented chain of chain_builders written at full precision and read back."""
    path = tmp_path_factory.mktemp("chain") / "spx.csv"
    write_cboe(path, chain_rows())
    return read_option_chain(path)


def test_fit_recovers_the_invented_chain(invented):
    # Prices were made from known F, D and SVI parameters (chain_builders.EXPIRIES),
    # each mid exactly the model price: parity gives F and D back to rounding and
    # the SVI fit its parameters (zero residual, quadratic convergence): tolerances
    # 1e-9 relative and 1e-7 absolute are far inside any fitting error.
    (fitted,) = fit_chain(invented)
    assert fitted.underlying == "SPX" and fitted.asof == ASOF
    assert fitted.spot == pytest.approx(SPOT, abs=1e-9)
    assert fitted.unfitted == () and fitted.calendar == ()
    assert fitted.skipped == ()  # every quote used: no zero bids, every mid has a vol
    assert [(e.root, e.expiry) for e in fitted.expiries] == [(x.root, x.expiry) for x in EXPIRIES]
    for got, want in zip(fitted.expiries, EXPIRIES, strict=True):
        # T worked by hand in chain_builders (settlement instants, DST)
        assert pytest.approx(want.T, abs=1e-12) == got.T
        assert got.forward == pytest.approx(want.forward, rel=1e-9)
        assert got.discount == pytest.approx(want.discount, rel=1e-9)
        assert got.rate == pytest.approx(-math.log(want.discount) / want.T, rel=1e-6)
        for name in ("a", "b", "rho", "m", "sigma"):
            assert getattr(got.smile.params, name) == pytest.approx(
                getattr(want.params, name), abs=1e-7
            )
        assert got.smile.rms_vol_points < 1e-7
        assert got.smile.butterfly_free
        # out-of-the-money quotes: one per strike, 61 strikes 5000..6500
        assert got.n_quotes == 61
        k = np.log(np.arange(5000.0, 6505.0, 25.0) / got.forward)
        assert durrleman_g(got.smile.params, k).min() >= 0
        # an unquoted strike priced from the slice: 5912.5 at the SVI vol
        k1 = math.log(5912.5 / want.forward)
        assert got.vol(5912.5) == pytest.approx(svi_vol(want.params, k1, want.T), abs=1e-8)
    assert len(fitted.quotes) == len(invented)


def test_forward_and_vol_between_and_beyond_expiries(invented):
    (fitted,) = fit_chain(invented)
    e1, e2, e3 = fitted.expiries
    assert fitted.forward(e2.T) == pytest.approx(e2.forward, rel=1e-12)
    # halfway between the first two: ln F halfway, i.e. the geometric mean
    mid = 0.5 * (e1.T + e2.T)
    assert fitted.forward(mid) == pytest.approx(math.sqrt(e1.forward * e2.forward), rel=1e-12)
    # before the first: from the spot, ln F linear in T
    assert fitted.forward(0.0) == pytest.approx(SPOT, rel=1e-12)
    assert fitted.forward(e1.T / 2) == pytest.approx(math.sqrt(SPOT * e1.forward), rel=1e-12)
    # after the last: the last expiry's average carry from the spot continued
    carry = math.log(e3.forward / SPOT) / e3.T
    assert fitted.forward(1.0) == pytest.approx(SPOT * math.exp(carry * 1.0), rel=1e-12)
    # the vol at an expiry's T is that expiry's slice; beyond the last it is held flat
    k = np.array([-0.1, 0.0, 0.05])
    np.testing.assert_allclose(fitted.vol(k, e2.T), svi_vol(e2.smile.params, k, e2.T))
    np.testing.assert_allclose(fitted.vol(k, 2.0), svi_vol(e3.smile.params, k, e3.T))


def test_unfitted_expiries_say_why(tmp_path):
    rows = chain_rows(EXPIRIES[:1])
    extra = (
        [
            # expiring on the quote date at 16:00: 15 minutes left
            {
                "root": "SPXW",
                "expiration": "2026-11-24",
                "strike": 5850.0,
                "option_type": t,
                "bid": 5.0,
                "ask": 5.5,
            }
            for t in "CP"
        ]
        + [
            # one strike only: no parity line
            {
                "root": "SPXW",
                "expiration": "2026-12-31",
                "strike": 5850.0,
                "option_type": t,
                "bid": 60.0,
                "ask": 61.0,
            }
            for t in "CP"
        ]
        + [
            # parity from three strikes, but three out-of-the-money quotes for SVI
            {
                "root": "SPXW",
                "expiration": "2027-01-08",
                "strike": k,
                "option_type": t,
                "bid": b,
                "ask": b + 0.5,
            }
            for k, t, b in (
                (5800.0, "C", 100.0),
                (5800.0, "P", 40.0),
                (5850.0, "C", 70.0),
                (5850.0, "P", 60.0),
                (5900.0, "C", 45.0),
                (5900.0, "P", 85.0),
            )
        ]
    )
    path = tmp_path / "c.csv"
    write_cboe(path, rows + extra)
    (fitted,) = fit_chain(read_option_chain(path))
    assert len(fitted.expiries) == 1
    reasons = {(u.expiry, u.reason, u.n_quotes) for u in fitted.unfitted}
    assert reasons == {
        (date(2026, 11, 24), "settles within 1 day of the quote time", 2),
        (
            date(2026, 12, 31),
            "no parity forward: 1 strike(s) with a two-sided call and put; parity needs 2",
            2,
        ),
        (date(2027, 1, 8), "3 out-of-the-money quotes with an implied vol; SVI needs 8", 6),
    }
    assert dict(fitted.skipped)[SKIP_UNFITTED] == 10


def test_zero_bids_are_counted_not_fitted(tmp_path):
    rows = chain_rows(EXPIRIES[:1])
    for r in rows:  # calls above 6300: bid 0, ask 0.05
        if r["option_type"] == "C" and r["strike"] > 6300:
            r["bid"], r["ask"] = 0.0, 0.05
    path = tmp_path / "c.csv"
    write_cboe(path, rows)
    (fitted,) = fit_chain(read_option_chain(path))
    assert dict(fitted.skipped)[SKIP_ZERO_BID] == 8  # 6325..6500
    assert fitted.expiries[0].n_quotes == 61 - 8


def test_a_chain_without_a_quote_time_needs_asof():
    snap = read_option_chain(FIXTURES / "generic.csv")
    with pytest.raises(ValueError, match="the chain has no quote time; pass asof"):
        fit_chain(snap)
    # with one, each underlying gets its own fit (here too few quotes to fit any)
    spx, vix = fit_chain(snap, asof=ASOF)
    assert (spx.underlying, vix.underlying) == ("SPX", "VIX")
    assert spx.expiries == () and vix.expiries == ()


def test_vix_options_in_the_generic_layout_fit_like_spx(tmp_path):
    # VIX options are European on the VIX future of their expiry: parity gives that
    # future (19.1 here) and the SVI slice its upward skew (rho > 0) back. VIX
    # settles 09:30 New York on 2026-12-16: 21 days 17 h 45 min after ASOF (EST).
    from chain_builders import Expiry, model_prices, years

    from alvh_cli.model.svi import SviParams

    e = Expiry(
        "VIX",
        date(2026, 12, 16),
        years(21, 17 * 60 + 45),
        19.1,
        0.99755,
        SviParams(0.008, 0.25, 0.55, -0.05, 0.15),
    )
    strikes = np.arange(12.0, 45.5, 0.5)
    lines = ["expiry,strike,type,bid,ask,underlying"]
    for is_call in (True, False):
        prices = model_prices(e, strikes, np.full(strikes.shape, is_call))
        for k, p in zip(strikes.tolist(), prices.tolist(), strict=True):
            kind = "call" if is_call else "put"
            lines.append(f"2026-12-16,{k!r},{kind},{p * 0.97!r},{p * 1.03!r},VIX")
    path = write(tmp_path, "\n".join(lines) + "\n")
    (fitted,) = fit_chain(read_option_chain(path), asof=ASOF)
    (got,) = fitted.expiries
    assert (fitted.underlying, got.root, fitted.spot) == ("VIX", "VIX", None)
    assert math.isclose(got.T, e.T, rel_tol=0, abs_tol=1e-12)
    assert got.forward == pytest.approx(19.1, rel=1e-9)
    assert got.discount == pytest.approx(0.99755, rel=1e-9)
    for name in ("a", "b", "rho", "m", "sigma"):
        assert getattr(got.smile.params, name) == pytest.approx(getattr(e.params, name), abs=1e-7)


# ------------------------------------------------------------ quote doubts


def _rows_by_key(rows):
    return {(r["expiration"], r["option_type"], r["strike"]): r for r in rows}


def test_a_quote_above_its_static_bound_is_left_out_alone(tmp_path):
    # An SPX call is worth less than SPX (C <= S e^{-qT}) and a put less than its strike
    # (P <= K D): a 5000 call bid 8700 (a digit typed twice; 869.87 in the file) and a 5500
    # put bid 7000 cannot be quotes of any market. Each goes alone, said by file line;
    # the expiry still fits and gives back the invented forward and discount.
    rows = chain_rows(EXPIRIES[:1])
    by = _rows_by_key(rows)
    call, put = by[("2026-12-18", "C", 5000.0)], by[("2026-12-18", "P", 5500.0)]
    call["bid"], call["ask"] = 8700.0, 8790.0
    put["bid"], put["ask"] = 7000.0, 7010.0
    path = tmp_path / "c.csv"
    write_cboe(path, rows)
    (fitted,) = fit_chain(read_option_chain(path))
    (got,) = fitted.expiries
    assert got.forward == pytest.approx(EXPIRIES[0].forward, rel=1e-9)
    assert got.discount == pytest.approx(EXPIRIES[0].discount, rel=1e-9)
    line_call, line_put = rows.index(call) + 2, rows.index(put) + 2  # after the header line
    assert [(d.lines, d.dropped) for d in fitted.doubts] == [
        ((line_call,), True),
        ((line_put,), True),
    ]
    assert fitted.doubts[0].message == (
        "SPXW 2026-12-18 5000 call: bid 8700 is above SPX 5850.25, more than a call on the "
        "index can be worth: a typo? The quote is left out of the fit and of the quotes"
    )
    assert fitted.doubts[1].message.startswith(
        "SPXW 2026-12-18 5500 put: bid 7000 is above its strike 5500, more than a put can be"
    )
    assert len(fitted.quotes) == len(rows) - 2
    assert not [q for q in fitted.quotes if q.bid in (8700.0, 7000.0)]


def test_crossed_adjacent_quotes_are_said_and_kept(tmp_path):
    # The 6150 and 6175 calls' quotes swapped: the 6150 call offered below the 6175 call's
    # bid (a call is worth more at a lower strike). Which of the two is wrong no bound
    # says: the pair is said, with both lines, and both quotes are kept.
    rows = chain_rows(EXPIRIES[:1])
    by = _rows_by_key(rows)
    a, b = by[("2026-12-18", "C", 6150.0)], by[("2026-12-18", "C", 6175.0)]
    a["bid"], a["ask"], b["bid"], b["ask"] = b["bid"], b["ask"], a["bid"], a["ask"]
    path = tmp_path / "c.csv"
    write_cboe(path, rows)
    (fitted,) = fit_chain(read_option_chain(path))
    calls = (rows.index(a) + 2, rows.index(b) + 2)
    assert [(d.lines, d.dropped) for d in fitted.doubts] == [(calls, False)]
    assert fitted.doubts[0].message == (
        f"SPXW 2026-12-18 calls 6150 and 6175: the 6150 call is offered at {a['ask']:g}, "
        f"below the 6175 call's bid {b['bid']:g}: a call is worth more at a lower strike — "
        "swapped or mistyped quotes? Both are kept and price their contracts"
    )
    assert len(fitted.quotes) == len(rows)


def _left_out_alone(tmp_path, rows, bad):
    """The chain of ``rows`` fitted: one doubt, ``bad``'s line left out, and every other
    quote kept."""
    path = tmp_path / "c.csv"
    write_cboe(path, rows)
    (fitted,) = fit_chain(read_option_chain(path))
    assert [(d.lines, d.dropped) for d in fitted.doubts] == [((rows.index(bad) + 2,), True)]
    assert len(fitted.quotes) == len(rows) - 1
    return fitted


@pytest.mark.parametrize(
    ("kind", "strike", "bid", "ask", "why"),
    [
        # the 5500 call typed 1.00/1.10 for about 416/433: offered below the 5525 call's
        # bid, and the 5475/5500 call spread bid far over its 25-point width. This one
        # quote once cost the expiry its parity forward (a discount factor of 0.23)
        ("C", 5500.0, 1.00, 1.10, "calls"),
        # the 5525 put bid 30 over the 5500 put's ask: the 25-wide put spread bid above
        # its width, and the 5550 put offered below it (a put is worth more at a higher
        # strike)
        ("P", 5525.0, None, None, "puts"),
        # the 5500 put at 5600/5610 (62.74/65.30): over both neighbours, under its strike
        ("P", 5500.0, 5600.0, 5610.0, "puts"),
    ],
)
def test_a_quote_that_crosses_both_neighbours_is_left_out_alone(
    tmp_path, kind, strike, bid, ask, why
):
    rows = chain_rows(EXPIRIES[:1])
    by = _rows_by_key(rows)
    bad = by[("2026-12-18", kind, strike)]
    lower, upper = by[("2026-12-18", kind, strike - 25)], by[("2026-12-18", kind, strike + 25)]
    if bid is None:
        bid, ask = lower["ask"] + 30.0, lower["ask"] + 31.0
    bad["bid"], bad["ask"] = bid, ask
    # both bounds broken, by the rules themselves (Merton 1973; Hull ch. 11)
    if kind == "C":
        assert bad["ask"] < upper["bid"] and lower["bid"] - bad["ask"] > 25
    else:
        assert bad["bid"] - lower["ask"] > 25 and upper["ask"] < bad["bid"]
    fitted = _left_out_alone(tmp_path, rows, bad)
    name = "call" if kind == "C" else "put"
    assert fitted.doubts[0].message == (
        f"SPXW 2026-12-18 {strike:g} {name}: bid {bid:g}, ask {ask:g} crosses the "
        f"{strike - 25:g} and {strike + 25:g} {why} on both sides (a call is worth more at a "
        "lower strike, a put at a higher, a vertical between 0 and its width): a typo? The "
        "quote is left out of the fit and of the quotes"
    )
    # the expiry is fitted, on the invented forward and discount, without that quote
    (got,) = fitted.expiries
    assert got.forward == pytest.approx(EXPIRIES[0].forward, rel=1e-9)
    assert got.discount == pytest.approx(EXPIRIES[0].discount, rel=1e-9)
    assert len(fitted.quotes) == len(rows) - 1
    assert not [q for q in fitted.quotes if (q.bid, q.ask) == (bid, ask)]


def test_many_crossed_pairs_are_counted_past_ten(tmp_path):
    rows = chain_rows(EXPIRIES[:1])
    by = _rows_by_key(rows)
    # 12 disjoint pairs swapped out of the money, where a swap crosses only its partner (a
    # quote that crosses both neighbours is left out instead: the test above)
    pairs = [("C", 6100.0 + 50 * i) for i in range(6)] + [("P", 5300.0 + 50 * i) for i in range(6)]
    for kind, k0 in pairs:
        a, b = by[("2026-12-18", kind, k0)], by[("2026-12-18", kind, k0 + 25)]
        a["bid"], a["ask"], b["bid"], b["ask"] = b["bid"], b["ask"], a["bid"], a["ask"]
    # counted here by the two rules, adjacent strike by strike
    crossed = 0
    for kind in ("C", "P"):
        quotes = sorted((r["strike"], r["bid"], r["ask"]) for r in rows if r["option_type"] == kind)
        sign = 1 if kind == "C" else -1  # a call is worth more at a lower strike, a put higher
        crossed += sum(
            (ask1 < bid2 or bid1 - ask2 > k2 - k1)
            if sign > 0
            else (ask2 < bid1 or bid2 - ask1 > k2 - k1)
            for (k1, bid1, ask1), (k2, bid2, ask2) in zip(quotes[:-1], quotes[1:], strict=True)
        )
    assert crossed == 12
    path = tmp_path / "c.csv"
    write_cboe(path, rows)
    (fitted,) = fit_chain(read_option_chain(path))
    assert len(fitted.doubts) == 11 and all(len(d.lines) == 2 for d in fitted.doubts[:10])
    assert fitted.doubts[-1].lines == ()
    assert fitted.doubts[-1].message == (
        f"and {crossed - 10} more pairs of SPX quotes that cross the same way"
    )


def test_a_quote_whose_mid_is_a_guess_is_left_out_alone(tmp_path):
    # The 5500 put's ask typed 653.0 for 65.30: 590 wide where its neighbours are about
    # 2.6, and wider than half its mid (parity's rule for a mid that is a guess). Its mid,
    # 358, went into the smile fit (the slice's error 7.1 vol points, rho pinned at -0.999)
    rows = chain_rows(EXPIRIES[:1])
    by = _rows_by_key(rows)
    bad = by[("2026-12-18", "P", 5500.0)]
    bad["ask"] = 653.0
    near = sorted(
        (abs(k - 5500.0), r["ask"] - r["bid"])
        for (e, t, k), r in by.items()
        if (e, t) == ("2026-12-18", "P") and k != 5500.0
    )
    widths = sorted(w for _, w in near[:6])  # the 3 nearest strikes on each side
    median = (widths[2] + widths[3]) / 2
    width = 653.0 - bad["bid"]
    assert width > 3 * median and width > 0.5 * (653.0 + bad["bid"]) / 2
    fitted = _left_out_alone(tmp_path, rows, bad)
    assert fitted.doubts[0].message == (
        f"SPXW 2026-12-18 5500 put: bid {bad['bid']:g}, ask 653 is {width:.2f} wide, more "
        f"than 3x the {median:.2f} median width of the nearest quoted strikes and more than "
        "half its mid, which is a guess: a typo? The quote is left out of the fit and of the "
        "quotes"
    )
    (got,) = fitted.expiries
    clean = tmp_path / "clean.csv"
    write_cboe(clean, chain_rows(EXPIRIES[:1]))
    ((alone,),) = (f.expiries for f in fit_chain(read_option_chain(clean)))
    # the fit without the quote is the clean chain's, but for one quote fewer to fit
    assert got.smile.rms_vol_points == pytest.approx(alone.smile.rms_vol_points, abs=1e-6)
    assert got.smile.rms_vol_points < 0.01  # not the 7.1 vol points of the typo in the fit
    assert len(fitted.quotes) == len(rows) - 1


def test_wide_quotes_of_a_real_market_are_kept(tmp_path):
    # deep in the money, quotes are wide beside their neighbours (73.1/80.7 beside 2-point
    # markets on a real SPXW chain) but narrow against their mid; far wings the reverse
    rows = chain_rows(EXPIRIES[:1])
    by = _rows_by_key(rows)
    itm = by[("2026-12-18", "P", 6500.0)]
    itm["ask"] = itm["bid"] + 12.0  # about 650 of mid: 2% of it
    for k in (6425.0, 6450.0, 6475.0, 6500.0):  # a wing of no bids, offered at 0.05 ...
        by[("2026-12-18", "C", k)]["bid"], by[("2026-12-18", "C", k)]["ask"] = 0.0, 0.05
    by[("2026-12-18", "C", 6500.0)]["ask"] = 0.30  # ... and one at 0.30: six times as wide
    path = tmp_path / "c.csv"
    write_cboe(path, rows)
    (fitted,) = fit_chain(read_option_chain(path))
    assert fitted.doubts == ()
    assert len(fitted.quotes) == len(rows)
