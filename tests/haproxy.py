"""A real reverse proxy for tests: Debian's HAProxy in the foreground (``-db``) from a config in a temp dir.

``config_for`` is Stage's own routing (stage/cluster/proxy.py), bound to 127.0.0.1: requests carrying
``?conductor=1``, and every path that is not a phone's, go to whichever server answers 200 on
``/healthz/conductor``; phones spread over the live servers and stick to one by the ``STAGESRV`` cookie.
``HAProxy.in_front_of(servers)`` picks the port.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from stage.cluster.proxy import haproxy_config
from tests.owned_process import OwnedProcess
from tests.stage_process import free_port
from tests.waiting import wait_until



def config_for(port: int, servers: dict[str, int]) -> str:
    """Stage's own proxy config (stage/cluster/proxy.py) on 127.0.0.1:``port`` in front of ``servers``."""
    return haproxy_config("127.0.0.1", port, servers)


class PortTaken(RuntimeError):
    """The frontend's port was taken between free_port()'s probe and HAProxy's bind."""


class HAProxy(OwnedProcess):
    def __init__(self, config_text: str, port: int) -> None:
        self.config_text = config_text
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="stage-haproxy-"))
        self.config = self.dir / "haproxy.cfg"
        self.config.write_text(config_text)
        self.proc: subprocess.Popen | None = None

    @classmethod
    def in_front_of(cls, servers: dict[str, int], retries: int = 3) -> "HAProxy":
        """A started proxy for ``servers`` on a free port (probed again if another process took it)."""
        while True:
            proxy = cls(config_for(port := free_port(), servers), port)
            try:
                return proxy.start()
            except PortTaken:
                proxy.stop()
                if retries == 0:
                    raise
                retries -= 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10) -> "HAProxy":
        checked = subprocess.run(["haproxy", "-c", "-f", str(self.config)], capture_output=True, text=True)
        if checked.returncode != 0:  # say why here, not as a proxy that never answers
            self.stop()
            raise RuntimeError(f"haproxy -c refused the config:\n{checked.stdout}{checked.stderr}")
        with open(self.dir / "haproxy.log", "w") as log:  # a file, not a pipe: nobody has to drain it
            self.proc = subprocess.Popen(["haproxy", "-db", "-f", str(self.config)], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_until(lambda: not self.running or self._accepts(), timeout, what=f"haproxy on {self.port}")
        except AssertionError:
            output = self.log()
            self.stop()
            raise RuntimeError(f"haproxy did not accept on {self.port} in {timeout} s:\n{output}") from None
        if not self.running:  # checked after the connect too: another process may hold the port
            output = self.log()
            self.stop()
            error = PortTaken if "Address already in use" in output else RuntimeError
            raise error(f"haproxy exited {self.proc.returncode}:\n{output}")
        return self

    def stop(self) -> None:
        self.end()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        path = self.dir / "haproxy.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return self.running
        except OSError:
            return False
