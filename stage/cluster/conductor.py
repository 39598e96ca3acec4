"""Which serve process runs the show (issue 17): the one holding the store's lease, and the move to another.

Every process serves phones; one, the **conductor**, also runs the show: the cue engine and its timers,
OSC in, the rigs' agents, the display watcher, and it takes the consoles', displays' and agents' sockets
(the others refuse them with ``not_conductor``, and the proxy sends them here by ``/healthz/conductor``).

The lease is PostgreSQL's session advisory lock on the store's own holder connection
(``stage.records.postgres_lease``), never an election of our own, and not a Redis lock: a Redis restart
must not move the show, and "lost the lease" and "cannot write the store" then go together. A follower
tries to take it every ``POLL_S``; the conductor checks every ``WATCH_S`` that its session still holds it.

A conductor whose lease went to another process stops at once (``on_lost``: the process exits with status
75, and ``stage serve --workers`` starts it again as a follower): demoting itself in place would mean
unwinding timers, sockets and agents that the new conductor has already taken over. A holder connection
that broke (PostgreSQL restarted) without another process taking the lease is taken back, and the show
goes on here.

No Flask and no Socket.IO: the server passes what to start when this process begins to conduct.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

POLL_S = 0.5  # a follower's try for the lease: with the proxy's 500 ms check, a failover is ~1-2 s
WATCH_S = 1.0
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
                 spawn: Callable[..., object], sleep: Callable[[float], None]) -> None:
        """``take_over(first)``: start the conductor's duties; ``first`` is True when this process held the
        lease from its start (it loaded the show's state at start), False after a takeover (reload it)."""
        self._lease, self._name = lease, name
        self._take_over, self._on_lost = take_over, on_lost
        self._spawn, self._sleep = spawn, sleep
        self.conducting = False

    def start(self) -> None:
        if self._lease.held:
            self._begin(first=True)
        else:
            log.info("process %s is a follower: it serves phones; another process runs the show", self._name)
            self._spawn(self._poll)

    def _poll(self) -> None:
        while not self.conducting:
            self._sleep(POLL_S)
            if self._lease.try_take():
                self._begin(first=False)

    def _begin(self, first: bool) -> None:
        self.conducting = True
        log.warning("process %s runs the show now%s", self._name, "" if first else " (took over the lease)")
        self._take_over(first)
        self._spawn(self._watch)

    def _watch(self) -> None:
        adrift = False
        while True:
            self._sleep(WATCH_S)
            if self._lease.held and self._lease.still_held():
                continue
            if self._lease.try_take():  # the holder's session broke, and nobody took the lease meanwhile
                log.warning("process %s: the store's connection broke; it holds the lease again", self._name)
                adrift = False
                continue
            if not self._lease.reachable:
                # PostgreSQL is away: nobody can take the lease, and no process can write. Go on running the show
                # (cue timers, OSC, displays) and ask again; whoever reaches PostgreSQL first when it is back conducts.
                if not adrift:
                    log.error("process %s: PostgreSQL is unreachable; the show runs on here until it is back",
                              self._name)
                adrift = True
                continue
            log.critical("process %s lost the lease to another process: it stops running the show", self._name)
            self.conducting = False
            self._on_lost()
            return
