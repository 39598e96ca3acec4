"""A lean simulated phone: Engine.IO 4 / Socket.IO 5 spoken directly over one asyncio WebSocket, so
one process holds thousands (python-socketio's client needs a thread or an aiohttp session each)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import websockets


class LeanPhone:
    NAMESPACE = "/audience"

    def __init__(self, url: str) -> None:
        self.url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws: Any = None
        self.acks: dict[int, asyncio.Future] = {}
        self.ids = itertools.count()
        self.events: list[tuple[float, str, Any]] = []  # (perf_counter, event, data) of server events
        self._reader: asyncio.Task | None = None

    async def connect(self) -> None:
        self.ws = await websockets.connect(self.url, max_size=2**20, ping_interval=None, open_timeout=30)
        opened = await self.ws.recv()
        assert opened.startswith("0"), opened
        await self.ws.send(f"40{self.NAMESPACE},")
        while not (await self.ws.recv()).startswith(f"40{self.NAMESPACE},"):
            pass
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        prefix_ack, prefix_event = f"43{self.NAMESPACE},", f"42{self.NAMESPACE},"
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
                event, *data = json.loads(message[len(prefix_event):])
                self.events.append((time.perf_counter(), event, data[0] if data else None))

    async def call(self, event: str, data: Any, timeout: float = 30) -> Any:
        ack_id = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = future
        await self.ws.send(f"42{self.NAMESPACE},{ack_id}" + json.dumps([event, data]))
        return await asyncio.wait_for(future, timeout)

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()
