"""A real Redis for tests: Debian's ``redis-server`` on a free loopback port, owned by the test process.

It runs in the foreground (``--daemonize no``) as our own child, so ``stop`` and ``kill`` act on its pid and
nothing else. It keeps no data on disk (``--save "" --appendonly no``): Stage keeps only soft state in
Redis, and a restart that finds the old data again would hide a missing rebuild.

conftest.py will use it like ``postgres`` does, but per test (a crash or restart in one test must not
reach the next one)::

    @pytest.fixture
    def redis_server() -> Iterator[RedisServer]:
        server = RedisServer().start()
        yield server
        server.stop()

and pass ``redis_server.url`` to ``stage serve --redis``; ``redis_server.kill()`` and ``.restart()`` are
the Redis crash and its return, on the same port, as Stage's processes see them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.owned_process import STOP_SECONDS, OwnedProcess
from tests.stage_process import free_port
from tests.waiting import wait_until



class RedisServer(OwnedProcess):
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.dir: Path | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **options) -> redis.Redis:
        """A client for this server that fails at once when the server is away: redis-py's default
        retries for seconds, which would turn a "Redis is down" check into a slow, vague one."""
        options = {"retry": Retry(NoBackoff(), 0), "socket_timeout": 5, "socket_connect_timeout": 2, **options}
        return redis.Redis.from_url(self.url, **options)

    def start(self, timeout: float = 10, retries: int = 3) -> "RedisServer":
        while not self._spawn(timeout):
            # free_port() probes, it does not reserve: another process took the port in between.
            if retries == 0:
                raise RuntimeError(f"redis-server found no free port:\n{self.log()}")
            retries -= 1
            self.port = free_port()
        return self

    def restart(self, timeout: float = 10) -> "RedisServer":
        """Start again on the same port (after ``stop`` or ``kill``; a running server is stopped first).
        No new port: clients hold the old URL, and a Redis coming back is what they must survive."""
        self.end()
        if not self._spawn(timeout):
            raise RuntimeError(f"redis-server could not take back port {self.port}:\n{self.log()}")
        return self

    def kill(self) -> None:
        """A crash: SIGKILL, nothing flushed, every connection cut."""
        if self.running:
            self.proc.kill()
            self.proc.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        self.end()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def log(self) -> str:
        path = self.dir / "redis.log" if self.dir else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def _spawn(self, timeout: float) -> bool:
        """Run redis-server and wait for PING; False if the port was taken, RuntimeError on other failures."""
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="stage-redis-"))
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.dir), "--daemonize", "no"]
        seen = len(self.log())  # the log is kept across restarts: judge only this run's lines
        with open(self.dir / "redis.log", "a") as log:  # a file, not a pipe: nobody has to drain it
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_until(lambda: not self.running or self._pings(), timeout, what=f"redis-server on {self.port}")
        except AssertionError:
            self.kill()
            raise RuntimeError(f"redis-server did not answer PING in {timeout} s:\n{self.log()}") from None
        if self.running:
            return True
        if "Address already in use" in self.log()[seen:]:
            return False
        raise RuntimeError(f"redis-server exited {self.proc.returncode}:\n{self.log()}")

    def _pings(self) -> bool:
        try:
            # Short: a local Redis answers in a millisecond, and whatever else holds a taken port never will.
            with self.client(socket_timeout=0.25, socket_connect_timeout=0.25) as client:
                return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError):
            return False
