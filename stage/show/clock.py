"""Clocks for the cue engine: a real one built on the server's background tasks, a fake one for tests.

The engine only asks for ``now()`` and ``call_later(delay, fn)``, so every timing rule can be tested
exactly by advancing a :class:`FakeClock`.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any, Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float: ...

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer: ...


class _Handle:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class TaskClock:
    """Monotonic time; timers are background tasks (``socketio.start_background_task`` + ``socketio.sleep``)."""

    def __init__(self, spawn: Callable[..., Any], sleep: Callable[[float], None]) -> None:
        self._spawn = spawn
        self._sleep = sleep

    def now(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        handle = _Handle()
        self._spawn(self._run, delay, fn, handle)
        return handle

    def _run(self, delay: float, fn: Callable[[], None], handle: _Handle) -> None:
        self._sleep(delay)
        if not handle.cancelled:
            fn()


class FakeClock:
    """Time moves only when a test calls :meth:`advance`; due timers run in time order."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._queue: list[tuple[float, int, _Handle, Callable[[], None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        handle = _Handle()
        heapq.heappush(self._queue, (self._now + delay, next(self._order), handle, fn))
        return handle

    def advance(self, seconds: float) -> None:
        until = self._now + seconds
        while self._queue and self._queue[0][0] <= until:
            due, _, handle, fn = heapq.heappop(self._queue)
            self._now = due
            if not handle.cancelled:
                fn()
        self._now = until
