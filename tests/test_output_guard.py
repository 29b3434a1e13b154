"""Nothing lost: no command writes over one of its inputs (by path, symbolic link or hard
link), a directory or a special file, even with --force; a file is written whole, flushed,
and no exit path leaves its temporary file behind.

Each refusal is checked as a trader sees it: exit status 2, one line on stderr naming the
file, and every file in the folder byte for byte and time stamp as it was.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from chain_builders import chain_rows, write_cboe

from alvh_cli.errors import InputError
from alvh_cli.output import files
from alvh_cli.output.files import refuse_output, write_atomic

FIXTURES = Path(__file__).parent / "fixtures"
BROKERS = FIXTURES / "brokers"


def _state(folder: Path) -> dict:
    """Every entry of ``folder``: its bytes (regular files) and modification time."""
    out = {}
    for p in sorted(folder.iterdir()):
        st = p.lstat()
        data = p.read_bytes() if p.is_file() and not p.is_symlink() else None
        out[p.name] = (data, st.st_mtime_ns, st.st_ino)
    return out


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def day(tmp_path):
    """A chain and a VIX futures file, as `alvh market` reads them."""
    write_cboe(tmp_path / "chain.csv", chain_rows())
    shutil.copy(FIXTURES / "chains" / "vix_futures.csv", tmp_path / "vx.csv")
    return tmp_path


def _market(day, out):
    chain, vx = day / "chain.csv", day / "vx.csv"
    return ["market", "--chain", chain, "--futures", vx, "--vix", "18.2", "-o", out, "--force"]


@pytest.mark.parametrize("name", ["chain.csv", "vx.csv"])
def test_market_never_writes_over_its_input(day, alvh, name):
    before = _state(day)
    code, _, err = alvh(_market(day, day / name))
    assert code == 2
    assert _one_line(err) == (
        f"alvh: {day / name}: is also an input ({day / name}); alvh never writes to an input"
    )
    assert _state(day) == before


@pytest.mark.parametrize("name", ["chain.csv", "vx.csv"])
def test_market_never_writes_over_a_hard_link_to_its_input(day, alvh, name):
    link = day / f"link-{name}"
    os.link(day / name, link)
    before = _state(day)
    code, _, err = alvh(_market(day, link))
    assert code == 2
    assert _one_line(err) == f"alvh: {link}: is also an input ({day / name}); alvh never " \
        "writes to an input"  # fmt: skip
    assert _state(day) == before


def test_market_never_writes_through_a_symbolic_link_to_its_input(day, alvh):
    link = day / "today.toml"
    link.symlink_to(day / "chain.csv")
    before = _state(day)
    code, _, err = alvh(_market(day, link))
    assert code == 2
    assert "is also an input" in _one_line(err)
    assert _state(day) == before


def test_a_named_pipe_or_a_directory_is_never_an_output(day, alvh):
    pipe = day / "today.toml"
    os.mkfifo(pipe)
    folder = day / "out.toml"
    folder.mkdir()
    before = _state(day)
    code, _, err = alvh(_market(day, pipe))  # must not block on the pipe
    assert code == 2
    assert _one_line(err) == f"alvh: {pipe}: is a named pipe, not a file: alvh writes only " \
        "regular files"  # fmt: skip
    code, _, err = alvh(_market(day, folder))
    assert code == 2
    assert _one_line(err) == f"alvh: {folder}: is a directory; give a file's path"
    assert _state(day) == before


def test_a_device_is_never_an_output(tmp_path):
    with pytest.raises(InputError) as err:
        refuse_output("/dev/null", force=True)
    assert str(err.value) == "/dev/null: is a device, not a file: alvh writes only regular files"


def test_import_never_writes_over_a_hard_link_to_an_export(tmp_path, alvh, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    export = tmp_path / "positions.csv"
    shutil.copy(BROKERS / "tastytrade_positions.csv", export)
    link = tmp_path / "book.toml"
    os.link(export, link)
    before = _state(tmp_path)
    code, _, err = alvh(["import", export, "-o", link, "--force"])
    assert code == 2
    assert _one_line(err) == f"alvh: {link}: is also an input ({export}); alvh never writes " \
        "to an input"  # fmt: skip
    assert _state(tmp_path) == before


def test_backtest_never_writes_its_trades_over_its_history(tmp_path, alvh):
    history = tmp_path / "h.csv"
    history.write_text("date,spx,vix\n2026-11-23,5850,18\n2026-11-24,5851,18.1\n")
    link = tmp_path / "trades.csv"
    os.link(history, link)
    folder = tmp_path / "plot.png"
    folder.mkdir()
    before = _state(tmp_path)
    code, _, err = alvh(["backtest", "--history", history, "--trades", link])
    assert code == 2
    assert _one_line(err) == f"alvh: --trades: {link} is one of the input files; alvh never " \
        "writes its inputs"  # fmt: skip
    code, _, err = alvh(["backtest", "--history", history, "--plot", folder])
    assert code == 2
    assert _one_line(err) == f"alvh: {folder}: is a directory; give a file's path"
    assert _state(tmp_path) == before


def test_plot_never_draws_over_its_position_file(tmp_path, alvh):
    pytest.importorskip("matplotlib")
    book = tmp_path / "dec.toml"
    shutil.copy(Path(__file__).parents[1] / "sample_positions" / "calm.toml", book)
    link = tmp_path / "dec.png"
    os.link(book, link)
    before = _state(tmp_path)
    code, _, err = alvh(["plot", book, "-o", link])
    assert code == 2
    assert "is also an input" in _one_line(err)
    assert _state(tmp_path) == before


# ------------------------------------------------------------------------- write_atomic


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names an fd through /proc")
def test_the_file_and_then_its_folder_are_flushed(tmp_path, monkeypatch):
    flushed = []
    real = os.fsync

    def fsync(fd):
        flushed.append(os.path.realpath(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "book.toml"
    write_atomic(target, lambda fh: fh.write("a = 1\n"))
    assert len(flushed) == 2
    assert Path(flushed[0]).name.startswith(".book.toml.")  # the temporary, before the rename
    assert flushed[1] == os.path.realpath(tmp_path)  # the folder, after it
    assert target.read_text() == "a = 1\n"


def test_ctrl_c_while_writing_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "today.toml"
    target.write_bytes(b"old\n")

    def interrupted(fh):
        fh.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, interrupted)
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["today.toml"]


def test_ctrl_c_during_the_rename_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "today.toml"

    def replace(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, lambda fh: fh.write("x"))
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_folder_is_one_line_not_a_traceback(day, alvh, monkeypatch):
    """Run as root, a chmod'ed folder is still writable: the refusal mkstemp meets in a
    read-only folder is given to it directly."""

    def mkstemp(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    out = day / "today.toml"
    before = _state(day)
    code, _, err = alvh(_market(day, out))
    assert code == 2
    assert _one_line(err) == (
        f"alvh: {out}: cannot write: permission denied (a read-only folder or file?)"
    )
    assert _state(day) == before


def test_same_file_sees_hard_links_and_symbolic_links(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("x")
    os.link(a, tmp_path / "b.csv")
    (tmp_path / "c.csv").symlink_to(a)
    (tmp_path / "d.csv").write_text("x")
    assert files.same_file(a, tmp_path / "b.csv")
    assert files.same_file(tmp_path / "c.csv", tmp_path / "b.csv")
    assert not files.same_file(a, tmp_path / "d.csv")
    assert not files.same_file(a, tmp_path / "missing.csv")


def test_an_edit_is_written_through_a_symbolic_link(tmp_path):
    # a book folder of links to files kept elsewhere: apply's edit replacing the link with
    # a file left its target with the old content, read by the next review by its path
    real = tmp_path / "elsewhere" / "dec.toml"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "dec.toml"
    link.symlink_to(real)
    assert files.backup_path(link) == real.with_name("dec.toml.~1~")
    write_atomic(link, lambda fh: fh.write("new\n"), edit=True)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dec.toml", "elsewhere"]
    assert sorted(p.name for p in real.parent.iterdir()) == ["dec.toml"]  # no temporary


def test_any_other_output_replaces_a_link_never_what_it_names(tmp_path):
    # a plot named as a link to the position file it draws (or to anything: a link
    # planted in a shared folder): the link is replaced, the file it names untouched
    calm = tmp_path / "calm.toml"
    calm.write_text((Path(__file__).parents[1] / "sample_positions" / "calm.toml").read_text())
    before = calm.read_bytes()
    link = tmp_path / "calm-dec-calm.png"
    link.symlink_to(calm)
    write_atomic(link, lambda fh: fh.write(b"png"), mode="wb")
    assert not link.is_symlink() and link.read_bytes() == b"png"
    assert calm.read_bytes() == before
