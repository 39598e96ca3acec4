"""eventlet mode starts, serves the first night's path on both stores, and keeps its deprecation notice in the log."""

from __future__ import annotations

import uuid

import requests

from tests.peers import go
from tests.conftest import PeerFactory
from tests.stage_process import DEMO_SHOW, StageProcess


def test_eventlet_mode_smoke(tmp_path, database):
    server = StageProcess(DEMO_SHOW, tmp_path / "data", async_mode="eventlet", database=database).start()
    peers = PeerFactory(server)
    try:
        assert requests.get(f"{server.url}/healthz").json()["status"] == "ok"
        host = peers.host()
        moderator = peers.moderation("host")
        go(host)
        go(host)
        display = peers.display()
        phone = peers.phone("Ada")
        story_id = str(uuid.uuid4())
        assert phone.call("submit_story", {"id": story_id, "prompt": "cape", "text": "Green threads."})["ok"]
        assert moderator.call("moderate", {"id": story_id, "decision": "approve"})["ok"]
        assert phone.wait_for("record_status")["record"]["status"] == "approved"
        assert display.wait_for("wall_add")["record"]["id"] == story_id
    finally:
        returncode = server.stop()
        peers.close_all()
    assert returncode == 0
    assert "(eventlet)" in "\n".join(server.stdout_lines)
    assert "EventletDeprecationWarning" in server.log_text()
    assert "Deprecat" not in server.stderr_path.read_text()
