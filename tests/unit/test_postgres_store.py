"""What only the PostgreSQL store has to prove: its schema matches SQLite's, its acks are synchronous
commits, concurrent writers keep client-made ids idempotent, and every fault is one clear sentence.

A real PostgreSQL (tests/postgres.py), one database per test. The tests every backend shares are in
test_store.py and the other records tests, on both backends."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from stage.errors import StoreError
from stage.records import lookup, participants, submissions
from stage.records.migrations import MIGRATIONS
from stage.records.postgres_migrations import POSTGRES_MIGRATIONS
from stage.records.postgres_connection import pyformat
from stage.records.postgres_store import PostgresStore
from stage.records.sqlite_store import SqliteStore
from stage.records.store import open_store
from stage.show.models import Prompt
from tests.postgres import PASSWORD, PASSWORD_USER
from tests.stage_process import free_port

PROMPT = Prompt(id="cape", text="A cape", max_chars=40, max_words=6)


@pytest.fixture
def url(postgres):
    database = postgres.fresh_database()
    yield database
    postgres.drop(database)


def test_both_histories_make_the_same_tables_columns_and_views(url, tmp_path):
    assert len(POSTGRES_MIGRATIONS) == len(MIGRATIONS)
    sqlite = SqliteStore(tmp_path / "stage.db")
    pg = PostgresStore(url)
    try:
        lite_tables = {r["name"]: [c["name"] for c in sqlite.query(f"PRAGMA table_info({r['name']})")]
                       for r in sqlite.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                                             " AND name NOT LIKE 'sqlite_%'")}
        pg_tables: dict[str, list[str]] = {}
        for r in pg.query("SELECT table_name, column_name FROM information_schema.columns"
                          " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"):
            pg_tables.setdefault(r["table_name"], []).append(r["column_name"])
        assert pg_tables.pop("stage_schema") == ["version"]
        assert pg_tables.pop("stage_flush") == ["backend", "n"], "the store's own (see CLOSING), not the night's"
        assert pg_tables.pop("record_sources")[0] == "rowid", "SQLite's implicit insertion order, made explicit"
        lite_tables.pop("record_sources")
        assert pg_tables == lite_tables
        lite_indexes = {r["name"] for r in sqlite.query("SELECT name FROM sqlite_master WHERE type = 'index'"
                                                        " AND name NOT LIKE 'sqlite_%'")}
        pg_indexes = {r["indexname"] for r in pg.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
                                                       " AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'")}
        assert pg_indexes == lite_indexes
        assert pg.schema_version() == sqlite.schema_version() == len(MIGRATIONS)
    finally:
        sqlite.close()
        pg.close()


def test_an_ack_survives_a_database_crash_right_after_it_whatever_the_database_default(postgres, url):
    """The write commits asynchronously (the writer lock goes at once) and the ack waits for a flush that
    covers it. The control: an asynchronous commit nobody flushed is lost in the same crash."""
    postgres.sql(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET synchronous_commit = off")
    store = PostgresStore(url)
    try:
        assert store.query("SHOW synchronous_commit")[0][0] == "on"
        with store.transaction() as db:
            PostgresStore.put_state(db, "acked", 1)
        with psycopg.connect(url, autocommit=True) as raw:  # the database's default: off
            raw.execute("INSERT INTO state (key, value) VALUES ('never flushed', '1')")
        postgres.crash()  # no checkpoint, no WAL written out: what is only in PostgreSQL's buffers is gone
        postgres.restart()
    finally:
        store.close()
    reopened = PostgresStore(url)
    try:
        assert reopened.get_state("acked") == 1
        assert reopened.get_state("never flushed") is None, "the control: the crash did lose an unflushed commit"
    finally:
        reopened.close()


def test_a_join_and_a_story_are_two_round_trips_each_and_a_banned_phone_still_gets_banned(url, monkeypatch):
    """Round trips are what a write costs under a busy event loop (docs/benchmarks.md, B1): the opening goes
    with the first statement, the audit entry with the commit."""
    from stage.errors import Forbidden
    from stage.records import moderation
    from stage.records.postgres_connection import PgConnection

    trips = []
    real = PgConnection._send
    monkeypatch.setattr(PgConnection, "_send", lambda self, *a: trips.append(1) or real(self, *a))
    store = PostgresStore(url)
    try:
        ada, _ = participants.join(store, "a" * 32, "Ada")
        assert len(trips) == 2
        trips.clear()
        record, created = submissions.submit_story(store, ada.id, PROMPT, str(uuid.uuid4()), "Two trips.")
        assert created and record.author == "Ada" and len(trips) == 2
        assert [r["action"] for r in store.query("SELECT action FROM audit ORDER BY seq")] == ["join", "submit"]
        moderation.ban(store, ada.id, "host:test")
        with pytest.raises(Forbidden, match="cannot submit"):
            submissions.submit_story(store, ada.id, PROMPT, str(uuid.uuid4()), "Banned now.")
    finally:
        store.close()


def test_placeholders_become_psycopg_s_outside_string_literals():
    assert pyformat("SELECT '?', x FROM t WHERE a = ? AND b LIKE 'c.%' AND d = '''?'''") == \
        "SELECT '?', x FROM t WHERE a = %s AND b LIKE 'c.%%' AND d = '''?'''"


def test_a_second_server_on_one_database_is_refused_and_the_first_keeps_working(url):
    first = PostgresStore(url)
    try:
        with pytest.raises(StoreError, match="another Stage is already using"):
            PostgresStore(url)
        assert first.get_state("anything", "still here") == "still here"
    finally:
        first.close()
    PostgresStore(url).close()  # closing the first let it go


def test_two_writers_receiving_the_same_id_at_once_store_one_record_and_both_answer_with_it(url):
    """Two stores are two connections, as two serve processes would be: both submits race past the
    "already stored?" look-up; the writer lock and ON CONFLICT leave one record, and both return it."""
    stores = [PostgresStore(url, exclusive=False), PostgresStore(url, exclusive=False)]
    try:
        ada, _ = participants.join(stores[0], "a" * 32, "Ada")
        record_id = str(uuid.uuid4())
        gate = threading.Barrier(2)
        real_resent = lookup.resent
        answers: list[tuple] = []

        def resent_after_both_looked(store, participant_id, rid):
            found = real_resent(store, participant_id, rid)
            gate.wait(timeout=10)  # neither inserts before both have seen no record
            return found

        def submit(store):
            answers.append(submissions.submit_story(store, ada.id, PROMPT, record_id, "Same story."))

        lookup.resent = resent_after_both_looked
        try:
            threads = [threading.Thread(target=submit, args=(s,)) for s in stores]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        finally:
            lookup.resent = real_resent
        assert len(answers) == 2
        assert sorted(created for _, created in answers) == [False, True]
        assert answers[0][0] == answers[1][0]
        assert stores[0].query("SELECT COUNT(*) FROM records")[0][0] == 1
        assert stores[1].query("SELECT COUNT(*) FROM audit WHERE action = 'submit'")[0][0] == 1
    finally:
        for store in stores:
            store.close()


def test_writers_take_turns_so_a_read_then_write_sees_every_earlier_commit(url):
    """``participants.join`` reads (is this phone known?) then writes, in one transaction. Two stores (two
    connections, as two serve processes) joining the same phones at once: without the writer lock both
    would read "unknown" and the second insert would break the device key's uniqueness."""
    stores = [PostgresStore(url, exclusive=False) for _ in range(4)]
    failures: list[BaseException] = []
    try:
        for round_ in range(5):
            gate = threading.Barrier(len(stores))

            def join(store, key=f"{round_}" * 32):
                gate.wait(timeout=10)
                try:
                    participants.join(store, key, "Ada")
                except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                    failures.append(exc)

            threads = [threading.Thread(target=join, args=(s,)) for s in stores]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        assert failures == []
        assert stores[0].query("SELECT COUNT(*) FROM participants")[0][0] == 5
    finally:
        for store in stores:
            store.close()


