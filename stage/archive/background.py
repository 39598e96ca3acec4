"""The host console's "Download the night": ``stage export`` run in the background, one at a time.

The export is the CLI's own command in a child process (``python -m stage export --progress json``), so
the zip is the very one ``stage export`` makes, and its file IO, vacuum and deflate never hold the server's
event loop or its GIL. The child writes one JSON line per step into a progress file; a background task
reads what is new every ``POLL_SECONDS`` and reports the latest step, so a night of thousands of media
files sends a few progress events a second, not one per file. Reading a file and ``Popen.poll`` never
block, which keeps this the same under gevent, eventlet and a test that is not monkey-patched.

Archives go to ``<data>/exports/``; a finished archive replaces the ones made before it (each is a copy
of the night's media, and the data directory it came from still holds everything). No Flask here: the
web layer (stage/web/night_archive.py) starts runs and serves the zip; progress goes to ``report``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stage.child_process import end_with_parent
from stage.settings import Settings

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.zip$")  # what the download route serves, nothing else
Report = Callable[[dict[str, Any]], None]


class BackgroundExport:
    """At most one export at a time for this process; a second start while one runs joins it."""

    def __init__(self, settings: Settings, spawn: Callable[..., Any], sleep: Callable[[float], None],
                 report: Report, ready_url: Callable[[str], str]) -> None:
        self.settings = settings
        self.folder = Path(settings.data_dir) / "exports"
        self._spawn, self._sleep, self._report, self._ready_url = spawn, sleep, report, ready_url
        self._state: dict[str, Any] | None = None  # the running or last run of this process

    def start(self) -> tuple[dict[str, Any], bool]:
        """Start an export, or join the one running; (its progress, whether this call started it)."""
        if self._state is not None and self._state["state"] == "running":
            return dict(self._state), False
        self.folder.mkdir(parents=True, exist_ok=True)
        name = self._free_name()
        self._state = {"state": "running", "file": name, "stage": "starting", "done": 0, "total": 1,
                       "ready_url": None, "size": None, "error": None, "started_at": time.time()}
        self._spawn(self._run, name)  # nothing of the run happens before this returns: the caller answers first
        log.info("export %s started from the host console", name)
        self._report(dict(self._state))  # every host console shows it running, not only the one that asked
        return dict(self._state), True

    def progress(self) -> dict[str, Any]:
        """This process's run; when it has none (a restart), the newest archive already in the folder."""
        if self._state is not None:
            return dict(self._state)
        newest = self.newest()
        if newest is None:
            return {"state": "idle", "file": None, "stage": None, "done": 0, "total": 0, "ready_url": None,
                    "size": None, "error": None}
        return self._finished(newest.name)

    def newest(self) -> Path | None:
        made = [p for p in self.folder.glob("*.zip") if NAME.match(p.name)] if self.folder.is_dir() else []
        return max(made, key=lambda p: p.stat().st_mtime, default=None)

    def path_of(self, name: str) -> Path | None:
        """The finished archive called ``name``, if there is one (never a path outside the folder)."""
        if not NAME.match(name):
            return None
        path = self.folder / name
        return path if path.is_file() else None

    def _free_name(self) -> str:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(self.settings.show_path).stem).strip("-.") or "night"
        base = f"{stem}-{time.strftime('%Y-%m-%d-%H%M')}"
        name, n = f"{base}.zip", 2
        while (self.folder / name).exists():  # two exports in one minute
            name, n = f"{base}-{n}.zip", n + 1
        return name

    def _finished(self, name: str) -> dict[str, Any]:
        size = (self.folder / name).stat().st_size
        return {"state": "ready", "file": name, "stage": "done", "done": 1, "total": 1,
                "ready_url": self._ready_url(name), "size": size, "error": None}

    def _run(self, name: str) -> None:
        progress_file = self.folder / f".{name}.progress"
        errors_file = self.folder / f".{name}.errors"
        try:
            code = self._export(name, progress_file, errors_file)
            if code == 0 and (self.folder / name).is_file():
                self._state = self._finished(name)
                self._drop_older(name)
                log.info("export %s ready (%d bytes)", name, self._state["size"])
            else:
                self._failed(name, _last_line(errors_file) or f"the export stopped (exit code {code})")
        except Exception as exc:  # this task must always end with a report the console can show
            log.exception("export %s failed", name)
            self._failed(name, str(exc) or type(exc).__name__)
        finally:
            progress_file.unlink(missing_ok=True)
            errors_file.unlink(missing_ok=True)
        self._report(dict(self._state))

    def _export(self, name: str, progress_file: Path, errors_file: Path) -> int | None:
        args = [sys.executable, "-m", "stage", "export", "--data", str(self.settings.data_dir),
                "--out", str(self.folder / name), "--progress", "json"]
        if Path(self.settings.show_path).is_file():
            args += ["--show", str(self.settings.show_path)]
        env = {**os.environ}
        if self.settings.database:  # in the environment, not the command line, where `ps` shows it
            env["STAGE_DATABASE_URL"] = self.settings.database
        with open(progress_file, "wb") as out, open(errors_file, "wb") as err:
            # It ends with this server, however the server ends (PR_SET_PDEATHSIG): no export writing on after it.
            proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                    preexec_fn=end_with_parent)
        offset, sent = 0, None
        while True:
            finished = proc.poll() is not None  # before the read: every line of a finished child is in the file
            offset, latest = _read_new(progress_file, offset)
            if latest is not None and "stage" in latest and latest != sent:
                sent = latest
                assert self._state is not None
                self._state.update(stage=latest["stage"], done=latest["done"], total=latest["total"])
                self._report(dict(self._state))
            if finished:
                return proc.returncode
            self._sleep(POLL_SECONDS)

    def _failed(self, name: str, message: str) -> None:
        log.error("export %s failed: %s", name, message)
        self._state = {**(self._state or {}), "state": "failed", "error": message, "ready_url": None}
        (self.folder / name).unlink(missing_ok=True)

    def _drop_older(self, keep: str) -> None:
        for path in self.folder.glob("*.zip"):
            if path.name != keep and NAME.match(path.name):
                path.unlink(missing_ok=True)


def _read_new(path: Path, offset: int) -> tuple[int, dict[str, Any] | None]:
    """What the child appended since ``offset``: the new offset (after the last whole line) and its last line."""
    try:
        with open(path, "rb") as source:
            source.seek(offset)
            chunk = source.read()
    except FileNotFoundError:
        return offset, None
    end = chunk.rfind(b"\n")
    if end < 0:
        return offset, None
    latest = None
    for line in reversed(chunk[:end].splitlines()):
        try:
            latest = json.loads(line)
            break
        except ValueError:  # not one of ours (a library's warning): look further back
            continue
    return offset + end + 1, latest


def _last_line(path: Path) -> str:
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except FileNotFoundError:
        return ""
    return lines[-1].removeprefix("stage: ") if lines else ""
