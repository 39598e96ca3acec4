"""Take upload from capture agents: resumable chunked PUTs, then a verified complete (docs/capture.md).

The partial file lives in ``<data>/takes/<take_id>.part`` until ``complete``; the media worker
process checks its size and sha256, probes it and moves it into the media library, then the take
record is committed. Every call carries ``Authorization: Bearer <crew passphrase>``.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.exceptions import ClientDisconnected

from stage.errors import StageError
from stage.media import worker
from stage.records import takes
from stage.web.auth import check_guess
from stage.web.context import night

log = logging.getLogger(__name__)
bp = Blueprint("takes", __name__)

# Read size: the WSGI input loses a read cut short by a dropped connection, so reads stay small.
CHUNK = 64 * 1024
STATUS = {"unknown_take": 404, "take_conflict": 409, "checksum_mismatch": 422, "size_mismatch": 422,
          "not_media": 422, "no_video": 422, "incomplete": 409}
_locks: dict[str, threading.Lock] = defaultdict(threading.Lock)  # one writer per take (green under gevent)


class Complete(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)  # the slate and figures are the agent's; ours rule
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    size: int = Field(ge=1)
    rig: str = Field(max_length=40)
    slate: dict[str, Any] = {}
    duration: float | None = Field(default=None, ge=0)
    frames: int | None = Field(default=None, ge=0)
    width: int | None = Field(default=None, ge=0)
    height: int | None = Field(default=None, ge=0)


def _error(code: str, message: str, status: int, **extra: Any) -> tuple[Response, int]:
    return jsonify({"ok": False, "error": {"code": code, "message": message}, **extra}), status


def _refusal(take_id: str) -> tuple[Response, int] | None:
    """Why this call is refused (wrong passphrase, not a take id), or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    address = request.remote_addr or "?"
    try:
        # The crew passphrase: its guesses count toward /login/crew's lockout from this address.
        right = scheme == "Bearer" and check_guess(address, "crew", token, night().settings.passphrase("crew"))
    except StageError as exc:  # locked out
        return _error(exc.code, exc.message, 429)
    if not right:
        log.warning("take upload refused for %s: missing or wrong crew passphrase", address)
        return _error("unauthorized", "send Authorization: Bearer <crew passphrase>", 401)
    try:
        uuid.UUID(take_id)
    except ValueError:
        return _error("invalid_payload", "the take id must be a UUID", 400)
    return None


def _partial(take_id: str) -> Path:
    folder = night().settings.data_dir / "takes"
    folder.mkdir(exist_ok=True)
    return folder / f"{uuid.UUID(take_id)}.part"


def _received(take_id: str) -> int:
    path = _partial(take_id)
    return path.stat().st_size if path.exists() else 0


@bp.get("/api/takes/<take_id>/upload")
def status(take_id: str) -> Any:
    refused = _refusal(take_id)
    if refused:
        return refused
    stored = takes.get(night().store, take_id, hidden=True)
    if stored is not None:
        return jsonify({"ok": True, "received": _stored_size(stored), "complete": True})
    return jsonify({"ok": True, "received": _received(take_id), "complete": False})


@bp.put("/api/takes/<take_id>/upload")
def upload(take_id: str) -> Any:
    refused = _refusal(take_id)
    if refused:
        return refused
    store, cap = night().store, night().settings.max_take_bytes
    begun = takes.started(store, take_id)
    if begun is None:
        if takes.get(store, take_id, hidden=True) is not None:
            return _error("already_complete", "this take is already stored", 409)
        return _error("unknown_take", "the server never started this take", 404)
    try:
        offset = int(request.args.get("offset", ""))
    except ValueError:
        return _error("invalid_payload", "offset must be a number of bytes", 400)
    request.max_content_length = cap  # takes are far bigger than phone uploads (MAX_CONTENT_LENGTH)
    with _locks[take_id]:
        held = _received(take_id)
        if offset != held:
            return _error("offset_mismatch", f"the server holds {held} bytes; send from there", 409, received=held)
        if offset + (request.content_length or 0) > cap:
            return _error("too_large", f"a take may be at most {cap // 1024 ** 2} MiB", 413, received=held)
        held = _append(take_id, cap)
    if held is None:
        return _error("too_large", f"a take may be at most {cap // 1024 ** 2} MiB", 413, received=_received(take_id))
    night().reports.take_upload_progress(take_id, begun["rig"], held)
    return jsonify({"ok": True, "received": held})


