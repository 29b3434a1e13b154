"""Drawing risk graphs (:mod:`alvh_cli.method.risk_graph`): a PNG with matplotlib, or the
terminal with plotext. Both are the ``plot`` extra (``pip install 'alvh[plot]'``),
imported only here and only when drawing; ``alvh_cli.compat`` says beforehand whether
they are installed.

The figures drawn are the graph's own: nothing is computed here beyond placing them.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from pathlib import Path

from alvh_cli.output import files

# today, the chosen date, expiry: one colour each; as held solid, with the change dashed
COLOURS = ("tab:blue", "tab:orange", "tab:green")
# In text, a marker per curve tells them apart without colour: (as held, with the change).
TERMINAL_MARKERS = (("•", "∘"), ("+", "x"), ("█", "▒"))


def describe_change(graph) -> str:
    """The change applied, in a line: each order's action and legs at their fills."""
    if not graph.change:
        return "no change recommended: the position holds"
    orders = []
    for r in graph.change:
        legs = ", ".join(
            f"{t.quantity:+d} {t.leg.underlying} {t.leg.expiry} "
            + (f"{t.leg.strike:g} {t.leg.type}" if t.leg.strike is not None else "future")
            + f" @ {t.price:.2f}"
            for t in r.trades
        )
        layer = f" L{r.layer}" if r.layer else ""
        orders.append(f"{r.action.value}{layer}: {legs}")
    return "; ".join(orders) + f" (fees ${graph.fees:,.2f})"


def describe_breakevens(levels) -> str:
    return " / ".join(f"{x:,.0f}" for x in levels) if levels else "none (no zero crossing)"


def notes(graph) -> list[str]:
    """The lines printed with a graph: marks, breakevens, the change, the model."""
    shorts = "".join(f", {name} {strike:g}" for name, strike in graph.shorts).lstrip(", ")
    lines = [
        f"SPX {graph.spot:,.2f}, VIX {graph.vix0:g}" + (f"; {shorts}." if shorts else "."),
        f"Breakevens at expiry: as held {describe_breakevens(graph.breakevens)}"
        + (
            f"; with the change {describe_breakevens(graph.breakevens_changed)}."
            if graph.change
            else "."
        ),
        f"Change: {describe_change(graph)}.",
        "P&L in $ from entry prices (the change at its assumed fills, fees included). "
        f"VIX moves with SPX: VIX·(S/S0)^{graph.vix_beta:g}, at least the crash-week level "
        "for a fall; SPX smile kept in moneyness.",
    ]
    return lines


def file_name(graph) -> str:
    """``<file stem>-<position id>.png`` with anything but letters, digits, ``.``, ``_`` and
    ``-`` replaced by ``_`` (an id is the user's text, not a path)."""
    stem = Path(graph.source).stem if graph.source else "position"
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{stem}-{graph.position_id}") + ".png"


# ------------------------------------------------------------------------------- PNG


def draw_png(graph, path: Path | str) -> None:
    """The risk graph as a PNG at ``path`` (written atomically)."""
    import matplotlib.pyplot as plt

    fig = figure(graph)
    try:
        files.write_atomic(path, lambda fh: fig.savefig(fh, format="png"), mode="wb")
    finally:
        plt.close(fig)


