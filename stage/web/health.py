"""``GET /healthz``: what a crew (or a monitor) checks before doors open."""

from __future__ import annotations

import gc

import greenlet
from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from stage.web.auth import current_role
from stage.web.context import night

bp = Blueprint("health", __name__)
# Crew and host logins may see process internals; the public answer stays what a monitor needs.
INTERNALS_ROLES = frozenset({"crew", "host"})


@bp.get("/healthz")
def healthz() -> Response:
    health = night().health()
    if current_role() in INTERNALS_ROLES:
        health["greenlets"] = greenlet_count()
        health["sessions"], health["outbox"] = outbox()
    return jsonify(health)


@bp.get("/healthz/live")
def live() -> Response:
    """The proxy's check that this process serves (every process serves phones): no store read."""
    return jsonify({"status": "ok"})


@bp.get("/healthz/conductor")
def conductor() -> tuple[Response, int]:
    """The proxy's check for where consoles, displays and agents go: 200 only where the show runs."""
    conducting = night().conducting()
    return jsonify({"conductor": conducting}), 200 if conducting else 503


def greenlet_count() -> int:
    """Live greenlets in this process (gevent and eventlet both run on greenlet; finished ones still
    in memory until collected are not counted): a soak's leak detector. Walks every GC-tracked object,
    a few tens of ms on a big heap: fine once a minute, never on the public, unauthenticated answer."""
    return sum(1 for obj in gc.get_objects() if isinstance(obj, greenlet.greenlet) and not obj.dead)


def outbox() -> tuple[int, int]:
    """Engine.IO sessions in this process, and the packets queued in them not yet written to their
    clients: a client that reads slower than the server emits to it shows here as a growing outbox."""
    sockets = list(current_app.extensions["socketio"].server.eio.sockets.values())
    return len(sockets), sum(socket.queue.qsize() for socket in sockets)
