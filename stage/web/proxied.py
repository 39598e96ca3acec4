"""Each phone's own address behind a proxy: ``--trusted-proxy ADDR`` (Stage's HAProxy) and ``--behind-proxy N``.

Behind HAProxy every request comes from the proxy's address, so the per-address limits (joins, the login
lockouts) would treat the whole house as one phone. HAProxy's ``option forwardfor`` appends the address it
saw to ``X-Forwarded-For``; the last entry is the one it wrote, and earlier ones are whatever the client
sent (anyone can send that header). So: only a request whose peer is a trusted proxy gets its address from
the header, and then only from the last entry. Werkzeug's ProxyFix would trust the header from any peer,
and a worker's port reached directly on the LAN could then pose as any address.

``--behind-proxy N`` is the venue's own reverse proxy (nginx or Caddy terminating TLS, docs/operations.md):
werkzeug's ProxyFix, trusting the last N ``X-Forwarded-For`` entries and the nearest proxy's
``X-Forwarded-Proto`` and ``-Host`` (so redirects and cookies know the page came over HTTPS). It trusts
those headers from any peer, as ProxyFix does: Stage behind such a proxy listens on 127.0.0.1 or on a port
only the proxy reaches. With both, ``--trusted-proxy`` runs first (the supervisor's HAProxy is one hop more).

Installed outermost (``stage.server.create_app``), so Engine.IO keeps the corrected environ for every event
of a socket, and ``request.remote_addr`` is right in HTTP and Socket.IO handlers alike.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wrap(app: WsgiApp, trusted: Iterable[str], hops: int) -> WsgiApp:
    """The app behind whatever proxies the settings name (none: the app itself)."""
    if hops:
        app = ProxyFix(app, x_for=hops, x_proto=1, x_host=1, x_port=1)
    trusted = tuple(trusted)
    return TrustedProxy(app, trusted) if trusted else app


def addresses(name: str) -> set[str]:
    """A proxy given as an address (any spelling, IPv4-mapped IPv6 too) or a host name, as the addresses
    REMOTE_ADDR would hold. A name that does not resolve is an error at start, not a house counted as one."""
    try:
        return {canonical(name)}
    except ValueError:
        pass
    try:
        return {canonical(info[4][0]) for info in socket.getaddrinfo(name, None)}
    except OSError as exc:
        raise ValueError(f"--trusted-proxy {name!r} is neither an address nor a name that resolves: {exc}") from None


def canonical(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)


class TrustedProxy:
    def __init__(self, app: WsgiApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = frozenset(address for name in trusted for address in addresses(name))

    def _trusted(self, remote: str | None) -> bool:
        if not remote:
            return False
        try:
            return canonical(remote) in self.trusted
        except ValueError:
            return False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self._trusted(environ.get("REMOTE_ADDR")):
            forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
            last = forwarded.rsplit(",", 1)[-1].strip()
            if last:
                environ["stage.proxy_addr"] = environ["REMOTE_ADDR"]
                environ["REMOTE_ADDR"] = last
        return self.app(environ, start_response)
