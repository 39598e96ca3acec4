"""Listening: the server's socket(s) in its async mode, from the settings (``stage serve`` calls ``serve``).

With ``--tls-cert``/``--tls-key`` the one port serves HTTPS and WSS; with ``--http-port`` as well, a second
listener on the same address answers every plain-HTTP request with a 308 to the same path over HTTPS (a
phone that typed the bare address, or scanned an old QR code, lands on the real page). Without
``--http-port`` there is no plain listener at all: port 80 needs root or a capability, so it is asked for.
No HSTS header: a venue that goes back to plain HTTP next week must not find every phone refusing it.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from stage.errors import StageError
from stage.settings import Settings

log = logging.getLogger(__name__)

# A Host header we send back in a Location: a name, an IPv4 address or a bracketed IPv6 one, and a port.
HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d+)?$")
PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def serve(app: Any, socketio: Any, settings: Settings) -> None:
    """Serve until stopped: gevent with Stage's quiet handler (stage/web/gevent_server.py), or eventlet."""
    context = tls_context(settings.tls_cert, settings.tls_key) if settings.tls_cert else None
    redirect = redirect_app(settings.port, settings.public_url) if context is not None and settings.http_port else None
    if context is not None:
        log.info("serving HTTPS on %s:%d with %s%s", settings.bind, settings.port, settings.tls_cert,
                 f"; plain HTTP on port {settings.http_port} redirects to it" if redirect else "")
    if settings.async_mode == "gevent":
        from stage.web import gevent_server

        gevent_server.serve(app, socketio, settings.bind, settings.port, ssl_context=context,
                            redirect=(settings.http_port, redirect) if redirect else None)
        return
    if redirect is not None:
        _eventlet_redirect(socketio, settings.bind, settings.http_port, redirect)
    tls = {"certfile": str(settings.tls_cert), "keyfile": str(settings.tls_key)} if context is not None else {}
    socketio.run(app, host=settings.bind, port=settings.port, log_output=False, max_size=20_000, **tls)


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext:
    """The server's TLS context, loaded now so a wrong file is one clear line at start, not a failed
    handshake on every phone later."""
    if cert is None or key is None:
        raise StageError("HTTPS needs both --tls-cert and --tls-key")
    for what, path in (("certificate", cert), ("key", key)):
        try:
            path.read_bytes()
        except OSError as exc:
            raise StageError(f"cannot read the TLS {what} {path}: {exc.strerror}") from exc
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert), str(key))
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise StageError(f"the TLS key {key} does not belong to the certificate {cert}") from exc
        raise StageError(f"cannot load the TLS certificate {cert} with the key {key}: {_reason(exc, cert)}") from exc
    return context


def _reason(exc: ssl.SSLError, cert: Path) -> str:
    """Which file is wrong, in words: OpenSSL's own reason for a bad PEM is "PEM lib"."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        probe.load_verify_locations(str(cert))
    except ssl.SSLError:
        return "the certificate is not a PEM certificate"
    return "the key is not a PEM private key (or it has a passphrase)" if "PEM" in str(exc) else str(exc)


def redirect_app(tls_port: int, public: str | None = None) -> Callable[[dict, Callable], Iterable[bytes]]:
    """A WSGI app answering every request with a 308 to the same path and query over HTTPS: at ``public`` (an
    https ``--public-url``: the name the certificate carries, where a phone that typed the IP would get a
    certificate warning), else at the host the request named. 308 (not 301): an upload POSTed to the old
    address is sent again as a POST, with its body."""
    port = "" if tls_port == 443 else f":{tls_port}"
    public = public.rstrip("/") if public and public.startswith("https://") else None

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        match = HOST.match(environ.get("HTTP_HOST") or "")
        if match is None and public is None:  # no Host (HTTP/1.0) or a strange one: nothing safe to send them to
            start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", "30")])
            return [b"Use https:// for this server.\n"]
        path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")  # WSGI's str
        query = environ.get("QUERY_STRING", "")
        base = public or f"https://{match.group(1)}{port}"
        location = f"{base}{quote(path, safe=PATH_SAFE) or '/'}"
        location += f"?{query}" if query else ""
        body = f"Stage is served over HTTPS: {location}\n".encode()
        start_response("308 Permanent Redirect", [("Location", location), ("Content-Type", "text/plain"),
                                                  ("Content-Length", str(len(body)))])
        return [body]

    return app


def _eventlet_redirect(socketio: Any, host: str, port: int, app: Callable) -> None:
    """The redirect listener under eventlet: eventlet's own WSGI server in a background greenlet; it ends
    with the process when the main server stops."""
    import eventlet
    import eventlet.wsgi

    try:
        sock = eventlet.listen((host, port))
    except OSError as exc:
        raise StageError(f"cannot listen on {host}:{port} (the HTTP redirect): {exc.strerror}") from exc
    socketio.start_background_task(eventlet.wsgi.server, sock, app, log=log, log_output=False)
