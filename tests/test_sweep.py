"""Sweeps: grid parsing and its errors, results in grid order and bit-identical to a serial
run on joblib workers and on a Dask LocalCluster, and walk-forward choosing on train windows
only. The tasks are cheap pure functions, not the backtest."""

from __future__ import annotations

import dataclasses
import math
import time
from datetime import date, timedelta

import numpy as np
import pytest

from alvh_cli.backtest import sweep as sw
from alvh_cli.errors import InputError

KNOWN = ("dte", "delta", "wing", "profit_take")


# ------------------------------------------------------------------ cheap pure tasks


def noisy(p: dict) -> dict:
    """Floats whose every bit depends on the point: any difference would show."""
    rng = np.random.default_rng([p["a"], p["b"]])
    x = rng.standard_normal(500)
    return {"sum": float(np.sum(np.exp(x)) * p["a"] / 7), "path": np.cumsum(x), "point": p}


def late_first(p: dict) -> int:
    """Early points sleep longest, so with workers they finish last."""
    time.sleep(0.03 * (5 - p["i"] % 6))
    return p["i"] * p["i"]


def refuse(p: dict) -> int:
    if p["i"] == 3:
        raise InputError("no condor fits", "--history", "i")
    return p["i"]


# ------------------------------------------------------------------ parsing the grid


def test_parse_and_expand():
    axes = sw.parse_sweeps(["dte=30,45", " delta = 0.1, 0.16 ", "profit_take=true,false"], KNOWN)
    assert axes == {"dte": (30, 45), "delta": (0.1, 0.16), "profit_take": (True, False)}
    assert isinstance(axes["dte"][0], int) and isinstance(axes["delta"][0], float)
    grid = sw.expand_grid(axes)
    assert len(grid) == 8
    assert grid[0] == {"dte": 30, "delta": 0.1, "profit_take": True}
    assert grid[1] == {"dte": 30, "delta": 0.1, "profit_take": False}  # last key fastest
    assert grid[-1] == {"dte": 45, "delta": 0.16, "profit_take": False}
    assert sw.expand_grid({}) == [{}]


def test_converters_validate_values():
    def dte(text: str) -> int:
        v = int(text)
        if not 1 <= v <= 365:
            raise InputError(f"must be between 1 and 365, got {v}", "--entry", "dte")
        return v

    assert sw.parse_sweeps(["dte=7,14"], {"dte": dte}) == {"dte": (7, 14)}
    with pytest.raises(InputError) as err:
        sw.parse_sweeps(["dte=7,400"], {"dte": dte})
    assert str(err.value) == "sweep: dte: must be between 1 and 365, got 400"
    with pytest.raises(InputError) as err:
        sw.parse_sweeps(["dte=7,x"], {"dte": dte})
    assert str(err.value) == "sweep: dte: 'x' is not a value for 'dte'"


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["delat=0.1,0.2"], "sweep: delat: unknown sweep key 'delat' (did you mean 'delta'?)"),
        (["colour=1"], "sweep: colour: unknown sweep key 'colour'"),
        (["dte="], "sweep: dte: no values for 'dte': the grid would be empty"),
        (["dte= , "], "sweep: dte: no values for 'dte': the grid would be empty"),
        (["dte=30,,45"], "sweep: dte: an empty value in 'dte=30,,45'"),
        (["dte"], "sweep: expected key=v1,v2,... got 'dte'"),
        (["=30"], "sweep: expected key=v1,v2,... got '=30'"),
        (["dte=30", "dte=45"], "sweep: dte: 'dte' is swept twice; give all its values in one"),
        (["dte=30,30"], "sweep: dte: 'dte' lists 30 twice"),
        (["delta=0.1,nan"], "sweep: delta: 'nan' is not a value for 'delta'"),
        (["wing=abc"], "sweep: wing: 'abc' is not a value for 'wing'"),
    ],
)
def test_bad_sweeps_are_one_line(specs, message):
    with pytest.raises(InputError) as err:
        sw.parse_sweeps(specs, KNOWN)
    assert str(err.value) == message  # the parameter by its role, "sweep"
    flags = {"sweep": "--sweep"}  # the command line names it by its flag
    assert str(err.value.for_command_line(flags)) == message.replace("sweep:", "--sweep:", 1)


