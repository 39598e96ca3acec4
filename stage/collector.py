"""The server's garbage-collector policy: raised thresholds for latency, a full collection on a timer.

Why raised: thousands of phone connections are long-lived objects, and with CPython's default
thresholds the collector walked them all every few thousand allocations; those pauses were the p99 of
the submit benchmark (docs/benchmarks.md). So ``tune`` freezes what start-up made and collects young
objects less often.

Why a timer as well: with those thresholds CPython's own full collections became rare (measured under
2,000 phones: 2 in 8 minutes), and cyclic garbage only a full collection frees piled up meanwhile:
gevent's finished connection handlers, and per-event request contexts (see ``stage.web.socket_context``).
The soak grew 252 -> 938 MB in 40 minutes of churning phones; one ``gc.collect()`` after a 90-second
rehearsal freed 70,528 such objects. A full collection every ``FULL_EVERY`` seconds bounds the garbage to
what that time makes, at the cost of one pause of tens of milliseconds a minute.

Why ``malloc_trim`` after it: what the collection frees goes back to glibc's heap, which keeps it. Under
tracemalloc in a 3x soak (2,000 churning phones), Python's own allocations stayed flat (137.2 -> 140.5 MB
over six minutes) while RSS kept climbing (455 -> 481 MB); one ``malloc_trim(0)`` from gdb took the server
from 417 to 333 MB at once. Freed heap that is never handed back grows RSS with the night's churn although
nothing leaks, and a machine that also runs the capture agent and a remix render needs it back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

FULL_EVERY = 60.0  # seconds between full collections
SLOW_PAUSE = 0.25  # a full collection longer than this is worth a log line


def tune() -> None:
    """Collect and freeze what start-up made; collect young objects less often (the latency reason above)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS): then nothing is trimmed."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def collect_once(clock: Callable[[], float] = time.perf_counter) -> int:
    """One full collection, then the freed heap handed back to the system; how many unreachable objects it found."""
    began = clock()
    found = gc.collect()
    collected = clock()
    if _TRIM is not None:
        _TRIM(0)
    done = clock()
    took, trim = done - began, done - collected
    if took > SLOW_PAUSE:
        log.info("a full garbage collection took %.0f ms (%d unreachable objects; handing back freed heap: %.0f ms)",
                 took * 1000, found, trim * 1000)
    return found


def collect_forever(sleep: Callable[[float], object], every: float = FULL_EVERY) -> None:
    """A background task of the server: a full collection every ``every`` seconds, for good."""
    while True:
        sleep(every)
        try:
            collect_once()
        except Exception:  # a finaliser that raises must not end the policy for the rest of the night
            log.exception("a full garbage collection failed; trying again in %.0f s", every)
