"""``stage capture`` (the agent, or a server-less test take) and ``stage doctor`` (what this machine
can capture from). Registered in stage/cli.py with ``cli.add_command``.
"""

from __future__ import annotations

import json
import logging
import faulthandler
import shutil
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from stage.capture.rig import Rig, RigError

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
DEFAULT_SPOOL = Path("data/capture-spool")


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")


@click.command()
@click.option("--server", help="Stage server URL, e.g. http://192.168.1.20:8080.")
@click.option("--rig", "rig_name", default="stage", show_default=True, help="Rig name from the show file.")
@click.option("--token", envvar="STAGE_CREW_PASSWORD", help="Crew passphrase (or STAGE_CREW_PASSWORD).")
@click.option("--camera", default="test", show_default=True,
              help="Device index, video file, http(s)/rtsp URL, or 'test' (a moving pattern).")
@click.option("--mic", default="none", show_default=True, help="Audio input name or index, or 'none'.")
@click.option("--spool", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_SPOOL,
              show_default=True, help="Where takes are written until the server confirms them.")
@click.option("--preset", default="ultrafast", show_default=True, help="libx264 preset (speed vs size).")
@click.option("--test-take", type=float, metavar="SECONDS", help="Record one take without a server.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Where --test-take writes the MP4.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the --test-take figures as JSON here (for scripts and bench/).")
@click.option("-v", "--verbose", is_flag=True)
def capture(server: str | None, rig_name: str, token: str | None, camera: str, mic: str, spool: Path,
            preset: str, test_take: float | None, out: Path | None, report: Path | None, verbose: bool) -> None:
    """Run a capture agent for one rig (camera + microphone), or record a --test-take."""
    _logging(verbose)
    if test_take is not None:
        if out is None:
            raise click.UsageError("--test-take needs --out FILE")
        sys.exit(_test_take(camera, mic, spool, preset, test_take, out, report))
    if not server or not token:
        raise click.UsageError("the agent needs --server URL and --token (or STAGE_CREW_PASSWORD)")
    from stage.capture.agent import Agent  # socketio only when it is needed

    rig = Rig(camera, mic, spool, preset).open()
    if rig.mic_error:
        err_console.print(f"microphone: {rig.mic_error}", markup=False)
    if rig.camera.error:
        err_console.print(f"camera: {rig.camera.error}", markup=False)
    agent = Agent(server, rig_name, token, rig)
    signal.signal(signal.SIGTERM, lambda *_: agent.shutdown())
    # An agent that hangs (a camera or sound library stuck in C) tells where: `kill -USR1 <pid>` writes
    # every thread's stack to stderr, its log. faulthandler answers from C, whatever Python is doing.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        agent.run()
    except KeyboardInterrupt:
        agent.shutdown()


def _test_take(camera: str, mic: str, spool: Path, preset: str, seconds: float, out: Path,
               report: Path | None) -> int:
    rig = Rig(camera, mic, spool, preset).open()
    try:
        if rig.mic_error:
            err_console.print(f"microphone: {rig.mic_error}", markup=False)
        slate = {"show": "test-take", "cue": None, "story": "rig check", "performer": "crew", "take": 1}
        try:
            take = rig.record(str(uuid.uuid4()), slate)
        except RigError as exc:
            err_console.print(f"cannot record: {exc}", markup=False)
            return 2
        with Progress(console=err_console, transient=True) as progress:
            task = progress.add_task("recording", total=seconds)
            while take.seconds < seconds and not take.finished.is_set():
                progress.update(task, completed=take.seconds)
                time.sleep(0.1)
        take.stop()
        take.wait()
    finally:
        rig.close()
    sp = take.spooled
    if sp.final.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(sp.final, out)
        sp.discard()
    table = Table(title=f"test take -> {out}" if out.exists() else "test take (no file)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    figures: dict[str, Any] = {**sp.figures, "audio": "yes" if take.microphone else "no (video only)",
                               "result": sp.state + (f": {take.reason}" if take.reason else "")}
    for key in ("duration", "frames", "frames_in", "dropped", "overflows", "av_offset_ms", "width", "height",
                "audio", "result"):
        table.add_row(key, str(figures.get(key, "-")))
    console.print(table)
    if report:
        report.write_text(json.dumps(figures, indent=1))
    return 1 if take.failed else 0


@click.command()
@click.argument("show_path", metavar="[SHOW]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The night's data directory (default: the show's).")
@click.option("--database", envvar="STAGE_DATABASE_URL", help="The night's postgresql:// URL (default: the show's).")
def doctor(show_path: Path | None, data_dir: Path | None, database: str | None) -> None:
    """List the cameras and audio inputs this machine can capture from, check a show's rigs, and say
    which store a night uses (backend, schema version, reachable)."""
    from stage.capture.doctor import report, store_report

    problems = report(console, show_path)
    if show_path is not None or data_dir is not None or database:
        problems += store_report(console, show_path, data_dir, database)
    sys.exit(1 if problems else 0)
