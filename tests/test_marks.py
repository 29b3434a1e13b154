"""The broker's marks on legs: a mark of the snapshot's day prices its leg like a quote (an
implied vol from it), after the leg's iv and quote and before the surface or smile; a mark
of another day, or without a time, is not used and says so; a model price further from the
mark than ``broker_mark_tolerance`` allows is warned about.

Expected prices are closed-form Black-Scholes (r = q = 0, so the put is
K·N(−d2) − S·N(−d1)) worked with ``math.erf`` here, not by alvh's pricer.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from builders import ASOF, EXPIRY, market

from alvh_cli.inputs.market_warnings import mark_warnings
from alvh_cli.model.domain import Leg, Quote, Smile
from alvh_cli.model.legs import value_legs
from alvh_cli.model.marks import mark_uses
from alvh_cli.model.timing import settlement_instant, year_fraction

EST = timezone(timedelta(hours=-5))
T = year_fraction(ASOF, settlement_instant("SPXW", EXPIRY))  # 24 days to Dec 18, 16:00
SAMPLE = Path(__file__).resolve().parents[1] / "sample_positions" / "put_tested_1_6x.toml"


def put(s: float, k: float, t: float, sigma: float) -> float:
    n = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    d1 = (math.log(s / k) + 0.5 * sigma * sigma * t) / (sigma * math.sqrt(t))
    return k * n(-(d1 - sigma * math.sqrt(t))) - s * n(-d1)


def leg(mark=None, when=ASOF, **kw) -> Leg:
    base = dict(underlying="SPX", root="SPXW", type="put", strike=5400.0, expiry=EXPIRY,
                quantity=-2, entry_price=6.0, key="positions[0].legs[1]", mark=mark,
                mark_time=when)  # fmt: skip
    base.update(kw)
    return Leg(**base)


def test_a_mark_of_the_day_is_the_vol_that_reprices_it():
    # the builders' market: SPX 5800, flat 15% smile; the broker marks the 5400 put at what
    # a 22% vol gives, so the leg is priced at 22%, not the smile's 15%
    price = put(5800.0, 5400.0, T, 0.22)
    v = value_legs(market(), [leg(price)])
    assert v.vol_source == ("mark",)
    assert v.vol[0] == pytest.approx(0.22, abs=1e-9)
    assert v.price[0] == pytest.approx(price, abs=1e-9)
    assert v.smile_vol[0] == pytest.approx(0.15)  # kept for the scenarios' residual


@pytest.mark.parametrize(
    "when, used",
    [
        (ASOF - timedelta(minutes=30), True),  # 15:30, before the snapshot's 16:00
        (datetime(2026, 11, 24, 20, 0, tzinfo=EST), True),  # later the same evening
        # 01:00 UTC on the 25th is 20:00 New York on the 24th: the snapshot's day
        (datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc), True),
        (datetime(2026, 11, 23, 16, 0, tzinfo=EST), False),  # the day before
        (datetime(2026, 11, 25, 9, 31, tzinfo=EST), False),  # the next morning
        (None, False),  # no time: its day is not known
    ],
)
def test_only_a_mark_of_the_snapshots_new_york_day_prices_the_leg(when, used):
    v = value_legs(market(), [leg(put(5800.0, 5400.0, T, 0.22), when)])
    assert v.vol_source == (("mark",) if used else ("smile",))


def test_iv_and_quote_come_before_the_mark_the_mark_before_the_smile():
    mark = put(5800.0, 5400.0, T, 0.22)
    quoted = market(quotes=(Quote("SPX", "put", 5400.0, EXPIRY, 9.90, 10.10),))
    legs = [leg(mark, iv=0.18), leg(mark), leg(mark, strike=5300.0), leg(None, strike=5300.0)]
    v = value_legs(quoted, legs)
    assert v.vol_source == ("iv", "quote", "mark", "smile")
    assert v.price[1] == pytest.approx(10.0, abs=1e-6)
    # a stressed market's prices are stale: no quotes, no marks
    assert value_legs(quoted, legs, use_quotes=False).vol_source == ("iv",) + ("smile",) * 3
    assert value_legs(quoted, legs, use_marks=False).vol_source == ("iv", "quote", "smile", "smile")


def test_what_became_of_each_mark():
    quoted = market(quotes=(Quote("SPX", "put", 5400.0, EXPIRY, 9.90, 10.10),))
    legs = [
        leg(4.0, strike=5300.0),  # used
        leg(11.0),  # the quote prices it
        leg(4.0, strike=5300.0, iv=0.2),  # its own iv
        leg(4.0, ASOF - timedelta(days=1), strike=5300.0),  # older
        leg(4.0, ASOF + timedelta(days=1), strike=5300.0),  # later
        leg(4.0, None, strike=5300.0),  # untimed
        leg(0.0, strike=5300.0),  # a mark of 0 (an out-of-the-money put): no vol gives it
    ]
    uses = mark_uses(quoted, legs)
    assert [u.status for u in uses] == ["mark", "quote", "iv", "older", "later", "untimed",
                                        "unusable"]  # fmt: skip
    # the model's own price: the quote's mid for the quoted leg, the smile elsewhere
    assert uses[1].model == pytest.approx(10.0, abs=1e-6) and uses[1].model_source == "quote"
    assert uses[0].model == pytest.approx(put(5800.0, 5300.0, T, 0.15), abs=1e-9)
    assert uses[0].model_source == "smile"


def test_tolerance_is_a_share_of_the_mark_and_more_than_a_tick():
    # The model's price is a quote's mid (10.00, and 0.25 for a far put): marks around it.
    q = (Quote("SPX", "put", 5400.0, EXPIRY, 9.95, 10.05),
         Quote("SPX", "put", 4800.0, EXPIRY, 0.20, 0.30))  # fmt: skip
    m = market(quotes=q)
    cases = [
        (leg(9.00), True),  # 1.00 apart: 11% of 9.00 > 10%
        (leg(9.20), False),  # 0.80 apart: 8.7% of 9.20
        (leg(0.20, strike=4800.0), False),  # 0.05 apart: 25%, but one tick (0.05 under 3.00)
        (leg(0.15, strike=4800.0), True),  # 0.10 apart: 67%, two ticks
    ]
    uses = mark_uses(m, [g for g, _ in cases])
    assert [u.disagrees(0.10) for u in uses] == [want for _, want in cases]
    assert [u.disagrees(1.0) for u in uses] == [False, False, False, False]
    (w9, w015) = mark_warnings(uses, m, 0.10, "book.toml")
    assert str(w9) == (
        "book.toml: positions[0].legs[1].mark: SPXW put 5400 2026-12-18: the broker's mark 9 "
        "and the model's 10.00 (its quote) differ by 1.00, 11% of the mark "
        "(broker_mark_tolerance 10%); its quote prices the leg"
    )
    assert "the broker's mark 0.15 and the model's 0.25 (its quote) differ by 0.10, 67%" in str(
        w015
    )


def test_a_used_mark_far_from_the_smile_is_said_with_the_smile_price():
    smile_price = put(5800.0, 5400.0, T, 0.15)
    mark = round(smile_price * 1.5, 2)
    m = market()
    (u,) = mark_uses(m, [leg(mark)])
    assert u.used and u.model == pytest.approx(smile_price, abs=1e-9)
    (w,) = mark_warnings([u], m, 0.10, "b.toml")
    assert w.key == "positions[0].legs[1].mark"
    assert w.message.endswith(f"differ by {mark - smile_price:.2f}, 33% of the mark "
                              "(broker_mark_tolerance 10%); the mark prices the leg")  # fmt: skip


def test_marks_not_used_are_warned_about_with_why():
    m = market()
    day_before = datetime(2026, 11, 23, 16, 0, tzinfo=EST)
    uses = mark_uses(m, [leg(4.0, day_before), leg(4.0, None), leg(0.0)])
    older, untimed, unusable = (w.message for w in mark_warnings(uses, m, 0.1, "b.toml"))
    assert older == (
        "SPXW put 5400 2026-12-18: the broker's mark 4 of 2026-11-23 16:00 EST is older than the "
        "snapshot (2026-11-24 16:00 EST): not used, the leg is priced from the smile"
    )
    assert "has no mark_time, so its day is not known: not used" in untimed
    assert "no volatility reproduces it, so it is not used; the leg is priced from the smile" in (
        unusable
    )
    # a far wing the broker marks at 0 and the model at a fraction of a tick: not used, and
    # nothing to warn about (the marks list still says so)
    (far,) = mark_uses(m, [leg(0.0, strike=4000.0)])
    assert far.status == "unusable" and far.within_a_tick
    assert mark_warnings([far], m, 0.1, "b.toml") == []


def test_a_vix_mark_prices_a_leg_the_market_has_no_vix_smile_for():
    # Without [market.vix_vol] a VIX option is priced by its mark, and the model has no price
    # of its own to compare it with (no warning, model NaN).
    m = market(vix_vol=None)
    hedge = Leg("VIX", "VIX", "call", 21.0, EXPIRY.replace(day=16), 6, 1.35,
                layer=1, key="positions[0].legs[4]", mark=1.40, mark_time=ASOF)  # fmt: skip
    (u,) = mark_uses(m, [hedge])
    assert u.used and math.isnan(u.model)
    assert not u.disagrees(0.0) and mark_warnings([u], m, 0.1, "b.toml") == []
    assert value_legs(m, [hedge]).price[0] == pytest.approx(1.40, abs=1e-9)


# --------------------------------------------------------------------------- commands


def _marked(tmp_path: Path, marks: dict) -> Path:
    """The 1.6x sample with ``mark``/``mark_time`` on the legs of the given strikes."""
    text = SAMPLE.read_text()
    for strike, (mark, when) in marks.items():
        extra = f"  mark = {mark}\n" + (f"  mark_time = {when}\n" if when else "")
        text = text.replace(f"strike = {strike}\n", f"strike = {strike}\n{extra}", 1)
    path = tmp_path / "marked.toml"
    path.write_text(text)
    return path


def test_price_says_which_legs_a_mark_priced(tmp_path, alvh):
    path = _marked(tmp_path, {5600: (40.0, "2026-11-24T15:40:00-05:00"),
                              6500: (0.9, "2026-11-20")})  # fmt: skip
    run = alvh(["price", path, "--format", "json"])
    assert run.code == 0, run.err
    data = json.loads(run.out)
    legs = {g["strike"]: g for g in data["legs"]}
    assert legs[5600]["vol_source"] == "mark" and legs[5600]["price"] == pytest.approx(40.0)
    assert legs[5600]["mark_time"] == "2026-11-24T15:40:00-05:00"
    assert legs[6500]["vol_source"] == "smile" and legs[6500]["mark"] == 0.9
    assert [(m["leg"], m["status"]) for m in data["marks"]] == [
        ("positions[0].legs[0]", "mark"), ("positions[0].legs[3]", "older")]  # fmt: skip
    assert "positions[0].legs[3].mark: SPXW call 6500 2026-12-18: the broker's mark 0.9 of " in (
        run.err
    )
    table = alvh(["price", path], env={"COLUMNS": "200"})
    assert (
        f"broker marks ({path}): 1 priced its leg (marked 2026-11-24 15:40 EST); "
        "positions[0].legs[3] not used: older than the snapshot"
    ) in table.out


def test_check_uses_the_marks_and_says_so(tmp_path, alvh):
    # the two puts marked at the model's own prices (price --format json), to the cent (the
    # calls, worth under a cent, are not marked): the debit to close moves by the rounding
    # alone, and no warning
    plain = json.loads(alvh(["price", SAMPLE, "--format", "json"]).out)
    prices = {int(g["strike"]): g["price"] for g in plain["legs"] if g["type"] == "put"}
    path = _marked(tmp_path, {k: (round(p, 2), "2026-11-24T15:45:00-05:00")
                              for k, p in prices.items()})  # fmt: skip
    before = json.loads(alvh(["check", SAMPLE, "--format", "json"]).out)["positions"][0]
    run = alvh(["check", path, "--format", "json"])
    data = json.loads(run.out)
    assert [m["status"] for m in data["marks"]] == ["mark"] * 2
    assert all(abs(m["difference"]) <= 0.005 + 1e-9 for m in data["marks"])
    after = data["positions"][0]
    # Σ |rounding| ≤ 2 legs × 0.005 × 5 contracts / 5 units = 0.01 points of debit
    assert after["debit_to_close"] == pytest.approx(before["debit_to_close"], abs=0.01)
    assert "broker_mark_tolerance" not in run.err
    table = alvh(["check", path], env={"COLUMNS": "200"})
    assert f"broker marks ({path}): 2 priced their legs (marked 2026-11-24 15:45 EST)" in table.out


def test_a_looser_tolerance_is_a_rule(tmp_path, alvh):
    path = _marked(tmp_path, {5600: (50.0, "2026-11-24")})
    loud = alvh(["check", path])
    assert "broker_mark_tolerance 10%" in loud.err
    rules = tmp_path / "rules.toml"
    rules.write_text("[rules]\nbroker_mark_tolerance = 1.0\n")
    quiet = alvh(["check", path, "--rules", rules])
    assert "broker_mark_tolerance" not in quiet.err
    listed = json.loads(alvh(["rules", "--format", "json"]).out)
    assert listed["broker_mark_tolerance"]["default"] == 0.1


def test_marks_that_contradict_each_other_are_refused(tmp_path, alvh):
    # the 5600/5650 put vertical is 50 wide: marks of 5 and 70 make it worth 65
    path = _marked(tmp_path, {5600: (5.0, "2026-11-24"), 5650: (70.0, "2026-11-24")})
    run = alvh(["check", path])
    assert run.code == 2
    assert run.err.strip().count("\n") == 0
    assert "the put spread 5600/5650 prices at 65.00, outside 0 to its 50-point width: " in run.err
    assert "positions[0].legs[1] (mark 70.00) vs positions[0].legs[0] (mark 5.00)" in run.err


def test_a_mark_time_without_a_mark_is_refused(tmp_path, alvh):
    path = tmp_path / "bad.toml"
    path.write_text(SAMPLE.read_text().replace("strike = 5600\n", "strike = 5600\n  "
                                                "mark_time = 2026-11-24\n", 1))  # fmt: skip
    run = alvh(["check", path])
    assert run.code == 2 and "positions[0].legs[0].mark: mark_time needs mark" in run.err


def test_smile_unchanged_for_a_file_without_marks():
    g = replace(leg(None), mark=None, mark_time=None)
    assert value_legs(market(spx_vol=Smile(0.15)), [g]).vol_source == ("smile",)
