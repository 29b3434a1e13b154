"""The allocator setting of the heavy commands (alvh_cli.allocator)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from alvh_cli import allocator

GLIBC = sys.platform.startswith("linux") and bool(
    getattr(os, "confstr", lambda _: None)("CS_GNU_LIBC_VERSION")
)

# Each round makes three 4 MiB arrays, writing every page (3,072 pages), and frees them.
# By default glibc maps the first block alone, then (its threshold raised by the free)
# serves them from the top of its heap, which it gives back once 2x the threshold lies
# free there: every round faults its pages in again. Kept in the heap, they fault once.
_FAULTS = """
import resource, sys
import numpy as np
from alvh_cli.allocator import keep_freed_memory
ok = keep_freed_memory() if sys.argv[1] == "kept" else None
np.ones(1 << 19).sum()  # numpy's own first allocations, outside the count
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):
    a, b, c = np.ones(1 << 19), np.ones(1 << 19), np.ones(1 << 19)
    del a, b, c
print(ok, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_freed_arrays_are_reused_not_faulted_in_again():
    ok, kept = _faults("kept")
    _, default = _faults("default")
    assert ok == "True"
    # 40 rounds of 3,072 pages: most faulted again each round by default (about 60,000
    # here), once when kept (one round's at most)
    assert default > 20 * 1024
    assert kept < 4 * 1024


def test_not_glibc_leaves_the_allocator_alone(monkeypatch):
    monkeypatch.setattr(allocator.os, "confstr", lambda name: None)
    assert allocator.keep_freed_memory() is False


def test_no_confstr_leaves_the_allocator_alone(monkeypatch):
    def refuse(name):
        raise ValueError(name)

    monkeypatch.setattr(allocator.os, "confstr", refuse)
    assert allocator.keep_freed_memory() is False


def test_the_users_own_malloc_settings_stand(monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert allocator.keep_freed_memory() is False
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=131072")
    assert allocator.keep_freed_memory() is False


def test_a_python_without_ctypes_leaves_the_allocator_alone(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ctypes", None)  # import ctypes raises ImportError
    monkeypatch.setattr(allocator.os, "confstr", lambda name: "glibc 2.36")
    assert allocator.keep_freed_memory() is False
