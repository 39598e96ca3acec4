"""B1 phones held and B2 submit ack latency under load: the night scenario against Stage, the bare
Flask-SocketIO server (the floor of our stack) and Node's socket.io (the reference), side by side.

The load is `stage rehearse` itself (one load tool for every server): phones join over the ramp,
50 stories a second overall, 2 approvals a second by a moderator client, every phone gets the wall
(feed) updates, 10 % of phones recommend once a minute. The server is pinned to CPU 0, the load to CPU 1.

    .venv/bin/python bench/phones_held.py [--sizes 500,1000,2000,5000] [--duration 300] [--ramp 60]
        [--servers stage,bare,node,stage-eventlet]

Node's socket.io comes from package.json (npm ci); set NODE_PATH to use a node_modules elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import socketio
from rich.console import Console
from rich.table import Table

from harness import REPO, login_cookie, raise_open_files, free_port, machine, save, stop

SHOW = REPO / "bench" / "shows" / "night.yaml"
PASSWORD = "bench-pass"
TARGET = {"ack_p99": 250.0, "update_p99": 2000.0}
console = Console(width=220)


class Server(NamedTuple):
    proc: subprocess.Popen
    url: str
    log: Path


def server_command(kind: str, port: int, data: Path, show: Path = SHOW, extra: Sequence[str] = ()) -> list[str]:
    if kind.startswith("stage"):
        mode = "eventlet" if kind.endswith("eventlet") else "gevent"
        return [sys.executable, "-m", "stage", "serve", str(show), "--data", str(data), "--bind", "127.0.0.1",
                "--port", str(port), "--host-password", PASSWORD, "--async-mode", mode, *extra]
    if kind.startswith("bare"):
        return [sys.executable, "bench/bare_audience.py", str(port), "eventlet" if kind.endswith("eventlet") else "gevent"]
    if kind == "node":
        return ["node", "bench/node_server.js", str(port)]
    raise SystemExit(f"unknown server {kind!r}")


def start_server(kind: str, tmp: Path, show: Path = SHOW, extra: Sequence[str] = ()) -> Server:
    """Start a server pinned to CPU 0, wait for /healthz, and (Stage) press GO to open the prompt.
    ``show`` and ``extra`` (more ``stage serve`` options) let other benchmarks run their own night."""
    port = free_port()
    url = f"{'https' if '--tls-cert' in extra else 'http'}://127.0.0.1:{port}"  # TLS: the caller's CA in the env
    log = open(tmp / f"{kind}-{port}.log", "w")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("NODE_PATH", str(REPO / "node_modules"))
    command = server_command(kind, port, tmp / f"data-{port}", show, extra)
    proc = subprocess.Popen(["taskset", "-c", "0", *command], cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/healthz", timeout=1)
            break
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise SystemExit(f"{kind} did not start; see {log.name}")
            time.sleep(0.2)
    if kind.startswith("stage"):  # open the prompt: the host presses GO
        host = socketio.Client()
        host.connect(url, namespaces=["/host"], transports=["websocket"],
                     headers={"Cookie": login_cookie(url, "host", PASSWORD)})
        host.call("go", {}, namespace="/host")
        host.disconnect()
    return Server(proc, url, Path(log.name))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rehearse_command(url: str, phones: int, figures_path: Path, *, duration: float, ramp: float,
                     submit_rate: float = 50, approve_rate: float = 2, processes: int = 1) -> list[str]:
    """The night's load as `stage rehearse` on CPU 1 (the server has CPU 0), figures to ``figures_path``."""
    return ["taskset", "-c", "1", sys.executable, "-m", "stage", "rehearse", "--url", url, "--phones", str(phones),
            "--submit-rate", str(submit_rate), "--approve-rate", str(approve_rate), "--recommend-share", "0.1",
            "--duration", str(duration), "--ramp", str(ramp), "--processes", str(processes),
            "--host-password", PASSWORD, "--json", str(figures_path)]


