"""The reverse proxy in front of several serve processes: HAProxy (Debian's; ``make test``'s set-up installs it, or ``apt install haproxy``).

Routing (docs/plans/issue-17-many-processes.md §3):

- **To the conductor**: every request whose query has ``conductor`` (the Socket.IO handshakes of consoles,
  displays and capture agents: ``common.js`` and ``capture/link.py`` add it), and every path that is not a
  phone's (console pages, logins, rehearsal and take-upload APIs, remix drafts), so what a console does over
  plain HTTP lands where its socket is. The conductor is the one process whose ``/healthz/conductor``
  answers 200, checked every 500 ms: after a failover the proxy knows the new one within a second.
- ``balance first`` in the conductor's backend: during the second a failover overlaps two answers of 200,
  every console still goes to one of them.
- **To everyone**, least connections first: the phone page, its Socket.IO, uploads, media, QR codes. Sticky
  by the ``STAGESRV`` cookie, since Engine.IO's long-polling must keep reaching the process holding its
  session; ``redispatch`` moves a phone whose process died.
- Timeouts fit Engine.IO's ping (10 s interval, 20 s timeout); ``timeout tunnel`` holds WebSockets open.
- ``forwardfor`` tells each process the phone's own address; a process trusts it only from the proxy
  (``--trusted-proxy``, stage/web/proxied.py), so per-address limits still see each phone.

HAProxy needs two descriptors per proxied connection, so ``maxconn`` follows the open-files limit.
"""

from __future__ import annotations

import resource
import socket

MAXCONN = 100_000
# /healthz goes to the conductor: only it knows the displays, rigs and OSC it reports.
PHONE_PATHS = "/ /api/uploads /healthz/live /favicon.ico"
PHONE_PREFIXES = "/socket.io/ /media/ /qr/ /vendor/ /static/"


def fitting_maxconn(wanted: int = MAXCONN) -> int:
    """``wanted``, or what the open-files hard limit allows (HAProxy refuses to start above it)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return wanted if hard == resource.RLIM_INFINITY else max(1, min(wanted, (hard - 200) // 2))


def haproxy_config(bind: str, port: int, servers: dict[str, int], maxconn: int | None = None,
                   stats_socket: str | None = None) -> str:
    """The proxy on ``bind:port`` in front of ``servers`` (name: port, each on 127.0.0.1). ``stats_socket``: a
    unix socket where HAProxy answers ``show stat`` (which worker is up, in which backend), for the crew."""
    everyone = "".join(f"  server {name} 127.0.0.1:{p} check cookie {name}\n" for name, p in servers.items())
    conductor = "".join(f"  server {name} 127.0.0.1:{p} check\n" for name, p in servers.items())
    stats = f"  stats socket {stats_socket} mode 600 level user\n" if stats_socket else ""
    return f"""global
  maxconn {maxconn or fitting_maxconn()}
{stats}defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  option forwardfor
  option redispatch
  retries 2
frontend stage
  bind {bind}:{port}
  acl to_conductor urlp(conductor) -m found
  acl phone_path path {PHONE_PATHS}
  acl phone_path path_beg {PHONE_PREFIXES}
  use_backend conductor if to_conductor || !phone_path
  default_backend everyone
backend everyone
  balance leastconn
  cookie STAGESRV insert indirect nocache httponly
  option httpchk GET /healthz/live
  default-server inter 1s fall 2 rise 1
{everyone}backend conductor
  balance first
  option httpchk GET /healthz/conductor
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1
{conductor}"""


def up_servers(stats_socket: str) -> set[tuple[str, str]]:
    """(backend, server) pairs HAProxy reports UP (``show stat`` on its stats socket); empty when it cannot
    be asked. ``everyone`` lists the workers taking phones, ``conductor`` the one running the show."""
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(2)
            conn.connect(stats_socket)
            conn.sendall(b"show stat\n")
            text = b"".join(iter(lambda: conn.recv(65536), b"")).decode()
    except OSError:
        return set()
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith("#")]
    return {(row[0], row[1]) for row in rows if len(row) > 17 and row[17] == "UP"}
