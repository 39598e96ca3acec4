"""``stage serve --workers 2`` for tests: started on a fresh PostgreSQL database and a test's Redis, ready
once HAProxy has marked both workers up and routes consoles to the conductor; and how to look at each worker."""

from __future__ import annotations

import socket
from pathlib import Path

import requests

from stage.cluster.proxy import up_servers
from tests.conftest import demo_show
from tests.stage_process import StageProcess, descendants, free_port
from tests.waiting import wait_until


def start_workers(data_dir: Path, database: str, redis_url: str, show: Path | None = None,
                  local_rigs: bool = False, attempts: int = 3) -> StageProcess:
    server = StageProcess(show or demo_show(data_dir.parent), data_dir, database=database, local_rigs=local_rigs,
                          port=free_port_run(), extra_args=("--redis", redis_url, "--workers", "2"))
    server.start(timeout=60)
    # HAProxy marks a worker up at its first good health check: wait for both, and for the conductor's route.
    sock = str(server.data_dir / "haproxy.sock")
    try:
        wait_until(lambda: {("everyone", "w1"), ("everyone", "w2")} <= up_servers(sock), 40, "both workers up")
        wait_until(lambda: routed(server), 20, "the proxy to route consoles to the conductor")
    except AssertionError:
        server.stop()
        # The ports after --port were free when probed, not reserved: a client socket's ephemeral port (the
        # same range) can take one meanwhile, and the supervisor then restarts that worker in vain.
        if not (_port_taken(server) and attempts > 1):
            raise
        return start_workers(data_dir, database, redis_url, show, local_rigs, attempts - 1)
    return server


def free_port_run(count: int = 3) -> int:
    """A port P with P..P+count-1 free now: the proxy takes P, the workers the ports after it."""
    while True:
        port = free_port()
        if port + count <= 65535 and all(_bindable(port + k) for k in range(1, count)):
            return port


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_taken(server: StageProcess) -> bool:
    logs = server.data_dir / "workers"
    return any("Address already in use" in path.read_text(errors="replace") for path in logs.glob("w*.out"))


def routed(server: StageProcess) -> bool:
    try:
        return requests.get(f"{server.url}/healthz/conductor?conductor=1", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def worker_url(server: StageProcess, k: int) -> str:
    return f"http://127.0.0.1:{server.port + k}"


def conductor_of(server: StageProcess) -> int | None:
    for k in (1, 2):
        try:
            if requests.get(f"{worker_url(server, k)}/healthz/conductor", timeout=2).status_code == 200:
                return k
        except requests.ConnectionError:
            pass
    return None


def sessions_on(server: StageProcess, k: int, cookies) -> int:
    """Engine.IO sessions in worker ``k`` (its own /healthz, with a crew login: process internals)."""
    return requests.get(f"{worker_url(server, k)}/healthz", cookies=cookies, timeout=5).json()["sessions"]


def worker_pid(server: StageProcess, k: int) -> int | None:
    for pid in descendants(server.proc.pid):
        try:
            command = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if b"--worker-name" in command and command[command.index(b"--worker-name") + 1] == f"w{k}".encode():
            return pid
    return None


def live(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz/live", timeout=2).ok
    except requests.ConnectionError:
        return False


def stagesrv(page) -> str:
    """The worker HAProxy sticks this browser context to (its ``STAGESRV`` cookie: w1 or w2)."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return cookies["STAGESRV"]


def rig_online(server: StageProcess, k: int) -> bool:
    try:
        return requests.get(f"{worker_url(server, k)}/healthz", timeout=5).json()["rigs"]["stage"] == "online"
    except (requests.RequestException, KeyError, ValueError):
        return False
