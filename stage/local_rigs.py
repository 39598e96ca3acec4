"""Capture agents that ``stage serve`` runs itself, one per rig marked ``local: true`` in the show.

Each agent is ``python -m stage capture --server URL --rig NAME --camera SRC --mic DEV`` with the
crew passphrase in ``STAGE_CREW_PASSWORD``; its output goes to the log. An agent that exits (or
cannot start) is started again after a growing pause; the server never stops for it, and the rig
shows offline meanwhile. ``close`` stops every agent by its pid.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stage.show.models import Rig

log = logging.getLogger(__name__)

BACKOFF = (1, 2, 5, 10, 30)  # seconds before each restart; the last one repeats
STABLE_SECONDS = 60  # an agent that ran this long starts the backoff over
# On TERM an agent finishes the take it is recording (remux, read-back: up to 30 s for a long take);
# killing it earlier would leave the take to crash recovery on the next start.
STOP_SECONDS = 35
START_SECONDS = 10  # how long close() waits for an agent being started to have a pid it can stop


def agent_command(rig: Rig, server_url: str) -> list[str]:
    return [sys.executable, "-m", "stage", "capture", "--server", server_url, "--rig", rig.name,
            "--camera", rig.camera, "--mic", rig.microphone]


class LocalRigs:
    def __init__(self, rigs: tuple[Rig, ...], server_url: str, crew_password: str,
                 spawn: Callable[..., Any], sleep: Callable[[float], None], now: Callable[[], float],
                 command: Callable[[Rig, str], list[str]] = agent_command,
                 backoff: tuple[float, ...] = BACKOFF, spool_root: Path | None = None) -> None:
        self._rigs = [r for r in rigs if r.local]
        self._spool_root = spool_root  # takes wait here until uploaded: inside the night's data directory
        self._command, self._backoff = command, backoff
        self._url = server_url
        # STAGE_AGENT_PARENT_PID (stage/capture/agent.py): an agent stops itself if this process dies
        # without stopping it (SIGKILL, a crash), instead of running on, orphaned.
        self._env = {**os.environ, "STAGE_CREW_PASSWORD": crew_password, "PYTHONUNBUFFERED": "1",
                     "STAGE_AGENT_PARENT_PID": str(os.getpid())}
        self._spawn, self._sleep, self._now = spawn, sleep, now
        self._procs: dict[str, subprocess.Popen] = {}
        self._starting = 0  # Popen calls under way: under gevent/eventlet Popen yields to other greenlets
        self._closed = False

    def start(self) -> None:
        for rig in self._rigs:
            self._spawn(self._keep_running, rig)

    def _keep_running(self, rig: Rig) -> None:
        failures = 0
        while not self._closed:
            started = self._now()
            self._run_once(rig)
            if self._closed:
                return
            failures = 0 if self._now() - started > STABLE_SECONDS else failures + 1
            pause = self._backoff[min(failures, len(self._backoff)) - 1] if failures else self._backoff[0]
            log.warning("local capture agent for rig %s is not running; starting it again in %g s", rig.name, pause)
            self._sleep(pause)

    def _run_once(self, rig: Rig) -> None:
        command = self._command(rig, self._url)
        if self._spool_root is not None:
            command += ["--spool", str(self._spool_root / rig.name)]
        self._starting += 1
        try:
            # Its own process group: a terminal's Ctrl-C reaches only serve, which stops its agents in order
            # (two presses 30 ms apart killed the agent mid-take and serve restarted it, 3 runs in 4).
            proc = subprocess.Popen(command, env=self._env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, errors="replace", process_group=0)
        except OSError as exc:
            log.error("could not start the capture agent for rig %s: %s", rig.name, exc)
            return
        else:
            self._procs[rig.name] = proc
        finally:
            self._starting -= 1
        log.info("local capture agent for rig %s started (pid %d)", rig.name, proc.pid)
        if self._closed:  # close() ran while Popen yielded
            # close() waits START_SECONDS for this pid; if it gave up first, nobody else will stop
            # this agent (it would run on orphaned), so it is told at once. A second TERM is harmless.
            if proc.poll() is None:
                proc.terminate()
            self._stop(rig.name, proc)
            return
        assert proc.stdout is not None
        for line in proc.stdout:  # cooperative under gevent/eventlet (patched subprocess)
            if line.strip():
                log.info("rig %s agent: %s", rig.name, line.rstrip())
        code = proc.wait()
        self._procs.pop(rig.name, None)
        if not self._closed:
            log.warning("local capture agent for rig %s exited with status %s", rig.name, code)

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self._procs.items() if proc.poll() is None}

    def close(self) -> None:
        """Stop every agent by its pid: TERM, then KILL if it has not ended after STOP_SECONDS."""
        self._closed = True
        # An agent being started has no pid yet. Returning without it let serve exit and the agent,
        # forked an instant later, run on orphaned (issue 15): wait until it can be stopped too.
        deadline = self._now() + START_SECONDS
        while self._starting and self._now() < deadline:
            self._sleep(0.05)
        procs = list(self._procs.items())
        for _, proc in procs:  # every agent is told first, so each finishes its take at once, not in turn
            if proc.poll() is None:
                proc.terminate()
        for name, proc in procs:
            self._stop(name, proc)

    @staticmethod
    def _stop(name: str, proc: subprocess.Popen) -> None:
        """Wait for an agent already sent TERM; KILL it after STOP_SECONDS."""
        if proc.poll() is None:
            try:
                proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                log.warning("local capture agent for rig %s did not stop in %d s; killing it", name, STOP_SECONDS)
                proc.kill()
                proc.wait()
        log.info("local capture agent for rig %s stopped", name)
