"""Submit-ack latency with N phones connected and R submissions a second (the audience issue's goal:
p99 <= 100 ms at 2,000 phones and 100/s). Phones are lean simulated ones (stage/rehearse/phone.py).

    .venv/bin/python bench/submit_load.py [--phones 2000] [--rate 100] [--seconds 30] [--database postgresql://...]

bench/store_backends.py runs this on SQLite and PostgreSQL side by side (``run`` with its own server).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from pathlib import Path

import requests
import socketio
from rich.console import Console
from rich.progress import Progress

from harness import REPO, raise_open_files, free_port, machine, percentile, save, start, stop
from stage.rehearse.phone import LeanPhone

SHOW = REPO / "bench" / "shows" / "submit-load.yaml"


async def connect_all(url: str, count: int, progress: Progress) -> list[LeanPhone]:
    phones: list[LeanPhone] = []
    task = progress.add_task("phones joining", total=count)
    semaphore = asyncio.Semaphore(100)

    async def one(index: int) -> None:
        async with semaphore:
            phone = LeanPhone(url)
            await phone.connect()
            ack = await phone.call("join", {"device_key": uuid.uuid4().hex, "name": f"Sim {index}"})
            assert ack["ok"], ack
            phones.append(phone)
            progress.advance(task)

    await asyncio.gather(*(one(i) for i in range(count)))
    return phones


async def submit_at_rate(phones: list[LeanPhone], rate: int, seconds: int, progress: Progress) -> tuple[list[float], int]:
    latencies: list[float] = []
    lost = 0
    task = progress.add_task("submitting", total=rate * seconds)

    async def submit(phone: LeanPhone) -> None:
        nonlocal lost
        sent = time.perf_counter()
        try:
            ack = await phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape",
                                                    "text": "A tiny story about a cape, from a simulated phone."})
            if ack.get("ok"):
                latencies.append((time.perf_counter() - sent) * 1000)
            else:
                lost += 1
        except (asyncio.TimeoutError, Exception):
            lost += 1
        progress.advance(task)

    tasks = []
    begin = time.perf_counter()
    for n in range(rate * seconds):
        await asyncio.sleep(max(0.0, begin + n / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(submit(random.choice(phones))))
    await asyncio.gather(*tasks)
    return latencies, lost


async def run(url: str, phones_wanted: int, rate: int, seconds: int) -> dict:
    with Progress() as progress:
        phones = await connect_all(url, phones_wanted, progress)
        latencies, lost = await submit_at_rate(phones, rate, seconds, progress)
    await asyncio.gather(*(p.close() for p in phones))
    return {"phones": len(phones), "rate": rate, "seconds": seconds, "submits": rate * seconds,
            "acks": len(latencies), "lost": lost,
            "ack_ms": {f"p{q}": round(percentile(latencies, q), 1) for q in (50, 95, 99)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--database", help="the store's postgresql:// URL (default: SQLite in the data directory)")
    args = parser.parse_args()
    raise_open_files()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start(["-m", "stage", "serve", str(SHOW), "--data", str(tmp / "data"), "--bind", "127.0.0.1",
                        "--port", str(port), "--host-password", "bench-pass",
                        *(["--database", args.database] if args.database else [])], f"{url}/healthz", tmp / "stage.log")
        try:
            session = requests.Session()
            session.post(f"{url}/login/host", data={"passphrase": "bench-pass"}, allow_redirects=False)
            host = socketio.Client()
            host.connect(url, namespaces=["/host"], transports=["websocket"],
                         headers={"Cookie": "; ".join(f"{k}={v}" for k, v in session.cookies.items())})
            host.call("go", {}, namespace="/host")
            host.disconnect()
            result = asyncio.run(run(url, args.phones, args.rate, args.seconds))
        finally:
            stop(server)
    ack = result["ack_ms"]
    verdict = "met" if ack["p99"] <= 100 and result["lost"] == 0 else "NOT met"
    Console().print(f"holds {result['phones']} phones: ack p50 {ack['p50']} ms, p95 {ack['p95']} ms, "
                    f"p99 {ack['p99']} ms, {result['lost']} lost; goal p99 <= 100 ms: {verdict}")
    database = " --database postgresql://..." if args.database else ""
    store = "PostgreSQL, synchronous_commit on" if args.database else "SQLite WAL, synchronous=FULL"
    save("submit_load", result, f"""
## Submit ack latency under load ({time.strftime('%Y-%m-%d')})

Machine: {machine()}. Command: `.venv/bin/python bench/submit_load.py --phones {args.phones} --rate {args.rate} --seconds {args.seconds}{database}`.
{result['phones']} lean simulated phones (Engine.IO 4 / Socket.IO 5 over asyncio WebSockets, one process)
joined, then {args.rate} stories a second from random phones for {args.seconds} s; the ack comes after the commit
({store}). Server and phones share the machine's two cores.

| phones | submits | acks | lost | ack p50 | ack p95 | ack p99 |
|---:|---:|---:|---:|---:|---:|---:|
| {result['phones']} | {result['submits']} | {result['acks']} | {result['lost']} | {ack['p50']} ms | {ack['p95']} ms | {ack['p99']} ms |

Goal (p99 ≤ 100 ms, nothing lost): {verdict}.
""")


if __name__ == "__main__":
    main()
