"""Media over HTTP: phones upload drawings, photos and clips; media is served to who may see it.

Uploads are multipart POSTs (never Socket.IO), capped by MAX_CONTENT_LENGTH, identified by the
phone's device key and a phone-made record id (a retry returns the first record).
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge

from stage.errors import InvalidInput, StageError
from stage.records.models import media_type
from stage.records import participants, submissions
from stage.web.auth import current_role
from stage.web.context import night

log = logging.getLogger(__name__)
bp = Blueprint("uploads", __name__)

STATUS = {"banned": 403, "unknown_phone": 403, "too_large": 413, "rate_limited": 429, "busy": 429,
          "prompt_closed": 409}


@bp.post("/api/uploads")
def upload() -> tuple[Response, int]:
    try:
        record_id = str(uuid.UUID(request.form.get("id", "")))
        kind = request.form.get("kind", "")
        if kind not in ("drawing", "photo", "clip"):
            raise InvalidInput("kind must be drawing, photo or clip", code="invalid_payload")
        participant_id = participants.uploader(night().store, request.form.get("device_key", ""))
        file = request.files.get("file")
        if file is None:
            raise InvalidInput("no file in the upload", code="empty")
        sources = tuple(str(uuid.UUID(s)) for s in request.form.getlist("sources"))
        with night().limits.upload(participant_id), tempfile.TemporaryDirectory(dir=night().media.root) as tmp:
            path = Path(tmp) / "upload"
            file.save(path)
            record = night().audience.submit_media(participant_id, record_id, kind, request.form.get("prompt", ""),
                                                   path, sources)
    except ValueError:
        return _error("invalid_payload", "id and sources must be UUIDs"), 400
    except StageError as exc:
        log.info("upload refused: %s", exc.message)
        return _error(exc.code, exc.message), STATUS.get(exc.code, 400)
    return jsonify({"ok": True, "record": record.public()}), 200


@bp.app_errorhandler(RequestEntityTooLarge)
def too_large(_: RequestEntityTooLarge) -> tuple[Response, int]:
    limit = night().settings.max_upload_bytes // (1024 * 1024)
    return _error("too_large", f"that file is over the {limit} MB limit"), 413


@bp.get("/media/<name>")
def media(name: str) -> Response:
    """Approved media for everyone; anything else only for the consoles (moderation previews)."""
    use = submissions.media_use(night().store, name)
    # A hidden take (deleted, or its performer withdrew consent) is hidden from the consoles too.
    if use is None or use.hidden_take or not (use.approved or current_role() in ("host", "moderator", "crew")):
        abort(404)
    approved = use.approved
    try:
        path = night().media.path(name)
    except StageError:
        abort(404)
    if not path.is_file():  # the store names it, the disk lost it (a copied data directory without its media)
        log.warning("media %s is named by the store but missing from %s", name, path.parent)
        abort(404)
    response = send_file(path, mimetype=media_type(name), max_age=3600 if approved else 0, conditional=True)
    response.headers["Cache-Control"] = "public, max-age=3600" if approved else "no-store"
    return response


def _error(code: str, message: str) -> Response:
    return jsonify({"ok": False, "error": {"code": code, "message": message}})
