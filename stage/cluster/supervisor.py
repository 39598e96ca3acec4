"""``stage serve --workers N``: N serve processes on this machine and HAProxy in front, kept running.

The supervisor resolves the night's settings once (so the secret key and passphrases are created once, in
``credentials.json``, not raced by N processes), then starts:

- N workers, ``stage serve`` each, on 127.0.0.1 at the ports after ``--port``, named ``w1``..``wN``, with
  the proxy's URL as their public URL and the proxy as their trusted proxy (stage/web/proxied.py). The
  passphrases and the database and Redis URLs travel in the environment, never on a command line (``ps``
  shows those to every user);
- HAProxy on ``--bind``:``--port`` (stage/cluster/proxy.py), from a config in the data directory.

A worker that exits is started again (at once, then backing off to ``MAX_BACKOFF_S`` if it keeps failing):
a conductor that lost its lease exits with status 75 on purpose and comes back as a follower; one killed
or crashed comes back too, and phones it held have meanwhile been re-sent by the proxy to another. HAProxy
exiting is restarted likewise. SIGTERM or Ctrl-C stops everything, workers first (they finish their takes).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stage.child_process import end_with_parent
from stage.cluster.proxy import haproxy_config

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 10.0
STABLE_S = 30.0  # a worker that ran this long and then exited is restarted at once
STOP_S = 45.0  # a worker finishing a take may need this long (stage/local_rigs.py)
STEP_S = 0.2


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict[str, str] | None = None
    proc: subprocess.Popen | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float = 0.0
    log_path: Path | None = None
    _log: Any = field(default=None, repr=False)

    def start(self) -> None:
        self._log = open(self.log_path, "a") if self.log_path else None  # noqa: SIM115 (held while it runs)
        self.proc = subprocess.Popen(self.command, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                     preexec_fn=end_with_parent, start_new_session=True)
        self.started = time.monotonic()

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def stop(self, timeout: float) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log:
            self._log.close()


def worker_commands(settings: Any, workers: int, public: str) -> dict[str, tuple[int, list[str]]]:
    """Each worker's port and ``stage serve`` command line (no passphrase and no URL on it: the environment)."""
    out = {}
    for k in range(1, workers + 1):
        port = settings.port + k
        command = [sys.executable, "-m", "stage", "serve", str(settings.show_path), "--data", str(settings.data_dir),
                   "--bind", "127.0.0.1", "--port", str(port), "--public-url", public, "--trusted-proxy", "127.0.0.1",
                   "--worker-name", f"w{k}", "--async-mode", settings.async_mode, "--log-level", settings.log_level]
        if settings.osc_port:
            command += ["--osc-port", str(settings.osc_port)]
        if settings.behind_proxy:  # the venue's proxies, and HAProxy one hop more (stage/web/proxied.py)
            command += ["--behind-proxy", str(settings.behind_proxy + 1)]
        if settings.osc_dry_run:
            command.append("--osc-dry-run")
        if settings.dmx_dry_run:
            command.append("--dmx-dry-run")
        if not settings.local_rigs:
            command.append("--no-local-rigs")
        out[f"w{k}"] = (port, command)
    return out


