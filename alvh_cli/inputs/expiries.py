"""Reject positions the snapshot's ``asof`` rules out: opened later, already settled, or
expiring more than 3 years on."""

from __future__ import annotations

from alvh_cli.errors import InputError
from alvh_cli.inputs.sanity import check_horizon
from alvh_cli.model.domain import Market, PositionFile
from alvh_cli.model.timing import (
    aware,
    new_york_date,
    new_york_stamp,
    settlement_instant,
    settlement_timestamp,
)


def check_expiries(position_file: PositionFile, market: Market, allow_expired: bool) -> None:
    """Reject a position opened after ``market.asof``, any leg expiring more than 3 years
    after it, and any leg settled at or before it unless ``allow_expired``.

    The error names the file and the key, e.g.
    ``book/dec.toml: positions[0].legs[2].expiry: expired 2026-11-20 09:30 EST
    before asof 2026-11-24 15:45 EST (position 'dec-ic'; use --allow-expired)``.
    """
    asof = aware(market.asof)
    asof_ts = asof.timestamp()
    today = new_york_date(asof)
    for position in position_file.positions:
        if position.opened is not None and position.opened > today:
            raise InputError(
                f"opened {position.opened} is after asof {new_york_stamp(asof)} "
                f"(position {position.id!r})",
                source=position_file.path,
                key=f"{position.key}.opened" if position.key else "opened",
            )
        for leg in position.legs:
            check_horizon(
                leg.expiry,
                today,
                position_file.path,
                f"{leg.key}.expiry" if leg.key else "expiry",
                position.id,
            )
        if allow_expired:
            continue
        for leg in position.legs:
            if settlement_timestamp(leg.root, leg.expiry) <= asof_ts:
                settled = settlement_instant(leg.root, leg.expiry)
                key = f"{leg.key}.expiry" if leg.key else "expiry"
                raise InputError(
                    f"expired {new_york_stamp(settled)} before asof {new_york_stamp(asof)} "
                    f"(position {position.id!r}; use --allow-expired)",
                    source=position_file.path,
                    key=key,
                )
