"""Real take files for tests, made with PyAV: H.264 + AAC MP4, a moving test pattern and a tone."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def make_take(path: Path, seconds: float = 2.0, fps: int = 25, size: tuple[int, int] = (320, 240),
              tone: float = 440.0) -> Path:
    width, height = size
    rate = 48_000
    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = Fraction(1, fps)
        video.options = {"preset": "ultrafast"}
        audio = out.add_stream("aac", rate=rate)
        audio.codec_context.time_base = Fraction(1, rate)
        frames = int(seconds * fps)
        noise = np.random.default_rng(7)
        for n in range(frames):
            image = np.zeros((height, width, 3), np.uint8)
            image[:, :, 0] = (np.arange(width) + n * 4) % 256  # a moving gradient: every frame differs
            image[:, :, 1] = n * 255 // max(frames - 1, 1)
            image[: height // 4, : width // 4] = noise.integers(0, 256, (height // 4, width // 4, 3))  # bulk
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = n
            out.mux(video.encode(frame))
        out.mux(video.encode())
        samples = int(seconds * rate)
        t = np.arange(samples) / rate
        wave = (0.3 * np.sin(2 * np.pi * tone * t)).astype(np.float32)
        for start in range(0, samples, 1024):
            block = wave[start:start + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, start
            out.mux(audio.encode(frame))
        out.mux(audio.encode())
    return path