def figure(graph):
    """The matplotlib figure of a risk graph (Agg backend; the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 7), dpi=110)
    try:
        x = graph.spx
        for curve, colour in zip(graph.curves, COLOURS, strict=False):
            ax.plot(x, curve.held, color=colour, linewidth=1.4, label=f"{curve.label}, as held")
            if curve.changed is not None:
                ax.plot(
                    x,
                    curve.changed,
                    color=colour,
                    linewidth=1.4,
                    linestyle="--",
                    label=f"{curve.label}, with the change",
                )
        ax.axhline(0.0, color="grey", linewidth=0.7)
        ax.axvline(graph.spot, color="black", linewidth=0.9)
        ax.annotate(
            f"SPX {graph.spot:,.2f}",
            (graph.spot, 1.0),
            xycoords=("data", "axes fraction"),
            ha="left",
            va="top",
            fontsize=8,
        )
        for side, strike in graph.shorts:
            ax.axvline(strike, color="dimgrey", linewidth=0.8, linestyle=":")
            ax.annotate(
                f"{side} {strike:g}",
                (strike, 0.0),
                xycoords=("data", "axes fraction"),
                ha="left",
                va="bottom",
                fontsize=8,
                color="dimgrey",
                xytext=(2, 2),
                textcoords="offset points",
            )
        for levels, marker, name in (
            (graph.breakevens, "o", "breakeven at expiry, as held"),
            (graph.breakevens_changed or (), "x", "breakeven at expiry, with the change"),
        ):
            if levels:
                ax.plot(levels, [0.0] * len(levels), marker, color="black", label=name)
        ax.set_xlabel("SPX at the date")
        ax.set_ylabel("P&L from entry prices, $")
        ax.set_title(f"{graph.position_id} ({graph.source}): P&L against SPX")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=8, ncol=3)
        text = "\n".join(textwrap.fill(line, 170) for line in notes(graph))
        fig.text(0.01, 0.01, text, fontsize=7, color="dimgrey", va="bottom")
        fig.tight_layout(rect=(0, 0.12, 1, 1))
    except BaseException:
        plt.close(fig)
        raise
    return fig


def write_pngs(graphs, folder: Path | str) -> list[Path]:
    """One PNG per graph in ``folder`` (created if missing), named by :func:`file_name`."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from alvh_cli.errors import InputError

        raise InputError(f"cannot create the folder: {exc.strerror or exc}", str(folder)) from None
    paths = []
    for g in graphs:
        path = folder / file_name(g)
        files.refuse_output(path, force=True)  # a folder or a pipe of that name: not replaced
        draw_png(g, path)
        paths.append(path)
    return paths


# -------------------------------------------------------------------------- terminal


def terminal_text(graph, width: int | None = None, height: int = 24, colour: bool = False) -> str:
    """The risk graph drawn in text (plotext): the curves, spot and the short strikes, then
    :func:`notes`. ``width`` defaults to the terminal's (80..160 columns)."""
    import plotext

    if width is None:
        width = min(max(shutil.get_terminal_size((100, 30)).columns, 80), 160)
    fig = plotext.figure
    fig.clear()
    x = [float(v) for v in graph.spx]
    ys = [y for c in graph.curves for y in (c.held, c.changed) if y is not None]
    low, high = min(float(y.min()) for y in ys), max(float(y.max()) for y in ys)
    key = []
    marks = [(strike, "┊", "short strikes" if k == 0 else "") for k, (_, strike) in
             enumerate(graph.shorts)]  # fmt: skip
    for level, marker, name in ((graph.spot, "│", "SPX now"), *marks):
        s = fig.signal([float(level)] * 2, [low / 1e3, high / 1e3], marker=marker)
        s.lines()
        fig.draw(s)
        if name:
            key.append(f"{marker} {name}")
    zero = fig.signal([x[0], x[-1]], [0.0, 0.0], marker="·")
    zero.lines()
    fig.draw(zero)
    for curve, (held, changed) in zip(graph.curves, TERMINAL_MARKERS, strict=False):
        s = fig.signal(x, [float(v) / 1e3 for v in curve.held], marker=held)
        s.lines()
        fig.draw(s)
        key.append(f"{held} {curve.label}")
        if curve.changed is not None:
            s = fig.signal(x, [float(v) / 1e3 for v in curve.changed], marker=changed)
            s.lines()
            fig.draw(s)
            key.append(f"{changed} {curve.label}, with the change")
    fig.legend(active=False)
    fig.title(f"{graph.position_id} ({graph.source}): P&L in $1,000s against SPX")
    fig.plot_size(width, height)
    if not colour:
        fig.theme("clear")
    text = fig.build().string(colorless=not colour)
    fig.clear()
    lines = [text.rstrip("\n")]
    for paragraph in ("   ".join(key), *notes(graph)):
        lines += textwrap.wrap(paragraph, width, break_on_hyphens=False)
    return "\n".join(lines) + "\n"


def print_terminal(graphs) -> None:
    """Each graph to stdout; colour only on a terminal that has not asked for none."""
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    for i, g in enumerate(graphs):
        if i:
            sys.stdout.write("\n")
        sys.stdout.write(terminal_text(g, colour=colour))
