"""The host's rehearsal routes: a token that lets simulated phones past the per-address join cap,
and the cleanup that removes everything simulated phones made (``stage rehearse --cleanup``).

Both need a host login (the session cookie from ``POST /login/host``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from stage.records import rehearsal
from stage.web.auth import host_only
from stage.web.context import night

log = logging.getLogger(__name__)
bp = Blueprint("rehearsal", __name__, url_prefix="/api/rehearsal")


def token(secret_key: bytes) -> str:
    """Derived from the server's secret: stable across restarts, useless on another Stage."""
    return hmac.new(secret_key, b"stage-rehearsal", hashlib.sha256).hexdigest()[:32]


def token_ok(secret_key: bytes, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(token(secret_key).encode(), str(given).encode())


@bp.post("/start")
@host_only("rehearsal")
def start() -> Response | tuple[Response, int]:
    n = night()
    log.info("rehearsal started by the host from %s", request.remote_addr)
    return jsonify({"ok": True, "token": token(n.settings.secret_key), "left": rehearsal.simulated_counts(n.store)})


@bp.get("/status")
@host_only("rehearsal")
def status() -> Response | tuple[Response, int]:
    return jsonify({"ok": True, "left": rehearsal.simulated_counts(night().store)})


@bp.post("/cleanup")
@host_only("rehearsal")
def cleanup() -> Response | tuple[Response, int]:
    n = night()
    result = rehearsal.cleanup(n.store, f"host:{request.remote_addr}")
    # Walls rebuild from the store: re-send every display's scene so no removed record stays up.
    n.reports.scenes_changed()
    return jsonify({"ok": True, "removed": result["removed"], "left": rehearsal.simulated_counts(n.store)})
