"""``GET /healthz``: what a crew (or a monitor) checks before doors open."""

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from stage.web.context import night

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(night().health())