def one_run(kind: str, phones: int, args: argparse.Namespace, tmp: Path, extra: Sequence[str] = (),
            database_cpu: Callable[[], float] | None = None) -> dict:
    """One size against one server. ``extra`` (more ``stage serve`` options, e.g. ``--database``) and
    ``database_cpu`` (a database server's CPU seconds so far, read over the same window as the server's)
    let bench/store_backends.py run this on either store."""
    proc, url, _ = start_server(kind, tmp, extra=extra)
    load_before = os.getloadavg()[0]
    figures_path = tmp / f"{kind}-{phones}-{proc.pid}.json"  # one file per run: a size may run twice (two stores)
    database_cpu_s = None
    try:
        cpu_before = cpu_seconds(proc.pid)
        database_before = database_cpu() if database_cpu else 0.0
        command = rehearse_command(url, phones, figures_path, duration=args.duration, ramp=args.ramp,
                                   submit_rate=args.submit_rate, processes=args.processes)
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=args.duration * 3 + 120)
        cpu = cpu_seconds(proc.pid) - cpu_before
        if database_cpu:
            database_cpu_s = round(database_cpu() - database_before, 1)
        rss = int(next(line for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                       if line.startswith("VmHWM")).split()[1]) // 1024
    finally:
        stop(proc)
    if not figures_path.exists():
        raise SystemExit(f"rehearse against {kind} wrote no figures:\n{done.stderr[-2000:]}")
    figures = json.loads(figures_path.read_text())
    held = (figures["phones_connected"] == phones and figures["dropped"] == 0 and figures["lost"] == 0
            and (figures["ack_ms"]["p99"] or 1e9) <= TARGET["ack_p99"]
            and (figures["update_ms"]["p99"] or 1e9) <= TARGET["update_p99"])
    return {"server": kind, "phones": phones, "held": held, "server_cpu_s": round(cpu, 1), "server_peak_rss_mb": rss,
            **({"database_cpu_s": database_cpu_s} if database_cpu else {}),
            "machine_load_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            **{k: figures[k] for k in ("phones_connected", "dropped", "refused", "connect_failed", "submits", "acks",
                                       "errors", "lost", "approvals", "recommends", "updates", "ack_ms", "update_ms",
                                       "min_update_gap_ms", "load_loop_lag_ms", "feed_messages")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000,5000")
    parser.add_argument("--servers", default="stage,bare,node")
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--ramp", type=float, default=60)
    parser.add_argument("--submit-rate", type=float, default=50)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--name", default="phones_held")
    parser.add_argument("--report-from", type=Path, metavar="JSON",
                        help="run nothing: report again from an earlier run's bench/results JSON (e.g. after the "
                             "report itself changed)")
    args = parser.parse_args()
    if args.report_from:
        earlier = json.loads(args.report_from.read_text())
        runs = earlier["runs"]
        for key, value in earlier.get("scenario", {}).items():  # older files: pass the run's flags again
            setattr(args, key, value)
        servers = list(dict.fromkeys(r["server"] for r in runs))
        report(runs, sorted({r["phones"] for r in runs}), servers, args, command=earlier["command"])
        return
    raise_open_files()
    sizes, servers = [int(s) for s in args.sizes.split(",")], args.servers.split(",")
    runs = []
    with tempfile.TemporaryDirectory() as tmp_name:
        for phones in sizes:  # sizes outer, servers inner: each size's servers run back to back
            for kind in servers:
                console.print(f"{kind}: {phones} phones, {args.duration:g} s ...")
                runs.append(one_run(kind, phones, args, Path(tmp_name)))
                r = runs[-1]
                console.print(f"  held={r['held']} ack p99 {r['ack_ms']['p99']} ms, update p99 {r['update_ms']['p99']} ms, "
                              f"dropped {r['dropped']}, lost {r['lost']}, server CPU {r['server_cpu_s']} s")
    report(runs, sizes, servers, args)


