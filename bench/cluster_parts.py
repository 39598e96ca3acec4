"""What bench/cluster_scaling.py runs besides Stage: a Redis of its own, and Node's socket.io reference alone,
on @socket.io/redis-adapter, or two of those behind Stage's own HAProxy config."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import requests

from harness import REPO, free_port
from postgres_server import _clock_ticks

from stage.cluster.proxy import haproxy_config, up_servers


class Redis:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout != b"PONG\n":
            if time.monotonic() > deadline:
                raise SystemExit("redis-server did not answer")
            time.sleep(0.05)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def cpu(self) -> float:
        return _clock_ticks(self.proc.pid) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def start_node(kind: str, tmp: Path, redis: Redis) -> tuple[list[subprocess.Popen], str, int]:
    """Node's socket.io: one process, or two behind HAProxy (Stage's own routing config) on the adapter."""
    env = {**os.environ, "NODE_PATH": str(REPO / "node_modules")}
    count = 2 if kind == "node2" else 1
    ports = [free_port() for _ in range(count)]
    queue = [redis.url] if kind != "node" else []
    log = open(tmp / f"{kind}-{ports[0]}.log", "w")
    procs = [subprocess.Popen(["node", "bench/node_server.js", str(p), *queue], cwd=REPO, env=env, stdout=log,
                              stderr=subprocess.STDOUT) for p in ports]
    url = f"http://127.0.0.1:{ports[0]}"
    if count > 1:
        front = free_port()
        config = tmp / f"haproxy-{front}.cfg"
        config.write_text(haproxy_config("127.0.0.1", front, {f"n{k}": p for k, p in enumerate(ports, 1)},
                                         stats_socket=str(tmp / f"haproxy-{front}.sock")))
        procs.append(subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{front}"
    deadline = time.monotonic() + 30
    wanted = {("everyone", f"n{k}") for k in range(1, count + 1)} if count > 1 else set()
    while True:
        try:
            answered = requests.get(f"{url}/healthz", timeout=2).ok
        except requests.RequestException:
            answered = False
        up = up_servers(str(tmp / f"haproxy-{url.rsplit(':', 1)[1]}.sock")) if count > 1 else set()
        if answered and wanted <= up:
            return procs, url, count
        if any(proc.poll() is not None for proc in procs) or time.monotonic() > deadline:
            raise SystemExit(f"{kind} did not start; see {log.name}")
        time.sleep(0.2)


