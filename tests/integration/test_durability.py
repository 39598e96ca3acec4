"""kill -9 of `stage serve` in the middle of submissions loses no acknowledged record, on both backends.

Ten phones submit as fast as their acks come back; once some have been acknowledged the server is
killed outright (SIGKILL: no shutdown code runs), and on PostgreSQL the database crashes with it
(``pg_ctl stop -m immediate``: no checkpoint, recovery from its WAL at the next start). Every story a
phone got ``ok`` for must then be in the store, exactly as sent; the ones in flight may or may not be
(their phones never heard, and resend).
"""

from __future__ import annotations

import signal
import threading
import uuid

from stage.records.store import open_store
from tests.conftest import PeerFactory
from tests.peers import go
from tests.stage_process import DEMO_SHOW, StageProcess
from tests.waiting import wait_until

PHONES = 10
EACH = 5  # under the phone's limit of 6 stories per 10 s: every refusal would be a fault, not a limit
KILL_AFTER = 15  # acknowledged stories before the kill (of PHONES * EACH)


def _reopened(database, data_dir):
    """The store after the kill, as the next `stage serve` would open it."""
    if database:
        from stage.records.postgres_store import PostgresStore

        # Not exclusive: PostgreSQL may not yet have noticed that the killed server's session is gone.
        return PostgresStore(database, exclusive=False)
    return open_store(None, data_dir)


def test_kill_9_during_submissions_loses_no_acknowledged_record(tmp_path, database, request):
    data = tmp_path / "data"
    server = StageProcess(DEMO_SHOW, data, database=database).start()
    peers = PeerFactory(server)
    acked: dict[str, str] = {}
    lock = threading.Lock()
    try:
        host = peers.host()
        go(host)
        go(host)  # the join scene, then the prompt "cape" opens
        phones = [peers.phone(f"Phone {n}") for n in range(PHONES)]
        start = threading.Event()

        def submit_all(phone) -> None:
            start.wait()
            for n in range(EACH):
                story_id, text = str(uuid.uuid4()), f"Story {n} from {phone.participant['name']}."
                try:
                    ack = phone.call("submit_story", {"id": story_id, "prompt": "cape", "text": text}, timeout=5)
                except Exception:  # the server died with this one in flight: never acknowledged
                    return
                if ack.get("ok"):
                    with lock:
                        acked[story_id] = text

        threads = [threading.Thread(target=submit_all, args=(phone,), daemon=True) for phone in phones]
        for thread in threads:
            thread.start()
        start.set()
        wait_until(lambda: len(acked) >= KILL_AFTER, timeout=30, what=f"{KILL_AFTER} acknowledged stories")
        server.proc.send_signal(signal.SIGKILL)
        if database:
            cluster = request.getfixturevalue("postgres")
            cluster.crash()
            cluster.restart()
        server.proc.wait(timeout=10)
        for thread in threads:
            thread.join(timeout=15)
        with lock:
            promised = dict(acked)
    finally:
        server.stop()
        peers.close_all()
    store = _reopened(database, data)
    try:
        stored = {r["id"]: r["text"] for r in store.query("SELECT id, text FROM records WHERE kind = 'story'")}
    finally:
        store.close()
    assert KILL_AFTER <= len(promised) < PHONES * EACH, "the kill came while stories were still being sent"
    missing = {i: t for i, t in promised.items() if stored.get(i) != t}
    assert not missing, f"{len(missing)} acknowledged stories lost or changed: {list(missing.values())[:3]}"
