"""Soak: a three-hour night compressed into one hour, watching the server for leaks (issue 14).

Phones churn: the load is `stage rehearse` (the night scenario of bench/phones_held.py) run as
--cohorts staggered cohorts, each holding its share of the phones for --cohort-seconds and leaving,
then replaced by a new cohort (new phones), so phones keep joining and leaving all run long. The rates
are the night's times --rate-multiplier (50 stories/s and 2 approvals/s a night). A display reloads
every --display-reload seconds; the crew records a take (the show's local test-pattern rig) every
--take-every seconds (0: none; a 1080p take costs a lot of one of two cores). Every --sample-every
seconds: server RSS, open descriptors (/proc/PID/fd), greenlets (crew-only field of /healthz).
Growth of each series after warm-up (the first 10 % of the run excluded): goal under 5 %, flat.

    .venv/bin/python bench/soak.py [--minutes 60] [--phones 2000] [--rate-multiplier 10] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness import (REPO, raise_open_files, interrupt, display_key, login_cookie,
                     machine, proc_status_mb, record_or_print, stop)
from phones_held import PASSWORD, cpu_seconds, rehearse_command, start_server
from soak_clients import ReloadingDisplay, Sampler, TakeCrew

SHOW = REPO / "bench" / "shows" / "soak.yaml"
RIG = "soak"
SERIES = ("rss_mb", "fds", "greenlets")
GOAL_PCT = 5.0
MIN_COHORT_S = 20.0  # a cohort shorter than this at the end of the run is not started
console = Console(width=200)


class Cohorts:
    """Staggered `stage rehearse` runs, each replaced by a new one when it ends, until the deadline."""

    def __init__(self, url: str, args: argparse.Namespace, tmp: Path, end: float) -> None:
        self.url, self.args, self.tmp, self.end = url, args, tmp, end
        self.share = max(1, args.phones // args.cohorts)
        self.running: list[tuple[subprocess.Popen, Path]] = []
        self.figures: list[dict] = []
        self.count = 0

    def kill(self) -> None:
        """Interrupted: stop the cohorts still running, each by its own pid."""
        for proc, _ in self.running:
            if proc.poll() is None:
                interrupt(proc)

    def launch(self) -> None:
        left = self.end - time.monotonic()
        if left < MIN_COHORT_S:
            return
        seconds = min(self.args.cohort_seconds, left)
        m, n = self.args.rate_multiplier, self.args.cohorts
        path = self.tmp / f"cohort-{self.count}.json"
        command = rehearse_command(self.url, self.share, path, duration=seconds, ramp=seconds / 5,
                                   submit_rate=50 * m / n, approve_rate=2 * m / n)
        with (self.tmp / f"cohort-{self.count}.log").open("w") as out:  # a file: the live table never blocks it
            self.running.append((subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT), path))
        self.count += 1

    def run(self) -> None:
        stagger = self.args.cohort_seconds / self.args.cohorts
        for _ in range(self.args.cohorts):  # doors open: cohorts arrive a stagger apart
            self.launch()
            self._wait_until(time.monotonic() + stagger, relaunch=True)
        self._wait_until(self.end, relaunch=True)
        for proc, _ in self.running:  # the last ones end by their own duration; wait for their figures
            proc.wait(self.args.cohort_seconds + 120)
        self._collect()

    def _wait_until(self, when: float, relaunch: bool) -> None:
        while time.monotonic() < when:
            time.sleep(0.5)
            if relaunch and self._collect():
                self.launch()

    def _collect(self) -> int:
        """Read the figures of the cohorts that ended; how many ended."""
        ended = [(p, path) for p, path in self.running if p.poll() is not None]
        for item in ended:
            self.running.remove(item)
            if item[1].exists():
                self.figures.append(json.loads(item[1].read_text()))
            else:
                self.figures.append({"failed": True})
        return len(ended)


def children(pid: int) -> list[int]:
    """Child processes of ``pid`` (the local capture agent that `stage serve` starts)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def warm_up_seconds(args: argparse.Namespace) -> float:
    """Samples before this are warm-up: the first 10 % of the run, or until the load is first whole (the
    last cohort of the first round arrived and ramped up), whichever is later. With 4 cohorts of 300 s
    the load is whole only after 285 s; a 10 % warm-up of 40 minutes (240 s) compared a ramp with full load."""
    stagger = args.cohort_seconds / args.cohorts
    return max(args.minutes * 60 * 0.1, stagger * (args.cohorts - 1) + args.cohort_seconds / 5)


