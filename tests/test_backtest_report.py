"""What the backtest reads from a run — attribution, bootstrap intervals, the cost row, the
stress windows — and the runs of many backtests: sweeps equal to serial runs bit for bit on
joblib workers and on a Dask cluster, walk-forward choosing on train windows only, and the
command's one-line errors.

Hand-worked numbers come from the ten-day history of test_backtest (closed-form prices in
its comments).
"""

from __future__ import annotations

import json
import math
import sys
from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from test_backtest import (
    FLAT,
    TINY,
    black,
    close_of,
    command,
    tiny_history,
    write_tiny_csv,
    years,
)
from test_sweep import same_bits

from alvh_cli import cli
from alvh_cli.backtest import analysis as an
from alvh_cli.backtest import defaults
from alvh_cli.backtest import experiments as ex
from alvh_cli.backtest.defaults import DEFAULT_POLICIES
from alvh_cli.backtest.params import make_params
from alvh_cli.backtest.policies import POLICIES
from alvh_cli.backtest.simulation import run_backtest
from alvh_cli.inputs.history import embedded_frame
from alvh_cli.model.rules import Rules

# The condor of both tiny entries (SPX 2000, VIX 15, 4 days, flat vol): put and call credits.
T0 = years(close_of("2015-01-05"), close_of("2015-01-09"))
PUT_CREDIT = black(False, 2000, 1970, T0, 0.15) - black(False, 2000, 1920, T0, 0.15)  # 2.7426
CALL_CREDIT = black(True, 2000, 2030, T0, 0.15) - black(True, 2000, 2080, T0, 0.15)  # 2.8421


@pytest.fixture(scope="module")
def tiny():
    return run_backtest(tiny_history(), Rules(), make_params(FLAT))


def test_attribution_of_a_settled_condor_by_hand(tiny):
    # Trade B held to expiry, SPX 1955 at settlement: the put spread pays 1970 − 1955 = 15.
    # Put side (2.7426 − 15)·100 = −1,225.74; call side 2.8421·100 = +284.21; together
    # −941.53, the trade's P&L. Nothing else earned anything.
    r = {(t.policy, t.id): t.to_dict() for t in tiny.trades}
    hold = r[("hold", "ic-2015-01-12")]
    assert hold["pnl_condor_put"] == pytest.approx((PUT_CREDIT - 15.0) * 100, abs=1e-6)
    assert hold["pnl_condor_call"] == pytest.approx(CALL_CREDIT * 100, abs=1e-6)
    assert (
        round(hold["pnl_condor_put"], 2) == -1225.74 and round(hold["pnl_condor_call"], 2) == 284.21
    )
    assert hold["pnl_condor_put"] + hold["pnl_condor_call"] == pytest.approx(hold["pnl"], abs=1e-9)
    # stop2x closes B on Wednesday (SPX 1965, VIX 21, two days left): each side is its
    # credit less its closing debit by the closed form.
    t = years(close_of("2015-01-14"), close_of("2015-01-16"))
    put_debit = black(False, 1965, 1970, t, 0.21) - black(False, 1965, 1920, t, 0.21)
    call_debit = black(True, 1965, 2030, t, 0.21) - black(True, 1965, 2080, t, 0.21)
    stop = r[("stop2x", "ic-2015-01-12")]
    assert stop["pnl_condor_put"] == pytest.approx((PUT_CREDIT - put_debit) * 100, abs=1e-6)
    assert stop["pnl_condor_call"] == pytest.approx((CALL_CREDIT - call_debit) * 100, abs=1e-6)
    for row in tiny.trades:
        parts = row.attribution
        assert parts["vix"] == parts["synthetic_put"] == parts["roll_call"] == 0.0
    table = an.attribution(tiny)["hold"]
    assert table["condor"]["put"] == pytest.approx(
        sum(r[("hold", e)]["pnl_condor_put"] for e in ("ic-2015-01-05", "ic-2015-01-12"))
    )
    assert table["total"]["total"] == pytest.approx(tiny.summary["hold"].total_pnl)


def test_attribution_adds_up_on_every_trade_and_day():
    """On the embedded data, with every kind of adjustment in it: each trade's parts add up
    to its P&L, each policy's category curves to its equity curve."""
    r = run_backtest(embedded_frame(), Rules(), make_params({"end": "2016-12-31"}), POLICIES)
    an.check_attribution(r)
    frac = r.summary["alvh_frac"]
    assert frac.rolls > 0 and frac.conversions > 0  # rolled verticals and synthetics
    # VIX layers: at γ 1 with adjustments only at Layer 3 the hedges win (none at γ 0.05)
    hedged = run_backtest(
        embedded_frame(),
        Rules(risk_aversion=1.0, adjust_from_layer=3),
        make_params({"end": "2015-12-31"}),
        ("hold", "alvh"),
    )
    an.check_attribution(hedged)
    assert hedged.summary["alvh"].hedges > 0
    assert any(abs(row.attribution["vix"]) > 0 for row in hedged.trades_of("alvh"))
    table = an.attribution(r)
    for p in r.policies:
        assert table[p]["total"]["total"] == pytest.approx(r.summary[p].total_pnl, abs=1e-6)
        rows = [v for k, v in table[p].items() if k != "total"]
        for row in rows:
            assert row["put"] + row["call"] == pytest.approx(row["total"], abs=1e-9)


