"""Work shared among forked processes that each use the database: the CLI's `--workers` (screening, month
close). One place for the conditions under which that is safe."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from typing import TypeVar

from django.db import connection, connections

T = TypeVar("T")


def can_fork(workers: int) -> bool:
    """More than one process asked for, on PostgreSQL (SQLite writes one at a time), with no transaction open
    here (the workers could not see its uncommitted rows)."""
    return workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block


def die_with_parent() -> None:
    """A pool process's initializer: when the process that started it dies (even by SIGKILL), the kernel kills it
    too (Linux PR_SET_PDEATHSIG), so no worker outlives a killed import or close as an orphan."""

    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@contextmanager
def forked_pool(processes: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of `processes` forked from this one: what it has loaded (code tables, fee schedules) they inherit;
    its database connection they must not share, so it is closed first (this process reconnects on its next
    query). Run the work with `pool.submit(in_worker, fn, *args)`."""
    connections.close_all()
    with ProcessPoolExecutor(processes, mp_context=get_context("fork"), initializer=_start_worker) as pool:
        yield pool


# The connections a pool process inherited, kept referenced so that they are never closed or finalized there (the
# process ends with os._exit, which runs no finalizers).
_inherited: list = []


def _start_worker() -> None:
    """A forked pool process's initializer: die with the parent, and leave every connection it inherited alone.

    `close_all()` above closes the connections this thread sees *now*; Django keeps a thread's connections in
    one place when no event loop runs in it and in another when one does (asgiref's Local). A process that ran
    both ways in this thread (an event loop driving a browser in tests, say) can still hold an open connection
    in the other place, and the forked child may look there. Used, or even closed, from the child, it would
    speak on the parent's socket: results interleaved between the two processes, or the parent's session ended.
    So the child sets fresh connections in its own view and keeps the inherited ones unused until it exits."""
    die_with_parent()
    for alias in connections:
        _inherited.append(connections[alias])
        connections[alias] = connections.create_connection(alias)


def in_worker(fn: Callable[..., T], *args) -> T:
    """Run `fn` in a pool process, closing the process's connections afterwards."""
    try:
        return fn(*args)
    finally:
        connections.close_all()
