"""Issue 17: the night scenario (B1) through the proxy with 1 and 2 serve processes, and what the message
queue costs, side by side in one run; the figures a capacity model for a bigger machine is built from.

Servers, each on a fresh PostgreSQL database of one throwaway cluster (fsync on) and, where named, one Redis:

- ``one``: ``stage serve --database PG``, no queue, reached directly (today's single process);
- ``one+queue``: the same with ``--redis`` (every emit also published and heard back), directly;
- ``workers1`` / ``workers2``: ``stage serve --workers N --redis --database``, through HAProxy;
- ``node``, ``node+queue``, ``node2``: the reference, Node's socket.io 4.8.4 (bench/node_server.js, in memory)
  alone, with ``@socket.io/redis-adapter`` 8.3.0, and two of those behind the same HAProxy config.

The load is ``stage rehearse`` (the same for every server; ``--processes`` load processes). Nothing is pinned:
two workers need both cores, so servers, proxy, Redis, PostgreSQL and the load share this 2-core machine,
and throughput here says little; CPU seconds per phone do, which is what the model uses.

    .venv/bin/python bench/cluster_scaling.py [--sizes 500,1500] [--duration 60] [--ramp 20]
        [--servers one,one+queue,workers1,workers2] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from rich.console import Console

from harness import REPO, free_port, machine, raise_open_files, record_or_print
from phones_held import PASSWORD, SHOW, TARGET, rehearse_command
from cluster_parts import Redis, start_node
from postgres_server import PostgresServer, _clock_ticks, _tree

from stage.cluster.proxy import up_servers

console = Console(width=200)
SERVERS = ("one", "one+queue", "workers1", "workers2", "node", "node+queue", "node2")


def cpu_of(pids: list[int]) -> float:
    return sum(_clock_ticks(pid) for pid in pids) / os.sysconf("SC_CLK_TCK")


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def start(kind: str, tmp: Path, database: str, redis: Redis) -> tuple[subprocess.Popen, str, int]:
    port = free_port()
    command = [sys.executable, "-m", "stage", "serve", str(SHOW), "--data", str(tmp / f"data-{port}"), "--bind",
               "127.0.0.1", "--port", str(port), "--host-password", PASSWORD, "--database", database,
               "--no-local-rigs"]
    workers = int(kind[-1]) if kind.startswith("workers") else 0
    if kind != "one":
        command += ["--redis", redis.url]
    if workers:
        command += ["--workers", str(workers)]
    log = open(tmp / f"{kind}-{port}.log", "w")
    proc = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    wanted = {("everyone", f"w{k}") for k in range(1, workers + 1)}
    deadline = time.monotonic() + 60
    while True:  # every worker up in the proxy (its stats socket) and the conductor's route, or the server up
        try:
            routed = requests.get(f"{url}/healthz/conductor?conductor=1", timeout=2).status_code == 200
        except requests.RequestException:
            routed = False
        up = up_servers(str(tmp / f"data-{port}" / "haproxy.sock")) if workers else set()
        if routed and wanted <= up and (not workers or any(b == "conductor" for b, _ in up)):
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{kind} did not start; see {log.name}")
        time.sleep(0.2)
    return proc, url, workers


def go(url: str) -> None:
    import socketio

    from harness import login_cookie

    host = socketio.Client()
    host.connect(f"{url}?conductor=1", namespaces=["/host"], transports=["websocket"],
                 headers={"Cookie": login_cookie(url, "host", PASSWORD)})
    host.call("go", {}, namespace="/host")
    host.disconnect()


def one_run(kind: str, phones: int, args: argparse.Namespace, tmp: Path, pg: PostgresServer, redis: Redis) -> dict:
    if kind.startswith("node"):
        procs, url, workers = start_node(kind, tmp, redis)
    else:
        proc, url, workers = start(kind, tmp, pg.database(), redis)
        procs = [proc]
    try:
        if not kind.startswith("node"):
            go(url)
        tree = [pid for proc in procs for pid in _tree(proc.pid)]
        stage_pids = [pid for pid in tree if command_name(pid).startswith(("python", "node"))]
        proxy_pids = [pid for pid in tree if command_name(pid) == "haproxy"]
        before = (cpu_of(stage_pids), cpu_of(proxy_pids), redis.cpu(), pg.cpu_seconds())
        figures_path = tmp / f"{kind}-{phones}.json"
        command = rehearse_command(url, phones, figures_path, duration=args.duration, ramp=args.ramp,
                                   submit_rate=args.submit_rate, processes=args.processes)[3:]  # no taskset
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=args.duration * 3 + 120)
        after = (cpu_of(stage_pids), cpu_of(proxy_pids), redis.cpu(), pg.cpu_seconds())
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(60)
    if not figures_path.exists():
        raise SystemExit(f"rehearse against {kind} wrote no figures:\n{done.stderr[-2000:]}")
    figures = json.loads(figures_path.read_text())
    stage_cpu, proxy_cpu, redis_cpu, pg_cpu = (round(b - a, 1) for a, b in zip(before, after))
    held = (figures["phones_connected"] == phones and figures["dropped"] == 0 and figures["lost"] == 0
            and (figures["ack_ms"]["p99"] or 1e9) <= TARGET["ack_p99"]
            and (figures["update_ms"]["p99"] or 1e9) <= TARGET["update_p99"])
    return {"server": kind, "processes": max(workers, 1), "phones": phones, "held": held, "stage_cpu_s": stage_cpu,
            "proxy_cpu_s": proxy_cpu, "redis_cpu_s": redis_cpu, "postgres_cpu_s": pg_cpu,
            **{k: figures[k] for k in ("phones_connected", "dropped", "lost", "submits", "acks", "approvals",
                                       "updates", "ack_ms", "update_ms")}}


def per_phone(runs: list[dict], kind: str) -> dict | None:
    """CPU seconds per second of the run, as a + b × phones, from this server's two smallest sizes."""
    mine = sorted((r for r in runs if r["server"] == kind), key=lambda r: r["phones"])
    if len(mine) < 2:
        return None
    (small, large), seconds = mine[:2], mine[0]["duration_s"]

    def total(r: dict, part: str) -> float:
        return r[part] / seconds

    out = {}
    for part in ("stage_cpu_s", "proxy_cpu_s", "redis_cpu_s", "postgres_cpu_s"):
        b = (total(large, part) - total(small, part)) / (large["phones"] - small["phones"])
        out[part] = {"per_phone": b, "fixed": total(small, part) - b * small["phones"]}
    return out


