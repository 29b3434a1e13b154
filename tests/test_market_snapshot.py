"""Option chains at the file boundary: --chain on the pricing commands, ``alvh market`` and
the ``[[market.spx_svi]]`` table it writes (alvh_cli.inputs, alvh_cli.output.market)."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from chain_builders import ASOF, EXPIRIES, SPOT, chain_rows, write_cboe
from hypothesis import given
from hypothesis import strategies as st

from alvh_cli import cli
from alvh_cli.app.market import market_from_files, read_back
from alvh_cli.errors import InputError
from alvh_cli.inputs import book, positions
from alvh_cli.inputs.toml_reader import tomllib
from alvh_cli.model.domain import Quote
from alvh_cli.model.legs import value_legs
from alvh_cli.output.market import market_toml, quote_row, snapshot_toml
from alvh_cli.toml_text import toml_value

FUTURES = Path(__file__).parent / "fixtures" / "chains" / "vix_futures.csv"

MARKET = f"""\
[market]
asof = {ASOF.isoformat()}
spx = {SPOT}
vix = 18.2
rate = 0.042
dividend_yield = 0.013
vix_futures = [ {{ expiry = 2026-12-16, price = 19.1 }}, {{ expiry = 2027-01-20, price = 19.8 }} ]

[market.spx_vol]
atm = 0.165
skew = -1.1
smile = 2.5

[market.vix_vol]
atm = 0.95
skew = 0.8
"""

POSITIONS = """
[[positions]]
id = "dec-ic"
opened = 2026-11-03
credit = 8.0

  [[positions.legs]]
  type = "put"
  strike = 5510
  expiry = 2026-12-18
  quantity = 2
  entry_price = 9.0

  [[positions.legs]]
  type = "put"
  strike = 5560
  expiry = 2026-12-18
  quantity = -2
  entry_price = 12.0

  [[positions.legs]]
  type = "call"
  strike = 6150
  expiry = 2026-12-18
  quantity = -2
  entry_price = 6.0

  [[positions.legs]]
  type = "call"
  strike = 6200
  expiry = 2026-12-18
  quantity = 2
  entry_price = 1.0
