"""The soak's side clients, each a thread that runs until ``stop`` is set: a display that reloads
every N seconds, a crew console that records a take every M minutes, and the sampler of the server's
RSS, open descriptors and greenlets (the crew-only ``greenlets`` field of /healthz).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import requests
import socketio

from harness import open_fds, proc_status_mb

WAIT = 10.0  # seconds a client waits for the server's answer before counting a failure


class Loop(threading.Thread):
    """A daemon thread calling ``step`` every ``every`` seconds (first after ``delay``) until stopped."""

    def __init__(self, every: float, stop: threading.Event, delay: float = 0.0) -> None:
        super().__init__(daemon=True, name=type(self).__name__)
        self.every, self.stop_event, self.delay = every, stop, delay
        self.counts: Counter = Counter()

    def run(self) -> None:
        due = time.monotonic() + self.delay
        while not self.stop_event.wait(max(0.0, due - time.monotonic())):
            try:
                self.step()
            except Exception as exc:  # a side client's failure is a figure of the soak, never its end
                self.counts[f"failed: {type(exc).__name__}: {str(exc)[:80]}"] += 1
            due += self.every

    def step(self) -> None:
        raise NotImplementedError


class ReloadingDisplay(Loop):
    """A projector page that reloads: connect to /display, wait for its scene, disconnect."""

    def __init__(self, url: str, auth: dict[str, str], every: float, stop: threading.Event) -> None:
        super().__init__(every, stop)
        self.url, self.auth = url, auth

    def step(self) -> None:
        client, got = socketio.Client(reconnection=False), threading.Event()
        client.on("scene", lambda *_: got.set(), namespace="/display")
        try:
            client.connect(self.url, namespaces=["/display"], auth=self.auth, transports=["websocket"],
                           wait_timeout=WAIT)
            self.counts["reloads" if got.wait(WAIT) else "reloads without a scene"] += 1
        finally:
            client.disconnect()


class TakeCrew(Loop):
    """The crew console records a take on ``rig`` for ``seconds``, every ``every`` seconds."""

    def __init__(self, url: str, cookie: str, rig: str, every: float, seconds: float, stop: threading.Event) -> None:
        super().__init__(every, stop, delay=min(every, 30.0))
        self.url, self.cookie, self.rig, self.seconds = url, cookie, rig, seconds

    def step(self) -> None:
        client = socketio.Client(reconnection=False)
        try:
            client.connect(self.url, namespaces=["/crew"], headers={"Cookie": self.cookie}, transports=["websocket"],
                           wait_timeout=WAIT)
            started = client.call("record", {"rig": self.rig}, namespace="/crew", timeout=WAIT)
            if not started.get("ok"):
                self.counts[f"take refused: {started['error']['code']}"] += 1
                return
            self.stop_event.wait(self.seconds)
            stopped = client.call("stop_recording", {"rig": self.rig}, namespace="/crew", timeout=WAIT)
            self.counts["takes" if stopped.get("ok") else f"stop refused: {stopped['error']['code']}"] += 1
        finally:
            client.disconnect()


class Sampler(Loop):
    """Server RSS, open descriptors, greenlets and connected phones, once every ``every`` seconds."""

    def __init__(self, url: str, pid: int, cookie: str, every: float, stop: threading.Event) -> None:
        super().__init__(every, stop, delay=every)
        self.url, self.pid, self.cookie = url, pid, cookie
        self.began = time.monotonic()
        self.samples: list[dict[str, Any]] = []

    def step(self) -> None:
        self.samples.append(self.sample())

    def sample(self) -> dict[str, Any]:
        health = requests.get(f"{self.url}/healthz", headers={"Cookie": self.cookie}, timeout=WAIT).json()
        return {"t": round(time.monotonic() - self.began, 1), "rss_mb": proc_status_mb(self.pid),
                "fds": open_fds(self.pid), "greenlets": health.get("greenlets"), "outbox": health.get("outbox"),
                "sessions": health.get("sessions"), "phones": health.get("phones")}

    def idle(self, timeout: float = 120) -> dict[str, Any]:
        """A sample once nothing is connected and the work the load left has run out: no phone, no
        Engine.IO session, and a greenlet count that stopped falling (or the deadline). Right after a
        cohort of 2,000 overloaded phones leaves, ~1,400 handler greenlets are still finishing queued
        events; ten seconds later 3 are alive (measured): sampled at once, that read as a leak."""
        deadline = time.monotonic() + timeout
        sample = self.sample()
        while time.monotonic() < deadline:
            if not sample["phones"] and not sample["sessions"]:
                later = self.sample_after(5)
                if later["greenlets"] is None or later["greenlets"] >= sample["greenlets"]:
                    return later
                sample = later
            else:
                sample = self.sample_after(1)
        return sample

    def sample_after(self, seconds: float) -> dict[str, Any]:
        time.sleep(seconds)  # a pace between samples of a server, not a wait for a condition
        return self.sample()
