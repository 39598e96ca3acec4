"""Stopping ``stage serve`` on SIGTERM or Ctrl-C, in either async mode, every time, without a traceback.

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

Ctrl-C (issue 18): the handlers go in as ``serve`` starts (:meth:`StopOnSignal.catch`), before the night
loads, so a Ctrl-C while the store opens is a stop once it has, not a ``KeyboardInterrupt`` traceback out of
a migration. Pressing it again while Stage stops (agents finishing their takes, the store closing) says
so and changes nothing: a second Ctrl-C that killed the process then would lose the take being saved.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

log = logging.getLogger(__name__)
POLL_SECONDS = 0.1  # how soon a signal is acted on; a green event cannot be set from a signal handler
NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class StopOnSignal:
    def __init__(self, socketio: Any = None, signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> None:
        self._socketio = socketio
        self._signals = signals
        self._caught = False
        self._stopping = False  # the watcher has begun the stop
        self._answered = 0  # presses the watcher or the answer to a repeated press has accounted for
        self.requested: int | None = None  # the first signal received
        self.presses = 0  # every signal received, the first included

    def catch(self) -> None:
        """Record SIGTERM and Ctrl-C from now on instead of dying of them (call as early as serve starts)."""
        for signum in self._signals:
            signal.signal(signum, self._on_signal)
        self._caught = True

    def install(self, socketio: Any = None) -> None:
        """Call before ``socketio.run``; the watcher greenlet starts running with the server."""
        self._socketio = socketio or self._socketio
        if not self._caught:
            self.catch()
        self._socketio.start_background_task(self._watch)
        # Started now, not when the stop begins: under eventlet stop() raises SystemExit through the hub, and a
        # task spawned just before it never ran.
        self._socketio.start_background_task(self._answer_repeats)

    def finished(self) -> None:
        """Ignore these signals from now on (call when the stop is complete, just before the process exits).

        Python gives its handlers back to the system's defaults as the interpreter exits; a Ctrl-C pressed then,
        after the last line was written, killed the process by SIGINT (exit status 130, the second press of an
        impatient operator). An ignored signal stays ignored to the end."""
        for signum in self._signals:
            signal.signal(signum, signal.SIG_IGN)

    def _on_signal(self, signum: int, frame: Any) -> None:
        # Nothing here may switch greenlets, raise or write (a write into a stream this interrupted raises
        # "reentrant call"): it runs inside whatever code was interrupted.
        self.presses += 1
        if self.requested is None:
            self.requested = signum

    def _watch(self) -> None:
        # At least one poll first, and under gevent until the WSGI server exists: a Ctrl-C that came while
        # the night loaded is acted on once the server is up, never by stopping a server not yet there.
        self._socketio.sleep(POLL_SECONDS)
        while self.requested is None or not self._serving():
            self._socketio.sleep(POLL_SECONDS)
        log.info("%s: stopping Stage (a take being recorded is saved first)",
                 NAMES.get(self.requested, f"signal {self.requested}"))
        self._answered = self.presses  # presses from now on are "again"
        self._stopping = True
        self._socketio.stop()

    def _serving(self) -> bool:
        return getattr(self._socketio, "async_mode", None) != "gevent" or \
            getattr(self._socketio, "wsgi_server", None) is not None

    def _answer_repeats(self) -> None:
        """A Ctrl-C pressed again while Stage stops: one line each, so the operator sees it was heard."""
        while not self._stopping:
            self._socketio.sleep(POLL_SECONDS)
        while True:
            if self.presses > self._answered:
                self._answered = self.presses
                log.info("still stopping: Stage saves what is being recorded and closes the store, then exits")
            self._socketio.sleep(POLL_SECONDS)
