"""Moving-block bootstrap: intervals checked against closed forms.

Independent truths used below:
- a constant series resamples to itself, so every interval has zero width;
- with block length 1 the bootstrap total of a ±1 series with p̂ = 1/2 is 2·Binomial(n, ½) − n,
  whose quantiles come from scipy's binomial distribution;
- with n = k·b the MBB mean is the average of k block means drawn uniformly from the
  n − b + 1 overlapping blocks, so its variance is Var(block means)/k (Künsch 1989), computed
  here by a plain loop over the blocks;
- paired resampling: y = x + c gives total(y*) − total(x*) = n·c on every replicate.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from alvh_cli.backtest import bootstrap as bs
from alvh_cli.errors import InputError

# ------------------------------------------------------------------ statistics by hand


def test_max_drawdown_by_hand():
    # cumulative: 1, -1, 2, -3, -2; running peak (from 0): 1, 1, 2, 2, 2 → falls 0, 2, 0, 5, 4
    assert bs.max_drawdown(np.array([1.0, -2.0, 3.0, -5.0, 1.0])) == 5.0
    # a first loss is a drawdown from the starting 0
    assert bs.max_drawdown(np.array([-3.0, 1.0])) == 3.0
    assert bs.max_drawdown(np.array([1.0, 2.0, 3.0])) == 0.0


def test_cvar_by_hand():
    x = np.arange(1.0, 21.0)  # 1..20
    assert bs.cvar(x, 0.05) == 1.0  # ⌈0.05·20⌉ = 1 worst value
    assert bs.cvar(x, 0.10) == 1.5  # worst 2: (1 + 2)/2
    assert bs.cvar(x, 0.11) == 2.0  # ⌈2.2⌉ = 3 worst: (1 + 2 + 3)/3
    assert bs.cvar(np.array([5.0]), 0.05) == 5.0


def test_indices_are_moving_blocks():
    # starts 3 and 0 with b = 3, n = 5: positions 3,4,5 then 0,1,2 cut to five
    idx = bs.indices_from_starts(np.array([[3, 0]]), 5, 3)
    assert idx.tolist() == [[3, 4, 5, 0, 1]]


def test_resample_indices_stay_in_range():
    rng = np.random.default_rng(1)
    idx = bs.resample_indices(10, 4, 500, rng)
    assert idx.shape == (500, 10)
    assert idx.min() == 0 and idx.max() == 9
    # every block of 4 is 4 consecutive positions
    blocks = idx[:, :8].reshape(500, 2, 4)
    assert (np.diff(blocks, axis=-1) == 1).all()


# ------------------------------------------------------------------ known intervals


def test_constant_series_has_zero_width_intervals():
    result = bs.block_bootstrap({"a": [0.25] * 40, "b": [-1.0] * 40}, 4, n_resamples=500)
    a, b = result.intervals["a"], result.intervals["b"]
    for iv in (*a.values(), *b.values()):
        assert iv.low == iv.estimate == iv.high
        assert iv.se == 0.0
    assert a["total"].estimate == pytest.approx(10.0)
    assert a["max_drawdown"].estimate == 0.0
    assert b["max_drawdown"].estimate == 40.0  # steady losses: the whole curve is a drawdown
    assert b["cvar"].estimate == -1.0


def test_iid_signs_match_the_binomial_interval():
    # n = 400 values, 200 of +1 and 200 of −1, block length 1: total* = 2·Bin(400, ½) − 400.
    n = 400
    x = np.array([1.0, -1.0] * (n // 2))
    result = bs.block_bootstrap({"x": x}, 1, n_resamples=40_000, seed=7, statistics=["total"])
    iv = result.intervals["x"]["total"]
    low = 2 * sps.binom.ppf(0.025, n, 0.5) - n  # −40
    high = 2 * sps.binom.ppf(0.975, n, 0.5) - n  # +40 (normal: ±1.96·√400 = ±39.2)
    # the bootstrap quantile's Monte Carlo error is ~0.4 here; totals move in steps of 2
    assert iv.low == pytest.approx(low, abs=2.0)
    assert iv.high == pytest.approx(high, abs=2.0)
    assert iv.se == pytest.approx(np.sqrt(n), rel=0.02)  # sd of 2·Bin(n, ½) is √n


def test_iid_mean_standard_error_is_sigma_over_root_n():
    # Efron's bootstrap: Var*(mean*) = σ̂²/n with σ̂² the variance with divisor n.
    x = np.random.default_rng(3).standard_normal(150) * 50 + 10
    result = bs.block_bootstrap({"x": x}, 1, n_resamples=40_000, seed=1, statistics=["mean"])
    assert result.intervals["x"]["mean"].se == pytest.approx(x.std() / np.sqrt(150), rel=0.02)


def test_block_mean_variance_matches_kunsch():
    # n = k·b: mean* is the mean of k i.i.d. draws of the n − b + 1 block means.
    rng = np.random.default_rng(11)
    x = np.cumsum(rng.standard_normal(120)) + rng.standard_normal(120)  # strongly dependent
    b, k = 6, 20
    block_means = [sum(x[i : i + b]) / b for i in range(len(x) - b + 1)]
    expected_se = np.sqrt(np.var(block_means) / k)
    result = bs.block_bootstrap({"x": x}, b, n_resamples=40_000, seed=5, statistics=["mean"])
    assert result.intervals["x"]["mean"].se == pytest.approx(expected_se, rel=0.02)
    # and the i.i.d. bootstrap would be far off on this series: blocks matter
    iid = bs.block_bootstrap({"x": x}, 1, n_resamples=5_000, seed=5, statistics=["mean"])
    assert iid.intervals["x"]["mean"].se < 0.6 * expected_se


def test_clear_positive_mean_excludes_zero():
    x = np.random.default_rng(2).normal(1.0, 1.0, 200)
    result = bs.block_bootstrap({"x": x}, 4, n_resamples=5_000, seed=0)
    assert result.intervals["x"]["mean"].low > 0
    assert result.intervals["x"]["total"].low > 0


def test_percentile_interval_of_a_two_point_series():
    # x = (0, 1), b = 1: total* is 0, 1, 2 with probabilities ¼, ½, ¼. At 40 % confidence
    # the interval is the 30 % and 70 % quantiles, which both fall among the 1s.
    result = bs.block_bootstrap(
        {"x": [0.0, 1.0]}, 1, n_resamples=20_000, seed=4, confidence=0.4, statistics=["total"]
    )
    iv = result.intervals["x"]["total"]
    assert iv.low == 1.0 and iv.high == 1.0


# ------------------------------------------------------------------ pairing, seeds


def test_paired_difference_of_identical_series_is_exactly_zero():
    x = np.random.default_rng(9).normal(0, 100, 120)
    result = bs.block_bootstrap(
        {"alvh": x, "hold": x.copy()}, 4, n_resamples=2_000, contrasts=[("alvh", "hold")]
    )
    for iv in result.contrasts["alvh - hold"].values():
        assert iv.estimate == iv.low == iv.high == 0.0


def test_paired_resampling_uses_the_same_blocks():
    # y = x + 3 on every trade: total(y*) − total(x*) = 3n exactly on the same blocks,
    # while unpaired resampling would spread it by ~√2·sd(total*).
    x = np.random.default_rng(10).normal(0, 100, 100)
    result = bs.block_bootstrap(
        {"x": x, "y": x + 3.0}, 5, n_resamples=2_000, contrasts=[("y", "x")]
    )
    iv = result.contrasts["y - x"]["total"]
    assert iv.low == pytest.approx(300.0, abs=1e-8)
    assert iv.high == pytest.approx(300.0, abs=1e-8)
    assert result.contrasts["y - x"]["mean"].estimate == pytest.approx(3.0)


def test_same_seed_same_intervals_other_seed_differs():
    x = np.random.default_rng(0).normal(0, 1, 80)
    one = bs.block_bootstrap({"x": x}, 4, n_resamples=3_000, seed=42)
    two = bs.block_bootstrap({"x": x}, 4, n_resamples=3_000, seed=42)
    other = bs.block_bootstrap({"x": x}, 4, n_resamples=3_000, seed=43)
    assert one == two
    assert one.intervals["x"]["total"] != other.intervals["x"]["total"]


def test_chunking_does_not_change_results(monkeypatch):
    x = np.random.default_rng(0).normal(0, 1, 60)
    whole = bs.block_bootstrap({"x": x}, 3, n_resamples=1_000, seed=8)
    monkeypatch.setattr(bs, "_CHUNK", 7)
    chunked = bs.block_bootstrap({"x": x}, 3, n_resamples=1_000, seed=8)
    for s in bs.STATISTICS:
        a, b = whole.intervals["x"][s], chunked.intervals["x"][s]
        assert a.low == pytest.approx(b.low, rel=1e-12, abs=1e-12)
        assert a.high == pytest.approx(b.high, rel=1e-12, abs=1e-12)


def test_to_dict_shape():
    result = bs.block_bootstrap(
        {"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]}, 1, n_resamples=10, contrasts=[("a", "b")]
    )
    d = result.to_dict()
    assert d["block_length"] == 1 and d["resamples"] == 10 and d["seed"] == 0
    assert set(d["series"]["a"]) == set(bs.STATISTICS)
    assert set(d["contrasts"]["a - b"]["total"]) == {"estimate", "low", "high", "se"}


def test_month_block_length():
    weekly = [date(2016, 1, 4) + timedelta(weeks=i) for i in range(30)]
    assert bs.month_block_length(weekly) == 4  # 30.44 / 7 = 4.35
    daily = [date(2016, 1, 4) + timedelta(days=i) for i in range(30)]
    assert bs.month_block_length(daily) == 30
    assert bs.month_block_length(weekly[:1]) == 1


# ------------------------------------------------------------------ properties


finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(finite, min_size=2, max_size=40), st.data())
def test_interval_properties(values, data):
    x = np.array(values)
    b = data.draw(st.integers(1, len(x)))
    scale = data.draw(st.floats(0.1, 10.0))
    r = bs.block_bootstrap({"x": x, "y": x * scale}, b, n_resamples=200, seed=3)
    ix, iy = r.intervals["x"], r.intervals["y"]
    for iv in ix.values():
        assert iv.low <= iv.high
    # CVaR ≤ mean on every replicate, so on every quantile
    assert ix["cvar"].low <= ix["mean"].low + 1e-9 * (1 + abs(ix["mean"].low))
    assert ix["cvar"].high <= ix["mean"].high + 1e-9 * (1 + abs(ix["mean"].high))
    assert ix["max_drawdown"].low >= 0
    # positive scaling commutes with every statistic (same blocks, same seed)
    for s in bs.STATISTICS:
        assert iy[s].low == pytest.approx(scale * ix[s].low, rel=1e-9, abs=1e-6)
        assert iy[s].high == pytest.approx(scale * ix[s].high, rel=1e-9, abs=1e-6)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "key", "text"),
    [
        ({"series": {}}, "series", "no series"),
        ({"series": {"a": []}}, "series", "no trades"),
        ({"series": {"a": [1.0], "b": [1.0, 2.0]}}, "series", "a 1, b 2"),
        ({"series": {"a": [1.0, float("nan")]}}, "a", "finite"),
        ({"block_length": 0}, "block_length", "between 1 and the series length 3"),
        ({"block_length": 4}, "block_length", "got 4"),
        ({"block_length": 1.5}, "block_length", "whole number"),
        ({"n_resamples": 0}, "n_resamples", ">= 1"),
        ({"confidence": 1.0}, "confidence", "between 0 and 1"),
        ({"cvar_level": 0.0}, "cvar_level", "(0, 1]"),
        ({"statistics": ["sharpe"]}, "statistics", "unknown statistic 'sharpe'"),
        ({"contrasts": [("a", "hold")]}, "contrasts", "'hold', which is not a series"),
    ],
)
def test_bad_input_is_one_input_error(kwargs, key, text):
    args = {"series": {"a": [1.0, 2.0, 3.0]}, "block_length": 1, **kwargs}
    series, b = args.pop("series"), args.pop("block_length")
    with pytest.raises(InputError) as err:
        bs.block_bootstrap(series, b, **args)
    assert err.value.key == key
    assert text in str(err.value)
    assert "\n" not in str(err.value)
