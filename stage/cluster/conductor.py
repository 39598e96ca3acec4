"""Which serve process runs the show (issue 17): the one holding the store's lease, and the move to another.

Every process serves phones; one, the **conductor**, also runs the show: the cue engine and its timers,
OSC in, the rigs' agents, the display watcher, and it takes the consoles', displays' and agents' sockets
(the others refuse them with ``not_conductor``, and the proxy sends them here by ``/healthz/conductor``).

The lease is PostgreSQL's session advisory lock on the store's own holder connection
(``stage.records.postgres_lease``), never an election of our own, and not a Redis lock: a Redis restart
must not move the show, and "lost the lease" and "cannot write the store" then go together. A follower
tries to take it every ``POLL_S``; the conductor checks every ``WATCH_S`` that its session still holds it.

A conductor whose lease went to another process, or that has not seen its lease held for ``GRACE_S``
(PostgreSQL unreachable: it may be giving the lease to another process right now), stops at once
(``on_lost``: the process exits with status 75, and ``stage serve --workers`` starts it again as a
follower): demoting itself in place would mean unwinding timers, sockets and agents that the new conductor
has already taken over. A holder connection that broke (PostgreSQL restarted) and is taken back within the
grace, with nobody else on the lease, keeps the show here. While PostgreSQL is away no process can save a
GO anyway; the show resumes from the store on whichever process takes the lease when it is back.

No Flask and no Socket.IO: the server passes what to start when this process begins to conduct.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

POLL_S = 0.5  # a follower's try for the lease: with the proxy's 500 ms check, a failover is ~1-2 s
WATCH_S = 1.0
GRACE_S = 3.0  # below the ~4 s after which PostgreSQL frees a vanished holder's lock (postgres_lease.py)
DEADLINE_POLL_S = 0.25
LOST_EXIT = 75  # EX_TEMPFAIL: the supervisor restarts the process, which comes back as a follower


class Lease(Protocol):
    @property
    def held(self) -> bool: ...

    def try_take(self) -> bool: ...

    def still_held(self) -> bool: ...

    @property
    def reachable(self) -> bool: ...


class Conductor:
    def __init__(self, lease: Lease, name: str, take_over: Callable[[bool], None], on_lost: Callable[[], None],
                 spawn: Callable[..., object], sleep: Callable[[float], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``take_over(first)``: start the conductor's duties; ``first`` is True when this process held the
        lease from its start (it loaded the show's state at start), False after a takeover (reload it)."""
        self._lease, self._name = lease, name
        self._take_over, self._on_lost = take_over, on_lost
        self._spawn, self._sleep, self._clock = spawn, sleep, clock
        self.conducting = False
        self._stopped = False
        self._last_good = clock()

    def start(self) -> None:
        if self._lease.held:
            self._begin(first=True)
        else:
            log.info("process %s is a follower: it serves phones; another process runs the show", self._name)
            self._spawn(self._poll)

    def stop(self) -> None:
        """This process stops serving: no more polls or checks (the store closes next, and frees the lease)."""
        self._stopped = True

    def _poll(self) -> None:
        while not (self.conducting or self._stopped):
            self._sleep(POLL_S)
            if not self._stopped and self._lease.try_take():
                self._begin(first=False)

    def _begin(self, first: bool) -> None:
        log.warning("process %s runs the show now%s", self._name, "" if first else " (took over the lease)")
        self._take_over(first)  # the show's state first: a console let in before would see a stale one
        self.conducting = True
        self._last_good = self._clock()
        self._spawn(self._watch)
        self._spawn(self._deadline)

    def _watch(self) -> None:
        while self.conducting and not self._stopped:
            self._sleep(WATCH_S)
            if self._lease.held and self._lease.still_held():
                self._last_good = self._clock()
            elif self._lease.try_take():  # the holder's session broke, and nobody took the lease meanwhile
                log.warning("process %s: the store's connection broke; it holds the lease again", self._name)
                self._last_good = self._clock()
            elif self._lease.reachable:
                self._lose("another process holds the lease")
            # PostgreSQL unreachable: ask again; _deadline stops this process before PostgreSQL frees the lock.

    def _deadline(self) -> None:
        """Stop running the show ``GRACE_S`` after the lease was last seen held: PostgreSQL gives a vanished
        holder's lock to another process about 4 s after its last sign of life (server-side keepalives), and
        two processes must never run the show at once. This loop waits on nothing but the clock, so a check
        stuck on a dead connection cannot hold it up."""
        while self.conducting and not self._stopped:
            self._sleep(DEADLINE_POLL_S)
            if self._clock() - self._last_good > GRACE_S:
                self._lose(f"no word from PostgreSQL for {GRACE_S:.0f} s")

    def _lose(self, why: str) -> None:
        if not self.conducting:
            return
        log.critical("process %s stops running the show: %s", self._name, why)
        self.conducting = False
        self._on_lost()
