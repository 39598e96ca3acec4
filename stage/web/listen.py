"""Listening: the server's socket(s) in its async mode, from the settings (``stage serve`` calls ``serve``)."""

from __future__ import annotations

from typing import Any

from stage.settings import Settings


def serve(app: Any, socketio: Any, settings: Settings) -> None:
    """Serve until stopped: gevent with Stage's quiet handler (stage/web/gevent_server.py), or eventlet."""
    if settings.async_mode == "gevent":
        from stage.web import gevent_server

        gevent_server.serve(app, socketio, settings.bind, settings.port)
    else:
        socketio.run(app, host=settings.bind, port=settings.port, log_output=False, max_size=20_000)
