"""GO-to-datagram latency on loopback: Stage's OscSender side by side with a bare python-osc client.

    .venv/bin/python bench/osc_latency.py [-n 2000] [--mode threads|gevent]

One receiver (a plain UDP socket read by its own thread or greenlet) stamps each arrival with
``time.perf_counter_ns()``. GOs alternate between Stage and bare ``SimpleUDPClient``, one at a time,
so both see the same machine at the same moment. A second part sends a burst of 1000 in one go with
each and counts what arrived. Writes bench/results/osc_latency.json and prints a markdown snippet.
"""

from __future__ import annotations

import argparse
import sys

ARGS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGS.add_argument("-n", type=int, default=2000, help="GOs per sender (default 2000)")
ARGS.add_argument("--burst", type=int, default=1000, help="messages in the burst part (default 1000)")
ARGS.add_argument("--mode", choices=["threads", "gevent"], default="threads",
                  help="threads, or the server's gevent with a monkey-patched stdlib")
OPTIONS = ARGS.parse_args()
if OPTIONS.mode == "gevent":
    from gevent import monkey

    monkey.patch_all()

import datetime  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from pythonosc.osc_message import OscMessage as Parsed  # noqa: E402
from pythonosc.udp_client import SimpleUDPClient  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from stage.lighting.messages import message  # noqa: E402
from stage.lighting.sender import OscSender  # noqa: E402
from stage.show.models import OscTarget  # noqa: E402

from harness import save  # noqa: E402


def spawn(fn: Callable[..., None]) -> Any:
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


class Receiver:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.arrivals: dict[tuple[str, int], int] = {}
        self.arrived = threading.Event()
        spawn(self._run)

    def _run(self) -> None:
        while True:
            try:
                data, _ = self.sock.recvfrom(65535)
            except OSError:
                return
            now = time.perf_counter_ns()  # stamp first; parsing is not part of the latency
            msg = Parsed(data)
            self.arrivals[(msg.address, msg.params[0])] = now
            self.arrived.set()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def latency(n: int, receiver: Receiver, stage: OscSender, bare: SimpleUDPClient) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"stage": [], "bare": []}
    senders = {
        "stage": lambda i: stage.send("bench", [message("/stage", i)]),
        "bare": lambda i: bare.send_message("/bare", i),
    }
    for i in range(n):
        for name, send in senders.items():
            receiver.arrived.clear()
            started = time.perf_counter_ns()
            send(i)
            if not receiver.arrived.wait(2):
                raise SystemExit(f"{name} GO {i} did not arrive")
            out[name].append((receiver.arrivals[(f"/{name}", i)] - started) / 1e6)
            time.sleep(0.0002)  # GOs are separate events, not a stream
    return out


def burst(count: int, receiver: Receiver, stage: OscSender, bare: SimpleUDPClient) -> dict[str, dict[str, float]]:
    out = {}
    for name, send in (("bare", lambda: [bare.send_message("/bare-burst", i) for i in range(count)]),
                       ("stage", lambda: stage.send("bench", [message("/stage-burst", i) for i in range(count)]))):
        started = time.perf_counter()
        send()
        returned = time.perf_counter() - started
        time.sleep(1.0)  # generous: anything not here by now was dropped by the receiver's buffer
        arrived = sum(1 for (address, _) in receiver.arrivals if address == f"/{name}-burst")
        out[name] = {"sent": count, "arrived": arrived, "caller_blocked_ms": round(returned * 1000, 2)}
    return out


def main() -> None:
    receiver = Receiver()
    target = OscTarget(name="bench", host="127.0.0.1", port=receiver.port)
    stage = OscSender([target], spawn=spawn, sleep=time.sleep)
    bare = SimpleUDPClient("127.0.0.1", receiver.port)
    latency(50, receiver, stage, bare)  # warm up both paths (imports, first connect, caches)
    figures = latency(OPTIONS.n, receiver, stage, bare)
    bursts = burst(OPTIONS.burst, receiver, stage, bare)
    stage.close()

    stats = {name: {"p50_ms": percentile(v, 50), "p99_ms": percentile(v, 99), "max_ms": max(v)}
             for name, v in figures.items()}
    diff = {k: stats["stage"][k] - stats["bare"][k] for k in ("p50_ms", "p99_ms")}
    machine = {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
               "date": datetime.date.today().isoformat(), "mode": OPTIONS.mode,
               "command": "python " + " ".join(["bench/osc_latency.py", *sys.argv[1:]])}
    result = {"machine": machine, "n": OPTIONS.n, "latency": stats, "difference": diff, "burst": bursts,
              "goal": "Stage p99 within 0.5 ms of bare", "goal_met": diff["p99_ms"] <= 0.5}

    console = Console()
    table = Table(title=f"OSC GO -> datagram received, loopback, n={OPTIONS.n} each ({OPTIONS.mode})")
    for column in ("sender", "p50 ms", "p99 ms", "max ms", f"burst {OPTIONS.burst}: arrived"):
        table.add_column(column, justify="right")
    for name in ("bare", "stage"):
        s = stats[name]
        table.add_row(name, f"{s['p50_ms']:.3f}", f"{s['p99_ms']:.3f}", f"{s['max_ms']:.3f}",
                      str(bursts[name]["arrived"]))
    table.add_row("stage - bare", f"{diff['p50_ms']:+.3f}", f"{diff['p99_ms']:+.3f}", "", "")
    console.print(table)
    save(f"osc_latency_{OPTIONS.mode}", result, markdown(result))
    console.print(f"wrote bench/results/osc_latency_{OPTIONS.mode}.json and docs/benchmarks.md")


def markdown(r: dict[str, Any]) -> str:
    m, s, d, b = r["machine"], r["latency"], r["difference"], r["burst"]
    return "\n".join([
        f"## OSC out latency ({m['date']}, {m['mode']})",
        "",
        f"Machine: {m['nproc']} CPUs, Python {m['python']}, {m['platform']}, mode {m['mode']}. "
        f"Command: `{m['command']}`.",
        "",
        "| sender | p50 ms | p99 ms | max ms | burst of %d: arrived |" % b["stage"]["sent"],
        "|---|---:|---:|---:|---:|",
        *(f"| {n} | {s[n]['p50_ms']:.3f} | {s[n]['p99_ms']:.3f} | {s[n]['max_ms']:.3f} | {b[n]['arrived']} |"
          for n in ("bare", "stage")),
        f"| stage - bare | {d['p50_ms']:+.3f} | {d['p99_ms']:+.3f} | | |",
        "",
        f"Goal (Stage p99 within 0.5 ms of bare): {'met' if r['goal_met'] else 'NOT met'}.",
    ])


if __name__ == "__main__":
    main()
