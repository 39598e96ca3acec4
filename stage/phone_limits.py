"""What one phone may have going: new records per window, and uploads in flight. No Flask.

Both are taken *before* the work they stand for, in one step with their check (no yield between
test and charge): testing the window first and charging it after the commit, in another
greenlet's time, let twelve ``submit_story`` events in flight at once all pass a test of the same
empty window, and ten parallel uploads all ran a media worker (issue 14, finding 4). That is how
the dependency is meant to work, not a bug to patch: Flask-SocketIO's ``async_handlers`` (default
True, https://flask-socketio.readthedocs.io/en/latest/api.html) runs each event of one client in its
own greenlet, and gevent's WSGI server serves each upload in its own greenlet too.

Media workers are capped server-wide too (``MEDIA_WORKERS``): the per-phone cap alone let several
device keys run ten or more transcodes at once on a two-core machine. A worker over the cap is
refused with the same ``busy`` the phones already retry (audience_web/static/js/media.js).

With several ``stage serve`` processes (``--redis``) the windows and counts are shared in Redis
(stage/cluster/limits.py: the same calls), the media-worker cap per machine; so are the joins per address.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem
from limits import parse as parse_limit

from stage.errors import RateLimited
from stage.limiter import InFlight, MovingWindowLimiter, log_sometimes

log = logging.getLogger(__name__)

SUBMIT_LIMIT = parse_limit("6 per 10 seconds")
UPLOADS_IN_FLIGHT = 2  # per phone: each runs a media worker (a clip transcode is ~35 MiB and a core)
MEDIA_WORKERS = max(2, os.cpu_count() or 1)  # server-wide: a worker keeps a core busy; more only queue up
_BUSY_LINES = parse_limit("1 per 10 seconds")  # "media workers busy": a rush of uploads is not a flood of lines
_SERVER = "server"  # the one key of the server-wide worker count


@dataclass
class SubmitSlot:
    """A reserved submission. It keeps its slot when the work made a new record (``created``) or ran a
    media worker (``worked``: a refused upload still cost a worker, so garbage files are limited too)."""

    created: bool = False
    worked: bool = False


class PhoneLimits:
    def __init__(self, submit_limit: RateLimitItem = SUBMIT_LIMIT, uploads_in_flight: int = UPLOADS_IN_FLIGHT,
                 media_workers: int = MEDIA_WORKERS, window: Any = None, in_flight: Callable[[int], Any] = InFlight,
                 machine: str = _SERVER) -> None:
        """``window`` and ``in_flight``: this process's own (the default) or the night's (stage/cluster/limits.py);
        ``machine``: the key of the media-worker cap, which protects one machine's cores."""
        self._submit_limit = submit_limit
        self._window = window or MovingWindowLimiter()  # not limits.MemoryStorage: see stage/limiter.py
        self._lines = MovingWindowLimiter()  # log throttles stay this process's
        self._uploading = in_flight(uploads_in_flight)
        self._workers = in_flight(media_workers)
        self._machine = machine

    def join(self, limit: RateLimitItem, address: str) -> bool:
        """One join from ``address`` counted, if its window has room (phones behind one NAT share it)."""
        return self._window.hit(limit, "join-addr", address)

    @contextmanager
    def submission(self, participant_id: str) -> Iterator[SubmitSlot]:
        """Reserve one of the phone's new records before the work (the commit, a media worker); give it
        back unless the work made a new record or ran a media worker, so submissions refused before
        any work (empty, closed, bad sources, banned) and retries cost nothing."""
        stamp = self._window.reserve(self._submit_limit, "submit", participant_id)
        if stamp is None:
            raise RateLimited("too many submissions at once; wait a few seconds")
        slot = SubmitSlot()
        try:
            yield slot
        finally:
            if not (slot.created or slot.worked):
                self._window.release(self._submit_limit, stamp, "submit", participant_id)

    @contextmanager
    def upload(self, participant_id: str) -> Iterator[None]:
        """One of the phone's upload slots for the whole upload: saving the file and its media worker.

        Taken before the file is written, so a phone cannot run more workers (or temp files) at once;
        the next one is refused at once with ``busy`` (HTTP 429; the phone's outbox retries it).
        """
        if not self._uploading.acquire(participant_id):
            log.info("participant %s has %d uploads in flight; refusing another", participant_id,
                     self._uploading.cap)
            raise RateLimited(f"{self._uploading.cap} uploads are still on their way; wait for one to finish",
                              code="busy")
        try:
            yield
        finally:
            self._uploading.release(participant_id)

    @contextmanager
    def media_worker(self) -> Iterator[int]:
        """One of the server's media-worker slots while a worker runs; yields how many run now (this one too).

        Checked and taken in one step; over the cap the upload is refused at once with ``busy`` (HTTP 429,
        retried by the phone), before the worker starts, so it costs the phone no submission.
        """
        if not self._workers.acquire(self._machine):
            log_sometimes(log, _BUSY_LINES, ("media workers",), "all %d media workers are busy; refusing uploads "
                          "until one is free", self._workers.cap, level=logging.INFO, limiter=self._lines)
            raise RateLimited("the server is busy with other uploads; trying again in a moment", code="busy")
        try:
            yield self._workers.running(self._machine)
        finally:
            self._workers.release(self._machine)
