"""Where ``stage serve`` logs: the operator's terminal and the data directory's log file, at the chosen level."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from limits import parse as parse_limit

from stage.limiter import MovingWindowLimiter


def configure(logfile: Path, worker: str | None = None, level: str = "info") -> None:
    # Under --workers every process appends to one file: each line says which one wrote it.
    fmt = logging.Formatter(f"%(asctime)s {worker + ' ' if worker else ''}%(levelname)-7s %(name)s: %(message)s")
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(fmt)
    # Notes for the log file only (eventlet's deprecation notice), kept off the operator's terminal.
    stream.addFilter(lambda record: not getattr(record, "log_file_only", False))
    logfile.parent.mkdir(parents=True, exist_ok=True)
    file = logging.FileHandler(logfile, encoding="utf-8")
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
