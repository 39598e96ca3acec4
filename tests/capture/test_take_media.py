"""Takes from real sources: ffmpeg's MJPEG stream and the PulseAudio virtual microphone."""

from __future__ import annotations

import subprocess
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
    agent = subprocess.Popen(capture_cmd("--camera", camera.url, "--mic", "default", "--test-take", "6",
                                         "--out", str(tmp_path / "take.mp4"), "--spool", str(tmp_path / "spool")),
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    flash_at = time.monotonic() + 4.0
    camera.flash(flash_at)
    pulse.beep_at(flash_at)
    output, _ = agent.communicate(timeout=60)
    assert agent.returncode == 0, output
    take = decode(tmp_path / "take.mp4")
    offset = audio_onset(take) - flash_onset(take)
    print(f"A/V offset (audio - video): {offset * 1000:.1f} ms")
    assert abs(offset) <= 0.045
