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
"""

from __future__ import annotations

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


def collect_once(clock: Callable[[], float] = time.perf_counter) -> int:
    """One full collection; how many unreachable objects it found."""
    began = clock()
    found = gc.collect()
    took = clock() - began
    if took > SLOW_PAUSE:
        log.info("a full garbage collection took %.0f ms (%d unreachable objects)", took * 1000, found)
    return found


def collect_forever(sleep: Callable[[float], object], every: float = FULL_EVERY) -> None:
    """A background task of the server: a full collection every ``every`` seconds, for good."""
    while True:
        sleep(every)
        try:
            collect_once()
        except Exception:  # a finaliser that raises must not end the policy for the rest of the night
            log.exception("a full garbage collection failed; trying again in %.0f s", every)
