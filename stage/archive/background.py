"""The host console's "Download the night": ``stage export`` run in the background, one at a time.

The export is the CLI's own command in a child process (``python -m stage export --progress json``, run by
:mod:`stage.child_command`), so the zip is the very one ``stage export`` makes, and its file IO, vacuum and
deflate never hold the server's event loop or its GIL.

Archives go to ``<data>/exports/``; a finished archive replaces the ones made before it (each is a copy
of the night's media, and the data directory it came from still holds everything). No Flask here: the
web layer (stage/web/night_archive.py) starts runs and serves the zip; progress goes to ``report``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stage import child_command
from stage.settings import Settings

log = logging.getLogger(__name__)

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
        try:
            code, error = self._export(name)
            if code == 0 and (self.folder / name).is_file():
                self._state = self._finished(name)
                self._drop_older(name)
                log.info("export %s ready (%d bytes)", name, self._state["size"])
            else:
                self._failed(name, error or f"the export stopped (exit code {code})")
        except Exception as exc:  # this task must always end with a report the console can show
            log.exception("export %s failed", name)
            self._failed(name, str(exc) or type(exc).__name__)
        self._report(dict(self._state))

    def _export(self, name: str) -> tuple[int | None, str]:
        command = ["export", "--data", str(self.settings.data_dir), "--out", str(self.folder / name),
                   "--progress", "json"]
        if Path(self.settings.show_path).is_file():
            command += ["--show", str(self.settings.show_path)]

        def step(latest: dict[str, Any]) -> None:
            assert self._state is not None
            self._state.update(stage=latest["stage"], done=latest["done"], total=latest["total"])
            self._report(dict(self._state))

        return child_command.run(command, self.folder, name, step, self._sleep, self.settings.database)

    def _failed(self, name: str, message: str) -> None:
        log.error("export %s failed: %s", name, message)
        self._state = {**(self._state or {}), "state": "failed", "error": message, "ready_url": None}
        (self.folder / name).unlink(missing_ok=True)

    def _drop_older(self, keep: str) -> None:
        for path in self.folder.glob("*.zip"):
            if path.name != keep and NAME.match(path.name):
                path.unlink(missing_ok=True)

