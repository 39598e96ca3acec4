"""The first night over real Socket.IO, for what needs the real transport: a message over the size a
connection may send. The rest of the first night's tests run in process (tests/app/test_first_night.py)."""

from __future__ import annotations

import sqlite3
import uuid

from tests.peers import Peer, go
from tests.stage_process import StageProcess


def db_rows(stage: StageProcess, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(f"file:{stage.data_dir / 'stage.db'}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


def open_prompt(host: Peer) -> None:
    """GO cue 1 (join scene) and cue 2 (open the cape prompt) of the demo show."""
    for expected in ("1", "2"):
        ack = go(host)
        assert ack["ok"] and ack["fired"]["cue"] == expected and ack["fired"]["state"] == "done", ack


# Needs a real server: the per-connection message cap is enforced by the transport (stage/realtime/transport.py),
# which Flask-SocketIO's test client bypasses.
def test_an_oversized_message_closes_only_that_connection_and_stores_nothing(stage, peers):
    open_prompt(peers.host())
    big = peers.phone("Big")
    other = peers.phone("Other")
    big.client.emit("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": "x" * 400_000},
                    namespace="/audience")
    big.wait_for("disconnect", timeout=10)
    ack = other.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": "Still serving."})
    assert ack["ok"]
    assert db_rows(stage, "SELECT text FROM records") == [("Still serving.",)]
