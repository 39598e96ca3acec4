"""Microphone input through sounddevice (PortAudio): a callback that never blocks, overflows counted.

Time stamps: the callback's ``time_info`` gives ``currentTime`` and ``inputBufferAdcTime`` on
PortAudio's stream clock, which is not ``time.monotonic()``. Only their *difference* (how long ago the
first sample of the block was captured) is used: first-sample instant = monotonic arrival time minus
(currentTime - inputBufferAdcTime). That needs no assumption about PortAudio's clock. When the host
API reports no times (zeros), the fallback is arrival time minus the block length minus the stream's
input latency.
"""

from __future__ import annotations

import logging
import math
import queue
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

RATE = 48000
CHANNELS = 1
BLOCK = 1024  # ~21 ms: small enough for a smooth meter, large enough not to stress the callback


class MicrophoneError(Exception):
    """No usable audio input: the message is the one line the crew reads."""


@dataclass(frozen=True)
class AudioBlock:
    samples: np.ndarray  # float32, shape (frames, CHANNELS)
    stamp: float  # time.monotonic() of the block's first sample


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # libportaudio2 missing
        raise MicrophoneError(f"audio unavailable: {exc} (install libportaudio2)") from exc
    return sounddevice


def input_devices() -> list[dict[str, Any]]:
    """Audio inputs PortAudio sees now (re-scanned: PulseAudio may have started after import)."""
    sd = _sounddevice()
    sd._terminate()
    sd._initialize()
    return [dict(d, index=i) for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]


def resolve(device: str) -> int:
    """A device index or (part of) a name -> the index; a clear one-line error otherwise."""
    devices = input_devices()
    if not devices:
        raise MicrophoneError("no audio input devices at all (is PulseAudio running?); recording video only")
    if device.isdigit():
        if any(d["index"] == int(device) for d in devices):
            return int(device)
    else:
        exact = [d for d in devices if d["name"] == device]
        partial = exact or [d for d in devices if device.lower() in d["name"].lower()]
        if partial:
            return partial[0]["index"]
    names = ", ".join(f"{d['index']}: {d['name']}" for d in devices)
    raise MicrophoneError(f"no audio input {device!r} (inputs: {names}); recording video only")


class Microphone:
    """Captures ``device`` into a queue; the recorder drains it. ``level_db`` feeds the meter."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.blocks: queue.SimpleQueue[AudioBlock] = queue.SimpleQueue()
        self.overflows = 0
        self.level_db: float | None = None
        self.last_callback = 0.0
        self._stream: Any = None
        self.capturing = False  # only queue blocks while a take wants them (no unbounded growth)

    def start(self) -> "Microphone":
        sd = _sounddevice()
        index = resolve(self.device)
        self._stream = sd.InputStream(device=index, samplerate=RATE, channels=CHANNELS, dtype="float32",
                                      blocksize=BLOCK, latency="low", callback=self._callback)
        self._stream.start()
        self.last_callback = time.monotonic()
        log.info("microphone %r: device %d at %d Hz", self.device, index, RATE)
        return self

    def _callback(self, data: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # Runs on PortAudio's thread: copy, stamp, enqueue; nothing here may block or allocate much.
        now = time.monotonic()
        if status.input_overflow:
            self.overflows += 1
        ago = time_info.currentTime - time_info.inputBufferAdcTime
        if not (0 < ago < 1.0):
            ago = frames / RATE + (self._stream.latency if self._stream else 0.0)
        self.last_callback = now
        peak = float(np.sqrt(np.mean(np.square(data)))) if frames else 0.0
        self.level_db = 20 * math.log10(peak) if peak > 1e-6 else -120.0
        if self.capturing:
            self.blocks.put(AudioBlock(data.copy(), now - ago))

    @property
    def alive(self) -> bool:
        """False once callbacks stop coming (the device disappeared)."""
        return self._stream is not None and time.monotonic() - self.last_callback < 1.0

    def drain(self) -> list[AudioBlock]:
        out = []
        while True:
            try:
                out.append(self.blocks.get_nowait())
            except queue.Empty:
                return out

    def stop(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close()
            except Exception as exc:  # a device that vanished may refuse to close cleanly
                log.warning("microphone %r: close failed: %s", self.device, exc)
            self._stream = None
