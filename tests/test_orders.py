"""Every recommendation as orders a broker accepts: the tickets in check's JSON.

Hand examples work each limit from the legs' assumed fills and the Cboe ticks
(SPX complex 0.05; VIX options complex 0.01): a debit rounds down, a credit up.
The sample run is checked against invariants an order must meet whatever the
market: one venue per order, every leg the method trades listed with its whole
size, the limit on the tick within one tick of the fills in the trader's
favour, and ``cost`` equal to the limits' dollars.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest
from builders import condor, contango_market, market, vix_spread
from test_check import EPS, MKT, run
from test_layer3 import by_name, evaluate, quote

from alvh_cli.method.orders import orders_of
from alvh_cli.model.contracts import parse_osi

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_positions").glob("*.toml"))
TICK = {"SPX": 0.05, "VIX": 0.01}  # complex orders; single legs below


def sample_json(alvh, monkeypatch) -> dict:
    monkeypatch.chdir(ROOT)
    r = alvh(["check", "--format", "json", *SAMPLES])
    assert r.code in (0, 1), r.err
    return json.loads(r.out)


def signed(leg: dict) -> int:
    return leg["quantity"] if leg["action"][0] == "B" else -leg["quantity"]


def contract(g: dict) -> tuple:
    return (g["underlying"], g["root"], g["type"], g["strike"], g["expiry"])


def check_order(o: dict) -> None:
    """What makes an order one a broker accepts, worked independently of the code."""
    legs = o["legs"]
    assert len({g["underlying"] for g in legs}) == 1  # SPX and VIX never together
    assert o["underlying"] == legs[0]["underlying"]
    if any(g["type"] == "future" for g in legs):
        assert len(legs) == 1
    for g in legs:
        assert g["quantity"] == g["ratio"] * o["quantity"]
        assert g["action"] in ("BTO", "STO", "BTC", "STC")
        if g["type"] != "future":
            assert parse_osi(g["occ"]) == (g["root"], g["type"], g["strike"], _date(g["expiry"]))
    # the net per unit of the legs' assumed fills: + paid
    net = sum((g["ratio"] if g["action"][0] == "B" else -g["ratio"]) * g["price"] for g in legs)
    assert o["fill_value"] == pytest.approx(abs(net), abs=1e-7)  # JSON keeps 10 digits
    assert o["price_effect"] == ("debit" if net >= 0 else "credit")
    tick = o["tick"]
    if len(legs) > 1:
        assert tick == TICK[o["underlying"]]
    cents = round(o["limit"] * 100)
    assert abs(o["limit"] * 100 - cents) < 1e-6 and cents % round(tick * 100) == 0
    # within one tick of the fills, on the trader's side
    gap = (
        o["fill_value"] - o["limit"]
        if o["price_effect"] == "debit"
        else o["limit"] - o["fill_value"]
    )
    assert -1e-7 <= gap < tick
    sign = 1 if o["price_effect"] == "debit" else -1
    if legs[0]["type"] == "future":
        assert o["cost"] == 0.0  # a future pays no premium: entered at its price, settled daily
    else:
        assert o["cost"] == pytest.approx(sign * o["limit"] * o["quantity"] * 100, abs=0.005)
    assert o["limit_text"] == f"{o['price_effect']} {o['limit']:.2f}"


def _date(text):
    from datetime import date

    return date.fromisoformat(text)


def check_recommendation(rec: dict) -> None:
    if rec["action"] == "hold":
        assert rec["orders"] == []
        return
    assert rec["orders"]
    for o in rec["orders"]:
        check_order(o)
    # every leg the method trades is on a ticket, with its whole (net) size
    wanted, placed = Counter(), Counter()
    for g in rec["legs"]:
        wanted[contract(g)] += g["quantity"]
    for o in rec["orders"]:
        for g in o["legs"]:
            placed[contract(g)] += signed(g)
    assert +wanted == +placed and -wanted == -placed
    assert rec["cost"] == pytest.approx(sum(o["cost"] for o in rec["orders"]), abs=0.01)
    # the limits never pay more than the fills the figures assume
    assert rec["cost"] <= rec["cost_at_fills"] + 0.01


def test_every_sample_recommendation_is_a_ticket(alvh, monkeypatch):
    data = sample_json(alvh, monkeypatch)
    seen = set()
    for p in data["positions"]:
        for rec in p["recommendations"]:
            check_recommendation(rec)
            seen.add(rec["action"])
    # the samples' action types, each with a ticket above (a hedge's ticket: the tests of
    # open_hedge below, the samples at the default risk aversion open none)
    assert {"take_profit", "close_vertical", "hold"} <= seen
    assert "legend" in data and "cost_at_fills" in data["legend"]


def test_a_hedge_bought_is_one_vix_order_at_a_debit_on_the_vix_tick():
    # Layer 1 at 1.5x with Layer 3 adjustments only at Layer 3 and γ 1 (the spreads win)
    row = run(condor(), MKT, 1.5 + EPS, adjust_from_layer=3, risk_aversion=1.0)
    recs = [r for r in row["recommendations"] if r["action"] == "open_hedge"]
    assert recs
    for rec in recs:
        check_recommendation(rec)
        (o,) = rec["orders"]
        assert o["underlying"] == "VIX" and o["price_effect"] == "debit"
        assert o["quantity"] == rec["quantity"] and o["tick"] in (0.01, 0.05)


def test_breached_sample_closes_its_put_vertical_at_a_rounded_debit(alvh, monkeypatch):
    data = sample_json(alvh, monkeypatch)
    (p,) = [p for p in data["positions"] if p["id"] == "dec-breached"]
    (rec,) = p["recommendations"]
    (o,) = rec["orders"]
    # buy 10 of the short 5650 put at model + 0.10, sell 10 of the long 5550 put at
    # model − 0.10 (no quotes in the sample): the net per unit, by hand from the legs
    buy, sell = (next(g for g in rec["legs"] if g["strike"] == k) for k in (5650, 5550))
    net = buy["price"] - sell["price"]
    assert buy["price"] == pytest.approx(buy["model"] + 0.10)
    assert [(g["action"], g["quantity"], g["occ"]) for g in o["legs"]] == [
        ("BTC", 10, "SPXW  261218P05650000"),
        ("STC", 10, "SPXW  261218P05550000"),
    ]
    # a debit down to the SPX complex tick (0.05)
    assert o["limit"] == pytest.approx(math.floor(net / 0.05 + 1e-9) * 0.05)
    assert o["limit_text"] == "debit 39.30" and o["quantity"] == 10
    assert rec["cost"] == pytest.approx(39300.0)
    assert rec["cost_at_fills"] == pytest.approx(net * 1000, abs=0.01)


def test_take_profit_with_hedges_is_an_spx_order_and_a_vix_order():
    hedged = condor(hedges=vix_spread(22, 27, 5, 1.0, 0.4, layer=1))
    (rec,) = run(hedged, MKT, 0.4)["recommendations"]
    assert rec["action"] == "take_profit"
    check_recommendation(rec)
    spx, vix = rec["orders"]
    assert (spx["underlying"], spx["quantity"]) == ("SPX", 10)
    assert [g["action"] for g in spx["legs"]] == ["STC", "BTC", "BTC", "STC"]
    assert (vix["underlying"], vix["quantity"]) == ("VIX", 5)
    assert [(g["action"], g["strike"]) for g in vix["legs"]] == [("STC", 22), ("BTC", 27)]
    assert vix["price_effect"] == "credit" and vix["tick"] == 0.01


def test_unwind_closes_both_hedge_legs_for_a_credit():
    # in contango, where the unwind beats holding (test_check)
    hedged = condor(hedges=vix_spread(22, 27, 5, 1.6, 0.4, layer=1, entry_vix=22.0))
    (rec,) = run(hedged, contango_market(), 1.2 - EPS)["recommendations"]
    assert rec["action"] == "close_hedge"
    check_recommendation(rec)
    (o,) = rec["orders"]
    assert [(g["action"], g["quantity"], g["occ"]) for g in o["legs"]] == [
        ("STC", 5, "VIX   270120C00022000"),
        ("BTC", 5, "VIX   270120C00027000"),
    ]
    # sell the 22 call at model − 0.05, buy the 27 at model + 0.05 (unquoted): the
    # credit rounds up to the cent
    long_, short = (next(g for g in rec["legs"] if g["strike"] == k) for k in (22, 27))
    credit = (long_["model"] - 0.05) - (short["model"] + 0.05)
    assert o["limit"] == pytest.approx(math.ceil(credit * 100 - 1e-6) / 100)


def test_hedge_roll_is_one_vix_order_closing_and_opening():
    from datetime import date

    hedged = condor(hedges=vix_spread(22, 27, 5, 1.0, 0.4, layer=1, expiry=date(2026, 12, 16)))
    row = run(hedged, contango_market(), 1.3, hedge_roll_days=30)
    (rec,) = [r for r in row["recommendations"] if r["action"] == "roll"]
    check_recommendation(rec)
    (o,) = rec["orders"]
    assert o["quantity"] == 5
    assert [(g["action"], g["expiry"], g["strike"]) for g in o["legs"]] == [
        ("STC", "2026-12-16", 22),
        ("BTC", "2026-12-16", 27),
        ("BTO", "2027-01-20", 22),
        ("STO", "2027-01-20", 27),
    ]


def test_layer3_tickets_by_hand():
    # test_layer3's narrow breached condor: quotes 0.10 wide, fills at the natural price.
    ic = condor((5450, 5500, 6100, 6150), units=10, credit=10.0)
    q = (quote("put", 5450, 15.0), quote("put", 5500, 40.0), quote("call", 5500, 20.0),
         quote("call", 6100, 0.60), quote("call", 6150, 0.10))  # fmt: skip
    res, pv = evaluate(ic, market(spx=5480.0, quotes=q), [5300.0, 5700.0])
    held = pv.position.legs
    # close the put vertical: buy 5500 at 40.05, sell 5450 at 14.95: debit 25.10 × 10
    (o,) = orders_of(by_name(res, "close put vertical").trades, held)
    assert [(g.action, g.strike) for g in o.legs] == [("BTC", 5500), ("STC", 5450)]
    assert (o.limit_text, o.quantity, o.cost) == ("debit 25.10", 10, pytest.approx(25100.0))
    # close everything: + 6100 call at 0.65, − 6150 call at 0.05: 25.10 + 0.60 = 25.70
    (o,) = orders_of(by_name(res, "close position").trades, held)
    assert [g.action for g in o.legs] == ["STC", "BTC", "BTC", "STC"]
    assert (o.limit_text, o.quantity) == ("debit 25.70", 10)
    # one conversion: buy the 5500 put at 40.05 (it closes one of the 10 short: BTC) and
    # sell the 5500 call at 19.95 (opens: STO): 20.10 paid
    (o,) = orders_of(by_name(res, "conversion 1").trades, held)
    assert [(g.action, g.type, g.quantity) for g in o.legs] == [
        ("BTC", "put", 1),
        ("STO", "call", 1),
    ]
    assert o.limit_text == "debit 20.10" and o.cost == pytest.approx(2010.0)


def test_reversal_ticket_is_a_credit_by_hand():
    # Call side: a reversal buys the short 6100 call and sells the 6100 put. With the put
    # quoted 63.50/63.60 and the call 12.00/12.10, it is sell 63.50, buy 12.10: 51.40
    # received per unit, on the 0.05 grid already. Shifted by a cent (63.53 bid) the credit
    # 51.43 rounds up to 51.45.
    ic = condor((5350, 5400, 6100, 6150), units=1, credit=3.0)
    for bid, limit in ((63.50, "credit 51.40"), (63.53, "credit 51.45")):
        from alvh_cli.method.actions import TradeLeg
        from alvh_cli.model.domain import Leg

        put = Leg("SPX", "SPXW", "put", 6100, ic.expiry, -1, 0.0, layer=3)
        call = Leg("SPX", "SPXW", "call", 6100, ic.expiry, 1, 0.0, layer=3)
        trades = (TradeLeg(call, 1, True, 12.05, 12.10, True), TradeLeg(put, -1, True, bid, bid))
        (o,) = orders_of(trades, ic.legs)
        assert [(g.action, g.type) for g in o.legs] == [("BTC", "call"), ("STO", "put")]
        assert o.limit_text == limit and o.price_effect == "credit" and o.limit > 0


def test_readme_cron_mail_reads_the_orders(tmp_path, alvh, monkeypatch):
    """The README's daily-review script: its jq program over the samples' review JSON gives
    the mail the README shows (run with jq when installed; the same fields read in Python
    always, so CI needs no jq)."""
    import re
    import shutil
    import subprocess

    readme = (ROOT / "README.md").read_text()
    program = re.search(r"todo\(\) \{\n  jq -r '(.*?)' /tmp/alvh-review\.json\n\}", readme, re.S)
    shown = re.search(
        r"On the samples the mail starts:\n\n<!-- generated: cron-mail -->\n```\n(.*?)```",
        readme,
        re.S,
    )
    assert program and shown
    monkeypatch.chdir(ROOT)
    r = alvh(["review", "sample_positions", "--no-journal", "--format", "json"])
    assert r.code in (0, 1), r.err
    text = r.out
    data = json.loads(text)
    mail = []
    for rec in data["recommendations"]:
        if rec["action"] != "hold" or rec["attention"]:
            mark = " !" if rec["attention"] else ""
            mail.append(f"{rec['id']}  {rec['action']}{mark}  {rec['reason']}")
            mail += [f"    {o['underlying']}: {o['ticket']}" for o in rec["orders"]]
    expected = shown.group(1).splitlines()
    assert mail[: len(expected)] == expected
    if shutil.which("jq"):
        (tmp_path / "review.json").write_text(text)
        out = subprocess.run(
            ["jq", "-r", program.group(1), str(tmp_path / "review.json")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out.splitlines() == mail
