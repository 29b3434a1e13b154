"""Tables that fit the terminal and never cut a number.

Every command's table output goes through here. A table is first built as a
:class:`Grid` — columns and rows of already formatted strings — and then
written one of three ways:

- **full** (``Layout.compact`` False): a rich table, for a terminal of at least
  ``COMPACT_BELOW`` columns whose table fits (:meth:`Grid.needs`);
- **compact**: below that, or when the full table would not fit, the commands
  print one stacked block per position instead (:meth:`Out.line`, words wrapped
  to the width, never cut);
- **plain** (``Layout.plain`` True): a book of more than ``BIG_BOOK`` positions
  is written without rich at all — an aligned text table (or the compact
  blocks) joined into large writes — because rich measures every cell of every
  row, which on 10,000 positions costs far more than the check itself.

Numbers sit in columns that never wrap: a full table is only chosen when the
widest of them fits, so rich never has to shorten one to "8.…". Text that may
wrap (a reason, a file name) is marked ``wrap`` and takes the rest of the width.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

COMPACT_BELOW = 120  # terminal columns: narrower terminals get the stacked layout
BIG_BOOK = 50  # positions: more than this and tables are written plain, without rich
WRAP_MIN = 24  # the least width a wrapping column (a reason) is given in a full table
_FLUSH_LINES = 2000  # plain output is written in chunks of this many lines


@dataclass(frozen=True)
class Column:
    """One column: ``justify`` "left" or "right"; ``wrap`` True for text that may wrap."""

    header: str
    justify: str = "right"
    wrap: bool = False


@dataclass
class Grid:
    """A table's content: columns and rows of formatted strings (a cell may hold
    several lines, split on "\\n"); ``style`` per row is a rich style name, used only
    when the table is drawn by rich."""

    columns: list[Column]
    title: str = ""
    rows: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    # widths() as last measured, with the number of rows then: the layout is chosen on
    # them and a plain table is written with them (a big book has hundreds of grids)
    _measured: tuple[int, list[int]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def add(self, *cells: str, style: str = "") -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append((cells, style))

    def widths(self) -> list[int]:
        """Each column's widest line (header included); a wrapping column counts WRAP_MIN."""
        if self._measured is None or self._measured[0] != len(self.rows):
            self._measured = (len(self.rows), self._widths())
        return list(self._measured[1])

    def _widths(self) -> list[int]:
        out = []
        for k, col in enumerate(self.columns):
            if col.wrap:
                out.append(max(WRAP_MIN, len(col.header)))
                continue
            w = len(col.header)
            for cells, _ in self.rows:
                for line in cells[k].split("\n"):
                    if len(line) > w:
                        w = len(line)
            out.append(w)
        return out

    def needs(self) -> int:
        """The terminal width a rich table of this grid needs with no number shortened:
        the columns' widths, one space of padding either side and a border between."""
        return sum(self.widths()) + 3 * len(self.columns) + 1


@dataclass(frozen=True)
class Layout:
    """How one command's output is laid out: ``width`` in columns, ``compact`` stacked
    blocks instead of wide tables, ``plain`` written without rich (big books)."""

    width: int
    compact: bool
    plain: bool


def choose(console, rows: int, grids: Iterable[Grid] = ()) -> Layout:
    """The layout for ``rows`` positions on ``console``: compact below COMPACT_BELOW
    columns or when any of ``grids`` (the full tables) would not fit; plain above
    BIG_BOOK rows."""
    width = console.width
    compact = width < COMPACT_BELOW or any(g.needs() > width for g in grids)
    return Layout(width, compact, rows > BIG_BOOK or isinstance(console, PipeConsole))


class PipeConsole:
    """Where ``check``, ``review`` and ``price`` write when stdout is a pipe or a file: plain
    aligned text at ``width`` columns, without loading rich (a script that runs alvh many
    times pays rich's import on every run; a mail reads plain text better than box
    drawing)."""

    is_terminal = False

    def __init__(self, width: int, file):
        self.width = width
        self.file = file


