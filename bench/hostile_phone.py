"""Hostile phone: the night's load with and without one client sending the worst it is allowed
(issue 14). Two phases in one run, each on a fresh server: the night scenario of bench/phones_held.py
(`stage rehearse`: phones join, stories at the night's rate, approvals, feed updates), then the same
load while bench/attacks.py sends max-size and 16 MiB WebSocket frames on /audience, oversized
long-polling POSTs and an OSC flood, as fast as it can. Goal: with it, ack p99 <= 250 ms, no phone dropped.

    .venv/bin/python bench/hostile_phone.py [--phones 500] [--seconds 60] [--frame-cap 16384] [--no-record]

The phones' message cap is read from the server's transport (``stage.realtime.transport.PHONE``)
or given with --frame-cap: frames go just under and just over it. The server log's
growth is watched: an OSC flood that makes the server log past --log-cap-mb stops (and says so) rather
than fill the shared disk. --attacks picks some of the attacks, to tell their effects apart.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from attacks import KINDS, Hostile, Plan
from harness import (REPO, raise_open_files, interrupt, free_port, machine,
                     open_fds, proc_status_mb, record_or_print, stop)
from stage.rehearse.tally import Tally
from phones_held import Server, TARGET, rehearse_command, start_server

SHOW = REPO / "bench" / "shows" / "hostile.yaml"
PHASES = ("without", "with")
console = Console(width=200)


def run_phase(phase: str, args: argparse.Namespace, tmp: Path) -> dict:
    osc_port = free_port()  # a free TCP port number is as good a guess for UDP on loopback
    kind = "stage-eventlet" if args.mode == "eventlet" else "stage"
    server = start_server(kind, tmp, SHOW, ["--osc-port", str(osc_port)])
    figures_path = tmp / f"{phase}.json"
    load: subprocess.Popen | None = None
    hostile = Hostile(Plan(server.url, args.frame_cap, args.poll_bytes, osc_port, args.osc_rate, kinds=args.attacks))
    try:
        before = {"rss_mb": proc_status_mb(server.proc.pid), "fds": open_fds(server.proc.pid)}
        load_log = tmp / f"rehearse-{phase}.log"  # a file, not a pipe: its live table must never block it
        with load_log.open("w") as out:
            load = subprocess.Popen(rehearse_command(server.url, args.phones, figures_path, duration=args.seconds,
                                                     ramp=args.ramp, submit_rate=args.submit_rate),
                                    cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        if phase == "with":  # once the load is in: the rehearsal's own health check is not the thing measured
            _wait_for_text(load_log, "Rehearsing", load)
            hostile.start(cpu=1 if (os.cpu_count() or 1) > 1 else None)
        _watch(load, server, hostile, args)
        hostile.stop()
        after = {"rss_mb": proc_status_mb(server.proc.pid), "fds": open_fds(server.proc.pid),
                 "peak_rss_mb": proc_status_mb(server.proc.pid, "VmHWM")}
        stderr = load_log.read_text()
    finally:
        hostile.stop()
        if load is not None and load.poll() is None:  # interrupted: the load goes too, by its pid
            interrupt(load)
        stop(server.proc)
    if figures_path.exists():
        figures = json.loads(figures_path.read_text())
    else:  # the load could not run (e.g. the server stopped answering): say so in the table, keep the rest
        figures = Tally().figures(args.phones)
        figures["notes"] = [f"stage rehearse wrote no figures: {stderr.strip()[-300:]}"]
        console.print(f"[red]{phase}: stage rehearse wrote no figures[/red]: {stderr.strip()[-300:]}")
    return {"phase": phase, "rss_before_mb": before["rss_mb"], "rss_after_mb": after["rss_mb"],
            "peak_rss_mb": after["peak_rss_mb"], "fds_before": before["fds"], "fds_after": after["fds"],
            "server_log_mb": round(server.log.stat().st_size / 2**20, 1),
            "attacks": dict(sorted(hostile.counts.items())),
            **{k: figures[k] for k in ("phones_wanted", "phones_connected", "dropped", "connect_failed", "refused",
                                       "submits", "acks", "errors", "lost", "updates", "ack_ms", "update_ms",
                                       "load_loop_lag_ms", "notes")}}


def _watch(load: subprocess.Popen, server: Server, hostile: Hostile, args: argparse.Namespace) -> None:
    """Wait for the load to finish; stop the OSC flood if the server's log runs away with the disk."""
    deadline = time.monotonic() + args.seconds * 3 + 120
    while load.poll() is None:
        if time.monotonic() > deadline:
            load.kill()
            break
        if server.log.stat().st_size > args.log_cap_mb * 2**20 and not hostile._osc_off:
            hostile.stop_osc(f"the server log passed {args.log_cap_mb} MB")
        time.sleep(0.5)
    load.wait(10)


def phone_cap() -> int:
    """The phones' message cap, as the server's transport defines it."""
    from stage.realtime.allowances import PHONE

    return PHONE.cap


