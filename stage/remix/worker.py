"""``python -m stage.remix.worker PLAN.json LIBRARY``: render a plan in a process of its own.

The server's event loop never decodes or encodes a frame: it starts this worker, reads its
``progress <fraction>`` lines, and gets one JSON line at the end: ``{"ok": true, "media": ...,
"poster": ..., "duration": ...}`` or ``{"ok": false, "error": {"code", "message"}}``. The output is
written in a temporary folder inside the library and moved in only when complete, so a failed or
cancelled (SIGTERM) render leaves nothing half-written behind.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stage.errors import StageError
from stage.media.library import MediaLibrary
from stage.media.worker import answer, say
from stage.remix.plan import Plan

log = logging.getLogger(__name__)


class Cancelled(BaseException):
    """SIGTERM from the server: the crew pressed cancel."""


def render_into(plan: Plan, library: MediaLibrary, progress: Callable[[float], None]) -> dict[str, Any]:
    from stage.remix.render import render  # in the worker process only: the server never imports NumPy or PyAV for it

    tmp = Path(tempfile.mkdtemp(dir=library.root, prefix=".render-"))
    try:
        video, poster = tmp / "remix.mp4", tmp / "remix.png"
        made = render(plan, video, poster if plan.poster else None, progress)
        result = {"media": library.put_file(video, "mp4"), **made}
        result["poster"] = library.put_file(poster, "png") if plan.poster and poster.exists() else None
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Job:
    """The server's side of one render: a child process, its progress, its cancel."""

    def __init__(self, plan: Plan, library: Path, workdir: Path) -> None:
        fd, name = tempfile.mkstemp(dir=workdir, prefix=".plan-", suffix=".json")
        os.close(fd)  # one descriptor per render would leak from the server otherwise
        self.plan_file = Path(name)
        self.plan_file.write_text(plan.model_dump_json())
        self.library = library
        self.proc: subprocess.Popen | None = None
        self.cancelled = False

    def run(self, on_progress: Callable[[float], None]) -> dict[str, Any]:
        """Run to the end (under gevent the patched subprocess module waits cooperatively)."""
        result: dict[str, Any] = {"ok": False,
                                  "error": {"code": "render_failed", "message": "the render worker failed"}}
        try:
            if self.cancelled:  # cancelled before this task got to start the worker
                return {"ok": False, "error": {"code": "cancelled", "message": "the render was cancelled"}}
            self.proc = subprocess.Popen([sys.executable, "-m", "stage.remix.worker", str(self.plan_file),
                                          str(self.library)], stdout=subprocess.PIPE, text=True)
            if self.cancelled:  # Popen yields under gevent: a cancel may have come meanwhile
                self.proc.terminate()
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                if line.startswith("progress "):
                    on_progress(float(line.split()[1]))
                elif line.startswith("{"):
                    result = json.loads(line)
            self.proc.wait()
        finally:
            self.plan_file.unlink(missing_ok=True)
            if self.proc is not None and self.proc.poll() is None:  # a failed progress emit: never orphan it
                self.proc.terminate()
                self.proc.wait()
        if self.cancelled:
            return {"ok": False, "error": {"code": "cancelled", "message": "the render was cancelled"}}
        return result

    def cancel(self) -> None:
        self.cancelled = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stage.remix.worker")
    parser.add_argument("plan", type=Path)
    parser.add_argument("library", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    def stop(signum: int, frame: Any) -> None:
        raise Cancelled()

    signal.signal(signal.SIGTERM, stop)
    last = [-1.0]

    def progress(fraction: float) -> None:
        if fraction - last[0] >= 0.01 or fraction >= 1:
            last[0] = fraction
            say(f"progress {fraction:.3f}")

    def work() -> dict[str, Any]:
        try:
            return render_into(Plan.model_validate_json(args.plan.read_text()), MediaLibrary(args.library), progress)
        except Cancelled:
            raise StageError("the render was cancelled", code="cancelled") from None

    answer(work, lambda exc: {"code": "render_failed", "message": f"the render failed: {exc}"},
           f"render of {args.plan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
