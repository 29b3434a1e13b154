"""The historical backtest: the engine and its parameter parsing."""
