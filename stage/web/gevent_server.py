"""The HTTP server under gevent: gevent's WSGIServer with gevent-websocket's handler, made quiet.

Flask-SocketIO's ``run`` builds ``WSGIServer(handler_class=WebSocketHandler)`` with gevent's default
error log (stderr) and no way to pass another handler class, so ``stage serve`` builds the same server
itself, with these changes:

- gevent-websocket 0.10.1 answers a bad handshake (no ``Sec-WebSocket-Key``, an invalid key, HTTP/1.0,
  no or an unsupported version) with a ``str`` body, which gevent cannot write on Python 3: every such
  request printed a 25-line ``TypeError`` traceback on stderr (gevent/gevent#1664, #2009; gevent-websocket
  has had no release since 2017). The handler encodes those bodies, so the client gets its 400/426.
- a failed TLS handshake (``--tls-cert``) is one line too, not the hub's traceback.
- whatever else fails inside a request is one line on this module's logger (throttled by the CLI like
  the Socket.IO loggers), not a traceback from gevent's hub; the client still gets its 500.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

from geventwebsocket.handler import WebSocketHandler

from stage.errors import StageError

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


HANDSHAKE_SECONDS = 10  # a client that opens a connection and never finishes its TLS handshake holds nothing longer


def _tls_server_class() -> type:
    from gevent import pywsgi

    class TLSServer(pywsgi.WSGIServer):
        """gevent's server hands a failed TLS handshake (a phone refusing the certificate, plain HTTP on the
        HTTPS port, a port scan) to the hub, which prints a 20-line traceback on stderr each time: one line here."""

        def wrap_socket_and_handle(self, client_socket: Any, address: Any) -> Any:
            client_socket.settimeout(HANDSHAKE_SECONDS)
            try:
                tls_socket = self.wrap_socket(client_socket, **self.ssl_args)
            except OSError as exc:  # ssl.SSLError and a timeout are OSErrors
                log.warning("TLS handshake from %s failed: %s", address[0] if address else "?",
                            getattr(exc, "reason", None) or exc)
                client_socket.close()
                return None
            tls_socket.settimeout(None)  # as gevent leaves a plain connection: pywsgi's handler reads without one
            try:
                return self.handle(tls_socket, address)
            finally:
                tls_socket.close()

    return TLSServer


def serve(app: Any, socketio: Any, host: str, port: int, ssl_context: ssl.SSLContext | None = None,
          redirect: tuple[int, Any] | None = None) -> None:
    """What ``socketio.run(app)`` does under gevent, with Stage's handler and logger; over TLS with
    ``ssl_context``, and with ``redirect`` (port, WSGI app) a second, plain server beside it, stopped with it."""
    from gevent import pywsgi

    tls = {"ssl_context": ssl_context} if ssl_context is not None else {}
    server_class = _tls_server_class() if ssl_context is not None else pywsgi.WSGIServer
    server = server_class((host, port), app, handler_class=StageWebSocketHandler, log=None, error_log=log,
                               **tls)
    plain = None
    if redirect is not None:
        plain = pywsgi.WSGIServer((host, redirect[0]), redirect[1], log=None, error_log=log)
        try:
            plain.start()  # its own accept greenlet; the main server below blocks this one
        except OSError as exc:
            raise StageError(f"cannot listen on {host}:{redirect[0]} (the HTTP redirect): {exc.strerror}") from exc
    socketio.wsgi_server = server  # ``socketio.stop()`` (SIGTERM) stops this server
    try:
        server.serve_forever()
    finally:
        if plain is not None:
            plain.stop(timeout=1)
