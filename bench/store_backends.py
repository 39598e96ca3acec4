"""The store on SQLite and on PostgreSQL, B2 and B1 side by side in one run (issue 16, item 6).

B2 (submit ack under load, bench/submit_load.py) and B1 (the night scenario, bench/phones_held.py) on each.
Goal: PostgreSQL's ack p99 within 1.3x of SQLite's, both under 100 ms (B2's goal), nothing lost.

    .venv/bin/python bench/store_backends.py [--b2-phones 2000] [--b2-rate 100] [--b2-seconds 30]
        [--b1-phones 5000] [--b1-seconds 300] [--b1-ramp 60] [--backends sqlite,postgresql] [--no-record]

Each run gets a fresh `stage serve` (fresh data directory; on PostgreSQL a fresh database in one
throwaway cluster, bench/postgres_server.py, fsync on, Stage's connections synchronous_commit on).
The server side is on CPU 0: `stage serve` and PostgreSQL's processes share it, as one venue machine
would run them, so the database's work competes with the server's as SQLite's (in the server process)
does. The load is on CPU 1: this process's lean phones for B2, `stage rehearse` for B1. Server CPU is the
`stage serve` process; database CPU is every process of the postmaster's tree (exited backends included),
both read from /proc before and after the load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import submit_load
from harness import machine, raise_open_files, record_or_print, stop
from phones_held import TARGET, cpu_seconds, one_run, start_server
from postgres_server import PostgresServer

BACKENDS = ("sqlite", "postgresql")
RATIO_GOAL = 1.3
ACK_P99_GOAL_MS = 100.0
COLUMNS = ("bench", "store", "phones", "dropped", "lost", "acks/submits", "ack p50", "ack p95", "ack p99",
           "update p99", "server CPU s", "database CPU s", "server + database CPU s")
NOTABLE = ("Traceback", "ERROR", "CRITICAL", "WARNING")  # server log lines worth a look after a run
console = Console(width=200)


def serve_args(backend: str, pg: PostgresServer | None) -> list[str]:
    return ["--database", pg.database()] if backend == "postgresql" and pg else []


def log_notes(backend: str, bench: str, log: Path) -> list[str]:
    """The server log's notable lines (a store error would show here before it shows in the figures)."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if any(m in line for m in NOTABLE)]
    return [f"{bench} {backend}: server log: {line[:300]}" for line in lines[:5]] + (
        [f"{bench} {backend}: server log: ... {len(lines) - 5} more"] if len(lines) > 5 else [])


def b2_run(backend: str, args: argparse.Namespace, tmp: Path, pg: PostgresServer | None) -> dict:
    server = start_server("stage", tmp, submit_load.SHOW, serve_args(backend, pg))
    try:
        cpu_before = cpu_seconds(server.proc.pid)
        database_before = pg.cpu_seconds() if pg and backend == "postgresql" else None
        # Joins and submits both: a join is a write too, and run() does them in one go.
        result = asyncio.run(submit_load.run(server.url, args.b2_phones, args.b2_rate, args.b2_seconds))
        cpu = cpu_seconds(server.proc.pid) - cpu_before
        database = pg.cpu_seconds() - database_before if database_before is not None else None
    finally:
        stop(server.proc)
    return {"backend": backend, **result, "dropped": args.b2_phones - result["phones"],
            "server_cpu_s": round(cpu, 1), "database_cpu_s": None if database is None else round(database, 1),
            "notes": log_notes(backend, "B2", server.log)}


def b1_run(backend: str, args: argparse.Namespace, tmp: Path, pg: PostgresServer | None) -> dict:
    scenario = argparse.Namespace(duration=args.b1_seconds, ramp=b1_ramp(args), submit_rate=args.b1_submit_rate,
                                  processes=1)
    earlier = set(tmp.glob("stage-*.log"))  # start_server names its log by port; this run's is the new one
    with console.status(f"B1 {backend}: {args.b1_phones} phones, {args.b1_seconds:g} s ..."):
        run = one_run("stage", args.b1_phones, scenario, tmp, serve_args(backend, pg),
                      pg.cpu_seconds if pg and backend == "postgresql" else None)
    run.setdefault("database_cpu_s", None)
    notes = [note for log in set(tmp.glob("stage-*.log")) - earlier for note in log_notes(backend, "B1", log)]
    return {"backend": backend, **run, "notes": notes}


def b1_ramp(args: argparse.Namespace) -> float:
    """A short trial's phones still get time at full strength: the ramp is at most a third of the run."""
    return round(min(args.b1_ramp, args.b1_seconds / 3), 1)


def ratio(runs: list[dict]) -> float | None:
    """PostgreSQL's ack p99 over SQLite's, when both ran and acked something."""
    p99 = {r["backend"]: r["ack_ms"]["p99"] for r in runs}
    if not p99.get("sqlite") or not p99.get("postgresql"):
        return None
    return round(p99["postgresql"] / p99["sqlite"], 2)


