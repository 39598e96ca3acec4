"""Stopping ``stage serve`` on SIGTERM or Ctrl-C, in either async mode, every time.

Flask-SocketIO's ``stop()`` is meant to be called from a request handler (its maintainer, in
Flask-SocketIO issues #546 and #199: OS signals are not what it was made for, wontfix). Called from a
signal handler it runs in whatever greenlet the signal interrupted; under eventlet it is
``raise SystemExit`` there, and greenlets with a bare ``except:`` swallow it (python-engineio
4.15.1's websocket writer, ``engineio/socket.py`` ``writer()``; its event-handler wrapper). The
server then kept serving, the caller killed it after its timeout, and the local capture agent, never
told, was orphaned (issue 15). Under load the process is more often inside such a greenlet, hence a
flaky test. So the handler only records the request, and one greenlet of ours, which catches
nothing, calls ``stop()``: under eventlet its SystemExit goes through the hub to the main greenlet's
``wsgi.server``, which stops accepting and closes the connections; under gevent it stops the WSGI server.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

log = logging.getLogger(__name__)
POLL_SECONDS = 0.1  # how soon a signal is acted on; a green event cannot be set from a signal handler


class StopOnSignal:
    def __init__(self, socketio: Any, signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> None:
        self._socketio = socketio
        self._signals = signals
        self.requested: int | None = None  # the first signal received

    def install(self) -> None:
        """Call before ``socketio.run``; the watcher greenlet starts running with the server."""
        for signum in self._signals:
            signal.signal(signum, self._on_signal)
        self._socketio.start_background_task(self._watch)

    def _on_signal(self, signum: int, frame: Any) -> None:
        # Nothing here may switch greenlets or raise: it runs inside whatever code was interrupted.
        if self.requested is None:
            self.requested = signum

    def _watch(self) -> None:
        while self.requested is None:
            self._socketio.sleep(POLL_SECONDS)
        log.info("stopping (signal %d)", self.requested)
        self._socketio.stop()
