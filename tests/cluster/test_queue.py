"""``stage serve --redis``: one process on the message queue, a real Redis and a real PostgreSQL.

The queue carries every emit to the night's other processes; here there is one process, so what is checked
is what the queue itself does: emits are published on the night's channel, and a Redis that dies and comes
back is reported to the consoles' health and never stops a GO, a join or a story.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import requests

from stage.cluster import night_channel
from tests.conftest import PeerFactory, demo_show
from tests.peers import go
from tests.stage_process import StageProcess
from tests.waiting import wait_until


@pytest.fixture
def served(tmp_path, postgres, redis_server) -> Iterator[tuple[StageProcess, PeerFactory, str]]:
    url = postgres.fresh_database()
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", database=url,
                          extra_args=("--redis", redis_server.url)).start()
    peers = PeerFactory(server)
    yield server, peers, url
    server.stop()
    peers.close_all()
    postgres.drop(url)


def queue_state(server: StageProcess) -> str:
    return requests.get(f"{server.url}/healthz", timeout=5).json()["message_queue"]


def test_a_go_is_published_on_the_nights_channel(served, redis_server):
    server, peers, url = served
    listener = redis_server.client().pubsub(ignore_subscribe_messages=True)
    listener.subscribe(night_channel(url))
    host = peers.host()
    go(host)
    published = []

    def cues_published() -> bool:
        message = listener.get_message(timeout=0.2)
        if message and message["type"] == "message":
            published.append(json.loads(message["data"]))
        return any(m.get("method") == "emit" and m.get("event") == "cues" for m in published)

    wait_until(cues_published, 10, "the GO's cues on the night's channel")
    listener.close()


def test_redis_dying_is_reported_and_stops_nothing_and_its_return_too(served, redis_server):
    server, peers, _ = served
    # "down" until the listener has heard the channel (stage/realtime/queue.py): a moment after the start
    wait_until(lambda: queue_state(server) == "up", 10, "the message queue up after the start")
    host, phone = peers.host(), peers.phone("Ada")
    redis_server.kill()
    wait_until(lambda: queue_state(server) == "down", 10, "the health to say the message queue is down")
    assert go(host)["ok"] and go(host)["fired"]["cue"] == "2"  # doors open, then the cape prompt
    ack = phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": "A cape."})
    assert ack["ok"], ack
    assert peers.phone("Bo").participant  # a join writes the store and needs no queue
    redis_server.restart()
    wait_until(lambda: queue_state(server) == "up", 10, "the health to say the message queue is up again")
    assert "message queue" in server.log_text() and "is down" in server.log_text()
    host.wait_for("disconnect", timeout=10)  # consoles reconnect once, for their full state (realtime/resync.py)
    again = peers.host()
    go(again)
    again.wait_for("cues", lambda data: data["standby"] == "4")  # the show went on through the outage
