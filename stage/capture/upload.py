"""Upload of finished takes over the HTTP contract in docs/capture.md: chunked PUTs that resume from
the server's ``received``, then ``complete`` with the sha256, which the server verifies. Network
errors are retried with exponential backoff; the local file is deleted only once the server has
confirmed the take.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import requests

from stage.capture.link import verifies_tls
from stage.capture.spool import SpooledTake

log = logging.getLogger(__name__)

CHUNK = 1 << 20
BACKOFF = (0.5, 1, 2, 4, 8, 15, 30)  # seconds between attempts; the last one repeats
CHECKSUM_ATTEMPTS = 2  # a refused checksum is retried once from zero (damage on the wire), then failed


def _backoff(attempt: int) -> float:
    return BACKOFF[min(attempt, len(BACKOFF) - 1)]


class UploadRefused(Exception):
    """The server refused the take for good (e.g. checksum mismatch twice); the file stays in the spool."""


def sha256_of(path: Any) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class Uploader:
    """Uploads spooled takes one at a time in a background thread."""

    def __init__(self, server: str, token: str, rig: str,
                 on_state: Callable[[SpooledTake, str, str | None], None]) -> None:
        self.server = server.rstrip("/")
        self.rig = rig
        self.on_state = on_state
        self.http = requests.Session()
        self.http.verify = verifies_tls(self.server)  # not over loopback (stage/capture/link.py says why)
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.pending: queue.Queue[SpooledTake] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="uploader", daemon=True)

    def start(self) -> "Uploader":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def submit(self, take: SpooledTake) -> None:
        self.pending.put(take)

    def _run(self) -> None:
        failures = 0  # takes failed in a row by unexpected errors: back off before the next one
        while not self._stop.is_set():
            try:
                take = self.pending.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.upload(take)
            except UploadRefused as exc:
                log.error("upload of take %s refused: %s (file kept: %s)", take.take_id, exc, take.final)
                self.on_state(take, "failed", f"upload refused: {exc}")
            except Exception as exc:  # a garbled reply, a spool file gone...: this take only, never the thread
                log.exception("upload of take %s failed (file kept if present: %s)", take.take_id, take.final)
                self.on_state(take, "failed", f"upload failed: {type(exc).__name__}: {exc}")
                self._stop.wait(_backoff(failures))
                failures += 1
            else:
                failures = 0
                self.on_state(take, "uploaded", None)
                take.discard()

    def _url(self, take: SpooledTake, action: str) -> str:
        return f"{self.server}/api/takes/{take.take_id}/{action}"

    def upload(self, take: SpooledTake) -> None:
        size = take.final.stat().st_size
        digest = sha256_of(take.final)
        attempt, incomplete = 1, 0
        while True:
            self._send_bytes(take, size)
            body = {"sha256": digest, "size": size, "rig": self.rig, "slate": take.slate,
                    **{k: take.figures.get(k) for k in ("duration", "frames", "width", "height")}}
            reply = self._retrying(lambda: self.http.post(self._url(take, "complete"), json=body, timeout=60))
            if reply.status_code == 200:
                take.state = "uploaded"
                take.save()
                log.info("take %s uploaded (%d bytes, sha256 %s…)", take.take_id, size, digest[:12])
                return
            code = _error_code(reply)
            log.warning("take %s: server refused complete (%s %s), attempt %d", take.take_id,
                        reply.status_code, code, attempt)
            if code == "incomplete":  # the server lacks bytes: send again from its `received`
                self._pause(incomplete)
                incomplete += 1
                continue
            if code != "checksum_mismatch":
                raise UploadRefused(f"{reply.status_code} {code}")
            if attempt >= CHECKSUM_ATTEMPTS:
                raise UploadRefused("checksum_mismatch: the server's copy never matched the local file")
            attempt += 1

    def _send_bytes(self, take: SpooledTake, size: int) -> None:
        received = self._received(take)
        stalled = 0  # answers in a row that did not move the offset: back off, never spin
        while received < size:
            with open(take.final, "rb") as file:
                file.seek(received)
                chunk = file.read(CHUNK)
            offset = received
            reply = self._retrying(lambda: self.http.put(self._url(take, "upload"), params={"offset": offset},
                                                         data=chunk, timeout=60))
            if reply.status_code == 200:
                received = int(reply.json().get("received", offset + len(chunk)))
            elif reply.status_code == 409 and _error_code(reply) == "already_complete":
                return  # the server already stored this take; `complete` confirms it (idempotent)
            elif reply.status_code == 409:  # the server holds a different amount; follow it
                data = reply.json()
                received = int(data["received"]) if "received" in data else self._received(take)
            else:
                raise UploadRefused(f"{reply.status_code} {_error_code(reply)} at offset {offset}")
            if received == offset:
                self._pause(stalled)
                stalled += 1
            else:
                stalled = 0

    def _received(self, take: SpooledTake) -> int:
        reply = self._retrying(lambda: self.http.get(self._url(take, "upload"), timeout=15))
        return int(reply.json().get("received", 0)) if reply.ok else 0

    def _pause(self, attempt: int) -> None:
        """Back off before asking the server again; gives up when the agent stops."""
        if self._stop.wait(_backoff(attempt)):
            raise UploadRefused("agent stopping")

    def _retrying(self, call: Callable[[], requests.Response]) -> requests.Response:
        """Retry connection failures, 5xx and 429 (a crew lockout from this address, a busy server) with
        backoff until the agent stops: none of them says the take is wrong, so none may fail it."""
        attempt = 0
        while True:
            try:
                reply = call()
                if reply.status_code < 500 and reply.status_code != 429:
                    return reply
                problem = f"HTTP {reply.status_code} {_error_code(reply)}".rstrip()
            except requests.RequestException as exc:
                problem = type(exc).__name__
            log.warning("upload: %s; retrying in %.1f s", problem, _backoff(attempt))
            self._pause(attempt)  # interrupted when the agent stops, not a sleep of up to 30 s
            attempt += 1


def _error_code(reply: requests.Response) -> str:
    try:
        return str(reply.json().get("error", {}).get("code", ""))
    except ValueError:
        return ""