def _wait_for_text(path: Path, text: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60, help="seconds per phase (joins included)")
    parser.add_argument("--ramp", type=float, default=10, help="seconds over which the phones join")
    parser.add_argument("--submit-rate", type=float, default=50, help="stories a second, all phones (the night's)")
    parser.add_argument("--frame-cap", type=int, default=phone_cap(),
                        help="the /audience message cap in bytes (default: the server's, stage.realtime.transport.PHONE)")
    parser.add_argument("--poll-bytes", type=int, default=400_000, help="body of one oversized polling POST")
    parser.add_argument("--osc-rate", type=float, default=2000, help="OSC datagrams a second (0: unpaced)")
    parser.add_argument("--attacks", default=",".join(KINDS), type=lambda text: frozenset(text.split(",")),
                        help=f"which attacks, comma-separated (default all: {','.join(KINDS)})")
    parser.add_argument("--log-cap-mb", type=int, default=200)
    parser.add_argument("--mode", choices=("gevent", "eventlet"), default="gevent", help="the server's async mode")
    parser.add_argument("--no-record", action="store_true", help="a trial: print, write no results or docs")
    args = parser.parse_args()
    raise_open_files()
    runs = []
    with tempfile.TemporaryDirectory() as tmp_name:
        for phase in PHASES:
            console.print(f"{phase} the hostile phone: {args.phones} phones, {args.seconds:g} s ...")
            runs.append(run_phase(phase, args, Path(tmp_name)))
    report(runs, args)


def _ratio(runs: list[dict], series: str) -> float | None:
    quiet, loud = (r[series]["p99"] for r in runs)
    return round(loud / quiet, 2) if quiet and loud else None


def report(runs: list[dict], args: argparse.Namespace) -> None:
    table = Table("hostile phone", "connected", "dropped", "failed", "lost", "ack p50", "ack p99", "update p50",
                  "update p99", "RSS MB before→after (peak)", "fds before→after", "server log MB", "load lag p99")
    for r in runs:
        table.add_row(r["phase"], f"{r['phones_connected']}/{r['phones_wanted']}", str(r["dropped"]),
                      str(r["connect_failed"]), str(r["lost"]), str(r["ack_ms"]["p50"]), str(r["ack_ms"]["p99"]),
                      str(r["update_ms"]["p50"]), str(r["update_ms"]["p99"]),
                      f"{r['rss_before_mb']}→{r['rss_after_mb']} ({r['peak_rss_mb']})",
                      f"{r['fds_before']}→{r['fds_after']}", str(r["server_log_mb"]),
                      str(r["load_loop_lag_ms"]["p99"]))
    console.print(table)
    for r in runs:
        for note in r["notes"]:
            console.print(f"{r['phase']}: note: {note}", markup=False)
    loud = runs[1]
    ratios = {"ack_p99": _ratio(runs, "ack_ms"), "update_p99": _ratio(runs, "update_ms")}
    met = (loud["ack_ms"]["p99"] is not None and loud["ack_ms"]["p99"] <= TARGET["ack_p99"] and loud["dropped"] == 0
           and loud["connect_failed"] == 0 and loud["phones_connected"] == loud["phones_wanted"])
    verdict = "met" if met else "NOT met"
    console.print(f"with/without: ack p99 ×{ratios['ack_p99']}, update p99 ×{ratios['update_p99']}; "
                  f"goal (with it: ack p99 ≤ 250 ms, none dropped): {verdict}")
    command = (f"`.venv/bin/python bench/hostile_phone.py --mode {args.mode} --phones {args.phones} "
               f"--seconds {args.seconds:g} --ramp {args.ramp:g} --submit-rate {args.submit_rate:g} "
               f"--frame-cap {args.frame_cap} --poll-bytes {args.poll_bytes} --osc-rate {args.osc_rate:g} "
               f"--attacks {','.join(sorted(args.attacks))}`")
    rows = "\n".join(
        f"| {r['phase']} | {r['phones_connected']}/{r['phones_wanted']} | {r['dropped']} | {r['connect_failed']} | "
        f"{r['lost']} | {r['acks']}/{r['submits']} | {r['ack_ms']['p50']} | {r['ack_ms']['p99']} | "
        f"{r['update_ms']['p50']} | {r['update_ms']['p99']} | {r['rss_before_mb']} → {r['rss_after_mb']} "
        f"({r['peak_rss_mb']}) | {r['fds_before']} → {r['fds_after']} | {r['server_log_mb']} | "
        f"{r['load_loop_lag_ms']['p99']} |" for r in runs)
    attacks = "; ".join(f"{k} {v}" for k, v in loud["attacks"].items()) or "none"
    record_or_print(not args.no_record, "hostile_phone",
                    {"command": command, "runs": runs, "ratios": ratios, "goal_met": met}, f"""
## Hostile phone: the night's load with and without one hostile client ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})

Machine: {machine()}. Command: {command}. Each phase on a fresh server pinned to CPU 0; `stage rehearse`
and the hostile client on CPU 1. Night scenario: {args.phones} phones join over {args.ramp:g} s,
{args.submit_rate:g} stories/s, 2 approvals/s, feed updates, {args.seconds:g} s a phase. The hostile client
(one address) sends, all at once and back to back: `feed` frames of {args.frame_cap - 64} and
{args.frame_cap + 1024} bytes on /audience, 16 MiB text and binary frames, {args.poll_bytes}-byte long-polling
POSTs (4 in flight), and `/stage/ping` OSC datagrams with a 16,001-character type tag at {args.osc_rate:g}/s.
Latencies in ms (other phones only).

| hostile phone | connected | dropped | connect failed | lost | acks/submits | ack p50 | ack p99 | update p50 | update p99 | server RSS MB before → after (peak) | fds before → after | server log MB | load-tool lag p99 |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|
{rows}

With / without: ack p99 ×{ratios['ack_p99']}, update p99 ×{ratios['update_p99']}. Goal (with it: ack p99 ≤
250 ms, no phone dropped): {verdict}. What the server did with each attack: {attacks}.
""")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything started was stopped on the way out (finally blocks)
        raise SystemExit("interrupted: nothing recorded") from None
