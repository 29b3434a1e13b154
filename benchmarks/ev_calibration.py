"""Calibration of the scenario EV: what the method predicts holding earns over the scenario
horizon, against what the same legs earned in the backtest's own model.

For every open condor on every backtest day (the alvh policy's days, weekly entries as
``alvh backtest`` opens them), the method's check is run with its figures, but nothing is
acted on: the condors are held as opened. The prediction is the scenario EV of holding
(``figures.ev``, 5 trading days by default); the realisation is the change of the same
legs' model value from that close to the close ``scenario_horizon_days`` rows later
(while the condor is still open). Grouped by layer and tested side; the ± are naive 95%
intervals (mean ± 1.96 SE): the days of one condor overlap, so the true ones are wider.

It reaches into the backtest's daily loop (``simulation._decide`` and ``_apply`` are
replaced for the run), so it is a research script, not a supported interface.

    python benchmarks/ev_calibration.py [--history benchmarks/data/spx_vix_1999_2018.csv]
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", help="date,spx,vix CSV (default: the embedded 2014-2018)")
    args = parser.parse_args()

    from alvh_cli.backtest import simulation as sim
    from alvh_cli.inputs.history import embedded_frame, read_history
    from alvh_cli.method import check
    from alvh_cli.model.domain import Position
    from alvh_cli.model.legs import value_legs
    from alvh_cli.model.rules import Rules
    from alvh_cli.model.valuation import summarise

    rows, markets = [], {}

    def observe(review, day, *, integral):
        i, market = day.row, day.market
        markets[i] = market
        for t in review:
            part = t.entry.values_at(i - t.entry.first)
            position = Position(
                t.entry.id, tuple(t.legs), t.credit, t.entry.opened, "backtest",
                closed=tuple(t.closed), units=abs(t.entry.legs[1].quantity),
            )  # fmt: skip
            pv = summarise(position, market, day.rules, part)
            pc = check.check_position(pv, day.regime, day.scenario_sets, integral=integral)
            if pc.figures is None:
                continue
            value = float((part.price * part.quantity * part.multiplier).sum())
            rows.append((i, tuple(t.legs), value, pc.figures.ev, pc.layer, pc.tested_side,
                         t.entry.last))  # fmt: skip

    sim._decide = observe
    sim._apply = lambda *a, **k: False
    history = read_history([args.history]) if args.history else embedded_frame()
    rules = Rules()
    sim.run_backtest(history, rules, policies=["alvh"])
    horizon = int(rules.scenario_horizon_days)
    out = []
    for i, legs, value, ev, layer, side, last in rows:
        j = i + horizon
        if j > last or j not in markets:
            continue
        later = value_legs(markets[j], list(legs))
        out.append(
            (
                layer,
                side,
                ev,
                float((later.price * later.quantity * later.multiplier).sum()) - value,
            )
        )
    print(f"{history.attrs.get('sources', ['history'])[0]}: {len(out):,} position-days, "
          f"horizon {horizon} trading days; $ per position")  # fmt: skip
    groups = {
        "all": lambda layer, side: True,
        "below layer 1": lambda layer, side: layer == 0,
        "put side, layers 1-2": lambda layer, side: 1 <= layer <= 2 and side == "put",
        "put side, layer 3": lambda layer, side: layer == 3 and side == "put",
        "call side, layer 1+": lambda layer, side: layer >= 1 and side == "call",
    }
    for name, keep in groups.items():
        x = np.array([(ev, real) for layer, side, ev, real in out if keep(layer, side)])
        if len(x) < 2:
            print(f"  {name}: {len(x)} position-days")
            continue
        d = x[:, 1] - x[:, 0]
        half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
        print(
            f"  {name}: n {len(x):,}, predicted {x[:, 0].mean():,.1f}, realised "
            f"{x[:, 1].mean():,.1f}, realised - predicted {d.mean():+,.1f} ± {half:,.1f}"
        )


if __name__ == "__main__":
    main()
