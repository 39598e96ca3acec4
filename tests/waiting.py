"""Waiting for a condition with a deadline: the suite's one way to wait (never a fixed sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 10, what: str = "condition", every: float = 0.02,
               sleep: Callable[[float], object] = time.sleep) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that; fail the test at ``timeout``.
    ``sleep``: how to wait between polls (the in-process tier passes ``gevent.sleep``, so the app's
    background tasks run meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        sleep(every)