def growth(samples: list[dict], key: str, warm_up: float) -> dict:
    """First/last/max after warm-up, growth last vs first, and the least-squares trend over that span,
    both in % of the first value; ``flat`` when both stay under the goal."""
    points = [(s["t"], s[key]) for s in samples if s["t"] >= warm_up and s[key] is not None]
    if len(points) < 2:
        return {"samples": len(points), "flat": None}
    ts, vs = zip(*points)
    mean_t, mean_v = sum(ts) / len(ts), sum(vs) / len(vs)
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / (sum((t - mean_t) ** 2 for t in ts) or 1)
    first = vs[0] or 1
    grown, trend = (vs[-1] - vs[0]) / first * 100, slope * (ts[-1] - ts[0]) / first * 100
    return {"samples": len(points), "first": vs[0], "last": vs[-1], "max": max(vs), "growth_pct": round(grown, 1),
            "trend_pct": round(trend, 1), "flat": abs(grown) < GOAL_PCT and abs(trend) < GOAL_PCT}


def totals(figures: list[dict]) -> dict:
    done = [f for f in figures if not f.get("failed")]
    summed = {k: sum(f[k] for f in done) for k in ("phones_wanted", "phones_connected", "dropped", "connect_failed",
                                                   "submits", "acks", "lost", "updates", "approvals")}
    worst = {f"worst_{k}_p99": max((f[k]["p99"] for f in done if f[k]["p99"] is not None), default=None)
             for k in ("ack_ms", "update_ms")}
    refused = sum(sum(f["refused"].values()) for f in done)
    return {"cohorts": len(figures), "cohorts_failed": len(figures) - len(done), "refused": refused, **summed, **worst}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--phones", type=int, default=2000, help="phones connected at once (all cohorts)")
    parser.add_argument("--rate-multiplier", type=float, default=10, help="times the night's rates")
    parser.add_argument("--cohorts", type=int, default=4)
    parser.add_argument("--cohort-seconds", type=float, default=300, help="how long one cohort of phones stays")
    parser.add_argument("--display-reload", type=float, default=30, help="seconds between display reloads")
    parser.add_argument("--take-every", type=float, default=300, help="seconds between takes (0: no takes)")
    parser.add_argument("--take-seconds", type=float, default=10)
    parser.add_argument("--sample-every", type=float, default=60)
    parser.add_argument("--mode", choices=("gevent", "eventlet"), default="gevent", help="the server's async mode")
    parser.add_argument("--no-record", action="store_true", help="a trial: print, write no results or docs")
    args = parser.parse_args()
    raise_open_files()
    with tempfile.TemporaryDirectory() as tmp_name:
        result = soak(args, Path(tmp_name))
    report(result, args)


def soak(args: argparse.Namespace, tmp: Path) -> dict:
    extra = ["--crew-password", PASSWORD] + ([] if args.take_every else ["--no-local-rigs"])
    server = start_server("stage-eventlet" if args.mode == "eventlet" else "stage", tmp, SHOW, extra)
    halt = threading.Event()
    cohorts = Cohorts(server.url, args, tmp, time.monotonic() + args.minutes * 60)
    try:
        crew = login_cookie(server.url, "crew", PASSWORD)
        sampler = Sampler(server.url, server.proc.pid, crew, args.sample_every, halt)
        clients = [sampler, ReloadingDisplay(server.url, {"name": "main", "key": display_key(server.log, "main")},
                                             args.display_reload, halt)]
        if args.take_every:
            clients.append(TakeCrew(server.url, crew, RIG, args.take_every, args.take_seconds, halt))
        idle_before = sampler.idle()
        for client in clients:
            client.start()
        cohorts.end = time.monotonic() + args.minutes * 60  # from the first phone, not from the server start
        cohorts.run()
        halt.set()
        for client in clients:
            client.join(args.take_seconds + 30)  # a take in progress is stopped first
        idle_after = sampler.idle()  # every phone left: what stays is what leaked
        peak = proc_status_mb(server.proc.pid, "VmHWM")
        cpu = {"server": round(cpu_seconds(server.proc.pid), 1),  # what the takes cost: the local agent's CPU
               "capture_agent": round(sum(cpu_seconds(pid) for pid in children(server.proc.pid)), 1)}
    finally:
        halt.set()
        cohorts.kill()
        stop(server.proc)
    warm_up = warm_up_seconds(args)
    return {"samples": sampler.samples, "growth": {k: growth(sampler.samples, k, warm_up) for k in SERIES},
            "idle": {"before": idle_before, "after": idle_after}, "load": totals(cohorts.figures),
            "peak_rss_mb": peak, "cpu_s": cpu,
            "side_clients": {type(c).__name__: dict(c.counts) for c in clients}}


