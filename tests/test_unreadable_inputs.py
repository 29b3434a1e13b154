"""A path on the command line that cannot be read costs only itself.

``import``, ``check`` and ``review`` given good files and one that cannot be read (missing,
a directory, a named pipe, binary data, permission denied) still import or check the good
ones, exactly as alone, print one line naming the bad one on stderr, and exit 2. Nothing
given is written to. ("Permission denied" is made by refusing to open that one file:
these tests may run as root, whom no file mode stops.)
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pathlib
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BROKERS = ROOT / "tests" / "fixtures" / "brokers"
SAMPLES = ROOT / "sample_positions"


def digests(folder: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as fh:  # not Path.open: "locked" refuses that
                out[str(p)] = hashlib.sha256(fh.read()).digest()
    return out


def make_bad(kind: str, folder: Path, suffix: str, monkeypatch) -> tuple[Path, str]:
    """A path of ``kind`` in ``folder`` and what alvh says of it (after ``path: ``; a
    binary file's line number is part of its path: ``path:1: ...``)."""
    path = folder / f"bad_{kind}{suffix}"
    what = "a broker export" if suffix == ".csv" else "a TOML file"
    # the line alvh prints is f"alvh: {path}: {message}", or f"alvh: {path}:{line}: ..."
    if kind == "missing":
        return path, "no such file"
    if kind == "directory":
        path.mkdir()
        noun = "an export file" if suffix == ".csv" else "a TOML file"
        return path, f"is a directory, not {noun}"
    if kind == "pipe":
        os.mkfifo(path)
        named = "" if suffix == ".csv" else " (a named pipe)"
        return path, f"not a regular file{named}: expected {what}"
    if kind == "binary":
        path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00")  # a zip file (a spreadsheet)
        if suffix == ".csv":
            return path, "1: not a text file (binary data): expected a CSV or XML export"
        return path, "1: not a text file (binary data): expected TOML"
    assert kind == "locked"
    path.write_text("symbol,quantity\n")
    real_open = pathlib.Path.open

    def refusing_open(self, *args, **kwargs):
        if self.name == path.name:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", refusing_open)
    return path, "cannot read the file: permission denied"


def said(path: Path, message: str) -> str:
    sep = ":" if message[:1].isdigit() else ": "
    return f"alvh: {path}{sep}{message}\n"


KINDS = ["missing", "directory", "pipe", "binary", "locked"]


# ------------------------------------------------------------------ import


@pytest.fixture
def journal(tmp_path):
    """An empty journal, outside the folder of inputs: no VIX spread recommended."""
    from alvh_cli.journal import open_journal

    path = tmp_path / "journal" / "journal.sqlite"
    open_journal(path).close()
    return path


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("kind", KINDS)
def test_import_writes_the_good_exports_and_names_the_bad_one(
    inputs, journal, alvh, monkeypatch, kind
):
    tmp_path = inputs
    good = tmp_path / "tastytrade_positions.csv"
    shutil.copy(BROKERS / "tastytrade_positions.csv", good)
    alone_out = tmp_path / "alone.toml"
    code, alone, err = alvh(["import", good, "-o", alone_out, "--journal", journal])
    assert (code, err) == (1, "")

    bad, message = make_bad(kind, tmp_path, ".csv", monkeypatch)
    before = digests(tmp_path)
    out = tmp_path / "book.toml"
    code, summary, err = alvh(["import", good, bad, "-o", out, "--journal", journal])
    assert code == 2
    assert err == said(bad, message)
    assert (
        summary.splitlines()[0] == "alvh import: 1 export read, 1 could not be (each named below)"
    )
    assert summary.splitlines()[1:] == alone.replace("alone.toml", "book.toml").splitlines()[1:]
    assert out.read_text() == alone_out.read_text()  # the good export's book, whole
    after = digests(tmp_path)
    assert after.pop(str(out)) and after == before  # only the output was written


def test_import_of_bad_exports_only_writes_nothing(inputs, alvh, monkeypatch):
    tmp_path = inputs
    missing, m1 = make_bad("missing", tmp_path, ".csv", monkeypatch)
    binary, m2 = make_bad("binary", tmp_path, ".csv", monkeypatch)
    before = digests(tmp_path)
    out = tmp_path / "book.toml"
    code, summary, err = alvh(["import", missing, binary, "-o", out])
    assert code == 2
    assert err == said(missing, m1) + said(binary, m2)
    assert summary == ""  # no report of nothing: the two lines say it
    assert not out.exists() and digests(tmp_path) == before


def test_import_of_a_malformed_export_beside_a_good_one(inputs, journal, alvh):
    tmp_path = inputs
    good = tmp_path / "generic_osi.csv"
    shutil.copy(BROKERS / "generic_osi.csv", good)
    bad = tmp_path / "notes.csv"
    bad.write_text("date,note\n2026-11-24,rolled the puts\n")
    out = tmp_path / "book.toml"
    code, summary, err = alvh(["import", good, bad, "-o", out, "--journal", journal])
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"alvh: {bad}:1: not an export alvh recognises")
    assert "\npositions: 2 → " in summary and out.is_file()


# ------------------------------------------------------------------ check and review


@pytest.mark.parametrize("kind", KINDS)
def test_check_reports_the_good_files_and_names_the_bad_one(tmp_path, alvh, monkeypatch, kind):
    good = tmp_path / "put_tested_1_6x.toml"
    shutil.copy(SAMPLES / "put_tested_1_6x.toml", good)
    _, alone, _ = alvh(["check", good, "-f", "json"])
    bad, message = make_bad(kind, tmp_path, ".toml", monkeypatch)
    before = digests(tmp_path)
    code, out, err = alvh(["check", good, bad, "-f", "json"])
    assert code == 2
    assert err == said(bad, message)
    data = json.loads(out)
    assert data["positions"] == json.loads(alone)["positions"]
    line, _, text = message.partition(": ") if kind == "binary" else (None, "", message)
    line = None if line is None else int(line)
    assert data["errors"] == [{"source": str(bad), "key": "", "message": text, "line": line}]
    assert digests(tmp_path) == before


@pytest.mark.parametrize("kind", KINDS)
def test_review_reports_the_book_and_names_the_bad_path(tmp_path, alvh, monkeypatch, kind):
    book = tmp_path / "book"
    book.mkdir()
    for name in ("calm.toml", "call_tested.toml"):
        shutil.copy(SAMPLES / name, book / name)
    _, alone, _ = alvh(["review", book, "--no-journal", "-f", "json"])
    bad, message = make_bad(kind, tmp_path, ".toml", monkeypatch)
    if kind == "missing":
        message = "no such file or directory"  # given as an argument: it may have been a folder
    if kind == "directory":
        message = "no *.toml files in this directory"  # a folder given is a folder of the book
    journal = tmp_path / "journal.sqlite"
    before = digests(tmp_path)
    code, out, err = alvh(["review", book, bad, "--journal", journal, "-f", "json"])
    assert code == 2
    assert err == said(bad, message)
    assert json.loads(out)["positions"] == json.loads(alone)["positions"]
    assert not journal.exists()  # a review of part of the book is not recorded
    assert digests(tmp_path) == before
