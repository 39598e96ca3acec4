"""The agent against a real python-socketio server that implements docs/capture.md."""

from __future__ import annotations

import hashlib
import signal
import time
import uuid
from pathlib import Path

import cv2
import numpy as np

from tests.capture.analyse import decode
from tests.capture.conftest import AgentProcess
from tests.capture.contract_server import ContractServer

SLATE = {"show": "Tiny Stories", "cue": "7", "story_id": "s1", "story": "The cape", "performer_id": "p1",
         "performer": "Ada", "take": 2}


def start_agent(agents, tmp_path: Path, server: ContractServer, camera: str, mic: str = "none",
                spool: Path | None = None) -> AgentProcess:
    agent = AgentProcess(["--server", server.url, "--rig", "stage", "--camera", camera, "--mic", mic,
                          "--spool", str(spool or tmp_path / "spool")], tmp_path / f"agent{len(agents)}.log")
    agents.append(agent)
    server.wait_for("connect", timeout=30)
    return agent


def record(server: ContractServer, take_id: str | None = None) -> tuple[str, dict]:
    take_id = take_id or str(uuid.uuid4())
    return take_id, server.command("record", {"take_id": take_id, "slate": SLATE})


def take_ends(server: ContractServer, seconds: float) -> tuple[str, dict]:
    """Record a take of about ``seconds``, stop it, and return its id and how its upload ended."""
    take_id, _ = record(server)
    time.sleep(seconds)  # the take's length, not a wait for an event
    server.command("stop", {"take_id": take_id})
    return take_id, server.wait_for("take_state", lambda s: s["state"] in ("uploaded", "failed"), timeout=40)


def test_record_stop_upload_with_health_and_preview(tmp_path, pulse, camera, server, agents) -> None:
    start_agent(agents, tmp_path, server, camera.url, mic="default")
    health = server.wait_for("health")
    assert health["recording"] is False and health["camera"] == camera.url and health["microphone"] == "default"
    assert health["disk_free"] > 0 and health["audio_db"] is not None
    preview = server.wait_for("preview")
    image = cv2.imdecode(np.frombuffer(preview["jpeg"], np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[1] <= 640

    take_id, ack = record(server)
    assert ack == {"ok": True, "take_id": take_id}
    assert server.wait_for("take_state")["state"] == "recording"
    busy = server.command("record", {"take_id": str(uuid.uuid4()), "slate": SLATE})
    assert busy["ok"] is False and busy["error"]["code"] == "already_recording"
    live = server.wait_for("health", lambda h: h["recording"] and h["seconds"] >= 1)
    assert live["take_id"] == take_id and live["fps_in"] > 20 and live["dropped"] == 0
    time.sleep(2)  # the take's length
    assert server.command("stop", {"take_id": take_id}) == {"ok": True, "take_id": take_id}
    assert server.wait_for("take_state", lambda s: s["take_id"] == take_id)["state"] == "stopped"
    assert server.wait_for("take_state", lambda s: s["take_id"] == take_id, timeout=30)["state"] == "uploaded"

    body = server.completed[take_id]
    data = bytes(server.files[take_id])
    assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["size"] == len(data)
    assert body["rig"] == "stage" and body["slate"]["performer"] == "Ada" and body["frames"] > 60
    (tmp_path / "got.mp4").write_bytes(data)
    got = decode(tmp_path / "got.mp4")
    assert abs(got.duration - body["duration"]) < 0.2 and len(got.audio) > 48000
    assert "Ada" in got.metadata["title"] and "The cape" in got.metadata["title"]
    assert not list((tmp_path / "spool").glob("*.mp4"))  # deleted once the server confirmed


def test_bad_commands_get_clear_refusals(tmp_path, camera, server, agents) -> None:
    start_agent(agents, tmp_path, server, camera.url)
    stop = server.command("stop", {"take_id": None})
    assert stop["ok"] is False and stop["error"]["code"] == "not_recording"
    bad = server.command("record", {"take_id": "not-a-uuid", "slate": SLATE})
    assert bad["ok"] is False and bad["error"]["code"] == "invalid"


def test_upload_cut_halfway_resumes(tmp_path, camera, server, agents) -> None:
    server.cut_first_put = True
    start_agent(agents, tmp_path, server, camera.url)
    take_id, ended = take_ends(server, 3)
    assert ended["state"] == "uploaded"
    assert server.puts >= 2  # the cut chunk, then the rest from the server's `received`
    (tmp_path / "got.mp4").write_bytes(bytes(server.files[take_id]))
    assert len(decode(tmp_path / "got.mp4").video_times) == server.completed[take_id]["frames"]


def test_tampered_upload_is_refused_and_the_file_kept(tmp_path, camera, server, agents) -> None:
    server.tamper = True
    start_agent(agents, tmp_path, server, camera.url)
    take_id, failed = take_ends(server, 2)
    assert failed["state"] == "failed" and "checksum" in failed["reason"]
    assert take_id not in server.completed
    kept = list((tmp_path / "spool").glob("*.mp4"))
    assert len(kept) == 1 and len(decode(kept[0]).video_times) > 30


def test_agent_reconnects_when_the_server_restarts(tmp_path, camera, server, agents) -> None:
    start_agent(agents, tmp_path, server, camera.url)
    again = server.restarted()
    try:
        again.wait_for("connect", timeout=30)
        assert again.wait_for("health")["camera"] == camera.url
    finally:
        again.stop()


def test_sigkill_mid_take_leaves_a_playable_file_uploaded_on_restart(tmp_path, camera, server, agents) -> None:
    agent = start_agent(agents, tmp_path, server, camera.url)
    take_id, ack = record(server)
    started = time.monotonic()
    assert ack["ok"]
    time.sleep(5)  # five seconds recorded before the kill: the restarted agent must upload them
    agent.kill(signal.SIGKILL)
    recorded = time.monotonic() - started
    parts = list((tmp_path / "spool").glob("*.part.mp4"))
    assert len(parts) == 1
    crashed = decode(parts[0])
    assert crashed.video_times[-1] >= recorded - 2.0  # at most 2 s lost to the kill
    assert "Ada" in crashed.metadata["title"]

    start_agent(agents, tmp_path, server, camera.url)  # same spool: finds, finalises, uploads
    assert server.wait_for("take_state", lambda s: s["take_id"] == take_id, timeout=40)["state"] == "uploaded"
    (tmp_path / "got.mp4").write_bytes(bytes(server.files[take_id]))
    got = decode(tmp_path / "got.mp4")
    assert len(got.video_times) == len(crashed.video_times) == server.completed[take_id]["frames"]


def test_take_states_sent_before_the_connection_arrive_once_it_is_up_and_health_does_not() -> None:
    """A restarted agent uploads a recovered take while it is still connecting: that take's state must
    reach the server (the crew's library depends on it); stale health must not."""
    import threading

    from stage.capture.link import AgentLink
    from tests.capture.contract_server import TOKEN

    server = ContractServer().start()
    link = AgentLink(server.url, "stage", TOKEN, {})
    try:
        link.emit("health", {"stale": True})
        link.emit("take_state", {"take_id": "t1", "state": "uploading", "reason": None}, keep=True)
        link.emit("take_state", {"take_id": "t1", "state": "uploaded", "reason": None}, keep=True)
        link.connect(threading.Event())
        link.emit("health", {"stale": False})
        assert server.wait_for("connect") == "stage"
        states = [server.wait_for("take_state")["state"] for _ in range(2)]
        assert states == ["uploading", "uploaded"], "kept in order"
        assert server.wait_for("health") == {"stale": False}, "health from before the connection is dropped"
    finally:
        link.close()
        server.stop()