def report(result: dict, args: argparse.Namespace) -> None:
    table = Table("series", "samples", "first after warm-up", "last", "max", "growth %", "trend %", "flat")
    for key, g in result["growth"].items():
        table.add_row(key, str(g["samples"]), *(str(g.get(k, "-")) for k in ("first", "last", "max", "growth_pct",
                                                                             "trend_pct")),
                      {True: "yes", False: "NO", None: "n/a"}[g["flat"]])
    console.print(table)
    idle = result["idle"]
    idle_text = ", ".join(f"{k} {idle['before'][k]} → {idle['after'][k]}" for k in (*SERIES, "outbox"))
    outbox = max((s["outbox"] or 0 for s in result["samples"]), default=0)
    console.print(f"most packets queued for clients at once (outbox): {outbox}", markup=False)
    console.print(f"idle (no phone connected) before → after the load: {idle_text}", markup=False)
    load, sides = result["load"], result["side_clients"]
    console.print(f"load: {load}\nside clients: {sides}\nCPU seconds: {result['cpu_s']}", markup=False)
    met = all(g["flat"] for g in result["growth"].values())
    command = (f"`.venv/bin/python bench/soak.py --mode {args.mode} --minutes {args.minutes:g} "
               f"--phones {args.phones} --rate-multiplier {args.rate_multiplier:g} --cohorts {args.cohorts} "
               f"--cohort-seconds "
               f"{args.cohort_seconds:g} --display-reload {args.display_reload:g} --take-every {args.take_every:g} "
               f"--take-seconds {args.take_seconds:g} --sample-every {args.sample_every:g}`")
    rows = "\n".join(f"| {k} | {g['samples']} | {g.get('first', '-')} | {g.get('last', '-')} | {g.get('max', '-')} | "
                     f"{g.get('growth_pct', '-')} | {g.get('trend_pct', '-')} | "
                     f"{ {True: 'yes', False: 'NO', None: 'n/a'}[g['flat']] } |" for k, g in result["growth"].items())
    record_or_print(not args.no_record, "soak", {"command": command, **result, "goal_met": met}, f"""
## Soak: a night compressed into {args.minutes:g} minutes ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})

Machine: {machine()}. Command: {command}. Server pinned to CPU 0, the load on CPU 1. {args.phones} phones
in {args.cohorts} staggered cohorts of `stage rehearse`, each staying {args.cohort_seconds:g} s and then
replaced by new phones; {args.rate_multiplier:g}× the night's rates ({50 * args.rate_multiplier:g} stories/s,
{2 * args.rate_multiplier:g} approvals/s); a display reloading every {args.display_reload:g} s; a
{args.take_seconds:g} s take every {args.take_every:g} s (0: none) on the show's local test-pattern rig.
Server sampled every {args.sample_every:g} s while the load ran; growth after warm-up ({warm_up_seconds(args):g} s: 10 % of the run or until the load is first whole, whichever is later): last vs first, and
the least-squares trend over that span, both in % of the first value.

| series | samples | first after warm-up | last | max | growth % | trend % | flat (< 5 %) |
|---|---:|---:|---:|---:|---:|---:|---|
{rows}

With no phone connected, before → after the whole load: {idle_text}. Most Engine.IO packets queued
for clients in one sample (outbox): {outbox}. Peak RSS {result['peak_rss_mb']} MB. CPU seconds: server
{result['cpu_s']['server']}, local capture agent (the takes; it inherits the server's CPU 0, as it would share the
server's machine at a venue) {result['cpu_s']['capture_agent']}. Load, all cohorts: {load['cohorts']} cohorts ({load['cohorts_failed']} failed),
{load['phones_connected']}/{load['phones_wanted']} phones joined, {load['dropped']} dropped, {load['connect_failed']}
could not connect, {load['refused']} refused, {load['acks']}/{load['submits']} stories acked, {load['lost']} lost,
{load['approvals']} approved; worst cohort ack p99 {load['worst_ack_ms_p99']} ms, update p99
{load['worst_update_ms_p99']} ms. Side clients: {sides}. Goal (every series flat, under 5 %): {'met' if met else 'NOT met'}.
""")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything started was stopped on the way out (finally blocks)
        raise SystemExit("interrupted: nothing recorded") from None
