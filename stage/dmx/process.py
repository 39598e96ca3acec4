"""DMX out from the server: :mod:`stage.dmx.child` runs the frame loop in its own process, fed the mixer's state
after every change. Same face as :class:`stage.dmx.output.DmxOutput` (start, poke, status, stats, close), so the
night does not know which one sends.

The child ends with the server (PR_SET_PDEATHSIG) and is started again, after a short pause, if it dies: its nodes
read ``restarting`` meanwhile, and the new child is sent the levels at once, so the room sees at most the nodes'
own hold (sACN keeps a source 2.5 s). Its log lines go to the server's log.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from stage.child_process import end_with_parent
from stage.show.dmx import DmxSection

log = logging.getLogger(__name__)

BACKOFF = (0.2, 1, 2, 5)  # seconds before each restart of a child that died; the last one repeats
STABLE_SECONDS = 30  # a child that ran this long starts the backoff over
STOP_SECONDS = 3.0  # its Stream_Terminated frames and exit, after its input closed
# The child's output is read from a non-blocking pipe every READ_POLL seconds rather than by a blocking read, which
# is cooperative only where subprocess is monkey-patched: the in-process tests run the server's tasks unpatched, and
# a blocking read there stopped every other task (a console-session sweep never ran). 20 reads a second cost nothing.
READ_POLL = 0.05


class Levels(Protocol):
    def snapshot(self) -> dict[str, Any]: ...  # {"levels": Mixer.state(now), "at": monotonic now, "grand_master"}


class DmxProcess:
    def __init__(self, dmx: DmxSection, base: Path, *, source: Levels, cid: bytes, default_source_name: str,
                 spawn: Callable[..., Any], sleep: Callable[[float], None], dry_run: bool = False,
                 on_status: Callable[[dict], None] = lambda s: None,
                 command: tuple[str, ...] = (sys.executable, "-m", "stage.dmx.child")) -> None:
        self._config = {"dmx": dmx.model_dump(mode="json", by_alias=True), "base": str(base), "cid": cid.hex(),
                        "source_name": default_source_name, "dry_run": dry_run}
        self._source, self._spawn, self._sleep, self._on_status = source, spawn, sleep, on_status
        self._command = list(command)
        self._nodes = {n.name: {"status": "unknown", "error": None, "protocol": n.protocol,
                                "address": n.address, "universes": list(n.universes), "frames": 0} for n in dmx.nodes}
        self._stats: dict[str, Any] = {"frames": 0, "late": 0, "max_late_ms": 0.0, "restarts": 0}
        self._proc: subprocess.Popen | None = None
        self._write_lock = threading.Lock()
        self._last_error: str | None = None
        self._started = self._closed = False

    def start(self) -> None:
        if not self._started and not self._closed:  # the server stopped before it conducted: nothing to start
            self._started = True
            self._spawn(self._keep_running)

    def poke(self) -> None:
        """The levels changed: the child gets them whole (a few hundred bytes per fixture)."""
        self._write(None)

    def status(self) -> dict[str, dict]:
        return {name: dict(node) for name, node in self._nodes.items()}

    def stats(self) -> dict:
        return dict(self._stats)

    def close(self, timeout: float = STOP_SECONDS) -> None:
        self._closed = True
        proc = self._proc
        if proc is None:
            return
        self._end(proc, timeout)

    def _end(self, proc: subprocess.Popen, timeout: float) -> None:
        try:  # not under the write lock: a writer stuck on a hung child's full pipe must not hold up the stop
            assert proc.stdin is not None
            proc.stdin.close()  # end of input: the child sends Stream_Terminated and exits
        except (OSError, ValueError):
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("DMX out (pid %d) did not stop within %.0f s; killing it", proc.pid, timeout)
            proc.kill()
            proc.wait()

    # -- inside ------------------------------------------------------------------------------------------------

    def _keep_running(self) -> None:
        failures = 0
        while not self._closed:
            started = time.monotonic()
            self._run_once()
            if self._closed:
                return
            # A child that ran a while starts the backoff over: its death mid-show gets the shortest pause
            failures = 1 if time.monotonic() - started > STABLE_SECONDS else failures + 1
            pause = BACKOFF[min(failures, len(BACKOFF)) - 1]
            why = f" ({self._last_error})" if self._last_error else ""
            for node in self._nodes.values():
                node.update(status="restarting", error=f"DMX out stopped{why}; starting it again")
            self._on_status(self.status())
            log.error("DMX out stopped; starting it again in %g s", pause)
            self._sleep(pause)

    def _run_once(self) -> None:
        try:
            # Its own process group: a terminal's Ctrl-C reaches only serve, which ends DMX out in order.
            proc = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, process_group=0,
                                    preexec_fn=end_with_parent)
        except OSError as exc:
            log.error("could not start DMX out: %s", exc)
            return
        self._proc = proc
        self._last_error = None
        if self._closed:  # close() ran while Popen yielded: it saw the last child, not this one
            self._end(proc, STOP_SECONDS)
            return
        log.info("DMX out started (pid %d)", proc.pid)
        if not self._write({"config": self._config}) or not self._write(None):
            proc.kill()
        for line in self._lines(proc):
            self._heard(line)
        code = proc.wait()
        if not self._closed:
            self._stats["restarts"] += 1
            log.error("DMX out (pid %d) exited with %s", proc.pid, code)

    def _lines(self, proc: subprocess.Popen) -> Iterator[str]:
        """The child's output, line by line, until it closes (see READ_POLL)."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        pending = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                self._sleep(READ_POLL)
                continue
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                yield line.decode("utf-8", "replace")

    def _heard(self, line: str) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            log.warning("DMX out: %s", line.rstrip()[:300])
            return
        if "status" in message:
            for name, node in message["status"].items():
                if name in self._nodes:
                    self._nodes[name] = node
            self._on_status(self.status())
        elif "stats" in message:
            self._stats.update(message["stats"])
        elif "log" in message:
            level = int(message.get("level", logging.INFO))
            if level >= logging.ERROR:
                self._last_error = str(message["log"])[:200]  # why it is about to stop, for the console
            log.log(level, "DMX out: %s", message["log"])

    def _write(self, message: dict[str, Any] | None) -> bool:
        """One line to the child (None: the levels now, taken under the lock so two pokes arrive in order)."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.poll() is not None:
            return False  # not started yet, or restarting: the new child is sent the levels when it starts
        with self._write_lock:
            try:
                if message is None:
                    message = self._source.snapshot()
                proc.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
                proc.stdin.flush()
                return True
            except (OSError, ValueError):  # it died: _keep_running starts another
                return False
