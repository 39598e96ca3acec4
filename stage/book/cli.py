"""``stage book``: the night's book as a print-ready PDF, an HTML edition and a share statement.

It reads the night the way ``stage export`` does, from a snapshot of the database (:class:`Snapshot`), so it
runs beside a ``stage serve`` that keeps the night going; the crew console's "Render the book" runs this very
command with ``--progress json`` (stage/book/jobs.py) and reads one ``{stage, done, total}`` line per step.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from stage.archive.cli import _bar, _json_step
from stage.errors import InvalidInput, StageError


@click.command("book")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The night's data directory (may be in use by stage serve).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The PDF to write; the HTML edition and <name>-share.csv go beside it.")
@click.option("--force", is_flag=True, help="Replace the three files if they exist.")
@click.option("--database", envvar="STAGE_DATABASE_URL",
              help="The night's postgresql:// URL (or STAGE_DATABASE_URL); default: SQLite in --data.")
@click.option("--size-mm", type=click.FloatRange(76, 305), help="The square page's side (default: the book's).")
@click.option("--margin-mm", type=click.FloatRange(5, 40), help="The margins (default: the book's).")
@click.option("--bleed-mm", type=click.FloatRange(0, 10), help="The bleed on every edge (default: the book's).")
@click.option("--records", "records", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the ids of every record the book prints or credits, as JSON (the crew console checks "
                   "its last render against them before serving it).")
@click.option("--progress", type=click.Choice(["bar", "json"]), default="bar", show_default=True,
              help="json: one line {stage, done, total} per step on stdout, then a line with stage \"done\".")
def book_command(data_dir: Path, out: Path, force: bool, database: str | None, size_mm: float | None,
                 margin_mm: float | None, bleed_mm: float | None, records: Path | None, progress: str) -> None:
    """Render the night's book: <out>.pdf for print, <out>.html to share, <out>-share.csv for the shares."""
    from stage.book.render import outputs, render
    from stage.cli import console, err_console

    trim = {k: v for k, v in (("size_mm", size_mm), ("margin_mm", margin_mm), ("bleed_mm", bleed_mm)) if v is not None}
    try:
        existing = [path for path in outputs(out) if path.exists()]
        if existing and not force:
            raise InvalidInput(f"{existing[0]} already exists; pass --force to replace it", code="exists")
        if progress == "json":
            _json_step("reading the night", 0, 1)
            contents = _contents(data_dir, database, trim)
            result = render(contents, out, _json_step)
            _write_records(records, contents)
            click.echo(json.dumps({"stage": "done", "done": result.pages, "total": result.pages,
                                   "pages": result.pages, "left_out": result.left_out}, ensure_ascii=False))
            return
        with _bar(console) as bar:
            task = bar.add_task("reading the night", total=1)
            contents = _contents(data_dir, database, trim)
            result = render(contents, out, lambda what, done, total: bar.update(
                task, description=what, completed=done, total=total))
            _write_records(records, contents)
    except StageError as exc:
        err_console.print(f"stage: {exc.message}", markup=False)
        sys.exit(1)
    except OSError as exc:  # our side (disk full, permissions): no output file was renamed into place
        err_console.print(f"stage: cannot write the book beside {out}: {exc.strerror or exc}", markup=False)
        sys.exit(1)
    console.print(f"{result.pdf}: {result.pages} pages, ready for print", markup=False)
    console.print(f"{result.html}: the HTML edition, one file to share", markup=False)
    console.print(f"{result.csv}: the share statement", markup=False)
    for line in result.left_out:
        console.print(line, markup=False)


def _write_records(path: Path | None, contents: Any) -> None:
    if path is not None:
        part = path.with_name(f".{path.name}.part")
        part.write_text(json.dumps({"revision": contents.revision, "records": contents.records}))
        os.replace(part, path)


def _contents(data_dir: Path, database: str | None, trim: dict[str, float]) -> Any:
    """The stored book read against the night as it is now, with the command line's trim over the book's."""
    from stage.book import contents
    from stage.records import book as book_store
    from stage.records.archive import Snapshot

    snapshot = Snapshot(data_dir, database=database)
    try:
        book = book_store.current(snapshot, "Stage night")
        book["trim"] = {**book["trim"], **trim}
        return contents.read(snapshot, Path(data_dir) / "media", book)
    finally:
        snapshot.close()

