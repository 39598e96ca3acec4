"""Where ``stage serve`` logs: the operator's terminal and the data directory's log file, at the chosen level.

The file rotates: at ``ROTATE_BYTES`` it becomes ``stage.log.1`` (and so on up to ``KEEP``), so a long run or a
noisy night never fills the disk; 20 MB holds a busy night's lines many times over. Python's rotation is
safe for one writer only, so under ``--workers`` each process keeps its own file: the supervisor
``stage.log``, worker w1 ``stage-w1.log`` (each line also says which process wrote it). A worker's stderr
goes to the supervisor's ``workers/w1.out``, which then gets only warnings and worse (and crashes).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from limits import parse as parse_limit

from stage.limiter import MovingWindowLimiter


ROTATE_BYTES = 20 * 1024 * 1024
KEEP = 5  # rotated files kept besides the current one


def log_path(data_dir: Path, worker: str | None = None) -> Path:
    return data_dir / (f"stage-{worker}.log" if worker else "stage.log")


def configure(data_dir: Path, worker: str | None = None, level: str = "info") -> None:
    fmt = logging.Formatter(f"%(asctime)s {worker + ' ' if worker else ''}%(levelname)-7s %(name)s: %(message)s")
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(fmt)
    if worker:  # its stderr is the supervisor's unrotated w1.out: only what an operator must see twice
        stream.setLevel(logging.WARNING)
    # Notes for the log file only (eventlet's deprecation notice), kept off the operator's terminal.
    stream.addFilter(lambda record: not getattr(record, "log_file_only", False))
    logfile = log_path(data_dir, worker)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    # STAGE_LOG_ROTATE_BYTES: a smaller size for a small disk (and for the rotation's own test).
    size = int(os.environ.get("STAGE_LOG_ROTATE_BYTES") or ROTATE_BYTES)
    file = logging.handlers.RotatingFileHandler(logfile, maxBytes=size, backupCount=KEEP, encoding="utf-8")
    file.setFormatter(fmt)
    root = logging.getLogger()
    root.handlers[:] = [stream, file]
    root.setLevel(level.upper())
    logging.captureWarnings(True)
    # gevent-websocket's handler logs every HTTP request at INFO (display keys in URLs included) and
    # ignores the server's log=None: keep it to warnings; Stage logs what an operator needs itself.
    logging.getLogger("geventwebsocket.handler").setLevel(logging.WARNING)
    # A phone can make the Socket.IO libraries (or gevent, per bad request) log a line per bad packet: cap them.
    for name in ("engineio.server", "socketio.server", "stage.web.gevent_server", "geventwebsocket.handler"):
        logging.getLogger(name).addFilter(Throttle(per_minute=20))


class Throttle(logging.Filter):
    """Let at most ``per_minute`` records a minute through, then one line saying how many were dropped."""

    def __init__(self, per_minute: int) -> None:
        super().__init__()
        self._limit = parse_limit(f"{per_minute} per minute")
        self._limiter = MovingWindowLimiter()
        self._dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if self._limiter.hit(self._limit, record.name):
            if self._dropped:
                record.msg = f"[{self._dropped} similar lines dropped] {record.msg}"
                self._dropped = 0
            return True
        self._dropped += 1
        return False
