"""The rehearsal's host side: log in, get the rehearsal token, approve simulated stories, clean up.

Plain HTTP with the standard library (the CLI needs no HTTP client package); the moderator is a lean
Socket.IO client on ``/moderation`` with the host's session cookie.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from typing import Any

from stage.rehearse.phone import LeanPhone, PhoneClosed

log = logging.getLogger(__name__)


class RehearsalError(Exception):
    """The rehearsal cannot start or finish (server down, passphrase refused): said once, clearly."""


def health(url: str, timeout: float = 5) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=timeout) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RehearsalError(f"cannot reach a Stage server at {url}: {reason}") from exc


class HostSession:
    def __init__(self, url: str, password: str) -> None:
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        self._post("/login/host", urllib.parse.urlencode({"passphrase": password}).encode(),
                   "application/x-www-form-urlencoded", expect=302, what="the host passphrase")

    def _post(self, path: str, body: bytes, content_type: str, expect: int, what: str) -> bytes:
        request = urllib.request.Request(self.url + path, data=body, method="POST",
                                         headers={"Content-Type": content_type})
        try:
            with self.opener.open(request, timeout=30) as response:
                status, data = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            raise RehearsalError(f"{what}: cannot reach {self.url}: {getattr(exc, 'reason', exc)}") from exc
        if status != expect:
            raise RehearsalError(f"{what} was refused (HTTP {status})")
        return data

    def call(self, path: str, what: str) -> dict[str, Any]:
        return json.loads(self._post(path, b"{}", "application/json", expect=200, what=what))

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:  # the login answers 302; we only want its cookie
        return None


class Moderator:
    """Approves simulated phones' stories as they arrive in the queue, at most ``rate`` a second."""

    def __init__(self, url: str, cookie: str, rate: float, duration: float) -> None:
        self.phone = LeanPhone(url, "/moderation", headers={"Cookie": cookie}, on_event=self._event)
        self.rate = rate
        self.duration = duration  # approvals stop when the phones' run ends: equal work for every server
        self.simulated: set[str] = set()  # participant ids of this rehearsal's phones
        self.queue: deque[dict[str, Any]] = deque()
        self.approved = 0
        self.failed = 0

    def _event(self, event: str, data: Any, arrived: float) -> None:
        if event == "queue_add":
            self._consider(data["record"])
        elif event == "queue":
            for record in data["records"]:
                self._consider(record)

    def _consider(self, record: dict[str, Any]) -> None:
        # A record may arrive before its phone's id reached us from a worker: keep it, decide later.
        if record.get("kind") == "story":
            self.queue.append(record)

    async def run(self, stop: asyncio.Event) -> None:
        await self.phone.connect()
        interval = 1 / self.rate if self.rate > 0 else None
        end = time.monotonic() + self.duration
        while not stop.is_set() and interval is not None and time.monotonic() < end:
            await asyncio.sleep(interval)
            record = self._next()
            if record is None:
                continue
            try:
                ack = await self.phone.call("moderate", {"id": record["id"], "decision": "approve"}, timeout=10)
                self.approved += bool(ack.get("ok"))
                self.failed += not ack.get("ok")
            except (PhoneClosed, asyncio.TimeoutError, OSError):
                self.failed += 1
                if self.phone.dropped.is_set():
                    return
        await self.phone.close()

    def _next(self) -> dict[str, Any] | None:
        waiting: list[Any] = []
        found = None
        now = time.time()
        while self.queue:
            record = self.queue.popleft()
            if record.get("participant") in self.simulated:
                found = record
                break
            if now - record.get("created_at", now) < 30:  # not (yet) known as ours: look again later
                waiting.append(record)
        self.queue.extendleft(reversed(waiting))
        return found
