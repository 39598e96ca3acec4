"""OSC in: remote GO from TouchOSC, Companion or a console, on one plain UDP socket.

Each datagram passes, in order: the allow-list (sender IP in one of the allowed addresses or CIDR
networks; others are dropped and logged at most once per ``LOG_EVERY``), the rate
limit (``stage.limiter`` moving window per sender IP; over it, dropped without a reply), the strict
decoder (``stage.lighting.datagrams``: a datagram with an unsupported type tag, a tag/argument mismatch,
truncated or trailing bytes, or over its size cap is refused whole, and nothing in it runs; a bundle's
messages run at once, its time tag is ignored), then the command. Console feedback under ``/eos/out/``
goes to ``on_feedback``. Nothing a sender does can stop the loop or flood the log: each kind of refusal
logs at most one line per sender every ``LOG_EVERY``.

Replies go back to the datagram's source address and port: ``/stage/cue/5/go`` is answered on
``/stage/reply/cue/5/go`` with ``,ss "ok" "<result>"`` or ``,ss "error" "<message>"``. Rate-limited,
refused and unparseable datagrams and button releases get no reply.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from limits import RateLimitItem
from limits import parse as parse_limit

from stage.errors import StageError
from stage.lighting.commands import REPLY_PREFIX, CommandError, RemoteHandlers, parse, reply_address
from stage.lighting.datagrams import DatagramError, decode
from stage.lighting.messages import OscMessage
from stage.limiter import MovingWindowLimiter, log_sometimes

log = logging.getLogger(__name__)

Spawn = Callable[[Callable[..., None]], Any]
OnFeedback = Callable[[str, list[Any]], None]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

FEEDBACK_PREFIX = "/eos/out/"
PING = "/stage/ping"
# One log line per kind of refusal and sender in this window: a flood must not flood the log.
LOG_EVERY = parse_limit("1 per 10 seconds")
# Commands that ran (or that the night refused): each GO is an event for the log, 200 a second are not.
COMMAND_LOG = parse_limit("5 per second")
POLL = 0.25  # the loop wakes this often to notice close()
MAX_DATAGRAM = 65535
COUNTERS = ("received", "handled", "dropped", "rate_limited", "malformed", "unknown", "errors", "feedback")


class RemoteError(StageError):
    """OSC in cannot start: a bad allow-list entry or rate, or a port that cannot be bound."""

    code = "osc_remote"


class OscRemote:
    def __init__(self, port: int, bind: str, allow: Iterable[str], handlers: RemoteHandlers, *, spawn: Spawn,
                 on_feedback: OnFeedback | None = None, rate: str = "200 per second",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bind = bind
        self.handlers = handlers
        self.allow = _networks(allow)
        self.counters = dict.fromkeys(COUNTERS, 0)
        self._port = port
        self._spawn = spawn
        self._on_feedback = on_feedback
        try:
            self._rate = parse_limit(rate)
        except ValueError as exc:
            raise RemoteError(f"OSC in rate {rate!r} is not a limit like '200 per second'") from exc
        self._limiter = MovingWindowLimiter(clock)  # the rate limit and the log throttle
        self._sock: socket.socket | None = None
        self._closed = False
        self._done = threading.Event()

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with port 0)."""
        return self._sock.getsockname()[1] if self._sock is not None else self._port

    def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((self.bind, self._port))
        except OSError as exc:
            sock.close()
            raise RemoteError(f"OSC in cannot listen on udp {self.bind}:{self._port}: {exc.strerror or exc}") from exc
        sock.settimeout(POLL)
        self._sock = sock
        log.info("OSC in listening on udp %s:%d (allow %s, rate %s)", self.bind, self.port,
                 ", ".join(str(n) for n in self.allow), self._rate)
        self._spawn(self._loop)

    def close(self, timeout: float = 2.0) -> None:
        self._closed = True
        if self._sock is not None and not self._done.wait(timeout):
            log.warning("OSC in loop did not stop within %.1fs", timeout)

    def _loop(self) -> None:
        assert self._sock is not None
        try:
            while not self._closed:
                try:
                    data, sender = self._sock.recvfrom(MAX_DATAGRAM)
                except (TimeoutError, socket.timeout, BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:  # e.g. an ICMP error reported on the socket: keep listening
                    log.debug("OSC in recvfrom: %s", exc)
                    continue
                try:
                    self.handle(data, sender)
                except Exception:  # the loop outlives any bug in one datagram's handling
                    self.counters["errors"] += 1
                    self._log_sometimes("failed", sender[0], "OSC in: datagram from %s failed", sender[0],
                                        level=logging.ERROR, exc_info=True)
        finally:
            self._sock.close()
            self._done.set()

    def handle(self, data: bytes, sender: tuple[Any, ...]) -> None:
        """One received datagram from ``sender`` (``(ip, port, ...)``): check, decode, run its commands."""
        self.counters["received"] += 1
        ip = sender[0]
        if not self._allowed(ip):
            self.counters["dropped"] += 1
            # Keyed by kind only: spoofed source addresses must not grow the limiter without bound.
            self._log_sometimes("refused", "*", "OSC in: dropped datagram(s) from %s, not in the allow-list", ip)
            return
        if not self._limiter.hit(self._rate, "osc-in", ip):
            self.counters["rate_limited"] += 1
            self._log_sometimes("rate", ip, "OSC in: %s is over the rate limit (%s); dropping", ip, self._rate)
            return
        try:
            messages = decode(data)
        except DatagramError as exc:
            self.counters["malformed"] += 1
            self._log_sometimes("malformed", ip, "OSC in: refused a datagram from %s (%d bytes): %s "
                                "(further refusals from it are not logged for %ds)", ip, len(data), exc.message,
                                LOG_EVERY.get_expiry())
            return
        for msg in messages:
            self._message(msg.address, [value for _, value in msg.args], sender)

    def _message(self, address: str, args: list[Any], sender: tuple[Any, ...]) -> None:
        if address.startswith(FEEDBACK_PREFIX):
            self.counters["feedback"] += 1
            if self._on_feedback is not None:
                self._on_feedback(address, args)
            return
        if address.startswith(REPLY_PREFIX + "/"):
            self.counters["unknown"] += 1  # never answer a reply: two Stages must not ping-pong
            return
        try:
            command = parse(address, args, self.handlers)
        except CommandError as exc:
            self.counters["unknown" if exc.unknown else "malformed"] += 1
            self._log_sometimes(exc.code, sender[0], "OSC in from %s: %s", sender[0], exc.message)
            self._reply(reply_address(address), "error", exc.message, sender)
            return
        if command.call is None:
            return  # a button's release edge
        try:
            result = command.call()
        except StageError as exc:
            self.counters["errors"] += 1
            self._log_sometimes("command", sender[0], "OSC in %s from %s refused: %s", address, sender[0], exc.message,
                                level=logging.INFO, limit=COMMAND_LOG)
            self._reply(command.reply_address, "error", exc.message, sender)
            return
        except Exception:
            self.counters["errors"] += 1
            self._log_sometimes("failed", sender[0], "OSC in %s from %s failed", address, sender[0],
                                level=logging.ERROR, exc_info=True)
            self._reply(command.reply_address, "error", "internal error", sender)
            return
        self.counters["handled"] += 1
        if address == PING:  # a remote's keep-alive, every second: no event for the operator's log
            log.debug("OSC in %s from %s: %s", address, sender[0], result)
        else:
            self._log_sometimes("command", sender[0], "OSC in %s from %s: %s", address, sender[0], result,
                                level=logging.INFO, limit=COMMAND_LOG)
        self._reply(command.reply_address, "ok", result or "", sender)

    def _reply(self, address: str, status: str, detail: str, sender: tuple[Any, ...]) -> None:
        if self._sock is None:
            return
        try:
            dgram = OscMessage(address, (("s", status), ("s", detail[:200]))).encode()
            self._sock.sendto(dgram, sender)
        except (OSError, StageError) as exc:
            log.debug("OSC in: reply to %s failed: %s", sender, exc)

    def _allowed(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.allow)

    def _log_sometimes(self, kind: str, key: str, fmt: str, *args: Any, level: int = logging.WARNING,
                       limit: RateLimitItem = LOG_EVERY, exc_info: bool = False) -> None:
        """Log a line unless this kind and key (the sender) already used up ``limit``; the counters count all."""
        log_sometimes(log, limit, (kind, key), fmt, *args, level=level, exc_info=exc_info, limiter=self._limiter)


WILDCARDS = ("", "0.0.0.0", "::")


def osc_in_bind(explicit: str | None, server_bind: str) -> str:
    """Where OSC in listens: the show's ``osc_in.bind`` when it names one, else the server's own bind
    (``serve --bind 127.0.0.1`` must not leave a remote-GO port open on the LAN). An explicit bind
    wider than the server's is kept (a lighting VLAN on another interface is a real set-up) but logged."""
    if explicit is None:
        return server_bind
    if _wider(explicit, server_bind):
        log.warning("OSC in binds %s, wider than the server's %s (show osc_in.bind): remotes beyond it can "
                    "press GO; keep it to the lighting network and osc_in.allow", explicit or "0.0.0.0", server_bind)
    return explicit


def _wider(osc: str, server: str) -> bool:
    if osc in WILDCARDS:
        return server not in WILDCARDS
    return _loopback(server) and not _loopback(osc)


def _loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False  # a host name: not known to be loopback


def _networks(entries: Iterable[str]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise RemoteError(f"OSC in allow entry {entry!r} is not an IP address or CIDR network") from exc
    return tuple(networks)
