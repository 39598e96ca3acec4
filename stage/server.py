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
import socketio as socketio_managers

from stage import realtime, resources, web
from stage.cluster import Cluster, process_name
from stage.network import base_url
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
from stage.web import metrics as metrics_listener, proxied
from stage.show.clock import TaskClock
from stage.show.loader import load_show
from stage.show.models import Show

log = logging.getLogger(__name__)


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


def client_manager(settings: Settings) -> socketio_managers.Manager:
    """Who keeps the rooms: this process alone, or, with ``--redis``, this process sharing every emit with the
    night's other processes (realtime/queue.py). Either way a disconnect costs O(its rooms), not O(phones)
    (realtime/manager.py)."""
    if not settings.redis:
        return IndexedManager()
    from stage.cluster import night_channel
    from stage.realtime.queue import StageRedisManager

    return StageRedisManager(settings.redis, night_channel(settings.database or ""))


def create_app(settings: Settings, show: Show | None = None) -> tuple[Flask, SocketIO]:
    show = show or load_show(settings.show_path)
    if not settings.secret_key:
        settings = settings.with_credentials()
    web_root = resources.web_root()
    app = Flask(__name__, template_folder=str(web_root / "templates"), static_folder=str(web_root / "static"))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Over HTTPS a console's cookie never goes to the plain redirect port (or anywhere else in clear).
        SESSION_COOKIE_SECURE=bool(settings.tls_cert) or (settings.public_url or "").startswith("https://"),
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
        client_manager=client_manager(settings),
    )
    transport.install(app, socketio, settings.async_mode)  # per-connection caps and budgets (realtime/transport.py)
    # Outermost: Engine.IO keeps the environ with each phone's own address for every event of its socket.
    app.wsgi_app = proxied.wrap(app.wsgi_app, settings.trusted_proxy, settings.behind_proxy)  # type: ignore
    join_url = base_url(settings) + "/"
    store = open_store(settings.database, settings.data_dir, native=native_runner(settings.async_mode),
                       lease=bool(settings.redis))
    presence = Presence()  # this process's sockets: the namespaces fill it, the night reads its counts
    cluster = None
    if settings.redis:  # several processes on this night: the phone count is the house's, one of them conducts
        name = process_name(settings.port, settings.worker)
        cluster = Cluster(settings.redis, settings.database or "", name, store.lease, presence,
                          socketio.start_background_task, socketio.sleep)
    hub = Broadcaster(socketio, presence)
    clock = TaskClock(socketio.start_background_task, socketio.sleep)
    osc = OscSender(show.osc_targets, spawn=socketio.start_background_task, sleep=socketio.sleep,
                    dry_run=settings.osc_dry_run,
                    on_sent=lambda target, message: audit_log.osc_sent(store, target.name, str(message)),
                    on_status=lambda target, status: hub.osc_status(osc.status()))
    manager = socketio.server.manager
    night = Night(settings, show, store, hub, clock, osc, cluster.headcount if cluster else presence, join_url,
                  message_queue=(lambda: manager.state) if cluster else None,
                  conducting=(lambda: cluster.conducting) if cluster else (lambda: True),
                  limits=cluster.phone_limits() if cluster else None)
    remote = None
    if settings.osc_port:
        bind = osc_in_bind(show.osc_in.bind, settings.bind)  # unset in the show: the server's own bind
        control = RemoteControl(night.engine, night.displays, night.cues.chosen_for)
        remote = OscRemote(settings.osc_port, bind, show.osc_in.allow, control,
                           spawn=socketio.start_background_task, on_feedback=hub.osc_feedback, rate=show.osc_in.rate)
    dmx = None
    if night.lights is not None:  # the show has a dmx: section; it sends only where the show runs (a duty)
        dmx = dmx_out(settings, show, night, socketio)
        night.lights.output = dmx
    web.init_app(app, night, join_url)
    app.extensions["stage.watchers"] = realtime.init_app(socketio, night, hub)
    app.extensions["stage.socketio"] = socketio
    app.extensions["stage.store"] = store
    app.extensions["stage.osc"] = (osc, remote)
    app.extensions["stage.cluster"] = cluster
    app.extensions["stage.dmx"] = dmx
    log.info("show %r loaded: %d cues, %d displays; data in %s", show.title, len(show.flat_cues()),
             len(show.displays), settings.data_dir)
    return app, socketio


