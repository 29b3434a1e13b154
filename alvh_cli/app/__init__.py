"""One function per command: read the inputs, run the method, keep the journal, and return
a typed result (the command line prints it; a notebook reads it).

``check``, ``review``, ``size_hedge``, ``plot``, ``price``, ``market``, ``import_exports``,
``signals``, ``calibrate``, ``backtest``, ``rules``, ``schema``: each module here is one
command, callable with plain values (paths, numbers, dates).
"""
