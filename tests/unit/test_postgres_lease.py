"""The serve lock as the conductor's lease (issue 17, lease mode): one holder among several stores on one
database, taken over when the holder closes or its session ends, never a reason to refuse a write; and
the exclusive mode beside it, one lock for both.

A real PostgreSQL (tests/postgres.py), one database per test. Two stores are two serve processes here:
each has its own holder connection, so each is a session of its own, as two processes' would be."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from stage.errors import StoreError
from stage.records import participants
from stage.records.postgres_store import PostgresStore
from stage.records.store import open_store
from tests.waiting import wait_until


@pytest.fixture
def url(postgres):
    database = postgres.fresh_database()
    yield database
    postgres.drop(database)


@pytest.fixture
def open_lease_store(url):
    """Opens a lease-mode store on this test's database; every one still open is closed at the end."""
    opened: list[PostgresStore] = []

    def open_one() -> PostgresStore:
        store = PostgresStore(url, lease=True)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()  # closing twice is harmless


def holder_and_follower(a: PostgresStore, b: PostgresStore) -> tuple[PostgresStore, PostgresStore]:
    assert [a.lease.held, b.lease.held].count(True) == 1, "exactly one of two lease stores holds the lease"
    return (a, b) if a.lease.held else (b, a)


def terminate(url: str, pid: int) -> None:
    """A third connection ends the holder's session, as PostgreSQL does for a vanished machine."""
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()[0]  # waits till gone


def test_one_of_two_holds_the_lease_and_the_other_takes_it_once_the_holder_closes(open_lease_store):
    holder, follower = holder_and_follower(open_lease_store(), open_lease_store())
    assert not follower.lease.try_take() and not follower.lease.try_take(), "the holder still holds it"
    assert holder.lease.try_take() and holder.lease.still_held()  # asking again neither stacks nor loses it
    holder.close()
    wait_until(follower.lease.try_take, 5, "the follower to take the lease")
    assert follower.lease.held and follower.lease.still_held()


def lost_lines(caplog) -> int:
    return sum("lost the lease" in r.message for r in caplog.records)


def test_a_holder_whose_session_ends_loses_the_lease_once_and_the_other_takes_it(url, open_lease_store, caplog):
    holder, follower = holder_and_follower(open_lease_store(), open_lease_store())
    assert holder.lease.still_held() and lost_lines(caplog) == 0
    terminate(url, holder.lease.backend_pid)
    assert holder.lease.still_held() is False
    assert holder.lease.still_held() is False and not holder.lease.held
    assert lost_lines(caplog) == 1, "lost once, however often the watch asks after"
    wait_until(follower.lease.try_take, 5, "the follower to take the lease")
    assert not holder.lease.try_take(), "the old holder reconnects, finds it taken, and takes nothing"
    assert lost_lines(caplog) == 1


def test_a_follower_writes_while_the_other_holds_and_each_sees_the_other_s_writes(open_lease_store):
    holder, follower = holder_and_follower(open_lease_store(), open_lease_store())
    ada, created = participants.join(follower, "a" * 32, "Ada")
    assert created
    with follower.transaction() as db:
        PostgresStore.put_state(db, "written by", "the follower")
    with holder.transaction() as db:
        PostgresStore.put_state(db, "and by", "the holder")
    for store in (holder, follower):
        assert store.get_state("written by") == "the follower" and store.get_state("and by") == "the holder"
    assert participants.join(holder, "a" * 32, "Ada") == (ada, False), "one phone, whichever process it reaches"
    assert not follower.lease.held and holder.lease.still_held()


