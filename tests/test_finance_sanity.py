"""Inputs whose prices no market can produce are refused, with the reason in finance terms.

A credit below the exchange's minimum tick (``credit = 1e-300`` once printed a 302-digit
multiple), a price of 1e308 (once overflowed the credit to inf), and a smile that, at the
strikes held, prices a put above a higher-strike put or a call above a lower-strike call
(``skew = -10.0`` for ``-1.0`` valued the calm condor at −3.47x and called it a profit).
Each is one line on stderr naming the file and key, exit 2, the file untouched, and no
warning from numpy on the way.

The smile's prices in the expected messages are worked here with the closed-form
Black–Scholes–Merton formula on the forward, independent of alvh's pricing.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

SAMPLE = Path(__file__).parents[1] / "sample_positions" / "calm.toml"
IMPOSSIBLE = (
    "impossible in any market (a call is worth less at a higher strike, a put more, a "
    "vertical between 0 and its width) — a typo in the smile? (position 'dec-calm')"
)

pytestmark = pytest.mark.filterwarnings("error")  # numpy's overflow warnings fail the test


def _file(tmp_path, old, new, count=1):
    text = SAMPLE.read_text()
    assert text.count(old) >= 1
    path = tmp_path / "calm.toml"
    path.write_text(text.replace(old, new, count))
    return path


def _refused(alvh, path, *commands):
    before = path.read_bytes()
    for command in commands or ("check",):
        run = alvh([command, path])
        assert (run.code, run.out) == (2, ""), run.err
        assert run.err.count("\n") == 1
        yield run.err
    assert path.read_bytes() == before


# ------------------------------------------------------------------ credit and prices


@pytest.mark.parametrize("credit", ["1e-300", "0.04", "0.0885e-1"])
def test_a_credit_below_the_minimum_tick_is_refused(tmp_path, alvh, credit):
    # SPX complex orders trade in 0.05 steps (Cboe SPX rules): no condor opens for less
    path = _file(tmp_path, "# credit omitted", f"credit = {credit}  #")
    shown = {"1e-300": "1e-300", "0.04": "0.04", "0.0885e-1": "0.00885"}[credit]
    for err in _refused(alvh, path, "check", "price"):
        assert err == (
            f"alvh: {path}: positions[0].credit: a credit of {shown} is below the minimum tick "
            "of 0.05 points: no condor or vertical opens for less (per unit, in points: 8.85, "
            "not 0.0885) (position 'dec-calm')\n"
        )


@pytest.mark.parametrize(
    ("old", "new", "key", "said"),
    [
        ("strike = 5550", "strike = 5550.3", "positions[0].legs[1].strike",
         "5550.3 is not a listed strike: SPX and SPXW strikes are multiples of 5 points "
         "(5550 or 5555?)"),
        ("strike = 5550", "strike = 555", "positions[0].legs[1].strike", None),  # on the grid
        ("strike = 6200", "strike = 6202.5", "positions[0].legs[3].strike",
         "6202.5 is not a listed strike: SPX and SPXW strikes are multiples of 5 points "
         "(6200 or 6205?)"),
    ],
)  # fmt: skip
def test_a_strike_off_the_5_point_grid_is_refused(tmp_path, alvh, old, new, key, said):
    # every SPX/SPXW strike is a multiple of 5 (Cboe's listed intervals: 5, 10, 25 ... 200):
    # 5550.3 is a slipped digit, once priced as written. 555 is listed (and refused for
    # being a tenth of SPX, by the strike band)
    path = _file(tmp_path, old, new)
    for err in _refused(alvh, path, "check", "price"):
        if said is None:
            assert "not a listed strike" not in err
        else:
            assert err == f"alvh: {path}: {key}: {said} (position 'dec-calm')\n"


def test_a_credit_of_one_tick_loads(tmp_path, alvh):
    path = _file(tmp_path, "# credit omitted", "credit = 0.05  #")
    assert alvh(["price", path]).code == 0


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("entry_price = 16.20", "entry_price = 1e308", "positions[0].legs[0].entry_price"),
        ("# credit omitted", "credit = 1e308  #", "positions[0].credit"),
    ],
)
def test_a_price_of_1e308_is_one_clear_line(tmp_path, alvh, old, new, key):
    path = _file(tmp_path, old, new)
    for err in _refused(alvh, path, "check", "price"):
        assert err == (
            f"alvh: {path}: {key}: must be < 1000000 (points: a price that large is a typo), "
            "got 1e+308 (position 'dec-calm')\n"
        )


def test_a_negative_price_is_told_its_lower_bound_alone(tmp_path, alvh):
    path = _file(tmp_path, "entry_price = 16.20", "entry_price = -16.20")
    (err,) = _refused(alvh, path)
    assert err == (
        f"alvh: {path}: positions[0].legs[0].entry_price: must be >= 0, got -16.2 "
        "(position 'dec-calm')\n"
    )


# ------------------------------------------------------------------ the smile


def _bsm(kind: str, strike: float, skew: float, smile: float) -> float:
    """calm.toml's market: SPX 5939.50, r 0.042, q 0.013, atm 0.122; SPXW 2026-12-18
    settles 16:00 New York, 24 days and 15 minutes after asof (15:45 on 2026-11-24):
    T = (24·1440 + 15)/(365·1440). iv = atm + skew·k + smile·k², k = ln(K/F), floored at
    0.01; Black–Scholes–Merton on the forward F = S·e^{(r−q)T}, call by parity."""
    spot, r, q, atm = 5939.50, 0.042, 0.013, 0.122
    t = (24 * 1440 + 15) / (365 * 1440)
    fwd = spot * math.exp((r - q) * t)
    k = math.log(strike / fwd)
    vol = max(atm + skew * k + smile * k * k, 0.01)
    d1 = (math.log(fwd / strike) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    n = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    put = math.exp(-r * t) * (strike * n(-d2) - fwd * n(-d1))
    return put if kind == "put" else put + math.exp(-r * t) * (fwd - strike)


@pytest.mark.parametrize(
    ("old", "new", "skew", "smile", "why"),
    [
        # skew -10 for -1.0: the put wing's vol climbs 0.9 points per 1% of moneyness
        ("skew = -1.0", "skew = -10.0", -10.0, 2.0, ("put", 5500, 5550)),
        # skew +50: the 6150 call's vol is over 400%
        ("skew = -1.0", "skew = 50", 50.0, 2.0, ("call", 6150, 5550)),
        # smile 1000 for 2.0 (or 10.0)
        ("smile = 2.0", "smile = 1000", -1.0, 1000.0, ("put", 5500, 5550)),
    ],
)
def test_a_smile_that_breaks_static_no_arbitrage_is_refused(
    tmp_path, alvh, old, new, skew, smile, why
):
    path = _file(tmp_path, old, new)
    kind, dear, cheap = why
    high, low = _bsm(kind, dear, skew, smile), _bsm(kind, cheap, skew, smile)
    assert high > low  # the bound broken, by the closed form
    for err in _refused(alvh, path, "check", "price"):
        assert err == (
            f"alvh: {path}: market.spx_vol: the SPX smile (atm 0.122, skew {skew:g}, smile "
            f"{smile:g}) prices the {dear} {kind} at {high:.2f}, above the {cheap} {kind} at "
            f"{low:.2f}, on SPXW 2026-12-18: {IMPOSSIBLE}\n"
        )


def test_the_sample_smile_is_free_of_static_arbitrage_at_its_strikes():
    # the closed form at calm.toml's strikes: puts rise with strike, calls fall, each
    # 50-wide vertical between 0 and 50
    strikes = (5500, 5550, 6150, 6200)
    for k1, k2 in zip(strikes[:-1], strikes[1:], strict=True):
        assert 0 <= _bsm("put", k2, -1.0, 2.0) - _bsm("put", k1, -1.0, 2.0) <= k2 - k1
        assert 0 <= _bsm("call", k1, -1.0, 2.0) - _bsm("call", k2, -1.0, 2.0) <= k2 - k1


def test_a_bad_smile_costs_only_its_own_file(tmp_path, alvh):
    bad = _file(tmp_path, "skew = -1.0", "skew = -10.0")
    good = tmp_path / "good.toml"
    good.write_text(SAMPLE.read_text())
    run = alvh(["check", "--format", "json", good, bad])
    assert run.code == 2
    assert "dec-calm" in run.out  # the good file's position, checked
    assert [line for line in run.err.splitlines() if line.startswith("alvh:")] == [
        line for line in run.err.splitlines() if str(bad) in line
    ]


# ------------------------------------------------------------------ a quote and the model


def test_a_wing_quoted_below_zero_against_the_model_is_never_a_profit(tmp_path, alvh):
    """The short 5550 put quoted 0.10/0.20 (its neighbour's quote, pasted on the wrong
    line) while the long 5500 put prices on the smile at about 9: the put spread would be
    worth −9, the condor below zero, and the mark a take_profit. Refused, naming both."""
    quote = (
        '\n[[market.quotes]]\ntype = "put"\nstrike = 5550\nexpiry = 2026-12-18\n'
        "bid = 0.10\nask = 0.20\n\n[[positions]]"
    )
    path = _file(tmp_path, "\n[[positions]]", quote)
    model = _bsm("put", 5500, -1.0, 2.0)
    assert model - 0.15 > 0.05 + 0.05  # below zero past the quotes' slack
    for err in _refused(alvh, path, "check", "price"):
        assert err.startswith(
            f"alvh: {path}: market.quotes: the put spread 5500/5550 prices at "
            f"{0.15 - model:.2f}, outside 0 to its 50-point width: market.quotes[0] mid 0.15 vs "
            "positions[0].legs[0] (smile "
        )
        assert "take_profit" not in err


def test_a_small_break_deep_in_the_smiles_wing_is_a_warning(tmp_path, alvh):
    """The sample smile (skew −1, smile 2) prices the 4400 put 0.41 above the 4450 put, 26%
    out of the money: under 5% of the 50 points between them, the quadratic smile's own
    wing rather than a typo. The file is checked, with one warning naming the strikes."""
    text = SAMPLE.read_text().replace("strike = 5500", "strike = 4400")
    path = tmp_path / "wing.toml"
    path.write_text(text.replace("strike = 5550", "strike = 4450"))
    high, low = _bsm("put", 4400, -1.0, 2.0), _bsm("put", 4450, -1.0, 2.0)
    assert 0.05 < high - low < 0.05 * 50
    run = alvh(["check", path])
    assert run.code in (0, 1) and "dec-calm" in run.out
    assert [w for w in run.err.splitlines() if "market.spx_vol" in w] == [
        f"warning: {path}: market.spx_vol: the SPX smile (atm 0.122, skew -1, smile 2) prices "
        f"the 4400 put at {high:.2f}, above the 4450 put at {low:.2f}, on SPXW 2026-12-18: "
        "impossible in any market (a call is worth less at a higher strike, a put more, a "
        "vertical between 0 and its width): the model's wing is off there; its prices at "
        "these strikes are not to be traded on (position 'dec-calm')"
    ]


@pytest.mark.parametrize(("atm", "rel"), [("0.001", "less than 1/3 of"), ("1.22", "more than 3x")])
def test_an_atm_vol_far_from_vix_is_refused(tmp_path, alvh, atm, rel):
    # atm 0.001 for 0.122 priced the calm condor below zero (debit −0.0041); 1.22 is a
    # slipped digit. VIX 14.2 is the 30-day vol of SPX options: VIX/100 = 0.142
    path = _file(tmp_path, "atm = 0.122", f"atm = {atm}")
    for err in _refused(alvh, path, "check", "price"):
        assert err == (
            f"alvh: {path}: market.spx_vol.atm: {atm} is {rel} VIX/100 = 0.142 — a typo? (VIX "
            "is the 30-day implied vol of SPX options: the money's vol is near it)\n"
        )


@pytest.mark.parametrize("atm", ["0.0474", "0.426"])  # a hair inside 1/3 and 3x of 0.142
def test_an_atm_vol_within_a_factor_3_of_vix_loads(tmp_path, alvh, atm):
    path = _file(tmp_path, "atm = 0.122", f"atm = {atm}")
    assert alvh(["price", path]).code == 0


def test_a_concave_smile_is_warned_of_not_refused(tmp_path, alvh):
    # smile -20 for 2.0: at the strikes held the vols are 7.7%, 9.5% (puts) and 6.7%, 4.7%
    # (calls) against 12.2% at the money: no static bound breaks, but the condor is worth
    # 1.21 instead of 5.31 and a calm position reads as a profit take
    path = _file(tmp_path, "smile = 2.0", "smile = -20.0")
    put, call = _bsm("put", 5550, -1.0, -20.0), _bsm("call", 6150, -1.0, -20.0)
    assert put < _bsm("put", 5550, -1.0, 2.0) and call < _bsm("call", 6150, -1.0, 2.0)
    run = alvh(["check", path, "--format", "json"])
    assert run.code in (0, 1)
    assert (
        f"warning: {path}: market.spx_vol.smile: -20 bends the vols down in both wings, where "
        "SPX smiles bend up (smile > 0, e.g. 2.5): the wings are priced below the money's vol "
        "and a condor looks cheap to close — a typo of the sign?\n"
    ) in run.err
    assert "market.spx_vol.smile" not in alvh(["check", SAMPLE]).err


@pytest.mark.parametrize(("skew", "smile"), [("-0.87", "-0.9"), ("-1.0", "-0.5")])
def test_a_steep_skew_beside_a_small_negative_curvature_is_not_warned_of(
    tmp_path, alvh, skew, smile
):
    # alvh market's quadratic of a steep-skew chain (rho -0.85) came out at smile -0.9:
    # at k = -0.1 the put wing is still above the money (0.087 - 0.009 > 0), so the
    # vols do not bend down in both wings and nothing is a typo
    path = _file(tmp_path, "skew = -1.0", f"skew = {skew}")
    path.write_text(path.read_text().replace("smile = 2.0", f"smile = {smile}"))
    run = alvh(["check", path, "--format", "json"])
    assert run.code in (0, 1)
    assert "market.spx_vol.smile" not in run.err
