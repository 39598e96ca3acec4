"""MediaLibrary: content-addressed names, idempotent atomic writes, no way out of its directory."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from stage.media.library import MediaLibrary, MediaLibraryError


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_names_bytes_by_their_sha256(tmp_path: Path) -> None:
    library = MediaLibrary(tmp_path / "media")
    name = library.put(b"a drawing", "png")
    assert name == f"{sha(b'a drawing')}.png"
    assert library.path(name) == tmp_path / "media" / name
    assert library.path(name).read_bytes() == b"a drawing"


def test_put_is_idempotent_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    library = MediaLibrary(tmp_path)
    first = library.put(b"same bytes", "jpg")
    second = library.put(b"same bytes", "jpg")
    other = library.put(b"other bytes", "jpg")
    assert first == second != other
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({first, other})


def test_extension_is_part_of_the_name_and_normalised(tmp_path: Path) -> None:
    library = MediaLibrary(tmp_path)
    assert library.put(b"x", ".PNG") == f"{sha(b'x')}.png"
    for bad in ("", "../png", "p/ng", "toolongext", "jp g"):
        with pytest.raises(MediaLibraryError) as caught:
            library.put(b"x", bad)
        assert caught.value.code == "bad_ext"


def test_put_file_moves_a_finished_file_in(tmp_path: Path) -> None:
    library = MediaLibrary(tmp_path / "media")
    finished = tmp_path / "work" / "clip-123.mp4"
    finished.parent.mkdir()
    finished.write_bytes(b"movie bytes")
    name = library.put_file(finished, "mp4")
    assert name == f"{sha(b'movie bytes')}.mp4" == library.put(b"movie bytes", "mp4")
    assert library.path(name).read_bytes() == b"movie bytes"
    assert not finished.exists()
    again = tmp_path / "work" / "clip-456.mp4"
    again.write_bytes(b"movie bytes")
    assert library.put_file(again, "mp4") == name  # already stored: the copy is dropped
    assert not again.exists()
    assert [p.name for p in (tmp_path / "media").iterdir()] == [name]


@pytest.mark.parametrize(
    "name",
    [
        "../secret.txt",
        "/etc/passwd",
        "a" * 64 + ".jpg/../../x",
        "A" * 64 + ".jpg",
        "a" * 63 + ".jpg",
        "a" * 64,
        "a" * 64 + ".jpg\n",
        "..",
        "",
    ],
)
def test_path_refuses_anything_but_hex_dot_ext(tmp_path: Path, name: str) -> None:
    with pytest.raises(MediaLibraryError) as caught:
        MediaLibrary(tmp_path).path(name)
    assert caught.value.code == "bad_name"
    assert caught.value.as_ack()["error"]["message"] == "That media file name is not valid"
