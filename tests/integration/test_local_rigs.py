"""`stage serve` starts the show's local capture agent, keeps serving whatever the agent does, and stops it."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
import requests

from tests.conftest import demo_show
from tests.stage_process import StageProcess
from tests.waiting import wait_until


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_serve_starts_the_local_rig_agent_and_stops_it_by_pid(tmp_path, mode):
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", local_rigs=True, async_mode=mode).start()
    try:
        # Deadlines, not timings: on a loaded machine the agent's imports alone took several seconds.
        pid = _agent_pid(server, 60)
        # The agent (the demo rig: the test pattern, no microphone) connects and the rig comes online.
        wait_until(lambda: requests.get(f"{server.url}/healthz", timeout=5).json()["rigs"]["stage"] == "online", 60,
                   what="the local rig to come online", every=0.1)
        assert requests.get(f"{server.url}/healthz", timeout=5).json()["status"] == "ok"
        assert "Rig stage        agent started here" in "\n".join(server.stdout_lines)
    finally:
        code = server.stop()  # also kills, by pid, anything the server left running
    assert code == 0, server.log_text()
    assert not server.leftovers, f"processes {server.leftovers} outlived the server"
    assert not _alive(pid), f"agent pid {pid} outlived the server"
    assert "local capture agent for rig stage stopped" in server.log_text()


def test_no_local_rigs_starts_no_agent(tmp_path):
    server = StageProcess(demo_show(tmp_path), tmp_path / "data").start()  # tests pass --no-local-rigs
    try:
        assert requests.get(f"{server.url}/healthz").ok
        assert "start its agent with: STAGE_CREW_PASSWORD=<crew passphrase> python -m stage capture --server" \
            in "\n".join(server.stdout_lines)
    finally:
        server.stop()
    assert "local capture agent" not in server.log_text()


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie nobody reaped yet (an orphan's new parent may not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _agent_pid(server: StageProcess, timeout: float) -> int:
    pids = wait_until(lambda: re.findall(r"local capture agent for rig stage started \(pid (\d+)\)", server.log_text()),
                      timeout, what="serve to start its local agent", every=0.1)
    return int(pids[0])


def test_an_agent_whose_serve_was_killed_stops_itself(tmp_path):
    # A serve killed outright (SIGKILL, a crash) cannot stop its agent; the agent must notice, not retry
    # the dead server for ever (issue 15: one was still running 20 minutes after its test).
    server = StageProcess(demo_show(tmp_path), tmp_path / "data", local_rigs=True).start()
    agent = None
    try:
        agent = _agent_pid(server, 30)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=10)
        wait_until(lambda: not _alive(agent), 30, what="the agent of a killed server to stop itself", every=0.1)
    finally:
        server.stop()
        if agent is not None and _alive(agent):
            os.kill(agent, signal.SIGKILL)  # never leave it running, even when the assertion failed