def goal(runs: list[dict], under_ms: float | None) -> bool:
    """Within RATIO_GOAL of SQLite, nothing dropped or lost, and (B2) both p99 under ``under_ms``."""
    value = ratio(runs)
    return (value is not None and value <= RATIO_GOAL and all(r["dropped"] == 0 and r["lost"] == 0 for r in runs)
            and (under_ms is None or all(r["ack_ms"]["p99"] < under_ms for r in runs)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--b2-phones", type=int, default=2000)
    parser.add_argument("--b2-rate", type=int, default=100, help="B2 stories a second, all phones")
    parser.add_argument("--b2-seconds", type=int, default=30, help="B2 submitting time (joins come first)")
    parser.add_argument("--b1-phones", type=int, default=5000)
    parser.add_argument("--b1-seconds", type=float, default=300, help="B1 duration, the ramp included")
    parser.add_argument("--b1-ramp", type=float, default=60, help="B1 joins over this (at most a third of the run)")
    parser.add_argument("--b1-submit-rate", type=float, default=50, help="B1 stories a second (the night's)")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help="which stores, in this order (e.g. postgresql,sqlite to swap who goes first)")
    parser.add_argument("--database-cpu", type=int, choices=(0, 1), default=0,
                        help="PostgreSQL's core: 0 with the server (one core for the whole server side, as "
                             "SQLite has), 1 with the load (a database core of its own, as on a venue server)")
    parser.add_argument("--benches", default="b2,b1", help="which benchmarks (b2, b1 or both), in this order")
    parser.add_argument("--no-record", action="store_true", help="a trial: print, write no results or docs")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if unknown := set(backends) - set(BACKENDS):
        raise SystemExit(f"unknown backend(s): {', '.join(sorted(unknown))}")
    raise_open_files()
    two_cpus = (os.cpu_count() or 1) > 1
    if two_cpus:  # B2's phones are this process: on CPU 1, the load's side (children pin themselves)
        os.sched_setaffinity(0, {1})
    pg = PostgresServer(cpu=args.database_cpu if two_cpus else None) if "postgresql" in backends else None
    b2: list[dict] = []
    b1: list[dict] = []
    pg_info: dict = {}
    try:
        if pg:
            pg.start()
            pg_info = {"version": pg.version(), "fsync": pg.setting("fsync"),
                       "synchronous_commit_default": pg.setting("synchronous_commit")}
            console.print(f"PostgreSQL {pg_info['version']} on 127.0.0.1:{pg.port} (postmaster {pg.pid}, "
                          f"fsync {pg_info['fsync']})")
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            for backend in backends if "b2" in args.benches else ():
                console.print(f"B2 {backend}: {args.b2_phones} phones, {args.b2_rate}/s for {args.b2_seconds} s ...")
                b2.append(b2_run(backend, args, tmp, pg))
                summary(b2[-1])
            for backend in backends if "b1" in args.benches else ():
                console.print(f"B1 {backend}: {args.b1_phones} phones, {args.b1_seconds:g} s ...")
                b1.append(b1_run(backend, args, tmp, pg))
                summary(b1[-1])
        pg_notes = [f"PostgreSQL log: {line[:300]}" for line in pg.notable_lines()[:10]] if pg else []
    finally:
        if pg:
            pg.stop()
    report(b2, b1, pg_info, pg_notes, args)


def summary(r: dict) -> None:
    database = "" if r["database_cpu_s"] is None else f", database CPU {r['database_cpu_s']} s"
    console.print(f"  ack p50 {r['ack_ms']['p50']} ms, p99 {r['ack_ms']['p99']} ms, dropped {r['dropped']}, "
                  f"lost {r['lost']}, server CPU {r['server_cpu_s']} s{database}")


def cpu_text(r: dict) -> tuple[str, str, str]:
    """Server, database and total CPU seconds; SQLite's store works inside the server process."""
    if r["database_cpu_s"] is None:
        return str(r["server_cpu_s"]), "(in server)", str(r["server_cpu_s"])
    return str(r["server_cpu_s"]), str(r["database_cpu_s"]), str(round(r["server_cpu_s"] + r["database_cpu_s"], 1))


def report(b2: list[dict], b1: list[dict], pg_info: dict, pg_notes: list[str], args: argparse.Namespace) -> None:
    table = Table(*COLUMNS, title="Store backends: SQLite and PostgreSQL (ms)")
    rows = []
    for bench, runs in (("B2", b2), ("B1", b1)):
        for r in runs:
            update = str(r["update_ms"]["p99"]) if "update_ms" in r else "—"
            cells = [bench, r["backend"], str(r["phones"]), str(r["dropped"]), str(r["lost"]),
                     f"{r['acks']}/{r['submits']}", str(r["ack_ms"]["p50"]), str(r["ack_ms"]["p95"]),
                     str(r["ack_ms"]["p99"]), update, *cpu_text(r)]
            table.add_row(*cells)
            rows.append("| " + " | ".join(cells) + " |")
    console.print(table)
    notes = [n for r in (*b2, *b1) for n in r["notes"]] + pg_notes
    for note in notes:
        console.print(note, markup=False)
    ratios = {"b2_ack_p99": ratio(b2), "b1_ack_p99": ratio(b1)}
    met = {"b2": goal(b2, ACK_P99_GOAL_MS), "b1": goal(b1, None)}
    ran = {"b2": bool(b2), "b1": bool(b1)}  # a bench left out (--benches) is not a goal missed
    verdicts = {k: ("met" if v else "NOT met") if ran[k] else "not run" for k, v in met.items()}
    console.print(f"PostgreSQL / SQLite ack p99: B2 ×{ratios['b2_ack_p99'] or '-'}, "
                  f"B1 ×{ratios['b1_ack_p99'] or '-'}; "
                  f"B2 goal (≤ {RATIO_GOAL}x, both < {ACK_P99_GOAL_MS:g} ms, none lost): {verdicts['b2']}; "
                  f"B1 (≤ {RATIO_GOAL}x, none dropped or lost): {verdicts['b1']}")
    command = (f"`.venv/bin/python bench/store_backends.py --b2-phones {args.b2_phones} --b2-rate {args.b2_rate} "
               f"--b2-seconds {args.b2_seconds} --b1-phones {args.b1_phones} --b1-seconds {args.b1_seconds:g} "
               f"--b1-ramp {args.b1_ramp:g} --b1-submit-rate {args.b1_submit_rate:g} --backends {args.backends} "
               f"--database-cpu {args.database_cpu} --benches {args.benches}`")
    postgres = "No PostgreSQL run"
    if pg_info:
        postgres = (f"PostgreSQL {pg_info['version']}, a throwaway cluster on loopback, fsync "
                    f"{pg_info['fsync']}, Stage's connections `synchronous_commit = on`")
    pg_core = ("with the server, one core for the whole server side as SQLite has, so every round trip to the "
               "database waits for the core the server is busy on" if args.database_cpu == 0 else
               "with the load generator, a core apart from the server's as a venue server would give it")
    held = ", ".join(f"{r['backend']} {'yes' if r['held'] else 'NO'}" for r in b1)
    notes_text = ("\n\n" + "\n".join(f"- {n}" for n in notes)) if notes else " none."
    record_or_print(not args.no_record, "store_backends",
                    {"command": command, "postgresql": pg_info, "b2": b2, "b1": b1, "ratios": ratios,
                     "goal_met": met, "notes": notes,
                     "scenario": {"b1_ramp": b1_ramp(args), "b1_submit_rate": args.b1_submit_rate}}, f"""
## The store on SQLite and on PostgreSQL: B2 and B1 side by side ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})

Machine: {machine()}. Command: {command}. {postgres}; SQLite WAL, each ack after an fsync of the WAL that covers
it (grouped), in a data directory on the same disk. Each run on a fresh `stage serve` (on PostgreSQL, a fresh
database). `stage serve` on CPU 0, the load on CPU 1 (`taskset`); PostgreSQL on CPU {args.database_cpu}:
{pg_core}. Nothing else ran on the machine.
B2: {args.b2_phones} lean simulated phones join, then {args.b2_rate} stories a second from random phones for
{args.b2_seconds} s (bench/submit_load.py). B1: the night scenario of bench/phones_held.py (`stage rehearse`),
{args.b1_phones} phones joining over {b1_ramp(args):g} s, {args.b1_submit_rate:g} stories/s, 2 approvals/s, feed
updates, {args.b1_seconds:g} s in all. Server CPU: the `stage serve` process; database CPU: the postmaster's
whole process tree (backends, WAL writer, checkpointer; exited backends included), from /proc before and
after the load (B2: joins and submits; B1: the whole rehearsal). On SQLite the store's work is in the
server's CPU. Latencies in ms.

| {" | ".join(COLUMNS)} |
|---|---|{"---:|" * (len(COLUMNS) - 2)}
{chr(10).join(rows)}

PostgreSQL / SQLite ack p99: B2 ×{ratios['b2_ack_p99'] or '-'}, B1 ×{ratios['b1_ack_p99'] or '-'}. Goal (issue 16:
PostgreSQL within {RATIO_GOAL}x of SQLite's ack p99, both under {ACK_P99_GOAL_MS:g} ms, none lost): B2
{verdicts['b2']}. B1 (within {RATIO_GOAL}x, none dropped or lost; its own targets, ack p99 ≤ {TARGET['ack_p99']:g} ms
and update p99 ≤ {TARGET['update_p99'] / 1000:g} s, held: {held or 'n/a'}): {verdicts['b1']}.

Log lines worth a look (server and PostgreSQL logs):{notes_text}
""")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything started was stopped on the way out (finally blocks)
        raise SystemExit("interrupted: nothing recorded") from None
