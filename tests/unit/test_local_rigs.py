"""Local capture agents as real child processes: output logged, restarted with backoff, stopped by pid."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

from stage import local_rigs
from stage.local_rigs import LocalRigs, agent_command
from stage.show.models import Rig

from tests.waiting import wait_until

RIG = Rig(name="stage", camera="test", microphone="none", local=True)


def spawn(fn, *args):
    threading.Thread(target=fn, args=args, daemon=True).start()


def rigs_running(script: str, backoff=(0.05, 0.1)) -> LocalRigs:
    return LocalRigs((RIG, Rig(name="remote")), "http://127.0.0.1:1", "pass", spawn, time.sleep, time.monotonic,
                     command=lambda rig, url: [sys.executable, "-c", script], backoff=backoff)


def test_the_agent_command_is_the_documented_one():
    assert agent_command(RIG, "http://127.0.0.1:8080")[1:] == [
        "-m", "stage", "capture", "--server", "http://127.0.0.1:8080", "--rig", "stage", "--camera", "test",
        "--mic", "none"]


def test_an_agent_that_dies_is_logged_and_started_again(caplog):
    caplog.set_level(logging.INFO, logger="stage.local_rigs")
    script = "import os; print('agent says hi', os.environ['STAGE_CREW_PASSWORD']); raise SystemExit(3)"
    rigs = rigs_running(script)
    rigs.start()
    try:
        assert wait_until(lambda: sum("exited with status 3" in r.message for r in caplog.records) >= 2)
    finally:
        rigs.close()
    messages = [r.message for r in caplog.records]
    assert "rig stage agent: agent says hi pass" in messages, "its output (and the passphrase env) reached the log"
    assert any("starting it again in" in m for m in messages)
    assert not any("remote" in m for m in messages), "only rigs marked local are started"


def test_close_stops_a_running_agent_by_its_pid(caplog):
    caplog.set_level(logging.INFO, logger="stage.local_rigs")
    rigs = rigs_running("import time; print('up', flush=True); time.sleep(60)")
    rigs.start()
    assert wait_until(lambda: "stage" in rigs.pids())
    pid = rigs.pids()["stage"]
    rigs.close()
    assert rigs.pids() == {}
    assert not os.path.exists(f"/proc/{pid}"), "the agent was stopped and reaped"
    time.sleep(0.3)
    assert sum("started (pid" in r.message for r in caplog.records) == 1, "a closed set is not restarted"


def test_close_tells_every_agent_before_waiting_for_any(tmp_path, caplog):
    """Each agent finishes its take when told to stop: all are told at once, so the second rig's take
    does not go on recording while the first rig's agent winds down."""
    script = ("import signal, sys, time, pathlib; d = pathlib.Path(sys.argv[1]); name = sys.argv[2]\n"
              "def stop(*a):\n"
              "    (d / (name + '.term')).write_text(str(time.monotonic()))\n"
              "    time.sleep(1.0)  # finishing the take\n"
              "    (d / (name + '.exit')).write_text(str(time.monotonic()))\n"
              "    sys.exit(0)\n"
              "signal.signal(signal.SIGTERM, stop)\nprint('up', flush=True)\ntime.sleep(60)\n")
    two = (Rig(name="left", camera="test", microphone="none", local=True),
           Rig(name="right", camera="test", microphone="none", local=True))
    rigs = LocalRigs(two, "http://127.0.0.1:1", "pass", spawn, time.sleep, time.monotonic,
                     command=lambda rig, url: [sys.executable, "-c", script, str(tmp_path), rig.name])
    caplog.set_level(logging.INFO, logger="stage.local_rigs")
    rigs.start()
    # both have installed their TERM handler: they print 'up' after it
    assert wait_until(lambda: sum(r.message.endswith(" agent: up") for r in caplog.records) == 2)
    rigs.close()
    told = {name: float((tmp_path / f"{name}.term").read_text()) for name in ("left", "right")}
    ended = {name: float((tmp_path / f"{name}.exit").read_text()) for name in ("left", "right")}
    assert max(told.values()) < min(ended.values()), f"one agent was told only after another ended: {told} {ended}"


def test_close_waits_for_an_agent_being_started_and_stops_it(monkeypatch):
    # Under gevent/eventlet Popen yields: serve's close() may run between the fork and the pid. Here a
    # thread stands for the greenlet, and Popen goes on only once close() waits (it calls ``sleep``).
    real_popen, closing, started = subprocess.Popen, threading.Event(), []

    def popen(*args, **kwargs):
        assert closing.wait(10), "close() never waited for the agent being started"
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    def sleep(seconds: float) -> None:
        closing.set()
        time.sleep(seconds)

    monkeypatch.setattr(local_rigs.subprocess, "Popen", popen)
    rigs = LocalRigs((RIG,), "http://127.0.0.1:1", "pass", spawn, sleep, time.monotonic,
                     command=lambda rig, url: [sys.executable, "-c", "import time; time.sleep(60)"])
    rigs.start()
    try:
        rigs.close()
        assert started and started[0].poll() is not None, "an agent started while closing outlived close()"
    finally:
        closing.set()
        assert wait_until(lambda: bool(started))
        for proc in started:
            proc.kill()
            proc.wait()


def test_an_agent_started_after_close_gave_up_waiting_is_stopped(monkeypatch):
    # close() waits START_SECONDS for an agent being started; here Popen returns only after close() gave up.
    real_popen, closed, started = subprocess.Popen, threading.Event(), []

    def popen(*args, **kwargs):
        assert closed.wait(10), "close() never returned"
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(local_rigs, "START_SECONDS", 0.1)
    monkeypatch.setattr(local_rigs.subprocess, "Popen", popen)
    rigs = LocalRigs((RIG,), "http://127.0.0.1:1", "pass", spawn, time.sleep, time.monotonic,
                     command=lambda rig, url: [sys.executable, "-c", "import time; time.sleep(60)"])
    rigs.start()
    try:
        assert wait_until(lambda: rigs._starting == 1), "the agent never began starting"
        rigs.close()
        closed.set()
        assert wait_until(lambda: bool(started))
        assert wait_until(lambda: started[0].poll() is not None), "an agent started after close() ran on"
    finally:
        closed.set()
        for proc in started:
            proc.kill()
            proc.wait()