def model(runs: list[dict], cores: int = 8, busy: float = 0.75) -> dict:
    """Phones an ``cores``-core server carries, from the measured costs of workers2 (each Stage process pays
    its fixed cost and its phones' share; the proxy, Redis and PostgreSQL are shared), each core at ``busy``,
    with the split of cores between workers and the shared parts that carries the most phones."""
    costs = per_phone(runs, "workers2")
    if costs is None:
        return {}
    stage, shared = costs["stage_cpu_s"], [costs[p] for p in ("proxy_cpu_s", "redis_cpu_s", "postgres_cpu_s")]
    per_process_fixed = stage["fixed"] / 2
    shared_per_phone = sum(p["per_phone"] for p in shared)
    shared_fixed = sum(p["fixed"] for p in shared)
    per_worker = max(0.0, (busy - per_process_fixed) / stage["per_phone"]) if stage["per_phone"] > 0 else 0.0
    best = (0, 0, "")
    for workers in range(1, cores):
        by_workers = per_worker * workers
        by_shared = ((busy * (cores - workers) - shared_fixed) / shared_per_phone if shared_per_phone > 0
                     else float("inf"))
        phones = int(min(by_workers, by_shared))
        if phones > best[0]:
            best = (phones, workers, "workers" if by_workers <= by_shared else "shared")
    return {"cores": cores, "busy": busy, "workers": best[1], "shared_cores": cores - best[1],
            "stage_cpu_per_phone_s": round(stage["per_phone"], 6),
            "stage_fixed_per_process": round(per_process_fixed, 3),
            "phones_per_worker": int(per_worker), "shared_cpu_per_phone_s": round(shared_per_phone, 6),
            "phones": best[0], "limited_by": best[2]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1500")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--ramp", type=float, default=20)
    parser.add_argument("--submit-rate", type=float, default=20)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--report-from", type=Path, metavar="JSON", help="run nothing: report again from an "
                        "earlier run's bench/results JSON (after the report or the model changed)")
    args = parser.parse_args()
    if args.report_from:
        earlier = json.loads(args.report_from.read_text())
        report(earlier["runs"], args, command=earlier["command"])
        return
    raise_open_files()
    sizes, servers = [int(s) for s in args.sizes.split(",")], args.servers.split(",")
    runs = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pg, redis = PostgresServer(cpu=None).start(), Redis(tmp)
        try:
            for phones in sizes:
                for kind in servers:  # servers inner: each size's servers run back to back
                    console.print(f"{kind}: {phones} phones, {args.duration:g} s ...")
                    runs.append({**one_run(kind, phones, args, tmp, pg, redis), "duration_s": args.duration})
                    r = runs[-1]
                    console.print(f"  held={r['held']} ack p99 {r['ack_ms']['p99']} update p99 {r['update_ms']['p99']}"
                                  f" stage CPU {r['stage_cpu_s']} s, proxy {r['proxy_cpu_s']}, redis "
                                  f"{r['redis_cpu_s']}, postgres {r['postgres_cpu_s']}")
        finally:
            redis.stop()
            pg.stop()
    report(runs, args)


