"""A CLI command of Stage's own run as a child of the server, its JSON progress read back while it runs.

The host's "Download the night" (``stage export``) and the crew's book render (``stage book``) each run the
very command a person would type, in its own process: their file IO, typesetting and deflate never hold the
server's event loop or its GIL. The child writes one JSON line per step (``--progress json``) into a file; the
caller reads what is new every ``POLL_SECONDS`` and hears the latest step, so thousands of steps send a few
progress events a second, not one each. Reading a file and ``Popen.poll`` never block, which keeps this the
same under gevent, eventlet and a test that is not monkey-patched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stage.child_process import end_with_parent

POLL_SECONDS = 0.25
Step = Callable[[dict[str, Any]], None]


def run(command: list[str], folder: Path, label: str, on_step: Step, sleep: Callable[[float], None],
        database: str | None = None) -> tuple[int | None, str]:
    """Run ``python -m stage <command...>``; ``on_step`` hears each new progress line with a ``stage`` key.
    Returns the exit code and the last line the child wrote on stderr (its error, ``stage: `` taken off)."""
    progress_file, errors_file = folder / f".{label}.progress", folder / f".{label}.errors"
    env = {**os.environ}
    if database:  # in the environment, not the command line, where `ps` shows it
        env["STAGE_DATABASE_URL"] = database
    try:
        with open(progress_file, "wb") as out, open(errors_file, "wb") as err:
            # It ends with this server, however the server ends (PR_SET_PDEATHSIG): no child writing on after it.
            proc = subprocess.Popen([sys.executable, "-m", "stage", *command], stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, env=env, preexec_fn=end_with_parent)
        offset, sent = 0, None
        while True:
            finished = proc.poll() is not None  # before the read: every line of a finished child is in the file
            offset, latest = _read_new(progress_file, offset)
            if latest is not None and "stage" in latest and latest != sent:
                sent = latest
                on_step(latest)
            if finished:
                return proc.returncode, _last_line(errors_file)
            sleep(POLL_SECONDS)
    finally:
        progress_file.unlink(missing_ok=True)
        errors_file.unlink(missing_ok=True)


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
