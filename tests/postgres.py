"""A real PostgreSQL for tests: Debian's server, a throwaway cluster in a temporary directory.

``initdb`` and ``pg_ctl`` run as the ``postgres`` user when the tests run as root (PostgreSQL refuses
root), on a free loopback port with its unix socket in the cluster's directory, and ``stop`` ends it by
its own postmaster pid (``pg_ctl stop``). One cluster per test process (per xdist worker); each test
gets a database of its own (``fresh_database``), so tests never see each other's rows.

The cluster runs with ``fsync=off``: it speeds up CREATE DATABASE and every commit, and nothing a test
checks survives a power cut anyway (a kill -9 of ``stage serve`` is survived by PostgreSQL's own WAL in
the page cache). Stage's promise of durable acks is ``synchronous_commit = on`` on its connections,
which tests check; the benchmarks run a cluster with fsync on.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from tests.stage_process import free_port

USER = "stage"
# A role that must give its password (scram-sha-256), to test a refused login; every other role is trusted.
PASSWORD_USER, PASSWORD = "stage_pw", "right-passphrase"


def bindir() -> Path:
    """The newest PostgreSQL server installed (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL's server is not installed: `make setup` installs Debian's postgresql")
    return Path(found[-1]).parent


class PostgresCluster:
    def __init__(self, fsync: bool = False) -> None:
        self.bin = bindir()
        self.fsync = fsync
        self.dir = Path(tempfile.mkdtemp(prefix="stage-pg-"))  # not tmp_path: pytest's is root-only (0700)
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [*(["runuser", "-u", "postgres", "--"] if self.as_root else []), *args]
        return subprocess.run(command, capture_output=True, text=True, check=check, cwd="/")

    def start(self) -> "PostgresCluster":
        self._run(str(self.bin / "initdb"), "-D", str(self.dir / "db"), "-A", "trust", "-U", USER, "-E", "UTF8",
                  "--locale", "C.UTF-8", "--no-sync")
        hba = self.dir / "db" / "pg_hba.conf"  # first match wins: the password role's line goes first
        hba.write_text(f"host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        self._start_server()
        self.sql(f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'")
        return self

    def _start_server(self, retries: int = 3) -> None:
        # wal_writer_delay at its longest: an asynchronous commit nobody flushed stays in PostgreSQL's
        # buffers for 10 s, so a crash loses it (tests/unit/test_postgres_store.py shows Stage's acks do not).
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
                   f" -c fsync={'on' if self.fsync else 'off'} -c max_connections=200 -c wal_writer_delay=10000ms")
        started = self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "db"), "-o", options,
                            "-l", str(self.dir / "log"), "-w", "-t", "60", "start", check=False)
        if started.returncode != 0:
            if "Address already in use" in self.log() and retries:  # free_port() probes, it does not reserve
                self.port = free_port()
                return self._start_server(retries - 1)
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr}\n{self.log()}")

    def log(self) -> str:
        path = self.dir / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def url(self, database: str = "postgres", user: str = USER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(statement)

    def fresh_database(self) -> str:
        """A new, empty database; returns its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.sql(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop(self, url: str) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def restart(self) -> None:
        """Stop (fast: every connection cut) if it runs, and start again on the same port."""
        self.stop_server()
        self._start_server()

    def crash(self) -> None:
        """Stop as a power cut would for the database: no checkpoint, every backend gone (WAL recovery next)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "db"), "stop", "-m", "immediate", "-w", check=False)

    def stop_server(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "db"), "stop", "-m", "fast", "-w", check=False)

    def stop(self) -> None:
        self.stop_server()
        shutil.rmtree(self.dir, ignore_errors=True)
