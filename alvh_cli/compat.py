"""Optional extras: whether each is installed, found without importing it.

Checked before long work starts (a backtest, a plot of a whole book), so that a
missing extra is one line and exit status 2 at once, not after the work (the
``HAS_*`` flags of arch's ``compat``). ``find_spec`` looks the package up on the
path without running it: the check costs microseconds, not matplotlib's import.
"""

from __future__ import annotations

from importlib.util import find_spec

from alvh_cli.errors import InputError

HAS_MATPLOTLIB = find_spec("matplotlib") is not None
HAS_PLOTEXT = find_spec("plotext") is not None

EXTRAS = {
    # flag name: (package, extra that installs it)
    "HAS_MATPLOTLIB": ("matplotlib", "plot"),
    "HAS_PLOTEXT": ("plotext", "plot"),
}


def require(flag: str, role: str) -> None:
    """Raise the one-line InputError for the parameter ``role`` when the extra behind
    ``flag`` (a name of this module, e.g. ``"HAS_MATPLOTLIB"``) is not installed."""
    if not globals()[flag]:
        package, extra = EXTRAS[flag]
        raise InputError(f"needs {package}: pip install 'alvh[{extra}]'", option=role)
