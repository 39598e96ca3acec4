"""Sources and commands: a video file as the camera, `stage doctor`, a microphone that vanishes."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.capture.analyse import decode
from tests.capture.conftest import capture_cmd
from tests.capture.pulse import VirtualMic
from tests.capture.test_agent_protocol import record, start_agent, take_ends
from tests.capture.test_faults import silent_camera  # noqa: F401  (fixture)
from tests.stage_process import DEMO_SHOW, REPO

RIG = "  - name: stage\n    camera: test\n    microphone: none\n    local: true\n"


def test_video_file_as_camera(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "4",
                    "-pix_fmt", "yuv420p", str(clip)], check=True)
    result = subprocess.run(capture_cmd("--camera", str(clip), "--test-take", "2", "--out", str(tmp_path / "t.mp4"),
                                        "--spool", str(tmp_path / "spool")), cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    got = decode(tmp_path / "t.mp4")
    assert 40 <= len(got.video_times) <= 55  # played at the file's own 25 fps


def test_doctor_lists_inputs_and_checks_each_rig(tmp_path: Path, pulse, camera, silent_camera) -> None:  # noqa: F811
    assert RIG in DEMO_SHOW.read_text()
    rigs = (f"  - name: stage\n    camera: {camera.url}\n    microphone: default\n"
            f"  - name: bad\n    camera: {silent_camera}\n    microphone: no such mic\n")
    show = tmp_path / "show.yaml"
    show.write_text(DEMO_SHOW.read_text().replace(RIG, rigs))
    result = subprocess.run([*capture_cmd()[:-1], "doctor", str(show)], cwd=REPO, capture_output=True, text=True,
                            timeout=90, env={**os.environ, "COLUMNS": "250"})
    assert result.returncode == 1, result.stdout + result.stderr  # one rig is unreachable
    out = result.stdout
    assert "pulse" in out and " Hz" in out
    good = next(line for line in out.splitlines() if "│ stage " in line)
    bad = next(line for line in out.splitlines() if "│ bad" in line)
    assert f"{camera.url}: ok" in good and "default: ok" in good
    assert "cannot open camera" in bad and "no audio input 'no such mic'" in bad


def test_microphone_vanishing_mid_take_keeps_the_video_and_the_next_take_has_sound(tmp_path: Path, camera, server,
                                                                                     agents) -> None:
    own = VirtualMic(tmp_path / "own-pulse").start()  # a PulseAudio of this test's own, to pull out
    try:
        os.environ["XDG_RUNTIME_DIR"], previous = str(own.xdg), os.environ.get("XDG_RUNTIME_DIR")
        start_agent(agents, tmp_path, server, camera.url, mic="default")
    finally:
        if previous is None:
            os.environ.pop("XDG_RUNTIME_DIR")
        else:
            os.environ["XDG_RUNTIME_DIR"] = previous
    take_id, ack = record(server)
    assert ack["ok"]
    time.sleep(2)  # two seconds of take with sound before the microphone goes
    own.stop()
    assert "microphone stopped delivering" in server.wait_for("health", lambda h: h["error"])["error"]
    time.sleep(2)
    assert server.command("stop", {"take_id": take_id})["ok"]
    assert server.wait_for("take_state", lambda s: s["state"] != "recording", timeout=20)["state"] == "stopped"
    assert server.wait_for("take_state", timeout=30)["state"] == "uploaded"
    (tmp_path / "got.mp4").write_bytes(bytes(server.files[take_id]))
    got = decode(tmp_path / "got.mp4")
    assert got.video_times[-1] >= 3.5 and 1.0 <= len(got.audio) / got.rate <= 3.0
    # The microphone comes back (PulseAudio restarted): the agent reopens it between takes, unasked.
    own.start()
    try:
        back = server.wait_for("health", lambda h: h["error"] is None and h["audio_db"] is not None, timeout=30)
        assert back["microphone"] == "default"
        again, ended = take_ends(server, 2)
        assert ended["state"] == "uploaded", ended
    finally:
        own.stop()
    (tmp_path / "again.mp4").write_bytes(bytes(server.files[again]))
    second = decode(tmp_path / "again.mp4")
    assert len(second.audio) / second.rate >= 1.0, "the take after the microphone came back has sound"


def test_the_agent_imports_no_server_and_no_green_threads() -> None:
    """`stage capture` is a plain threaded process: OpenCV and PortAudio threads under gevent or
    eventlet would stall, and capture/ must never import the server."""
    code = ("import sys, stage.capture.agent, stage.capture.cli, stage.capture.doctor, stage.cli; "
            "print([m for m in ('flask', 'flask_socketio', 'gevent', 'eventlet', 'stage.server', 'stage.night',"
            " 'stage.realtime.base', 'stage.realtime.capture', 'stage.realtime.broadcast') if m in sys.modules]"
            " + [m for m in sys.modules if m.startswith(('stage.realtime', 'stage.web', 'stage.server'))])")
    result = subprocess.run([*capture_cmd()[:1], "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
