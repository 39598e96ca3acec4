"""A lean simulated phone: Engine.IO 4 / Socket.IO 5 spoken directly over one asyncio WebSocket, so
one process holds thousands (python-socketio's client needs a thread or an aiohttp session each).

Used by ``stage rehearse`` and by the benchmarks in ``bench/`` (one implementation for both).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import websockets

EventHandler = Callable[[str, Any, float], None]  # (event, data, arrival time.time())
# A broadcast reaches every phone as the same text: parse it once per process, not once per phone.
# Handlers get the shared parsed object and must not change it.
_parsed: dict[str, list] = {}
_PARSED_KEEP = 64


def _parse_event(body: str) -> list:
    parsed = _parsed.get(body)
    if parsed is None:
        parsed = json.loads(body)
        if len(_parsed) >= _PARSED_KEEP:
            _parsed.clear()
        _parsed[body] = parsed
    return parsed


class PhoneClosed(ConnectionError):
    """The server closed the connection (or it dropped) while a call was waiting for its ack."""


class LeanPhone:
    def __init__(self, url: str, namespace: str = "/audience", *, headers: dict[str, str] | None = None,
                 on_event: EventHandler | None = None) -> None:
        base = url.rstrip("/").replace("https://", "wss://").replace("http://", "ws://")
        self.url = base + "/socket.io/?EIO=4&transport=websocket"
        if namespace != "/audience":  # consoles: a proxy in front of several processes sends them to the conductor
            self.url += "&conductor=1"
        self.namespace = namespace
        self.headers = headers or {}
        self.ws: Any = None
        self.acks: dict[int, asyncio.Future] = {}
        self.ids = itertools.count()
        # Without a handler, server events are kept as (perf_counter, event, data) for the caller.
        self.events: list[tuple[float, str, Any]] = []
        self.on_event = on_event
        self.closed_by_us = False
        self.dropped = asyncio.Event()  # set when the connection ends without close() from us
        self.on_drop: Callable[[Any], None] | None = None  # called with this phone when it drops
        self._reader: asyncio.Task | None = None

    async def connect(self, timeout: float = 30) -> None:
        self.ws = await websockets.connect(self.url, max_size=2**22, ping_interval=None, open_timeout=timeout,
                                           additional_headers=self.headers or None, compression=None)
        opened = await asyncio.wait_for(self.ws.recv(), timeout)
        if not opened.startswith("0"):
            raise ConnectionError(f"not an Engine.IO server: {opened[:80]!r}")
        await self.ws.send(f"40{self.namespace},")
        while True:
            answer = await asyncio.wait_for(self.ws.recv(), timeout)
            if answer.startswith(f"40{self.namespace},"):
                break
            if answer.startswith(f"44{self.namespace},"):  # CONNECT_ERROR: the namespace refused us
                reason = answer[len(self.namespace) + 3:]
                raise ConnectionRefusedError(f"{self.namespace} refused the connection: {reason}")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        prefix_ack, prefix_event = f"43{self.namespace},", f"42{self.namespace},"
        try:
            async for message in self.ws:
                if message == "2":  # Engine.IO ping: the server drops phones that do not answer
                    await self.ws.send("3")
                elif message.startswith(prefix_ack):
                    body = message[len(prefix_ack):]
                    digits = len(body) - len(body.lstrip("0123456789"))
                    future = self.acks.pop(int(body[:digits]), None)
                    if future and not future.done():
                        future.set_result(json.loads(body[digits:])[0])
                elif message.startswith(prefix_event):
                    event, *data = _parse_event(message[len(prefix_event):])
                    if self.on_event is not None:
                        self.on_event(event, data[0] if data else None, time.time())
                    else:
                        self.events.append((time.perf_counter(), event, data[0] if data else None))
                elif message.startswith("1") or message.startswith(f"41{self.namespace}"):
                    break  # Engine.IO close or Socket.IO disconnect from the server
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closed_by_us:
                self.dropped.set()
                if self.on_drop is not None:
                    self.on_drop(self)
            for future in self.acks.values():
                if not future.done():
                    future.set_exception(PhoneClosed("the connection closed before the ack"))
            self.acks.clear()

    async def call(self, event: str, data: Any, timeout: float = 30) -> Any:
        if self.dropped.is_set():
            raise PhoneClosed("the connection is closed")
        ack_id = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = future
        await self.ws.send(f"42{self.namespace},{ack_id}" + json.dumps([event, data]))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self.acks.pop(ack_id, None)

    async def close(self) -> None:
        self.closed_by_us = True
        if self._reader:
            self._reader.cancel()
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except (asyncio.TimeoutError, websockets.WebSocketException, OSError):
                pass
