"""Independent OSC peers for the lighting tests: liblo's oscdump/oscsend, plain sockets, python-osc's TCP server.

Everything listens on 127.0.0.1 on a random port and is stopped by the test that started it.
"""

from __future__ import annotations

import queue
import socket
import struct
import subprocess
import threading
import time
from typing import Any

from pythonosc import slip
from pythonosc.osc_message import OscMessage as ParsedMessage

LOOPBACK = "127.0.0.1"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def osc_bytes(address: str, tags: str = "", payload: bytes = b"") -> bytes:
    """Hand-made OSC bytes, for datagrams python-osc would refuse to build (wrong tags)."""

    def pad(text: str) -> bytes:
        raw = text.encode() + b"\0"
        return raw + b"\0" * (-len(raw) % 4)

    return pad(address) + pad("," + tags) + payload


class OscDump:
    """``oscdump -L <port>`` (liblo): each received message is one line ``<timetag> <address> <tags> <args>``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._wait_ready()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            # "<timetag> /x ifs 1 0.500000 "a"": drop the time tag, keep what was received.
            _, _, rest = line.rstrip("\n").partition(" ")
            if not rest.startswith("/ready"):
                self._lines.put(rest.rstrip())
            else:
                self._lines.put("<ready>")

    def _wait_ready(self) -> None:
        """Probe until oscdump prints: only then is it surely bound (it prints nothing on start)."""
        probe = osc_bytes("/ready")
        deadline = time.monotonic() + 10
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while True:
                s.sendto(probe, (LOOPBACK, self.port))
                try:
                    if self._lines.get(timeout=0.05) == "<ready>":
                        break
                except queue.Empty:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(f"oscdump on port {self.port} did not start (rc={self.proc.poll()})")
        time.sleep(0.1)  # let late probes land, then forget them
        self.drain()

    def next(self, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self._lines.get(timeout=max(0.001, deadline - time.monotonic()))
            if line != "<ready>":
                return line

    def take(self, count: int, timeout: float = 10) -> list[str]:
        return [self.next(timeout) for _ in range(count)]

    def drain(self) -> list[str]:
        out = []
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return out
            if line != "<ready>":
                out.append(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # by its own pid
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def oscsend(port: int, address: str, tags: str = "", *values: str) -> None:
    """liblo's ``oscsend localhost <port> <address> [tags values...]``; waits for it to exit."""
    args = ["oscsend", LOOPBACK, str(port), address] + ([tags, *values] if tags else [])
    subprocess.run(args, check=True, timeout=10, capture_output=True)


class UdpReceiver:
    """A plain UDP socket read by a thread; keeps every datagram (parsed by python-osc) in order."""

    def __init__(self, bind: str = LOOPBACK) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((bind, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[str, list[Any], tuple[str, int]]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                data, sender = self.sock.recvfrom(65535)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            msg = ParsedMessage(data)
            self.received.append((msg.address, list(msg.params), sender))

    def stop(self) -> None:
        self._stop = True
        self._thread.join(5)
        self.sock.close()


class TcpReceiver:
    """A small TCP server that decodes either framing with python-osc and can hang up on its clients."""

    def __init__(self, framing: str, port: int = 0) -> None:
        self.framing = framing
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, port))
        self.listener.listen()
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.received: list[tuple[str, list[Any]]] = []
        self.connections = 0
        self._conns: list[socket.socket] = []
        self._stop = False
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.connections += 1
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                packets, buf = self._packets(buf + chunk)
                for packet in packets:
                    msg = ParsedMessage(packet)
                    self.received.append((msg.address, list(msg.params)))
        except OSError:
            return

    def _packets(self, buf: bytes) -> tuple[list[bytes], bytes]:
        """Complete packets in ``buf`` and the incomplete rest."""
        out: list[bytes] = []
        if self.framing == "tcp":
            while len(buf) >= 4 and len(buf) >= 4 + struct.unpack("!I", buf[:4])[0]:
                size = struct.unpack("!I", buf[:4])[0]
                out.append(buf[4:4 + size])
                buf = buf[4 + size:]
        else:
            while buf.count(slip.END) >= 2:
                start = buf.index(slip.END)
                end = buf.index(slip.END, start + 1)
                if end == start + 1:  # END END between two packets
                    buf = buf[start + 1:]
                    continue
                out.append(slip.decode(buf[start:end + 1]))
                buf = buf[end + 1:]
        return out, buf

    def hang_up(self) -> None:
        """Close every accepted connection (the console rebooting mid-show); keep listening."""
        for conn in self._conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self._conns.clear()

    def stop(self) -> None:
        self._stop = True
        self.hang_up()
        self.listener.close()
        for thread in self._threads:
            thread.join(5)
