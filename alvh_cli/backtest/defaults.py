"""The defaults of a backtest run beyond its parameters (``params.PARAMS`` holds those).

One home for each: the library's functions, the app and the command line's options read
them from here. Nothing but the standard library is imported, so the command line can
read them without loading the backtest.
"""

from __future__ import annotations

DEFAULT_POLICIES = ("hold", "stop2x", "stop3x", "alvh")  # run when no policy is named
SENSITIVITIES = ("costs", "model", "none")  # what the report also runs beside the backtest
SENSITIVITY = "costs"  # the cost row: total P&L at 0.5x and 2x the half-spreads

SEED = 0  # of the bootstrap's random draws
RESAMPLES = 10_000  # bootstrap resamples
MIN_RESAMPLES = 100  # fewer give no usable percentile interval
CONFIDENCE = 0.95  # of the bootstrap intervals
CVAR_LEVEL = 0.05  # a policy's CVaR: the mean of its worst 5% of trades ("cvar_5")

TRAIN_DAYS = 730  # walk-forward train window, calendar days
TEST_DAYS = 182  # walk-forward test window, calendar days
OBJECTIVE_METRIC = "total_pnl"  # what a walk-forward maximises, of alvh when it runs

DASK_TIMEOUT = 10.0  # seconds to reach a Dask scheduler
