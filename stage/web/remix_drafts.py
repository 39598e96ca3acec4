"""``GET /crew/remix/draft/<name>``: a finished render the crew is looking at, before it is a record."""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_file

from stage.errors import StageError
from stage.records.models import media_type
from stage.remix import jobs
from stage.web.auth import current_role
from stage.web.context import night

bp = Blueprint("remix_drafts", __name__)


@bp.get("/crew/remix/draft/<name>")
def draft(name: str) -> Response:
    if current_role() not in ("crew", "host"):
        abort(404)
    try:
        if not jobs.for_night(night()).is_draft_file(name):
            abort(404)
        path = night().media.path(name)
    except StageError:
        abort(404)
    response = send_file(path, mimetype=media_type(name), max_age=0, conditional=True)
    response.headers["Cache-Control"] = "no-store"
    return response
