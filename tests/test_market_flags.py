"""``alvh market``'s own values and the VIX futures of a snapshot, refused where they are given.

``--vix``, ``--spx`` and ``--asof`` are held to what a market file's ``vix``, ``spx`` and
``asof`` are (DESIGN §2, section 8: one line naming the key, exit 2), named by the flag;
a futures file's rows by its line, a TOML ``vix_futures`` entry by its key. Every refusal
is one line on stderr, exit status 2, no output file and the inputs as they were.

Where the expected figures come from: the chains are ``chain_builders``' invented ones,
whose SPX mid (5850.25), near-month forward (5861.4) and discount (0.99725) are set by
hand; the VIX expirations are Cboe's published dates (``test_market.PUBLISHED_VIX``,
``test_vix_expirations_2026_2027``); the clock is conftest's, 2026-11-24 15:50 EST.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
from chain_builders import EXPIRIES, SPOT, chain_rows, write_cboe

from alvh_cli.inputs.positions import load_file
from alvh_cli.model.domain import CARRY_BOUNDS

SAMPLES = Path(__file__).resolve().parent.parent / "sample_positions"
ASOF_TEXT = "2026-11-24T15:45:00-05:00"
VIX_RANGE = "must be between 5 and 150 (VIX has closed between 9.14 and 82.69 since 1990)"


@pytest.fixture
def inputs(tmp_path):
    """A folder with a Cboe chain (quote time and SPX mid of its own), the same quotes
    in the generic layout (neither), and a futures file of three listed expiries."""
    rows = chain_rows()
    write_cboe(tmp_path / "chain.csv", rows)
    lines = ["expiry,strike,type,bid,ask,root"]
    lines += [
        f"{r['expiration']},{r['strike']!r},{r['option_type']},{r['bid']!r},{r['ask']!r},"
        f"{r['root']}"
        for r in rows
    ]
    (tmp_path / "gchain.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "vx.csv").write_text("expiry,price\n2027-01-20,19.8\n2026-12-16,19.1\n")
    return tmp_path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def refused(alvh, folder: Path, args) -> str:
    """Run ``alvh args`` in ``folder`` expecting a refusal: exit 2, nothing on stdout, one
    line on stderr (no traceback, no Python warning: a warning raised is an error here),
    no file written or changed. Returns that line."""
    before = _files(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = alvh([str(a) for a in args])
    assert run.code == 2, (run.code, run.err)
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert "Traceback" not in run.err
    assert _files(folder) == before
    return lines[0]


def written(alvh, folder: Path, args) -> tuple[str, list[str]]:
    """Run ``alvh args`` expecting the snapshot written to ``t.toml``: its text and the
    stderr lines (warnings)."""
    run = alvh([str(a) for a in args])
    assert run.code == 0, run.err
    return (folder / "t.toml").read_text(), run.err.splitlines()


# ------------------------------------------------------------------ --vix


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("nan", "must be a finite number, got nan"),
        ("inf", "must be a finite number, got inf"),
        ("-inf", "must be a finite number, got -inf"),
        ("0", f"{VIX_RANGE}, got 0.0"),
        ("-5", f"{VIX_RANGE}, got -5.0"),
        ("4.99", f"{VIX_RANGE}, got 4.99"),
        ("150.01", f"{VIX_RANGE}, got 150.01"),
        ("1800", f"{VIX_RANGE}, got 1800.0"),
    ],
)
@pytest.mark.parametrize("with_futures", [True, False])
def test_a_bad_vix_is_refused_naming_the_flag(alvh, inputs, value, reason, with_futures):
    """Before: with --futures the futures file was blamed ("more than 3x away from VIX
    nan"), without it the output file (``t.toml: market.vix``)."""
    futures = ["--futures", inputs / "vx.csv"] if with_futures else []
    args = ["market", "--chain", inputs / "chain.csv", *futures, "--vix", value]
    line = refused(alvh, inputs, [*args, "-o", inputs / "t.toml"])
    assert line == f"alvh: --vix: {reason}"


def test_vix_is_held_to_the_range_a_market_file_is(alvh, inputs, tmp_path):
    """The flag's range is the file's: ``vix = 1800`` in a market file is refused for the
    same reason, and the ends 5 and 150 pass both ranges. The flag's ends then meet this
    chain's ATM vol, 23.6%: more than 3x VIX/100 = 0.05 and less than 1/3 of 1.5, refused
    naming the flag; a file's ends pass with an ATM vol near them."""
    market = tmp_path / "m.toml"
    calm = (SAMPLES / "calm.toml").read_text()
    market.write_text(calm.replace("vix = 14.2", "vix = 1800"))
    file_line = refused(alvh, inputs, ["check", SAMPLES / "calm.toml", "--market", market])
    assert file_line == f"alvh: {market}: market.vix: {VIX_RANGE}, got 1800"
    for ok, rel in (("5", "more than 3x"), ("150", "less than 1/3 of")):
        line = refused(
            alvh,
            inputs,
            ["market", "--chain", inputs / "chain.csv", "--vix", ok, "-o", inputs / "t.toml"],
        )
        assert line.startswith(f"alvh: --vix: {ok}: the chains' ATM vol 0.236 is {rel} VIX/100")
    futures = calm[calm.index("vix_futures = [") : calm.index("]\n", calm.index("vix_futures"))]
    for ok, atm in (("5", "0.05"), ("150", "1.5")):  # its futures would be 3x off: left out
        text = calm.replace(futures + "]\n", "").replace("vix = 14.2", f"vix = {ok}")
        market.write_text(text.replace("atm = 0.122", f"atm = {atm}"))
        run = alvh(["price", SAMPLES / "calm.toml", "--market", market])
        assert run.code == 0, run.err


def test_the_vix_flag_is_checked_before_any_file_is_read(alvh, inputs):
    missing = inputs / "no_such_chain.csv"
    line = refused(alvh, inputs, ["market", "--chain", missing, "--vix", "nan"])
    assert line == "alvh: --vix: must be a finite number, got nan"


# ------------------------------------------------------------------ --spx


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0", "must be > 0, got 0.0"),
        ("-1", "must be > 0, got -1.0"),
        ("nan", "must be a finite number, got nan"),
        ("inf", "must be a finite number, got inf"),
    ],
)
@pytest.mark.parametrize("chain", ["gchain.csv", "chain.csv"])
def test_a_bad_spx_is_refused_naming_the_flag(alvh, inputs, value, reason, chain):
    """Before: misleading chain errors (no parity forward, a dividend yield of nan), a
    numpy RuntimeWarning for inf and a ZeroDivisionError traceback for 0 on a Cboe
    chain."""
    args = ["market", "--chain", inputs / chain, "--asof", ASOF_TEXT, "--vix", "18.2"]
    line = refused(alvh, inputs, [*args, "--spx", value, "-o", inputs / "t.toml"])
    assert line == f"alvh: --spx: {reason}"


