"""A throwaway PostgreSQL cluster for the benchmarks: Debian's server, run as it would be for a night.

Unlike the test suite's cluster (tests/postgres.py, fsync off for speed), this one keeps the server's
defaults for durability: ``fsync = on``, and Stage sets ``synchronous_commit = on`` on its connections,
so an ack costs a WAL flush on PostgreSQL as it costs an fsync on SQLite. The cluster lives in a
``tempfile.mkdtemp()`` directory on the same disk as the benchmarks' SQLite data directories.

PostgreSQL refuses to run as root: when the benchmark runs as root, ``initdb`` and ``pg_ctl`` run as the
``postgres`` user (``runuser``). The postmaster is pinned to a CPU with ``taskset`` (its backends inherit
it), and ``stop`` ends it by its own data directory (``pg_ctl stop -m fast``), never by name.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from harness import free_port

USER = "stage"
# Log lines worth a look after a run (PostgreSQL's own severities).
NOTABLE = ("WARNING:", "ERROR:", "FATAL:", "PANIC:")


def bindir() -> Path:
    """The newest PostgreSQL server installed (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise SystemExit("PostgreSQL's server is not installed: `make setup` installs Debian's postgresql")
    return Path(found[-1]).parent


def _clock_ticks(pid: int) -> int:
    """utime + stime + cutime + cstime of one process, in clock ticks (0 if it is gone). The children's
    part counts the backends that already exited, which the postmaster reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return sum(int(f) for f in fields[11:15])


def _tree(root: int) -> list[int]:
    """``root`` and every process below it, from each process's parent in /proc/PID/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


class PostgresServer:
    """``start`` a cluster, ``database`` for a fresh empty database's URL, ``cpu_seconds`` of the whole
    server (postmaster, background processes, backends), ``stop``."""

    def __init__(self, cpu: int | None = 0) -> None:
        self.bin = bindir()
        self.cpu = cpu
        self.dir = Path(tempfile.mkdtemp(prefix="stage-bench-pg-"))
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.pid = 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        pin = ["taskset", "-c", str(self.cpu)] if self.cpu is not None else []
        command = [*pin, *(["runuser", "-u", "postgres", "--"] if self.as_root else []), *args]
        return subprocess.run(command, capture_output=True, text=True, check=check, cwd="/")

    def start(self) -> "PostgresServer":
        self._run(str(self.bin / "initdb"), "-D", str(self.dir / "db"), "-A", "trust", "-U", USER, "-E", "UTF8",
                  "--locale", "C.UTF-8")
        # fsync and synchronous_commit are left at their defaults (on); more connections than Stage's pool
        # needs, so a run never queues on max_connections.
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=100"
        started = self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "db"), "-o", options,
                            "-l", str(self.dir / "log"), "-w", "-t", "60", "start", check=False)
        if started.returncode != 0:
            raise SystemExit(f"PostgreSQL did not start: {started.stderr}\n{self.log()}")
        self.pid = int((self.dir / "db" / "postmaster.pid").read_text().splitlines()[0])
        return self

    def setting(self, name: str) -> str:
        """A server setting as the server reports it (to show the run's fsync in the results)."""
        return self._psql(f"SHOW {name}").strip()

    def _psql(self, statement: str) -> str:
        return self._run(str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", "postgres",
                         "-Atc", statement).stdout

    def database(self) -> str:
        """A new, empty database (each run starts from nothing, as SQLite does in a fresh data dir); its URL."""
        name = f"bench_{uuid.uuid4().hex[:12]}"
        self._psql(f"CREATE DATABASE {name}")
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def version(self) -> str:
        return self._psql("SHOW server_version").strip()

    def cpu_seconds(self) -> float:
        """CPU time of the postmaster's whole tree so far (user + system, exited backends included)."""
        return sum(_clock_ticks(pid) for pid in _tree(self.pid)) / os.sysconf("SC_CLK_TCK")

    def log(self) -> str:
        path = self.dir / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def notable_lines(self) -> list[str]:
        return [line for line in self.log().splitlines() if any(mark in line for mark in NOTABLE)]

    def stop(self) -> None:
        if self.pid:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "db"), "stop", "-m", "fast", "-w", check=False)
            self.pid = 0
        shutil.rmtree(self.dir, ignore_errors=True)
