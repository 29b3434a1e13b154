"""Stress episodes: named windows, worst drawdowns of a crafted price path worked by hand, a
brute-force check of the deepest fall, and the real 2018 SPX drawdown from published closes."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_cli.backtest import episodes as ep
from alvh_cli.errors import InputError
from alvh_cli.inputs.history import embedded_frame

DAY0 = date(2020, 1, 6)


def days(n: int) -> list[date]:
    return [DAY0 + timedelta(days=i) for i in range(n)]


PATH = [100, 110, 105, 99, 105, 115, 120, 100, 90, 95, 100, 125, 120, 119, 130]
# falls: 110 → 99 at 1..3 (−10 %), 120 → 90 at 6..8 (−25 %), 125 → 119 at 11..13 (−4.8 %)


def test_worst_drawdowns_of_a_crafted_path():
    d = days(len(PATH))
    found = ep.worst_drawdowns(d, PATH, k=4, pad=1, min_depth=0.05)
    assert len(found) == 2  # the −4.8 % dip is under the 5 % floor
    big, small = found
    assert (big.peak, big.trough) == (d[6], d[8])
    assert big.depth == pytest.approx(0.25)
    assert (big.start, big.end) == (d[5], d[9])  # one close of padding each side
    assert (small.peak, small.trough) == (d[1], d[3])
    assert small.depth == pytest.approx(0.10)
    assert (small.start, small.end) == (d[0], d[4])  # padding clipped at the first close
    assert big.name == "2020-01-12 to 2020-01-14 SPX -25.0%"


def test_min_depth_and_k():
    d = days(len(PATH))
    three = ep.worst_drawdowns(d, PATH, k=4, pad=1, min_depth=0.0)
    assert [e.depth for e in three] == pytest.approx([0.25, 0.10, 1 - 119 / 125])
    assert (three[2].start, three[2].end) == (d[10], d[14])
    assert len(ep.worst_drawdowns(d, PATH, k=1, pad=1)) == 1
    assert ep.worst_drawdowns(d, PATH, k=0) == ()


def test_padding_keeps_windows_apart():
    # with pad 3 the −25 % window is 3..11, which swallows the first fall's trough:
    # what is left of the left side (0..2) falls 110 → 105 = 4.5 %, under the 5 % floor
    d = days(len(PATH))
    found = ep.worst_drawdowns(d, PATH, k=4, pad=3, min_depth=0.05)
    assert [(e.start, e.end) for e in found] == [(d[3], d[11])]


def test_rising_and_short_series_have_no_drawdown():
    assert ep.worst_drawdowns(days(5), [1, 2, 3, 4, 5]) == ()
    assert ep.worst_drawdowns(days(1), [5]) == ()
    assert ep.worst_drawdowns([], []) == ()


def test_deepest_drawdown_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(20):
        px = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 60)))
        peak, trough, depth = ep.deepest_drawdown(px)
        brute = max(1 - px[j] / px[i] for i in range(60) for j in range(i, 60))
        assert depth == pytest.approx(brute)
        assert depth == pytest.approx(1 - px[trough] / px[peak])


def test_embedded_2018_drawdown_matches_published_closes():
    # S&P 500 closed at 2930.75 on 2018-09-20 (its high) and 2351.10 on 2018-12-24:
    # 1 − 2351.10/2930.75 = 19.78 %, the deepest fall of 2014–2018.
    h = embedded_frame()
    dates = [t.date() for t in h.index]
    deepest = ep.worst_drawdowns(dates, h["spx"].to_numpy(), k=4)[0]
    assert (deepest.peak, deepest.trough) == (date(2018, 9, 20), date(2018, 12, 24))
    assert deepest.depth == pytest.approx(1 - 2351.10 / 2930.75)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.5, 2.0), min_size=2, max_size=80),
    st.integers(0, 6),
    st.integers(0, 5),
)
def test_drawdown_properties(steps, k, pad):
    px = 100 * np.cumprod(steps)
    d = days(len(px))
    found = ep.worst_drawdowns(d, px, k=k, pad=pad, min_depth=0.0)
    assert len(found) <= k
    depths = [e.depth for e in found]
    assert depths == sorted(depths, reverse=True)
    spans = sorted((e.start, e.end) for e in found)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end < start  # padded windows never overlap
    for e in found:
        i, j = d.index(e.peak), d.index(e.trough)
        assert e.start <= e.peak < e.trough <= e.end
        assert px[i] == max(px[i : j + 1]) and px[j] == min(px[i : j + 1])
        assert e.depth == pytest.approx(1 - px[j] / px[i])
    if found:
        brute = max(1 - px[j] / px[i] for i in range(len(px)) for j in range(i, len(px)))
        assert found[0].depth == pytest.approx(brute)


# ------------------------------------------------------------------ named windows


def test_named_windows_in_the_embedded_period():
    got = ep.named_episodes(date(2014, 1, 3), date(2018, 12, 31))
    assert [(e.start, e.end) for e in got] == [
        (date(2015, 8, 17), date(2015, 9, 4)),
        (date(2016, 1, 4), date(2016, 2, 12)),
        (date(2018, 1, 26), date(2018, 2, 16)),
        (date(2018, 10, 1), date(2018, 12, 24)),
    ]
    assert not any(e.clipped for e in got)


def test_named_windows_clipped_to_a_shorter_history():
    got = ep.named_episodes(date(2015, 8, 20), date(2016, 1, 31))
    assert [(e.start, e.end, e.clipped) for e in got] == [
        (date(2015, 8, 20), date(2015, 9, 4), True),
        (date(2016, 1, 4), date(2016, 1, 31), True),
    ]


def test_stress_episodes_chooses_by_source():
    d = days(len(PATH))
    assert ep.stress_episodes(d, PATH, embedded=False, pad=1)[0].depth == pytest.approx(0.25)
    assert ep.stress_episodes(d, PATH, embedded=True) == ()  # 2020: no named window
    assert ep.stress_episodes([], [], embedded=False) == ()


# ------------------------------------------------------------------ curves in a window


def test_window_change():
    d = days(6)
    curve = [0.0, 10.0, 4.0, -6.0, -1.0, 20.0]
    e = ep.Episode("w", d[2], d[4])
    assert ep.window_change(d, curve, e) == -11.0  # −1 at d4 less 10 at d1
    first = ep.Episode("w", d[0] - timedelta(days=9), d[1])
    assert ep.window_change(d, curve, first) == 10.0  # from the 0 before the history
    gap = ep.Episode("w", d[5] + timedelta(days=1), d[5] + timedelta(days=3))
    assert np.isnan(ep.window_change(d, curve, gap))


def test_episode_as_dict():
    e = ep.worst_drawdowns(days(len(PATH)), PATH, k=1, pad=1)[0]
    assert e.to_dict() == {
        "name": e.name,
        "start": "2020-01-11",
        "end": "2020-01-15",
        "peak": "2020-01-12",
        "trough": "2020-01-14",
        "depth": pytest.approx(0.25),
    }


@pytest.mark.parametrize(
    ("prices", "kwargs", "text"),
    [
        ([1.0, 2.0], {}, "3 dates but 2 prices"),
        ([1.0, 0.0, 2.0], {}, "finite and > 0"),
        ([1.0, 2.0, 3.0], {"k": -1}, "k >= 0"),
        ([1.0, 2.0, 3.0], {"min_depth": 1.0}, "min_depth < 1"),
    ],
)
def test_bad_input(prices, kwargs, text):
    with pytest.raises(InputError) as err:
        ep.worst_drawdowns(days(3), prices, **kwargs)
    assert text in str(err.value)
