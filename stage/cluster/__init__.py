"""Several serve processes on one night (issue 17): ``stage serve --redis URL --database postgresql://...``.

Every process serves phones; one, the conductor, runs the show (:mod:`stage.cluster.conductor`). They share
the store (PostgreSQL), the media directory, and through Redis every emit (``stage.realtime.queue``) and
the soft state that rebuilds itself, such as the phone count (:mod:`stage.cluster.headcount`). Redis holds
nothing that must survive it: it runs with no persistence, and a Redis restart loses no record.

``Cluster`` is this process's place in that night, built by ``stage.server.create_app`` when ``--redis`` is
given; without it Stage is one process that runs the show, as before. No Flask and no Socket.IO here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import redis
from limits import parse as parse_limit
from redis.backoff import NoBackoff
from redis.retry import Retry

from stage.cluster.conductor import LOST_EXIT, Conductor, Lease
from stage.cluster.headcount import ClusterHeadcount
from stage.cluster.limits import SharedInFlight, SharedWindow
from stage.limiter import log_sometimes
from stage.night.listener import Headcount
from stage.phone_limits import PhoneLimits

log = logging.getLogger(__name__)

TICK_S = 0.5  # the conductor's look at counters and display states other processes changed
REDIS_TIMEOUT_S = 1.0  # soft state is never worth a longer wait: Redis away, each part falls back
_TICK_LINES = parse_limit("1 per minute")  # PostgreSQL away: the tick fails twice a second


def night_channel(database_url: str) -> str:
    """``stage:<hash of host, port and database>``: processes serving one store share a channel (and, as a
    prefix, Stage's keys), and one Redis can carry several nights. The user and password are left out, so
    two spellings of one login still meet."""
    parts = urlsplit(database_url)
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"
    return "stage:" + hashlib.sha256(where.encode()).hexdigest()[:10]


def soft_state_client(url: str) -> redis.Redis:
    """A Redis client that answers or fails within a second and never retries on its own."""
    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S / 2, socket_timeout=REDIS_TIMEOUT_S,
                                retry=Retry(NoBackoff(), 0), decode_responses=False)


def exit_lost() -> None:
    """Another process runs the show now: stop at once (the supervisor starts this one again, as a follower)."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(LOST_EXIT)


class Cluster:
    def __init__(self, redis_url: str, database_url: str, name: str, lease: Lease, local: Headcount,
                 spawn: Callable[..., object], sleep: Callable[[float], None],
                 on_lost: Callable[[], None] = exit_lost) -> None:
        self.name = name
        self.prefix = night_channel(database_url)
        self.redis = soft_state_client(redis_url)
        self.headcount = ClusterHeadcount(local, self.redis, self.prefix, name)
        self._spawn, self._sleep, self._on_lost = spawn, sleep, on_lost
        self._reload: Callable[[], None] = lambda: None
        self._duties: list[Callable[[bool], None]] = []
        self.conductor = Conductor(lease, name, self._take_over, on_lost, spawn, sleep)

    def phone_limits(self) -> PhoneLimits:
        """The phones' limits, counted across the night (the media-worker cap per machine)."""
        return PhoneLimits(window=SharedWindow(self.redis, self.prefix),
                           in_flight=lambda cap: SharedInFlight(self.redis, self.prefix, cap, self.name),
                           machine=f"machine:{socket.gethostname()}")

    @property
    def conducting(self) -> bool:
        return self.conductor.conducting

    def start(self, reload: Callable[[], None], duties: list[Callable[[bool], None]], tick: Callable[[], None]) -> None:
        """Start beating, and conduct now or when the lease comes free. At a takeover ``reload`` reads the
        show's state from the store first (a failure stops this process: it must not run a stale show); then
        ``duties(first)`` start what only the conductor runs, each on its own (one that cannot start, an OSC
        port still held, must not keep the others from starting); ``tick`` is its look, every ``TICK_S``, at
        what other processes changed."""
        self._reload, self._duties = reload, duties
        self._spawn(self.headcount.beat_forever, self._sleep)
        self._spawn(self._tick_forever, tick)
        self.conductor.start()

    def stop(self) -> None:
        self.conductor.stop()
        self.headcount.leave()

    def _take_over(self, first: bool) -> None:
        if not first:
            try:
                self._reload()
            except Exception:
                log.exception("process %s could not read the show's state to take it over; it stops", self.name)
                self._on_lost()
                return
        for duty in self._duties:
            try:
                duty(first)
            except Exception:
                if first:
                    raise  # at start, as without --redis: `stage serve` says why and exits
                log.exception("process %s: a conductor's duty did not start", self.name)

    def _tick_forever(self, tick: Callable[[], None]) -> None:
        while True:
            self._sleep(TICK_S)
            if not self.conducting:
                continue
            try:
                tick()
            except Exception as exc:
                log_sometimes(log, _TICK_LINES, ("tick",), "the conductor's tick failed (%s); it runs again in %.1f s",
                              exc, TICK_S)


def process_name(port: int, worker: str | None = None) -> str:
    """This process among the night's, on every machine: the headcount's and the slots' key, the logs' name."""
    return f"{socket.gethostname()}:{worker}" if worker else f"{socket.gethostname()}:{port}:{os.getpid()}"
