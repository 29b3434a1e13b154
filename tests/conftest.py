"""Shared test setup: the ``alvh`` fixture that runs the command line, and the CLI's
clock, pinned so that golden output does not age.

``alvh`` warns when the market snapshot is older than the last close before
now. The samples are snapshots of 2026-11-24 15:45 New York; the pinned clock
is five minutes later, the moment the README's cron job runs. A test of the
staleness warning pins its own clock.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

import pytest

PINNED_NOW = datetime(2026, 11, 24, 15, 50, tzinfo=timezone(timedelta(hours=-5)))


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch):
    from alvh_cli import cli

    monkeypatch.setattr(cli, "_now", lambda: PINNED_NOW)


class Run(NamedTuple):
    """One ``alvh`` run: exit status, stdout, stderr."""

    code: int
    out: str
    err: str


@pytest.fixture
def alvh(monkeypatch):
    """``alvh(args, env=None)`` runs ``alvh ARGS`` in-process through typer's CliRunner and
    returns ``Run(code, out, err)``: the one way tests drive the command line (a subprocess
    only where a real process matters: start-up, imports, concurrent writers).

    ``env`` sets (or, with None, unsets) environment variables for the run, e.g.
    ``{"COLUMNS": "80"}``. ``sys.argv`` is set too: ``review`` records it in the journal.
    An exception other than an exit is re-raised with its traceback, never hidden.
    """
    from typer.testing import CliRunner

    from alvh_cli import cli

    def run(args, env: dict[str, str | None] | None = None) -> Run:
        args = [str(a) for a in args]
        monkeypatch.setattr(sys, "argv", ["alvh", *args])
        result = CliRunner().invoke(cli.app, args, env=env)
        exc = result.exception
        if exc is not None and not isinstance(exc, SystemExit):
            raise exc.with_traceback(result.exc_info[2])
        return Run(result.exit_code, result.stdout, result.stderr)

    return run