def test_bootstrap_of_a_crafted_paired_series_by_hand():
    # 24 weekly trades: hold earns x_i, alvh earns x_i + 10 on every trade. Every resample
    # draws the same blocks for both, so alvh − hold is exactly 24·10 = 240 in total and
    # exactly 10 in CVaR (the same trades are the worst), in every replicate: the interval
    # is [240, 240] and [10, 10]. Weekly entries give blocks of 30.44 / 7 → 4 trades.
    x = np.random.default_rng(5).normal(50, 400, 24)
    entries = [SimpleNamespace(opened=date(2016, 1, 4) + timedelta(weeks=k)) for k in range(24)]
    pnl = {"hold": x, "alvh": x + 10.0, "stop3x": x - 5.0}
    fake = SimpleNamespace(
        policies=("hold", "stop3x", "alvh"), entries=entries, pnl=lambda p: pnl[p]
    )
    b = an.bootstrap(fake, seed=3, resamples=2000)
    assert b.block_length == 4 and b.n == 24 and b.seed == 3
    assert set(b.contrasts) == {"alvh - hold", "alvh - stop3x"}
    d = b.contrasts["alvh - hold"]
    assert (d["total"].low, d["total"].high) == pytest.approx((240.0, 240.0), abs=1e-9)
    assert (d["cvar"].low, d["cvar"].high) == pytest.approx((10.0, 10.0), abs=1e-9)
    assert b.contrasts["alvh - stop3x"]["total"].estimate == pytest.approx(360.0)
    assert b.intervals["hold"]["total"].estimate == pytest.approx(x.sum())
    again = an.bootstrap(fake, seed=3, resamples=2000)
    assert same_bits(b.to_dict(), again.to_dict())  # seeded: reproducible


def test_command_bootstrap_two_trades(tmp_path, capsys):
    # Two trades and blocks of 4 capped at 2: the only block is the whole series, so every
    # resample is the series itself and each interval is the point estimate.
    entry = [",".join(f"{k}={v}" for k, v in FLAT.items())]
    command([write_tiny_csv(tmp_path / "t.csv")], entry=entry, fmt="json", sensitivity="none")
    data = json.loads(capsys.readouterr().out)
    boot = data["bootstrap"]
    assert boot["block_length"] == 2 and boot["n"] == 2 and boot["resamples"] == 10000
    hold = boot["series"]["hold"]["total"]
    assert hold["low"] == hold["high"] == pytest.approx(data["policies"]["hold"]["total_pnl"])
    assert boot["contrasts"]["alvh - hold"]["total"]["estimate"] == pytest.approx(0.0)
    assert "attribution" in data and data["attribution"]["hold"]["condor"]["call"] > 0


def test_cost_row_by_hand(tmp_path, capsys):
    # Flat half-spread h = 0.10 on every SPX leg. Entry: four legs 0.10 against us, the credit
    # falls by 0.40 a condor. Trade A is taken at the Wednesday profit take with every leg
    # worth ~0: the shorts are bought back at 0 + h, the longs sold at max(0 − h, 0) = 0, so
    # 2h more. Trade B settles at expiry, free. Hold's total with spreads × m is therefore
    # the spread-free total less (4 + 2 + 4)·0.10·m·100 = 100·m dollars.
    entry = [",".join(f"{k}={v}" for k, v in FLAT.items()), "spx_half_spread=0.1"]
    history = write_tiny_csv(tmp_path / "t.csv")
    report = command([history], entry=entry, fmt="json", workers=1, policies="hold,stop2x")
    capsys.readouterr()
    free = (CALL_CREDIT + PUT_CREDIT) * 100 * 2 - 15.0 * 100
    row = report.cost_row
    assert sorted(row) == [0.5, 1.0, 2.0]
    for m in (0.5, 1.0, 2.0):
        assert row[m]["hold"] == pytest.approx(free - 100.0 * m, abs=1e-6)
    # (the stops need not fall monotonically: a smaller credit moves the 2x line)
    assert all(math.isfinite(row[m]["stop2x"]) for m in row)


