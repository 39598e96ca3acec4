"""Shared by the benchmarks: start a server process on a free loopback port, percentiles, results."""

from __future__ import annotations

import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # bench scripts import the stage package (e.g. its lean simulated phone)
RESULTS = REPO / "bench" / "results"
DOC = REPO / "docs" / "benchmarks.md"


def raise_open_files() -> None:
    """Every phone is a socket on both sides: lift this process's open-files limit (and so the limit of
    the servers and load processes it starts) to the hard limit before starting anything."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], url: str, log: Path) -> subprocess.Popen:
    out = open(log, "w")
    proc = subprocess.Popen([sys.executable, *args], cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return proc
        except requests.ConnectionError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{args} did not start; see {log}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def interrupt(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a `stage rehearse` by its pid as Ctrl-C would: it stops its own workers, then exits."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        stop(proc)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def proc_status_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of a running process from /proc/PID/status (VmRSS now, VmHWM the peak), in MiB."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith(field + ":"))
    return round(int(line.split()[1]) / 1024, 1)


def open_fds(pid: int) -> int:
    """Open descriptors of a process (sockets, files, pipes): a leak shows as a count that keeps growing."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def login_cookie(url: str, role: str, passphrase: str) -> str:
    """Log in to a console role; the session cookie as a ``Cookie`` header value."""
    session = requests.Session()
    answer = session.post(f"{url}/login/{role}", data={"passphrase": passphrase}, allow_redirects=False, timeout=10)
    if answer.status_code != 302:
        raise RuntimeError(f"login as {role} at {url} was refused (HTTP {answer.status_code})")
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


def display_key(log: Path, name: str) -> str:
    """A display's key, from the URL `stage serve` prints for it at start."""
    return next(line.split("key=")[1].strip() for line in log.read_text().splitlines()
                if f"/display/{name}?key=" in line)


def record_or_print(record: bool, name: str, figures: dict, markdown: str) -> None:
    """``save`` for a real run; for a trial (``--no-record``) the section is only printed."""
    if record:
        save(name, figures, markdown)
    else:
        print(markdown.strip())
        print(f"(--no-record: nothing written to bench/results/{name}.json or {DOC.name})")


def machine() -> str:
    return f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}"


def save(name: str, figures: dict, markdown: str) -> None:
    """Write bench/results/<name>.json and append the section to docs/benchmarks.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps({"date": str(date.today()), "machine": machine(), **figures},
                                                     indent=2))
    if not DOC.exists():
        DOC.write_text("# Benchmarks\n\nFigures from `bench/` (run with `make bench`), newest last. Each compares "
                       "side by side in one run, because these machines are shared and noisy.\n")
    with DOC.open("a") as doc:
        doc.write("\n" + markdown.strip() + "\n")
