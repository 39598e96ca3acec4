"""The socket to one DMX node: unicast on a connected UDP socket, or sACN multicast, or Art-Net broadcast.

A connected socket is what lets the kernel tell us a node is gone: the ICMP port-unreachable of one datagram
comes back as ``ECONNREFUSED`` on the next send (as ``UdpLink`` does for OSC, stage/lighting/links.py). Sockets
are non-blocking, so a full buffer costs one frame (``EAGAIN``), never a wait inside the frame loop. Names are
resolved elsewhere (the output's resolver task): here an address is a literal IP or not known yet.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from typing import Any

from stage.dmx.packets import multicast_group
from stage.show.dmx import DmxNode

log = logging.getLogger(__name__)

BROADCAST = "255.255.255.255"
CLEAN_FOR = 1.0  # seconds of sends without an error before a down node reads ok again
EPSILON = 1e-6


def resolve_host(name: str) -> str:
    """An address of ``name``, IPv4 first (many nodes speak no IPv6, while a name may also have a link-local
    AAAA). Under monkey-patching this is the hub's resolver, so only the resolver task waits on it."""
    answers = socket.getaddrinfo(name, None, type=socket.SOCK_DGRAM)
    return next((a[4][0] for a in answers if a[0] == socket.AF_INET), answers[0][4][0])


class Node:
    """One node's socket and status. The socket is touched only by the output's tick (under its send lock);
    the status is read by other tasks, under the node's lock."""

    def __init__(self, model: DmxNode, dry_run: bool) -> None:
        self.model = model
        self.port = model.dest_port
        self.ip: str | None = literal(model.address)
        self.resolver = model.address is not None and self.ip is None and not dry_run and model.send != "multicast"
        self.sock: socket.socket | None = None
        self.status, self.error = ("dry_run" if dry_run else "unknown"), None
        self.frames = self.dropped = 0
        self.clean_since: float | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self.ip is not None or self.model.address is None or self.model.send == "multicast"

    def where(self) -> str:
        if self.model.send == "multicast":
            return f"multicast 239.255.x.y:{self.port}"
        return f"{self.model.address or BROADCAST}:{self.port}"

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"status": self.status, "error": self.error, "protocol": self.model.protocol,
                    "address": self.where(),
                    "universes": list(self.model.universes), "frames": self.frames, "dropped": self.dropped}

    def record(self, sent: bool, error: str | None, at: float) -> bool:
        """Count one send (``at``: its schedule time) and update the status; True when the status changed.
        An error sets the node down at once; ``ok`` needs a clean second after it (a node nobody listens on
        alternates sent and refused datagrams, and must not flicker)."""
        with self._lock:
            self.frames += sent
            self.dropped += not sent and error is None
        if self.status == "dry_run":
            return False
        if error is not None:
            self.clean_since = None
            return self.set("down", error)
        if not sent:
            return False
        if self.status != "down":
            return self.set("ok", None)
        if self.clean_since is None:
            self.clean_since = at
        elif at - self.clean_since >= CLEAN_FOR - EPSILON:
            return self.set("ok", None)
        return False

    def set(self, status: str, error: str | None) -> bool:
        with self._lock:
            if (self.status, self.error) == (status, error):
                return False
            self.status, self.error = status, error
        m = self.model
        if status == "down":
            log.warning("DMX node %s (%s %s) is down: %s", m.name, m.protocol, self.where(), error)
        else:
            log.info("DMX node %s (%s %s) is %s", m.name, m.protocol, self.where(), status)
        return True

    def send(self, packet: bytearray, universe: int) -> tuple[bool, str | None]:
        """Send one packet: (sent, error). ``EAGAIN`` is (False, None): a frame dropped, the node not down."""
        try:
            sock = self.sock or self._open()
            self._send(sock, packet, universe)
            return True, None
        except BlockingIOError:
            return False, None
        except ConnectionRefusedError:
            # The refusal answers an earlier datagram and this one was not sent: send it once more.
            error = f"nothing listens on udp {self.where()} (port unreachable)"
            try:
                self._send(self.sock, packet, universe)  # type: ignore[arg-type]
            except OSError:
                return False, error
            return True, error
        except OSError as exc:
            return False, f"{type(exc).__name__}: {exc.strerror or exc}"

    def _send(self, sock: socket.socket, packet: bytearray, universe: int) -> None:
        if self.model.send == "unicast":
            sock.send(packet)
        elif self.model.send == "multicast":
            sock.sendto(packet, (multicast_group(universe), self.port))
        else:
            sock.sendto(packet, (self.ip or BROADCAST, self.port))

    def _open(self) -> socket.socket:
        ip = self.ip or "0.0.0.0"
        sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if self.model.send == "unicast":
                sock.connect((ip, self.port))
            elif self.model.send == "multicast":
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.model.ttl)
            else:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def literal(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(address)) if address is not None else None
    except ValueError:
        return None
