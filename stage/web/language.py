"""Which language a page speaks, and gettext for its templates (stage/i18n.py holds the catalogs).

A phone: its own pick (``?lang=``, then kept in a cookie), else the first of its browser's Accept-Language
that the show offers, else the show's language. A display: its own ``language``, else the show's. Consoles:
English. Templates say ``{{ _("…") }}`` and ``{{ ngettext("…", "…", n) }}`` (Jinja's i18n extension, newstyle:
placeholders are ``%(name)s`` and values are escaped).
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from stage import i18n
from stage.show.models import Display, Show

YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  (added by the extension)
        lambda message: current().translations.gettext(message),
        lambda singular, plural, n: current().translations.ngettext(singular, plural, n),
        newstyle=True)
    app.context_processor(lambda: {"page_language": current()})
    app.after_request(_keep_pick)


def current() -> i18n.PageLanguage:
    return g.get("page_language") or i18n.page_language(i18n.SOURCE)


def use(tag: str) -> i18n.PageLanguage:
    g.page_language = i18n.page_language(tag)
    return g.page_language


def for_phone(show: Show) -> i18n.PageLanguage:
    offered = show.phone_languages
    g.language_negotiated = True
    picked = (request.args.get("lang") or "").lower()
    if picked in offered:
        g.language_picked = picked
        return use(picked)
    kept = request.cookies.get(i18n.COOKIE, "")
    if kept in offered:
        return use(kept)
    return use(i18n.negotiate(offered, list(request.accept_languages)) or show.language)


def for_display(show: Show, display: Display) -> i18n.PageLanguage:
    return use(display.language or show.language)


def _keep_pick(response: Response) -> Response:
    if g.get("language_negotiated"):
        response.vary.update(("Accept-Language", "Cookie"))
    picked = g.get("language_picked")
    if picked:
        response.set_cookie(i18n.COOKIE, picked, max_age=YEAR, samesite="Lax", httponly=True,
                            secure=request.is_secure)
    return response
