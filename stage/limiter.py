"""A moving-window rate limiter for the hot paths (every phone event, join and submission).

Why not ``limits``' ``MemoryStorage``: it expires entries with a ``threading.Timer`` that fires every
10 ms and walks every key, taking a fresh ``RLock`` per key. Under gevent with thousands of phones
(one key per connection) that timer took 57 % of the server's CPU in the night-scenario profile
(docs/benchmarks.md). Here each key keeps a deque of hit times and is trimmed when it is used;
keys nobody used for a whole window are swept now and then, amortised over hits. No thread, no timer.

Same call shape as ``limits.strategies.MovingWindowRateLimiter``: ``hit(item, *ids)`` and ``test(item, *ids)``
with a ``limits`` rate item (``parse("20 per 2 seconds")``), so call sites only change the constructor.
Stage's one limiter: also the login, OSC-in and log-throttle limits. Safe across threads (the log
filter runs on the capture agent's threads too); the lock is a green one under gevent or eventlet.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

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
