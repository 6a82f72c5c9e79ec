"""The forked process pool behind the CLI's `--workers` (screening, month close): its processes never use a
connection they inherited from the parent."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connection

from ccmops.platform.forked import forked_pool, in_worker


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_pool_process_leaves_alone_a_connection_its_parent_holds_where_close_all_did_not_look(monkeypatch):
    """Django keeps a thread's connections in one place without an event loop and in another with one. Here the
    parent holds an open connection in the first place and starts the pool while a loop runs (as a browser test
    does), so the pool's `close_all()` does not see it: the pool's processes must open their own, and the
    parent's connection must still be its own afterwards (not shared, not ended by a child)."""
    if connection.vendor != "postgresql":
        pytest.skip("the pool forks only on PostgreSQL")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM called synchronously inside the loop
    parent = _backend_pid()  # opened without a loop

    async def start_the_pool_inside_a_loop() -> list[int]:
        with forked_pool(2) as pool:
            return [f.result() for f in [pool.submit(in_worker, _backend_pid) for _ in range(6)]]

    children = asyncio.run(start_the_pool_inside_a_loop())
    assert len(children) == 6 and parent not in children
    assert _backend_pid() == parent  # still open, still the parent's own session