def report(runs: list[dict], args: argparse.Namespace, command: str | None = None) -> None:
    command = command or (f"`.venv/bin/python bench/cluster_scaling.py --sizes {args.sizes} --servers {args.servers} "
                          f"--duration {args.duration:g} --ramp {args.ramp:g} --submit-rate {args.submit_rate:g} "
                          f"--processes {args.processes}`")
    rows = "\n".join(
        f"| {r['server']} | {r['processes']} | {r['phones']} | {'yes' if r['held'] else 'NO'} "
        f"| {r['phones_connected']} "
        f"| {r['dropped']} | {r['lost']} | {r['ack_ms']['p50']} | {r['ack_ms']['p99']} | {r['update_ms']['p50']} | "
        f"{r['update_ms']['p99']} | {r['stage_cpu_s']} | {r['proxy_cpu_s']} | {r['redis_cpu_s']} | "
        f"{r['postgres_cpu_s']} | {round(r['stage_cpu_s'] / r['phones'] / r['duration_s'] * 1e6)} |" for r in runs)
    sizes = sorted({r["phones"] for r in runs})
    pairs = (("one+queue", "one", "queue/no queue Stage CPU"), ("node+queue", "node", "Node with the adapter/without"),
             ("workers2", "node2", "Stage/Node server CPU, two processes each"),
             ("workers1", "workers2", "CPU efficiency of 2 processes against 1 (workers1 CPU / workers2)"))
    ratios = []
    for phones in sizes:
        by = {r["server"]: r for r in runs if r["phones"] == phones}
        for top, bottom, what in pairs:
            if top in by and bottom in by and by[bottom]["stage_cpu_s"]:
                ratios.append(f"{phones} phones: {what} {by[top]['stage_cpu_s'] / by[bottom]['stage_cpu_s']:.2f}")
    capacity = model(runs)
    record_or_print(not args.no_record, "cluster_scaling", {"command": command, "runs": runs, "model": capacity,
                                                            "ratios": ratios}, f"""
## Issue 17: 1 and 2 processes behind the proxy, the queue ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})

Machine: {machine()}. Command: {command}. Nothing pinned: servers, HAProxy, Redis 7, PostgreSQL (fsync on) and
`stage rehearse` share both cores, so latencies here are of a crowded machine; CPU seconds are each part's own
(from /proc, over the run). Scenario as B1 (phones join over the ramp, stories at the submit rate, 2 approvals/s,
feed updates to every phone once a second).

| server | processes | phones | held | connected | dropped | lost | ack p50 | ack p99 | update p50 | update p99 | server CPU s (Stage or Node) | proxy CPU s | Redis CPU s | PostgreSQL CPU s | server CPU µs per phone-second |
|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}

Side by side: {"; ".join(ratios) or "n/a"}.

Capacity model for an {capacity.get('cores', 8)}-core venue server (from workers2's two sizes: CPU = fixed + per
phone × phones for each part, each core at {capacity.get('busy', 0.75):.0%}; the best split: {capacity.get('workers')}
workers and {capacity.get('shared_cores')} cores for HAProxy, Redis and PostgreSQL):
{json.dumps(capacity) if capacity else "n/a (needs two sizes)"}.
""")


if __name__ == "__main__":
    main()
