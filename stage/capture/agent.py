"""The agent: obeys the server's ``record``/``stop`` (acks per docs/capture.md), reports ``health``
once a second, ``take_state`` on every change and a ``preview`` JPEG about twice a second, and hands
finished takes to the uploader. The Socket.IO connection itself is :class:`stage.capture.link.AgentLink`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import cv2
from pydantic import ValidationError

from stage.capture.payloads import Record, Stop
from stage.capture.rig import Rig, RigError
from stage.capture.recorder import Take
from stage.capture.spool import SpooledTake, recover
from stage.capture.upload import Uploader
from stage.capture.link import AgentLink

log = logging.getLogger(__name__)
PREVIEW_WIDTH = 640
# Set by ``stage serve`` (stage/local_rigs.py) for the agents it starts: the pid it expects as our parent.
PARENT_PID_ENV = "STAGE_AGENT_PARENT_PID"
PARENT_POLL_SECONDS = 0.5


def _expected_parent() -> int | None:
    value = os.environ.get(PARENT_PID_ENV)
    if not value:
        return None  # started by hand: it outlives the shell that started it, as any daemon may
    try:
        return int(value)
    except ValueError:
        log.warning("%s=%r is not a pid; not watching the parent", PARENT_PID_ENV, value)
        return None


def _refusal(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


class Agent:
    def __init__(self, server: str, rig_name: str, token: str, rig: Rig) -> None:
        self.rig = rig
        self.link = AgentLink(server, rig_name, token, {"record": self._on_record, "stop": self._on_stop})
        self.uploader = Uploader(server, token, rig_name, self._upload_state)
        self._stop = threading.Event()
        self._last = (time.monotonic(), 0, 0)  # for fps: (when, frames in, frames out)
        self._parent = _expected_parent()

    # -- lifecycle --------------------------------------------------------------------------------

    def run(self) -> None:
        """Blocks until ``shutdown()`` (or Ctrl-C, or the serve that started it is gone)."""
        if self._parent is not None:
            threading.Thread(target=self._watch_parent, args=(self._parent,), name="parent", daemon=True).start()
        for take in recover(self.rig.spool):
            log.info("spool: take %s waits for upload", take.take_id)
            self.uploader.submit(take)
        self.uploader.start()
        threading.Thread(target=self._ticker, name="health", daemon=True).start()
        self.link.connect(self._stop)
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            self.rig.close()
            self.uploader.stop()
            self.link.close()

    def shutdown(self) -> None:
        self._stop.set()

    def _watch_parent(self, parent: int) -> None:
        """A serve that was killed (SIGKILL, a crash, OOM) cannot stop its agents: we are then reparented,
        and stop as on SIGTERM instead of retrying a dead server for ever, orphaned (issue 15)."""
        while os.getppid() == parent:
            if self._stop.wait(PARENT_POLL_SECONDS):
                return
        log.warning("the stage serve that started this agent (pid %d) is gone; stopping", parent)
        self.shutdown()

    def _emit(self, event: str, data: dict[str, Any]) -> None:
        self.link.emit(event, data, keep=event == "take_state")

    # -- commands ---------------------------------------------------------------------------------

    def _on_record(self, data: Any = None) -> dict[str, Any]:
        try:
            command = Record.model_validate(data)
        except ValidationError as exc:
            return _refusal("invalid", exc.errors()[0]["msg"] if exc.errors() else str(exc))
        try:
            take = self.rig.record(command.take_id, command.slate.model_dump())
        except RigError as exc:
            log.warning("record %s refused: %s", command.take_id, exc)
            if exc.code != "already_recording":  # the running take is fine; this one never started
                self._emit("take_state", {"take_id": command.take_id, "state": "failed", "reason": str(exc)})
            return _refusal(exc.code, str(exc))
        self._emit("take_state", {"take_id": command.take_id, "state": "recording", "reason": None})
        threading.Thread(target=self._follow, args=(take,), name="take-follow", daemon=True).start()
        return {"ok": True, "take_id": command.take_id}

    def _on_stop(self, data: Any = None) -> dict[str, Any]:
        try:
            command = Stop.model_validate(data or {})
        except ValidationError as exc:
            return _refusal("invalid", exc.errors()[0]["msg"] if exc.errors() else str(exc))
        try:
            take = self.rig.stop(command.take_id)
        except RigError as exc:
            return _refusal(exc.code, str(exc))
        return {"ok": True, "take_id": take.spooled.take_id}

    def _follow(self, take: Take) -> None:
        """Report how the take ended, then queue it for upload."""
        take.wait()
        sp = take.spooled
        self._emit("take_state", {"take_id": sp.take_id, "state": "failed" if take.failed else "stopped",
                                  "reason": take.reason})
        if sp.final.exists():
            self.uploader.submit(sp)

    def _upload_state(self, take: SpooledTake, state: str, reason: str | None) -> None:
        self._emit("take_state", {"take_id": take.take_id, "state": state, "reason": reason})

    # -- health and preview -----------------------------------------------------------------------

    def _ticker(self) -> None:
        tick = 0
        while not self._stop.wait(0.5):
            tick += 1
            self._send_preview()
            if tick % 2 == 0:
                self.rig.keep_microphone()
                self._emit("health", self.health())

    def health(self) -> dict[str, Any]:
        data = self.rig.health()
        now, take = time.monotonic(), self.rig.take
        frames_in, frames_out = self.rig.camera.frames_in, take.frames_out if take else 0
        then, before_in, before_out = self._last
        elapsed = max(now - then, 1e-3)
        data["fps_in"] = round((frames_in - before_in) / elapsed, 1)
        data["fps_out"] = round(max(frames_out - before_out, 0) / elapsed, 1) if self.rig.recording else 0.0
        self._last = (now, frames_in, frames_out)
        return data

    def _send_preview(self) -> None:
        frame = self.rig.camera.latest
        if frame is None or not self.link.connected or time.monotonic() - frame.stamp > 2:
            return
        image = frame.image
        if image.shape[1] > PREVIEW_WIDTH:
            image = cv2.resize(image, (PREVIEW_WIDTH, image.shape[0] * PREVIEW_WIDTH // image.shape[1]),
                               interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
        if ok:
            self._emit("preview", {"jpeg": jpeg.tobytes()})
