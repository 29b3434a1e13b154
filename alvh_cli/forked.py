"""Work shared with forked copies of this process, its results handed back in order.

Why fork: a copy made by ``os.fork`` starts with everything this process has built — the
book loaded and valued, its programs solved, the scenario sets and every cache — at no
cost, where a fresh worker (joblib's pool) imports numpy and scipy again, rebuilds the
scenario sets and takes the positions pickled, which cost what a second core saves on
two. So each copy computes the items whose index falls to it (every ``workers``-th, so
costly ones are shared evenly) and sends back only their results, already in the form
the caller writes (a JSON record), through a pipe; this process computes its own share
in between and hands out every result in order. The results are the ones this process
computes alone: each copy runs the same code on the same state.

Only where a fork is safe: on Linux (macOS's system libraries are not fork-safe), in a
process of one thread (a lock held by another thread at the fork stays held in the
copy).
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from queue import SimpleQueue
from typing import Any

FORK_MAX = 8
"""Processes at most: the results come back through one reader here."""

_HEADER = struct.Struct("<BQ")  # kind, payload bytes
_RESULT, _FAILED = 0, 1
_END = object()


def can_fork() -> bool:
    """Whether this process may fork now: on Linux, with one thread."""
    return (
        sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1
    )


def fork_workers() -> int:
    """The processes (this one included) a forked map may use: the cores this process may
    run on and its CPU quota allows (:func:`cpu_quota`), up to ``FORK_MAX``; 1 where
    forking is not safe."""
    if not can_fork():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - Linux has it
        cores = os.cpu_count() or 1
    quota = cpu_quota()
    if quota is not None:
        cores = min(cores, quota)
    return max(1, min(cores, FORK_MAX))


_CGROUP = "/sys/fs/cgroup"


def cpu_quota(root: str = _CGROUP) -> int | None:
    """The CPUs the control group's quota allows, rounded up (a container run with
    ``--cpus 1.5``: 2), or None without a quota. A container sees every core of its host
    in its affinity; forking one copy per core beyond its quota only slices the same CPU
    time thinner."""
    try:  # cgroup v2: "max 100000" or "<quota> <period>" in microseconds
        with open(os.path.join(root, "cpu.max")) as fh:
            quota, period = fh.read().split()[:2]
    except (OSError, ValueError):
        try:  # cgroup v1: -1 for no quota
            with open(os.path.join(root, "cpu", "cpu.cfs_quota_us")) as fh:
                quota = fh.read().strip()
            with open(os.path.join(root, "cpu", "cpu.cfs_period_us")) as fh:
                period = fh.read().strip()
        except OSError:
            return None
    try:
        q, t = int(quota), int(period)
    except ValueError:  # "max": no quota
        return None
    if q <= 0 or t <= 0:
        return None
    return max(1, -(-q // t))


def ordered_map(
    work: Callable[[int], Any],
    count: int,
    workers: int,
    pack: Callable[[Any], bytes] = pickle.dumps,
    unpack: Callable[[bytes], Any] = pickle.loads,
) -> Iterator:
    """``work(i)`` for i in 0..count−1, in order, computed by ``workers`` processes: this one
    takes i ≡ 0 (mod workers), forked copies the others, their results sent back as
    ``pack`` gives them and read with ``unpack``. A copy's exception is raised here, at its
    item. With one worker, one item, or where a fork is not safe (:func:`can_fork`),
    nothing is forked.

    The copies are made when the iterator is first read; if it is dropped before its end
    they are stopped."""
    if workers <= 1 or count <= 1 or not can_fork():
        for i in range(count):
            yield work(i)
        return
    workers = min(workers, count)
    for stream in (sys.stdout, sys.stderr):  # a copy must not write this one's buffers again
        if stream is not None:
            stream.flush()
    children: list[int] = []
    reads: list[int] = []
    readers: list[threading.Thread] = []
    finished = False
    try:
        # every copy is made before any reader thread starts: a fork in one thread only
        for w in range(1, workers):
            read_fd, write_fd = os.pipe()
            try:
                pid = os.fork()
            except OSError:  # no more processes to be had: this one does it all
                os.close(read_fd)
                os.close(write_fd)
                break
            if pid == 0:  # pragma: no cover - runs in the copy, which never returns
                for fd in (read_fd, *reads):  # the other copies' pipes are not its own
                    os.close(fd)
                _serve(work, range(w, count, workers), write_fd, pack)
            os.close(write_fd)
            children.append(pid)
            reads.append(read_fd)
        if len(children) < workers - 1:
            _reap(children, stop=True)
            children.clear()
            for fd in reads:
                os.close(fd)
            for i in range(count):
                yield work(i)
            finished = True
            return
        queues: list[SimpleQueue] = [SimpleQueue() for _ in range(workers)]  # [0]: unused
        for fd, q in zip(reads, queues[1:], strict=True):
            readers.append(threading.Thread(target=_read, args=(fd, q), daemon=True))
            readers[-1].start()
        for i in range(count):
            w = i % workers
            if w == 0:
                yield work(i)
                continue
            got = queues[w].get()
            if got is _END:
                raise RuntimeError(f"a forked worker stopped before item {i}")
            kind, payload = got
            if kind == _FAILED:
                raise _exception(payload)
            yield unpack(payload)
        finished = True
    finally:
        _reap(children, stop=not finished)
        for t in readers:  # each ends at its pipe's end, the copy gone: this process is
            t.join()  # again of one thread, as the next fork needs


def _serve(work, indices, fd: int, pack) -> None:  # pragma: no cover - in the copy
    """In a copy: ``work`` of each index, packed, written to ``fd``; then leave at once
    (``os._exit``: no buffers flushed, no exit handlers of the parent run twice)."""
    status = 0
    try:
        with os.fdopen(fd, "wb", buffering=0) as out:
            for i in indices:
                try:
                    body, kind = pack(work(i)), _RESULT
                except Exception as exc:  # sent back, raised by the reader at this item
                    body, kind, status = _pickled(exc), _FAILED, 1
                out.write(_HEADER.pack(kind, len(body)) + body)
                if kind == _FAILED:
                    break
    except BaseException:  # a closed pipe (the reader gone), an interrupt
        status = 1
    finally:
        os._exit(status)


def _pickled(exc: Exception) -> bytes:
    try:
        return pickle.dumps(exc)
    except Exception:  # an exception that will not pickle: its text
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))


def _exception(payload: bytes) -> BaseException:
    try:
        exc = pickle.loads(payload)
    except Exception as broken:  # an exception whose class will not rebuild from its args
        return RuntimeError(f"a forked worker failed, and its error could not be read: {broken}")
    return exc if isinstance(exc, BaseException) else RuntimeError(str(exc))


def _read(fd: int, q: SimpleQueue) -> None:
    """A copy's frames, read as they come (so it never waits on a full pipe), onto ``q``;
    ``_END`` once the pipe closes."""
    try:
        with os.fdopen(fd, "rb") as pipe:
            while True:
                head = pipe.read(_HEADER.size)
                if len(head) < _HEADER.size:
                    break
                kind, size = _HEADER.unpack(head)
                body = pipe.read(size)
                if len(body) < size:
                    break
                q.put((kind, body))
    finally:
        q.put(_END)


def _reap(children: list[int], stop: bool) -> None:
    """Wait for every copy, once each has sent all it had to; ``stop``: the reader stopped
    early (an error, an iterator dropped), and the copies still running are stopped."""
    import signal

    for pid in children:
        try:
            if stop:
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ChildProcessError, ProcessLookupError):  # pragma: no cover - already gone
            pass
