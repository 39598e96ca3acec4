"""A capture agent for tests: a real python-socketio client on ``/capture`` speaking docs/capture.md.

It answers ``record``/``stop`` as an agent does (refusing a second record and a stop without a
take), reports health, take states and previews, and uploads take files over HTTP with resume.
"""

from __future__ import annotations

import hashlib
import queue
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import socketio

from tests.stage_process import CREW_PASSWORD


class AgentPeer:
    def __init__(self, url: str, rig: str = "stage", token: str = CREW_PASSWORD) -> None:
        self.url = url
        self.rig = rig
        self.commands: queue.Queue = queue.Queue()
        self.take_id: str | None = None
        self.refuse_with: str | None = None  # e.g. "no_camera": the next record is refused with this code
        self.ack_delay = 0.0  # seconds before acking record (a camera slow to open)
        self.client = socketio.Client(reconnection=False)
        self.client.on("record", self._record, namespace="/capture")
        self.client.on("stop", self._stop, namespace="/capture")
        self.client.connect(url, namespaces=["/capture"], auth={"token": token, "rig": rig},
                            transports=["websocket"], wait_timeout=10)

    def _record(self, data: dict[str, Any]) -> dict[str, Any]:
        self.commands.put(("record", data))
        time.sleep(self.ack_delay)
        if self.refuse_with:
            return {"ok": False, "error": {"code": self.refuse_with, "message": "the camera did not open"}}
        if self.take_id is not None:
            return {"ok": False, "error": {"code": "already_recording", "message": "a take is running"}}
        self.take_id = data["take_id"]
        return {"ok": True, "take_id": self.take_id}

    def _stop(self, data: dict[str, Any]) -> dict[str, Any]:
        self.commands.put(("stop", data))
        if self.take_id is None:
            return {"ok": False, "error": {"code": "not_recording", "message": "no take is being recorded"}}
        stopped, self.take_id = self.take_id, None
        return {"ok": True, "take_id": stopped}

    def next_command(self, timeout: float = 10) -> tuple[str, dict[str, Any]]:
        return self.commands.get(timeout=timeout)

    def send(self, event: str, data: Any) -> Any:
        return self.client.call(event, data, namespace="/capture", timeout=10)

    def health(self, **fields: Any) -> Any:
        report = {"recording": self.take_id is not None, "take_id": self.take_id, "seconds": 1.0, "fps_in": 30.0,
                  "fps_out": 30.0, "dropped": 0, "overflows": 0, "audio_db": -18.5, "disk_free": 50 * 1024 ** 3,
                  "camera": "test", "microphone": "none", "error": None, **fields}
        return self.send("health", report)

    def close(self) -> None:
        self.client.disconnect()

    # -- HTTP upload --------------------------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {CREW_PASSWORD}"}

    def received(self, take_id: str) -> int:
        response = requests.get(f"{self.url}/api/takes/{take_id}/upload", headers=self.headers, timeout=10)
        assert response.ok, response.text
        return response.json()["received"]

    def put(self, take_id: str, data: bytes, offset: int) -> requests.Response:
        return requests.put(f"{self.url}/api/takes/{take_id}/upload", params={"offset": offset}, data=data,
                            headers=self.headers, timeout=30)

    def complete(self, take_id: str, data: bytes, **overrides: Any) -> requests.Response:
        body = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "rig": self.rig, "slate": {},
                "duration": 2.0, "frames": 50, "width": 320, "height": 240, **overrides}
        return requests.post(f"{self.url}/api/takes/{take_id}/complete", json=body, headers=self.headers, timeout=60)

    def put_cut(self, take_id: str, data: bytes, offset: int, sent: int) -> None:
        """A PUT whose connection dies after ``sent`` of ``len(data)`` body bytes (Wi-Fi gone mid-upload)."""
        parts = urlsplit(self.url)
        head = (f"PUT /api/takes/{take_id}/upload?offset={offset} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Authorization: Bearer {CREW_PASSWORD}\r\nContent-Length: {len(data)}\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(head + data[:sent])
            sock.shutdown(socket.SHUT_RDWR)


def upload(agent: AgentPeer, take_id: str, data: bytes, chunk: int = 256 * 1024) -> requests.Response:
    """Upload a whole take in chunks from what the server holds, then complete it."""
    offset = agent.received(take_id)
    while offset < len(data):
        response = agent.put(take_id, data[offset:offset + chunk], offset)
        assert response.ok, response.text
        offset = response.json()["received"]
    return agent.complete(take_id, data)