def _parity_spx_range() -> tuple[float, float]:
    """The SPX the generic chain's near-month parity allows (SPXW 2026-12-18, 24 days 15
    minutes out, nearest 30 days): ``q = r − ln(F/S)/T`` within the file's dividend
    yield bounds, ``r = −ln(D)/T``, from the builder's own F and D."""
    near = EXPIRIES[0]
    r = -math.log(near.discount) / near.T
    low, high = CARRY_BOUNDS
    return (
        near.forward * math.exp(-(r - low) * near.T),
        near.forward * math.exp(-(r - high) * near.T),
    )


def test_the_parity_range_worked_by_hand():
    least, most = _parity_spx_range()
    assert least == pytest.approx(5826.087, abs=1e-3)
    assert most == pytest.approx(5922.692, abs=1e-3)
    assert least < SPOT < most


@pytest.mark.parametrize("value", ["58502.5", "1e308", "6500", "5700"])
def test_an_spx_far_from_the_generic_chains_parity_names_the_flag(alvh, inputs, value):
    """The generic chain has no SPX of its own: a --spx the chain's parity cannot reach
    at any allowed dividend yield is the flag's fault, said with the range (before: "parity
    implies a dividend yield of 35.0162 ... check the chain's quotes", blaming the chain)."""
    least, most = _parity_spx_range()
    args = ["market", "--chain", inputs / "gchain.csv", "--asof", ASOF_TEXT, "--vix", "18.2"]
    line = refused(alvh, inputs, [*args, "--spx", value, "-o", inputs / "t.toml"])
    assert line.startswith(f"alvh: --spx: {float(value):g} is not the SPX of the chain's quotes")
    between = line.split("puts SPX between ")[1].split(",")[0]
    lo, hi = (float(x) for x in between.split(" and "))
    assert lo == pytest.approx(least, abs=0.01) and hi == pytest.approx(most, abs=0.01)


def test_the_parity_range_edges(alvh, inputs):
    least, most = _parity_spx_range()
    base = ["market", "--chain", inputs / "gchain.csv", "--asof", ASOF_TEXT, "--vix", "18.2"]
    for outside in (least - 0.5, most + 0.5):
        line = refused(alvh, inputs, [*base, "--spx", f"{outside:.2f}", "-o", inputs / "t.toml"])
        assert line.startswith("alvh: --spx: ")
    for inside in (least + 0.5, most - 0.5):
        text, _ = written(alvh, inputs, [*base, "--spx", f"{inside:.2f}", "-o", inputs / "t.toml"])
        assert f"spx = {float(f'{inside:.2f}')!r}" in text
        (inputs / "t.toml").unlink()


