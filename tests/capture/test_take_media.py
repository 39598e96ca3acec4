"""Takes from real sources: ffmpeg's MJPEG stream and the PulseAudio virtual microphone."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import numpy as np

from tests.capture.analyse import audio_onset, decode, flash_onset, peak_hz
from tests.capture.conftest import capture_cmd, tone
from tests.stage_process import REPO


def test_ten_second_take_has_its_frames_and_the_tone(tmp_path: Path, pulse, ffmpeg_camera: str) -> None:
    player = pulse.play(tone(tmp_path / "tone.wav", 16, hz=1000))
    try:
        result = subprocess.run(capture_cmd("--camera", ffmpeg_camera, "--mic", "default", "--test-take", "10",
                                            "--out", str(tmp_path / "take.mp4"), "--spool", str(tmp_path / "spool")),
                                cwd=REPO, capture_output=True, text=True, timeout=90)
    finally:
        player.kill()
        player.wait()
    assert result.returncode == 0, result.stdout + result.stderr
    take = decode(tmp_path / "take.mp4")
    assert 9.7 <= take.duration <= 10.5
    assert 285 <= len(take.video_times) <= 310  # 30 fps for 10 s, timed by arrival
    assert np.all(np.diff(take.video_times) > 0)
    assert len(take.audio) >= 9.7 * 48000
    middle = take.audio[2 * 48000:8 * 48000]
    assert abs(peak_hz(middle, take.rate) - 1000) < 2
    assert "frames" in result.stdout and "dropped" in result.stdout and "av_offset_ms" in result.stdout
    assert "test-take" in take.metadata["title"] and '"performer": "crew"' in take.metadata["comment"]


def test_flash_and_beep_stay_within_45_ms(tmp_path: Path, pulse, camera) -> None:
    """A white frame and a beep leave at the same monotonic instant; the take keeps them together."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()  # PulseAudio started after the first import: look again
    agent = subprocess.Popen(capture_cmd("--camera", camera.url, "--mic", "default", "--test-take", "6",
                                         "--out", str(tmp_path / "take.mp4"), "--spool", str(tmp_path / "spool")),
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    flash_at = time.monotonic() + 4.0
    camera.flash(flash_at)
    beep = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(4800) / 48000)).astype(np.float32)
    played = threading.Event()
    state = {"pos": None}

    def callback(out, frames, time_info, status) -> None:
        out.fill(0)
        dac = time.monotonic() + (time_info.outputBufferDacTime - time_info.currentTime)
        if state["pos"] is None:
            start = round((flash_at - dac) * 48000)  # sample of this block that reaches the speaker at T
            if start >= frames:
                return
            state["pos"] = -start
        pos = state["pos"]
        lo, hi = max(pos, 0), min(pos + frames, len(beep))
        if hi > lo:
            out[lo - pos:hi - pos, 0] = beep[lo:hi]
        state["pos"] = pos + frames
        if pos + frames >= len(beep):
            played.set()

    with sd.OutputStream(device="pulse", samplerate=48000, channels=1, dtype="float32", latency="low",
                         callback=callback):
        assert played.wait(8)
    output, _ = agent.communicate(timeout=60)
    assert agent.returncode == 0, output
    take = decode(tmp_path / "take.mp4")
    offset = audio_onset(take) - flash_onset(take)
    print(f"A/V offset (audio - video): {offset * 1000:.1f} ms")
    assert abs(offset) <= 0.045
