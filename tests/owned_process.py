"""A server process a test owns (redis-server, HAProxy): run in the foreground, stopped by its own pid."""

from __future__ import annotations

import subprocess

STOP_SECONDS = 10


class OwnedProcess:
    proc: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def end(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within STOP_SECONDS."""
        if not self.running:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_SECONDS)