def _append(take_id: str, cap: int) -> int | None:
    """Append the request body; what arrived before a cut connection is kept for the resume."""
    path = _partial(take_id)
    with open(path, "ab") as out:
        start = out.tell()
        try:
            while chunk := request.stream.read(CHUNK):
                if out.tell() + len(chunk) > cap:  # no Content-Length (chunked): cap while reading
                    out.truncate(start)
                    return None
                out.write(chunk)
        except ClientDisconnected:
            log.info("take %s: upload cut at %d bytes; the agent can resume", take_id, out.tell())
        out.flush()
        os.fsync(out.fileno())
        return out.tell()


@bp.post("/api/takes/<take_id>/complete")
def complete(take_id: str) -> Any:
    refused = _refusal(take_id)
    if refused:
        return refused
    try:
        body = Complete.model_validate(request.get_json(silent=True))
    except ValidationError as exc:
        first = exc.errors()[0]
        return _error("invalid_payload", f"{'.'.join(map(str, first['loc'])) or 'body'}: {first['msg']}", 400)
    with _locks[take_id]:
        try:
            take = _complete(take_id, body)
        except StageError as exc:
            log.warning("take %s refused at complete: %s", take_id, exc.message)
            return _error(exc.code, exc.message, STATUS.get(exc.code, 400), received=_received(take_id))
    night().reports.takes_changed()
    return jsonify({"ok": True, "take": take})


def _complete(take_id: str, body: Complete) -> dict[str, Any]:
    store, settings = night().store, night().settings
    stored = takes.get(store, take_id, hidden=True)
    if stored is not None:  # a retried complete: the same record, if it names the same file
        return takes.commit(store, take_id, "", {"sha256": body.sha256.lower()}, "retry")
    begun = takes.started(store, take_id)
    if begun is None:
        raise StageError("the server never started this take", code="unknown_take")
    actor, sha256 = f"rig:{begun['rig']}", body.sha256.lower()
    stored_file = night().media.root / f"{sha256}.mp4"
    if not _partial(take_id).exists() and stored_file.exists() and stored_file.stat().st_size == body.size:
        # The file reached the library but the commit did not (a crash between the two): commit now.
        meta = {"duration": body.duration, "width": body.width, "height": body.height, "frames": body.frames,
                "sha256": sha256}
        return takes.commit(store, take_id, stored_file.name, meta, actor)
    held = _received(take_id)
    if held < body.size:
        raise StageError(f"the server holds {held} of {body.size} bytes; upload the rest first", code="incomplete")
    path = _partial(take_id)
    result = worker.run("take", path, night().media.root, max_bytes=settings.max_take_bytes, max_seconds=0,
                        on_progress=lambda _: None, extra=("--sha256", sha256, "--size", str(body.size)))
    if not result["ok"]:
        if result["error"]["code"] in ("checksum_mismatch", "size_mismatch"):
            path.unlink(missing_ok=True)  # tampered or garbled: the agent must send it all again
        raise StageError(result["error"]["message"], code=result["error"]["code"])
    meta = {"duration": result["duration"], "width": result["width"], "height": result["height"],
            "frames": body.frames, "sha256": sha256}
    return takes.commit(store, take_id, result["media"], meta, actor)


def _stored_size(take: dict[str, Any]) -> int:
    try:
        return night().media.path(take["media"].rsplit("/", 1)[-1]).stat().st_size
    except (OSError, StageError):
        return 0
