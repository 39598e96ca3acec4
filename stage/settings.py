"""One Settings object, layered: defaults < show file < environment < CLI."""

from __future__ import annotations

import json
import logging
import os
import secrets
import string
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stage import resources
from stage.errors import StageError
from stage.records.store import is_postgres_url
from stage.show.models import Show

log = logging.getLogger(__name__)

DEFAULT_PORT = 8080
ROLES = ("host", "moderator", "crew")  # console roles, each with its own passphrase
ENV = {
    "STAGE_DATA": "data_dir",
    "STAGE_BIND": "bind",
    "STAGE_PORT": "port",
    "STAGE_ASYNC_MODE": "async_mode",
    "STAGE_HOST_PASSWORD": "host_password",
    "STAGE_MODERATOR_PASSWORD": "moderator_password",
    "STAGE_CREW_PASSWORD": "crew_password",
    "STAGE_PUBLIC_URL": "public_url",
    "STAGE_SOCKETIO_JS": "socketio_js",
    "STAGE_OSC_PORT": "osc_port",
    "STAGE_DATABASE_URL": "database",
    "STAGE_REDIS_URL": "redis",
    "STAGE_INTERFACE": "interface",
    "STAGE_TLS_CERT": "tls_cert",
    "STAGE_TLS_KEY": "tls_key",
    "STAGE_HTTP_PORT": "http_port",
    "STAGE_BEHIND_PROXY": "behind_proxy",
    "STAGE_LOG_LEVEL": "log_level",
    "STAGE_METRICS_BIND": "metrics_bind",
    "STAGE_DMX_OUTPUT": "dmx_output",
}
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class Settings:
    show_path: Path
    data_dir: Path
    bind: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    async_mode: str = "gevent"
    host_password: str | None = None
    moderator_password: str | None = None
    crew_password: str | None = None
    public_url: str | None = None
    database: str | None = None  # a postgresql:// URL; None: SQLite in the data directory
    redis: str | None = None  # a redis:// URL: the message queue and soft state several serve processes share
    trusted_proxy: tuple[str, ...] = ()  # peers whose X-Forwarded-For names the phone (stage/web/proxied.py)
    behind_proxy: int = 0  # proxy hops in front whose X-Forwarded-For/-Proto/-Host to trust (stage/web/proxied.py)
    interface: str | None = None  # the network interface whose address the join URL carries (stage/network.py)
    tls_cert: Path | None = None  # HTTPS: a PEM certificate chain and its key (stage/web/listen.py)
    tls_key: Path | None = None
    http_port: int | None = None  # with TLS: a plain-HTTP port that redirects to HTTPS
    log_level: str = "info"
    metrics_bind: str | None = None  # host:port of a separate, open /metrics listener (stage/web/metrics.py)
    worker: str | None = None  # this process's name under `stage serve --workers` (it prints no banner then)
    osc_port: int | None = None  # OSC in; overrides the show's osc_in.port
    osc_dry_run: bool = False  # log OSC instead of sending it (rehearsals without the rig)
    dmx_dry_run: bool = False  # log the show's DMX frames instead of sending them (stage/dmx/output.py)
    # DMX out in its own process (stage/dmx/process.py), or "inline" in the server: the benchmark's comparison
    dmx_output: str = "process"
    socketio_js: Path = field(default_factory=resources.socketio_client)
    max_upload_bytes: int = 25 * 1024 * 1024
    # Socket.IO message caps and byte budgets are the transport's (stage/realtime/transport.py).
    max_take_bytes: int = 4 * 1024 ** 3  # one take file (show limits.max_take_mb)
    local_rigs: bool = True  # `stage serve` starts an agent for each rig marked local
    secret_key: bytes = field(default=b"", repr=False)

    @classmethod
    def resolve(cls, show_path: Path, show: Show, env: dict[str, str], cli: dict[str, Any]) -> "Settings":
        values: dict[str, Any] = {"show_path": show_path, "data_dir": Path("data") / show_path.stem}
        values.update({k: v for k, v in show.server.model_dump().items() if v is not None})
        for key in ("tls_cert", "tls_key"):  # a show's certificate files sit beside it; env and CLI: the cwd's
            if key in values:
                values[key] = show_path.parent / values[key]
        if show.osc_in.port is not None:
            values["osc_port"] = show.osc_in.port
        values["max_upload_bytes"] = show.limits.max_upload_mb * 1024 * 1024
        values["max_take_bytes"] = show.limits.max_take_mb * 1024 * 1024
        values.update({attr: env[name] for name, attr in ENV.items() if env.get(name)})
        values.update({k: v for k, v in cli.items() if v is not None})
        values.setdefault("port", DEFAULT_PORT)
        for key in ("port", "osc_port", "http_port", "behind_proxy"):
            if values.get(key) is None:
                values.pop(key, None)
                continue
            try:
                values[key] = int(values[key])
            except ValueError:
                raise ValueError(f"the {key.replace('_', ' ')} must be a number, not {values[key]!r}") from None
        for key in ("data_dir", "socketio_js"):
            if key in values:
                values[key] = Path(values[key])
        for key in ("tls_cert", "tls_key"):
            if values.get(key) is not None:
                values[key] = Path(values[key])
        if bool(values.get("tls_cert")) != bool(values.get("tls_key")):
            raise ValueError("HTTPS needs both --tls-cert and --tls-key")
        if values.get("http_port") is not None and not values.get("tls_cert"):
            raise ValueError("--http-port is the port that redirects to HTTPS: it needs --tls-cert and --tls-key")
        if values.get("http_port") is not None and values["http_port"] == values["port"]:
            raise ValueError(f"--http-port {values['http_port']} is the HTTPS port too: give HTTPS another --port "
                             "(like 8443)")
        if values.get("dmx_output", "process") not in ("process", "inline"):
            raise ValueError(f"STAGE_DMX_OUTPUT is process or inline, not {values['dmx_output']!r}")
        level = str(values.get("log_level", "info")).lower()
        if level not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {values['log_level']!r}")
        values["log_level"] = level
        if values.get("behind_proxy", 0) < 0:
            raise ValueError("--behind-proxy counts proxy hops: 0 or more")
        if values.get("redis") and not is_postgres_url(values.get("database")):
            # SQLite is one process's file (it holds an exclusive lock): processes sharing a night share PostgreSQL.
            raise ValueError("--redis is for several serve processes on one night, which share one PostgreSQL "
                             "store: add --database postgresql://user@host/dbname")
        if values.get("async_mode", "gevent") not in ("gevent", "eventlet"):
            raise ValueError(f"async mode must be gevent or eventlet, not {values['async_mode']!r}")
        return cls(**values)

    def with_credentials(self) -> "Settings":
        """Fill the secret key and any missing passphrase from the data directory (made once, kept)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "credentials.json"
        try:
            saved = json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError) as exc:
            raise StageError(f"{path} is unreadable ({exc}); move it away to make new credentials") from exc
        wanted = {"secret_key": secrets.token_hex(32), **{f"{role}_password": passphrase() for role in ROLES}}
        missing = {key: value for key, value in wanted.items() if key not in saved}
        if missing:
            saved.update(missing)
            _write_private(path, json.dumps(saved, indent=2))
        return replace(
            self,
            secret_key=bytes.fromhex(saved["secret_key"]),
            **{f"{role}_password": getattr(self, f"{role}_password") or saved[f"{role}_password"] for role in ROLES},
        )

    def passphrase(self, role: str) -> str:
        return getattr(self, f"{role}_password") or ""


def _write_private(path: Path, text: str) -> None:
    """Write a secret file atomically, readable by its owner only from the first byte."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def passphrase(groups: int = 3, size: int = 4) -> str:
    """A passphrase a stage manager can read aloud over comms: ``kqzp-mfta-xwrb``."""
    letters = string.ascii_lowercase
    return "-".join("".join(secrets.choice(letters) for _ in range(size)) for _ in range(groups))
