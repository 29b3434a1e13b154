"""alvh: the Adaptive Layered VIX Hedge assistant for SPX iron condor sellers.

The library is the product; the ``alvh`` command is a thin shell over it: each command
is one function of :mod:`alvh_cli.app`. Public names are imported lazily so that
``alvh --help`` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "bsm_greeks": "alvh_cli.model.pricing",
    "black76_greeks": "alvh_cli.model.pricing",
    "implied_vol": "alvh_cli.model.pricing",
    "implied_vol_black76": "alvh_cli.model.pricing",
    "load_files": "alvh_cli.inputs.positions",
    "load_book": "alvh_cli.inputs.book",
    "load_book_tolerant": "alvh_cli.inputs.book",
    "value_book": "alvh_cli.model.valuation",
    "check_book": "alvh_cli.method.check",
    "risk_graphs": "alvh_cli.method.risk_graph",
    "Rules": "alvh_cli.model.rules",
    "InputError": "alvh_cli.errors",
    "InputWarning": "alvh_cli.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'alvh_cli' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