def test_empty_grid_is_an_error():
    with pytest.raises(InputError, match="no values for 'dte'"):
        sw.expand_grid({"dte": ()})
    with pytest.raises(InputError, match="the grid is empty"):
        sw.run_grid(noisy, [])


def test_pivot_for_a_heat_map():
    grid = sw.expand_grid({"dte": (30, 45), "delta": (0.1, 0.16, 0.2)})
    scores = [1, 2, 3, 4, 5, 6]
    xs, ys, rows = sw.pivot(grid, scores, "delta", "dte")
    assert xs == [0.1, 0.16, 0.2] and ys == [30, 45]
    assert rows == [[1, 2, 3], [4, 5, 6]]
    xs, ys, rows = sw.pivot(grid[:5], scores[:5], "delta", "dte")
    assert rows[0] == [1, 2, 3] and rows[1][:2] == [4, 5] and math.isnan(rows[1][2])


# ------------------------------------------------------------------ running


GRID = sw.expand_grid({"a": tuple(range(1, 5)), "b": tuple(range(6))})


def bits(x):
    """Every bit of a result: floats by their hex form, arrays by dtype, shape and bytes."""
    if isinstance(x, float):
        return ("float", x.hex())
    if isinstance(x, np.ndarray):
        return ("array", x.dtype.str, x.shape, x.tobytes())
    if isinstance(x, dict):
        return ("dict", tuple((k, bits(v)) for k, v in x.items()))
    if dataclasses.is_dataclass(x):
        fields = dataclasses.fields(x)
        return (type(x).__name__, tuple((f.name, bits(getattr(x, f.name))) for f in fields))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(bits(v) for v in x))
    return (type(x).__name__, x)


def same_bits(x, y) -> bool:
    return bits(x) == bits(y)


def test_same_bits_sees_one_ulp():
    a = {"s": 0.1, "p": np.array([1.0, 2.0])}
    assert same_bits([a], [{"s": 0.1, "p": np.array([1.0, 2.0])}])
    assert not same_bits([a], [{"s": np.nextafter(0.1, 1.0), "p": np.array([1.0, 2.0])}])
    assert not same_bits([a], [{"s": 0.1, "p": np.array([1.0, np.nextafter(2.0, 3.0)])}])


def test_serial_progress_and_order():
    seen = []
    out = sw.run_grid(
        late_first, [{"i": i} for i in range(6)], progress=lambda d, n: seen.append((d, n))
    )
    assert out == [0, 1, 4, 9, 16, 25]
    assert seen == [(k, 6) for k in range(1, 7)]


def test_joblib_equals_serial_bit_for_bit():
    serial = sw.run_grid(noisy, GRID, workers=1)
    seen = []
    parallel = sw.run_grid(noisy, GRID, workers=2, progress=lambda d, n: seen.append(d))
    assert same_bits(serial, parallel)
    assert [r["point"] for r in parallel] == GRID
    assert seen == list(range(1, len(GRID) + 1))


def test_joblib_keeps_grid_order_when_late_points_finish_first():
    grid = [{"i": i} for i in range(12)]
    assert sw.run_grid(late_first, grid, workers=2) == [i * i for i in range(12)]


def test_task_errors_come_back_as_themselves():
    grid = [{"i": i} for i in range(6)]
    for workers in (1, 2):
        with pytest.raises(InputError) as err:
            sw.run_grid(refuse, grid, workers=workers)
        assert str(err.value) == "--history: i: no condor fits"


def test_worker_count_and_missing_extras(monkeypatch):
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="workers must be a whole number >= 1"):
            sw.run_grid(noisy, GRID, workers=bad)
    monkeypatch.setattr(sw, "has_module", lambda name: False)
    with pytest.raises(InputError) as err:
        sw.run_grid(noisy, GRID, workers=2)
    assert "pip install 'alvh[sweep]'" in str(err.value)
    with pytest.raises(InputError) as err:
        sw.run_grid(noisy, GRID, dask_address="tcp://127.0.0.1:8786")
    assert "pip install 'alvh[dask]'" in str(err.value)
    assert sw.run_grid(noisy, GRID[:2], workers=1)  # serial needs neither


# ------------------------------------------------------------------ dask


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    c = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    yield c
    c.close()