def dmx_out(settings: Settings, show: Show, night: Night, socketio: SocketIO) -> Any:
    """DMX out for a show with lights: in a process of its own (a steady 40 Hz under a full room: bench/dmx_jitter.py),
    or in the server (STAGE_DMX_OUTPUT=inline, the benchmark's comparison). A show without lights loads neither."""
    assert show.dmx is not None and night.lights is not None
    lights = night.lights
    common = dict(source=lights, cid=lights.cid(), default_source_name=f"Stage: {show.title}",
                  spawn=socketio.start_background_task, sleep=socketio.sleep, dry_run=settings.dmx_dry_run,
                  on_status=lambda _: lights.report())
    if settings.dmx_output == "inline":
        from stage.dmx.output import DmxOutput

        return DmxOutput(show.dmx.nodes, rate=show.dmx.rate, **common)
    from stage.dmx.process import DmxProcess

    return DmxProcess(show.dmx, settings.show_path.parent, **common)


def start_serving(app: Flask, duties: tuple[Callable[[], None], ...] = ()) -> None:
    """What runs while the server serves, each a background task of the server's async mode: in every
    process the message queue and the console-session watcher; where the show runs, the OSC-in port (raises
    RemoteError when it cannot listen at start), the display watcher and the caller's ``duties`` (the local
    rigs). With ``--redis`` those start when this process holds the lease, now or at a takeover."""
    socketio: SocketIO = app.extensions["stage.socketio"]
    night: Night = app.extensions["stage.night"]
    _, remote = app.extensions["stage.osc"]
    watchers: realtime.Watchers = app.extensions["stage.watchers"]
    # --metrics-bind: an open /metrics on its own address; first, as it raises StageError when it cannot listen.
    app.extensions["stage.metrics_server"] = metrics_listener.serve_open(app, socketio)
    manager = socketio.server.manager
    if hasattr(manager, "start"):
        manager.start()  # the message queue: subscribed before the first phone (realtime/queue.py)
    for watcher in watchers.serving:
        socketio.start_background_task(watcher)

    def osc_in(first: bool) -> None:
        if remote is None:
            return
        if first:
            remote.start()  # at start a port it cannot have ends `stage serve`, with why
        else:  # a takeover: the process that held the port may still be letting it go
            socketio.start_background_task(_keep_trying, remote.start, socketio.sleep)

    def display_watchers(first: bool) -> None:
        for watcher in watchers.conducting:
            socketio.start_background_task(watcher)

    def lights_out(first: bool) -> None:
        dmx = app.extensions["stage.dmx"]
        if dmx is not None:
            if not first:  # a takeover: hold the levels the last conductor stored
                night.lights.reload()
            dmx.start()

    conducting = [osc_in, display_watchers, lights_out, *(lambda first, duty=duty: duty() for duty in duties)]
    cluster: Cluster | None = app.extensions["stage.cluster"]
    if cluster is None:
        for duty in conducting:
            duty(True)
    else:
        cluster.start(night.engine.reload, conducting, tick=night.reports.tick)


def _keep_trying(start: Callable[[], None], sleep: Callable[[float], None], tries: int = 30) -> None:
    for attempt in range(tries):
        try:
            start()
            return
        except Exception as exc:
            if attempt == 0:
                log.warning("OSC in could not start yet (%s); trying again every second", exc)
            sleep(1)
    log.error("OSC in did not start after %d tries: remotes cannot reach this show", tries)
