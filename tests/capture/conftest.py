"""Real sources for the capture tests: the PulseAudio virtual microphone (one per session), MJPEG
cameras on 127.0.0.1 (a Python server, or ffmpeg's own), and a server speaking docs/capture.md.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.capture.contract_server import TOKEN, ContractServer
from tests.capture.mjpeg import MjpegCamera
from tests.capture.pulse import VirtualMic
from tests.stage_process import REPO, free_port
from tests.waiting import wait_until


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualMic]:
    mic = VirtualMic(tmp_path_factory.mktemp("pulse")).start()  # raises (test error) if it cannot start
    previous = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(mic.xdg)  # in-process sounddevice and every agent we start
    yield mic
    mic.stop()
    if previous is None:
        os.environ.pop("XDG_RUNTIME_DIR", None)
    else:
        os.environ["XDG_RUNTIME_DIR"] = previous


@pytest.fixture
def camera() -> Iterator[MjpegCamera]:
    cam = MjpegCamera().start()
    yield cam
    cam.stop()


def listening(port: int) -> bool:
    """A TCP socket in LISTEN state (0A) on 127.0.0.1:``port``, read from /proc/net/tcp."""
    with open("/proc/net/tcp", encoding="ascii") as table:
        return any(f":{port:04X} " in line and line.split()[3] == "0A" for line in table.readlines()[1:])


@pytest.fixture
def ffmpeg_camera() -> Iterator[str]:
    """ffmpeg's lavfi test source served as MJPEG (ENVIRONMENT.md); serves one client."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/cam.mjpg"
    proc = subprocess.Popen([shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-re", "-f", "lavfi",
                             "-i", "testsrc2=size=640x360:rate=30", "-f", "mpjpeg", "-q:v", "5", "-listen", "1",
                             url], stdin=subprocess.DEVNULL)
    # ffmpeg's -listen 1 serves one client only, so a probe connection would use it up: wait for the
    # port to be listening in the kernel's table instead.
    wait_until(lambda: listening(port) or proc.poll() is not None, 10, what="ffmpeg to listen")
    assert proc.poll() is None, "ffmpeg exited before it listened"
    yield url
    proc.kill()
    proc.wait(5)


@pytest.fixture
def server() -> Iterator[ContractServer]:
    srv = ContractServer().start()
    yield srv
    srv.stop()


def tone(path: Path, seconds: float, hz: int = 1000) -> Path:
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "2", "-b", "16", str(path), "synth", str(seconds),
                    "sine", str(hz), "vol", "0.5"], check=True)
    return path


def capture_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "stage", "capture", *args]


class AgentProcess:
    """``stage capture`` as a subprocess, stopped by its pid."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen(capture_cmd(*args), cwd=REPO, stdout=open(log, "w"),
                                     stderr=subprocess.STDOUT, env={**os.environ, "STAGE_CREW_PASSWORD": TOKEN})

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            # Hung: have it write every thread's stack to its log (faulthandler, stage/capture/cli.py),
            # then stop it for good, and fail with what it said.
            self.proc.send_signal(signal.SIGUSR1)
            wait_until(lambda: "most recent call first" in self.output(), 5, what="the agent's stack dump")
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"the agent did not stop on signal {sig} within 30 s; its log ends:\n"
                                 + "\n".join(self.output().splitlines()[-80:])) from None

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def agents() -> Iterator[list[AgentProcess]]:
    started: list[AgentProcess] = []
    yield started
    for agent in started:
        print(f"--- agent log {agent.log} (the last 60 lines) ---")  # pytest shows it when the test failed
        print("\n".join(agent.output().splitlines()[-60:]))
        agent.kill(signal.SIGTERM)
