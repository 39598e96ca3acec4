"""What a connection may send: its message cap and its byte budget, by the kind of connection.

A connection starts with a phone's allowance and earns a larger one by an accepted connect to a
namespace that needs it (a console login, a capture agent's crew token). The allowance lives on
python-engineio's own ``Socket`` object, so it goes away with the session and every transport
(websocket under gevent or eventlet, long-polling POSTs) reads the same one. Why a budget as well as a
cap, and what it cost before: stage/realtime/transport.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ALLOWED_ATTR = "stage_allowed"  # on python-engineio's Socket: the session's Allowed
# Every websocket frame (control frames too) and every long-polling packet costs at least this much
# budget: a flood of tiny frames or packets is bounded like one of big ones (a phone's own small events,
# a feed or an Engine.IO pong, are far rarer than the refill).
MIN_CHARGE = 512


class OverBudget(Exception):
    """A connection sent more bytes than its budget allows; the message that went over is not dispatched."""

    def __init__(self, budget: "ByteBudget") -> None:
        super().__init__(f"over this connection's byte budget ({budget.burst} bytes at once, "
                         f"{budget.rate} a second)")


class ByteBudget:
    """A token bucket of bytes for one connection: ``burst`` at once, refilled at ``rate`` a second.

    Not ``limits``: its moving window keeps one entry per unit of cost (one per byte here) and its
    fixed window lets twice the burst through at a window's edge; a bucket is two floats on the
    Engine.IO session and goes away with it. Only the session's own read loop charges it.
    """

    __slots__ = ("burst", "rate", "level", "stamp", "clock")

    def __init__(self, burst: int, rate: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.rate, self.clock = burst, rate, clock
        self.level = float(burst)
        self.stamp = clock()

    def take(self, size: int) -> bool:
        """Charge ``size`` bytes (at least ``MIN_CHARGE``); False (nothing taken) when over."""
        now = self.clock()
        self.level = min(float(self.burst), self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        cost = max(size, MIN_CHARGE)
        if cost > self.level:
            return False
        self.level -= cost
        return True


@dataclass(frozen=True)
class Allowance:
    """What one kind of connection may send: ``cap`` bytes in one message, and a byte budget of ``burst``
    at once refilled at ``rate`` a second (``burst`` None: no budget, for tests of the cap alone)."""

    cap: int
    burst: int | None = None
    rate: int = 0


KIB = 1024
# A phone's (and a display's) largest legitimate message is a 10,000-character story: 40 KB as UTF-8,
# 120 KB from a client whose JSON escapes non-ASCII (python-socketio: "\ud83e\uddb8", 12 bytes an
# emoji), plus its envelope. Its heaviest use is submit_story at its limit (6 per 10 s) at that size:
# the burst holds that whole allowance at once, the refill a story of that size every 4 s. Everything
# else it sends (feed, join, recommend, pongs, heartbeats) is well under 1 KiB.
PHONE = Allowance(cap=128 * KIB, burst=6 * 128 * KIB, rate=32 * KIB)
# A console (after a login) sends small commands, remix drafts and moderation in bursts.
CONSOLE = Allowance(cap=128 * KIB, burst=2 * 1024 * KIB, rate=256 * KIB)
# A capture agent sends a preview (a JPEG of at most 256 KiB, a binary attachment) about twice a second,
# plus health: the cap holds one preview, the refill twice that rate.
CAPTURE = Allowance(cap=320 * KIB, burst=4 * 1024 * KIB, rate=1024 * KIB)
# What a connection earns by an accepted connect to a namespace (each refuses a connect without a login).
EARNED = {"/capture": CAPTURE, "/host": CONSOLE, "/moderation": CONSOLE, "/crew": CONSOLE}


class Allowed:
    """One Engine.IO session's allowance and the budget it is spending (kept on its ``Socket`` object)."""

    __slots__ = ("allowance", "budget")

    def __init__(self, allowance: Allowance) -> None:
        self.allowance = allowance
        self.budget = ByteBudget(allowance.burst, allowance.rate) if allowance.burst is not None else None


class MessageCaps:
    """The caps and byte budgets of one server: ``default`` for every connection until it earns more by
    an accepted connect to a namespace of ``earned``."""

    def __init__(self, default: Allowance = PHONE, earned: dict[str, Allowance] | None = None) -> None:
        self.default = default
        self.earned = dict(EARNED if earned is None else earned)
        self.largest = max(a.cap for a in (default, *self.earned.values()))

    def _allowed(self, eio_socket: Any) -> Allowed:
        allowed = getattr(eio_socket, ALLOWED_ATTR, None)
        if allowed is None:
            allowed = Allowed(self.default)
            setattr(eio_socket, ALLOWED_ATTR, allowed)
        return allowed

    def of(self, eio_socket: Any) -> int:
        """The cap of one Engine.IO session (its socket object), read for every message."""
        return self._allowed(eio_socket).allowance.cap if eio_socket is not None else self.default.cap

    def charge(self, eio_socket: Any, size: int) -> None:
        """Charge ``size`` bytes read on ``eio_socket``'s connection; raises OverBudget past its budget."""
        budget = self._allowed(eio_socket).budget if eio_socket is not None else None
        if budget is not None and not budget.take(size):
            raise OverBudget(budget)

    def grant(self, eio_socket: Any, namespace: str) -> None:
        """Called after a connect to ``namespace`` was accepted: the session gets that namespace's allowance
        if it allows more (a console's session that also joins /capture keeps the larger one)."""
        wanted = self.earned.get(namespace)
        if wanted is None or eio_socket is None:
            return
        current = self._allowed(eio_socket).allowance
        if wanted.cap > current.cap or (wanted.burst or 0) > (current.burst or 0):
            setattr(eio_socket, ALLOWED_ATTR, Allowed(wanted))
