"""Technical indicators of the regime signals: pure functions over pandas Series.

``rsi_wilder``, ``macd``, ``bearish_cross``, ``vix_spike``, ``term_inversion``,
``ad_divergence``.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd


def rsi_wilder(close: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's Relative Strength Index, 0-100, aligned with ``close``.

    Changes d_t = close_t − close_{t−1}; gains max(d, 0), losses max(−d, 0).
    The first average gain/loss is the simple mean of the first ``period``
    changes (so the first RSI is at position ``period``, the 15th close for
    14); after that Wilder's smoothing avg_t = (avg_{t−1}·(n−1) + x_t)/n.
    RSI = 100 − 100/(1 + avg_gain/avg_loss); 100 when avg_loss is 0 and
    avg_gain > 0, 50 when both are 0 (a flat series). NaN before position
    ``period``.
    """
    close = pd.Series(close, dtype=float)
    out = pd.Series(np.nan, index=close.index, dtype=float)
    if period < 1 or len(close) <= period:
        return out
    delta = close.diff().to_numpy()[1:]
    gains, losses = np.clip(delta, 0, None), np.clip(-delta, 0, None)

    def smooth(x: np.ndarray) -> np.ndarray:
        # ewm(alpha=1/n, adjust=False) is exactly y_t = ((n-1)·y_{t-1} + x_t)/n,
        # seeded here with the simple mean of the first n changes.
        seeded = np.concatenate(([x[:period].mean()], x[period:]))
        return pd.Series(seeded).ewm(alpha=1.0 / period, adjust=False).mean().to_numpy()

    avg_gain, avg_loss = smooth(gains), smooth(losses)
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    rsi = np.where(avg_loss == 0, np.where(avg_gain == 0, 50.0, 100.0), rsi)
    out.iloc[period:] = rsi
    return out


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """MACD line, signal line and histogram (columns ``macd``, ``signal``, ``hist``).

    EMA with alpha = 2/(span + 1), ``adjust=False``: y_0 = x_0 (seeded with
    the first value, not with a simple average as some charting sites do, so
    the first ~``slow`` values differ from theirs and converge after),
    y_t = alpha·x_t + (1 − alpha)·y_{t−1}. macd = EMA_fast − EMA_slow;
    signal = EMA_signal(macd), seeded with the first macd value;
    hist = macd − signal.
    """
    close = pd.Series(close, dtype=float)

    def ema(x: pd.Series, span: int) -> pd.Series:
        return x.ewm(alpha=2.0 / (span + 1), adjust=False).mean()

    line = ema(close, fast) - ema(close, slow)
    sig = ema(line, signal)
    return pd.DataFrame({"macd": line, "signal": sig, "hist": line - sig}, index=close.index)


def bearish_cross(macd_df: pd.DataFrame, within: int) -> Hashable | None:
    """The index label (session) of a bearish MACD cross within the last ``within`` sessions.

    None when there is none.

    A bearish cross on session t: macd_{t−1} ≥ signal_{t−1} and
    macd_t < signal_t. It counts when t is one of the last ``within`` rows
    and the MACD is still below its signal on the last row (a cross that has
    already been undone by a bullish one is not a signal). Returns the most
    recent such session.
    """
    hist = macd_df["hist"].to_numpy()
    n = len(hist)
    if n < 2 or within < 1 or not hist[-1] < 0:
        return None
    for t in range(n - 1, max(n - within, 1) - 1, -1):
        if hist[t - 1] >= 0 > hist[t]:
            return macd_df.index[t]
    return None


def vix_spike(vix: pd.Series, window: int = 10, pct: float = 0.20) -> tuple[bool, float, float]:
    """(active, last VIX / mean − 1, mean): last VIX ≥ mean·(1 + pct).

    The mean is over the ``window`` closes *before* the last one (today is
    excluded, so a spike does not dilute its own baseline). Needs
    ``window + 1`` rows.
    """
    if len(vix) < window + 1:
        raise ValueError(f"needs {window + 1} sessions")
    mean = float(vix.iloc[-window - 1 : -1].mean())
    last = float(vix.iloc[-1])
    return last >= mean * (1.0 + pct), last / mean - 1.0, mean


def term_inversion(vix: float, longer: float) -> tuple[bool, float]:
    """(VIX ≥ longer-dated level, VIX/longer): backwardation of the VIX curve."""
    return vix >= longer, vix / longer


def ad_divergence(
    spx: pd.Series, advances: pd.Series, declines: pd.Series, lookback: int = 20
) -> tuple[bool, bool, float, float]:
    """(active, spx_at_high, A/D line today, A/D line high) over the last ``lookback`` rows.

    Active when SPX closes at its highest close of the last ``lookback``
    sessions (today included; ties count) while the cumulative A/D line
    (running sum of advances − declines) is below its own high over the same
    sessions. The line is summed from the start of the window: a constant
    offset does not change the comparison.
    """
    if len(spx) < lookback:
        raise ValueError(f"needs {lookback} sessions")
    s = spx.iloc[-lookback:]
    line = (advances.iloc[-lookback:] - declines.iloc[-lookback:]).cumsum()
    at_high = bool(s.iloc[-1] >= s.max())
    return (
        at_high and bool(line.iloc[-1] < line.max()),
        at_high,
        float(line.iloc[-1]),
        float(line.max()),
    )
