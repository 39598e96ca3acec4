"""Two ``stage serve --redis`` processes on one night: one PostgreSQL, one Redis, one data directory.

Phones connect to each process directly here (the proxy in front comes with ``--workers``); consoles and
displays connect to the conductor, which is the one process whose ``/healthz/conductor`` answers 200.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
import socketio

from tests.conftest import PeerFactory, demo_show
from tests.peers import go
from tests.stage_process import StageProcess
from tests.waiting import wait_until


@dataclass
class Pair:
    conductor: StageProcess
    follower: StageProcess

    def at(self, server: StageProcess) -> PeerFactory:
        factory = PeerFactory(server)
        self.factories.append(factory)
        return factory

    def __post_init__(self) -> None:
        self.factories: list[PeerFactory] = []


def conducting(server: StageProcess) -> bool:
    try:
        return requests.get(f"{server.url}/healthz/conductor", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


@pytest.fixture
def pair(tmp_path, postgres, redis_server) -> Iterator[Pair]:
    url = postgres.fresh_database()
    show, data = demo_show(tmp_path), tmp_path / "data"
    extra = ("--redis", redis_server.url)
    first = StageProcess(show, data, database=url, extra_args=extra).start()
    wait_until(lambda: conducting(first), 10, "the first process to run the show")
    second = StageProcess(show, data, database=url, extra_args=extra).start()
    pair = Pair(first, second)
    yield pair
    for server in (first, second):
        server.stop()
    for factory in pair.factories:
        factory.close_all()
    postgres.drop(url)


def test_one_process_runs_the_show_and_only_it_takes_consoles_displays_and_agents(pair):
    assert conducting(pair.conductor) and not conducting(pair.follower)
    assert requests.get(f"{pair.follower.url}/healthz/live", timeout=5).status_code == 200
    follower = pair.at(pair.follower)
    for opening in (follower.host, follower.display):
        with pytest.raises(socketio.exceptions.ConnectionError, match="not_conductor"):
            opening()
    assert follower.phone("Ada").participant  # phones are served everywhere


def test_a_go_and_an_approval_reach_phones_on_both_processes(pair):
    here, there = pair.at(pair.conductor), pair.at(pair.follower)
    host, moderator, display = here.host(), here.moderation(), here.display()
    near, far = here.phone("Ada"), there.phone("Bo")
    go(host)
    go(host)  # cue 2 opens the cape prompt: every phone hears it, on either process
    for phone in (near, far):
        assert phone.wait_for("prompt", lambda data: data["prompt"] and data["prompt"]["id"] == "cape")
    story = str(uuid.uuid4())
    assert far.call("submit_story", {"id": story, "prompt": "cape", "text": "From the far side."})["ok"]
    assert moderator.wait_for("queue_add", lambda data: data["record"]["id"] == story)  # submitted on the follower
    assert moderator.call("moderate", {"id": story, "decision": "approve"})["ok"]
    far.wait_for("record_status", lambda data: data["record"]["id"] == story and data["record"]["status"] == "approved")
    near.wait_for("feed_update", lambda data: story in [r["id"] for r in data["records"]])
    go(host)  # cue 3: the wall, with the story approved here and written there
    display.wait_for("scene", lambda data: data["scene"]["type"] == "wall")
    host.wait_for("counts", lambda data: data["phones"] == 2, timeout=10)  # the house: one phone on each


def test_the_follower_takes_the_show_over_when_the_conductor_is_killed(pair):
    here = pair.at(pair.conductor)
    host = here.host()
    for _ in range(3):
        go(host)  # join scene, the cape prompt open, the wall
    phone = pair.at(pair.follower).phone("Ada")
    story = str(uuid.uuid4())
    assert phone.call("submit_story", {"id": story, "prompt": "cape", "text": "Still here after a failover."})["ok"]
    assert here.moderation().call("moderate", {"id": story, "decision": "approve"})["ok"]
    pair.conductor.proc.kill()  # kill -9: no clean stop, the lease goes with its PostgreSQL session
    pair.conductor.proc.wait(timeout=10)
    wait_until(lambda: conducting(pair.follower), 5, "the follower to take the lease")
    there = pair.at(pair.follower)
    cues = there.host().wait_for("cues")
    assert cues["standby"] == "4"
    assert {c["id"]: c["state"] for c in cues["cues"]}["2"] == "done"
    scene = there.display().wait_for("scene")
    assert scene["scene"]["type"] == "wall"
    assert [r["text"] for r in scene["records"]] == ["Still here after a failover."]
    again = there.phone("Ada", device_key=phone.device_key)
    assert again.joined["prompt"]["id"] == "cape"
    assert again.joined["records"][0]["status"] == "approved"
    assert requests.get(f"{pair.follower.url}/healthz", timeout=5).json()["cue"] == "4"


def test_redis_restarted_mid_night_the_consoles_show_it_and_everyone_catches_up(pair, redis_server):
    here, there = pair.at(pair.conductor), pair.at(pair.follower)
    host, moderator = here.host(), here.moderation()
    far = there.phone("Bo")
    go(host)
    go(host)  # the cape prompt
    far.wait_for("prompt", lambda data: data["prompt"] and data["prompt"]["id"] == "cape")
    earlier = str(uuid.uuid4())
    assert far.call("submit_story", {"id": earlier, "prompt": "cape", "text": "Before the outage."})["ok"]
    moderator.wait_for("queue_add", lambda data: data["record"]["id"] == earlier)
    redis_server.kill()
    host.wait_for("counts", lambda data: data.get("message_queue") == "down", timeout=15)  # the banner's cue
    during = str(uuid.uuid4())
    assert far.call("submit_story", {"id": during, "prompt": "cape", "text": "During the outage."})["ok"]
    assert moderator.call("moderate", {"id": earlier, "decision": "approve"})["ok"]  # Bo's phone cannot hear it
    redis_server.restart()
    # The far phone is told to re-sync, and its read-only state has the approval it missed.
    far.wait_for("resync", timeout=15)
    standing = far.call("state")
    assert standing["ok"] and {r["id"]: r["status"] for r in standing["records"]}[earlier] == "approved"
    # The conductor's consoles reconnect and get the queue with the story submitted on the follower meanwhile.
    moderator.wait_for("disconnect", timeout=10)
    again = here.moderation()
    assert during in [r["id"] for r in again.wait_for("queue")["records"]]
    assert here.host().wait_for("counts").get("message_queue") == "up"
