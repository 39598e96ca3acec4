"""DMX out: one frame loop sends every universe to every node carrying it, over sACN (E1.31) or Art-Net.

Rates follow the standards (docs/plans/issue-21-dmx.md §3a): a universe goes out at ``rate`` while a fade
touches it or its frame differs from the last one sent; after a change sACN repeats the frame 3 times, then
both protocols send a keep-alive every second (receivers drop a silent sACN source after 2.5 s). The loop keeps
a deadline schedule ``t0 + k·period``: a tick that wakes over one period late sends one frame for the newest
slot and skips the missed ones (a burst after a GC pause would only make the lights jump), counted in
:meth:`DmxOutput.stats`.

The source's ``frame()`` is asked only for a universe that is changing, just stopped changing, has a repeat or
keep-alive due, or after :meth:`DmxOutput.poke`: so whoever changes levels without a fade (a cue with fade 0,
the grand master, blackout) pokes, or the change goes out with the next keep-alive, up to a second later.

The network never stops the loop: each node has its own connected, non-blocking UDP socket (so the kernel
reports a port-unreachable as ``ECONNREFUSED`` on a later send), a send error marks only that node ``down`` and
sending goes on; ``ok`` returns after a clean second. Host names are resolved by a task per node, retried while
they fail, so a slow DNS never holds a frame. Concurrency is injected as in ``OscSender``: the server passes its
background-task spawn and sleep (greenlets), tests drive :meth:`DmxOutput.tick` with their own times.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from limits import parse

from stage.dmx.links import Node, resolve_host
from stage.dmx.packets import SLOTS, ArtDmxPacket, E131Packet, fit_source_name
from stage.limiter import MovingWindowLimiter, log_sometimes
from stage.show.dmx import DmxNode

log = logging.getLogger(__name__)

KEEP_ALIVE = 1.0  # seconds between frames of an unchanged universe (E1.31 §6.6.1: 0.8-1 s)
SACN_REPEATS = 3  # identical frames after a change, so one lost packet never leaves a wrong level for a second
TERMINATE_FRAMES = 3  # Stream_Terminated packets on a clean stop (E1.31 §6.7.1)
RESOLVE_RETRY = 5.0
EPSILON = 1e-6  # seconds: float slack when comparing schedule times
LOG_LINES = parse("4 per 1 second")  # per universe (dry run) or per kind of failure
SHOWN_SLOTS = 48  # non-zero slots written per dry-run line


class FrameSource(Protocol):
    def frame(self, universe: int, now: float) -> bytes:
        """512 bytes, the grand master already applied."""
        ...

    def changing(self, universe: int, now: float) -> bool:
        """True while a fade touches the universe, even when its 8-bit values do not move this frame."""
        ...


def thread_spawn(fn: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=fn, name="dmx", daemon=True)
    thread.start()
    return thread


class _Stream:
    """One universe to one node: its packet (and so its sequence), the last frame sent, and when the next is due."""

    def __init__(self, node: Node, packet: E131Packet | ArtDmxPacket, repeats: int) -> None:
        self.node, self.packet, self.after_change = node, packet, repeats
        self.last: bytes | None = None
        self.repeats = 0
        self.keep_alive = 0.0

    def pending(self, slot: float) -> bool:
        return self.node.ready and (self.last is None or self.repeats > 0 or slot >= self.keep_alive - EPSILON)

    def due(self, data: bytes, changing: bool, slot: float) -> bool:
        if changing or data != self.last:
            self.repeats = self.after_change
            return True
        if self.repeats > 0:
            self.repeats -= 1
            return True
        return slot >= self.keep_alive - EPSILON


class DmxOutput:
    def __init__(self, nodes: Sequence[DmxNode], *, rate: int, source: FrameSource, cid: bytes,
                 default_source_name: str, clock: Callable[[], float] = time.monotonic,
                 spawn: Callable[..., Any] | None = None, sleep: Callable[[float], None] = time.sleep,
                 dry_run: bool = False, on_status: Callable[[dict], None] = lambda s: None,
                 resolve: Callable[[str], str] = resolve_host, resolve_retry: float = RESOLVE_RETRY,
                 random_sequence: bool = True) -> None:
        self.dry_run = dry_run
        self.period = 1.0 / rate
        self._source, self._clock, self._sleep = source, clock, sleep
        self._spawn = spawn or thread_spawn
        self._on_status, self._resolve, self._resolve_retry = on_status, resolve, resolve_retry
        self._nodes = {n.name: Node(n, dry_run) for n in nodes}
        self._universes: dict[int, list[_Stream]] = {}
        for node in self._nodes.values():
            m = node.model
            for universe in m.universes:
                if m.protocol == "sacn":
                    name = fit_source_name(m.source_name or default_source_name)
                    stream = _Stream(node, E131Packet(universe, cid, name, m.priority), SACN_REPEATS)
                else:
                    stream = _Stream(node, ArtDmxPacket(universe), 0)
                # A new output under the night's one CID (a restart, a takeover) starts at a random sequence: a
                # receiver drops packets 1-20 behind the last it saw from this source (E1.31 §6.7.2).
                if random_sequence:
                    stream.packet.sequence = random.randrange(1, 256)
                self._universes.setdefault(universe, []).append(stream)
        self._was_changing: dict[int, bool] = {}
        self._logged: dict[int, bytes] = {}
        self._t0: float | None = None
        self._k = 0
        self._poked = False
        self._late = 0
        self._max_late = 0.0
        self._lock = threading.Lock()  # counters read by other tasks
        self._send_lock = threading.Lock()  # one tick (or close) at a time owns the sockets and streams
        self._stop, self._done = threading.Event(), threading.Event()
        self._started = self._closed = False
        self._limiter = MovingWindowLimiter(clock)

    @property
    def next_due(self) -> float:
        return self._clock() if self._t0 is None else self._t0 + self._k * self.period

    def start(self) -> None:
        """Spawn the resolver tasks of nodes given by name, then the frame loop."""
        if not self._started:
            self._started = True
            self._start_resolvers()
            self._spawn(self._run)

    def poke(self) -> None:
        """A cue just fired: the next tick looks at every universe, instead of waiting for its keep-alive."""
        self._poked = True

    def tick(self, now: float) -> None:
        """One pass of the loop at ``now``: every frame due goes out (nothing, if ``now`` is before the next slot)."""
        self._start_resolvers()
        with self._send_lock:
            slot = None if self._closed else self._schedule(now)
            changed = False if slot is None else self._send_due(slot, now)
        if changed:
            self._report()

    def status(self) -> dict[str, dict]:
        """Per node: status (unknown, ok, down, dry_run), error, protocol, address, universes, frames, dropped."""
        return {name: node.describe() for name, node in self._nodes.items()}

    def stats(self) -> dict:
        """Packets sent; ``late``: ticks that woke over one period after their slot (the slots missed were
        skipped); ``max_late_ms``: the latest any tick woke after its slot."""
        with self._lock:
            frames = sum(node.frames for node in self._nodes.values())
            return {"frames": frames, "late": self._late, "max_late_ms": round(self._max_late * 1000, 3)}

    def close(self, timeout: float = 2.0) -> None:
        """Stop the loop; sACN universes get 3 Stream_Terminated frames, so receivers let go at once."""
        self._stop.set()
        with self._send_lock:
            if self._closed:
                return
            self._closed = True
            for streams in self._universes.values():
                for s in streams:
                    if isinstance(s.packet, E131Packet) and s.last is not None and s.node.ready and not self.dry_run:
                        for _ in range(TERMINATE_FRAMES):
                            sent, error = s.node.send(s.packet.frame(s.last, terminated=True), s.packet.universe)
                            s.node.record(sent, error, self.next_due)
            for node in self._nodes.values():
                node.close()
        if self._started and not self._done.wait(timeout):
            log.warning("DMX frame loop did not stop within %.1fs", timeout)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.tick(self._clock())
                except Exception:  # a loop that dies leaves the lights frozen for the night
                    log_sometimes(log, LOG_LINES, ("crash",), "DMX frame loop failed a tick", exc_info=True,
                                  level=logging.ERROR, limiter=self._limiter)
                if not self._stop.is_set():
                    self._sleep(max(0.0, self.next_due - self._clock()))
        finally:
            self._done.set()

    def _schedule(self, now: float) -> float | None:
        """The slot this tick sends for, or None when ``now`` is before it; skips slots over one period late."""
        if self._t0 is None:
            self._t0 = now
        due = self._t0 + self._k * self.period
        if now < due - EPSILON:
            return None
        k = self._k
        late = now - due
        if late > self.period + EPSILON:
            k = int((now - self._t0) / self.period + EPSILON)
        with self._lock:
            self._max_late = max(self._max_late, late)
            self._late += k != self._k
        self._k = k + 1
        return self._t0 + k * self.period

    def _send_due(self, slot: float, now: float) -> bool:
        poked, self._poked = self._poked, False
        changed = False
        for universe, streams in self._universes.items():
            try:
                changing = bool(self._source.changing(universe, now))
                was, self._was_changing[universe] = self._was_changing.get(universe, False), changing
                if not (poked or changing or was or any(s.pending(slot) for s in streams)):
                    continue
                data = bytes(self._source.frame(universe, now))
                if len(data) != SLOTS:
                    raise ValueError(f"a frame of {len(data)} slots (DMX512 carries {SLOTS})")
            except Exception:  # one universe's bad frame must not silence the others
                log_sometimes(log, LOG_LINES, ("frame", str(universe)), "DMX frame of universe %d failed",
                              universe, exc_info=True, level=logging.ERROR, limiter=self._limiter)
                continue
            if self.dry_run:
                self._log_frame(universe, data, changing, was)
            for s in streams:
                if s.node.ready and s.due(data, changing, slot):
                    changed |= self._emit(s, data, slot)
        return changed

    def _emit(self, s: _Stream, data: bytes, slot: float) -> bool:
        packet = s.packet.frame(data)
        s.last, s.keep_alive = data, slot + KEEP_ALIVE
        if self.dry_run:
            return s.node.record(True, None, slot)
        sent, error = s.node.send(packet, s.packet.universe)
        if not sent and error is None:
            s.last = None  # EAGAIN: the socket buffer is full; this frame goes again on the next tick
        return s.node.record(sent, error, slot)

    def _log_frame(self, universe: int, data: bytes, changing: bool, was: bool) -> None:
        """Dry run: what would go out, a few lines a second per universe, and always a fade's last frame."""
        if was and not changing:
            log.info("DMX dry run: %s", _slots(universe, data))
        elif data != self._logged.get(universe):
            log_sometimes(log, LOG_LINES, ("dry-run", str(universe)), "DMX dry run: %s", _slots(universe, data),
                          level=logging.INFO, limiter=self._limiter)
        self._logged[universe] = data

    def _report(self) -> None:
        try:
            self._on_status(self.status())
        except Exception:
            log.exception("DMX on_status callback failed")

    def _start_resolvers(self) -> None:
        with self._lock:
            todo = [node for node in self._nodes.values() if node.resolver]
            for node in todo:
                node.resolver = False
        for node in todo:
            self._spawn(functools.partial(self._resolve_node, node))

    def _resolve_node(self, node: Node) -> None:
        """Resolve a node's host name off the loop, retrying every few seconds while it fails."""
        name = node.model.address
        assert name is not None
        while not self._stop.is_set():
            try:
                ip = str(ipaddress.ip_address(self._resolve(name)))
            except Exception as exc:  # gaierror, a timeout, an answer that is no address
                log.debug("DMX node %s: cannot resolve %s: %s", node.model.name, name, exc)
                if node.set("down", f"cannot resolve {name}"):
                    self._report()
                if self._stop.wait(self._resolve_retry):
                    return
                continue
            node.ip = ip
            if node.set("unknown", None):
                self._report()
            return


def _slots(universe: int, data: bytes) -> str:
    """``u1: 1=204 2=255 …``: the non-zero slots, numbered from 1 as a lighting desk counts them."""
    lit = [f"{slot}={value}" for slot, value in enumerate(data, start=1) if value]
    more = f" … (+{len(lit) - SHOWN_SLOTS} more)" if len(lit) > SHOWN_SLOTS else ""
    return f"u{universe}: {' '.join(lit[:SHOWN_SLOTS]) or 'all 0'}{more}"