def capacity(runs: list[dict], kind: str) -> int:
    """The largest size this server held with every target met (0 when none)."""
    return max([r["phones"] for r in runs if r["server"] == kind and r["held"]], default=0)


def crossing(runs: list[dict], kind: str) -> dict:
    """Capacity at equal latency: the number of phones at which this server's p99 reaches the target
    (whichever of ack or update reaches it first), interpolated on log-log axes between the sizes run.
    ``at_least`` when it never reached the target in the sizes run (the largest size is then a floor)."""
    import math

    mine = sorted((r for r in runs if r["server"] == kind), key=lambda r: r["phones"])

    def load(r: dict) -> float:  # > 1 past the target; a dropped phone or lost story counts as past it
        if r["dropped"] or r["lost"] or r["phones_connected"] < r["phones"]:
            return math.inf
        return max((r["ack_ms"]["p99"] or math.inf) / TARGET["ack_p99"],
                   (r["update_ms"]["p99"] or math.inf) / TARGET["update_p99"])

    previous = None
    for r in mine:
        if load(r) > 1:
            if previous is None:
                return {"phones": 0, "at_least": False}
            if math.isinf(load(r)):
                return {"phones": previous["phones"], "at_least": False}
            x0, x1 = math.log(previous["phones"]), math.log(r["phones"])
            y0, y1 = math.log(load(previous)), math.log(load(r))
            x = x0 + (0 - y0) * (x1 - x0) / (y1 - y0) if y1 != y0 else x1
            return {"phones": int(round(math.exp(x))), "at_least": False}
        previous = r
    return {"phones": mine[-1]["phones"] if mine else 0, "at_least": True}


def ratio_text(mine: dict, bare: dict) -> str:
    """A crossing ratio, honest about floors: a server that never reached the target has only a
    lower bound on its capacity, so the ratio is a bound too (or unknown when both are)."""
    if not bare["phones"] or not mine["phones"]:
        return "n/a"
    value = f"{mine['phones'] / bare['phones']:.2f}"
    if mine["at_least"] and bare["at_least"]:
        return "n/a (neither reached the target)"
    if mine["at_least"]:
        return "≥ " + value
    if bare["at_least"]:
        return "≤ " + value
    return value


