"""The crew console's "Render the book": ``stage book`` run in the background, one render at a time.

The render is the CLI's own command in a child process (:mod:`stage.child_command`), so the console's PDF
is the very one ``stage book`` makes, and WeasyPrint's typesetting never holds the server's event loop.
Renders go to ``<data>/book/``: ``book.pdf``, ``book.html`` (the edition to share) and ``book-share.csv``;
each replaces the last. Progress goes to every crew console as ``book_progress``, the end as ``book_done``
or ``book_failed``. No Flask: ``stage.realtime.book`` starts renders, ``stage.web.pages`` serves them to the crew.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stage import child_command
from stage.errors import NotFound

log = logging.getLogger(__name__)

FILES = {"pdf": "book.pdf", "html": "book.html", "share": "book-share.csv"}
RECORDS = "book-records.json"  # what the last render printed or credited: stage book --records
Emit = Callable[[str, dict[str, Any]], None]
_BY_NIGHT: dict[Any, "BookJobs"] = {}


def for_night(night: Any, spawn: Callable[..., Any] | None = None, emit: Emit | None = None,
              sleep: Callable[[float], None] = time.sleep) -> "BookJobs":
    """The one render board of a night (the crew namespace makes it)."""
    if night not in _BY_NIGHT:
        if spawn is None or emit is None:
            raise NotFound("no book render yet")
        _BY_NIGHT[night] = BookJobs(night.settings, spawn, emit, sleep)
    return _BY_NIGHT[night]


def folder_of(data_dir: Path) -> Path:
    return Path(data_dir) / "book"


def still_showable(folder: Path, lineage: Any) -> bool:
    """Whether everything the last render printed or credited may still be shown. A render is a copy: once a
    record in it is withdrawn, rejected or hidden, its files are not served or archived until the book is
    rendered again. A render without its list (made by hand, or lost) counts as not showable."""
    try:
        printed = json.loads((Path(folder) / RECORDS).read_text())["records"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return all(lineage.visible(record) for record in printed)


class BookJobs:
    def __init__(self, settings: Any, spawn: Callable[..., Any], emit: Emit, sleep: Callable[[float], None]) -> None:
        self.settings = settings
        self.folder = folder_of(settings.data_dir)
        self._spawn, self._emit, self._sleep = spawn, emit, sleep
        self._state: dict[str, Any] | None = None

    def start(self, actor: str) -> dict[str, Any]:
        """Start a render, or answer with the one running (a second press joins it)."""
        if self._state is not None and self._state["state"] == "running":
            return dict(self._state)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._state = {"state": "running", "stage": "starting", "done": 0, "total": 1, "pages": None,
                       "left_out": [], "error": None, "started_at": time.time(), "by": actor}
        self._spawn(self._run)
        log.info("book render started by %s", actor)
        self._emit("book_progress", dict(self._state))
        return dict(self._state)

    def last(self) -> dict[str, Any]:
        """This process's render, or the files a render left in the folder (after a restart), or idle."""
        if self._state is not None:
            return dict(self._state)
        if (self.folder / FILES["pdf"]).is_file():
            return {"state": "ready", "stage": "done", "done": 1, "total": 1, "pages": None, "left_out": [],
                    "error": None, "finished_at": (self.folder / FILES["pdf"]).stat().st_mtime}
        return {"state": "idle", "stage": None, "done": 0, "total": 0, "pages": None, "left_out": [], "error": None}

    def _run(self) -> None:
        state = self._state
        assert state is not None
        command = ["book", "--data", str(self.settings.data_dir), "--out", str(self.folder / FILES["pdf"]),
                   "--force", "--records", str(self.folder / RECORDS), "--progress", "json"]

        def step(latest: dict[str, Any]) -> None:
            state.update(stage=latest["stage"], done=latest["done"], total=latest["total"])
            if latest["stage"] == "done":
                state.update(pages=latest.get("pages"), left_out=latest.get("left_out", []))
            else:
                self._emit("book_progress", dict(state))

        try:
            code, error = child_command.run(command, self.folder, "render", step, self._sleep, self.settings.database)
        except Exception as exc:  # the console must always hear how it ended
            log.exception("book render failed")
            code, error = None, str(exc) or type(exc).__name__
        if code == 0 and (self.folder / FILES["pdf"]).is_file():
            state.update(state="ready", stage="done", finished_at=time.time())
            log.info("book rendered: %s pages, %d left out", state["pages"], len(state["left_out"]))
            self._emit("book_done", dict(state))
        else:
            state.update(state="failed", error=error or f"the render stopped (exit code {code})")
            log.error("book render failed: %s", state["error"])
            self._emit("book_failed", dict(state))
