"""The C allocator told to keep the memory a command frees, for the commands that work
over big arrays.

Why: glibc's malloc gives an allocation of 128 kB or more (its threshold grows, up to
32 MiB, as such blocks are freed) pages of its own, mapped for it and unmapped when it is
freed, and it hands the top of its heap back to the system once 2× that threshold lies
free there. Either way the next array of that size starts on fresh pages, and the
kernel faults each one in again. A scenario set over a 20-year history is arrays of a few
hundred kB, made and freed for every position: the 1,000-file benchmark review took about
500,000 page faults, 1.3 s of system time of its 7 s. Told to serve every block under
32 MiB from its heap and to keep what is freed there, malloc reuses those pages: 176,000
faults, 0.7 s of system time, for the same peak memory (what it keeps is what the
command had already used); the default backtest, 2.2 s of system time down to 0.5 s.

Only where the C library is glibc (``mallopt`` is its own), and only in the process of a
command that pays for it and ends with it (``check``, ``review``, ``backtest`` run from
the console entry, :func:`alvh_cli.cli.run`), never on import nor in-process: a program
that uses alvh as a library, or calls its command line in-process, keeps its allocator
as it set it.
"""

from __future__ import annotations

import os

M_TRIM_THRESHOLD = -1  # <malloc.h>
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 * 1024 * 1024
"""Blocks at least this big still get pages of their own: glibc's largest threshold on a
64-bit system (``DEFAULT_MMAP_THRESHOLD_MAX``), beyond any array of the method."""

TRIM_THRESHOLD = 1024**3
"""Free memory at the top of the heap kept rather than given back: more than a command
uses."""


_USERS_OWN = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
              "MALLOC_MMAP_MAX_")  # fmt: skip


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to serve blocks under :data:`MMAP_THRESHOLD` from its heap and to
    keep up to :data:`TRIM_THRESHOLD` of freed memory; True if it took both settings, False
    where the C library is not glibc or refused one, where ctypes is missing, or where
    the user set malloc's own variables (``MALLOC_*_``, ``GLIBC_TUNABLES``): theirs stand."""
    if any(name in os.environ for name in _USERS_OWN) or "malloc" in os.environ.get(
        "GLIBC_TUNABLES", ""
    ):
        return False  # the user's own settings stand
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
    except (AttributeError, ValueError, OSError):  # not glibc, or not a POSIX system
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (ImportError, OSError, AttributeError):  # a Python built without ctypes
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # setting either ends glibc's own adjustment of the mmap threshold: both are set
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
