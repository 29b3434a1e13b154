"""Files alvh writes: one guard before any work, one atomic write.

Every file alvh writes (position files, market snapshots, the trades CSV, plots) passes
:func:`refuse_output` before the work that fills it starts, and is written by
:func:`write_atomic`: whole or not at all.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from alvh_cli.errors import InputError, special_kind


def refuse_output(path: Path | str, inputs: Sequence[Path | str] = (), force: bool = False) -> None:
    """InputError naming ``path`` when alvh must not write it: it is one of ``inputs`` (the
    same path, a symbolic link to it or a hard link: one file), a directory, a device, a
    named pipe or a socket, in a folder that does not exist, or a file that exists (unless
    ``force``). ``force`` never lets alvh write over an input or a special file."""
    target = Path(path)
    where = str(path)
    refuse_input(path, inputs)
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None  # a new file (or a broken link, which the rename replaces)
    except OSError as exc:
        raise InputError(f"cannot use as the output: {exc.strerror or exc}", where) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory; give a file's path", where)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise InputError(
            f"is {special_kind(st.st_mode)}, not a file: alvh writes only regular files", where
        )
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"no such directory: {folder}", where)
    if st is not None and not force:
        raise InputError("already exists; use {flag:force} to replace it", where)


def refuse_input(path: Path | str, inputs: Sequence[Path | str]) -> None:
    """InputError naming ``path`` when it is one of ``inputs`` (the same file: by path, a
    symbolic link or a hard link): a file alvh writes, or a journal it appends to, is
    never a file it reads. A ``path`` that does not exist yet is none of them. One stat
    per input: a review checks its journal against a thousand files."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # not there yet (or unreadable: the write will say)
        return
    own = (st.st_dev, st.st_ino)
    for given in inputs:
        try:
            other = os.stat(given)
        except (OSError, ValueError):
            continue
        if (other.st_dev, other.st_ino) == own:
            message = f"is also an input ({given}); alvh never writes to an input"
            raise InputError(message, str(path))


def backup_path(path: Path | str) -> Path:
    """Where the file's old content goes before alvh replaces it: ``FILE.~N~``, the next
    free number (GNU ``cp --backup=numbered``): earlier backups are kept, and a folder's
    ``*.toml`` never picks one up. Beside the file a symbolic link names, which is the file
    an edit replaces (:func:`write_atomic`)."""
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    n = 1
    while (candidate := target.with_name(f"{target.name}.~{n}~")).exists():
        n += 1
    return candidate


def same_file(a: Path | str, b: Path | str) -> bool:
    """Whether ``a`` and ``b`` are one file: the same path once links are followed, or the
    same device and inode (a hard link, or one folder reached by two paths)."""
    try:
        if Path(a).resolve() == Path(b).resolve():
            return True
    except (OSError, RuntimeError):  # a link loop: compare what stat can reach
        pass
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def write_atomic(
    path: Path | str, write: Callable[[IO[Any]], object], mode: str = "w", *, edit: bool = False
) -> None:
    """Write a file whole or not at all: ``write(fh)`` fills a temporary file in
    ``path``'s folder, which is flushed to disk and then renamed over ``path``; the
    folder is flushed after the rename, so the new name survives a crash.

    For every file alvh writes (position files, trades CSV, plots): an existing
    file is replaced only once the new one is complete, and no exit path (an error
    in ``write``, a full disk, Ctrl-C) leaves a half file or the temporary one.
    ``mode`` is ``"w"`` (UTF-8 text, no newline translation: the writer's ``\n`` is
    what lands) or ``"wb"``. The file gets the permissions of any file the user
    creates (0666 less the umask, not mkstemp's 0600). A missing folder or an OS
    error (a read-only folder, a full disk) raises InputError naming ``path``.

    ``edit``: the file is the one alvh read and now changes (``apply`` on a position
    file), so a symbolic link to it is written through, as an editor writes it: the file
    it names gets the new content and the link stays (replaced by a file, its target
    would go stale). Any other output at a link replaces the link, never the file it
    names: that may be anything, an input among them.
    """
    target = Path(os.path.realpath(path)) if edit and os.path.islink(path) else Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"no such directory: {folder}", str(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
        text = {"newline": "", "encoding": "utf-8"} if "b" not in mode else {}
        try:
            fh = os.fdopen(fd, mode, **text)
        except BaseException:
            os.close(fd)
            raise
        with fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
        tmp = None
        _fsync_folder(folder)
    except OSError as exc:
        raise InputError(f"cannot write: {_reason(exc)}", str(path)) from None
    finally:
        if tmp is not None:
            _discard(tmp)


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (a read-only folder or file?)"
    return exc.strerror or str(exc)


def _fsync_folder(folder: Path) -> None:
    """Flush the folder's entry for the renamed file. Some file systems cannot open or
    flush a folder (EINVAL, ENOTSUP): the file is written, only not yet flushed there."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _discard(tmp: str) -> None:
    # Gone already, or the folder turned read-only: nothing more can be done.
    with contextlib.suppress(OSError):
        os.unlink(tmp)
