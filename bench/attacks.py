"""The hostile phone of bench/hostile_phone.py: the worst one audience client is allowed to send, as
fast as it can, from one address. Issue 14's findings 1-3, as a load rather than a test:

- WebSocket frames on /audience just under and just over the phones' message cap, back to back;
- 16 MiB frames, text and binary (the server must refuse them from the header, not read them);
- long-polling POSTs bigger than the cap (each must be answered, its descriptor given back);
- an OSC flood of ``/stage/ping`` datagrams whose type tag is ``,`` + 16,000 × ``x``.

Everything runs in one asyncio loop on its own thread (``Hostile.start``/``stop``); counts say what the
server did with each attack (answered, closed the socket, never answered).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import websockets

MIB = 1024 * 1024
KINDS = ("frames", "big", "polls", "osc")  # cap-sized frames, 16 MiB frames, oversized polls, OSC flood
POLL_WORKERS = 4  # oversized polls in flight at once: each unanswered one holds a server descriptor
ANSWER_TIMEOUT = 10.0  # seconds an attack waits for the server before it counts "unanswered"


@dataclass(frozen=True)
class Plan:
    url: str
    frame_cap: int  # the phones' per-message cap on /audience, in bytes
    poll_bytes: int  # body of one oversized long-polling POST
    osc_port: int | None  # the server's OSC-in port; None: no OSC flood
    osc_rate: float  # datagrams a second; 0: unpaced
    big_frame: int = 16 * MIB
    kinds: frozenset[str] = frozenset(KINDS)  # which attacks to run (to tell their effects apart)


def feed_frame(size: int) -> str:
    """A Socket.IO ``feed`` event of exactly ``size`` characters: a payload a phone may send, padded."""
    head, tail = '42/audience,7["feed",{"limit":1,"pad":"', '"}]'
    return head + "a" * max(0, size - len(head) - len(tail)) + tail


def osc_string(text: bytes) -> bytes:
    return text + b"\0" * (4 - len(text) % 4)  # OSC strings: NUL-terminated, padded to 4 bytes


def osc_bomb() -> bytes:
    """``/stage/ping`` with a 16,001-character type tag and no arguments (issue 14, finding 3)."""
    return osc_string(b"/stage/ping") + osc_string(b"," + b"x" * 16_000)


@dataclass
class Hostile:
    plan: Plan
    counts: Counter = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _osc_off: bool = False

    def start(self, cpu: int | None = None) -> None:
        def run() -> None:
            if cpu is not None:  # beside the load tool, off the server's CPU
                os.sched_setaffinity(threading.get_native_id(), {cpu})
            asyncio.run(self._all())

        self._thread = threading.Thread(target=run, name="hostile-phone", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self.counts["attack thread still busy at the end"] += 1

    def stop_osc(self, why: str) -> None:
        self.counts[f"osc flood stopped: {why}"] += 1
        self._osc_off = True

    async def _all(self) -> None:
        p = self.plan
        tasks = []
        if "frames" in p.kinds:
            tasks += [self._frames("frame under cap", feed_frame(p.frame_cap - 64)),
                      self._frames("frame over cap", feed_frame(p.frame_cap + 1024))]
        if "big" in p.kinds:
            tasks += [self._frames("16 MiB text frame", feed_frame(p.big_frame)),
                      self._frames("16 MiB binary frame", b"\x00" * p.big_frame)]
        if "polls" in p.kinds:
            tasks += [self._polls() for _ in range(POLL_WORKERS)]
        if "osc" in p.kinds and p.osc_port is not None and not self._osc_off:
            tasks.append(self._osc_flood())
        await asyncio.gather(*tasks)

    async def _frames(self, name: str, frame: str | bytes) -> None:
        """One connection sending ``frame`` back to back; a new one each time the server closes it."""
        ws_url = self.plan.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        while not self._stop.is_set():
            try:
                async with websockets.connect(ws_url, max_size=None, ping_interval=None, compression=None,
                                              open_timeout=ANSWER_TIMEOUT, close_timeout=1) as ws:
                    await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT)  # Engine.IO open
                    await ws.send("40/audience,")
                    drain = asyncio.create_task(self._drain(ws, name))
                    try:
                        while not self._stop.is_set():
                            await asyncio.wait_for(ws.send(frame), ANSWER_TIMEOUT * 3)
                            self.counts[f"{name}: sent"] += 1
                    finally:
                        drain.cancel()
            except websockets.ConnectionClosed:
                self.counts[f"{name}: socket closed by the server"] += 1
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
                self.counts[f"{name}: {type(exc).__name__}"] += 1
                await asyncio.sleep(0.1)

    async def _drain(self, ws: websockets.ClientConnection, name: str) -> None:
        """Read what the server sends (acks, pings), so only our frames load the connection."""
        async for message in ws:
            if message == "2":
                await ws.send("3")
            elif isinstance(message, str) and message.startswith("43/audience,"):
                self.counts[f"{name}: answered"] += 1

    async def _polls(self) -> None:
        parts = urlsplit(self.plan.url)
        body = b"4" + b"a" * (self.plan.poll_bytes - 1)  # an Engine.IO message packet, too big
        while not self._stop.is_set():
            try:
                status, opened = await _http(parts.hostname, parts.port, "GET", "/socket.io/?EIO=4&transport=polling")
                text = opened.decode("utf-8", "replace")
                sid = json.JSONDecoder().raw_decode(text[text.index("{"):])[0]["sid"]  # chunked or not
                status, _ = await _http(parts.hostname, parts.port, "POST",
                                        f"/socket.io/?EIO=4&transport=polling&sid={sid}", body)
                self.counts[f"oversized poll POST: answered {status}"] += 1
            except asyncio.TimeoutError:
                self.counts["oversized poll POST: unanswered"] += 1
            except (OSError, ValueError, KeyError) as exc:
                self.counts[f"oversized poll POST: {type(exc).__name__}"] += 1
                await asyncio.sleep(0.1)

    async def _osc_flood(self) -> None:
        datagram, sent = osc_bomb(), 0
        begin = time.monotonic()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            while not self._stop.is_set() and not self._osc_off:
                try:
                    sock.sendto(datagram, ("127.0.0.1", self.plan.osc_port))
                    sent += 1
                    self.counts["osc datagram: sent"] += 1
                except BlockingIOError:
                    pass
                rate = self.plan.osc_rate
                await asyncio.sleep(max(0.0, begin + sent / rate - time.monotonic()) if rate else 0)


async def _http(host: str, port: int, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
    """One HTTP/1.1 request on its own connection; (status, body). Raises TimeoutError when unanswered."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), ANSWER_TIMEOUT)
    try:
        head = (f"{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
                f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n\r\n")
        writer.write(head.encode() + body)
        await asyncio.wait_for(writer.drain(), ANSWER_TIMEOUT)
        answer = await asyncio.wait_for(reader.read(), ANSWER_TIMEOUT)  # Connection: close: to EOF
        if not answer:
            raise ConnectionResetError("closed without an answer")
        status = int(answer.split(b" ", 2)[1])
        return status, answer.partition(b"\r\n\r\n")[2]
    finally:
        writer.close()
