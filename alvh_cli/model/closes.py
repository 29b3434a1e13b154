"""Daily SPX and VIX closes: the ``History`` the scenario set and the backtest read, and the
closes that ship with alvh (2014–2018), read from the package once.

The embedded data is package data, not a user's file: it is read here, with the standard
library and numpy, so that the method (which imports no file reader) and ``check`` (which
must not load pandas) share one reader, cached. ``alvh_cli.inputs.history`` gives the
same closes as a frame, beside the reader of users' history files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import numpy as np

EMBEDDED = "spx_vix_2014_2018.csv"  # in alvh_cli/data


@dataclass(frozen=True)
class History:
    """Daily closes: ``dates`` (ordinal days), ``spx`` and ``vix``, oldest first."""

    dates: np.ndarray
    spx: np.ndarray
    vix: np.ndarray
    source: str

    def before(self, day: date) -> History:
        """The closes up to and including ``day`` (a backtest must not see the future)."""
        n = int(np.searchsorted(self.dates, day.toordinal(), side="right"))
        return History(self.dates[:n], self.spx[:n], self.vix[:n], self.source)

    @classmethod
    def from_frame(cls, frame, source: str = "history") -> History:
        """From a frame indexed by date with ``spx`` and ``vix`` columns (rows with
        either missing are dropped)."""
        frame = frame[["spx", "vix"]].dropna()
        days = np.array([d.toordinal() for d in frame.index.date], dtype=np.int64)
        return cls(days, frame["spx"].to_numpy(float), frame["vix"].to_numpy(float), source)


@functools.cache
def _embedded() -> tuple[History, str]:
    from importlib.resources import files

    text = (files("alvh_cli") / "data" / EMBEDDED).read_text(encoding="utf-8")
    lines = text.splitlines()
    provenance = lines[0].lstrip("# ").removeprefix("source: ")
    rows = [line.split(",") for line in lines if line and line[0].isdigit()]
    days = np.array([date.fromisoformat(r[0]).toordinal() for r in rows], dtype=np.int64)
    spx = np.array([float(r[1]) for r in rows])
    vix = np.array([float(r[2]) for r in rows])
    first, last = date.fromordinal(int(days[0])), date.fromordinal(int(days[-1]))
    return History(days, spx, vix, f"embedded SPX/VIX closes {first}..{last}"), provenance


def embedded_history() -> History:
    """The daily SPX and VIX closes that ship with alvh (2014–2018, the arch datasets)."""
    return _embedded()[0]


def embedded_provenance() -> str:
    """Where the embedded closes come from: the data file's own "source:" line."""
    return _embedded()[1]
