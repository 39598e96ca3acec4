"""The whole capture path with real parts: `stage serve` starts the rig's agent itself, an MJPEG
camera and the PulseAudio microphone feed it, a record cue rolls, the take reaches the server and the
crew console lists it, linked to its story and performer; the projector's live scene shows the rig."""

from __future__ import annotations

import time
import uuid

import requests

from tests.capture.analyse import decode, peak_hz
from tests.capture.conftest import tone
from tests.conftest import PeerFactory
from tests.peers import go
from tests.stage_process import StageProcess

SHOW = """
title: Capture night
go_debounce_ms: 0
displays: [{{name: main}}]
prompts: [{{id: cape, text: A cape, auto_approve: true}}]
rigs: [{{name: stage, camera: "{camera}", microphone: pulse, local: true}}]
cues:
  - {{id: open, type: prompt, prompt: cape}}
  - {{id: live, type: display, display: main, scene: live, rig: stage}}
  - {{id: roll, type: record, rig: stage}}
  - {{id: cut, type: record, rig: stage, action: stop}}
"""


def test_a_record_cue_makes_a_take_the_crew_can_play(tmp_path, pulse, camera):
    show = tmp_path / "capture.yaml"
    show.write_text(SHOW.format(camera=camera.url))
    server = StageProcess(show, tmp_path / "data", local_rigs=True).start()
    peers = PeerFactory(server)
    try:
        host, crew, display = peers.host(), peers.crew(), peers.display("main")
        crew.wait_for("rigs", lambda d: d["rigs"][0]["status"] == "online", timeout=40)
        go(host)  # the prompt opens
        ada, bo = peers.phone("Ada"), peers.phone("Bo")
        story = str(uuid.uuid4())
        assert ada.call("submit_story", {"id": story, "prompt": "cape", "text": "The cape sings."})["ok"]
        consent = bo.joined["consent"]["version"]
        assert bo.call("volunteer", {"consent_version": consent, "story": story})["ok"]
        assert host.call("send_to_display", {"display": "main", "record": story})["ok"]

        go(host)  # the live scene: the rig's preview reaches the projector
        frame = display.wait_for("preview", timeout=20)
        assert frame["rig"] == "stage" and frame["jpeg"][:2] == b"\xff\xd8"

        wav = tone(tmp_path / "tone.wav", 6, hz=880)
        player = pulse.play(wav)
        rolled = go(host)["fired"]
        assert rolled["cue"] == "roll" and rolled["state"] != "error", rolled
        time.sleep(4)  # the take's length (the stop cue comes four seconds into the tone)
        assert go(host)["fired"]["state"] != "error"
        player.wait(20)

        listed = crew.wait_for("takes", lambda d: len(d["takes"]) == 1, timeout=60)["takes"][0]
        assert listed["story_id"] == story and listed["performer"] == "Bo" and listed["take"] == 1
        assert listed["rig"] == "stage" and listed["cue"] == "roll"
        assert 3.0 <= listed["duration"] <= 6.5, listed
        media = requests.get(f"{server.url}{listed['media']}", timeout=30)
        assert media.status_code == 200 and media.headers["Content-Type"] == "video/mp4"
        path = tmp_path / "take.mp4"
        path.write_bytes(media.content)
        take = decode(path)
        assert len(take.video_times) >= 60, "about four seconds of a 30 fps camera"
        assert abs(peak_hz(take.audio[: take.rate * 3], take.rate) - 880) < 15, "the microphone heard the tone"
        assert "Bo" in take.metadata.get("title", "") or "Bo" in take.metadata.get("comment", "")
        assert (tmp_path / "data" / "capture-spool" / "stage").is_dir(), "the agent spools inside the night's data"

        # The crew remixes what the agent recorded: a captioned take, credited to everyone in it.
        ack = crew.call("remix_render", {"recipe": {"recipe": "captioned-take", "take": listed["id"]}})
        assert ack["ok"] and ack["sources"] == [listed["id"], story], ack
        done = crew.wait_for("remix_done", lambda d: d["job"] == ack["job"], timeout=120)
        assert {p["name"]: p["roles"] for p in done["credits"]} == {
            "Ada": ["wrote"], "Bo": ["performed"]}  # its rig names no operator: no camera credit, never the rig
        remix = server.login("crew").get(f"{server.url}{done['media']}", timeout=30)
        assert remix.status_code == 200
        (tmp_path / "remix.mp4").write_bytes(remix.content)
        rendered = decode(tmp_path / "remix.mp4")
        assert abs(rendered.duration - listed["duration"]) < 0.5 and len(rendered.audio) > 0
    finally:
        server.stop()
        peers.close_all()
    assert "local capture agent for rig stage stopped" in server.log_text()
