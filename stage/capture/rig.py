"""A rig: one camera + one microphone, and at most one take at a time. Used by the Socket.IO agent
and by ``stage capture --test-take`` alike, so a crew's rig check exercises the show's code path.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from stage.capture.camera import Camera, Frame, describe
from stage.capture.microphone import Microphone, MicrophoneError
from stage.capture.recorder import Take
from stage.capture.spool import SpooledTake, slate_name

log = logging.getLogger(__name__)
# Seconds between attempts to reopen a microphone that vanished or was missing: doubling from the first
# to the last, so a rig without its microphone all night does not restart PortAudio every few seconds.
MIC_REOPEN_JOIN_S = 5  # a reopen takes well under a second when the sound system answers
MIC_RETRY_FIRST, MIC_RETRY_LAST = 3.0, 30.0


class RigError(Exception):
    """A command the rig refuses; ``code`` goes into the ack (docs/capture.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Rig:
    def __init__(self, camera: str, microphone: str, spool: Path, preset: str = "ultrafast",
                 test_size: tuple[int, int] = (1280, 720)) -> None:
        self.spool = spool
        self.preset = preset
        self.camera = Camera(camera, self._on_frame, test_size=test_size)
        self.mic_name = microphone
        self.microphone: Microphone | None = None
        self.mic_error: str | None = None
        self.take: Take | None = None
        self._lock = threading.Lock()
        self._mic_tried = 0.0
        self._mic_wait = MIC_RETRY_FIRST
        self._mic_reopening: threading.Thread | None = None

    def open(self, camera_wait: float = 6.0) -> "Rig":
        self.spool.mkdir(parents=True, exist_ok=True)
        self.camera.start()
        if self.mic_name.lower() != "none":
            self.microphone = self._open_microphone()
        self.camera.wait_open(camera_wait)
        return self

    def _open_microphone(self) -> Microphone | None:
        """The microphone, or None with ``mic_error`` saying why (the rig then records video only)."""
        self._mic_tried = time.monotonic()
        try:
            microphone = Microphone(self.mic_name).start()
        except MicrophoneError as exc:
            error = str(exc)
        except Exception as exc:  # PortAudio refuses the device: same outcome, video only
            error = f"cannot open audio input {self.mic_name!r}: {exc}; recording video only"
        else:
            self.mic_error = None
            return microphone
        if error != self.mic_error:  # one line per change, not one per retry
            log.warning("microphone: %s", error)
        self.mic_error = error
        return None

    def keep_microphone(self) -> None:
        """Between takes, reopen a microphone that vanished (or was missing at start), retrying with a
        growing wait, so the next take has sound again without restarting the agent. The reopen runs on
        its own thread (PortAudio's restart can take a while; health and previews go on meanwhile). A take
        in progress keeps the microphone it started with."""
        if self.mic_name.lower() == "none" or self.recording:
            return
        if self._mic_reopening is not None and self._mic_reopening.is_alive():
            return
        current = self.microphone
        if current is not None and current.alive:
            self._mic_wait = MIC_RETRY_FIRST
            return
        if time.monotonic() - self._mic_tried < self._mic_wait:
            return
        self._mic_reopening = threading.Thread(target=self._reopen_microphone, args=(current,),
                                               name="microphone-reopen", daemon=True)
        self._mic_reopening.start()

    def _reopen_microphone(self, gone: Microphone | None) -> None:
        if gone is not None:
            log.warning("microphone %r stopped delivering; reopening it", self.mic_name)
            gone.stop()
            self.microphone = None
            self._mic_wait = MIC_RETRY_FIRST
        microphone = self._open_microphone()
        if microphone is None:
            self._mic_wait = min(self._mic_wait * 2, MIC_RETRY_LAST)
            return
        log.info("microphone %r is back", self.mic_name)
        with self._lock:
            self.microphone = microphone

    def close(self) -> None:
        if self.recording:
            self.take.stop("agent shutting down")
            self.take.wait(30)
        self.camera.stop()
        reopening = self._mic_reopening
        if reopening is not None and reopening.is_alive():
            reopening.join(MIC_REOPEN_JOIN_S)
            if reopening.is_alive():  # stuck inside PortAudio: a second call into it would hang this stop too
                log.warning("microphone: its reopen has not come back from the sound library in %d s; leaving it "
                            "to the process exit", MIC_REOPEN_JOIN_S)
                return
        if self.microphone:
            self.microphone.stop()

    def _on_frame(self, frame: Frame) -> None:
        take = self.take
        if take is not None and not take.finished.is_set():
            take.offer(frame)

    @property
    def recording(self) -> bool:
        return self.take is not None and not self.take.finished.is_set()

    def record(self, take_id: str, slate: dict[str, Any]) -> Take:
        with self._lock:
            if self.recording:
                raise RigError("already_recording", f"already recording take {self.take.spooled.take_id}")
            if not self.camera.alive:
                raise RigError("no_camera", self.camera.error or f"camera {describe(self.camera.source)} "
                                                                 "gives no frames")
            free = shutil.disk_usage(self.spool).free
            if free < 50_000_000:
                raise RigError("disk_full", f"only {free // 1_000_000} MB free in {self.spool}")
            mic = self.microphone if self.microphone and self.microphone.alive else None
            spooled = SpooledTake(self.spool, slate_name(slate, take_id), take_id, slate)
            self.take = Take(spooled, self.camera, mic, self.preset).begin()
            log.info("take %s recording to %s (%s)", take_id, spooled.part.name,
                     "with audio" if mic else "video only")
            return self.take

    def stop(self, take_id: str | None) -> Take:
        with self._lock:
            take = self.take
            if take is None or take.finished.is_set():
                raise RigError("not_recording", "no take is recording")
            if take_id and take.spooled.take_id != take_id:
                raise RigError("not_recording", f"take {take_id} is not the one recording")
            take.stop()
            return take

    def health(self) -> dict[str, Any]:
        take = self.take if self.recording else None
        mic = take.microphone if take else self.microphone  # during a take: the sound that take records
        silent_take = take is not None and mic is None and self.mic_name.lower() != "none"
        error = self.camera.error or (
            "this take records no sound: the microphone was missing when it started" if silent_take else None) \
            or self.mic_error or ("microphone stopped delivering" if mic and not mic.alive else None)
        return {
            "recording": take is not None,
            "take_id": take.spooled.take_id if take else None,
            "seconds": round(take.seconds, 1) if take else 0.0,
            "fps_in": 0.0, "fps_out": 0.0,  # filled in by the agent, which sees two health ticks
            "dropped": take.dropped if take else 0,
            "overflows": mic.overflows if mic else 0,
            "audio_db": round(mic.level_db, 1) if mic and mic.level_db is not None and mic.alive else None,
            "disk_free": shutil.disk_usage(self.spool).free,
            "camera": describe(self.camera.source),
            "microphone": self.mic_name,
            "error": error,
        }