def report(runs: list[dict], sizes: list[int], servers: list[str], args: argparse.Namespace,
           command: str | None = None) -> None:
    table = Table("server", "phones", "held", "dropped", "lost", "ack p50", "ack p99", "update p50", "update p99",
                  "server CPU s", "peak RSS MB", "load-tool lag p99")
    for r in runs:
        table.add_row(r["server"], str(r["phones"]), "yes" if r["held"] else "NO", str(r["dropped"]), str(r["lost"]),
                      str(r["ack_ms"]["p50"]), str(r["ack_ms"]["p99"]), str(r["update_ms"]["p50"]),
                      str(r["update_ms"]["p99"]), str(r["server_cpu_s"]), str(r["server_peak_rss_mb"]),
                      str(r["load_loop_lag_ms"]["p99"]))
    console.print(table)
    caps = {kind: capacity(runs, kind) for kind in servers}
    ratios = {f"{kind}/bare": round(caps[kind] / caps["bare"], 2) for kind in servers if "bare" in caps and caps["bare"]}
    crossings = {kind: crossing(runs, kind) for kind in servers}
    cross_ratios = {f"{kind}/bare": ratio_text(crossings[kind], crossings["bare"])
                    for kind in servers if kind != "bare" and "bare" in crossings}
    # Server CPU for the same load, size by size (only where both did all the work: none dropped or
    # lost): where no server saturates, the nearest measure of how many phones each carries on a core.
    complete = [r for r in runs if not (r["dropped"] or r["lost"]) and r["phones_connected"] >= r["phones"]]
    cpu_ratios = {f"{kind}/bare": {r["phones"]: round(b["server_cpu_s"] / r["server_cpu_s"], 2)
                                   for r in complete if r["server"] == kind
                                   for b in complete if b["server"] == "bare" and b["phones"] == r["phones"]
                                   and r["server_cpu_s"]}
                  for kind in servers if kind != "bare" and "bare" in servers}
    plot = REPO / "docs" / f"{args.name}.png"
    draw(runs, servers, plot)
    command = command or (f"`.venv/bin/python bench/phones_held.py --sizes {args.sizes} --servers {args.servers} "
                          f"--duration {args.duration:g} --ramp {args.ramp:g} --submit-rate {args.submit_rate:g}`")
    rows = "\n".join(
        f"| {r['server']} | {r['phones']} | {'yes' if r['held'] else 'NO'} | {r['phones_connected']} | {r['dropped']} | "
        f"{r['lost']} | {r['acks']}/{r['submits']} | {r['ack_ms']['p50']} | {r['ack_ms']['p99']} | "
        f"{r['update_ms']['p50']} | {r['update_ms']['p99']} | {r['server_cpu_s']} | {r['server_peak_rss_mb']} | "
        f"{r['load_loop_lag_ms']['p99']} | {r['machine_load_1min'][0]}→{r['machine_load_1min'][1]} |"
        for r in runs)
    save(args.name, {"command": command, "runs": runs, "capacity": caps, "ratios": ratios, "crossings": crossings,
                     "crossing_ratios": cross_ratios, "cpu_ratios": cpu_ratios,
                     "scenario": {"ramp": args.ramp, "duration": args.duration, "submit_rate": args.submit_rate}}, f"""
## B1 phones held, B2 submit ack under load ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})

Machine: {machine()}. Command: {command}. Server pinned to CPU 0, `stage rehearse` (one process) to CPU 1
(`taskset`); other engineers' jobs shared the machine. Night scenario: phones join over {args.ramp:g} s,
{args.submit_rate:g} stories/s overall, 2 approvals/s by a moderator client, 10 % of phones recommend once a
minute, {args.duration:g} s in all. Latencies in ms; update = feed update arrival minus the record's approval
time on the server (batched once a second, so about 500 ms is the floor of p50).

| server | phones | held | connected | dropped | lost | acks/submits | ack p50 | ack p99 | update p50 | update p99 | server CPU s | peak RSS MB | load-tool loop lag p99 | machine load (1 min) |
|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
{rows}

Capacity (largest size held with none dropped or lost, ack p99 ≤ 250 ms, update p99 ≤ 2 s): {caps}.
Ratios to the bare Flask-SocketIO server: {ratios or 'n/a'}. Plot: `docs/{plot.name}`.

Capacity at equal latency (phones where p99 reaches the target, log-log between sizes; "≥" when never
reached): {", ".join(f"{k} {'≥ ' if v['at_least'] else ''}{v['phones']}" for k, v in crossings.items())}.
Ratios: {cross_ratios or 'n/a'}. Capacity for the same CPU (bare's server CPU / this server's, by size):
{cpu_ratios or 'n/a'}.
""")


def draw(runs: list[dict], servers: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ack, update) = plt.subplots(1, 2, figsize=(11, 4.2))
    for kind in servers:
        mine = sorted((r for r in runs if r["server"] == kind), key=lambda r: r["phones"])
        xs = [r["phones"] for r in mine]
        ack.plot(xs, [r["ack_ms"]["p99"] for r in mine], marker="o", label=kind)
        update.plot(xs, [r["update_ms"]["p99"] for r in mine], marker="o", label=kind)
    for axis, title, target in ((ack, "submit ack p99 (ms)", 250), (update, "feed update p99 (ms)", 2000)):
        axis.axhline(target, color="grey", linestyle="--", linewidth=1, label="target")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("phones")
        axis.set_title(title)
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
