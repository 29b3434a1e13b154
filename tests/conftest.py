"""Shared test setup: the CLI's clock is pinned, so golden output does not age.

``alvh`` warns when the market snapshot is older than the last close before
now. The samples are snapshots of 2026-11-24 15:45 New York; the pinned clock
is five minutes later, the moment the README's cron job runs. A test of the
staleness warning pins its own clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

PINNED_NOW = datetime(2026, 11, 24, 15, 50, tzinfo=timezone(timedelta(hours=-5)))


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch):
    from alvh_cli import cli

    monkeypatch.setattr(cli, "_now", lambda: PINNED_NOW)
