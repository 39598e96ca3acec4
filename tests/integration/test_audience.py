"""The audience against a real server: what needs its concurrency (events of one phone handled at once).

The rest of the audience's tests run in process, in ``tests/app/test_audience.py``: Flask-SocketIO's
test client handles one event at a time, so it cannot hold events in flight together.
"""

from __future__ import annotations

import queue
import sqlite3
import time
import uuid

from tests.peers import Peer, go


def new_id() -> str:
    return str(uuid.uuid4())


def open_night(peers):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)
    return host, moderator


def acks_of_burst(phone: Peer, event: str, payloads: list[dict], timeout: float = 20) -> list[dict]:
    """Send every event at once, without waiting for an ack in between, then collect all the acks."""
    acks: queue.Queue = queue.Queue()
    for payload in payloads:
        phone.client.emit(event, payload, namespace=phone.namespace, callback=lambda ack: acks.put(ack))
    out, deadline = [], time.monotonic() + timeout
    while len(out) < len(payloads):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"only {len(out)} of {len(payloads)} acks arrived: {out}"
        try:
            out.append(acks.get(timeout=remaining))
        except queue.Empty:
            pass
    return out


# Needs a real server: twelve events of one phone in flight at once (the test client handles them in turn).
def test_twelve_stories_sent_back_to_back_are_held_to_the_limit_of_six(stage, peers):
    """The server handles each event of a phone in its own greenlet (``async_handlers``): twelve in flight
    at once all passed a test of the same empty window before (issue 14). In process they would run in turn."""
    open_night(peers)
    racer = peers.phone("Racer")
    acks = acks_of_burst(racer, "submit_story",
                         [{"id": new_id(), "prompt": "cape", "text": f"Story {n}."} for n in range(12)])
    assert sum(a["ok"] for a in acks) == 6, acks
    assert {a["error"]["code"] for a in acks if not a["ok"]} == {"rate_limited"}
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        assert db.execute("SELECT COUNT(*) FROM records").fetchone() == (6,)
