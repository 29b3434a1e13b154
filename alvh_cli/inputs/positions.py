"""Position, market and rules files, each alone: the loading stages in a line.

A file goes through each stage once, each in its own module:

1. read: ``toml_reader.py`` (the bytes, safely, into a TOML document);
2. validate: ``validate.py`` (every key by the field tables of ``schema.py``,
   and what a table cannot say about its keys);
3. build: ``build.py`` (the domain types, and where each value was written);
4. sanity: ``sanity.py`` (what the values say together: the condor's shape,
   trading days, bands around spot);
5. warnings: ``market_warnings.py`` (doubts that do not stop pricing).

A book of files, each priced in its snapshot, is ``book.py``'s: the same line
with the snapshot's checks and warnings. Every problem raises
:class:`~alvh_cli.errors.InputError` naming the file as given, the key path
(``positions[0].legs[2].strike``) and what is wrong, in the form ``must be >
0, got -5400``. Files are only ever read.

Only the standard library is imported here, so loading stays fast.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from alvh_cli.errors import InputError, InputWarning
from alvh_cli.inputs import build, market_warnings, sanity, validate
from alvh_cli.inputs.toml_reader import os_error_message, read_toml
from alvh_cli.model.domain import Market, PositionFile

__all__ = [
    "expand_book",
    "expand_book_tolerant",
    "file_key",
    "load_file",
    "load_files",
    "load_market_file",
    "load_rules_table",
    "load_text",
    "parse_market",
    "read_market_file",
]


def load_file(path: str | Path) -> PositionFile:
    """Load and check one position file (positions, optional market and rules): its own
    values, not yet against a snapshot (``book.py`` does that)."""
    source = str(path)
    table = validate.check_file(read_toml(path), source)
    position_file, layout = build.build_file(table, source)
    sanity.check_file(position_file, layout)
    if position_file.market is None:
        return position_file
    warnings = market_warnings.snapshot_warnings(position_file.market, layout)
    return replace(position_file, market=replace(position_file.market, warnings=warnings))


def load_text(text: str, source: str) -> PositionFile:
    """A position file's text (one alvh is about to write) through the same stages as
    :func:`load_file`: what the loader would say of the file once written."""
    from alvh_cli.inputs.toml_reader import tomllib

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"TOML syntax error: {exc}", source) from None
    table = validate.check_file(doc, source)
    position_file, layout = build.build_file(table, source)
    sanity.check_file(position_file, layout)
    return position_file


def load_files(paths: Iterable[str | Path]) -> list[PositionFile]:
    """Load every file of ``paths``; directories stand for their ``*.toml`` files."""
    return [load_file(p) for p in expand_book(paths)]


def expand_book(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, directories replaced by their ``*.toml`` files (sorted, not recursive).

    A path given twice (or a file inside a directory also given, or reached again by a
    symbolic or a hard link) appears once.
    A missing or unreadable path, or a directory without ``*.toml`` files, is an
    InputError (the first one, in the order given).
    """
    out = []
    for item in expand_book_tolerant(paths):
        if isinstance(item, InputError):
            raise item
        out.append(item)
    return out


def expand_book_tolerant(
    paths: Iterable[str | Path], repeats: dict | None = None
) -> list[Path | InputError]:
    """:func:`expand_book`, with each bad path's InputError in its place instead of raised.

    A ``*.toml`` entry of a directory that is not a regular file (a broken or
    looping symbolic link, a FIFO) is listed, so that reading it reports what
    it is; subdirectories are skipped. Nothing here follows a link loop forever
    or raises anything but InputError.

    ``repeats``, when given, receives for each file (by :func:`file_key`) a warning
    naming each other path that reached it again (a symbolic or a hard link): a folder
    holding a file also named is the same path, and reads once without a word.
    """
    return [
        item if isinstance(item, InputError) else item[0] for item in expand_keyed(paths, repeats)
    ]


def expand_keyed(
    paths: Iterable[str | Path], repeats: dict | None = None
) -> list[tuple[Path, tuple[int, int] | str] | InputError]:
    """:func:`expand_book_tolerant` with each file's :func:`file_key` beside it (the key
    its repeats were told by), for a caller that would otherwise stat each file again."""
    out: list[tuple[Path, tuple[int, int] | str] | InputError] = []
    seen: dict = {}
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
            key = file_key(f)
            if key not in seen:
                seen[key] = f
                out.append((f, key))
            elif repeats is not None and os.path.abspath(f) != os.path.abspath(seen[key]):
                warning = InputWarning(f"also given as {f}: read once", str(seen[key]))
                repeats[key] = tuple(dict.fromkeys((*repeats.get(key, ()), warning)))
    return out


def file_key(path: str | Path) -> tuple[int, int] | str:
    """What makes two paths one file: its device and inode (a symbolic link and a hard
    link to a file share them), else, when it cannot be reached (missing, a link loop),
    its real path. Never raises."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return os.path.realpath(path)  # never raises on a loop, unlike Path.resolve
    return (st.st_dev, st.st_ino)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a looping link: not a directory; reading it will say what it is
        return False


def load_market_file(path: str | Path, now: datetime | None = None) -> Market:
    """The ``[market]`` table of a TOML file (``--market FILE``); other tables are ignored.
    Its own warnings (flat smile, wide quotes) are in ``Market.warnings``. With ``now``, an
    ``asof`` in the future is refused (:func:`read_market_file`)."""
    market, layout = read_market_file(path, now)
    return replace(market, warnings=market_warnings.snapshot_warnings(market, layout))


def read_market_file(path: str | Path, now: datetime | None = None) -> tuple[Market, build.Layout]:
    """:func:`load_market_file` up to its warnings, and how the file wrote the snapshot: for
    a book, whose files each get the snapshot's warnings (``book.py``). With ``now`` (the
    clock), an ``asof`` in the future is refused (``sanity.check_market``)."""
    source = str(path)
    market, layout = build.build_market(validate.check_market_file(read_toml(path), source), source)
    sanity.check_market(market, layout, now)
    return market, layout


def load_rules_table(path: str | Path) -> dict:
    """Rule overrides for ``--rules FILE``: its ``[rules]`` table, or its top-level keys.

    Only checks that every value is a finite number; which keys exist, and their
    ranges, are ``rules.py``'s business.
    """
    return validate.check_rules_file(read_toml(path), str(path))


def parse_market(table: Mapping, source: str) -> Market:
    """A ``[market]`` table (already parsed from TOML), checked, as a Market with its own
    warnings."""
    market, layout = build.build_market(validate.check_market(table, source), source)
    sanity.check_market(market, layout)
    return replace(market, warnings=market_warnings.snapshot_warnings(market, layout))