def test_dask_equals_serial_bit_for_bit(cluster):
    serial = sw.run_grid(noisy, GRID)
    seen = []
    remote = sw.run_grid(
        noisy, GRID, dask_address=cluster.scheduler_address, progress=lambda d, n: seen.append(d)
    )
    assert same_bits(serial, remote)
    assert seen == list(range(1, len(GRID) + 1))
    grid = [{"i": i} for i in range(8)]
    assert sw.run_grid(late_first, grid, dask_address=cluster.scheduler_address) == [
        i * i for i in range(8)
    ]


def test_dask_task_error_is_itself(cluster):
    with pytest.raises(InputError) as err:
        sw.run_grid(refuse, [{"i": i} for i in range(6)], dask_address=cluster.scheduler_address)
    assert str(err.value) == "--history: i: no condor fits"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("tcp://127.0.0.1:9", "Timed out trying to connect"),
        ("nonsense://x", "unknown address scheme"),
    ],
)
def test_unreachable_dask_scheduler_is_one_line(address, reason):
    pytest.importorskip("distributed")
    with pytest.raises(InputError) as err:
        sw.run_grid(noisy, GRID, dask_address=address, dask_timeout=0.5)
    text = str(err.value)
    assert text.startswith(f"dask: {address}: cannot reach a Dask scheduler at '{address}'")
    assert reason in text and "\n" not in text


# ------------------------------------------------------------------ walk-forward


def test_windows_tile_the_history():
    first, last = date(2020, 1, 1), date(2020, 12, 31)
    ws = sw.walk_forward_windows(first, last, 180, 60)
    # first test window starts 180 days in: 2020-06-29; 60-day windows until one would pass
    # 2020-12-31: Jun 29–Aug 27, Aug 28–Oct 26, Oct 27–Dec 25
    assert [(w.test_start, w.test_end) for w in ws] == [
        (date(2020, 6, 29), date(2020, 8, 27)),
        (date(2020, 8, 28), date(2020, 10, 26)),
        (date(2020, 10, 27), date(2020, 12, 25)),
    ]
    for w in ws:
        assert (w.train_end - w.train_start).days + 1 == 180
        assert w.train_end + timedelta(days=1) == w.test_start
    anchored = sw.walk_forward_windows(first, last, 180, 60, anchored=True)
    assert all(w.train_start == first for w in anchored)
    assert [w.test_start for w in anchored] == [w.test_start for w in ws]


def test_history_too_short_for_the_window():
    with pytest.raises(InputError) as err:
        sw.walk_forward_windows(date(2020, 1, 1), date(2020, 3, 1), 60, 30)
    assert str(err.value) == (
        "walk_forward: the history 2020-01-01 to 2020-03-01 (61 days) is shorter than one "
        "training window (60 days) plus one test window (30 days)"
    )
    with pytest.raises(InputError, match=">= 1 day"):
        sw.walk_forward_windows(date(2020, 1, 1), date(2020, 3, 1), 0, 30)


def regime(p: dict) -> dict:
    """A strategy whose best x is 1 before 2020-07-01 and 3 from then on: score −(x − best)²,
    averaged over the days of the window it is run on."""
    days = (p["end"] - p["start"]).days + 1
    late = sum((p["start"] + timedelta(days=k)) >= date(2020, 7, 1) for k in range(days))
    score = -((late * (p["x"] - 3) ** 2 + (days - late) * (p["x"] - 1) ** 2) / days)
    return {"score": score, "x": p["x"], "start": p["start"], "end": p["end"]}


