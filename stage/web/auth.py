"""Console logins: a passphrase per role, remembered in the signed session cookie."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from limits import parse as parse_limit
from werkzeug.wrappers import Response

from stage.limiter import MovingWindowLimiter
from stage.settings import ROLES
from stage.web.context import night

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

LOGIN_LIMIT = parse_limit("10 per minute")
_limiter = MovingWindowLimiter()


def current_role() -> str | None:
    """The console role of this session, if its passphrase is still the one it logged in with."""
    role = session.get("role")
    if role not in ROLES or not hmac.compare_digest(session.get("pass", ""), _fingerprint(role)):
        return None
    return role


def _fingerprint(role: str) -> str:
    """Changing a role's passphrase logs out every console that used the old one."""
    settings = night().settings
    return hmac.new(settings.secret_key, settings.passphrase(role).encode(), "sha256").hexdigest()[:32]


@bp.get("/login/<role>")
def login_form(role: str) -> str:
    if role not in ROLES:
        abort(404)
    return render_template("login.html", role=role, error=None)


@bp.post("/login/<role>")
def login(role: str) -> Response | tuple[str, int]:
    if role not in ROLES:
        abort(404)
    if not _limiter.hit(LOGIN_LIMIT, "login", request.remote_addr or "?"):
        log.warning("login as %s from %s refused: too many attempts", role, request.remote_addr)
        return render_template("login.html", role=role, error="Too many attempts; wait a minute."), 429
    given = request.form.get("passphrase", "").strip()
    if not hmac.compare_digest(given.encode(), night().settings.passphrase(role).encode()):
        log.warning("login as %s from %s refused: wrong passphrase", role, request.remote_addr)
        return render_template("login.html", role=role, error="That passphrase is not right."), 401
    session.clear()
    session["role"] = role
    session["pass"] = _fingerprint(role)
    session.permanent = True
    log.info("%s logged in from %s", role, request.remote_addr)
    return redirect(url_for(f"pages.{role}"))


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("pages.audience"))