class Supervisor:
    def __init__(self, settings: Any, workers: int, public: str) -> None:
        self.settings = settings
        # A plain flag, set by the signal handler: waking a (gevent-patched) Event from a handler is what
        # stage/shutdown.py avoids. The loop looks at it every STEP_S.
        self.stopping = False
        # Secrets in the environment, never on a command line: ps shows those to every user of the machine.
        env = {**os.environ, "STAGE_HOST_PASSWORD": settings.host_password,
               "STAGE_MODERATOR_PASSWORD": settings.moderator_password, "STAGE_CREW_PASSWORD": settings.crew_password,
               "STAGE_DATABASE_URL": settings.database, "STAGE_REDIS_URL": settings.redis}
        commands = worker_commands(settings, workers, public)
        self.ports = {name: port for name, (port, _) in commands.items()}
        self.config = settings.data_dir / "haproxy.cfg"
        logs = settings.data_dir / "workers"
        logs.mkdir(parents=True, exist_ok=True)
        self.children = [Child(name, command, env, log_path=logs / f"{name}.out")
                         for name, (_, command) in commands.items()]
        self.children.append(Child("haproxy", ["haproxy", "-db", "-f", str(self.config)],
                                   log_path=logs / "haproxy.out"))

    def write_proxy_config(self) -> str:
        """Written (again) at each start: ``maxconn`` follows this process's open-files limit."""
        text = haproxy_config(self.settings.bind, self.settings.port, self.ports,
                              stats_socket=str(self.settings.data_dir / "haproxy.sock"))
        self.config.write_text(text)
        return text

    def check_proxy_config(self) -> str | None:
        """HAProxy's own word on the config: None when it accepts it."""
        try:
            checked = subprocess.run(["haproxy", "-c", "-f", str(self.config)], capture_output=True, text=True)
        except FileNotFoundError:
            return "haproxy is not installed (apt install haproxy; or run stage serve --print-proxy-config)"
        return None if checked.returncode == 0 else (checked.stdout + checked.stderr).strip()

    def run(self) -> None:
        for child in self.children:
            child.start()
            log.info("started %s (pid %d)", child.name, child.proc.pid if child.proc else -1)
        while not self.stopping:
            self._restart_exited()
            time.sleep(STEP_S)
        self.stop()

    def _restart_exited(self) -> None:
        now = time.monotonic()
        for child in self.children:
            status = child.exited()
            if status is None:
                continue
            if child.restart_at == 0.0:
                ran = now - child.started
                child.failures = 0 if ran > STABLE_S or status == 75 else child.failures + 1
                child.restart_at = now + min(MAX_BACKOFF_S, 0.5 * 2 ** child.failures) if child.failures else now
                why = "lost the lease, as it should" if status == 75 else f"exited with status {status}"
                log.warning("%s %s after %.0f s; starting it again", child.name, why, ran)
            if now >= child.restart_at:
                child.restart_at = 0.0
                child.stop(timeout=1)
                child.start()

    def stop(self) -> None:
        workers = [c for c in self.children if c.name != "haproxy"]
        for child in workers:
            if child.proc is not None and child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        for child in workers:
            child.stop(timeout=STOP_S)
        self.children[-1].stop(timeout=10)
        log.info("Stage stopped: %d workers and the proxy", len(workers))


def taken_port(ports: dict[str, int]) -> str | None:
    """A worker's port another program holds, said before anything starts (a worker that cannot bind would be
    restarted for ever)."""
    import socket

    for name, port in ports.items():
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as exc:
                return f"worker {name} needs 127.0.0.1:{port}: {exc.strerror}; choose another --port"
    return None


def serve_workers(settings: Any, show: Any, workers: int, print_only: bool, console: Any) -> int:
    """``stage serve --workers N``: the exit status."""
    import resource

    from stage.banner import print_banner
    from stage.display.keys import display_key
    from stage.network import base_url
    from stage.records.postgres_connection import redacted

    public = base_url(settings)
    supervisor = Supervisor(settings, workers, public)
    if print_only:
        console.print(supervisor.write_proxy_config(), markup=False)
        console.print(f"# HAProxy: haproxy -db -f {supervisor.config}", markup=False)
        console.print("# each worker, with STAGE_DATABASE_URL, STAGE_REDIS_URL and STAGE_*_PASSWORD in its "
                      "environment:", markup=False)
        for child in supervisor.children[:-1]:
            console.print("# " + " ".join(child.command), markup=False)
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:  # every phone is a socket, twice in the proxy: the workers and HAProxy inherit this
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    supervisor.write_proxy_config()
    problem = supervisor.check_proxy_config() or taken_port(supervisor.ports)
    if problem:
        log.error("stage serve --workers cannot start: %s", problem)
        return 1
    first, last = settings.port + 1, settings.port + workers
    print_banner(console, public + "/", settings, show, lambda name: display_key(settings.secret_key, name),
                 store=redacted(settings.database), osc_in=None,
                 listening=f"{settings.bind}:{settings.port} (HAProxy, in front of {workers} workers on "
                           f"127.0.0.1:{first}-{last}; logs in {settings.data_dir / 'workers'})")
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: setattr(supervisor, "stopping", True))
    supervisor.run()
    return 0
