"""The forked process pool behind the CLI's `--workers` (screening, month close): its processes never use a
connection they inherited from the parent."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.db import connection, connections

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

    async def start_the_pool_inside_a_loop() -> list[int]:
        with forked_pool(2) as pool:
            return [f.result() for f in [pool.submit(in_worker, _backend_pid) for _ in range(6)]]

    seen: dict = {}

    def in_a_thread_of_its_own() -> None:  # this thread may already run a loop (a browser test's, earlier)
        try:
            seen["parent"] = _backend_pid()  # opened without a loop
            seen["children"] = asyncio.run(start_the_pool_inside_a_loop())
            seen["parent after"] = _backend_pid()
        except BaseException as error:  # noqa: BLE001 — reported by the test below
            seen["error"] = error
        finally:
            connections.close_all()
            asyncio.run(_close_all())  # and those of the loop's view

    thread = threading.Thread(target=in_a_thread_of_its_own)
    thread.start()
    thread.join()
    assert "error" not in seen, seen.get("error")
    assert len(seen["children"]) == 6 and seen["parent"] not in seen["children"]
    assert seen["parent after"] == seen["parent"]  # still open, still the parent's own session


async def _close_all() -> None:
    connections.close_all()
