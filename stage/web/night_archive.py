"""The host console's archive of the night: start an export, follow it, download the zip.

``POST /host/archive`` starts ``stage export`` in the background (stage/archive/background.py) or joins
the one running; its steps reach every host console as ``archive_progress`` on ``/host``, and
``GET /host/archive`` answers the same progress for a page that has just (re)loaded. The zip is served by
``GET /host/archive/<name>`` as an attachment. Host login only: the archive holds every approved record,
the audit log and the credits.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request, send_file
from werkzeug.wrappers import Response

from stage.archive.background import BackgroundExport
from stage.records import audit_log
from stage.web.auth import host_only
from stage.web.context import night

log = logging.getLogger(__name__)
bp = Blueprint("night_archive", __name__)

DOWNLOAD = "/host/archive/"  # + the zip's name


def exports() -> BackgroundExport:
    """The app's one export board, made at its first use (the app's Socket.IO server exists by then)."""
    board = current_app.extensions.get("stage.night_archive")
    if board is None:
        socketio = current_app.extensions["stage.socketio"]
        n = night()
        board = BackgroundExport(n.settings, spawn=socketio.start_background_task, sleep=socketio.sleep,
                                 report=n.reports.archive_progress, ready_url=lambda name: DOWNLOAD + name)
        current_app.extensions["stage.night_archive"] = board
    return board


@bp.post("/host/archive")
@host_only("archive")
def start() -> Response | tuple[Response, int]:
    progress, started = exports().start()
    if started:  # audited like every other export-worthy act of the night; a join is not a new export
        audit_log.archive_started(night().store, f"host:{request.remote_addr}", progress["file"])
    return jsonify({"ok": True, "started": started, "progress": progress}), 202


@bp.get("/host/archive")
@host_only("archive")
def progress() -> Response | tuple[Response, int]:
    return jsonify({"ok": True, "progress": exports().progress()})


@bp.get(f"{DOWNLOAD}<name>")
@host_only("archive")
def download(name: str) -> Response | tuple[Response, int]:
    path = exports().path_of(name)
    if path is None:
        return jsonify({"ok": False, "error": {"code": "not_found", "message": "no such archive (yet)"}}), 404
    log.info("archive %s downloaded by the host from %s", name, request.remote_addr)
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0)
