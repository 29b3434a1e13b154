"""``alvh size-hedge``: the check of each position with the working of its hedge layer
(a layer sized whatever the mark, a moved stress rung, chosen VIX expiries), and the
checks of those options.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from alvh_cli.method.check import (
    PositionCheck,
    ScenarioSets,
    book_plans,
    check_position,
    compiled_normal_pays,
)
from alvh_cli.method.regime import Regime
from alvh_cli.model.closes import History


def size_hedges(
    loaded: Sequence,
    regimes: Sequence[Regime] | None = None,
    *,
    history: History | None = None,
    position: str | None = None,
    layer: int | None = None,
    spx_move: float | None = None,
    vix_expiry: date | None = None,
) -> list[PositionCheck]:
    """The check of each position (or of ``position``) with the working of its hedge layer.

    ``layer`` sizes that layer whatever today's mark calls for; ``spx_move`` moves the
    old stress rung; ``vix_expiry`` replaces the candidate VIX expiries. Without them
    the result is exactly what ``check`` decides of the file: its positions due a layer
    hedged as a book (:func:`alvh_cli.method.check.book_plans`); with them, each
    position's own program. The caller checks its options
    (``size_hedge_problem``); an unknown ``position`` gives an empty list.
    """
    from alvh_cli.model import pricing
    from alvh_cli.model.valuation import value_book

    regimes = list(regimes) if regimes is not None else [Regime() for _ in loaded]
    per_position = [r for lf, r in zip(loaded, regimes, strict=True) for _ in lf.file.positions]
    values = value_book(loaded)
    pairs = list(zip(values, per_position, strict=True))
    # the normal distribution check would price the whole book with (a layer forced is sized)
    compiled = layer is not None or compiled_normal_pays(pairs)
    scenario_sets = ScenarioSets(history)
    asis = layer is None and spx_move is None and vix_expiry is None
    out = []
    with pricing.pinned_normal(compiled):
        # as check decides: the file's positions due a layer hedged as a book
        parts = book_plans(pairs, scenario_sets) if asis else {}
        for i, (pv, regime) in enumerate(pairs):
            if position is not None and pv.position.id != position:
                continue
            if i in parts:
                part = parts[i]
                out.append(
                    check_position(
                        pv,
                        regime,
                        scenario_sets,
                        book_plan=part.plan,
                        layer3=part.layer3,
                        scene=part.scene,
                    )  # fmt: skip
                )
                continue
            if spx_move is not None:
                pv = replace(pv, rules=replace(pv.rules, stress_spx_move=spx_move))
            out.append(
                check_position(
                    pv,
                    regime,
                    scenario_sets,
                    force_layer=layer,
                    vix_expiries=(vix_expiry,) if vix_expiry else None,
                )
            )
    return out


def size_hedge_problem(
    loaded: Sequence,
    position: str | None,
    spx_move: float | None,
    vix_expiry: date | None,
) -> tuple[str, str] | None:
    """(option, message) when a size-hedge option cannot be honoured, else None. The
    options are named by their role ("position", "spx_move", "vix_expiry"); the
    command line maps them to its flags."""
    from alvh_cli.model.expirations import vix_expiration

    if spx_move is not None and not (-0.9 <= spx_move <= 0.9 and spx_move != 0):
        return "spx_move", (
            f"must be a non-zero fraction between -0.9 and 0.9 (e.g. -0.05), got {spx_move:g}"
        )
    if vix_expiry is not None:
        listed = vix_expiration(vix_expiry.year, vix_expiry.month)
        if vix_expiry != listed:
            return "vix_expiry", (
                f"{vix_expiry} is not a VIX expiration (the {vix_expiry:%B %Y} one is {listed})"
            )
        for lf in loaded:
            if vix_expiry <= lf.market.asof.date():
                return "vix_expiry", f"{vix_expiry} is not after asof {lf.market.asof.date()}"
    if position is not None:
        ids = [p.id for lf in loaded for p in lf.file.positions]
        if position not in ids:
            return "position", f"no position '{position}' (positions: {', '.join(ids)})"
    return None