def test_walk_forward_chooses_on_train_and_reports_test():
    grid = sw.expand_grid({"x": (0, 1, 2, 3)})
    windows = sw.walk_forward_windows(date(2020, 1, 1), date(2020, 12, 31), 120, 60)
    objective = sw.Objective("mean score", lambda r: r["score"])
    result = sw.walk_forward(regime, grid, windows, objective)
    assert len(result.folds) == len(windows)
    for f in result.folds:
        # the choice is the brute-force best on the train window alone
        train = [
            regime({**p, "start": f.window.train_start, "end": f.window.train_end}) for p in grid
        ]
        best = max(range(len(grid)), key=lambda i: (train[i]["score"], -i))
        assert f.chosen == grid[best]
        assert f.train_score == train[best]["score"]
        # and what is reported ran on the test window
        assert (f.test_result["start"], f.test_result["end"]) == (
            f.window.test_start,
            f.window.test_end,
        )
        assert f.test_result["x"] == f.chosen["x"]
    # the fold whose test window is the first after the change (2020-07-01) still chose
    # x = 1 from its train window: a test figure chosen on the test data would be x = 3
    crossing = [
        f for f in result.folds if f.window.test_start <= date(2020, 7, 1) <= f.window.test_end
    ]
    assert crossing and crossing[0].chosen == {"x": 1}
    assert (
        crossing[0].test_score
        < regime(
            {"x": 3, "start": crossing[0].window.test_start, "end": crossing[0].window.test_end}
        )["score"]
    )


def test_walk_forward_parallel_equals_serial(cluster):
    grid = sw.expand_grid({"x": (0, 1, 2, 3)})
    windows = sw.walk_forward_windows(date(2020, 1, 1), date(2020, 12, 31), 120, 60)
    objective = sw.Objective("mean score", lambda r: r["score"])
    serial = sw.walk_forward(regime, grid, windows, objective)
    seen = []
    joblib = sw.walk_forward(
        regime, grid, windows, objective, workers=2, progress=lambda d, n: seen.append((d, n))
    )
    remote = sw.walk_forward(
        regime, grid, windows, objective, dask_address=cluster.scheduler_address
    )
    assert serial == joblib == remote
    total = len(windows) * (len(grid) + 1)
    assert seen == [(k, total) for k in range(1, total + 1)]
    assert serial.to_dict()["folds"][0]["chosen"] == {"x": 1}


def test_walk_forward_errors():
    windows = sw.walk_forward_windows(date(2020, 1, 1), date(2020, 12, 31), 120, 60)
    objective = sw.Objective("s", lambda r: r["score"])
    with pytest.raises(InputError) as err:
        sw.walk_forward(regime, [{"x": 1, "start": date(2020, 1, 1)}], windows, objective)
    assert str(err.value) == "sweep: start: walk-forward sets 'start' itself; do not sweep it"
    with pytest.raises(InputError, match="grid is empty"):
        sw.walk_forward(regime, [], windows, objective)
    with pytest.raises(InputError, match="no walk-forward window"):
        sw.walk_forward(regime, [{"x": 1}], [], objective)


def test_choose_ties_nan_and_minimise():
    assert sw.choose([1.0, 3.0, 3.0, 2.0]) == 1  # first of a tie
    assert sw.choose([math.nan, 1.0, math.nan]) == 1
    assert sw.choose([2.0, 1.0, 1.0], maximize=False) == 1
    assert sw.choose([math.nan, math.nan]) == 0


def test_a_bounded_objective_ranks_points_within_the_bound_by_pnl_then_the_rest_by_tail():
    from types import SimpleNamespace as S

    from alvh_cli.backtest.experiments import outside_bound, parse_objective

    obj = parse_objective("alvh.total_pnl@stop2x", ["hold", "stop2x", "alvh"])
    stop = S(total_pnl=1_000.0, cvar_5=-1_500.0)
    within_rich = {"stop2x": stop, "alvh": S(total_pnl=3_000.0, cvar_5=-1_400.0)}
    within_poor = {"stop2x": stop, "alvh": S(total_pnl=-500.0, cvar_5=-1_500.0)}  # at the bound
    beyond_rich = {"stop2x": stop, "alvh": S(total_pnl=9_000.0, cvar_5=-1_600.0)}
    beyond_far = {"stop2x": stop, "alvh": S(total_pnl=9_500.0, cvar_5=-2_600.0)}
    scores = [obj.score(x) for x in (within_rich, within_poor, beyond_rich, beyond_far)]
    assert scores[:2] == [3_000.0, -500.0]
    # outside: below every point within, ordered by tail, and the tail recoverable for output
    assert scores[1] > scores[2] > scores[3]
    assert outside_bound(scores[2]) == pytest.approx(-1_600.0)
    assert outside_bound(scores[0]) is None and outside_bound(scores[1]) is None
    with pytest.raises(InputError, match="after @ name another policy"):
        parse_objective("alvh.total_pnl@alvh", ["hold", "alvh"])
