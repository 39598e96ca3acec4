"""The printable poster for doors and tables: the show's title, the join QR and URL, the venue Wi-Fi.

``GET /host/poster?paper=a4|letter`` (host login; A4 unless ``letter``). The page is one sheet of that
paper, on screen as a preview and in print with no console chrome (audience_web/static/css/poster.css).
The QR codes are the projector's own (``/qr/join.svg``, ``/qr/wifi.svg``), so what is printed is what
the room sees on the join scene.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from stage.web.auth import current_role
from stage.web.context import join_url, night

bp = Blueprint("poster", __name__)

PAPERS = {"a4": "A4", "letter": "Letter"}


@bp.get("/host/poster")
def poster() -> str | Response:
    if current_role() != "host":
        return redirect(url_for("auth.login_form", role="host"))
    paper = request.args.get("paper", "a4").lower()
    if paper not in PAPERS:
        paper = "a4"  # a link typed by hand still prints something sensible
    show = night().show
    return render_template("poster.html", title=show.title, join_url=join_url(), wifi=show.wifi, paper=paper,
                           papers=PAPERS)
