"""Position files: read TOML, validate every key, build the domain types.

The public entry points for position, market and rules files (DESIGN §2). The
format is declared in ``schema.py``, read by ``toml_reader.py``, checked by
``validate.py`` and turned into domain types by ``build.py``.

Every problem raises :class:`~alvh_cli.errors.InputError` naming the file as
given, the key path (``positions[0].legs[2].strike``) and what is wrong, in the
form ``must be > 0, got -5400``. Files are only ever read.

Only the standard library is imported here, so loading stays fast.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from alvh_cli.errors import InputError
from alvh_cli.inputs.build import build_market, build_positions, resolve_asof
from alvh_cli.inputs.schema import FILE_FIELDS
from alvh_cli.inputs.toml_reader import os_error_message, read_toml
from alvh_cli.inputs.validate import check_rules, check_table, check_value
from alvh_cli.model.domain import Market, PositionFile

__all__ = [
    "expand_book",
    "expand_book_tolerant",
    "load_file",
    "load_files",
    "load_market_file",
    "load_rules_table",
    "parse_market",
    "resolve_asof",
]

_FILE_FIELD = {f.name: f for f in FILE_FIELDS}


def load_file(path: str | Path) -> PositionFile:
    """Load and validate one position file (positions, optional market and rules)."""
    source = str(path)
    raw = read_toml(path)
    try:
        top = check_table(raw, FILE_FIELDS, source, "")
        if not top.get("positions"):
            raise InputError("no [[positions]] in file", source)
        positions = build_positions(top["positions"], source)
    except InputError as exc:
        raise with_position_id(exc, raw.get("positions")) from None
    market = build_market(top["market"], source) if "market" in top else None
    return PositionFile(
        path=source, positions=positions, market=market, rules=dict(top.get("rules", {}))
    )


def with_position_id(exc: InputError, raw_positions) -> InputError:
    """The error with the position's id appended, when its key is inside ``positions[i]``
    and that position has a string id: ``… (position 'dec-ic')``."""
    m = re.match(r"positions\[(\d+)\]", exc.key)
    if not m or not isinstance(raw_positions, list):
        return exc
    i = int(m.group(1))
    raw = raw_positions[i] if i < len(raw_positions) else None
    pid = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(pid, str) or not pid.strip() or exc.key == f"positions[{i}].id":
        return exc
    return InputError(f"{exc.message} (position {pid!r})", exc.source, exc.key, exc.line)


def load_files(paths: Iterable[str | Path]) -> list[PositionFile]:
    """Load every file of ``paths``; directories stand for their ``*.toml`` files."""
    return [load_file(p) for p in expand_book(paths)]


def expand_book(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, directories replaced by their ``*.toml`` files (sorted, not recursive).

    A path given twice (or a file inside a directory also given) appears once.
    A missing or unreadable path, or a directory without ``*.toml`` files, is an
    InputError (the first one, in the order given).
    """
    out = []
    for item in expand_book_tolerant(paths):
        if isinstance(item, InputError):
            raise item
        out.append(item)
    return out


def expand_book_tolerant(paths: Iterable[str | Path]) -> list[Path | InputError]:
    """:func:`expand_book`, with each bad path's InputError in its place instead of raised.

    A ``*.toml`` entry of a directory that is not a regular file (a broken or
    looping symbolic link, a FIFO) is listed, so that reading it reports what
    it is; subdirectories are skipped. Nothing here follows a link loop forever
    or raises anything but InputError.
    """
    out: list[Path | InputError] = []
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        try:
            is_dir = stat.S_ISDIR(path.stat().st_mode)
        except OSError as e:
            message = os_error_message(e, path)
            if message == "no such file":  # given as an argument: it may have been a folder
                message = "no such file or directory"
            out.append(InputError(message, str(given)))
            continue
        if is_dir:
            try:
                files = sorted(
                    path / entry.name
                    for entry in os.scandir(path)
                    if entry.name.endswith(".toml") and not _is_dir(entry)
                )
            except OSError as e:
                reason = "permission denied" if isinstance(e, PermissionError) else e.strerror
                out.append(InputError(f"cannot list the directory: {reason}", str(given)))
                continue
            if not files:
                out.append(InputError("no *.toml files in this directory", str(given)))
                continue
        else:
            files = [path]
        for f in files:
            real = os.path.realpath(f)  # never raises on a loop, unlike Path.resolve
            if real not in seen:
                seen.add(real)
                out.append(f)
    return out


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a looping link: not a directory; reading it will say what it is
        return False


def load_market_file(path: str | Path) -> Market:
    """The ``[market]`` table of a TOML file (``--market FILE``); other tables are ignored."""
    source = str(path)
    doc = read_toml(path)
    if "market" not in doc:
        tables = [k for k, v in doc.items() if isinstance(v, (dict, list))]
        close = difflib.get_close_matches("market", tables, n=1, cutoff=0.6)
        if close:
            raise InputError(
                f"no [market] table (did you mean [market] instead of [{close[0]}]?)",
                source,
                close[0],
            )
        raise InputError("no [market] table in file", source, "market")
    return parse_market(doc["market"], source)


def load_rules_table(path: str | Path) -> dict:
    """Rule overrides for ``--rules FILE``: its ``[rules]`` table, or its top-level keys.

    Only checks that every value is a finite number; which keys exist, and their
    ranges, are ``rules.py``'s business.
    """
    source = str(path)
    doc = read_toml(path)
    if "rules" in doc:
        return check_rules(doc["rules"], source, "rules")
    other = [k for k in ("positions", "market") if k in doc]
    if other:
        raise InputError(f"no [rules] table in file (it has [{other[0]}])", source, "rules")
    return check_rules(doc, source, "")


def parse_market(table: Mapping, source: str) -> Market:
    """Validate a ``[market]`` table (already parsed from TOML) into a Market."""
    values = check_value(table, _FILE_FIELD["market"], source, "market")
    return build_market(values, source)
