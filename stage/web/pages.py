"""The pages: audience (the join URL), host and crew consoles, projector displays."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, redirect, render_template, request, send_from_directory, url_for

from stage import i18n
from stage.book import jobs as book_jobs
from stage.records import audit_log, lineage
from stage.web import language
from stage.web.auth import current_role
from stage.web.context import join_url, night

log = logging.getLogger(__name__)
bp = Blueprint("pages", __name__)


@bp.get("/")
def audience() -> str:
    show = night().show
    language.for_phone(show)
    return render_template("audience.html", title=show.title, languages=[
        i18n.page_language(tag) for tag in show.phone_languages])


@bp.get("/host")
def host() -> str | Response:
    if current_role() != "host":
        return redirect(url_for("auth.login_form", role="host"))
    return render_template("host.html", title=night().show.title, join_url=join_url(),
                           displays=[d.name for d in night().show.displays])


@bp.get("/host/audit.csv")
def audit_csv() -> Response:
    if current_role() != "host":
        abort(403)
    action = request.args.get("action") or None
    return Response(audit_log.to_csv(night().store, action), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit.csv"})


@bp.get("/moderate")
def moderator() -> str | Response:
    if current_role() not in ("moderator", "host"):
        return redirect(url_for("auth.login_form", role="moderator"))
    return render_template("moderator.html", title=night().show.title)


@bp.get("/crew")
def crew() -> str | Response:
    if current_role() not in ("crew", "host"):
        return redirect(url_for("auth.login_form", role="crew"))
    return render_template("crew.html", title=night().show.title)


@bp.get("/book")
def book() -> str | Response:
    """The night's book: the crew (or the host) curates it here and renders it (stage/book/)."""
    if current_role() not in ("crew", "host"):
        return redirect(url_for("auth.login_form", role="crew", next="/book"))
    return render_template("book.html", title=night().show.title)


@bp.get("/book/files/<kind>")
def book_file(kind: str) -> Response:
    """The last render: the PDF to print, the HTML edition to share, the share statement."""
    if current_role() not in ("crew", "host"):
        abort(403)
    name = book_jobs.FILES.get(kind)
    folder = book_jobs.folder_of(night().settings.data_dir)
    if name is None or not (folder / name).is_file():
        abort(404)
    if not book_jobs.still_showable(folder, lineage.load(night().store)):
        return Response("Something in the last render may no longer be shown: render the book again.", 409,
                        mimetype="text/plain")
    response = send_from_directory(folder, name, as_attachment=kind != "html", max_age=0)
    if kind == "html":  # the edition carries its style and pictures inline, and runs nothing
        response.headers["Content-Security-Policy"] = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                                                       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return response


@bp.get("/display/<name>")
def display(name: str) -> str | tuple[str, int]:
    key = request.args.get("key", "")
    if not night().check_display_key(name, key):
        log.warning("display page %r refused for %s: unknown display or wrong key", name, request.remote_addr)
        return render_template("refused.html", message="Unknown display or wrong key."), 403
    spec = night().show.display(name)
    language.for_display(night().show, spec)
    return render_template("display.html", name=name, key=key, spec=spec, title=night().show.title,
                           theme=spec.theme.model_dump(exclude={"logo"}))