"""


def run(args, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["alvh", *map(str, args)])
    cli._state["debug"] = False
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("snapshot")
    chain = folder / "spx.csv"
    write_cboe(chain, chain_rows())
    pos = folder / "dec.toml"
    pos.write_text(MARKET + POSITIONS)
    return folder, chain, pos


# ------------------------------------------------------------------ round trip


def test_chain_to_market_file_to_prices_round_trip(files):
    """chain → `alvh market` TOML → loader: every leg's vol and price as when priced
    straight from the chain (--chain on the same [market]) to 1e-10 — the file keeps
    each double exactly, so nothing is lost but the fit is not redone."""
    folder, chain, pos = files
    snapshot, notes = market_from_files([chain], vix=18.2)
    text = market_toml(snapshot, notes)
    read_back = positions.parse_market(tomllib.loads(text)["market"], "today.toml")
    (direct,) = book.load_book([pos], chains=[chain])
    legs = [
        *direct.file.positions[0].legs,
        *(
            type(direct.file.positions[0].legs[0])("SPX", e.root, kind, k, e.expiry, 1, 1.0)
            for e in EXPIRIES
            for kind in ("put", "call")
            for k in (5012.5, 5487.5, 5850.0, 6262.5)
        ),
    ]
    from_chain = value_legs(direct.market, legs)
    from_file = value_legs(read_back, legs)
    assert set(from_file.vol_source) == {"svi", "quote"}
    assert from_file.vol_source == from_chain.vol_source
    np.testing.assert_allclose(from_file.vol, from_chain.vol, rtol=0, atol=1e-10)
    np.testing.assert_allclose(from_file.price, from_chain.price, rtol=0, atol=1e-10)
    assert read_back.spx_surface.slices == snapshot.spx_surface.slices
    assert read_back.quotes == snapshot.quotes


def test_the_snapshot_file_holds_the_surface_and_says_where_figures_came_from(files):
    folder, chain, _ = files
    snapshot, notes = market_from_files([chain], vix=18.2)
    text = market_toml(snapshot, notes)
    doc = tomllib.loads(text)["market"]
    assert [s["expiry"] for s in doc["spx_svi"]] == [e.expiry for e in EXPIRIES]
    assert doc["spx_svi"][0]["root"] == "SPXW" and doc["spx_svi"][2]["root"] == "SPX"
    assert doc["spx_svi"][0]["forward"] == pytest.approx(EXPIRIES[0].forward, rel=1e-6)
    assert doc["spx_svi"][0]["n_quotes"] == 61 and doc["spx_svi"][0]["butterfly_free"] is True
    assert doc["spx"] == pytest.approx(SPOT) and doc["vix"] == 18.2
    assert "put-call parity at SPXW 2026-12-18" in text
    assert "No --futures file" in text
    assert len(doc["quotes"]) == 366  # 61 strikes x call and put x 3 expiries


def test_the_snapshot_read_back_in_two_parts_is_its_whole_text(tmp_path):
    """``alvh market`` reads its snapshot back by parsing the text without its quote rows
    and taking the rows as the values it wrote; tomllib on the whole text must give the
    same table. With quotes by OSI symbol, one spelt out (a strike of four decimals has
    no OSI symbol), VIX futures; and with no quotes at all."""
    rows = chain_rows() + [  # between the 5800 put's quotes and the 5825 put's
        {"root": "SPXW", "expiration": "2026-12-18", "strike": 5800.1234, "option_type": "P",
         "bid": 111.0, "ask": 115.5},
    ]  # fmt: skip
    chain = tmp_path / "odd.csv"
    write_cboe(chain, rows)
    snapshot, notes = market_from_files([chain], vix=18.2, futures=FUTURES)
    assert len(snapshot.quotes) == 367  # 61 strikes x call and put x 3 expiries, and one
    read = {}
    for market in (snapshot, replace(snapshot, quotes=())):
        toml = snapshot_toml(market, notes)
        whole = tomllib.loads(toml.text)["market"]
        rest = tomllib.loads(toml.rest)["market"]
        assert "quotes" not in rest
        read[len(market.quotes)] = whole.pop("quotes", [])
        assert read[len(market.quotes)] == list(toml.quote_rows) and whole == rest
    # the futures file's three settlements, in expiry order
    assert [f["price"] for f in rest["vix_futures"]] == [19.1, 19.8, 20.35]
    assert read[0] == [] and len(read[367]) == 367
    assert [r for r in read[367] if "occ" not in r] == [
        {"underlying": "SPX", "root": "SPXW", "type": "put", "strike": 5800.1234,
         "expiry": date(2026, 12, 18), "bid": 111.0, "ask": 115.5}
    ]  # fmt: skip


finite = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(
    st.sampled_from([("SPX", "SPX"), ("SPX", "SPXW"), ("SPX", None), ("VIX", "VIX")]),
    st.sampled_from(["put", "call"]),
    st.one_of(finite, st.integers(1, 99_999_999).map(lambda m: m / 1000)),
    st.dates(date(2026, 1, 1), date(2029, 12, 31)),
    finite,
    finite,
)
def test_a_quote_row_is_written_as_text_that_reads_back_as_its_values(
    contract, type, strike, expiry, bid, ask
):
    """What lets the read back skip parsing the rows: any quote's row, written as the
    snapshot writes it, reads back through tomllib as exactly the row."""
    underlying, root = contract
    row = quote_row(Quote(underlying, type, strike, expiry, bid, ask, root))
    assert tomllib.loads(f"quotes = [\n  {toml_value(row)},\n]\n")["quotes"] == [row]


def test_the_read_back_checks_the_quote_rows_and_parses_the_rest(files):
    """A row the loader refuses (bid >= 0, schema) is refused by the read back, naming the
    row; so is the rest of the text when it is changed (vix must be > 0)."""
    _, chain, _ = files
    snapshot, notes = market_from_files([chain], vix=18.2)
    toml = snapshot_toml(snapshot, notes)
    assert read_back(toml, "today.toml").quotes == snapshot.quotes
    rows = list(toml.quote_rows)
    rows[5] = {**rows[5], "bid": -1.0}
    with pytest.raises(InputError) as err:
        read_back(replace(toml, quote_rows=tuple(rows)), "today.toml")
    assert err.value.key == "market.quotes[5].bid" and "must be >= 0, got -1" in str(err.value)
    assert "vix = 18.2\n" in toml.rest
    with pytest.raises(InputError) as err:
        read_back(replace(toml, rest=toml.rest.replace("vix = 18.2\n", "vix = -18.2\n")), "x")
    assert err.value.key == "market.vix"


# ------------------------------------------------------------------ the loader


SLICE = """
[[market.spx_svi]]
expiry = 2026-12-18
root = "SPXW"
a = 0.0009
b = 0.045
rho = -0.75
m = 0.012
sigma = 0.04
forward = 5861.4
discount = 0.99725
rms = 0.03
"""


def test_a_market_file_slice_prices_unquoted_spx_legs(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(MARKET + SLICE + POSITIONS)
    (lf,) = book.load_book([path])
    values = value_legs(lf.market, lf.file.positions[0].legs)
    assert values.vol_source == ("svi",) * 4
    e = EXPIRIES[0]
    k = math.log(5510 / e.forward)
    w = 0.0009 + 0.045 * (-0.75 * (k - 0.012) + math.sqrt((k - 0.012) ** 2 + 0.04**2))
    assert values.vol[0] == pytest.approx(math.sqrt(w / e.T), rel=1e-9)


@pytest.mark.parametrize(
    "change, key, message",
    [
        (("a = 0.0009", "a = -0.01"), "market.spx_svi[0].a", "total variance goes negative"),
        (("rho = -0.75", "rho = -1.0"), "market.spx_svi[0].rho", "must be > -1 and < 1"),
        (("sigma = 0.04", "sigma = 0"), "market.spx_svi[0].sigma", "must be > 0"),
        (("forward = 5861.4", "forward = 586.14"), "market.spx_svi[0].forward", "a typo?"),
        (("discount = 0.99725", "discount = 9.9725"), "market.spx_svi[0].discount", "between"),
        (("expiry = 2026-12-18", "expiry = 2026-11-20"), "market.spx_svi[0].expiry", "settled"),
        (("expiry = 2026-12-18", "expiry = 2026-12-19"), "market.spx_svi[0].expiry", "Saturday"),
        (('root = "SPXW"', 'root = "VIX"'), "market.spx_svi[0].root", "must be one of"),
        (("rms = 0.03", "rms = 0.03\nbutterfly_free = 1"), "butterfly_free", "true or false"),
        (("rms = 0.03", "rms = 0.03\nn_quote = 5"), "market.spx_svi[0].n_quote", "n_quotes"),
        (("rms = 0.03\n", ""), "market.spx_svi[0].rms", "required"),
    ],
)
def test_bad_slices_are_refused_naming_the_key(tmp_path, change, key, message):
    path = tmp_path / "m.toml"
    path.write_text(MARKET + SLICE.replace(*change) + POSITIONS)
    with pytest.raises(InputError) as err:
        positions.load_file(path)
    assert key in err.value.key and message in str(err.value)


def test_one_slice_per_expiry_and_root(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(MARKET + SLICE + SLICE + POSITIONS)
    with pytest.raises(InputError, match=r"duplicate slice for SPXW 2026-12-18 \(also"):
        positions.load_file(path)
    path.write_text(MARKET + SLICE + SLICE.replace('"SPXW"', '"SPX"') + POSITIONS)
    assert len(positions.load_file(path).market.spx_surface.slices) == 2


# ------------------------------------------------------------------ the commands


def test_price_with_a_chain_reports_the_surface(files, capsys, monkeypatch):
    _, chain, pos = files
    code, out, err = run(["price", pos, "--chain", chain, "--format", "json"], capsys, monkeypatch)
    assert code == 0, err
    data = json.loads(out)
    assert [leg["vol_source"] for leg in data["legs"]] == [
        "svi",
        "svi",
        "quote",
        "quote",
    ]  # 5510, 5560 unlisted
    (surface,) = data["surface"]
    assert surface["source"] == str(chain)
    rows = surface["expiries"]
    assert [(r["root"], r["expiry"]) for r in rows] == [
        (e.root, e.expiry.isoformat()) for e in EXPIRIES
    ]
    for r, e in zip(rows, EXPIRIES, strict=True):
        assert r["forward"] == pytest.approx(e.forward, rel=1e-6)
        assert r["discount"] == pytest.approx(e.discount, abs=2e-5)
        assert r["rms"] < 0.01 and r["n_quotes"] == 61 and r["butterfly_free"] is True
    code, out, _ = run(["price", pos, "--chain", chain], capsys, monkeypatch)
    assert code == 0 and "SPX surface from" in out and "arb-free" in out
    code, out, _ = run(["price", pos, "--format", "json"], capsys, monkeypatch)
    assert "surface" not in json.loads(out)


def test_check_size_hedge_and_review_take_chains(files, capsys, monkeypatch):
    folder, chain, pos = files
    for args in (
        ["check", pos, "--chain", chain],
        ["size-hedge", pos, "--chain", chain],
        ["review", pos, "--chain", chain, "--no-journal"],
    ):
        code, out, err = run(args, capsys, monkeypatch)
        assert code in (0, 1), (args, err)
        assert out


def test_a_missing_chain_is_one_line_and_exit_2(files, capsys, monkeypatch):
    _, _, pos = files
    code, out, err = run(["check", pos, "--chain", "nope.csv"], capsys, monkeypatch)
    assert code == 2 and err == "alvh: nope.csv: no such file\n"


def test_market_command_writes_atomically_and_will_not_overwrite(files, capsys, monkeypatch):
    folder, chain, pos = files
    target = folder / "today.toml"
    code, out, err = run(
        ["market", "--chain", chain, "--vix", "18.2", "-o", target], capsys, monkeypatch
    )
    assert code == 0, err
    first = target.read_bytes()
    assert not [p for p in folder.iterdir() if p.name.startswith(".today.toml")]
    code, _, err = run(
        ["market", "--chain", chain, "--vix", "19", "-o", target], capsys, monkeypatch
    )
    assert code == 2 and "already exists; use --force" in err
    assert target.read_bytes() == first
    code, _, err = run(
        ["market", "--chain", chain, "--vix", "19", "-o", target, "--force"], capsys, monkeypatch
    )
    assert code == 0 and "vix = 19.0" in target.read_text()
    # the book shares it: priced from the file as from the chain
    code, via_file, _ = run(["price", pos, "--market", target, "-f", "json"], capsys, monkeypatch)
    code, via_chain, _ = run(["price", pos, "--chain", chain, "-f", "json"], capsys, monkeypatch)
    a, b = json.loads(via_file), json.loads(via_chain)
    assert [leg["price"] for leg in a["legs"]] == [leg["price"] for leg in b["legs"]]


def test_market_command_to_stdout(files, capsys, monkeypatch):
    _, chain, _ = files
    code, out, _ = run(["market", "--chain", chain, "--vix", "18.2"], capsys, monkeypatch)
    assert code == 0 and "[[market.spx_svi]]" in out


def test_a_chain_named_with_a_newline_still_makes_a_snapshot(files, tmp_path, capsys, monkeypatch):
    """The header comment names the chain: a newline in its name is escaped, not an end of
    the comment that breaks the file (it was a TOMLDecodeError traceback)."""
    _, chain, _ = files
    odd = tmp_path / "spx\nchain.csv"
    odd.write_bytes(Path(chain).read_bytes())
    code, out, err = run(["market", "--chain", odd, "--vix", "18.2"], capsys, monkeypatch)
    assert code == 0, err
    assert "spx\\nchain.csv" in out and tomllib.loads(out)["market"]["spx"] > 0


def test_market_command_needs_what_the_chain_cannot_give(files, tmp_path, capsys, monkeypatch):
    _, chain, _ = files
    code, _, err = run(["market", "--chain", chain], capsys, monkeypatch)
    assert code == 2 and "give --vix" in err
    generic = tmp_path / "generic.csv"
    generic.write_text("expiry,strike,type,bid,ask\n2026-12-18,5800,put,43.2,43.7\n")
    code, _, err = run(["market", "--chain", generic, "--vix", "18"], capsys, monkeypatch)
    assert code == 2 and "give --asof" in err
    # 15:45, before the pinned clock's 15:50 (a date alone would be 16:00, in the future)
    code, _, err = run(
        ["market", "--chain", generic, "--vix", "18", "--asof", "2026-11-24T15:45"],
        capsys,
        monkeypatch,
    )
    assert code == 2 and "give --spx" in err
    code, _, err = run(
        ["market", "--chain", chain, "--vix", "18", "--asof", "24/11/2026"], capsys, monkeypatch
    )
    assert code == 2 and "--asof: must be a date" in err


def test_market_command_refuses_a_futures_file_far_from_vix(files, tmp_path, capsys, monkeypatch):
    _, chain, _ = files
    futures = tmp_path / "vx.csv"
    futures.write_text("expiry,price\n2026-12-16,91.0\n")
    code, _, err = run(
        ["market", "--chain", chain, "--vix", "18.2", "--futures", futures], capsys, monkeypatch
    )
    assert code == 2 and err.startswith(
        f"alvh: {futures}:2: price: 91 is more than 3x spot VIX 18.2"
    )
    futures.write_text("expiry,price\n2026-12-16,19.1\n2027-01-20,19.8\n")
    code, out, _ = run(
        ["market", "--chain", chain, "--vix", "18.2", "--futures", futures], capsys, monkeypatch
    )
    assert code == 0
    doc = tomllib.loads(out)["market"]
    assert [f["price"] for f in doc["vix_futures"]] == [19.1, 19.8]


def test_market_command_can_leave_the_quotes_out(files, capsys, monkeypatch):
    _, chain, _ = files
    code, out, _ = run(
        ["market", "--chain", chain, "--vix", "18.2", "--no-quotes"], capsys, monkeypatch
    )
    assert code == 0 and "No quotes (--no-quotes)" in out  # the header says so
    doc = tomllib.loads(out)["market"]
    assert "quotes" not in doc and len(doc["spx_svi"]) == 3


def test_market_command_leaves_out_quotes_a_market_file_refuses(tmp_path, capsys, monkeypatch):
    """Real chains list strikes no condor uses (SPX puts at 500) and LEAPS; a market file
    refuses strikes beyond 1/5..5x of spot and expiries over 3 years out, so the
    snapshot leaves them out and says how many."""
    rows = chain_rows() + [
        {"root": "SPXW", "expiration": "2026-12-18", "strike": 500.0, "option_type": "P",
         "bid": 0.0, "ask": 0.05},
        {"root": "SPX", "expiration": "2030-01-18", "strike": 5800.0, "option_type": "C",
         "bid": 1200.0, "ask": 1210.0},
    ]  # fmt: skip
    chain = tmp_path / "wide.csv"
    write_cboe(chain, rows)
    code, out, err = run(["market", "--chain", chain, "--vix", "18.2"], capsys, monkeypatch)
    assert code == 0, err
    assert "2 quotes left out" in out
    doc = tomllib.loads(out)["market"]
    assert len(doc["quotes"]) == 366


def test_a_chain_lifts_the_flat_smile_warning(files, tmp_path, capsys, monkeypatch):
    """Without [market.spx_vol] alvh warns that unquoted SPX legs price on a flat smile;
    with a chain fitted onto that market they price on the surface, so the warning goes."""
    _, chain, _ = files
    pos = tmp_path / "flat.toml"
    start, end = MARKET.index("[market.spx_vol]"), MARKET.index("[market.vix_vol]")
    pos.write_text(MARKET[:start] + MARKET[end:] + POSITIONS)
    (plain,) = book.load_book([pos])
    assert [w.key for w in plain.warnings] == ["market.spx_vol"]
    (fitted,) = book.load_book([pos], chains=[chain])
    assert fitted.warnings == ()


# ------------------------------------------------- quotes no market can hold


def _chain_with(tmp_path, change, name="c.csv"):
    rows = chain_rows()
    by = {(r["expiration"], r["option_type"], r["strike"]): r for r in rows}
    change(by, rows)
    path = tmp_path / name
    write_cboe(path, rows)
    return path, rows


def _swap(by, rows):
    a, b = by[("2026-12-18", "C", 6150.0)], by[("2026-12-18", "C", 6175.0)]
    a["bid"], a["ask"], b["bid"], b["ask"] = b["bid"], b["ask"], a["bid"], a["ask"]


def test_swapped_call_quotes_are_one_warning_in_market_and_check(tmp_path, alvh):
    """The condor's short call (6150) quoted with its neighbour's prices: both commands say
    it once, naming the file and both lines (the 6150 and 6175 calls are the 47th and 48th rows
    of data: lines 48 and 49, after the header), and keep the quotes."""
    chain, rows = _chain_with(tmp_path, _swap)
    before = chain.read_bytes()
    pos = tmp_path / "dec.toml"
    pos.write_text(MARKET + POSITIONS)
    line = (
        f"warning: {chain}:48,49: SPXW 2026-12-18 calls 6150 and 6175: the 6150 call is "
        f"offered at {rows[46]['ask']:g}, below the 6175 call's bid {rows[47]['bid']:g}: a "
        "call is worth more at a lower strike — swapped or mistyped quotes? Both are kept "
        "and price their contracts"
    )
    out = tmp_path / "today.toml"
    run = alvh(["market", "--chain", chain, "--vix", "18.2", "-o", out])
    assert run.code == 0 and run.err.splitlines() == [line]
    assert out.exists()
    run = alvh(["check", pos, "--chain", chain])
    assert run.code in (0, 1)
    assert [w for w in run.err.splitlines() if str(chain) in w] == [line]
    assert chain.read_bytes() == before


def test_a_call_above_spx_costs_only_itself(tmp_path, alvh):
    """The 5000 call of 2027-01-15 bid 8700 (869.9 with a digit typed twice; line 124):
    above SPX, so no call can be worth it. It is left out with one warning; its expiry
    is still fitted (three slices in the snapshot)."""

    def typo(by, rows):
        r = by[("2027-01-15", "C", 5000.0)]
        r["bid"], r["ask"] = 8700.0, 8790.0

    chain, rows = _chain_with(tmp_path, typo)
    assert rows.index(next(r for r in rows if r["bid"] == 8700.0)) + 2 == 124
    run = alvh(["market", "--chain", chain, "--vix", "18.2"])
    assert run.code == 0
    assert run.err.splitlines() == [
        f"warning: {chain}:124: SPXW 2027-01-15 5000 call: bid 8700 is above SPX 5850.25, "
        "more than a call on the index can be worth: a typo? The quote is left out of the "
        "fit and of the quotes"
    ]
    doc = tomllib.loads(run.out)["market"]
    assert [s["expiry"].isoformat() for s in doc["spx_svi"]] == [
        "2026-12-18",
        "2027-01-15",
        "2027-03-19",
    ]
    assert 8700.0 not in [q["bid"] for q in doc["quotes"]]


def test_every_call_50_high_is_refused_by_market_and_check_alike(tmp_path, alvh):
    """Every call 50 points high: parity gives F − K = (C − P)/D, 50/D ≈ 50.14 too high, so
    q = r − ln(F/S)/T ≈ 0.0418 − ln((5861.4 + 50.14)/5850.25)/0.06578 = −0.1166 — no market's
    dividend yield. ``market`` and ``check --chain`` refuse it with the same line, and
    write nothing."""

    def high(by, rows):
        for r in rows:
            if r["option_type"] == "C":
                r["bid"] += 50.0
                r["ask"] += 50.0

    chain, _ = _chain_with(tmp_path, high)
    before = chain.read_bytes()
    pos = tmp_path / "dec.toml"
    pos.write_text(MARKET + POSITIONS)
    e = EXPIRIES[0]
    r = -math.log(e.discount) / e.T
    q = r - math.log((e.forward + 50.0 / e.discount) / SPOT) / e.T
    assert round(q, 4) == -0.1166
    line = (
        f"alvh: {chain}: parity at SPXW 2026-12-18 implies a dividend yield of {q:.4f}, "
        "outside -0.05..0.2: check the chain's quotes"
    )
    out = tmp_path / "today.toml"
    for args in (
        ["market", "--chain", chain, "--vix", "18.2", "-o", out],
        ["check", pos, "--chain", chain],
    ):
        run = alvh(args)
        assert (run.code, run.out, run.err.splitlines()) == (2, "", [line]), args
    assert not out.exists() and chain.read_bytes() == before


def test_a_numpy_float_is_written_as_a_toml_float():
    """numpy 2's repr of a float64 is ``np.float64(1.5)``, not TOML: written as the float."""
    import numpy as np

    from alvh_cli.toml_text import toml_value

    for x in (1.5, -0.1, 1e-300, 123456.789):
        text = toml_value(np.float64(x))
        assert tomllib.loads(f"x = {text}")["x"] == x
