"""The PulseAudio virtual microphone of ENVIRONMENT.md: a null sink ``vspeaker`` whose monitor is
remapped to a source ``vmic``, kept busy by a silent ``pacat`` so capture starts without a stall.
Runs under its own XDG_RUNTIME_DIR; stopped by pid. Failing to start raises, never skips.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path


class PulseError(RuntimeError):
    pass


class VirtualMic:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.xdg = run_dir / "xdg"
        self.pid: int | None = None
        self.keepalive: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "XDG_RUNTIME_DIR": str(self.xdg)}

    def start(self) -> "VirtualMic":
        for tool in ("pulseaudio", "pactl", "pacat", "paplay"):
            if not shutil.which(tool):
                raise PulseError(f"{tool} is missing: apt-get install pulseaudio pulseaudio-utils "
                                 "(make setup installs APT_PACKAGES)")
        self.xdg.mkdir(parents=True, exist_ok=True)
        self.xdg.chmod(0o700)
        log = self.run_dir / "pulse.log"
        result = subprocess.run(
            ["pulseaudio", "-n", "--daemonize=yes", "--exit-idle-time=-1", "--disallow-exit",
             f"--log-target=file:{log}", "-L", "module-native-protocol-unix",
             "-L", "module-null-sink sink_name=vspeaker rate=48000",
             "-L", "module-remap-source source_name=vmic master=vspeaker.monitor", "-L", "module-always-sink"],
            env=self.env, capture_output=True, text=True, timeout=20)
        pidfile = self.xdg / "pulse" / "pid"
        if result.returncode != 0 or not pidfile.exists():
            tail = log.read_text()[-800:] if log.exists() else ""
            raise PulseError(f"PulseAudio did not start (rc {result.returncode}): {result.stderr.strip()} {tail}")
        self.pid = int(pidfile.read_text().split()[0])
        for args in (["set-default-sink", "vspeaker"], ["set-default-source", "vmic"]):
            subprocess.run(["pactl", *args], env=self.env, check=True, timeout=10)
        self.keepalive = subprocess.Popen(
            ["pacat", "--playback", "-d", "vspeaker", "--latency-msec=10", "--rate=48000", "--channels=2",
             "--format=s16le", "/dev/zero"], env=self.env)
        time.sleep(2.1)  # without this settle time the first seconds of capture stall (ENVIRONMENT.md)
        return self

    def play(self, wav: Path) -> subprocess.Popen:
        return subprocess.Popen(["paplay", "-d", "vspeaker", str(wav)], env=self.env)

    def beep_at(self, at: float, hz: float = 1000, seconds: float = 0.1) -> None:
        """Play a beep whose first sample reaches the virtual speaker at the monotonic instant ``at``.

        The output callback's ``outputBufferDacTime - currentTime`` says how far ahead each block
        plays, so the beep is placed to the sample; blocks until it has been handed over.
        """
        import numpy as np
        import sounddevice as sd

        sd._terminate()
        sd._initialize()  # PulseAudio may have started after sounddevice was first imported
        beep = (0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * 48000)) / 48000)).astype(np.float32)
        played = threading.Event()
        state: dict[str, int | None] = {"pos": None}

        def callback(out, frames, time_info, status) -> None:
            out.fill(0)
            dac = time.monotonic() + (time_info.outputBufferDacTime - time_info.currentTime)
            if state["pos"] is None:
                start = round((at - dac) * 48000)  # the sample of this block that plays at ``at``
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

        time.sleep(max(0.0, at - 1.0 - time.monotonic()))  # a short-lived stream has fewer underruns
        with sd.OutputStream(device="pulse", samplerate=48000, channels=1, dtype="float32", latency="high",
                             callback=callback):
            if not played.wait(max(0.0, at - time.monotonic()) + 5):
                raise PulseError("the beep was never played")

    def stop(self) -> None:
        if self.keepalive:
            self.keepalive.terminate()
            self.keepalive.wait(5)
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGTERM)
                for _ in range(50):
                    os.kill(self.pid, 0)
                    time.sleep(0.1)
                os.kill(self.pid, signal.SIGKILL)  # still there after 5 s: no process is left behind
            except ProcessLookupError:
                pass
            self.pid = None
