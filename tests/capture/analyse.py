"""Reading a take back with PyAV: frame times and brightness, the audio track, tone and onsets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass
class Decoded:
    video_times: np.ndarray  # presentation time of each frame (s)
    brightness: np.ndarray  # mean luma of each frame
    audio: np.ndarray  # mono float samples
    audio_start: float  # presentation time of the first sample (s)
    rate: int
    metadata: dict[str, str]
    duration: float


def decode(path: Path, start: float = 0.0) -> Decoded:
    """Decode the take (from ``start`` seconds: a seek to the keyframe before it)."""
    with av.open(str(path)) as container:
        if start > 0:
            container.seek(int(start * 1_000_000))
        times, bright, chunks, start, rate = [], [], [], None, 48000
        for frame in _frames(container):
            if isinstance(frame, av.VideoFrame):
                times.append(frame.time)
                bright.append(float(frame.to_ndarray(format="gray").mean()))
            else:
                if start is None:
                    start, rate = frame.time, frame.sample_rate
                samples = frame.to_ndarray()
                chunks.append(samples[0] if frame.format.is_planar else samples.reshape(-1))  # first channel
        duration = container.duration / 1e6 if container.duration else 0.0
        return Decoded(np.array(times), np.array(bright), np.concatenate(chunks) if chunks else np.zeros(0),
                       start or 0.0, rate, dict(container.metadata), duration)


def _frames(container):
    """Decoded frames up to the first damaged packet (a file cut by a crash or a full disk), as a
    player would play it."""
    try:
        for packet in container.demux(*container.streams):
            for frame in packet.decode():
                yield frame
    except av.error.FFmpegError:
        return


def peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def audio_onset(d: Decoded, threshold: float = 0.1) -> float:
    loud = np.flatnonzero(np.abs(d.audio) > threshold)
    assert len(loud), "no beep in the take's audio"
    return d.audio_start + loud[0] / d.rate


def flash_onset(d: Decoded, level: float = 200) -> float:
    white = np.flatnonzero(d.brightness > level)
    assert len(white), "no white frame in the take's video"
    return float(d.video_times[white[0]])