def test_a_newer_schema_is_refused(url):
    PostgresStore(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE stage_schema SET version = %s", (len(POSTGRES_MIGRATIONS) + 1,))
    with pytest.raises(StoreError, match="newer Stage"):
        PostgresStore(url)


@pytest.mark.parametrize("what", ["nothing listening", "unknown role", "wrong password", "unknown database"])
def test_an_unreachable_database_or_refused_login_is_one_sentence(postgres, what, tmp_path):
    bad = {"nothing listening": f"postgresql://stage@127.0.0.1:{free_port()}/night",
           "unknown role": postgres.url(user="nobody"),
           "wrong password": f"postgresql://{PASSWORD_USER}:wrong-one@127.0.0.1:{postgres.port}/postgres",
           "unknown database": postgres.url("no_such_night")}[what]
    with pytest.raises(StoreError) as refused:
        open_store(bad, tmp_path)
    message = refused.value.message
    assert message.startswith("cannot reach PostgreSQL at postgresql://") and "\n" not in message
    assert {"nothing listening": "refused", "unknown role": 'role "nobody" does not exist',
            "wrong password": f'password authentication failed for user "{PASSWORD_USER}"',
            "unknown database": 'database "no_such_night" does not exist'}[what] in message
    assert "wrong-one" not in message


def test_the_right_password_gets_in(postgres, url):
    postgres.sql(f"GRANT ALL ON SCHEMA public TO {PASSWORD_USER}", url.rsplit("/", 1)[1])
    store = PostgresStore(f"postgresql://{PASSWORD_USER}:{PASSWORD}@127.0.0.1:{postgres.port}/{url.rsplit('/', 1)[1]}")
    try:
        assert store.schema_version() == len(POSTGRES_MIGRATIONS)
        assert PASSWORD not in store.location
    finally:
        store.close()


def test_a_password_never_reaches_a_message(postgres):
    with pytest.raises(StoreError) as refused:
        open_store(f"postgresql://stage:s3cret-pass@127.0.0.1:{free_port()}/night", Path("."))
    assert "s3cret-pass" not in refused.value.message


def test_postgresql_restarted_mid_night_refuses_writes_while_down_and_reconnects_by_itself(postgres, url):
    store = PostgresStore(url)
    try:
        ada, _ = participants.join(store, "a" * 32, "Ada")
        kept = str(uuid.uuid4())
        submissions.submit_story(store, ada.id, PROMPT, kept, "Before the restart.")
        postgres.stop_server()
        try:
            with pytest.raises(StoreError, match="the store could not"):  # read (is it a resend?) or save
                submissions.submit_story(store, ada.id, PROMPT, str(uuid.uuid4()), "While it is down.")
        finally:
            postgres.restart()
        after = str(uuid.uuid4())
        record, created = submissions.submit_story(store, ada.id, PROMPT, after, "After the restart.")
        assert created and record.status == "pending"
        assert {r["id"] for r in store.query("SELECT id FROM records")} == {kept, after}
    finally:
        store.close()


GREEN_QUERY = r"""
import sys
mode, url = sys.argv[1:3]
sys.argv = ["stage", "serve", "--async-mode", mode]
import stage.__main__  # monkey-patches for the mode, as `stage serve` does
from stage.records.postgres_store import PostgresStore
if mode == "gevent":
    import gevent as green
    sleep, spawn = green.sleep, green.spawn
else:
    import eventlet as green
    sleep, spawn = green.sleep, green.spawn
store = PostgresStore(url)
ticks = [0]
def tick():
    while True:
        ticks[0] += 1
        sleep(0.01)
spawn(tick)
while ticks[0] < 2:  # the ticker is running
    sleep(0.01)
before = ticks[0]
store.query("SELECT pg_sleep(1)")
print(ticks[0] - before)
store.close()
"""


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_a_slow_query_never_stops_the_event_loop(url, mode):
    """A 1 s query: other greenlets (every other phone) keep running meanwhile, in both async modes.
    A query that blocked the hub would let the 10 ms ticker run once or not at all."""
    done = subprocess.run([sys.executable, "-c", GREEN_QUERY, mode, url],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) >= 10


def test_a_queued_statement_refused_at_the_commit_undoes_the_whole_transaction(url):
    store = PostgresStore(url, pool_size=1)  # one connection: the next write gets the very same one back
    try:
        with store.transaction() as db:
            PostgresStore.audit(db, "host:test", "go", "1")
        with pytest.raises(StoreError, match="append-only"):
            with store.transaction() as db:
                PostgresStore.put_state(db, "kept", "no")  # queued, then sent with the refused one at the commit
                db.execute_later("UPDATE audit SET action = 'nothing'")
        assert store.get_state("kept") is None
        with store.transaction() as db:
            PostgresStore.put_state(db, "kept", "yes")
        assert store.get_state("kept") == "yes"
        assert [r["action"] for r in store.query("SELECT action FROM audit")] == ["go"]
    finally:
        store.close()


def test_the_audit_log_refuses_truncate_too(url):
    store = PostgresStore(url)
    try:
        with store.transaction() as db:
            PostgresStore.audit(db, "host:test", "go", "1")
        with pytest.raises(StoreError, match="append-only"):
            with store.transaction() as db:
                db.execute("TRUNCATE audit")
        assert [r["action"] for r in store.query("SELECT action FROM audit")] == ["go"]
    finally:
        store.close()


def test_a_migration_in_sqlite_words_that_are_not_rewritten_is_refused_at_import():
    from stage.records.postgres_migrations import postgres_words

    with pytest.raises(ValueError, match="PRAGMA"):
        postgres_words("PRAGMA foreign_keys = ON;")
    assert "DOUBLE PRECISION" in postgres_words("CREATE TABLE t (at REAL NOT NULL);")
