"""One take: camera frames + microphone blocks -> H.264 + AAC in a fragmented MP4, then faststart.

The encoder runs in its own thread fed by a bounded queue, so the camera thread never waits on
x264: when the encoder falls more than ``QUEUE_FRAMES`` behind, frames are dropped and counted.
Video pts are the frames' monotonic stamps (variable frame rate, 1 ms time base). Audio pts count
samples from the take's start; when the block stamps say the sample count has drifted more than
``RESYNC`` away from the monotonic clock (lost samples after an overflow, or a device clock that runs
fast or slow), silence is inserted or samples are dropped, so sync holds over a long take.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from fractions import Fraction
from typing import Any

import av
import numpy as np

from stage.capture.camera import Camera, Frame
from stage.capture.microphone import RATE, Microphone
from stage.capture.spool import SpooledTake, remux, slate_metadata

log = logging.getLogger(__name__)

QUEUE_FRAMES = 60  # two seconds of 30 fps video may wait for the encoder before frames are dropped
KEYFRAME_EVERY = 0.9  # seconds; a fragment per keyframe bounds what a SIGKILL can lose
RESYNC = int(0.020 * RATE)  # audio drift (samples) tolerated before correcting
MS = Fraction(1, 1000)
FRAG_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}


class Take:
    """Records until ``stop()`` or a fault; ``finished`` is set when the final file is ready."""

    def __init__(self, spooled: SpooledTake, camera: Camera, microphone: Microphone | None,
                 preset: str = "ultrafast") -> None:
        self.spooled = spooled
        self.camera = camera
        self.microphone = microphone
        self.preset = preset
        self.start = time.monotonic()
        self.frames: queue.Queue[Frame] = queue.Queue(QUEUE_FRAMES)
        self.frames_out = 0
        self.dropped = 0
        self.av_offset_ms: float | None = None  # audio clock minus monotonic clock at the last block
        self.reason: str | None = None  # why the take ended on its own (camera died, disk full...)
        self.failed = False
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._samples = 0
        self._thread = threading.Thread(target=self._run, name=f"take-{spooled.take_id[:8]}", daemon=True)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.start

    def begin(self) -> "Take":
        self.spooled.save()
        if self.microphone:
            self.microphone.drain()
            self.microphone.capturing = True
        self._thread.start()
        return self

    def offer(self, frame: Frame) -> None:
        """Called from the camera thread: never blocks. Nothing is taken once stop was asked, so a
        slow encoder drains a finite queue and the take ends when asked, not when the camera does."""
        if self._stop.is_set():
            return
        try:
            self.frames.put_nowait(frame)
        except queue.Full:
            self.dropped += 1

    def stop(self, reason: str | None = None) -> None:
        if reason and not self.reason and not self._stop.is_set():  # the first cause is the one reported
            self.reason = reason
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    # -- encoder thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._record()
        except OSError as exc:
            self.failed = True
            self.reason = "disk full" if exc.errno == 28 else f"cannot write the take: {exc}"
        except av.error.FFmpegError as exc:
            self.failed = True
            self.reason = "disk full" if getattr(exc, "errno", None) == 28 else f"encoder error: {exc}"
        except Exception as exc:  # anything else (e.g. a camera that switched to grayscale frames)
            log.exception("take %s: recording stopped by an unexpected error", self.spooled.take_id)
            self.failed = True
            self.reason = f"recording stopped by an unexpected error: {type(exc).__name__}: {exc}"
        finally:
            if self.microphone:
                self.microphone.capturing = False
            self._finish()  # always: otherwise `finished` is never set and the rig stays busy

    def _record(self) -> None:
        first = self._first_frame()
        if first is None:
            return
        height, width = first.image.shape[:2]
        metadata = slate_metadata(self.spooled.slate)
        with av.open(str(self.spooled.part), "w", format="mp4", options=FRAG_OPTIONS) as out:
            out.metadata.update(metadata)
            video = out.add_stream("libx264", rate=30, options={
                "preset": self.preset, "tune": "zerolatency", "forced-idr": "1"})
            video.width, video.height, video.pix_fmt = width - width % 2, height - height % 2, "yuv420p"
            video.codec_context.time_base = MS
            audio = out.add_stream("aac", rate=RATE, layout="mono") if self.microphone else None
            self._encode_loop(out, video, audio, first)
            for stream in (video, audio):
                if stream is not None:
                    out.mux(stream.encode(None))

    def _first_frame(self) -> Frame | None:
        while not self._stop.is_set():
            try:
                return self.frames.get(timeout=0.2)
            except queue.Empty:
                if not self.camera.alive and self.seconds > 3:
                    self.reason, self.failed = self.camera.error or "camera gives no frames", True
                    return None
        return None

    def _encode_loop(self, out: Any, video: Any, audio: Any, frame: Frame | None) -> None:
        last_pts, last_key = -1, -10.0
        while True:
            if frame is not None:
                image = av.VideoFrame.from_ndarray(frame.image, format="bgr24")
                if (image.width, image.height) != (video.width, video.height):
                    image = image.reformat(video.width, video.height)
                pts = max(last_pts + 1, round((frame.stamp - self.start) * 1000))
                image.pts, image.time_base, last_pts = pts, MS, pts
                if frame.stamp - last_key >= KEYFRAME_EVERY:
                    image.pict_type, last_key = av.video.frame.PictureType.I, frame.stamp
                out.mux(video.encode(image))
                self.frames_out += 1
            if audio is not None:
                self._encode_audio(out, audio)
            if self._stop.is_set() and self.frames.empty():
                return
            if not self.camera.alive:
                self.stop(self.camera.error or "camera stopped answering")
            try:
                frame = self.frames.get(timeout=0.1)
            except queue.Empty:
                frame = None

    def _encode_audio(self, out: Any, audio: Any) -> None:
        for block in self.microphone.drain():
            samples = block.samples[:, 0]
            expected = round((block.stamp - self.start) * RATE)
            drift = expected - self._samples
            self.av_offset_ms = round(-drift * 1000 / RATE, 1)
            if drift > RESYNC or (self._samples == 0 and drift > 0):
                samples = np.concatenate([np.zeros(drift, np.float32), samples])  # fill lost time
            elif drift < -RESYNC or (self._samples == 0 and drift < 0):
                samples = samples[min(-drift, len(samples)):]  # audio ran ahead: drop the excess
            if not len(samples):
                continue
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[None, :]), format="flt",
                                               layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = RATE, self._samples, Fraction(1, RATE)
            self._samples += len(samples)
            out.mux(audio.encode(frame))

    def _finish(self) -> None:
        sp = self.spooled
        sp.figures.update({"frames_in": self.frames_out + self.dropped, "dropped": self.dropped,
                           "overflows": self.microphone.overflows if self.microphone else 0,
                           "av_offset_ms": self.av_offset_ms})
        try:
            if sp.part.exists() and self.frames_out:
                sp.figures.update(remux(sp.part, sp.final, slate_metadata(sp.slate)))
                sp.part.unlink()
                sp.state = "failed" if self.failed else "finished"
            else:
                sp.state, self.failed = "failed", True
                self.reason = self.reason or "no frames recorded"
        except Exception as exc:
            # Finalising failed (a full disk again): the fragmented file stays, recovered on next start.
            if not isinstance(exc, (OSError, av.error.FFmpegError)):
                log.exception("take %s: cannot finalise", sp.take_id)
            sp.state, self.failed = "failed", True
            self.reason = self.reason or f"cannot finalise the take: {exc}"
        sp.reason = self.reason
        try:
            sp.save()
        except OSError as exc:
            log.error("take %s: cannot save its sidecar: %s", sp.take_id, exc)
        finally:
            log.info("take %s %s after %.1f s: %d frames, %d dropped%s", sp.take_id, sp.state, self.seconds,
                     self.frames_out, self.dropped, f" ({self.reason})" if self.reason else "")
            self.finished.set()
