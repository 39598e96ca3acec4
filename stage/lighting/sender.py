"""OSC out: a paced worker per target, so a GO never waits on the network and never fails on it.

``send`` only encodes and enqueues. Each target's worker (spawned on first use) sends its queue in
bursts of ``burst`` packets with a ``pause`` between bursts, so 1000 messages in one go are not lost
in a receiver's socket buffer, while a single GO goes out at once. A target that is down is retried
with backoff; a message that could not be sent within ``stale_after`` seconds is dropped, because a
late GO is worse than a missing one. Status changes (``ok``/``down``) go to ``on_status``; every
packet actually sent goes to ``on_sent`` (the server writes it to the audit log).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from stage.errors import StageError
from stage.lighting.links import Link, open_link
from stage.lighting.messages import OscMessage
from stage.lighting.profiles import MA3_PREFIX, messages_for
from stage.show.models import OscCue, OscTarget

log = logging.getLogger(__name__)

Spawn = Callable[[Callable[..., None]], Any]
Sleep = Callable[[float], None]
OnSent = Callable[[OscTarget, OscMessage], None]
OnStatus = Callable[[str, dict[str, Any]], None]

BURST = 32  # packets sent back to back before a pause
PAUSE = 0.001  # seconds between bursts: ~30k packets/s at most, far above any console's need
STALE_AFTER = 2.0
MAX_QUEUE = 10_000
BACKOFF_MIN, BACKOFF_MAX = 0.05, 2.0
IDLE_WAIT = 1.0


class SenderError(StageError):
    """A send to a target the show does not name."""

    code = "osc_target"


class OscSender:
    def __init__(self, targets: Iterable[OscTarget], *, spawn: Spawn, sleep: Sleep, dry_run: bool = False,
                 on_sent: OnSent | None = None, on_status: OnStatus | None = None, burst: int = BURST,
                 pause: float = PAUSE, stale_after: float = STALE_AFTER, ma3_prefix: str = MA3_PREFIX) -> None:
        self.targets = {t.name: t for t in targets}
        self.dry_run = dry_run
        self.ma3_prefix = ma3_prefix
        self._spawn = spawn
        self._options = dict(sleep=sleep, on_sent=on_sent, on_status=on_status, burst=max(1, burst),
                             pause=pause, stale_after=stale_after)
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()
        self._closed = False

    def send(self, target_name: str, messages: Iterable[OscMessage]) -> None:
        """Enqueue ``messages`` for ``target_name`` and return at once."""
        target = self._target(target_name)
        batch = [(m, m.encode()) for m in messages]  # a message that cannot encode fails the caller now
        if self.dry_run:
            for msg, _ in batch:
                log.info("OSC dry run: not sent to %s (%s %s:%d): %s", target.name, target.transport,
                         target.host, target.port, msg)
            return
        self._worker(target).put(batch)

    def send_cue(self, cue: OscCue) -> list[OscMessage]:
        """Map an OSC cue through its target's profile and enqueue it. Raises ``ProfileError``."""
        target = self._target(cue.target)
        messages = messages_for(cue, target, ma3_prefix=self.ma3_prefix)
        self.send(target.name, messages)
        return messages

    def status(self) -> dict[str, dict[str, Any]]:
        """Every target's status: ``unknown`` until its first send, then ``ok`` or ``down``."""
        with self._lock:
            workers = dict(self._workers)
        return {name: workers[name].snapshot() if name in workers else _initial_state() for name in self.targets}

    def close(self, timeout: float = 2.0) -> None:
        """Stop every worker (queued messages are dropped) and close their links."""
        with self._lock:
            self._closed = True
            workers = list(self._workers.values())
        for worker in workers:
            worker.close()
        for worker in workers:
            if not worker.done.wait(timeout):
                log.warning("OSC worker for %s did not stop within %.1fs", worker.target.name, timeout)

    def _target(self, name: str) -> OscTarget:
        target = self.targets.get(name)
        if target is None:
            raise SenderError(f"unknown OSC target {name!r} (the show names: {', '.join(self.targets) or 'none'})")
        return target

    def _worker(self, target: OscTarget) -> "_Worker":
        with self._lock:
            if self._closed:
                raise SenderError("the OSC sender is closed")
            worker = self._workers.get(target.name)
            if worker is None:
                worker = self._workers[target.name] = _Worker(target, open_link(target), **self._options)
                self._spawn(worker.run)
        return worker


def _initial_state() -> dict[str, Any]:
    return {"status": "unknown", "error": None, "sent": 0, "dropped": 0, "queued": 0}


