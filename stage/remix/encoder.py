"""An H.264 + AAC MP4 writer with PyAV: constant frame rate video, audio kept in step with it.

Audio is buffered here and handed to AAC in frames of exactly the encoder's frame size (AAC takes
no other size but the last); between segments :meth:`Encoder.align` pads silence, or drops what
ran long, so every segment's sound starts with its pictures.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE = 48_000
X264 = {"crf": "23", "profile:v": "high"}


class Encoder:
    def __init__(self, path: Path, width: int, height: int, fps: int, preset: str = "veryfast") -> None:
        self.fps = fps
        self.out = av.open(str(path), "w", format="mp4", options={"movflags": "faststart"})
        self.video = self.out.add_stream("libx264", rate=fps, options={**X264, "preset": preset})
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        self.video.codec_context.time_base = Fraction(1, fps)
        # PyAV defaults to slice threads, which x264 runs far slower than the frame threads ffmpeg uses.
        self.video.codec_context.thread_type = "FRAME"
        self.audio = self.out.add_stream("aac", rate=RATE, layout="stereo")
        self.audio.bit_rate = 128_000
        self.frames = 0
        self.samples = 0  # sent to the encoder
        self._pending = np.zeros((2, 0), np.float32)

    @property
    def seconds(self) -> float:
        return self.frames / self.fps

    def add_frame(self, frame: av.VideoFrame) -> None:
        frame.pts = self.frames
        frame.time_base = Fraction(1, self.fps)
        self.frames += 1
        self.out.mux(self.video.encode(frame))

    def add_audio(self, samples: np.ndarray) -> None:
        """Planar float samples, shape (2, n), at 48 kHz."""
        self._pending = np.concatenate([self._pending, samples.astype(np.float32, copy=False)], axis=1)
        self._drain(final=False)

    def align(self) -> None:
        """Make the sound exactly as long as the pictures so far (silence, or drop what ran over)."""
        want = round(self.frames * RATE / self.fps) - self.samples
        have = self._pending.shape[1]
        if want > have:
            self._pending = np.concatenate([self._pending, np.zeros((2, want - have), np.float32)], axis=1)
        else:
            self._pending = self._pending[:, :max(want, 0)]
        self._drain(final=False)

    def close(self) -> None:
        self.align()
        self._drain(final=True)
        self.out.mux(self.video.encode(None))
        self.out.mux(self.audio.encode(None))
        self.out.close()

    def abort(self) -> None:
        try:
            self.out.close()
        except Exception:  # the file is thrown away anyway
            pass

    def _drain(self, final: bool) -> None:
        size = self.audio.codec_context.frame_size or 1024
        while self._pending.shape[1] >= size or (final and self._pending.shape[1]):
            chunk, self._pending = self._pending[:, :size], self._pending[:, size:]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="stereo")
            frame.sample_rate = RATE
            frame.pts = self.samples
            frame.time_base = Fraction(1, RATE)
            self.samples += chunk.shape[1]
            self.out.mux(self.audio.encode(frame))