class Out:
    """Where a command's lines go: through rich (styles, tables) or, for a plain layout,
    straight to the console's file in large writes."""

    def __init__(self, console, layout: Layout):
        self.console = console
        self.layout = layout
        self._buffer: list[str] = []

    @property
    def width(self) -> int:
        return self.layout.width

    def line(self, text: str = "", style: str = "", indent: int = 0, hang: int = 2) -> None:
        """``text`` wrapped at spaces to the width, ``indent`` spaces in, continuation lines
        ``hang`` further. A word (a number) is never split: a word longer than the line
        runs over it rather than being cut."""
        lead = " " * indent
        if len(text) + indent <= self.width:
            lines = [lead + text]
        else:
            lines = textwrap.wrap(
                text,
                width=max(self.width, indent + hang + 10),
                initial_indent=lead,
                subsequent_indent=" " * (indent + hang),
                break_long_words=False,
                break_on_hyphens=False,
            ) or [lead]
        self._emit(lines, style)

    def fields(self, items: list[str], style: str = "", indent: int = 0, sep: str = "; ") -> None:
        """``items`` ("P&L $ 2,565", "EV $ 169") joined by ``sep`` and packed onto lines of
        the width; an item is never split across lines unless it alone is too long for
        one (then its words wrap)."""
        lead, more = " " * indent, " " * (indent + 2)
        lines: list[str] = []
        current = ""
        for k, item in enumerate(items):
            piece = item + (sep.rstrip() if k < len(items) - 1 else "")
            if current and len(current) + 1 + len(piece) <= self.width:
                current += " " + piece
                continue
            if current:
                lines.append(current)
            start = more if lines else lead
            if len(start) + len(piece) <= self.width:
                current = start + piece
                continue
            lines.extend(
                textwrap.wrap(
                    piece,
                    width=max(self.width, len(start) + 10),
                    initial_indent=start,
                    subsequent_indent=more,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
            current = ""
        if current:
            lines.append(current)
        self._emit(lines or [lead], style)

    def grid(self, grid: Grid) -> None:
        """A full-width table: rich's, or aligned plain text for a plain layout."""
        if self.layout.plain:
            self._emit(plain_lines(grid, self.width), "")
        else:
            self.flush()
            self.console.print(rich_table(grid))

    def _emit(self, lines: list[str], style: str) -> None:
        # Lines are already wrapped; without a terminal rich would drop the style anyway,
        # so they are written straight (rich's per-print layout costs ~0.1 ms a line).
        if self.layout.plain or not self.console.is_terminal:
            self._buffer.extend(lines)
            if len(self._buffer) >= _FLUSH_LINES:
                self.flush()
            return
        from rich.text import Text

        for text in lines:
            self.console.print(Text(text, style=style), soft_wrap=True)

    def flush(self) -> None:
        if self._buffer:
            self.console.file.write("\n".join(self._buffer) + "\n")
            self._buffer.clear()


def rich_table(grid: Grid):
    from rich.table import Table

    t = Table(title=grid.title or None, title_justify="left")
    for col in grid.columns:
        t.add_column(col.header, justify=col.justify, no_wrap=not col.wrap, overflow="fold")
    for cells, style in grid.rows:
        t.add_row(*cells, style=style)
    return t


def plain_lines(grid: Grid, width: int) -> list[str]:
    """The grid as aligned text: the columns that do not wrap side by side, two spaces
    apart, under a header and a rule; the wrapping ones each on lines of their own,
    indented four spaces and wrapped to ``width``."""
    fixed = [k for k, c in enumerate(grid.columns) if not c.wrap]
    wrapping = [k for k, c in enumerate(grid.columns) if c.wrap]
    widths = grid.widths()
    cols = grid.columns

    def cell(k: int, text: str) -> str:
        return text.rjust(widths[k]) if cols[k].justify == "right" else text.ljust(widths[k])

    out = [grid.title] if grid.title else []
    out.append("  ".join(cell(k, cols[k].header) for k in fixed).rstrip())
    out.append("  ".join("-" * widths[k] for k in fixed))
    wrap = textwrap.TextWrapper(
        width=max(width, 40),
        initial_indent="    ",
        subsequent_indent="      ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    just = [(widths[k], cols[k].justify == "right") for k in fixed]
    for cells, _ in grid.rows:
        parts = [cells[k].split("\n") for k in fixed]
        height = max(map(len, parts))
        if height == 1:  # most rows: one line, without a call per cell
            line = "  ".join(
                p[0].rjust(w) if right else p[0].ljust(w)
                for p, (w, right) in zip(parts, just, strict=True)
            )
            out.append(line.rstrip())
        else:
            for i in range(height):
                out.append(
                    "  ".join(
                        cell(k, p[i] if i < len(p) else "")
                        for k, p in zip(fixed, parts, strict=True)
                    ).rstrip()
                )
        for k in wrapping:
            if cells[k]:
                out.extend(wrap.wrap(cells[k]))
    return out
