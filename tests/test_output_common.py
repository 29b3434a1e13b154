"""The shared atomic file writer: whole file or the old one, never half, never a stray temp.

Expected contents are the literal bytes handed to the writer; permissions are
0666 less the umask, as for any file ``open()`` creates.
"""

from __future__ import annotations

import errno
import os
import stat

import pytest

from alvh_cli.errors import InputError
from alvh_cli.output.common import write_atomic


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_replaces_the_file_with_exactly_the_bytes_written(tmp_path):
    target = tmp_path / "book.toml"
    target.write_bytes(b"old\n")
    write_atomic(target, lambda fh: fh.write('a = 1\nb = "\u00e9"\n'))
    # UTF-8, no newline translation: é is C3 A9, each line ends in one LF.
    assert target.read_bytes() == b'a = 1\nb = "\xc3\xa9"\n'
    assert _names(tmp_path) == ["book.toml"]


def test_binary_mode_writes_bytes_as_given(tmp_path):
    target = tmp_path / "plot.png"
    write_atomic(target, lambda fh: fh.write(b"\x89PNG\r\n\x1a\n"), mode="wb")
    assert target.read_bytes() == b"\x89PNG\r\n\x1a\n"


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "trades.csv"
    target.write_bytes(b"old\n")

    def half(fh):
        fh.write("policy,id\n")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        write_atomic(target, half)
    assert target.read_bytes() == b"old\n"
    assert _names(tmp_path) == ["trades.csv"]


def test_an_os_error_is_one_input_error_naming_the_file(tmp_path):
    target = tmp_path / "book.toml"
    target.write_bytes(b"old\n")

    def full(fh):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(InputError) as err:
        write_atomic(target, full)
    assert str(err.value) == f"{target}: cannot write: {os.strerror(errno.ENOSPC)}"
    assert target.read_bytes() == b"old\n"
    assert _names(tmp_path) == ["book.toml"]


def test_missing_folder_is_refused_before_anything_is_created(tmp_path):
    target = tmp_path / "nope" / "book.toml"
    with pytest.raises(InputError) as err:
        write_atomic(target, lambda fh: fh.write("x"))
    assert str(err.value) == f"{target}: no such directory: {target.parent}"
    assert _names(tmp_path) == []


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_permissions_follow_the_umask_not_mkstemp(tmp_path, umask, expected):
    target = tmp_path / "book.toml"
    old = os.umask(umask)
    try:
        write_atomic(target, lambda fh: fh.write("x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == expected
