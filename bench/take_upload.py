"""Take upload throughput: Stage's resumable, verified upload against a bare gevent upload server.

One take file (a real H.264 + AAC MP4 made with PyAV, grown to the asked size with an MP4 `free`
box so it stays valid) is sent in 8 MiB PUTs, then completed. Stage's complete checks size and
sha256, probes the file with PyAV in its media worker process, moves it into the media library and
commits the take; the floor only hashes. Both servers run on loopback in the same run.

    .venv/bin/python bench/take_upload.py [--mb 256] [--chunk-mb 8]
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
import socketio
from rich.console import Console
from rich.table import Table

from harness import REPO, free_port, machine, save, start, stop

sys.path.insert(0, str(REPO))
from tests.take_files import make_take  # noqa: E402

PASS = "bench-crew-pass"


def grown_take(path: Path, megabytes: int) -> bytes:
    data = make_take(path, seconds=2.0).read_bytes()
    pad = megabytes * 1024 * 1024 - len(data) - 8
    return data + struct.pack(">I", pad + 8) + b"free" + bytes(pad)  # an MP4 box players skip


def send(url: str, take_id: str, data: bytes, chunk: int) -> dict:
    headers = {"Authorization": f"Bearer {PASS}"}
    began = time.perf_counter()
    offset = 0
    with requests.Session() as http:
        while offset < len(data):
            response = http.put(f"{url}/api/takes/{take_id}/upload", params={"offset": offset},
                                data=data[offset:offset + chunk], headers=headers, timeout=120)
            response.raise_for_status()
            offset = response.json()["received"]
        uploaded = time.perf_counter()
        body = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "rig": "stage", "slate": {}}
        response = http.post(f"{url}/api/takes/{take_id}/complete", json=body, headers=headers, timeout=600)
        assert response.ok and response.json()["ok"], response.text
    done = time.perf_counter()
    mb = len(data) / 1024 ** 2
    return {"upload_s": round(uploaded - began, 2), "upload_mb_s": round(mb / (uploaded - began), 1),
            "complete_s": round(done - uploaded, 2), "total_s": round(done - began, 2)}


class StageTakes:
    """A Stage server with a python-socketio agent for rig "stage" and a crew console that starts takes."""

    def __init__(self, tmp: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = start(["-m", "stage", "serve", str(REPO / "shows" / "tiny-stories.yaml"), "--data",
                           str(tmp / "data"), "--bind", "127.0.0.1", "--port", str(port), "--no-local-rigs",
                           "--crew-password", PASS, "--osc-dry-run"], f"{self.url}/healthz", tmp / "stage.log")
        self.agent = socketio.Client(reconnection=False)
        self.agent.on("record", lambda data: {"ok": True, "take_id": data["take_id"]}, namespace="/capture")
        self.agent.connect(self.url, namespaces=["/capture"], auth={"token": PASS, "rig": "stage"},
                           transports=["websocket"])
        login = requests.Session()
        login.post(f"{self.url}/login/crew", data={"passphrase": PASS}, allow_redirects=False)
        cookie = "; ".join(f"{k}={v}" for k, v in login.cookies.items())
        self.crew = socketio.Client(reconnection=False)
        self.crew.connect(self.url, namespaces=["/crew"], headers={"Cookie": cookie}, transports=["websocket"])

    def new_take(self) -> str:
        ack = self.crew.call("record", {"rig": "stage"}, namespace="/crew", timeout=10)
        assert ack["ok"], ack
        return ack["take_id"]

    def close(self) -> None:
        self.crew.disconnect()
        self.agent.disconnect()
        stop(self.proc)


def median(runs: list[dict]) -> dict:
    return {key: sorted(r[key] for r in runs)[len(runs) // 2] for key in runs[0]}


def make_unique(data: bytes, n: int) -> bytes:
    """Each Stage round a different file (the library is content-addressed: same bytes, no move)."""
    return data[:-4] + n.to_bytes(4, "big")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--chunk-mb", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    chunk = args.chunk_mb * 1024 ** 2
    console = Console()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = grown_take(tmp / "take.mp4", args.mb)
        bare_port = free_port()
        bare = start([str(REPO / "bench" / "bare_upload.py"), str(bare_port)],
                     f"http://127.0.0.1:{bare_port}/healthz", tmp / "bare.log")
        stage = StageTakes(tmp)
        floors, ours = [], []
        try:
            for round_ in range(args.rounds):  # alternate, so neither server gets the warm (or cold) machine
                with console.status(f"round {round_ + 1}/{args.rounds}…"):
                    floors.append(send(f"http://127.0.0.1:{bare_port}", str(uuid.uuid4()), data, chunk))
                    ours.append(send(stage.url, stage.new_take(), make_unique(data, round_), chunk))
        finally:
            stage.close()
            stop(bare)
    ours_runs = ours
    floor, ours = median(floors), median(ours)
    table = Table(title=f"Take upload, {args.mb} MiB in {args.chunk_mb} MiB PUTs (median of {args.rounds})")
    for column in ("server", "upload s", "upload MiB/s", "complete s", "total s"):
        table.add_column(column, justify="right")
    for name, r in (("bare gevent upload", floor), ("Stage", ours)):
        table.add_row(name, str(r["upload_s"]), str(r["upload_mb_s"]), str(r["complete_s"]), str(r["total_s"]))
    console.print(table)
    markdown = f"""
## Take upload ({time.strftime('%Y-%m-%d')})

Machine: {machine()}. Command: `.venv/bin/python bench/take_upload.py --mb {args.mb} --chunk-mb {args.chunk_mb} --rounds {args.rounds}`.
One {args.mb} MiB take (a valid MP4) in {args.chunk_mb} MiB PUTs on loopback, then `complete`. Stage's
complete verifies size and sha256, probes with PyAV in the media worker, moves the file into the
library and commits the take; the floor (bench/bare_upload.py, gevent + Flask) only appends,
fsyncs and hashes. Same run, same client, the servers alternating; medians of {args.rounds} rounds.

| server | upload s | upload MiB/s | complete s | total s |
|---|---:|---:|---:|---:|
| bare gevent upload (floor) | {floor['upload_s']} | {floor['upload_mb_s']} | {floor['complete_s']} | {floor['total_s']} |
| Stage | {ours['upload_s']} | {ours['upload_mb_s']} | {ours['complete_s']} | {ours['total_s']} |

Stage total / floor total: {ours['total_s'] / max(floor['total_s'], 0.001):.2f}. The complete step's extra time is the
worker process start, the PyAV probe and the move into the library; none of it runs in the event loop.
"""
    save("take_upload", {"bare": floors, "stage": ours_runs, "mb": args.mb, "chunk_mb": args.chunk_mb}, markdown)


if __name__ == "__main__":
    main()
