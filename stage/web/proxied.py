"""Each phone's own address behind Stage's proxy (``--trusted-proxy``): ``X-Forwarded-For``, from the proxy only.

Behind HAProxy every request comes from the proxy's address, so the per-address limits (joins, the login
lockouts) would treat the whole house as one phone. HAProxy's ``option forwardfor`` appends the address it
saw to ``X-Forwarded-For``; the last entry is the one it wrote, and earlier ones are whatever the client
sent (anyone can send that header). So: only a request whose peer is a trusted proxy gets its address from
the header, and then only from the last entry. Werkzeug's ProxyFix would trust the header from any peer,
and a worker's port reached directly on the LAN could then pose as any address.

Installed outermost (``stage.server.create_app``), so Engine.IO keeps the corrected environ for every event
of a socket, and ``request.remote_addr`` is right in HTTP and Socket.IO handlers alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class TrustedProxy:
    def __init__(self, app: WsgiApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = frozenset(trusted)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REMOTE_ADDR") in self.trusted:
            forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
            last = forwarded.rsplit(",", 1)[-1].strip()
            if last:
                environ["stage.proxy_addr"] = environ["REMOTE_ADDR"]
                environ["REMOTE_ADDR"] = last
        return self.app(environ, start_response)
