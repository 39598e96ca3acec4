"""Camera sources: a device index, a video file, an http(s)/rtsp URL, or ``test`` (a moving pattern).

Frames are read in one dedicated thread and stamped with ``time.monotonic()`` on arrival, because
OpenCV's own timestamps are unreliable for network sources and its buffer size is ignored for them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

OPEN_TIMEOUT_MS = 5000  # a URL that never answers fails after this, with a clear reason
READ_TIMEOUT_MS = 3000  # a camera that stops sending mid-take is declared dead after this


class CameraError(Exception):
    """The camera could not be opened or stopped answering."""


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR, as OpenCV gives it
    stamp: float  # time.monotonic() when the frame arrived


def describe(source: str) -> str:
    return "test pattern" if source == "test" else source


class Camera:
    """Reads one source in its own thread; ``on_frame`` is called from that thread for each frame."""

    def __init__(self, source: str, on_frame: Callable[[Frame], None] | None = None,
                 test_size: tuple[int, int] = (1280, 720), test_fps: float = 30.0) -> None:
        self.source = source
        self.on_frame = on_frame
        self.test_size = test_size
        self.test_fps = test_fps
        self.error: str | None = None  # why the camera is not delivering, for health and take_state
        self.frames_in = 0
        self.latest: Frame | None = None
        self._alive = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._opened = threading.Event()

    @property
    def alive(self) -> bool:
        return self._alive

    def start(self) -> "Camera":
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()
        return self

    def wait_open(self, timeout: float) -> bool:
        """Wait for the first open attempt to end; True if the camera delivers frames."""
        self._opened.wait(timeout)
        return self._alive

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=OPEN_TIMEOUT_MS / 1000 + 2)

    def _run(self) -> None:
        # Reopen after a failure: a network camera that reboots comes back without restarting the agent.
        while not self._stop.is_set():
            try:
                if self.source == "test":
                    self._run_test_pattern()
                else:
                    self._run_capture()
            except CameraError as exc:
                if self.error != str(exc):
                    log.warning("camera %s: %s", describe(self.source), exc)
                self.error = str(exc)
            self._alive = False
            self._opened.set()
            self._stop.wait(2.0)

    def _deliver(self, image: np.ndarray, stamp: float) -> None:
        frame = Frame(image, stamp)
        self.latest = frame
        self.frames_in += 1
        if not self._alive:
            self._alive, self.error = True, None
            log.info("camera %s: delivering %dx%d", describe(self.source), image.shape[1], image.shape[0])
            self._opened.set()
        if self.on_frame:
            self.on_frame(frame)

    def _run_capture(self) -> None:
        target: int | str = int(self.source) if self.source.isdigit() else self.source
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS]
        backend = cv2.CAP_ANY if isinstance(target, int) else cv2.CAP_FFMPEG
        capture = cv2.VideoCapture(target, backend, params)
        try:
            if not capture.isOpened():
                raise CameraError(f"cannot open camera {self.source!r} (no answer within "
                                  f"{OPEN_TIMEOUT_MS / 1000:.0f} s, or not a camera); try --camera test")
            is_file = isinstance(target, str) and "://" not in target
            pace = 1.0 / (capture.get(cv2.CAP_PROP_FPS) or 30.0) if is_file else 0.0
            while not self._stop.is_set():
                ok, image = capture.read()
                if not ok:
                    raise CameraError("video file ended" if is_file and self._alive else "camera stopped answering")
                self._deliver(image, time.monotonic())
                if pace:
                    time.sleep(pace)  # a file plays at its own rate, like a live camera would
        finally:
            capture.release()

    def _run_test_pattern(self) -> None:
        width, height = self.test_size
        period = 1.0 / self.test_fps
        base = np.zeros((height, width, 3), np.uint8)
        base[:, :, 0] = np.linspace(40, 200, width, dtype=np.uint8)[None, :]
        base[:, :, 1] = np.linspace(30, 120, height, dtype=np.uint8)[:, None]
        start = time.monotonic()
        n = 0
        while not self._stop.is_set():
            now = time.monotonic()
            image = base.copy()
            x = int((now - start) * width / 4) % width
            cv2.rectangle(image, (x, height // 3), (x + width // 10, 2 * height // 3), (255, 255, 255), -1)
            clock = time.strftime("%H:%M:%S") + f".{int(now * 1000) % 1000:03d}"
            cv2.putText(image, f"STAGE TEST  {clock}  #{n}", (width // 20, height // 6),
                        cv2.FONT_HERSHEY_SIMPLEX, height / 500, (255, 255, 255), max(1, height // 250))
            self._deliver(image, now)
            n += 1
            self._stop.wait(max(0.0, start + n * period - time.monotonic()))
