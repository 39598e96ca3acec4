"""One connection to one OSC target: UDP, or TCP framed as OSC 1.0 (length prefix) or 1.1 (SLIP).

Links use plain ``socket``: under the server's monkey-patching it is cooperative, in tests it is a
thread's socket. A link only sends; retries, backoff and status belong to the sender's worker.
"""

from __future__ import annotations

import logging
import socket
from typing import Protocol

from stage.lighting.messages import Transport, frame
from stage.show.models import OscTarget

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 2.0  # seconds; a console on the LAN answers a SYN in well under that


class Link(Protocol):
    def send(self, dgram: bytes) -> str | None:
        """Send one OSC packet; raise ``OSError`` when it was not sent. A returned string is a warning
        about the peer (the packet went out, but the target looks unreachable)."""
        ...

    def close(self) -> None: ...


def open_link(target: OscTarget) -> Link:
    if target.transport == "udp":
        return UdpLink(target.host, target.port)
    return TcpLink(target.host, target.port, target.transport)


class UdpLink:
    """A connected UDP socket, so the kernel reports an ICMP port-unreachable as ``ECONNREFUSED``."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._sock: socket.socket | None = None

    def send(self, dgram: bytes) -> str | None:
        if self._sock is None:
            family, _, _, _, address = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.connect(address)
            self._sock = sock
        try:
            self._sock.send(dgram)
            return None
        except ConnectionRefusedError:
            # The refusal is for an earlier datagram and this one was not sent: send it again.
            self._sock.send(dgram)
            return f"nothing listens on udp {self.host}:{self.port} (port unreachable)"

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class TcpLink:
    """A TCP stream, connected on first use and again after the peer closed it."""

    def __init__(self, host: str, port: int, transport: Transport, timeout: float = CONNECT_TIMEOUT) -> None:
        self.host, self.port, self.transport = host, port, transport
        self.timeout = timeout
        self._sock: socket.socket | None = None

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def connect(self) -> None:
        self.close()
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a GO is one small write: no Nagle
        self._sock = sock
        log.info("OSC tcp link to %s:%d connected (%s)", self.host, self.port, self.transport)

    def send(self, dgram: bytes) -> str | None:
        if self._sock is None or self._peer_closed():
            self.connect()
        assert self._sock is not None
        try:
            self._sock.sendall(frame(dgram, self.transport))
        except OSError:
            self.close()
            raise
        return None

    def _peer_closed(self) -> bool:
        """True when the peer closed or reset the stream. Checked before each send, because a write
        into a half-closed stream still succeeds and the packet would be lost without an error."""
        assert self._sock is not None
        self._sock.settimeout(0.0)
        try:
            while True:
                data = self._sock.recv(65536)
                if not data:
                    return True
                # Consoles may talk back on the stream (Eos feedback); Stage reads feedback on OSC in.
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        finally:
            if self._sock is not None:
                self._sock.settimeout(self.timeout)

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
