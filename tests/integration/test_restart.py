"""A restarted server resumes: cue playhead, open prompt, display scenes and records (on both backends)."""

from __future__ import annotations

import uuid

from tests.peers import go
from tests.conftest import PeerFactory
from tests.stage_process import DEMO_SHOW, StageProcess


def test_restart_resumes_playhead_prompt_scene_and_records(tmp_path, database):
    data = tmp_path / "data"
    first = StageProcess(DEMO_SHOW, data, database=database).start()
    peers = PeerFactory(first)
    host = peers.host()
    moderator = peers.moderation("host")
    for _ in range(3):
        go(host)  # join scene, open prompt, wall scene
    phone = peers.phone("Ada")
    story_id = str(uuid.uuid4())
    phone.call("submit_story", {"id": story_id, "prompt": "cape", "text": "Still here after a restart."})
    moderator.call("moderate", {"id": story_id, "decision": "approve"})
    first.stop()
    peers.close_all()

    second = StageProcess(DEMO_SHOW, data, database=database).start()
    peers = PeerFactory(second)
    try:
        assert second.display_keys == first.display_keys, "display URLs survive a restart"
        cues = peers.host().wait_for("cues")
        assert cues["standby"] == "4"
        assert {c["id"]: c["state"] for c in cues["cues"]}["2"] == "done"
        scene = peers.display().wait_for("scene")
        assert scene["scene"]["type"] == "wall"
        assert [r["text"] for r in scene["records"]] == ["Still here after a restart."]
        again = peers.phone("Ada", device_key=phone.device_key)
        assert again.joined["prompt"]["id"] == "cape"
        assert again.joined["records"][0]["status"] == "approved"
    finally:
        second.stop()
        peers.close_all()
