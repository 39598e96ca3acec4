"""Flask blueprints: pages, login, assets, health. Every response carries the security headers."""

from __future__ import annotations

from flask import Flask, Response, request

from stage.night import Night
from stage.web import (assets, auth, health, language, metrics, night_archive, pages, poster, rehearsal, remix_drafts,
                       socket_context, takes, uploads)


def init_app(app: Flask, night: Night, join_url: str) -> None:
    app.extensions["stage.night"] = night
    app.extensions["stage.join_url"] = join_url
    for module in (pages, auth, assets, health, uploads, remix_drafts, takes, rehearsal, socket_context, metrics,
                   night_archive, poster):
        app.register_blueprint(module.bp)
    auth.init_app(app)
    language.init_app(app)
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    host = request.host
    response.headers.setdefault("Content-Security-Policy", (  # a route may set a stricter one of its own
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"media-src 'self' blob:; connect-src 'self' ws://{host} wss://{host}; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response
