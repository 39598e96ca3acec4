"""The HTTP server under gevent: gevent's WSGIServer with gevent-websocket's handler, made quiet.

Flask-SocketIO's ``run`` builds ``WSGIServer(handler_class=WebSocketHandler)`` with gevent's default
error log (stderr) and no way to pass another handler class, so ``stage serve`` builds the same server
itself, with two changes:

- gevent-websocket 0.10.1 answers a bad handshake (no ``Sec-WebSocket-Key``, an invalid key, HTTP/1.0,
  no or an unsupported version) with a ``str`` body, which gevent cannot write on Python 3: every such
  request printed a 25-line ``TypeError`` traceback on stderr (gevent/gevent#1664, #2009; gevent-websocket
  has had no release since 2017). The handler encodes those bodies, so the client gets its 400/426.
- whatever else fails inside a request is one line on this module's logger (throttled by the CLI like
  the Socket.IO loggers), not a traceback from gevent's hub; the client still gets its 500.
"""

from __future__ import annotations

import logging
from typing import Any

from geventwebsocket.handler import WebSocketHandler

log = logging.getLogger(__name__)


class StageWebSocketHandler(WebSocketHandler):
    def upgrade_websocket(self) -> Any:
        result = super().upgrade_websocket()
        if isinstance(result, list):  # a refused handshake: gevent-websocket's reason, as text
            return [part.encode("utf-8") if isinstance(part, str) else part for part in result]
        return result

    def handle_error(self, t: type, v: BaseException, tb: Any) -> None:
        # gevent's own handle_error hands the traceback to the hub, which prints it on stderr.
        # The path without its query: a display URL carries its key there (``/display/main?key=...``).
        path = (self.path or "").partition("?")[0]
        log.error("request %s %s from %s failed: %s: %s", self.command, path,
                  self.client_address[0] if self.client_address else "?", t.__name__, v)
        self._send_error_response_if_possible(500)


def serve(app: Any, socketio: Any, host: str, port: int) -> None:
    """What ``socketio.run(app)`` does under gevent, with Stage's handler and logger."""
    from gevent import pywsgi

    server = pywsgi.WSGIServer((host, port), app, handler_class=StageWebSocketHandler, log=None, error_log=log)
    socketio.wsgi_server = server  # ``socketio.stop()`` (SIGTERM) stops this server
    server.serve_forever()
