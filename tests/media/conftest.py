"""Sample media made in the tests themselves: Pillow for images, Debian's ffmpeg (lavfi) for clips.

ffmpeg only makes inputs here; the library under test uses PyAV, never the ffmpeg program.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

FFMPEG = shutil.which("ffmpeg")

# name -> ffmpeg arguments between the inputs and the output file (all clips are tiny and short)
VIDEO_IN = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"]
AUDIO_IN = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
VP9 = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"]
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
RECIPES: dict[str, list[str]] = {
    "h264_aac.mp4": [*VIDEO_IN, *AUDIO_IN, "-t", "1.5", *X264, "-c:a", "aac"],
    "vp9_opus.webm": [*VIDEO_IN, *AUDIO_IN, "-t", "1.5", *VP9, "-c:a", "libopus"],
    "aac.m4a": [*AUDIO_IN, "-t", "1.5", "-c:a", "aac"],
    "opus.ogg": [*AUDIO_IN, "-t", "1.5", "-c:a", "libopus"],
    "mp3.mp3": [*AUDIO_IN, "-t", "1.5", "-c:a", "libmp3lame"],
    "three_seconds.mp4": [*VIDEO_IN, *AUDIO_IN, "-t", "3", *X264, "-c:a", "aac"],
    "hevc.mov": [*VIDEO_IN, *AUDIO_IN, "-t", "1", "-c:v", "libx265", "-preset", "ultrafast",
                 "-x265-params", "log-level=none", "-pix_fmt", "yuv420p", "-tag:v", "hvc1", "-c:a", "aac"],
    "h263.3gp": ["-f", "lavfi", "-i", "testsrc2=size=176x144:rate=15", "-f", "lavfi", "-i",
                 "sine=sample_rate=8000", "-t", "1", "-c:v", "h263", "-c:a", "aac", "-ac", "1"],
    "big_vp9.webm": ["-f", "lavfi", "-i", "testsrc2=size=1600x900:rate=10", "-t", "0.5", *VP9],
    # variable frame rate: five frames 0.1 s apart, a 0.537 s pause, five more (phones record like this)
    "vfr.webm": ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-frames:v", "10",
                 "-vf", "settb=1/1000,setpts='(N*0.1+gte(N,5)*0.537)/TB'",
                 "-fps_mode", "vfr", "-enc_time_base:v", "1/1000", *VP9],
    # what a browser's MediaRecorder writes: webm with no duration in its header
    "live.webm": [*VIDEO_IN, *AUDIO_IN, "-t", "1.2", *VP9, "-c:a", "libopus", "-live", "1", "-f", "webm"],
}


def run_ffmpeg(args: list[str], out: Path) -> Path:
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args, str(out)],
                   check=True, timeout=60)
    return out


@pytest.fixture(scope="session")
def make_clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """make_clip("vp9_opus.webm") -> a path to that sample, made once per session."""
    # make setup installs Debian's ffmpeg; without it these tests must fail, not quietly skip.
    assert FFMPEG is not None, "Debian's ffmpeg is needed to make sample clips: run make setup"
    folder = tmp_path_factory.mktemp("clips")
    made: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in made:
            made[name] = run_ffmpeg(RECIPES[name], folder / name)
        return made[name]

    return make


@pytest.fixture(scope="session")
def rotated_clip(make_clip: Callable[[str], Path]) -> Callable[[str], Path]:
    """A copy of a sample whose container says "show me turned 90°" (a portrait phone clip)."""
    cache: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in cache:
            src = make_clip(name)
            out = src.with_name(f"rotated_{name}")
            cache[name] = run_ffmpeg(["-i", str(src), "-c", "copy", "-metadata:s:v:0", "rotate=90"], out)
        return cache[name]

    return make
