"""``stage export`` and ``stage import``: the post-show archive, with a rich progress bar.

``stage export --progress json`` prints one JSON line per step instead of the bar: the host console's
"Download the night" runs this very command (stage/archive/background.py) and reads those lines.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, Progress, TextColumn

from stage.errors import StageError


def _bar(console):  # type: ignore[no-untyped-def]
    return Progress(TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    console=console, transient=False)


@click.command("export")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The night's data directory (may be in use by stage serve).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The zip to write.")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--include-withheld", is_flag=True,
              help="Keep rejected/withdrawn records and takes of withdrawn consent (crew-only archives).")
@click.option("--show", "show", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The show file to put in the archive.")
@click.option("--database", envvar="STAGE_DATABASE_URL",
              help="The night's postgresql:// URL (or STAGE_DATABASE_URL); default: SQLite in --data.")
@click.option("--progress", type=click.Choice(["bar", "json"]), default="bar", show_default=True,
              help="json: one line {stage, done, total} per step on stdout, then {summary} (for programs).")
def export_command(data_dir: Path, out: Path, force: bool, include_withheld: bool, show: Path | None,
                   database: str | None, progress: str) -> None:
    """Export the night (records, media, takes, remixes, lineage, credits, audit, report) as a zip."""
    from stage.archive.export import export
    from stage.cli import console, err_console

    def run(step: Callable[[str, int, int], None]) -> dict[str, Any]:
        return export(data_dir, out, force=force, include_withheld=include_withheld, show=show, database=database,
                      step=step)

    try:
        if progress == "json":
            summary = run(_json_step)
            click.echo(json.dumps({"summary": summary}))
            return
        with _bar(console) as bar:
            task = bar.add_task("exporting", total=1)
            summary = run(lambda what, done, total: bar.update(task, description=what, completed=done, total=total))
    except StageError as exc:
        err_console.print(f"stage: {exc.message}", markup=False)
        sys.exit(1)
    console.print(f"{out}: {summary['records']} records, {summary['media']} media files, "
                  f"{summary['withheld']} withheld records left out", markup=False)


def _json_step(what: str, done: int, total: int) -> None:
    # One line per step (click.echo flushes each): the reader follows the file while the export runs.
    click.echo(json.dumps({"stage": what, "done": done, "total": total}))


@click.command("import")
# Plain paths: a missing archive or a --data that is a file get import's own one-line error (exit 1).
@click.argument("archive", type=click.Path(path_type=Path))
@click.option("--data", "data_dir", required=True, type=click.Path(path_type=Path),
              help="A new, empty data directory (with --database: for the night's media).")
@click.option("--database", envvar="STAGE_DATABASE_URL",
              help="Import into this new, empty postgresql:// database (or STAGE_DATABASE_URL); "
              "default: SQLite in --data.")
def import_command(archive: Path, data_dir: Path, database: str | None) -> None:
    """Load an exported night into an empty data directory (and an empty PostgreSQL database)."""
    from stage.archive.importer import import_archive
    from stage.cli import console, err_console

    try:
        with _bar(console) as bar:
            task = bar.add_task("importing", total=1)
            counts = import_archive(archive, data_dir, step=lambda what, done, total: bar.update(
                task, description=what, completed=done, total=total), database=database)
    except StageError as exc:
        err_console.print(f"stage: {exc.message}", markup=False)
        sys.exit(1)
    except OSError as exc:  # our side (disk full, permissions): the staging copy is already removed
        err_console.print(f"stage: cannot import into {data_dir}: {exc.strerror or exc}", markup=False)
        sys.exit(1)
    console.print(f"{data_dir}: {counts['records']} records, {counts['media']} media files imported", markup=False)