def test_after_a_postgresql_restart_the_conductor_is_told_and_every_process_still_writes(postgres, open_lease_store,
                                                                                          caplog):
    holder, follower = holder_and_follower(open_lease_store(), open_lease_store())
    postgres.restart()  # every session ends, and the lease with the holder's
    with holder.transaction() as db:  # its dropped connection is replaced; the restart path finds the loss
        PostgresStore.put_state(db, "after", "the holder's write")
    assert not holder.lease.held and lost_lines(caplog) == 1  # what the conductor's watch acts on
    with follower.transaction() as db:  # a follower is never refused, nor told anything
        PostgresStore.put_state(db, "also", "the follower's write")
    assert not follower.lease.held and lost_lines(caplog) == 1
    wait_until(lambda: holder.lease.try_take() or follower.lease.try_take(), 5, "one of them to take the lease")
    assert [holder.lease.held, follower.lease.held].count(True) == 1
    assert follower.get_state("after") == "the holder's write" and holder.get_state("also") == "the follower's write"


def test_a_lease_holder_is_a_server_to_an_exclusive_store_and_a_lease_store_follows_an_exclusive_one(
        url, open_lease_store):
    conductor = open_lease_store()
    assert conductor.lease.held
    with pytest.raises(StoreError, match="another Stage is already using"):
        PostgresStore(url)
    conductor.close()
    exclusive = PostgresStore(url)
    try:
        follower = open_store(url, Path("."), lease=True)  # the open_store keyword reaches the store
        try:
            assert not follower.lease.held and not follower.lease.try_take()
            with follower.transaction() as db:
                PostgresStore.put_state(db, "from", "a follower of an exclusive server")
            assert exclusive.get_state("from") == "a follower of an exclusive server"
            exclusive.close()
            wait_until(follower.lease.try_take, 5, "the follower to take the lease")
        finally:
            follower.close()
    finally:
        exclusive.close()


def test_the_lease_holder_asks_postgresql_for_keepalives_and_the_exclusive_holder_keeps_the_default(url):
    shared = PostgresStore(url, lease=True)
    try:
        conn = shared.lease.conn
        assert [conn.execute(f"SHOW tcp_keepalives_{name}").fetchone()[0] for name in ("idle", "interval", "count")] \
            == ["2", "1", "2"]
        assert conn.info.get_parameters()["tcp_user_timeout"] == "2000"
        assert conn.execute("SHOW tcp_user_timeout").fetchone()[0] == "4000"  # PostgreSQL's side of the socket
        terminate(url, shared.lease.backend_pid)
        assert not shared.lease.still_held() and shared.lease.try_take()  # a new session: the settings again
        assert shared.lease.conn.execute("SHOW tcp_keepalives_idle").fetchone()[0] == "2"
    finally:
        shared.close()
    exclusive = PostgresStore(url)
    try:  # no watch runs beside an exclusive server: a lock freed by a network blip would go unnoticed
        assert exclusive.lease.conn.execute("SHOW tcp_keepalives_idle").fetchone()[0] != "2"  # the kernel's
    finally:
        exclusive.close()


GREEN_WATCH = r"""
import sys
url = sys.argv[1]
sys.argv = ["stage", "serve", "--async-mode", "gevent"]
import stage.__main__  # monkey-patches, as `stage serve` does
import gevent
from stage.records.postgres_store import PostgresStore
stores = [PostgresStore(url, lease=True), PostgresStore(url, lease=True)]
holder, follower = stores if stores[0].lease.held else stores[::-1]
checks = [0]
def watch():
    while True:
        assert holder.lease.still_held() and not follower.lease.try_take()
        checks[0] += 1
        gevent.sleep(0.02)
gevent.spawn(watch)
while checks[0] < 1:
    gevent.sleep(0.01)
before = checks[0]
holder.query("SELECT pg_sleep(1)")  # a pooled connection busy meanwhile, in another greenlet's stead
print(checks[0] - before)
for store in stores:
    store.close()
"""


def test_the_watch_and_the_poll_run_in_greenlets_beside_a_slow_query(url):
    """Under gevent, checking and polling the lease go on while the pool is busy (the holder is its own
    connection); a check that waited on the query, or blocked the hub, would run once or not at all."""
    done = subprocess.run([sys.executable, "-c", GREEN_WATCH, url], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) >= 10
