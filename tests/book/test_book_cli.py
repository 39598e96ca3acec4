"""``stage book`` as a person and the crew console run it: its files, its refusals, its progress lines, its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.book import poppler
from tests.book.nights import StoreNight, drawing_png

STORY = "Tell no one about this cape. It only flies on Tuesdays, and only when nobody is looking."


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the book goes (the night's data is in tmp_path/data)."""
    out = tmp_path / "out"
    out.mkdir()
    return out


def small_book(night: StoreNight) -> str:
    story = night.story("Ada", STORY)
    drawing = night.picture("Bea", drawing_png(), source=story)
    withdrawn = night.story("Cy", "Withdrawn before the render.")
    night.book((story, drawing), (withdrawn, None))
    night.withdraw("Cy", withdrawn)
    return drawing


def test_it_writes_the_three_files_and_says_where_they_are(store_night: StoreNight, folder: Path):
    small_book(store_night)
    run = poppler.stage_book("--data", str(store_night.data), "--out", str(folder / "tonight.pdf"))
    assert run.returncode == 0, run.stderr
    said = " ".join(run.stdout.split())
    assert f"{folder / 'tonight.pdf'}: 6 pages, ready for print" in said
    assert f"{folder / 'tonight.html'}: the HTML edition, one file to share" in said
    assert f"{folder / 'tonight-share.csv'}: the share statement" in said
    assert "Page 2 is left out: its story may no longer be shown (withdrawn by its author)." in said
    assert sorted(p.name for p in folder.iterdir()) == ["tonight-share.csv", "tonight.html", "tonight.pdf"]


def test_json_progress_is_one_line_per_step_then_done(store_night: StoreNight, folder: Path):
    small_book(store_night)
    run = poppler.stage_book("--data", str(store_night.data), "--out", str(folder / "b.pdf"), "--progress", "json")
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    *steps, last = lines
    assert steps and all(set(step) == {"stage", "done", "total"} for step in steps)
    assert all(isinstance(s["done"], int) and isinstance(s["total"], int) and 0 <= s["done"] <= s["total"]
               for s in steps)
    assert {"reading the night", "pictures", "typesetting", "writing the PDF", "HTML edition",
            "share statement"} <= {s["stage"] for s in steps}
    assert last == {"stage": "done", "done": 6, "total": 6, "pages": 6, "left_out": [
        "Page 2 is left out: its story may no longer be shown (withdrawn by its author)."]}


def test_it_refuses_to_replace_any_of_the_three_files_without_force(store_night: StoreNight, folder: Path):
    small_book(store_night)
    existing = folder / "tonight-share.csv"
    existing.write_text("kept\n")
    run = poppler.stage_book("--data", str(store_night.data), "--out", str(folder / "tonight.pdf"))
    assert run.returncode == 1
    assert run.stderr.strip() == f"stage: {existing} already exists; pass --force to replace it"
    assert sorted(p.name for p in folder.iterdir()) == ["tonight-share.csv"] and existing.read_text() == "kept\n"
    forced = poppler.stage_book("--data", str(store_night.data), "--out", str(folder / "tonight.pdf"), "--force")
    assert forced.returncode == 0, forced.stderr
    assert existing.read_bytes().startswith(b"name,roles,pages,page_count,share\r\nAda,wrote,4,1,0.5000\r\n")


def test_a_failed_render_leaves_the_last_book_as_it_was(store_night: StoreNight, folder: Path):
    drawing = small_book(store_night)
    out = folder / "tonight.pdf"
    assert poppler.stage_book("--data", str(store_night.data), "--out", str(out)).returncode == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    media = store_night.media_of(drawing)
    media.unlink()
    run = poppler.stage_book("--data", str(store_night.data), "--out", str(out), "--force")
    assert run.returncode == 1
    assert run.stderr.strip() == f"stage: page 1: the drawing's file is missing ({media.name})"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # no temporary file either


def test_an_empty_book_and_a_folder_without_a_night_are_refused_plainly(store_night: StoreNight, folder: Path):
    run = poppler.stage_book("--data", str(store_night.data), "--out", str(folder / "b.pdf"))
    assert (run.returncode, run.stderr.strip()) == (1, "stage: the book has no pages yet")
    nothing = folder / "nothing"
    nothing.mkdir()
    run = poppler.stage_book("--data", str(nothing), "--out", str(folder / "b.pdf"))
    assert (run.returncode, run.stderr.strip()) == (1, f"stage: {nothing} holds no Stage data (no stage.db)")
    assert not list(folder.glob("b*"))


def test_the_trim_can_be_set_on_the_command_line(store_night: StoreNight, folder: Path):
    small_book(store_night)
    run = poppler.stage_book("--data", str(store_night.data), "--out", str(folder / "big.pdf"),
                             "--size-mm", "150", "--margin-mm", "15", "--bleed-mm", "5")
    assert run.returncode == 0, run.stderr
    box = poppler.boxes(folder / "big.pdf", 4)
    assert box["TrimBox"] == (0.0, 0.0, 425.2, 425.2)  # 150 mm
    assert box["BleedBox"] == box["MediaBox"] == (-14.17, -14.17, 439.37, 439.37)  # 5 mm
    refused = poppler.stage_book("--data", str(store_night.data), "--out", str(folder / "x.pdf"), "--size-mm", "20")
    assert refused.returncode == 2 and "--size-mm" in refused.stderr
