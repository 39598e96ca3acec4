"""A small server implementing docs/capture.md (Socket.IO ``/capture`` + the take upload routes),
for testing the agent against the written contract with real python-socketio and real HTTP.

The lead re-runs the same tests against ``stage serve`` after the merge. Knobs: ``cut_first_put``
drops the connection halfway through the first chunk (after storing that half), ``tamper`` flips a
byte of what was received before checking the sha256.
"""

from __future__ import annotations

import hashlib
import os
import queue
import socket
import threading
from typing import Any

import socketio
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

TOKEN = "crew-test-pass"


class ContractServer:
    def __init__(self, rigs: tuple[str, ...] = ("stage",), port: int = 0, fd: int | None = None) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.sids: dict[str, str] = {}
        self.files: dict[str, bytearray] = {}
        self.completed: dict[str, dict[str, Any]] = {}
        self.puts = 0
        self.cut_first_put = False
        self.tamper = False
        self.sio = socketio.Server(async_mode="threading", max_http_buffer_size=10_000_000)
        app = Flask(__name__)
        self._routes(app)
        self.sio.on("connect", self._connect, namespace="/capture")
        self.sio.on("disconnect", lambda sid, *a: self.events.put(("disconnect", sid)), namespace="/capture")
        for event in ("health", "take_state", "preview"):
            self.sio.on(event, self._recorder(event), namespace="/capture")
        self.rigs = rigs
        inner = socketio.WSGIApp(self.sio, app)
        self.sockets: set[socket.socket] = set()

        def tracked(environ: dict, start_response: Any) -> Any:
            self.sockets.add(environ["werkzeug.socket"])  # so stop() can drop them like a dying process
            return inner(environ, start_response)

        self.wsgi = make_server("127.0.0.1", port, tracked, threaded=True, fd=fd)
        self.port = self.wsgi.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.wsgi.serve_forever, daemon=True)

    def start(self) -> "ContractServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Like a server process dying: stop listening and reset every open connection."""
        self.wsgi.shutdown()
        self.wsgi.server_close()
        self._reset_connections()

    def restarted(self) -> "ContractServer":
        """Like the server process restarting on its port: every connection reset, and a new server that
        knows nothing of the old one, started on the same listening socket. Binding the port afresh lost it
        once in CI ("Address already in use": between the close and the bind, another socket on the machine
        took it as its own ephemeral port), and no restart of a real server races anything for its port."""
        listening = os.dup(self.wsgi.socket.fileno())  # werkzeug closes its socket when serving stops
        try:
            self.wsgi.shutdown()
            self._reset_connections()
            again = ContractServer(self.rigs, port=self.port, fd=listening)  # werkzeug takes a dup of its own
        finally:
            os.close(listening)
        return again.start()

    def _reset_connections(self) -> None:
        for sock in list(self.sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _connect(self, sid: str, environ: dict, auth: Any) -> None:
        if not isinstance(auth, dict) or auth.get("token") != TOKEN or auth.get("rig") not in self.rigs:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        self.sids[auth["rig"]] = sid
        self.events.put(("connect", auth["rig"]))

    def _recorder(self, event: str):
        def handler(sid: str, data: Any) -> None:
            self.events.put((event, data))
        return handler

    def command(self, event: str, data: dict[str, Any], rig: str = "stage") -> Any:
        return self.sio.call(event, data, to=self.sids[rig], namespace="/capture", timeout=15)

    def wait_for(self, event: str, match=lambda data: True, timeout: float = 20.0) -> Any:
        """The next ``event`` whose payload matches (others are skipped)."""
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                name, data = self.events.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            if name == event and match(data):
                return data
        raise AssertionError(f"no {event} within {timeout} s")

    def _routes(self, app: Flask) -> None:
        def authorized() -> bool:
            return request.headers.get("Authorization") == f"Bearer {TOKEN}"

        @app.get("/api/takes/<take_id>/upload")
        def status(take_id: str):
            if not authorized():
                return jsonify(ok=False, error={"code": "unauthorized"}), 401
            return jsonify(ok=True, received=len(self.files.get(take_id, b"")))

        @app.put("/api/takes/<take_id>/upload")
        def chunk(take_id: str):
            if not authorized():
                return jsonify(ok=False, error={"code": "unauthorized"}), 401
            held = self.files.setdefault(take_id, bytearray())
            offset = request.args.get("offset", type=int)
            if offset != len(held):
                return jsonify(ok=False, error={"code": "offset_mismatch"}, received=len(held)), 409
            self.puts += 1
            length = request.content_length or 0
            if self.cut_first_put and self.puts == 1 and length > 2:
                held.extend(request.stream.read(length // 2))
                sock: socket.socket = request.environ["werkzeug.socket"]
                sock.shutdown(socket.SHUT_RDWR)  # the cable is pulled halfway through the chunk
                return jsonify(ok=False), 500
            held.extend(request.get_data())
            return jsonify(ok=True, received=len(held))

        @app.post("/api/takes/<take_id>/complete")
        def complete(take_id: str):
            if not authorized():
                return jsonify(ok=False, error={"code": "unauthorized"}), 401
            body = request.get_json()
            held = self.files.get(take_id, bytearray())
            if self.tamper and held:
                held[len(held) // 2] ^= 0xFF
            if len(held) != body["size"] or hashlib.sha256(held).hexdigest() != body["sha256"]:
                self.files.pop(take_id, None)  # the partial file is discarded (contract)
                return jsonify(ok=False, error={"code": "checksum_mismatch"}), 422
            self.completed[take_id] = body
            return jsonify(ok=True, take_id=take_id)
