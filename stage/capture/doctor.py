"""``stage doctor``: cameras that open, audio inputs with their sample rates, each rig's reach, and the store."""

from __future__ import annotations

from pathlib import Path

import cv2
from rich.console import Console
from rich.table import Table

from stage.capture.camera import Camera
from stage.capture.microphone import MicrophoneError, input_devices, resolve


def _camera_ok(source: str, wait: float = 7.0) -> str | None:
    """None if ``source`` delivers a frame, else the reason."""
    camera = Camera(source).start()
    try:
        return None if camera.wait_open(wait) else (camera.error or "no frames")
    finally:
        camera.stop()


def report(console: Console, show_path: Path | None) -> int:
    problems = 0
    cameras = Table(title="cameras (device indexes 0-3)")
    cameras.add_column("device")
    cameras.add_column("status")
    for index in range(4):
        capture = cv2.VideoCapture(index)
        opened = capture.isOpened()
        capture.release()
        cameras.add_row(str(index), "opens" if opened else "-")
    cameras.add_row("test", "always (moving test pattern)")
    console.print(cameras)

    audio = Table(title="audio inputs")
    for column in ("index", "name", "channels", "default rate"):
        audio.add_column(column)
    try:
        devices = input_devices()
    except MicrophoneError as exc:
        devices = []
        console.print(str(exc), markup=False)
    for d in devices:
        audio.add_row(str(d["index"]), d["name"], str(d["max_input_channels"]), f"{d['default_samplerate']:.0f} Hz")
    console.print(audio if devices else "audio inputs: none (is PulseAudio running? is libportaudio2 installed?)")

    if show_path is not None:
        from stage.errors import ShowFileError
        from stage.show.loader import load_show

        try:
            show = load_show(show_path)
        except ShowFileError as exc:
            for problem in exc.problems:
                console.print(str(problem), markup=False)
            return 1
        rigs = Table(title=f"rigs in {show_path}")
        for column in ("rig", "camera", "microphone"):
            rigs.add_column(column)
        for rig in show.rigs:
            cam = _camera_ok(rig.camera)
            mic = None
            if rig.microphone.lower() != "none":
                try:
                    resolve(rig.microphone)
                except MicrophoneError as exc:
                    mic = str(exc)
            problems += bool(cam) + bool(mic)
            rigs.add_row(rig.name, f"{rig.camera}: {cam or 'ok'}",
                         f"{rig.microphone}: {mic or ('ok' if rig.microphone.lower() != 'none' else 'none')}")
        console.print(rigs)
    return 1 if problems else 0


def store_report(console: Console, show_path: Path | None, data_dir: Path | None, database: str | None) -> int:
    """The night's store as ``stage serve`` would open it (the show's settings, the environment, the options)."""
    import os

    from stage.records.diagnosis import diagnose

    if show_path is not None:
        from stage.errors import ShowFileError
        from stage.settings import Settings
        from stage.show.loader import load_show

        try:
            settings = Settings.resolve(show_path, load_show(show_path), dict(os.environ),
                                        {"data_dir": data_dir, "database": database})
        except (ShowFileError, ValueError):
            return 1  # report() has printed the show's problems
        data_dir, database = settings.data_dir, settings.database
    facts = diagnose(data_dir or Path("data"), database)
    table = Table(title="store")
    for column in ("backend", "where", "reachable", "state"):
        table.add_column(column)
    table.add_row(facts.backend, facts.location, "yes" if facts.reachable else "no", facts.verdict())
    console.print(table)
    return 1 if facts.problem else 0
