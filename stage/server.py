"""The composition root: ``create_app(settings) -> (app, socketio)``, then ``start_serving(app)``.
No handlers live here.

``create_app`` opens the store and builds everything, but starts no socket, thread or greenlet: an
app built in a test (``tests/conftest.py``'s ``app`` fixture) is served by Flask's and Flask-SocketIO's
test clients and needs none. What runs for as long as the server serves (the OSC-in port, the display
and console-session watchers) starts in ``start_serving``, which ``stage serve`` calls before it listens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_compress import Compress
from flask_socketio import SocketIO

from stage import realtime, web
from stage.network import public_url
from stage.lighting.remote import OscRemote, osc_in_bind
from stage.lighting.remote_control import RemoteControl
from stage.lighting.sender import OscSender
from stage.night import Night
from stage.realtime import transport
from stage.realtime.broadcast import Broadcaster
from stage.realtime.manager import IndexedManager
from stage.realtime.presence import Presence
from stage.records import audit_log
from stage.records.store import open_store
from stage.settings import Settings
from stage.show.clock import TaskClock
from stage.show.loader import load_show
from stage.show.models import Show

log = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parent.parent / "audience_web"


def native_runner(async_mode: str) -> Callable[[Callable[[], Any]], Any]:
    """Runs a blocking call (the store's fsync) on a real OS thread, so the event loop serves phones
    meanwhile; the calling greenlet waits for the answer. In a process that is not monkey-patched
    (tests that build an app without serving it) the call simply runs where it is."""
    if async_mode == "gevent":
        from gevent import get_hub, monkey

        if monkey.is_module_patched("threading"):
            return lambda fn: get_hub().threadpool.apply(fn)
    elif async_mode == "eventlet":
        from eventlet import patcher, tpool

        if patcher.is_monkey_patched("thread"):
            return tpool.execute
    return lambda fn: fn()


def create_app(settings: Settings, show: Show | None = None) -> tuple[Flask, SocketIO]:
    show = show or load_show(settings.show_path)
    if not settings.secret_key:
        settings = settings.with_credentials()
    app = Flask(__name__, template_folder=str(WEB / "templates"), static_folder=str(WEB / "static"))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=24),
    )
    app.config.update(COMPRESS_MIMETYPES=["text/html", "text/css", "text/javascript", "application/javascript",
                                          "application/json", "image/svg+xml"], COMPRESS_MIN_SIZE=512)
    Compress(app)  # phones on venue Wi-Fi: the first load is measured compressed (docs/benchmarks.md)
    socketio = SocketIO(
        app,
        async_mode=settings.async_mode,
        ping_interval=10,
        ping_timeout=20,
        logger=False,
        engineio_logger=False,
        client_manager=IndexedManager(),  # a disconnect costs O(its rooms), not O(phones): realtime/manager.py
    )
    transport.install(app, socketio, settings.async_mode)  # per-connection caps and budgets (realtime/transport.py)
    join_url = public_url(settings.public_url, settings.bind, settings.port) + "/"
    store = open_store(settings.database, settings.data_dir, native=native_runner(settings.async_mode))
    presence = Presence()  # this process's sockets: the namespaces fill it, the night reads its counts
    hub = Broadcaster(socketio, presence)
    clock = TaskClock(socketio.start_background_task, socketio.sleep)
    osc = OscSender(show.osc_targets, spawn=socketio.start_background_task, sleep=socketio.sleep,
                    dry_run=settings.osc_dry_run,
                    on_sent=lambda target, message: audit_log.osc_sent(store, target.name, str(message)),
                    on_status=lambda target, status: hub.osc_status(osc.status()))
    night = Night(settings, show, store, hub, clock, osc, presence, join_url)
    remote = None
    if settings.osc_port:
        bind = osc_in_bind(show.osc_in.bind, settings.bind)  # unset in the show: the server's own bind
        control = RemoteControl(night.engine, night.displays, night.cues.chosen_for)
        remote = OscRemote(settings.osc_port, bind, show.osc_in.allow, control,
                           spawn=socketio.start_background_task, on_feedback=hub.osc_feedback, rate=show.osc_in.rate)
    web.init_app(app, night, join_url)
    app.extensions["stage.watchers"] = realtime.init_app(socketio, night, hub)
    app.extensions["stage.socketio"] = socketio
    app.extensions["stage.store"] = store
    app.extensions["stage.osc"] = (osc, remote)
    log.info("show %r loaded: %d cues, %d displays; data in %s", show.title, len(show.flat_cues()),
             len(show.displays), settings.data_dir)
    return app, socketio


def start_serving(app: Flask) -> None:
    """What runs while the server serves: the OSC-in port (raises RemoteError when it cannot listen)
    and the realtime watchers, each a background task of the server's async mode."""
    _, remote = app.extensions["stage.osc"]
    if remote is not None:
        remote.start()
    socketio: SocketIO = app.extensions["stage.socketio"]
    for watcher in app.extensions["stage.watchers"]:
        socketio.start_background_task(watcher)