@pytest.mark.parametrize("value", ["5910", "5790", "58502.5", "1e308"])
def test_an_spx_far_from_the_chains_mid_names_the_flag(alvh, inputs, value):
    """The Cboe chain's SPX mid is 5850.25; more than 1 % from it (5908.75 up, 5791.75
    down) is not that day's SPX. Before: blamed the chain file, or a traceback."""
    args = ["market", "--chain", inputs / "chain.csv", "--vix", "18.2", "--spx", value]
    line = refused(alvh, inputs, [*args, "-o", inputs / "t.toml"])
    assert line.startswith(
        f"alvh: --spx: {float(value):g} is more than 1% from the chain's SPX mid 5850.25"
    )


def test_an_spx_within_one_percent_of_the_chains_mid_is_taken(alvh, inputs):
    args = ["market", "--chain", inputs / "chain.csv", "--vix", "18.2", "--spx", "5900"]
    text, _ = written(alvh, inputs, [*args, "-o", inputs / "t.toml"])
    assert "spx = 5900.0" in text


# ------------------------------------------------------------------ --asof


FUTURE_REASON = (
    "2099-11-24 15:45 EST is in the future (the clock says 2026-11-24 15:50 EST): no snapshot "
    "comes from a moment still to come — a typo in the date or time? (a date alone means its "
    "16:00 close)"
)


@pytest.mark.parametrize("chain", ["chain.csv", "gchain.csv"])
def test_a_future_asof_is_refused_as_a_files_is(alvh, inputs, chain):
    """Before: "no SPX expiry could be fitted: ... settled at or before the quote time"
    (generic chain) or "a chain must be from the snapshot's day" (Cboe)."""
    args = ["market", "--chain", inputs / chain, "--vix", "18.2", "--spx", "5850.25"]
    line = refused(alvh, inputs, [*args, "--asof", "2099-11-24T15:45:00-05:00"])
    assert line == f"alvh: --asof: {FUTURE_REASON}"


def test_the_future_asof_reason_is_the_position_files(alvh, inputs, tmp_path):
    pos = tmp_path / "late.toml"
    pos.write_text((SAMPLES / "calm.toml").read_text().replace("asof = 2026-", "asof = 2099-"))
    line = refused(alvh, inputs, ["check", pos])
    assert line == f"alvh: {pos}: market.asof: {FUTURE_REASON}"
    # as a shared --market too: "in the future" comes before what it causes (every
    # future expired before the snapshot's day)
    line = refused(alvh, inputs, ["check", SAMPLES / "calm.toml", "--market", pos])
    assert line == f"alvh: {pos}: market.asof: {FUTURE_REASON}"


def test_a_date_alone_is_the_close_and_may_be_in_the_future(alvh, inputs):
    """The clock is 15:50: the day's date alone means 16:00, still to come; 15:45 is
    taken."""
    base = ["market", "--chain", inputs / "gchain.csv", "--vix", "18.2", "--spx", "5850.25"]
    line = refused(alvh, inputs, [*base, "--asof", "2026-11-24", "-o", inputs / "t.toml"])
    assert line.startswith("alvh: --asof: 2026-11-24 16:00 EST is in the future")
    text, _ = written(alvh, inputs, [*base, "--asof", ASOF_TEXT, "-o", inputs / "t.toml"])
    assert f"asof = {ASOF_TEXT}" in text


def test_a_chain_dated_in_the_future_is_refused_naming_it(alvh, inputs):
    """A Cboe chain of 2026-11-25 (its 15:45 snapshot) read at 2026-11-24 15:50."""
    from datetime import date

    chain = inputs / "tomorrow.csv"
    write_cboe(chain, chain_rows(), quote_date=date(2026, 11, 25))
    line = refused(alvh, inputs, ["market", "--chain", chain, "--vix", "18.2"])
    assert line.startswith(
        f"alvh: {chain}: quote_date: 2026-11-25 15:45 EST is in the future (the clock says "
        "2026-11-24 15:50 EST)"
    )


# ------------------------------------------------------------------ futures file


def _market_with(alvh, inputs, futures_text: str):
    (inputs / "vx.csv").write_text(futures_text)
    return [
        "market",
        "--chain",
        inputs / "chain.csv",
        "--futures",
        inputs / "vx.csv",
        "--vix",
        "18.2",
        "-o",
        inputs / "t.toml",
    ]


