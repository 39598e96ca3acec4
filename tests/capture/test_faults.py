"""Faults a venue meets: dead camera URLs, cameras that die, missing microphones, a full disk."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.capture.analyse import decode
from tests.capture.conftest import capture_cmd
from tests.capture.test_agent_protocol import SLATE, record, start_agent
from tests.stage_process import REPO


@pytest.fixture
def silent_camera() -> Iterator[str]:
    """A URL whose TCP port accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/cam.mjpg"
    listener.close()


def test_take_from_a_camera_that_never_answers_fails_with_the_reason(tmp_path, silent_camera, server,
                                                                     agents) -> None:
    start_agent(agents, tmp_path, server, silent_camera)
    take_id = str(uuid.uuid4())
    ack = server.command("record", {"take_id": take_id, "slate": SLATE})
    assert ack["ok"] is False and ack["error"]["code"] == "no_camera"
    assert "cannot open camera" in ack["error"]["message"]
    state = server.wait_for("take_state")
    assert state == {"take_id": take_id, "state": "failed", "reason": ack["error"]["message"]}
    assert "cannot open camera" in server.wait_for("health")["error"]


def test_test_take_with_a_silent_camera_says_so_in_one_line(tmp_path, silent_camera) -> None:
    result = subprocess.run(capture_cmd("--camera", silent_camera, "--test-take", "2", "--out",
                                        str(tmp_path / "t.mp4"), "--spool", str(tmp_path / "spool")),
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"cannot record: cannot open camera {silent_camera!r}" in result.stderr
    assert "--camera test" in result.stderr
    assert not (tmp_path / "t.mp4").exists()


def test_camera_dying_mid_take_ends_it_cleanly_with_the_reason(tmp_path, camera, server, agents) -> None:
    start_agent(agents, tmp_path, server, camera.url)
    take_id, _ = record(server)
    time.sleep(3)  # the take's length before the camera dies: three seconds of frames that must be kept
    camera.die()
    state = server.wait_for("take_state", lambda s: s["state"] != "recording", timeout=20)
    assert state == {"take_id": take_id, "state": "stopped", "reason": "camera stopped answering"}
    assert server.wait_for("take_state", timeout=30)["state"] == "uploaded"
    (tmp_path / "got.mp4").write_bytes(bytes(server.files[take_id]))
    got = decode(tmp_path / "got.mp4")
    assert 2.5 <= got.video_times[-1] <= 4.0
    assert "camera stopped answering" in server.wait_for("health")["error"]


@pytest.mark.parametrize("mic, message", [("no such mic", "no audio input 'no such mic'"), ("none", None)])
def test_missing_microphone_gives_a_video_only_take(tmp_path, pulse, mic, message) -> None:
    result = subprocess.run(capture_cmd("--camera", "test", "--mic", mic, "--test-take", "2", "--out",
                                        str(tmp_path / "t.mp4"), "--spool", str(tmp_path / "spool")),
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("microphone:")]
    if message:
        assert len(lines) == 1 and message in lines[0] and "recording video only" in lines[0]
        assert "pulse" in lines[0]  # names the inputs there are
    else:
        assert lines == []
    got = decode(tmp_path / "t.mp4")
    assert len(got.audio) == 0 and len(got.video_times) > 45
    assert "no (video only)" in result.stdout


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 MB filesystem (tmpfs) for the spool, so the disk can actually fill up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    assert done.returncode == 0, f"cannot mount a tmpfs for the disk-full test (needs root): {done.stderr}"
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(directory: Path) -> None:
    """Write until the filesystem refuses even 4 KB more (unbuffered: every write reaches it)."""
    with open(directory / "filler", "wb", buffering=0) as file:
        for size in (1 << 20, 4096):
            try:
                while True:
                    file.write(b"\0" * size)
            except OSError:
                pass


def test_disk_full_mid_take_fails_it_keeping_what_was_written(tmp_path, tiny_disk, camera, server,
                                                              agents) -> None:
    spool = tiny_disk / "spool"
    start_agent(agents, tmp_path, server, camera.url, spool=spool)
    take_id, ack = record(server)
    assert ack["ok"]
    time.sleep(2.5)  # the take's length before the disk fills: what was spooled must stay playable
    fill(tiny_disk)
    state = server.wait_for("take_state", lambda s: s["state"] != "recording", timeout=20)
    assert state == {"take_id": take_id, "state": "failed", "reason": "disk full"}
    # What was written before the disk filled stays playable: finalised if the remux still fit, else
    # the fragmented file, finalised on the next start.
    kept = [p for p in spool.glob("*.mp4") if not p.name.endswith(".tmp.mp4")]
    assert len(kept) == 1 and len(decode(kept[0]).video_times) >= 30
    assert server.wait_for("health")["disk_free"] < 1_000_000
    busy = server.command("record", {"take_id": str(uuid.uuid4()), "slate": SLATE})
    assert busy["ok"] is False and busy["error"]["code"] == "disk_full"

    (tiny_disk / "filler").unlink()  # the crew frees space and restarts the agent: the take is saved
    agents[0].kill()
    start_agent(agents, tmp_path, server, camera.url, spool=spool)
    assert server.wait_for("take_state", lambda s: s["take_id"] == take_id, timeout=40)["state"] == "uploaded"
