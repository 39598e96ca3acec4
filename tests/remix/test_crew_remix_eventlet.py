"""A crew render under ``--async-mode eventlet``: the worker's progress still streams, the server keeps serving."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import demo_show
from tests.stage_process import StageProcess


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[StageProcess]:  # overrides the gevent server for this module
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", async_mode="eventlet").start()
    yield server
    server.stop()


def test_an_eventlet_server_renders_and_serves_phones_meanwhile(remix_night):
    night = remix_night
    crew = night.peers.crew()
    ack = crew.call("remix_render", {"recipe": {"recipe": "reel", "takes": night.takes}})
    assert ack["ok"], ack
    crew.wait_for("remix_progress", lambda d: d["job"] == ack["job"] and d["fraction"] > 0, timeout=120)
    story = {"id": str(uuid.uuid4()), "prompt": "cape", "text": "Written while the reel renders."}
    assert night.phones["Bea"].call("submit_story", story, timeout=5)["ok"], "phones are served during a render"
    done = crew.wait_for("remix_done", lambda d: d["job"] == ack["job"], timeout=120)
    assert done["duration"] == pytest.approx(2.5 + 2.5 + 3.0 + 2.5 + 4.0, abs=0.15)
