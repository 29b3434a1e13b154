"""Files alvh writes: one guard before any work, one atomic write.

Every file alvh writes (position files, market snapshots, the trades CSV, plots) passes
:func:`refuse_output` before the work that fills it starts, and is written by
:func:`write_atomic`: whole or not at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from alvh_cli.errors import InputError


def refuse_output(path: Path | str, inputs: Sequence[Path | str] = (), force: bool = False) -> None:
    """InputError naming ``path`` when alvh must not write it: it is one of ``inputs``, a
    directory, in a folder that does not exist, or a file that exists (unless ``force``)."""
    target = Path(path)
    where = str(path)
    for given in inputs:
        if _same(target, Path(given)):
            raise InputError(f"is also an input ({given}); alvh never writes to an input", where)
    if target.is_dir():
        raise InputError("is a directory; give a file's path", where)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"no such directory: {folder}", where)
    if target.exists() and not force:
        raise InputError("already exists; use {flag:force} to replace it", where)


def backup_path(path: Path | str) -> Path:
    """Where the file's old content goes before alvh replaces it: ``FILE.~N~``, the next
    free number (GNU ``cp --backup=numbered``): earlier backups are kept, and a folder's
    ``*.toml`` never picks one up."""
    target = Path(path)
    n = 1
    while (candidate := target.with_name(f"{target.name}.~{n}~")).exists():
        n += 1
    return candidate


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def write_atomic(path: Path | str, write: Callable[[IO[Any]], object], mode: str = "w") -> None:
    """Write a file whole or not at all: ``write(fh)`` fills a temporary file in
    ``path``'s folder, which is then renamed over ``path``.

    For every file alvh writes (position files, trades CSV, plots): an existing
    file is replaced only once the new one is complete, and a failed write leaves
    neither a half file nor the temporary one. ``mode`` is ``"w"`` (UTF-8 text,
    no newline translation: the writer's ``\n`` is what lands) or ``"wb"``. The
    file gets the permissions of any file the user creates (0666 less the umask,
    not mkstemp's 0600). A missing folder or an OS error raises InputError naming
    ``path``.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"no such directory: {folder}", str(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    try:
        text = {"newline": "", "encoding": "utf-8"} if "b" not in mode else {}
        with os.fdopen(fd, mode, **text) as fh:
            write(fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        _discard(tmp)
        raise InputError(f"cannot write: {exc.strerror or exc}", str(path)) from None
    except BaseException:
        _discard(tmp)
        raise


def _discard(tmp: str) -> None:
    if os.path.exists(tmp):
        os.unlink(tmp)


def _discard(tmp: str) -> None:
    if os.path.exists(tmp):
        os.unlink(tmp)
