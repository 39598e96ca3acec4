"""``stage render RECIPE.yaml --data DIR --out FILE``: render a remix recipe from a night's data.

It reads the data directory through a read-only snapshot (``stage.records.archive``), so it works
while ``stage serve`` runs.
The file appears at ``--out`` only when complete (written beside it, then renamed).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
import yaml
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from stage.records.archive import Snapshot
from stage.errors import StageError
from stage.remix import recipes
from stage.remix.render import render


@click.command("render")
@click.argument("recipe_path", metavar="RECIPE.yaml", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The night's data directory.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The MP4 to write.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--database", envvar="STAGE_DATABASE_URL",
              help="The night's postgresql:// URL (or STAGE_DATABASE_URL); default: SQLite in --data.")
def render_command(recipe_path: Path, data_dir: Path, out: Path, force: bool, database: str | None) -> None:
    """Render a remix recipe (card, captioned-take or reel) to an H.264 + AAC MP4."""
    from stage.cli import console, err_console

    if out.exists() and not force:
        _fail(err_console, f"{out} exists; pass --force to overwrite it")
    try:
        recipe = recipes.parse(yaml.safe_load(recipe_path.read_text(encoding="utf-8")))
        snapshot = Snapshot(data_dir, database=database)
        try:
            plan, sources = recipes.resolve(snapshot, recipe, data_dir / "media")
        finally:
            snapshot.close()
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(err_console, f"{recipe_path}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    except (StageError, yaml.YAMLError) as exc:
        _fail(err_console, getattr(exc, "message", str(exc)))
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".mp4")
    os.close(fd)
    poster = out.with_suffix(".png") if plan.poster else None
    try:
        with Progress(TextColumn("rendering {task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeRemainingColumn(), console=console) as bar:
            task = bar.add_task(recipe.recipe, total=1.0)
            made = render(plan, Path(tmp), poster, lambda fraction: bar.update(task, completed=fraction))
        os.replace(tmp, out)
    except BaseException as exc:
        if poster is not None:  # a card's PNG is written first: it goes too when the video fails
            poster.unlink(missing_ok=True)
        if isinstance(exc, StageError):
            _fail(err_console, exc.message)
        raise
    finally:
        Path(tmp).unlink(missing_ok=True)
    console.print(f"{out}: {recipe.recipe}, {made['duration']:.1f} s at {made['width']}x{made['height']}"
                  f"{f', poster {poster}' if poster else ''}; sources {', '.join(sources)}", markup=False)


def _fail(err_console, message: str) -> None:  # type: ignore[no-untyped-def]
    err_console.print(f"stage: {message}", markup=False)
    sys.exit(1)
