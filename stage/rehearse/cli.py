"""``stage rehearse``: hold a simulated audience against a running Stage and say whether the night holds.

Exit status: 0 the night held (every phone joined, nothing lost, dropped or refused); 1 it ran but
did not hold; 2 it could not run (server down, passphrase refused); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import queue
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from stage.rehearse.crowd import Plan, work
from stage.rehearse.host import HostSession, Moderator, RehearsalError, health
from stage.rehearse.tally import Tally, percentile, verdict

log = logging.getLogger(__name__)
console = Console(highlight=False, soft_wrap=True, stderr=True)


@click.command()
@click.option("--url", required=True, help="The Stage server, e.g. http://192.168.1.20:8080")
@click.option("--phones", type=click.IntRange(1, 100_000), required=True, help="Simulated phones.")
@click.option("--submit-rate", type=click.FloatRange(0), default=5.0, show_default=True,
              help="Stories a second, all phones together (during the ramp, in proportion to those joined).")
@click.option("--duration", type=click.FloatRange(1), default=60.0, show_default=True,
              help="Seconds, joins included.")
@click.option("--ramp", type=click.FloatRange(0), default=None,
              help="Seconds over which phones join (default: a sixth of the duration).")
@click.option("--recommend-share", type=click.FloatRange(0, 1), default=0.1, show_default=True,
              help="Share of phones recommending once a minute.")
@click.option("--approve-rate", type=click.FloatRange(0), default=2.0, show_default=True,
              help="Approvals a second (needs --host-password).")
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Load processes (about 2,000 phones each).")
@click.option("--ack-timeout", type=click.FloatRange(0.1), default=10.0, show_default=True,
              help="Seconds before an unanswered call counts as lost.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures here.")
@click.option("--cleanup", is_flag=True,
              help="Remove everything the simulated phones made at the end (needs --host-password).")
@click.option("--host-password", envvar="STAGE_HOST_PASSWORD",
              help="Host passphrase: approvals, no per-address join cap, cleanup.")
def rehearse(url: str, phones: int, submit_rate: float, duration: float, ramp: float | None, recommend_share: float,
             approve_rate: float, processes: int, ack_timeout: float, json_path: Path | None, cleanup: bool,
             host_password: str | None) -> None:
    """Hold N simulated phones against a running Stage server and time every ack and update."""
    url = url.rstrip("/")
    if cleanup and not host_password:
        raise click.UsageError("--cleanup needs --host-password (the cleanup is a host call)")
    _raise_fd_limit(phones // processes + 100)
    try:
        show = health(url)
        host = HostSession(url, host_password) if host_password else None
        token = host.call("/api/rehearsal/start", "starting the rehearsal")["token"] if host else None
    except RehearsalError as exc:
        console.print(f"stage rehearse: {exc}", markup=False)
        sys.exit(2)
    console.print(f"Rehearsing {phones} phones against {show.get('show', '?')!r} at {url} "
                  f"({show.get('phones', 0)} phones already there)", markup=False)
    if host is None:
        console.print("No --host-password: nothing is approved by the rehearsal, the per-address join cap applies, "
                      "and nothing is cleaned up.", markup=False)
    ramp = duration / 6 if ramp is None else min(ramp, duration)
    plans = [Plan(url, share, first, submit_rate * share / phones, recommend_share * share / 60, duration, ramp, token,
                  ack_timeout) for share, first in _shares(phones, processes)]
    tally, interrupted, moderator = _run(plans, host, approve_rate)
    figures = {"url": url, "duration_s": duration, "ramp_s": ramp, "submit_rate": submit_rate,
               "processes": processes, "interrupted": interrupted, **tally.figures(phones),
               "approvals": moderator.approved if moderator else 0}
    held, line = verdict(figures)
    if host is not None and cleanup:
        try:
            figures["cleanup"] = host.call("/api/rehearsal/cleanup", "the cleanup")
            console.print(f"Cleaned up: {_removed(figures['cleanup']['removed'])}", markup=False)
        except RehearsalError as exc:
            figures["cleanup"] = {"ok": False, "error": str(exc)}
            console.print(f"stage rehearse: cleanup failed: {exc}", markup=False)
            held = False
    for note in figures["notes"]:
        console.print(f"note: {note}", markup=False)
    if json_path:
        json_path.write_text(json.dumps(figures, indent=2))
    click.echo(("INTERRUPTED: " if interrupted else "") + line)
    sys.exit(130 if interrupted else 0 if held else 1)


def _run(plans: list[Plan], host: HostSession | None, approve_rate: float) -> tuple[Tally, bool, Moderator | None]:
    context = multiprocessing.get_context("spawn")  # a clean interpreter per worker: no inherited locks
    report, stop = context.Queue(), context.Event()
    workers = [context.Process(target=work, args=(plan, report, stop), daemon=True) for plan in plans]
    for worker in workers:
        worker.start()
    tally, interrupted = Tally(), False
    moderator = Moderator(plans[0].url, host.cookie, approve_rate, plans[0].duration) if host else None
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:
        nonlocal interrupted
        interrupted = True
        stop.set()

    signal.signal(signal.SIGINT, on_sigint)
    try:
        asyncio.run(_coordinate(plans, workers, report, tally, moderator, lambda: interrupted))
    finally:
        signal.signal(signal.SIGINT, previous)
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
    return tally, interrupted, moderator


async def _coordinate(plans: list[Plan], workers: list[Any], report: Any, tally: Tally, moderator: Moderator | None,
                      interrupted: Any) -> None:
    wanted, duration = sum(p.phones for p in plans), plans[0].duration
    stop_moderator = asyncio.Event()
    moderating = asyncio.create_task(moderator.run(stop_moderator)) if moderator else None
    begin, done = time.monotonic(), 0
    with Live(_table(tally, wanted, 0, duration, moderator), console=console, refresh_per_second=4) as live:
        while done < len(workers):
            await asyncio.sleep(0.25)
            while True:
                try:
                    kind, data = report.get_nowait()
                except queue.Empty:
                    break
                if kind == "delta":
                    tally.add(data)
                elif kind == "participant" and moderator:
                    moderator.simulated.add(data)
                elif kind == "failed":
                    tally.notes.add(f"a load process failed: {data}")
                elif kind == "done":
                    done += 1
            if interrupted() and all(not w.is_alive() for w in workers):
                break
            live.update(_table(tally, wanted, time.monotonic() - begin, duration, moderator))
    stop_moderator.set()
    if moderating:
        try:
            await asyncio.wait_for(moderating, 10)
        except (asyncio.TimeoutError, OSError, ConnectionError) as exc:
            tally.notes.add(f"the moderator client stopped: {type(exc).__name__}")


def _table(tally: Tally, wanted: int, elapsed: float, duration: float, moderator: Moderator | None) -> Table:
    table = Table(title=f"rehearsal {min(elapsed, duration):.0f}/{duration:.0f} s", show_header=False)
    c = tally.counts
    rows = [("phones", f"{tally.connected} connected of {wanted} (peak {tally.peak_seen}), "
                       f"{sum(tally.refused.values())} refused, {c['dropped']} dropped"),
            ("stories", f"{c['submits']} sent, {c['acks']} acked, {sum(tally.errors.values())} refused, "
                        f"{c['lost']} lost"),
            ("ack p99", f"{_p99(tally.ack_ms)}"), ("updates", f"{c['updates']} timed, p99 {_p99(tally.update_ms)}"),
            ("approved", str(moderator.approved if moderator else "-"))]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _p99(values: list[float]) -> str:
    value = percentile(values[-5000:], 99)  # the recent past: a live figure, not the whole run
    return "n/a" if value is None else f"{value:.0f} ms"


def _shares(phones: int, processes: int) -> list[tuple[int, int]]:
    base, extra = divmod(phones, processes)
    shares, first = [], 0
    for n in range(processes):
        share = base + (1 if n < extra else 0)
        if share:
            shares.append((share, first))
        first += share
    return shares


def _removed(removed: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in removed.items())


def _raise_fd_limit(wanted: int) -> None:
    """Each phone is a socket; the default soft limit (often 1024) would cap a rehearsal silently."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(wanted, 65536)), hard))
