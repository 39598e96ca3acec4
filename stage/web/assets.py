"""Assets Stage serves itself (phones at a venue have no CDN): the socket.io client, the join QR."""

from __future__ import annotations

import functools
import io
import logging
import re

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, send_file

from stage.show.models import Wifi
from stage.web.context import join_url, night

log = logging.getLogger(__name__)
bp = Blueprint("assets", __name__)


@bp.get("/vendor/socket.io.min.js")
def socketio_client() -> Response:
    path = night().settings.socketio_js
    if not path.is_file():
        log.error("socket.io client missing at %s: run `make setup`", path)
        return Response(f"socket.io client not installed ({path}); run `make setup`", 503, mimetype="text/plain")
    return send_file(path, mimetype="text/javascript", max_age=3600)


@bp.get("/qr/join.svg")
def join_qr() -> Response:
    return Response(qr_svg(join_url()), mimetype="image/svg+xml", headers={"Cache-Control": "no-cache"})


@bp.get("/qr/wifi.svg")
def wifi_qr() -> Response:
    wifi = night().show.wifi
    if wifi is None:
        return Response("this show names no Wi-Fi network", 404, mimetype="text/plain")
    return Response(qr_svg(wifi_uri(wifi)), mimetype="image/svg+xml", headers={"Cache-Control": "no-cache"})


@bp.get("/display/<name>/logo")
def display_logo(name: str) -> Response:
    """A display's logo from its theme (public: it is on the projector for the whole room)."""
    spec = night().show.display(name)
    if spec is None or spec.theme.logo is None:
        return Response("no logo", 404, mimetype="text/plain")
    return send_file(night().settings.show_path.parent / spec.theme.logo, max_age=3600)


def wifi_uri(wifi: Wifi) -> str:
    """The Wi-Fi QR format phones' cameras understand (ZXing's WIFI: scheme; \\ ; , : " escaped)."""
    def esc(value: str) -> str:
        return re.sub(r'([\\;,:"])', r"\\\1", value)

    fields = f"T:{wifi.security};S:{esc(wifi.ssid)};"
    if wifi.password and wifi.security != "nopass":
        fields += f"P:{esc(wifi.password)};"
    if wifi.hidden:
        fields += "H:true;"
    return f"WIFI:{fields};"


@functools.lru_cache(maxsize=8)
def qr_svg(data: str) -> bytes:
    """An SVG QR code (error correction M: survives a projector's keystone and a bit of glare)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                         image_factory=qrcode.image.svg.SvgPathFillImage)
    code.add_data(data)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()