class _Worker:
    """Sends one target's queue in order; the only code that touches that target's link."""

    def __init__(self, target: OscTarget, link: Link, *, sleep: Sleep, on_sent: OnSent | None,
                 on_status: OnStatus | None, burst: int, pause: float, stale_after: float) -> None:
        self.target = target
        self.done = threading.Event()
        self._link = link
        self._sleep = sleep
        self._on_sent = on_sent
        self._on_status = on_status
        self._burst, self._pause, self._stale_after = burst, pause, stale_after
        self._queue: deque[tuple[float, OscMessage, bytes]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._state = _initial_state()
        self._backoff = BACKOFF_MIN

    def put(self, batch: list[tuple[OscMessage, bytes]]) -> None:
        now = time.monotonic()
        with self._cond:
            room = max(0, MAX_QUEUE - len(self._queue))
            self._queue.extend((now, msg, dgram) for msg, dgram in batch[:room])
            self._state["dropped"] += len(batch) - min(room, len(batch))
            self._cond.notify()
        if len(batch) > room:
            log.warning("OSC queue for %s is full: dropped %d message(s)", self.target.name, len(batch) - room)

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return {**self._state, "queued": len(self._queue)}

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()

    def run(self) -> None:
        try:
            in_burst = 0
            while not self._closed:
                item = self._take()
                if item is None:
                    in_burst = 0
                    self._reconnect_if_down()
                    continue
                if not self._deliver(*item):
                    continue
                in_burst += 1
                if in_burst >= self._burst and self._queue:
                    self._sleep(self._pause)  # let the receiver drain its socket buffer
                    in_burst = 0
        except Exception:  # a worker that dies silently would leave the target mute for the night
            log.exception("OSC worker for %s crashed", self.target.name)
        finally:
            self._link.close()
            self.done.set()

    def _take(self) -> tuple[float, OscMessage, bytes] | None:
        with self._cond:
            if not self._queue and not self._closed:
                self._cond.wait(self._backoff if self._state["status"] == "down" else IDLE_WAIT)
            return self._queue.popleft() if self._queue and not self._closed else None

    def _deliver(self, queued_at: float, msg: OscMessage, dgram: bytes) -> bool:
        while not self._closed:
            if time.monotonic() - queued_at > self._stale_after:
                with self._cond:
                    self._state["dropped"] += 1
                log.warning("OSC to %s dropped, not sent within %.1fs: %s", self.target.name, self._stale_after, msg)
                return False
            try:
                warning = self._link.send(dgram)
            except OSError as exc:
                self._set_status("down", _describe(exc))
                self._wait(self._backoff)
                self._backoff = min(self._backoff * 2, BACKOFF_MAX)
                continue
            self._backoff = BACKOFF_MIN
            with self._cond:
                self._state["sent"] += 1
            self._set_status("down" if warning else "ok", warning)
            if self._on_sent is not None:
                try:
                    self._on_sent(self.target, msg)
                except Exception:
                    log.exception("on_sent callback failed for %s", msg)
            return True
        return False

    def _reconnect_if_down(self) -> None:
        """A stream target that went down is reconnected while idle, so its status recovers by itself."""
        connect = getattr(self._link, "connect", None)
        if self._state["status"] != "down" or connect is None or getattr(self._link, "connected", True):
            return
        try:
            connect()
        except OSError as exc:
            self._set_status("down", _describe(exc))
            self._backoff = min(self._backoff * 2, BACKOFF_MAX)
            return
        self._backoff = BACKOFF_MIN
        self._set_status("ok", None)

    def _wait(self, seconds: float) -> None:
        """Sleep ``seconds`` unless closed first (new messages do not cut a backoff short)."""
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._closed and (remaining := deadline - time.monotonic()) > 0:
                self._cond.wait(remaining)

    def _set_status(self, status: str, error: str | None) -> None:
        with self._cond:
            if (self._state["status"], self._state["error"]) == (status, error):
                return
            self._state["status"], self._state["error"] = status, error
            snapshot = {**self._state, "queued": len(self._queue)}
        t = self.target
        if status == "down":
            log.warning("OSC target %s (%s %s:%d) is down: %s", t.name, t.transport, t.host, t.port, error)
        else:
            log.info("OSC target %s (%s %s:%d) is %s", t.name, t.transport, t.host, t.port, status)
        if self._on_status is not None:
            try:
                self._on_status(t.name, snapshot)
            except Exception:
                log.exception("on_status callback failed for %s", t.name)


def _describe(exc: OSError) -> str:
    return f"{type(exc).__name__}: {exc.strerror or exc}"