def test_an_expired_future_in_the_futures_file_is_refused_with_its_line(alvh, inputs):
    """2026-11-18 is November's VIX expiry, six days before the 2026-11-24 snapshot."""
    args = _market_with(alvh, inputs, "expiry,price\n2026-12-16,19.1\n2026-11-18,18.0\n")
    line = refused(alvh, inputs, args)
    vx = inputs / "vx.csv"
    assert line.startswith(
        f"alvh: {vx}:3: expiry: the 2026-11-18 future expired before the snapshot's day 2026-11-24"
    )


@pytest.mark.parametrize(
    ("row", "relation"),
    [("91.0", "is more than 3x spot VIX 18.2"), ("5.0", "is less than 1/3 of spot VIX 18.2")],
)
def test_a_future_far_from_vix_names_its_line(alvh, inputs, row, relation):
    """The third row of the file is on line 4 (the header is line 1)."""
    args = _market_with(
        alvh, inputs, f"expiry,price\n2026-12-16,19.1\n2027-02-17,20.3\n2027-01-20,{row}\n"
    )
    line = refused(alvh, inputs, args)
    assert line.startswith(f"alvh: {inputs / 'vx.csv'}:4: price: {float(row):g} {relation}")


@pytest.mark.parametrize(("expiry", "line_no"), [("2026-12-15", 2), ("2026-12-17", 3)])
def test_an_unlisted_futures_expiry_is_a_warning_naming_the_listed_one(
    alvh, inputs, expiry, line_no
):
    """December 2026's VIX future settles Wednesday 2026-12-16 (Cboe); a day either side
    is a typo more often than not, so it is said, and the snapshot still written."""
    rows = ["2027-01-20,19.8", "2026-12-16,19.1"]
    rows.insert(line_no - 2, f"{expiry},19.0")
    args = _market_with(alvh, inputs, "expiry,price\n" + "\n".join(rows) + "\n")
    text, err = written(alvh, inputs, args)
    assert err == [
        f"warning: {inputs / 'vx.csv'}:{line_no}: expiry: {expiry} is not a monthly VIX "
        "futures expiration (the nearest is 2026-12-16, a Wednesday) — a typo? The curve "
        "takes the point as given"
    ]
    assert f"expiry = {expiry}" in text


def test_holiday_shifted_futures_expiries_are_listed(alvh, inputs):
    """May 2027's VIX future settles Tuesday 2027-05-18 (June's third Friday is Juneteenth
    observed), December 2027's Wednesday 2027-12-22: no warning."""
    args = _market_with(alvh, inputs, "expiry,price\n2027-05-18,20.0\n2027-12-22,21.0\n")
    _, err = written(alvh, inputs, args)
    assert err == []


# ------------------------------------------------------------------ a TOML snapshot's futures


def _calm_with_futures(tmp_path, first_expiry: str) -> Path:
    text = (SAMPLES / "calm.toml").read_text()
    assert "{ expiry = 2026-12-16, price = 15.4 }" in text
    path = tmp_path / "calm.toml"
    path.write_text(text.replace("2026-12-16, price = 15.4", f"{first_expiry}, price = 15.4"))
    return path


def test_an_expired_future_in_a_market_file_is_refused_naming_its_key(alvh, inputs, tmp_path):
    market = _calm_with_futures(tmp_path, "2026-11-18")
    expected = (
        f"alvh: {market}: market.vix_futures[0].expiry: the 2026-11-18 future expired before "
        "the snapshot's day 2026-11-24"
    )
    assert refused(alvh, inputs, ["check", market]).startswith(expected)
    line = refused(alvh, inputs, ["check", SAMPLES / "calm.toml", "--market", market])
    assert line.startswith(expected)


@pytest.mark.parametrize("expiry", ["2026-12-15", "2026-12-17"])
def test_an_unlisted_future_in_a_market_file_is_a_warning(alvh, tmp_path, expiry):
    market = _calm_with_futures(tmp_path, expiry)
    run = alvh(["check", market])
    assert run.code in (0, 1), run.err
    assert (
        f"warning: {market}: market.vix_futures[0].expiry: {expiry} is not a monthly VIX "
        "futures expiration (the nearest is 2026-12-16, a Wednesday)"
    ) in run.err


def test_the_samples_futures_are_all_listed_and_live():
    """Every shipped sample loads, with no warning about its VIX futures."""
    for path in sorted(SAMPLES.glob("*.toml")):
        pf = load_file(path)
        assert pf.market is not None
        assert not [w for w in pf.market.warnings if "vix_futures" in w.key], path
