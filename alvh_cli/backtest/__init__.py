"""The historical backtest, in parts.

* ``params`` (the parameter table) and ``costs`` (half-spreads and fees of a fill);
* the market model: ``market`` (the closes and each close's modelled snapshot) and
  ``entries`` (the weekly condors: when, which expiry, which strikes, at what fill);
* ``policies`` (hold, the stops, alvh) and ``simulation`` (``run_backtest``: every policy
  on the same entries, the alvh policies day by day);
* ``results`` (each trade's record, each policy's summary, the daily curves);
* what is read from runs: ``analysis`` (attribution, stress ``episodes``, ``bootstrap``
  intervals) and ``experiments`` (sensitivity rows, ``sweep``s, walk-forward).
"""
