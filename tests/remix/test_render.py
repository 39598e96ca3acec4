"""``stage render`` on each recipe, from real takes and phone records, with the output decoded."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import yaml
from PIL import Image

from tests.stage_process import REPO


def render(tmp_path: Path, data: Path, recipe: dict, out: str = "out.mp4") -> subprocess.CompletedProcess:
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return subprocess.run([sys.executable, "-m", "stage", "render", str(path), "--data", str(data),
                           "--out", str(tmp_path / out)], cwd=REPO, capture_output=True, text=True, timeout=120)


def probe(path: Path) -> tuple[float, set[str], tuple[int, int]]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return (container.duration / av.time_base, {s.codec_context.name for s in container.streams},
                (video.codec_context.width, video.codec_context.height))


def frame_at(path: Path, seconds: float) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time >= seconds:
                return frame.to_ndarray(format="rgb24", width=1280, height=720).astype(int)
    raise AssertionError(f"{path} has no frame at {seconds}s")


def media_of(data: Path, record_id: str) -> Path:
    with sqlite3.connect(data / "stage.db") as db:
        return data / "media" / db.execute("SELECT media FROM records WHERE id = ?", (record_id,)).fetchone()[0]


def test_a_captioned_take_is_trimmed_and_shows_its_story(remix_night, tmp_path):
    night = remix_night  # take 1 runs 4 s with in 0.5 s and out 3.5 s
    done = render(tmp_path, night.data, {"recipe": "captioned-take", "take": night.takes[0]})
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out.mp4"
    duration, codecs, size = probe(out)
    assert codecs == {"h264", "aac"} and size == (1280, 720)
    assert duration == pytest.approx(3.0, abs=0.1)
    rendered = frame_at(out, 1.0)  # 1.5 s into the source
    source = frame_at(media_of(night.data, night.takes[0]), 1.5)
    band, top = slice(590, 680), slice(150, 500)
    assert np.abs(rendered[band] - source[band]).mean() > 25, "the caption band differs from the take"
    assert np.abs(rendered[top] - source[top]).mean() < 8, "above the caption the picture is the take's"
    assert (rendered[band] > 235).all(axis=-1).sum() > 2000, "white caption letters are drawn"
    assert not list(tmp_path.glob(".out.mp4.*")), "no temporary file is left"


def test_a_card_is_a_png_and_a_short_video(remix_night, tmp_path):
    night = remix_night
    done = render(tmp_path, night.data, {"recipe": "card", "story": night.story, "picture": night.drawing,
                                         "seconds": 3})
    assert done.returncode == 0, done.stderr
    duration, codecs, size = probe(tmp_path / "out.mp4")
    assert duration == pytest.approx(3.0, abs=0.1) and codecs == {"h264", "aac"} and size == (1280, 720)
    card = np.asarray(Image.open(tmp_path / "out.png").convert("RGB")).astype(int)
    assert card.shape == (720, 1280, 3)
    left = card[:, :640]
    assert ((left[..., 0] > 150) & (left[..., 1] < 80)).sum() > 10_000, "the red drawing is on the left"
    assert (card[:, 640:] > 235).all(axis=-1).sum() > 1000, "the story's letters are on the right"


def test_a_reel_has_title_cards_between_takes(remix_night, tmp_path):
    night = remix_night
    done = render(tmp_path, night.data, {"recipe": "reel", "takes": night.takes, "title_seconds": 1.0})
    assert done.returncode == 0, done.stderr
    duration, codecs, _ = probe(tmp_path / "out.mp4")
    assert codecs == {"h264", "aac"}
    assert duration == pytest.approx(1.0 + 1.0 + 3.0 + 1.0 + 4.0, abs=0.15)
    title = frame_at(tmp_path / "out.mp4", 1.5)  # the "Take 1" card: dark, with light letters
    assert title.mean() < 60 and (title > 200).all(axis=-1).sum() > 500


@pytest.mark.parametrize("case", ["rejected", "withdrawn", "unknown", "in_after_out", "mixed_stories"])
def test_recipes_naming_unusable_records_are_refused(remix_night, tmp_path, case):
    night = remix_night
    recipe = {"recipe": "captioned-take", "take": night.takes[0]}
    if case == "rejected":
        story = night.write_story("Bea", "A story the moderator turns down.")
        night.reject(story)
        recipe = {"recipe": "card", "story": story, "picture": night.drawing}
        expected = "was rejected"
    elif case == "withdrawn":
        assert night.phones["Bea"].call("withdraw", {"id": night.drawing})["ok"]
        recipe = {"recipe": "card", "story": night.story, "picture": night.drawing}
        expected = "withdrawn"
    elif case == "unknown":
        recipe = {"recipe": "captioned-take", "take": "00000000-0000-4000-8000-000000000000"}
        expected = "there is no record 00000000-0000-4000-8000-000000000000"
    elif case == "in_after_out":
        with sqlite3.connect(night.data / "stage.db") as db:
            db.execute("UPDATE takes SET in_point = 3, out_point = 1 WHERE record_id = ?", (night.takes[0],))
        expected = "in point (3.00s) after its out point (1.00s)"
    else:
        story = night.write_story("Ada", "Another story entirely.")
        night.approve(story)
        with sqlite3.connect(night.data / "stage.db") as db:
            db.execute("UPDATE record_sources SET source_id = ? WHERE record_id = ?", (story, night.takes[1]))
        recipe = {"recipe": "reel", "takes": night.takes}
        expected = "performs another story"
    done = render(tmp_path, night.data, recipe)
    assert done.returncode == 1 and expected in done.stderr, done.stderr
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_corrupt_take_fails_clearly_and_leaves_nothing(remix_night, tmp_path, damage):
    night = remix_night
    media = media_of(night.data, night.takes[0])
    if damage == "missing":
        media.unlink()
    else:
        media.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x13" * 5000)
    before = sorted(p.name for p in (night.data / "media").iterdir())
    done = render(tmp_path, night.data, {"recipe": "captioned-take", "take": night.takes[0]})
    assert done.returncode == 1
    assert ("is missing from the media library" if damage == "missing" else "could not be decoded") in done.stderr, \
        done.stderr
    assert not (tmp_path / "out.mp4").exists() and list(tmp_path.glob(".out*")) == []
    assert sorted(p.name for p in (night.data / "media").iterdir()) == before
