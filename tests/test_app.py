"""Each command is one library call (``alvh_cli.app``) with plain values, returning a typed
result: what the command line prints is built from it, nothing else."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pytest
from chain_builders import chain_rows, write_cboe
from conftest import PINNED_NOW

from alvh_cli.app.check import CheckRun, check
from alvh_cli.app.importer import ImportRun, import_exports
from alvh_cli.app.market import MarketRun, market
from alvh_cli.app.plot import PlotRun, plot
from alvh_cli.app.price import PriceRun, price
from alvh_cli.app.review import ReviewRun, review
from alvh_cli.app.rules import rules
from alvh_cli.app.schema import schema
from alvh_cli.app.signals import calibrate, signals
from alvh_cli.app.size_hedge import SizeHedgeRun, size_hedge
from alvh_cli.errors import InputError
from alvh_cli.method.actions import Action
from alvh_cli.model.rules import Rules

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_positions"
BROKERS = ROOT / "tests" / "fixtures" / "brokers"


def test_check_returns_the_typed_result_and_its_exit_status():
    run = check([SAMPLES / "calm.toml", SAMPLES / "put_tested_1_6x.toml"], now=PINNED_NOW)
    assert isinstance(run, CheckRun) and not run.errors and not run.warnings
    calm, tested = run.result.positions
    assert calm.recommendations[0].action == Action.HOLD and not calm.needs_action
    assert tested.layer == 1 and tested.recommendations[0].action != Action.HOLD
    assert tested.recommendations[0].orders  # the orders ride on the recommendation
    assert run.exit_status == 1


def test_check_reports_a_bad_file_and_checks_the_rest(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[market]\nspx = 5,850\n")
    run = check([SAMPLES / "calm.toml", bad], now=PINNED_NOW)
    assert [pc.position.id for pc in run.result.positions] == ["dec-calm"]
    assert [e.source for e in run.errors] == [str(bad)] and run.exit_status == 2


def test_review_without_a_journal():
    run = review([SAMPLES], journal_path=None, now=PINNED_NOW)
    assert isinstance(run, ReviewRun) and run.review_id is None and run.changes is None
    layers = [r.check.layer for r in run.review.rows]
    assert layers == sorted(layers, reverse=True)  # most urgent first
    assert run.review.totals.positions == len(run.review.rows) == 9
    assert run.exit_status == 1


def test_review_with_a_journal_records_and_compares(tmp_path):
    path = tmp_path / "j.sqlite"
    first = review([SAMPLES], journal_path=path, now=PINNED_NOW)
    again = review([SAMPLES], journal_path=path, changes=True, now=PINNED_NOW)
    assert (first.review_id, again.review_id, again.since.id) == (1, 2, 1)
    assert again.changes == []


def test_size_hedge_plans_the_layer_and_names_a_bad_option_by_its_role():
    run = size_hedge(SAMPLES / "put_tested_1_6x.toml", now=PINNED_NOW)
    assert isinstance(run, SizeHedgeRun)
    (pc,) = run.checks
    assert pc.hedge_plan is not None and pc.hedge_plan.layer == 1
    with pytest.raises(InputError) as err:
        size_hedge(SAMPLES / "put_tested_1_6x.toml", vix_expiry="2026-12-17")
    assert err.value.option == "vix_expiry" and str(err.value).startswith("vix_expiry: ")


def test_price_values_every_position():
    run = price([SAMPLES / "book.toml"], now=PINNED_NOW)
    assert isinstance(run, PriceRun) and len(run.values) == 3
    for pv in run.values:
        assert math.isclose(pv.mark_multiple, pv.debit_to_close / pv.position.credit)


def test_plot_draws_each_position():
    pytest.importorskip("plotext")
    run = plot(SAMPLES / "put_tested_1_6x.toml", day=date(2026, 12, 4), now=PINNED_NOW)
    assert isinstance(run, PlotRun) and [g.position_id for g in run.graphs] == ["dec-1"]


def test_market_from_a_chain(tmp_path):
    chain = tmp_path / "chain.csv"
    write_cboe(chain, chain_rows())
    run = market([chain], vix=18.2)
    assert isinstance(run, MarketRun) and run.market.vix == 18.2
    assert run.market.spx_surface is not None and run.text.startswith("# Market snapshot")


def test_import_writes_the_position_file(tmp_path):
    out = tmp_path / "book.toml"
    run = import_exports([BROKERS / "generic_osi.csv"], output=out, market=BROKERS / "market.toml")
    assert isinstance(run, ImportRun) and run.error is None and out.is_file()
    assert run.exit_status in (0, 1) and run.result.grouping.positions


def test_signals_and_calibrate_from_a_history(tmp_path):
    history = tmp_path / "h.csv"
    lines = ["date,spx,vix"] + [
        f"2026-{m:02d}-{d:02d},{5000 + d},{18 + d % 3}"
        for m in (9, 10)
        for d in range(1, 29)
        if date(2026, m, d).weekday() < 5
    ]
    history.write_text("\n".join(lines) + "\n")
    report = signals([history])
    assert report.history_asof == date(2026, 10, 28)
    fit = calibrate([history])
    assert "vix_beta" in fit


def test_rules_and_schema():
    assert rules() == Rules()
    assert rules([SAMPLES / "calm.toml"]).layer1_multiple == Rules().layer1_multiple
    doc = schema()
    assert doc["type"] == "object" and "positions" in doc["properties"]


@pytest.mark.parametrize(("last", "warned"), [(5939.5 * 1.02, False), (5939.5 * 0.95, True)])
def test_a_history_far_from_the_snapshot_is_said(tmp_path, last, warned):
    """calm.toml's SPX is 5,939.50 on 2026-11-24: a history ending at 2% from it is the same
    market; at 5% (the day's close on another index, or a stale file) it is warned about."""
    history = tmp_path / "h.csv"
    days = [d for d in (date(2026, 9, 1) + timedelta(n) for n in range(85)) if d.weekday() < 5]
    rows = [f"{d},{last},{18}" for d in days if d <= date(2026, 11, 24)]
    history.write_text("date,spx,vix\n" + "\n".join(rows) + "\n")
    run = check([SAMPLES / "calm.toml"], history=[history], now=PINNED_NOW)
    said = [w for w in run.warnings if "history's last close" in w.message]
    assert bool(said) is warned
    if warned:
        assert said[0].key == "market.spx" and "-4.8%" not in said[0].message
        assert f"{(5939.5 / last - 1):+.1%}" in said[0].message


def test_apply_writes_the_fill_and_returns_what_it_did(tmp_path):
    from alvh_cli.app.apply import ApplyRun, apply
    from alvh_cli.inputs.positions import load_file

    path = tmp_path / "dec.toml"
    path.write_text((SAMPLES / "put_breached_3x.toml").read_text())
    run = check([path], now=PINNED_NOW)
    (rec,) = run.result.positions[0].recommendations
    (order,) = rec.orders
    done = apply(path, position="dec-breached", fill=order.limit, now=PINNED_NOW)
    assert isinstance(done, ApplyRun) and done.action == rec.action.value
    assert done.fill == order.limit and done.slippage == 0.0
    assert Path(done.backup).is_file() and done.execution_id is None  # no journal given
    # the file now holds what the fill left: the tested vertical's legs closed
    closed = load_file(path).positions[0].closed
    assert {g.strike for g in closed} == {g.leg.strike for g in rec.trades}
    assert done.realised == pytest.approx(
        sum((g.exit_price - g.entry_price) * g.quantity * g.multiplier for g in closed)
    )


def test_backtest_returns_its_report():
    from alvh_cli.app.backtest import BacktestRun, backtest

    run = backtest(policies="hold,stop2x", end="2015-03-31", sensitivity="none", resamples=200)
    assert isinstance(run, BacktestRun) and run.report is not None
    s = run.report.result.summary
    assert set(s) == {"hold", "stop2x"} and s["hold"].trades == s["stop2x"].trades > 5
    assert run.exit_status == 0
