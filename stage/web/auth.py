"""Console logins: a passphrase per role; the signed cookie carries only a session id.

The session itself lives in the store (:mod:`stage.records.sessions`), so ``POST /logout`` ends it for
good: a copy of the cookie (venue Wi-Fi is plain HTTP) is refused afterwards on every page, API and
Socket.IO namespace.

The login limit counts failures only, per address and role: ``LOGIN_FAILURES`` wrong passphrases lock
that address out of that role until the oldest failure leaves the window (at most a minute). During a
lockout even the right passphrase is refused (429), so a locked-out guesser cannot learn which guess was
right (OWASP). A right passphrase outside a lockout clears that address's failures for that role only
(clearing every role would let a crew member reset a lockout on the host login); successes never count.

Every guess at a passphrase goes through :func:`check_guess`: the login form, and the crew passphrase
that capture agents present on ``/capture`` and as the take uploads' Bearer token (those paths could
otherwise guess it without limit). A guess *reserves* its failure slot before it is compared and
gives it back only by being right, in one step with the lockout check: testing the window, reading
the form (a yield under gevent) and charging afterwards let N logins whose bodies came late all pass
a test of the same window (issue 14). The form is read before the check, too.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, session, url_for
from limits import parse as parse_limit
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from flask import Flask

from stage.errors import RateLimited
from stage.limiter import MovingWindowLimiter, log_sometimes
from stage.records.sessions import ConsoleSession
from stage.settings import ROLES
from stage.web.context import night

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

LOGIN_FAILURES = parse_limit("10 per minute")  # wrong passphrases per address and role
COOKIE_KEY = "console"  # the session id in the signed cookie
LOCKOUT_LINES = parse_limit("1 per minute")  # the lockout's log line, per address and role


def init_app(app: "Flask") -> None:
    # The failure windows belong to the app (one server's logins), not to the module: two apps in one
    # process (the in-process test tier builds one per test) must not share lockouts.
    app.extensions["stage.login_failures"] = MovingWindowLimiter()


def login_failures() -> MovingWindowLimiter:
    return current_app.extensions["stage.login_failures"]


def console_session() -> ConsoleSession | None:
    """The live console session of this request's cookie (looked up once per request)."""
    if "console_session" not in g:
        token = session.get(COOKIE_KEY)
        g.console_session = night().sessions.find(token) if isinstance(token, str) else None
    return g.console_session


def current_role() -> str | None:
    """The console role of this request: a live session in the store, not merely a signed cookie."""
    console = console_session()
    return console.role if console else None


def host_only(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A JSON route of the host console's (rehearsal, the night's archive): anyone else gets 403 ``forbidden``
    and the log one line naming ``what`` was refused."""
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if current_role() != "host":
                log.warning("%s call %s from %s refused: no host login", what, request.path, request.remote_addr)
                return jsonify({"ok": False, "error": {"code": "forbidden", "message": "log in as host first"}}), 403
            return fn(*args, **kwargs)
        return guarded
    return decorate


def has_session_cookie() -> bool:
    """Whether the cookie names a session at all (to tell "log in" from "your session ended")."""
    return isinstance(session.get(COOKIE_KEY), str)


# Pages a login may go back to instead of the role's console (never a URL from the request as such: no open
# redirect), with the roles that may open them.
RETURN_TO = {"/book": ("crew", "host")}


def _return_to(role: str) -> str:
    wanted = request.values.get("next", "")
    return wanted if role in RETURN_TO.get(wanted, ()) else url_for(f"pages.{role}")


@bp.get("/login/<role>")
def login_form(role: str) -> str:
    if role not in ROLES:
        abort(404)
    return render_template("login.html", role=role, error=None, next=request.args.get("next", ""))


def check_guess(address: str, role: str, given: str, expected: str, *, clears: bool = False) -> bool:
    """Whether ``given`` is ``role``'s passphrase, under that role's failure limit for ``address``.

    Raises :class:`RateLimited` (``locked_out``) during a lockout, even for the right passphrase.
    The failure is counted before the comparison and nothing yields in between; a right guess gives
    its own slot back. Only a person's login (``clears``) wipes that address's earlier failures: a
    capture agent sends its token with every chunk of a take, and wiping on each would give a
    guesser at the same address unlimited tries while a take uploads. No passphrase refuses all.
    """
    failures = login_failures()
    stamp = failures.reserve(LOGIN_FAILURES, address, role)
    if stamp is None:
        log_sometimes(log, LOCKOUT_LINES, (address, role), "login as %s from %s locked out: %s wrong passphrases",
                      role, address, LOGIN_FAILURES)  # one line per lockout a minute, not one per try
        raise RateLimited("too many wrong passphrases from this address; wait a minute", code="locked_out")
    if expected and hmac.compare_digest(given.encode(), expected.encode()):
        if clears:
            failures.clear(LOGIN_FAILURES, address, role)
        else:
            failures.release(LOGIN_FAILURES, stamp, address, role)
        return True
    return False  # the reserved slot stays: it is this failure


@bp.post("/login/<role>")
def login(role: str) -> Response | tuple[str, int]:
    if role not in ROLES:
        abort(404)
    address = request.remote_addr or "?"
    given = request.form.get("passphrase", "").strip()  # reads the body: may yield, so before the check
    try:
        right = check_guess(address, role, given, night().settings.passphrase(role), clears=True)
    except RateLimited:
        return render_template("login.html", role=role, error="Too many wrong attempts; wait a minute.",
                               next=request.form.get("next", "")), 429
    if not right:
        log.warning("login as %s from %s refused: wrong passphrase", role, address)
        return render_template("login.html", role=role, error="That passphrase is not right.",
                               next=request.form.get("next", "")), 401
    session.clear()
    session[COOKIE_KEY] = night().sessions.open(role, address)
    session.permanent = True
    return redirect(_return_to(role))


@bp.post("/logout")
def logout() -> Response:
    token = session.get(COOKIE_KEY)
    if isinstance(token, str):
        night().sessions.close(token, request.remote_addr or "?")
    session.clear()
    return redirect(url_for("pages.audience"))
