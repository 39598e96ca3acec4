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
from stage.web.auth import current_role
from stage.web.context import night

log = logging.getLogger(__name__)
bp = Blueprint("rehearsal", __name__, url_prefix="/api/rehearsal")


def token(secret_key: bytes) -> str:
    """Derived from the server's secret: stable across restarts, useless on another Stage."""
    return hmac.new(secret_key, b"stage-rehearsal", hashlib.sha256).hexdigest()[:32]


def token_ok(secret_key: bytes, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(token(secret_key).encode(), str(given).encode())


def _refused() -> tuple[Response, int]:
    log.warning("rehearsal call %s from %s refused: no host login", request.path, request.remote_addr)
    return jsonify({"ok": False, "error": {"code": "forbidden", "message": "log in as host first"}}), 403


@bp.post("/start")
def start() -> Response | tuple[Response, int]:
    if current_role() != "host":
        return _refused()
    n = night()
    log.info("rehearsal started by the host from %s", request.remote_addr)
    return jsonify({"ok": True, "token": token(n.settings.secret_key), "left": rehearsal.simulated_counts(n.store)})


@bp.get("/status")
def status() -> Response | tuple[Response, int]:
    if current_role() != "host":
        return _refused()
    return jsonify({"ok": True, "left": rehearsal.simulated_counts(night().store)})


@bp.post("/cleanup")
def cleanup() -> Response | tuple[Response, int]:
    if current_role() != "host":
        return _refused()
    n = night()
    result = rehearsal.cleanup(n.store, f"host:{request.remote_addr}")
    # Walls rebuild from the store: re-send every display's scene so no removed record stays up.
    n.reports.scenes_changed()
    return jsonify({"ok": True, "removed": result["removed"], "left": rehearsal.simulated_counts(n.store)})
