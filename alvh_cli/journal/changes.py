"""What changed per position between two reviews (``alvh review --changes``), as data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from alvh_cli.journal.records import Decision


@dataclass(frozen=True)
class Change:
    """What changed for one position between two reviews (``kind`` from ``CHANGE_KINDS``)."""

    kind: str
    source: str
    id: str
    layer_before: int | None
    layer_after: int | None
    mark_before: float | None
    mark_after: float | None
    actions_before: list[str] | None
    actions_after: list[str] | None
    detail: str

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # the JSON keys, in order


CHANGE_KINDS = (
    "new_position",  # in this review, not in the previous one
    "position_gone",  # in the previous review, not in this one (closed, or removed from the book)
    "new_layer",  # the layer today's mark calls for went up
    "layer_dropped",  # ... went down
    "unwind",  # close_hedge recommended, and was not before
    "take_profit",  # take_profit recommended, and was not before
    "action_changed",  # the set of actions differs (and unwind/take_profit does not say it)
    "layers_on_changed",  # the hedge layers on the position (deployed_layers) differ
)


def _actions(d: Decision) -> list[str]:
    return sorted(set(d.actions))


def _change(kind: str, before: Decision | None, after: Decision | None, detail: str) -> Change:
    some = after if after is not None else before
    return Change(
        kind=kind,
        source=some.source,
        id=some.position_id,
        layer_before=before.layer if before else None,
        layer_after=after.layer if after else None,
        mark_before=before.mark_multiple if before else None,
        mark_after=after.mark_multiple if after else None,
        actions_before=_actions(before) if before else None,
        actions_after=_actions(after) if after else None,
        detail=detail,
    )


def _layers(d: Decision) -> str:
    return ",".join(map(str, d.deployed_layers)) or "none"


def diff_decisions(prev: Iterable[Decision], curr: Iterable[Decision]) -> list[Change]:
    """What changed per position between two reviews' decisions (pure).

    Positions are matched on (``source_key`` or ``source``, ``position_id``).
    Returns the changes in the order of ``curr``, then the positions gone in the order
    of ``prev``. A position whose layer, actions and layers on are unchanged yields
    nothing.
    """
    before = {d.key: d for d in prev}
    seen: set[tuple[str, str]] = set()
    out: list[Change] = []
    for a in curr:
        key = a.key
        seen.add(key)
        b = before.get(key)
        if b is None:
            out.append(
                _change(
                    "new_position",
                    None,
                    a,
                    f"layer {a.layer}, {'/'.join(_actions(a)) or 'no action'}",
                )
            )
            continue
        if a.layer != b.layer:
            kind = "new_layer" if a.layer > b.layer else "layer_dropped"
            out.append(_change(kind, b, a, f"layer {b.layer} → {a.layer}"))
        acts_a, acts_b = _actions(a), _actions(b)
        explained = False
        for action, kind in (("close_hedge", "unwind"), ("take_profit", "take_profit")):
            if action in acts_a and action not in acts_b:
                out.append(_change(kind, b, a, f"{'/'.join(acts_b)} → {'/'.join(acts_a)}"))
                explained = True
        if acts_a != acts_b and not explained:
            out.append(_change("action_changed", b, a, f"{'/'.join(acts_b)} → {'/'.join(acts_a)}"))
        if list(a.deployed_layers) != list(b.deployed_layers):
            out.append(_change("layers_on_changed", b, a, f"layers on {_layers(b)} → {_layers(a)}"))
    for key, b in before.items():
        if key not in seen:
            out.append(
                _change(
                    "position_gone",
                    b,
                    None,
                    f"was layer {b.layer}, {'/'.join(_actions(b)) or 'no action'}",
                )
            )
    return out