def test_episodes_of_a_user_history_are_its_worst_drawdowns(tiny):
    # Not the embedded data: the windows are SPX's deepest falls in the period traded. The
    # tiny history falls 2000 → 1500 (−25%) from 01-05 to 01-06; padded by 5 closes the
    # window is 01-05 to 01-13 (the history starts at its peak). What is left, 1965 → 1955,
    # is under the 5% floor. SPX over the window: 2000 → 1975 (−1.25%), VIX high 40.
    rows = an.episode_table(tiny)
    assert [(r.episode.start, r.episode.end, r.episode.peak, r.episode.trough) for r in rows] == [
        (date(2015, 1, 5), date(2015, 1, 13), date(2015, 1, 5), date(2015, 1, 6))
    ]
    (row,) = rows
    assert row.vix_high == 40.0
    assert row.spx_change == pytest.approx(1975 / 2000 - 1)
    for p in tiny.policies:  # from before the first close: the curve's value on 01-13
        assert row.pnl[p] == pytest.approx(tiny.equity[p][6])
        assert row.vix_layers[p] == 0.0


def test_named_episodes_on_the_embedded_data():
    r = run_backtest(
        embedded_frame(), Rules(), make_params({"end": "2016-03-31"}), ("hold", "alvh")
    )
    rows = an.episode_table(r)
    assert [x.episode.name for x in rows] == [
        "Aug 2015 devaluation selloff",
        "Jan-Feb 2016 selloff",
    ]
    aug = rows[0]
    # SPX 2015-08-14 close 2091.54 → 2015-09-04 close 1921.22: −8.1%; VIX high 40.74 (08-24)
    assert aug.spx_change == pytest.approx(1921.22 / 2091.54 - 1, abs=1e-4)
    assert aug.vix_high == 40.74
    assert aug.vix_layers["hold"] == 0.0


# ------------------------------------------------------------------ sweeps


@pytest.fixture(scope="module")
def short_history():
    return embedded_frame()


POINTS = [{"delta": d, "layer1_budget_share": s} for d in (0.12, 0.16) for s in (0.3, 0.5)]
BASE = make_params({"end": "2015-04-30"})


def test_sweep_equals_serial_runs_bit_for_bit_on_joblib(short_history):
    pytest.importorskip("joblib")
    policies = ("hold", "stop3x", "alvh")
    alone = [ex.backtest_point(short_history, Rules(), BASE, policies, p) for p in POINTS]
    # the same as a run of its own: a sweep point is the backtest at those values
    params, rules = ex.split_point(POINTS[1], BASE, Rules())
    own = run_backtest(short_history, rules, params, policies)
    assert same_bits(alone[1], own.summary)
    assert rules.layer1_budget_share == 0.5 and params.delta == 0.12
    parallel = ex.run_sweep(short_history, Rules(), BASE, policies, POINTS, workers=2)
    assert same_bits(alone, parallel)


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    yield c
    c.close()


def test_sweep_on_a_dask_cluster_equals_serial(short_history, cluster):
    policies = ("hold", "alvh")
    serial = ex.run_sweep(short_history, Rules(), BASE, policies, POINTS[:2])
    remote = ex.run_sweep(
        short_history, Rules(), BASE, policies, POINTS[:2], dask_address=cluster.scheduler_address
    )
    assert same_bits(serial, remote)


def test_walk_forward_chooses_on_train_reports_test(short_history):
    base = make_params({"end": "2015-12-31", "dte": 14})
    grid = [{"delta": 0.10}, {"delta": 0.20}]
    policies = ("hold", "stop2x")
    objective = ex.parse_objective("hold.total_pnl", policies)
    wf = ex.walk_forward(short_history, Rules(), base, policies, grid, objective, 90, 45)
    folds = wf.result.folds
    assert len(folds) >= 5
    for f in folds:
        w = f.window
        assert w.train_end < w.test_start and (w.test_end - w.test_start).days == 44
        train = [
            ex.backtest_point(
                short_history,
                Rules(),
                base,
                policies,
                {**p, "start": w.train_start, "end": w.train_end},
            )["hold"].total_pnl
            for p in grid
        ]
        assert f.chosen == grid[int(np.argmax(train))] and f.train_score == max(train)
        test = ex.backtest_point(
            short_history,
            Rules(),
            base,
            policies,
            {**f.chosen, "start": w.test_start, "end": w.test_end},
        )
        assert same_bits(test, f.test_result)
    assert wf.pooled["hold"] == pytest.approx(sum(f.test_result["hold"].total_pnl for f in folds))


def test_model_sensitivity_rows(tmp_path, capsys):
    entry = [",".join(f"{k}={v}" for k, v in FLAT.items())]
    report = command(
        [write_tiny_csv(tmp_path / "t.csv")], entry=entry, sensitivity="model", workers=1
    )
    out = capsys.readouterr().out
    labels = [label for label, _, _ in report.sensitivity]
    assert labels[0] == "as run" and "first build's model and costs" in labels
    assert any(x.startswith("kappa 2.5") for x in labels) and any("x0.5" in x for x in labels)
    first = report.sensitivity[0][2]
    assert first["hold_total"] == pytest.approx(report.result.summary["hold"].total_pnl)
    assert "How the headline figures move" in out


