"""Reading a TOML file safely, with a hint for the common slips behind a syntax error.

Files are only ever read. Only the standard library is imported here, so
loading stays fast.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from alvh_cli.errors import InputError, special_kind

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

MAX_FILE_BYTES = 20 * 2**20  # no position, market or rules file comes near 20 MB


def read_toml(path: str | Path) -> dict:
    """Parse a TOML file read-only in bytes mode; every failure is an InputError.

    The file is checked with ``stat`` before it is opened: a directory, a
    device (``/dev/zero``), a FIFO or a file over 20 MB is refused without
    reading it, so a wrong argument cannot hang the command.
    """
    source = str(path)
    p = Path(path)
    try:
        st = p.stat()
        if stat.S_ISDIR(st.st_mode):
            raise InputError("is a directory, not a TOML file", source)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(
                f"not a regular file ({special_kind(st.st_mode)}): expected a TOML file", source
            )
        if st.st_size > MAX_FILE_BYTES:
            raise InputError(
                f"file too large ({st.st_size / 2**20:.0f} MB) for a position file "
                f"(at most {MAX_FILE_BYTES // 2**20} MB)",
                source,
            )
        with p.open("rb") as fh:
            # The size the stat saw, and a byte more to see growth: a read for the
            # 20 MB limit would have each small file fill a 20 MB buffer.
            data = fh.read(st.st_size + 1)
            if len(data) > st.st_size:
                data += fh.read(MAX_FILE_BYTES + 1 - len(data))
        if len(data) > MAX_FILE_BYTES:  # grew after the stat
            raise InputError(
                f"file too large (over {MAX_FILE_BYTES // 2**20} MB) for a position file", source
            )
    except OSError as e:
        raise InputError(os_error_message(e, p), source) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError("not a text file (binary data): expected TOML", source, line=line)
    try:
        text = data.decode("utf-8-sig")  # tolerate the BOM some editors write
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        bad = data[e.start]
        raise InputError(
            f"not UTF-8 text (byte 0x{bad:02x}); save the file as UTF-8", source, line=line
        ) from None
    try:
        return tomllib.loads(text)
    except RecursionError:  # tomllib recurses per level of [ and {: 500 deep exhausts it
        raise InputError(
            "TOML nested too deep (arrays or inline tables hundreds of levels inside each "
            "other): not a position, market or rules file",
            source,
        ) from None
    except tomllib.TOMLDecodeError as e:
        message, line = _toml_error(str(e), text)
        key, hint = "", ""
        lines = text.splitlines()
        if line is not None and 1 <= line <= len(lines):
            key, hint = _syntax_hint(lines[line - 1])
        raise InputError(f"TOML syntax error: {message}{hint}", source, key, line) from None


def os_error_message(exc: OSError, path: Path) -> str:
    """What went wrong reaching ``path``, in a trader's words (no errno numbers)."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop: cannot read the file"
    if isinstance(exc, FileNotFoundError):
        if path.is_symlink():
            try:
                target = os.readlink(path)
            except OSError:  # pragma: no cover - the link vanished meanwhile
                target = "?"
            return f"broken symbolic link: it points to {target!r}, which does not exist"
        return "no such file"
    if isinstance(exc, PermissionError):
        return "cannot read the file: permission denied"
    if isinstance(exc, NotADirectoryError):
        return "no such file (a part of the path is not a directory)"
    return f"cannot read the file: {exc.strerror or exc}"


# Common slips in a value, tried in order on the line of a TOML syntax error.
_KEY_EQ = r"([A-Za-z0-9_-]+)\s*=\s*"
_SLIPS = (
    re.compile(_KEY_EQ + r"(\d{1,2})/(\d{1,2})/(\d{2,4})(?![\d/])"),  # 12/18/2026
    re.compile(_KEY_EQ + r"([+-]?\d+(?:\.\d+)?)\s*%"),  # 4.2%
    re.compile(_KEY_EQ + r"([+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?)(?![\d,])"),  # 5,500
    re.compile(_KEY_EQ + r"([+-]?\d+),(\d+)(?![\d,])"),  # 16,20
)


def _syntax_hint(line: str) -> tuple[str, str]:
    """(key, " — hint") for a line holding a common slip, else ("", "")."""
    for n, pattern in enumerate(_SLIPS):
        m = pattern.search(line)
        if m is None:
            continue
        key = m.group(1)
        if n == 0:
            month, day, year = (int(g) for g in m.groups()[1:])
            try:
                example = date(year if year >= 100 else 2000 + year, month, day).isoformat()
            except ValueError:
                example = "2026-12-18"
            return key, f" — dates are YYYY-MM-DD, e.g. {example}"
        if n == 1:
            pct = m.group(2)
            as_decimal = format((Decimal(pct) / 100).normalize(), "f")
            return key, f" — write {pct}% as {as_decimal}"
        if n == 2:
            return key, f" — no commas in numbers: write {m.group(2).replace(',', '')}"
        return key, f" — decimals use a point: write {m.group(2)}.{m.group(3)}"
    return "", ""


_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def _toml_error(text: str, document: str) -> tuple[str, int | None]:
    """tomllib's message without its ``(at line N, column M)`` tail, and N."""
    first = text.splitlines()[0] if text else "invalid TOML"
    m = _AT_LINE.search(first)
    if m:
        msg = first[: m.start()]
        return f"{_lower_first(msg)} (column {m.group(2)})", int(m.group(1))
    m = _AT_END.search(first)
    if m:
        return f"{_lower_first(first[: m.start()])} at end of file", document.count("\n") + 1
    return _lower_first(first), None


def _lower_first(s: str) -> str:
    return s[:1].lower() + s[1:]
