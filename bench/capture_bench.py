"""B4: a 1080p30 + 48 kHz take from an MJPEG stream through the real agent (``stage capture
--test-take``): dropped frames, audio overflows, A/V offset at the end, and the agent's CPU use.

The camera is the tests' Python MJPEG server (pre-encoded 1920x1080 JPEGs at 30 fps), the
microphone the PulseAudio virtual mic with a beep; two seconds before the end the picture flashes
white and the beep plays at the same monotonic instant, and the take is decoded to measure how far
apart they landed. CPU is the agent process's user+system seconds (from wait4) over wall time.

    .venv/bin/python bench/capture_bench.py --seconds 60 [--preset veryfast]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness import REPO, machine, save

sys.path.insert(0, str(REPO))
from tests.capture.analyse import audio_onset, decode, flash_onset  # noqa: E402
from tests.capture.mjpeg import MjpegCamera  # noqa: E402
from tests.capture.pulse import VirtualMic  # noqa: E402


def run(seconds: float, preset: str, noise: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        mic = VirtualMic(tmp / "pulse").start()
        camera = MjpegCamera(1920, 1080, 30.0, noise=noise).start()
        try:
            os.environ["XDG_RUNTIME_DIR"] = str(mic.xdg)
            args = [sys.executable, "-m", "stage", "capture", "--camera", camera.url, "--mic", "default",
                    "--test-take", str(seconds), "--out", str(tmp / "take.mp4"), "--spool", str(tmp / "spool"),
                    "--preset", preset, "--report", str(tmp / "figures.json")]
            started = time.monotonic()
            agent = subprocess.Popen(args, cwd=REPO, env=mic.env, stdout=subprocess.DEVNULL,
                                     stderr=open(tmp / "agent.log", "w"))
            while camera.sent == 0 or not (tmp / "spool").exists():
                time.sleep(0.1)
            take_started = time.monotonic()
            flash_at = take_started + seconds - 2.0
            camera.flash(flash_at)
            mic.beep_at(flash_at)
            _, status, usage = os.wait4(agent.pid, 0)
            wall = time.monotonic() - started
            agent.returncode = os.waitstatus_to_exitcode(status)
            if agent.returncode != 0:
                raise SystemExit(f"agent failed ({agent.returncode}): {(tmp / 'agent.log').read_text()[-2000:]}")
            figures = json.loads((tmp / "figures.json").read_text())
            tail = decode(tmp / "take.mp4", start=max(0.0, seconds - 4.0))
            offset_ms = (audio_onset(tail) - flash_onset(tail)) * 1000
        finally:
            camera.stop()
            mic.stop()
    cpu = usage.ru_utime + usage.ru_stime
    return {"picture": "noisy (σ 6, like a sensor)" if noise else "flat test pattern", "seconds": seconds,
            "preset": preset, "frames": figures["frames"], "dropped": figures["dropped"],
            "overflows": figures["overflows"], "av_offset_end_ms": round(offset_ms, 1),
            "audio_clock_drift_ms": figures["av_offset_ms"], "cpu_seconds": round(cpu, 1),
            "wall_seconds": round(wall, 1), "cores": round(cpu / wall, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--preset", default="ultrafast")
    parser.add_argument("--picture", choices=["both", "flat", "noisy"], default="both")
    options = parser.parse_args()
    # Side by side in one run: an easy synthetic picture and a noisy one (what a camera sensor gives).
    noises = {"both": (0.0, 6.0), "flat": (0.0,), "noisy": (6.0,)}[options.picture]
    results = [run(options.seconds, options.preset, noise) for noise in noises]
    table = Table(title=f"B4 capture: 1080p30 + 48 kHz, {options.seconds:.0f} s, x264 {options.preset}")
    table.add_column("figure")
    for result in results:
        table.add_column(result["picture"], justify="right")
    for key in results[0]:
        table.add_row(key, *(str(r[key]) for r in results))
    Console().print(table)
    command = (f".venv/bin/python bench/capture_bench.py --seconds {options.seconds:.0f} --preset {options.preset}"
               f" --picture {options.picture}")
    rows = "\n".join(f"| {k} | " + " | ".join(str(r[k]) for r in results) + " |" for k in results[0])
    save("capture", {"runs": results}, f"""
## B4 capture agent: 1080p30 + 48 kHz take ({date.today()})

Machine: {machine()} (shared with other jobs). Command: `{command}`.
Camera: Python MJPEG server, 1920x1080 at 30 fps; microphone: PulseAudio virtual mic. Goal: 0 dropped,
0 overflows, A/V offset at the end within one frame (33 ms), under one core (cores < 1.0).
`av_offset_end_ms` is audio minus video of a flash and a beep sent at the same instant 2 s before the
end; `audio_clock_drift_ms` is how far the audio sample clock had drifted from the monotonic clock at
the last block (corrected beyond 20 ms); `cores` is the agent's CPU seconds over wall time (including
its ~3 s start-up).

| figure | {" | ".join(r["picture"] for r in results)} |
|---|{"---|" * len(results)}
{rows}
""")


if __name__ == "__main__":
    main()