# ------------------------------------------------------------------ the command's errors


def run(args, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["alvh", "backtest", *map(str, args)])
    cli._state["debug"] = False
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--sweep", "detla=0.1,0.2"],
            "alvh: --sweep: detla: unknown sweep key 'detla' (did you mean 'delta'?)",
        ),
        (
            ["--sweep", "delta="],
            "alvh: --sweep: delta: no values for 'delta': the grid would be empty",
        ),
        (
            ["--sweep", "delta=0.1,0.9"],
            "alvh: --sweep: delta: must be between 0.01 and 0.49, got 0.9",
        ),
        (
            ["--sweep", "layer1_multiple=1.5,9"],
            "alvh: --sweep: layer1_multiple: layer1_multiple (9) must not exceed "
            "layer2_multiple (2)",
        ),
        (
            ["--walk-forward"],
            "alvh: --walk-forward: --walk-forward chooses among a grid: give it --sweep key=v1,v2",
        ),
        (
            ["--sweep", "delta=0.1,0.2", "--trades", "x.csv"],
            "alvh: --trades: --trades writes one run's trades, not a sweep's",
        ),
        (
            ["--sensitivity", "all"],
            "alvh: --sensitivity: must be one of costs, model, none, got 'all'",
        ),
        (
            ["--objective", "alvh.total_pnl"],
            "alvh: --walk-forward: --objective is what --walk-forward maximises; "
            "add --walk-forward",
        ),
    ],
)
def test_bad_backtest_options_are_one_line(args, message, capsys, monkeypatch):
    code, out, err = run(args, capsys, monkeypatch)
    assert code == 2 and out == ""
    assert err.strip() == message


def test_history_too_short_for_the_walk_forward_window(tmp_path, capsys, monkeypatch):
    history = write_tiny_csv(tmp_path / "t.csv")
    entry = ",".join(f"{k}={v}" for k, v in FLAT.items())
    code, out, err = run(
        ["--history", history, "--entry", entry, "--sweep", "delta=0.1,0.16", "--walk-forward"],
        capsys,
        monkeypatch,
    )
    assert code == 2 and out == ""
    assert err.strip() == (
        "alvh: --walk-forward: the history 2015-01-05 to 2015-01-16 (12 days) is shorter than "
        "one training window (730 days) plus one test window (182 days)"
    )
    code, _, err = run(
        ["--history", history, "--entry", entry, "--sweep", "delta=0.1", "--walk-forward",
         "--test-days", "10"],
        capsys,
        monkeypatch,
    )  # fmt: skip
    assert code == 2
    assert err.strip() == (
        "alvh: --walk-forward: a test window of 10 days cannot hold a 4-day condor: make it "
        "much longer than the holding period (e.g. 182)"
    )


def test_unreachable_dask_address_is_one_line(capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(defaults, "DASK_TIMEOUT", 0.5)
    code, out, err = run(
        ["--sweep", "delta=0.1,0.16", "--dask", "tcp://127.0.0.1:9"], capsys, monkeypatch
    )
    assert code == 2 and out == ""
    assert err.startswith("alvh: --dask: tcp://127.0.0.1:9: cannot reach a Dask scheduler at ")
    assert err.count("\n") == 1


def test_sweep_command_table_and_json(tmp_path, capsys, monkeypatch):
    history = write_tiny_csv(tmp_path / "t.csv")
    entry = ",".join(f"{k}={v}" for k, v in FLAT.items())
    code, out, err = run(
        ["--history", history, "--entry", entry, "--sweep", "delta=0.1,0.16", "--workers", "1",
         "--format", "json"],
        capsys,
        monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert [p["point"] for p in data["points"]] == [{"delta": 0.1}, {"delta": 0.16}]
    assert set(data["points"][0]["policies"]) == set(DEFAULT_POLICIES)
    code, out, err = run(
        ["--history", history, "--entry", entry, "--sweep", "delta=0.1,0.16", "--workers", "1"],
        capsys,
        monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    assert "Sweep: 2 points" in out and "Every point is in-sample" in out
    # a row per point: the swept value, then each policy's total P&L as the JSON gave it,
    # to the dollar
    for point in data["points"]:
        row = next(line for line in out.splitlines() if f" {point['point']['delta']} " in line)
        cells = [float(c.replace(",", "").replace("−", "-")) for c in row.split()]
        for k, policy in enumerate(DEFAULT_POLICIES, start=1):
            assert cells[k] == pytest.approx(point["policies"][policy]["total_pnl"], abs=0.5)
    assert len(TINY) == 10
