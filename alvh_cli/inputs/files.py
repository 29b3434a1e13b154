"""Reading a whole input file within a byte limit, checked before a byte is read.

A reader that takes a file whole (a history, a macro calendar, a saved check's JSON)
gets its bytes here: the path is checked with ``stat`` first, so a directory, a named
pipe or a device (``/dev/zero``) is refused without opening it, and a file over the
reader's limit is refused from its size alone; the read itself stops a byte past the
limit, so a file that grows after the ``stat`` is refused too. Only the standard
library is imported.
"""

from __future__ import annotations

import stat
from pathlib import Path

from alvh_cli.errors import InputError, special_kind

__all__ = ["csv_reason", "read_limited", "read_text", "too_large"]


def too_large(size: int, limit: int, what: str) -> str:
    """The message for a file of ``size`` bytes over ``limit`` bytes: ``file too large
    (60 MB) for a broker export (at most 50 MB)``. The size is shown with as many decimals
    as it takes to be seen over the limit (``1.2 MB``, never ``1 MB (at most 1 MB)``)."""
    mb, cap = size / 2**20, limit / 2**20
    shown = next(
        (f"{mb:.{d}f} MB" for d in range(4) if float(f"{mb:.{d}f}") > cap), f"{size:,} bytes"
    )
    return f"file too large ({shown}) for {what} (at most {_megabytes(limit)})"


def _megabytes(n: int) -> str:
    return f"{n // 2**20} MB" if n % 2**20 == 0 else f"{n:,} bytes"


def read_limited(path: str | Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``, ``what`` it should be (``"a history file"``) naming it in
    the errors: an :class:`InputError` naming the file for a directory, a file that is not
    a regular file, or one over ``limit`` bytes, none of them read. An ``OSError`` (no such
    file, permission denied) is raised as it is, for the caller to word."""
    source = str(path)
    p = Path(path)
    st = p.stat()
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"is a directory, not {what}", source)
    if not stat.S_ISREG(st.st_mode):
        kind = special_kind(st.st_mode)
        raise InputError(f"not a regular file ({kind}): expected {what}", source)
    if st.st_size > limit:
        raise InputError(too_large(st.st_size, limit, what), source)
    with p.open("rb") as fh:
        # The size the stat saw and a byte more, to see growth; a read of the whole
        # limit would have every small file fill a buffer of the limit's size.
        data = fh.read(st.st_size + 1)
        if len(data) > st.st_size:
            data += fh.read(limit + 1 - len(data))
    if len(data) > limit:  # grew after the stat
        raise InputError(f"file too large (over {_megabytes(limit)}) for {what}", source)
    return data


def read_text(path: str | Path, limit: int, what: str, kind: str) -> str:
    """:func:`read_limited` of a UTF-8 text file (a byte-order mark tolerated), every
    failure an :class:`InputError` naming the file; ``kind`` names it where it cannot be
    read: ``cannot read history file: No such file or directory``."""
    try:
        data = read_limited(path, limit, what)
    except OSError as exc:
        raise InputError(f"cannot read {kind}: {exc.strerror or exc}", str(path)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", str(path)) from None


def csv_reason(exc: Exception) -> str:
    """What the csv module's error means for a reader: its own words, but for a field over
    its size limit and a quote left open at the end of the file (strict readers)."""
    import csv

    reason = str(exc)
    if "field larger than field limit" in reason:
        return f"a field longer than {csv.field_size_limit():,} characters"
    if "unexpected end of data" in reason:
        return "a quoted field is never closed (the file may have been cut short)"
    return reason
