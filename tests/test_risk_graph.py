"""Risk graphs: the P&L curves against hand-worked payoffs, and the plot command.

sample_positions/calm.toml, worked by hand: 4 lots of the Dec 18 condor, long put
5500 @ 16.20, short put 5550 @ 19.55, short call 6150 @ 10.15, long call 6200 @ 4.65.
Credit 3.35 + 5.50 = 8.85 a unit, 4 units × 100 = $3,540 at most; the wings are
50 wide, so at most (50 − 8.85) × 400 = $16,460 lost. At expiry, per unit:
  SPX 5530: the short put is 20 in the money, the long put out: 8.85 − 20 = −11.15 → −$4,460;
  SPX 5900: every leg out of the money: +8.85 → +$3,540;
  SPX 6180: the short call 30 in, the long call out: 8.85 − 30 = −21.15 → −$8,460.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from alvh_cli.inputs.book import load_book
from alvh_cli.method.actions import Action
from alvh_cli.method.risk_graph import breakevens, risk_graphs

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_positions"
CALM = SAMPLES / "calm.toml"
HAND = {5530.0: -4460.0, 5900.0: 3540.0, 6180.0: -8460.0}  # SPX at expiry → P&L $, above

matplotlib = pytest.importorskip("matplotlib")


HEDGING = Path(__file__).parent / "fixtures" / "hedging_rules.toml"


def _graph(path, **kw):
    (graph,) = risk_graphs(load_book([path]), **kw)
    return graph


def test_png_exists_and_its_expiry_line_is_the_hand_payoff(tmp_path, alvh):
    out = tmp_path / "calm.png"
    code, _, err = alvh(["plot", CALM, "-o", out])
    assert code == 0, err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The line drawn is the curve: read its points back from the figure.
    import matplotlib.pyplot as plt

    from alvh_cli.output.plots import figure

    fig = figure(_graph(CALM))
    try:
        (line,) = [ln for ln in fig.axes[0].lines if ln.get_label() == "expiry 2026-12-18, as held"]
        x, y = line.get_xdata(), line.get_ydata()
    finally:
        plt.close(fig)
    # the payoff is linear between strikes and every strike is a grid point: interpolation
    # between grid points is exact
    for spot, pnl in HAND.items():
        assert float(np.interp(spot, x, y)) == pytest.approx(pnl, abs=1e-6), spot
    assert y.max() == pytest.approx(3540.0, abs=1e-6)
    assert y.min() == pytest.approx(-16460.0, abs=1e-6)


def test_breakevens_at_expiry_are_the_short_strikes_less_or_plus_the_credit():
    g = _graph(CALM)
    # 5550 − 8.85 and 6150 + 8.85
    assert g.breakevens == pytest.approx((5541.15, 6158.85), abs=1e-6)
    assert g.shorts == (("short put", 5550.0), ("short call", 6150.0))
    assert g.curves[-1].changed is None and g.change == ()  # calm holds


def test_today_at_spot_is_the_mark_alvh_price_reports(alvh):
    """T+0 at today's SPX is the P&L of today's marks, as alvh price computes it."""
    for name in ("calm.toml", "put_tested_1_6x.toml", "layer1_on.toml"):
        g = _graph(SAMPLES / name)
        code, out, _ = alvh(["price", SAMPLES / name, "--format", "json"])
        (p,) = json.loads(out)["positions"]
        today = g.curves[0]
        at_spot = float(today.held[np.searchsorted(g.spx, g.spot)])
        assert at_spot == pytest.approx(p["pnl"], abs=0.01), name


def test_a_vix_hedge_adds_its_payoff_in_a_crash():
    """put_tested_1_6x under tests/fixtures/hedging_rules.toml (hedges at Layer 1, γ 1):
    check buys VIX calls (alone or in spreads) and perhaps VX/VXM futures. At the condor's
    expiry a call expiring before it has settled on the VIX the SPX level implies, V: it
    pays q × max(V − K, 0) × 100. A future still running is, on the one-factor curve,
    F + (V − VIX)·e^(−κ(τ − h)) + (VIX − F)·ρ, ρ = e^(−κτ)(e^(κh) − 1)/(1 − e^(−κτ)), τ its
    tenor today and h the years to the condor's expiry, worth q × multiplier × (F_h − fill).
    The change adds those, less what the calls cost at their fills and the fees ($1 a
    contract)."""
    import math

    from alvh_cli.model.timing import settlement_instant, year_fraction

    (lf,) = load_book([SAMPLES / "put_tested_1_6x.toml"], rules=HEDGING)
    (g,) = risk_graphs([lf])
    assert g.change and {r.action for r in g.change} == {Action.OPEN_HEDGE}
    trades = [t for r in g.change for t in r.trades]
    calls = [t for t in trades if t.leg.type == "call"]
    futures = [t for t in trades if t.leg.type == "future"]
    assert calls and all(t.leg.expiry < date(2026, 12, 18) for t in calls)
    paid = sum(t.price * t.quantity * 100 for t in calls)
    fees = sum(abs(t.quantity) for t in trades) * 1.00
    assert g.fees == pytest.approx(fees)
    market = lf.market
    h = year_fraction(market.asof, settlement_instant("SPXW", date(2026, 12, 18)))
    kappa = 5.0
    expiry = g.curves[-1]
    for i in (0, np.searchsorted(g.spx, g.spot)):
        v = g.vix[i]
        calls_pay = sum(t.quantity * max(v - t.leg.strike, 0.0) * 100 for t in calls)
        futures_pay = 0.0
        for t in futures:
            f = t.model  # the future today
            tau = year_fraction(market.asof, settlement_instant("VIX", t.leg.expiry))
            rho = math.exp(-kappa * tau) * math.expm1(kappa * h) / -math.expm1(-kappa * tau)
            f_h = max(
                f + (v - market.vix) * math.exp(-kappa * (tau - h)) + (market.vix - f) * rho,
                0.01,
            )
            futures_pay += t.quantity * t.leg.multiplier * (f_h - t.price)
        want = calls_pay + futures_pay - paid - fees
        assert expiry.changed[i] - expiry.held[i] == pytest.approx(want, abs=1e-6), i
    assert g.vix[0] > max(t.leg.strike for t in calls)  # the lowest SPX: every call pays


def test_closing_everything_leaves_a_flat_line():
    (g,) = [
        x for x in risk_graphs(load_book([SAMPLES / "book.toml"])) if x.position_id == "dec-wide"
    ]
    assert [r.action for r in g.change] == [Action.TAKE_PROFIT]
    for curve in g.curves:
        assert np.ptp(curve.changed) == pytest.approx(0.0, abs=1e-6), curve.label


def test_breakevens_interpolate_between_grid_points():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    assert breakevens(x, np.array([-1.0, 1.0, 1.0, -3.0, -3.0])) == (0.5, 2.25)
    assert breakevens(x, np.array([-1.0, 0.0, 0.0, 2.0, 2.0])) == (1.0,)
    assert breakevens(x, np.ones(5)) == ()


def test_the_middle_curve_is_at_the_date_given():
    g = _graph(CALM, day=date(2026, 12, 1))
    assert [c.label for c in g.curves] == ["today", "2026-12-01", "expiry 2026-12-18"]
    # time decay of a short condor: at today's SPX the date pays more than today, expiry more
    i = np.searchsorted(g.spx, g.spot)
    assert g.curves[0].held[i] < g.curves[1].held[i] < g.curves[2].held[i]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2026-11-24"], "--date: 2026-11-24 is not between asof 2026-11-24"),
        (["--date", "2026-12-19"], "--date: 2026-12-19 is not between"),
        (["--date", "Dec 1"], "--date: must be a date YYYY-MM-DD"),
        (["--position", "nope"], "--position: no position 'nope' (positions: dec-calm)"),
        (["-o", "calm.svg"], "--output: must be a .png file"),
    ],
)
def test_bad_options_are_one_line(args, message, alvh, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = alvh(["plot", CALM, *args])
    assert (code, out) == (2, "")
    assert err.startswith(f"alvh: {message}"), err
    assert len(err.strip().splitlines()) == 1


def test_one_png_per_position_needs_a_position(alvh, tmp_path):
    code, _, err = alvh(["plot", SAMPLES / "book.toml", "-o", tmp_path / "book.png"])
    assert code == 2
    assert "holds 3 positions (dec-wide, jan-ic, dec-tight): choose one with --position" in err
    code, _, err = alvh(
        ["plot", SAMPLES / "book.toml", "-p", "jan-ic", "-o", tmp_path / "book.png"]
    )
    assert code == 0, err
    assert (tmp_path / "book.png").is_file()


def test_check_plot_writes_one_png_per_position(alvh, tmp_path):
    folder = tmp_path / "graphs"
    code, out, err = alvh(["check", SAMPLES / "book.toml", SAMPLES / "calm.toml",
                           "--plot", folder, "--format", "json"])  # fmt: skip
    assert code == 1, err
    json.loads(out)  # stdout is the JSON alone
    assert sorted(p.name for p in folder.iterdir()) == [
        "book-dec-tight.png",
        "book-dec-wide.png",
        "book-jan-ic.png",
        "calm-dec-calm.png",
    ]


@pytest.mark.parametrize(
    ("args", "flag", "message"),
    [
        (["plot", CALM, "-o", "x.png"], "HAS_MATPLOTLIB", "--output: needs matplotlib"),
        (["plot", CALM], "HAS_PLOTEXT", "plot: needs plotext"),
        (["check", CALM, "--plot", "graphs"], "HAS_MATPLOTLIB", "--plot: needs matplotlib"),
    ],
)
def test_a_missing_extra_stops_before_any_work(args, flag, message, alvh, monkeypatch, tmp_path):
    from alvh_cli import compat
    from alvh_cli.inputs import book

    def never(*a, **k):
        raise AssertionError("loaded the book before checking the extra")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(compat, flag, False)
    monkeypatch.setattr(book, "load_book", never)
    monkeypatch.setattr(book, "load_book_tolerant", never)
    code, out, err = alvh(args)
    assert (code, out) == (2, "")
    assert err == f"alvh: {message}: pip install 'alvh[plot]'\n"
    assert not list(tmp_path.iterdir())


def test_terminal_drawing_names_its_marks(alvh):
    pytest.importorskip("plotext")
    code, out, err = alvh(["plot", SAMPLES / "put_tested_1_6x.toml"], env={"COLUMNS": "100"})
    assert code == 0, err
    assert "\x1b[" not in out  # not a terminal: no colour codes
    assert "Breakevens at expiry: as held 5,641 / 6,459; with the change" in out
    assert "short put 5650, short call 6450" in out
    # the change drawn is check's decision, named with its first trade
    data = json.loads(alvh(["check", SAMPLES / "put_tested_1_6x.toml", "--format", "json"]).out)
    (rec,) = data["positions"][0]["recommendations"][:1]
    assert f"Change: {rec['action']} " in out
    assert max(len(line) for line in out.splitlines()) <= 100
