"""GO-to-display latency with 10 projectors connected: Stage against a bare Flask-SocketIO server.

Each GO is timed from the host's emit to the moment each of the 10 display clients receives the
new scene. Both servers run as their own processes on loopback, measured in the same run with the
same clients, so the ratio holds on a noisy shared machine. Goal (issue 4): Stage's p99 <= 30 ms.

    .venv/bin/python bench/go_latency.py [--gos 300] [--displays 10]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import requests
import socketio
from rich.console import Console
from rich.table import Table

from harness import REPO, free_port, machine, percentile, save, start, stop

SHOW = REPO / "bench" / "shows" / "go-latency.yaml"
PASS = "bench-host-pass"


class Displays:
    """N display clients; records when each sees the scene whose text is the GO's number."""

    def __init__(self, url: str, count: int, auth: dict | None) -> None:
        self.seen: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.clients = []
        for _ in range(count):
            client = socketio.Client(reconnection=False)
            client.on("scene", self._scene, namespace="/display")
            client.connect(url, namespaces=["/display"], auth=auth, transports=["websocket"], wait_timeout=10)
            self.clients.append(client)

    def _scene(self, data: dict) -> None:
        now = time.perf_counter()
        text = data["scene"].get("text")
        if text:
            with self.lock:
                self.seen.setdefault(text, []).append(now)

    def close(self) -> None:
        for client in self.clients:
            client.disconnect()


def run(url: str, host_headers: dict, display_auth: dict | None, gos: int, displays: int) -> dict:
    screens = Displays(url, displays, display_auth)
    host = socketio.Client(reconnection=False)
    host.connect(url, namespaces=["/host"], headers=host_headers, transports=["websocket"], wait_timeout=10)
    time.sleep(0.5)
    last, every = [], []
    for number in range(1, gos + 1):
        sent = time.perf_counter()
        host.call("go", {}, namespace="/host", timeout=10)
        deadline = time.monotonic() + 5
        while len(screens.seen.get(str(number), [])) < displays and time.monotonic() < deadline:
            time.sleep(0.0005)
        arrivals = screens.seen.get(str(number), [])
        every += [(t - sent) * 1000 for t in arrivals]
        if len(arrivals) == displays:
            last.append((max(arrivals) - sent) * 1000)
        time.sleep(0.02)
    host.disconnect()
    screens.close()
    lost = gos * displays - len(every)
    return {"gos": gos, "displays": displays, "lost": lost,
            "all_displays_ms": {p: round(percentile(last, q), 2) for p, q in (("p50", 50), ("p99", 99))},
            "each_display_ms": {p: round(percentile(every, q), 2) for p, q in (("p50", 50), ("p99", 99))}}


def stage_server(tmp: Path) -> tuple:
    port = free_port()
    proc = start(["-m", "stage", "serve", str(SHOW), "--data", str(tmp / "stage-data"), "--bind", "127.0.0.1",
                  "--port", str(port), "--host-password", PASS], f"http://127.0.0.1:{port}/healthz", tmp / "stage.log")
    url = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.post(f"{url}/login/host", data={"passphrase": PASS}, allow_redirects=False)
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    key = next(line.split("key=")[1].strip() for line in (tmp / "stage.log").read_text().splitlines()
               if "/display/main?key=" in line)
    return proc, url, {"Cookie": cookie}, {"name": "main", "key": key}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gos", type=int, default=300)
    parser.add_argument("--displays", type=int, default=10)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bare_port = free_port()
        bare = start([str(REPO / "bench" / "bare_socketio.py"), str(bare_port)],
                     f"http://127.0.0.1:{bare_port}/healthz", tmp / "bare.log")
        stage, url, headers, auth = stage_server(tmp)
        try:
            with console.status("bare Flask-SocketIO…"):
                floor = run(f"http://127.0.0.1:{bare_port}", {}, None, args.gos, args.displays)
            with console.status("Stage…"):
                ours = run(url, headers, auth, args.gos, args.displays)
        finally:
            stop(stage)
            stop(bare)
    table = Table(title=f"GO → {args.displays} displays, {args.gos} GOs (ms)")
    for column in ("server", "all displays p50", "all displays p99", "each display p50", "each p99", "lost"):
        table.add_column(column, justify="right")
    for name, r in (("bare Flask-SocketIO", floor), ("Stage", ours)):
        table.add_row(name, str(r["all_displays_ms"]["p50"]), str(r["all_displays_ms"]["p99"]),
                      str(r["each_display_ms"]["p50"]), str(r["each_display_ms"]["p99"]), str(r["lost"]))
    console.print(table)
    ratio = ours["all_displays_ms"]["p99"] / max(floor["all_displays_ms"]["p99"], 0.001)
    verdict = "met" if ours["all_displays_ms"]["p99"] <= 30 else "NOT met"
    console.print(f"Stage p99 / bare p99 = {ratio:.2f}; goal p99 <= 30 ms: {verdict}")
    markdown = f"""
## GO → display latency ({time.strftime('%Y-%m-%d')})

Machine: {machine()}. Command: `.venv/bin/python bench/go_latency.py --gos {args.gos} --displays {args.displays}`.
From the host's `go` emit until each of {args.displays} display clients has the new scene; both servers
on loopback in the same run, same python-socketio clients, gevent.

| server | all displays p50 | all displays p99 | each display p50 | each display p99 | lost |
|---|---:|---:|---:|---:|---:|
| bare Flask-SocketIO (floor) | {floor['all_displays_ms']['p50']} | {floor['all_displays_ms']['p99']} | {floor['each_display_ms']['p50']} | {floor['each_display_ms']['p99']} | {floor['lost']} |
| Stage | {ours['all_displays_ms']['p50']} | {ours['all_displays_ms']['p99']} | {ours['each_display_ms']['p50']} | {ours['each_display_ms']['p99']} | {ours['lost']} |

Stage p99 / bare p99: {ratio:.2f}. Goal (Stage p99 ≤ 30 ms): {verdict}.
"""
    save("go_latency", {"bare": floor, "stage": ours, "ratio_p99": round(ratio, 2)}, markdown)


if __name__ == "__main__":
    main()
