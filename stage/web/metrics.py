"""``GET /metrics`` (Prometheus text format) for venue IT, and the open listener of ``--metrics-bind``.

On the main port the answer needs the host's or the crew's passphrase, as HTTP Basic auth (Prometheus'
``basic_auth``: username the role, password its passphrase) or a logged-in host or crew console cookie:
the metrics name the show's rigs, displays and OSC targets and show how busy the night is. Each Basic-auth
guess goes through the login's failure limit (:func:`stage.web.auth.check_guess`), so /metrics is no way
round the login lockout. ``--metrics-bind host:port`` serves the same registry without a login on that
address only: bind it to the venue's management network or to loopback, never to the audience Wi-Fi.

Under ``stage serve --workers`` each process has its own registry; through the proxy ``/metrics`` reaches
the conductor (docs/metrics.md).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, make_wsgi_app
from werkzeug.exceptions import HTTPException

from stage.errors import RateLimited, StageError
from stage.metrics import ACCEPTED, EXTENSION, UPLOAD_KINDS, Metrics
from stage.web.auth import check_guess, current_role
from stage.web.context import night

if TYPE_CHECKING:
    from flask import Flask
    from flask_socketio import SocketIO

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

ROLES = ("host", "crew")  # who may read the metrics on the main port
REALM = 'Basic realm="Stage metrics", charset="UTF-8"'
UPLOAD_ENDPOINT = "uploads.upload"


@bp.record_once
def _install(state: BlueprintSetupState) -> None:
    # One registry per app (tests build many apps in one process), made when the blueprint is registered:
    # ``stage.web.init_app`` has put the night in the extensions by then.
    state.app.extensions[EXTENSION] = Metrics(state.app.extensions["stage.night"])


def metrics_of(app: "Flask") -> Metrics:
    return app.extensions[EXTENSION]


@bp.get("/metrics")
def scrape() -> Response:
    if not _allowed():
        return Response("the metrics need the host or crew passphrase\n", 401, {"WWW-Authenticate": REALM},
                        mimetype="text/plain")
    return Response(generate_latest(metrics_of(current_app).registry), content_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


def _allowed() -> bool:
    if current_role() in ROLES:
        return True
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.username not in ROLES:
        return False
    try:
        right = check_guess(request.remote_addr or "?", auth.username, auth.password or "",
                            night().settings.passphrase(auth.username))
    except RateLimited:
        return False  # locked out: even the right passphrase waits, as on the login form
    if not right:
        log.warning("/metrics as %s from %s refused: wrong passphrase", auth.username, request.remote_addr)
    return right


@bp.after_app_request
def _count_upload(response: Response) -> Response:
    """Media submissions come over HTTP (stage/web/uploads.py): counted with the Socket.IO ones, by the
    answer the phone got (the error code, or accepted)."""
    if request.endpoint == UPLOAD_ENDPOINT and EXTENSION in current_app.extensions:
        try:
            kind = request.form.get("kind", "")
        except HTTPException:  # an oversized upload: its form is never read (werkzeug raises 413 again)
            kind = "unknown"
        body = response.get_json(silent=True) if response.is_json else None
        error = body.get("error") if isinstance(body, dict) else None
        outcome = ACCEPTED if response.status_code == 200 else (
            error.get("code") if isinstance(error, dict) and isinstance(error.get("code"), str) else "other")
        metrics_of(current_app).submission(kind if kind in UPLOAD_KINDS else "unknown", outcome[:40])
    return response


# -- the open listener (--metrics-bind) ------------------------------------------------------------------

def parse_bind(value: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) of the open listener, or a StageError saying what is wrong."""
    host, sep, port = value.strip().rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise StageError(f"metrics_bind {value!r} is not host:port (like 127.0.0.1:9100)", code="metrics_bind")
    return host, int(port)


def serve_open(app: "Flask", socketio: "SocketIO") -> Any:
    """With ``metrics_bind`` set, listen there now (a taken or wrong address ends ``stage serve`` with why)
    and serve /metrics without a login in a background task; returns the server, or None when unset."""
    settings = app.extensions["stage.night"].settings
    bind = settings.metrics_bind
    if not bind:
        return None
    if settings.worker:  # every worker would try the same port: scrape the proxy instead
        log.warning("metrics_bind %s is ignored under --workers: scrape /metrics through the proxy", bind)
        return None
    host, port = parse_bind(bind)
    wsgi = make_wsgi_app(metrics_of(app).registry)
    try:
        if settings.async_mode == "gevent":
            from gevent import pywsgi

            server = pywsgi.WSGIServer((host, port), wsgi, log=None, error_log=log)
            server.init_socket()  # binds now, so a bad address fails the start, not a background task
            socketio.start_background_task(server.serve_forever)
        else:
            import eventlet
            from eventlet import wsgi as eventlet_wsgi

            server = eventlet.listen((host, port))
            socketio.start_background_task(eventlet_wsgi.server, server, wsgi, log_output=False)
    except OSError as exc:
        raise StageError(f"cannot listen for metrics on {host}:{port}: {exc.strerror or exc}",
                         code="metrics_bind") from exc
    log.info("open /metrics on http://%s:%d/metrics", host, port)
    return server
