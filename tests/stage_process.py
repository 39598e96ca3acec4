"""A real Stage server for tests: ``python -m stage serve`` in a subprocess on a random loopback port."""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
DEMO_SHOW = REPO / "shows" / "tiny-stories.yaml"
HOST_PASSWORD = "host-test-pass"
CREW_PASSWORD = "crew-test-pass"
MODERATOR_PASSWORD = "moderator-test-pass"
PASSWORDS = {"host": HOST_PASSWORD, "moderator": MODERATOR_PASSWORD, "crew": CREW_PASSWORD}


# serve waits up to 35 s for a local agent finishing its take (stage/local_rigs.py): a loaded machine
# must not turn a slow clean stop into a KILL that orphans the agent.
STOP_SECONDS = 45


def _stat(pid: int) -> list[str] | None:
    try:  # the fields after "(comm)", which may itself hold spaces or parentheses
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _running_since(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), None if it is gone or a zombie: a pid with
    the same start time is the same process, never a later one that reused the number."""
    fields = _stat(pid)
    return None if fields is None or fields[0] == "Z" else fields[19]


def descendants(root: int) -> dict[int, str]:
    """Every live process below ``root``, with its start time."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        fields = _stat(int(entry.name)) if entry.name.isdigit() else None
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        since = _running_since(pid)
        if since is not None:
            found[pid] = since
        todo.extend(children.get(pid, []))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class StageProcess:
    show: Path
    data_dir: Path
    async_mode: str = "gevent"
    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)  # STAGE_* variables of this test (others are dropped)
    database: str | None = None  # --database: a postgresql:// URL; None: SQLite in the data directory
    passwords: bool = True  # False: let Stage generate and print the passphrases
    local_rigs: bool = False  # True: serve starts the show's local capture agents (tests usually act as agent)
    open_files: int | None = None  # a lower open-files limit (soft and hard) for the server, like a small machine
    tls: Any = None  # tests/tls.py TestCerts: serve HTTPS with its cert and key, talk to it trusting its CA
    proc: subprocess.Popen | None = None
    stdout_lines: list[str] = field(default_factory=list)
    display_keys: dict[str, str] = field(default_factory=dict)
    leftovers: list[int] = field(default_factory=list)  # pids that outlived the server (then killed)
    _port_retries: int = 3

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def verify(self) -> Any:
        """requests' ``verify=`` for this server: the test CA over HTTPS."""
        return str(self.tls.ca) if self.tls else True

    @property
    def stderr_path(self) -> Path:
        return self.data_dir.parent / f"stderr-{self.port}.log"

    def start(self, timeout: float = 20) -> "StageProcess":
        args = [sys.executable, "-m", "stage", "serve", str(self.show), "--data", str(self.data_dir),
                "--bind", "127.0.0.1", "--port", str(self.port), "--async-mode", self.async_mode, *self.extra_args]
        if self.database:
            args += ["--database", self.database]
        if self.tls:
            args += ["--tls-cert", str(self.tls.cert), "--tls-key", str(self.tls.key)]
        if not self.local_rigs:
            args.append("--no-local-rigs")
        if self.passwords:
            args += ["--host-password", HOST_PASSWORD, "--moderator-password", MODERATOR_PASSWORD,
                     "--crew-password", CREW_PASSWORD]
        env = {k: v for k, v in os.environ.items() if not k.startswith("STAGE_")}
        env.update({"PYTHONUNBUFFERED": "1", **self.extra_env})
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.stderr_file = open(self.stderr_path, "w")
        limit = self.open_files
        lower = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))) if limit else None
        self.proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=self.stderr_file, text=True,
                                     preexec_fn=lower)
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                error = self.stderr_path.read_text()
                if "Address already in use" in error and self._port_retries > 0:
                    # free_port() is a probe, not a reservation: with tests in parallel processes another
                    # server can take the port between the probe and our bind. Probe again, start again.
                    self._port_retries -= 1
                    self.port = free_port()
                    return self.start(timeout)
                raise RuntimeError(f"stage serve exited {self.proc.returncode}:\n{error}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1, verify=self.verify).ok:
                    break
            except (requests.ConnectionError, requests.Timeout):  # a proxy in front (--workers) may hold the request
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"stage serve did not answer in {timeout}s:\n{self.stderr_path.read_text()}")
        for line in list(self.stdout_lines):
            match = re.search(r"/display/([a-z0-9_-]+)\?key=([0-9a-f]+)", line)
            if match:
                self.display_keys[match.group(1)] = match.group(2)
        return self

    def _drain(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self.stdout_lines.append(line.rstrip("\n"))

    def stop(self) -> int | None:
        """TERM, then KILL after STOP_SECONDS; then KILL, by pid, every process the server had started
        that outlived it (kept in ``leftovers`` for tests to assert on): the suite leaves no process."""
        if self.proc is None:
            return None
        if self.proc.returncode is not None:
            return self.proc.returncode
        started = descendants(self.proc.pid)  # before it ends: an orphan's parent pid is no longer ours
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.leftovers = [pid for pid, since in started.items() if _running_since(pid) == since]
        for pid in self.leftovers:
            os.kill(pid, signal.SIGKILL)
        self.stderr_file.close()
        return self.proc.returncode

    def log_text(self) -> str:
        """The log files of every process of this server (under --workers each has its own: stage/logs.py)."""
        return "".join(path.read_text(encoding="utf-8") for path in sorted(self.data_dir.glob("stage*.log")))

    def login(self, role: str) -> requests.Session:
        session = requests.Session()
        session.verify = self.verify  # and per request: REQUESTS_CA_BUNDLE in the environment beats the session's
        password = PASSWORDS[role]
        response = session.post(f"{self.url}/login/{role}", data={"passphrase": password}, allow_redirects=False,
                                verify=self.verify)
        assert response.status_code == 302, response.text
        return session

    def cookie_header(self, role: str) -> str:
        session = self.login(role)
        return "; ".join(f"{k}={v}" for k, v in session.cookies.items())

    def display_url(self, name: str) -> str:
        return f"{self.url}/display/{name}?key={self.display_keys[name]}"
