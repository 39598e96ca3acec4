"""A moving-window rate limiter for the hot paths (every phone event, join and submission).

Why not ``limits``' ``MemoryStorage``: it expires entries with a ``threading.Timer`` that fires every
10 ms and walks every key, taking a fresh ``RLock`` per key. Under gevent with thousands of phones
(one key per connection) that timer took 57 % of the server's CPU in the night-scenario profile
(docs/benchmarks.md). Here each key keeps a deque of hit times and is trimmed when it is used;
keys nobody used for a whole window are swept now and then, amortised over hits. No thread, no timer.

Same call shape as ``limits.strategies.MovingWindowRateLimiter``: ``hit(item, *ids)`` and ``test(item, *ids)``
with a ``limits`` rate item (``parse("20 per 2 seconds")``), so call sites only change the constructor.

A limit on work that yields (a commit, a media worker) is *reserved* before the work, never tested
before and charged after: ``reserve`` checks and counts in one step (no yield between the two, so
twelve events in flight at once cannot all pass a test of an empty window), and ``release`` gives
the slot back when the work was refused or failed. ``InFlight`` caps work running at the same time.
Stage's one limiter: also the login, OSC-in and log-throttle limits. Safe across threads (the log
filter runs on the capture agent's threads too); the lock is a green one under gevent or eventlet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from limits import RateLimitItem

SWEEP_EVERY = 10_000  # hits between sweeps of idle keys


class MovingWindowLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._window: dict[str, float] = {}  # key -> its window, for the sweep
        self._until_sweep = SWEEP_EVERY
        self._lock = threading.Lock()

    def _recent(self, item: RateLimitItem, identifiers: tuple[str, ...], now: float) -> tuple[str, deque[float]]:
        key = item.key_for(*identifiers)
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            self._window[key] = item.get_expiry()
        horizon = now - item.get_expiry()
        while hits and hits[0] <= horizon:
            hits.popleft()
        return key, hits

    def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        """True when one more hit would be allowed (nothing is counted)."""
        with self._lock:
            _, hits = self._recent(item, identifiers, self._clock())
            return len(hits) < item.amount

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count a hit if the window has room; False (and nothing counted) when it is full."""
        with self._lock:
            now = self._clock()
            _, hits = self._recent(item, identifiers, now)
            allowed = len(hits) < item.amount
            if allowed:
                hits.append(now)
            self._until_sweep -= 1
            if self._until_sweep <= 0:
                self._sweep(now)
            return allowed

    def reserve(self, item: RateLimitItem, *identifiers: str) -> float | None:
        """Count a hit now, before the work it stands for; its stamp (for :meth:`release`), or None when full."""
        with self._lock:
            now = self._clock()
            _, hits = self._recent(item, identifiers, now)
            if len(hits) >= item.amount:
                return None
            hits.append(now)
            return now

    def release(self, item: RateLimitItem, stamp: float, *identifiers: str) -> None:
        """Give back a reserved hit (the work was refused or failed): it no longer counts."""
        with self._lock:
            hits = self._hits.get(item.key_for(*identifiers))
            if hits is not None and stamp in hits:
                hits.remove(stamp)

    def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        """Forget every hit of one key (a right passphrase clears that address's failed logins)."""
        with self._lock:
            key = item.key_for(*identifiers)
            self._hits.pop(key, None)
            self._window.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._until_sweep = SWEEP_EVERY
        idle = [key for key, hits in self._hits.items() if not hits or hits[-1] <= now - self._window[key]]
        for key in idle:
            del self._hits[key], self._window[key]

    def __len__(self) -> int:
        return len(self._hits)


class InFlight:
    """How many pieces of work each key has running now (uploads and media workers per phone), capped."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> bool:
        """Take a slot if the key has fewer than ``cap`` running (checked and taken in one step)."""
        with self._lock:
            running = self._running.get(key, 0)
            if running >= self.cap:
                return False
            self._running[key] = running + 1
            return True

    def release(self, key: str) -> None:
        with self._lock:
            running = self._running.get(key, 0) - 1
            if running > 0:
                self._running[key] = running
            else:
                self._running.pop(key, None)  # an idle key takes no memory

    def running(self, key: str) -> int:
        return self._running.get(key, 0)


_log_lines = MovingWindowLimiter()


def log_sometimes(logger: logging.Logger, limit: RateLimitItem, key: tuple[str, ...], message: str, *args: Any,
                  level: int = logging.WARNING, exc_info: bool = False,
                  limiter: MovingWindowLimiter | None = None) -> bool:
    """Log one line unless ``key`` (per logger) already wrote ``limit`` of them: Stage's one throttle for
    lines a hostile client can cause (refused events, connects, frames, datagrams, logins). Whether it
    logged. ``limiter``: one with an injected clock, for code whose tests drive the time."""
    if not (limiter or _log_lines).hit(limit, "log", logger.name, *key):
        return False
    logger.log(level, message, *args, exc_info=exc_info)
    return True
