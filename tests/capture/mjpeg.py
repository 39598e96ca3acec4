"""A real network camera stand-in: an HTTP multipart/x-mixed-replace (MJPEG) server on 127.0.0.1.

Frames are JPEG-encoded once up front (a moving bar on dark grey) so serving 1080p30 costs the
test machine almost nothing. ``flash(at)`` turns the picture white from the monotonic instant ``at``
(the frame clock is re-aligned so that a frame leaves exactly then) for the A/V sync fixture;
``die()`` drops every client and stops answering, like a camera that lost power.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

BOUNDARY = b"stageframe"


def _jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return data.tobytes()


class MjpegCamera:
    def __init__(self, width: int = 640, height: int = 360, fps: float = 30.0, cycle: int = 30,
                 noise: float = 0.0) -> None:
        """``noise``: std-dev of per-frame sensor-like noise, so the encoder works as hard as on a
        real camera picture instead of on flat synthetic colour."""
        self.fps = fps
        self.frames: list[bytes] = []
        rng = np.random.default_rng(7)
        for n in range(cycle):
            image = np.full((height, width, 3), 40, np.uint8)
            if noise:
                grain = rng.normal(0, noise, (height, width, 1))
                image = np.clip(image + 40 * np.linspace(0, 1, width)[None, :, None] + grain, 0, 255).astype(np.uint8)
            x = n * width // cycle
            cv2.rectangle(image, (x, height // 3), (x + width // 12, 2 * height // 3), (0, 160, 255), -1)
            self.frames.append(_jpeg(image))
        self.white = _jpeg(np.full((height, width, 3), 255, np.uint8))
        self.flash_at: float | None = None
        self.flash_seconds = 0.1
        self.sent = 0
        self.flash_sent_at: float | None = None  # monotonic instant the first white frame was written
        self._dead = threading.Event()
        self._clients: list[socket.socket] = []
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if camera._dead.is_set():
                    return  # answers nothing: the connection just closes
                camera._clients.append(self.connection)
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}")
                self.end_headers()
                camera._stream(self.wfile)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cam.mjpg"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "MjpegCamera":
        self._thread.start()
        return self

    def flash(self, at: float) -> None:
        self.flash_at = at

    def _stream(self, out) -> None:
        period = 1.0 / self.fps
        next_t = time.monotonic()
        aligned_to: float | None = None
        n = 0
        while not self._dead.is_set():
            now = time.monotonic()
            if self.flash_at is not None and aligned_to != self.flash_at:
                aligned_to = self.flash_at  # put a frame tick exactly on the flash instant
                next_t = self.flash_at - math.floor((self.flash_at - now) / period) * period
            time.sleep(max(0.0, next_t - time.monotonic()))
            white = self.flash_at is not None and -1e-6 <= next_t - self.flash_at < self.flash_seconds - 1e-6
            data = self.white if white else self.frames[n % len(self.frames)]
            try:
                out.write(b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
                          + str(len(data)).encode() + b"\r\n\r\n" + data + b"\r\n")
                out.flush()
            except OSError:
                return
            if white and self.flash_sent_at is None:
                self.flash_sent_at = time.monotonic()
            self.sent += 1
            n += 1
            next_t += period

    def die(self) -> None:
        self._dead.set()
        for conn in self._clients:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        self.die()
        self.server.shutdown()
        self.server.server_close()
