"""ingest_clip / probe_clip on real clips made by ffmpeg, results checked by reading them back with PyAV."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from PIL import Image

from stage.media import clips
from stage.media.clips import ClipError, IngestedClip, ingest_clip, probe_clip
from stage.media.transcoder import MAX_SIDE, fit

MakeClip = Callable[[str], Path]


def read_back(path: Path) -> dict:
    """What a player would find in the file: codecs, pixel format, display rotation, frame times."""
    with av.open(str(path)) as container:
        found = {"duration": container.duration / av.time_base, "video": None, "audio": None}
        if container.streams.video:
            stream = container.streams.video[0]
            frames = list(container.decode(stream))
            found["video"] = {
                "codec": stream.codec_context.codec.canonical_name,
                "pix_fmt": stream.codec_context.pix_fmt,
                "size": (stream.codec_context.width, stream.codec_context.height),
                "rotation": frames[0].rotation % 360,
                "times": [round(frame.time, 3) for frame in frames],
            }
        if container.streams.audio:
            container.seek(0)
            found["audio"] = container.streams.audio[0].codec_context.codec.canonical_name
    return found


def top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            break
        offset += size
    return boxes


def ingest(src: Path, dest: Path, **kwargs) -> tuple[IngestedClip, list[float]]:
    reported: list[float] = []
    clip = ingest_clip(src, dest, progress=reported.append, **kwargs)
    return clip, reported


def assert_progress_complete(reported: list[float]) -> None:
    assert reported, "progress was never called"
    assert reported[0] == 0.0 and reported[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in reported)
    assert reported == sorted(reported), "progress went backwards"
    assert len(reported) > 2, "progress jumped from 0 to 1 with nothing in between"


def assert_only(dest: Path, clip: IngestedClip) -> None:
    """Nothing but the finished file: no temporary or partial file is left beside it."""
    assert sorted(p.name for p in dest.iterdir()) == [clip.path.name]


def assert_faststart(path: Path) -> None:
    boxes = top_level_boxes(path)
    assert "moov" in boxes and "mdat" in boxes
    assert boxes.index("moov") < boxes.index("mdat"), boxes


def test_h264_aac_mp4_is_remuxed_not_transcoded(make_clip: MakeClip, tmp_path: Path) -> None:
    src = make_clip("h264_aac.mp4")
    clip, reported = ingest(src, tmp_path / "out")
    assert clip.transcoded is False
    assert (clip.mime, clip.has_video, clip.width, clip.height) == ("video/mp4", True, 320, 240)
    assert clip.path.parent == tmp_path / "out" and clip.path.suffix == ".mp4"
    assert clip.duration == pytest.approx(1.5, abs=0.1)
    found = read_back(clip.path)
    assert found["video"]["codec"] == "h264" and found["audio"] == "aac"
    # remuxed: every coded frame is there with its original timestamp
    assert found["video"]["times"] == read_back(src)["video"]["times"]
    assert_faststart(clip.path)
    assert_progress_complete(reported)
    assert_only(tmp_path / "out", clip)
    assert src.exists()  # the upload itself is the caller's to delete


def test_vp9_opus_webm_is_transcoded_to_h264_aac(make_clip: MakeClip, tmp_path: Path) -> None:
    clip, reported = ingest(make_clip("vp9_opus.webm"), tmp_path)
    assert clip.transcoded is True
    assert (clip.mime, clip.has_video, clip.width, clip.height) == ("video/mp4", True, 320, 240)
    found = read_back(clip.path)
    assert found["video"]["codec"] == "h264" and found["video"]["pix_fmt"] == "yuv420p"
    assert found["audio"] == "aac"
    assert found["duration"] == pytest.approx(1.5, abs=0.1)
    assert len(found["video"]["times"]) >= 35  # 1.5 s at 25 fps, no frame dropped
    assert_faststart(clip.path)
    assert_progress_complete(reported)
    assert_only(tmp_path, clip)


@pytest.mark.parametrize("sample", ["hevc.mov", "h263.3gp"])
def test_other_phone_codecs_are_transcoded(make_clip: MakeClip, tmp_path: Path, sample: str) -> None:
    clip, _ = ingest(make_clip(sample), tmp_path)
    assert clip.transcoded is True and clip.mime == "video/mp4"
    found = read_back(clip.path)
    assert (found["video"]["codec"], found["video"]["pix_fmt"], found["audio"]) == ("h264", "yuv420p", "aac")


def test_variable_frame_rate_timestamps_survive_transcoding(make_clip: MakeClip, tmp_path: Path) -> None:
    clip, _ = ingest(make_clip("vfr.webm"), tmp_path)
    assert clip.transcoded is True
    assert read_back(clip.path)["video"]["times"] == [0.0, 0.1, 0.2, 0.3, 0.4, 1.037, 1.137, 1.237, 1.337, 1.437]


def test_large_video_is_scaled_to_1280_with_even_sides(make_clip: MakeClip, tmp_path: Path) -> None:
    clip, _ = ingest(make_clip("big_vp9.webm"), tmp_path)
    assert (clip.width, clip.height) == (1280, 720)
    assert read_back(clip.path)["video"]["size"] == (1280, 720)
    assert clip.has_video and read_back(clip.path)["audio"] is None


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1920, 1080), (1280, 720)), ((1080, 1920), (720, 1280)), ((321, 241), (320, 240)), ((1500, 843), (1280, 718))],
)
def test_fit_keeps_longest_side_within_limit_and_sides_even(size: tuple[int, int], expected: tuple[int, int]) -> None:
    width, height = fit(*size)
    assert (width, height) == expected
    assert max(width, height) <= MAX_SIDE and width % 2 == 0 and height % 2 == 0


@pytest.mark.parametrize(("sample", "transcoded"), [("h264_aac.mp4", False), ("hevc.mov", True)])
def test_portrait_phone_clip_keeps_its_rotation(
    rotated_clip: MakeClip, tmp_path: Path, sample: str, transcoded: bool
) -> None:
    clip, _ = ingest(rotated_clip(sample), tmp_path)
    assert clip.transcoded is transcoded
    assert (clip.width, clip.height) == (240, 320)  # shown portrait
    assert read_back(clip.path)["video"]["rotation"] in (90, 270)


def test_aac_only_audio_is_remuxed_to_m4a(make_clip: MakeClip, tmp_path: Path) -> None:
    clip, reported = ingest(make_clip("aac.m4a"), tmp_path)
    assert (clip.mime, clip.has_video, clip.transcoded) == ("audio/mp4", False, False)
    assert (clip.width, clip.height) == (None, None)
    assert clip.path.suffix == ".m4a"
    found = read_back(clip.path)
    assert found["video"] is None and found["audio"] == "aac"
    assert_progress_complete(reported)
    assert_only(tmp_path, clip)


@pytest.mark.parametrize("sample", ["opus.ogg", "mp3.mp3"])
def test_other_audio_is_transcoded_to_aac(make_clip: MakeClip, tmp_path: Path, sample: str) -> None:
    clip, reported = ingest(make_clip(sample), tmp_path)
    assert (clip.mime, clip.has_video, clip.transcoded) == ("audio/mp4", False, True)
    found = read_back(clip.path)
    assert found["video"] is None and found["audio"] == "aac"
    assert found["duration"] == pytest.approx(1.5, abs=0.1)
    assert_progress_complete(reported)
    assert_only(tmp_path, clip)


def test_webm_without_duration_in_header_is_measured(make_clip: MakeClip, tmp_path: Path) -> None:
    src = make_clip("live.webm")
    with av.open(str(src)) as container:
        assert container.duration is None  # as MediaRecorder writes it
    assert probe_clip(src)["duration"] == pytest.approx(1.2, abs=0.1)
    with pytest.raises(ClipError) as caught:
        ingest_clip(src, tmp_path, max_seconds=0.5)
    assert caught.value.code == "too_long"


def test_probe_names_duration_and_codecs(make_clip: MakeClip) -> None:
    probed = probe_clip(make_clip("vp9_opus.webm"))
    assert probed["duration"] == pytest.approx(1.5, abs=0.1)
    assert [(s["type"], s["codec"]) for s in probed["streams"]] == [("video", "vp9"), ("audio", "opus")]
    assert probed["streams"][0]["width"] == 320


def test_clip_over_max_seconds_is_too_long(make_clip: MakeClip, tmp_path: Path) -> None:
    with pytest.raises(ClipError) as caught:
        ingest_clip(make_clip("three_seconds.mp4"), tmp_path, max_seconds=2)
    assert caught.value.code == "too_long"
    assert "3 s" in caught.value.message and "2 s" in caught.value.message
    assert list(tmp_path.iterdir()) == []


def test_random_bytes_are_not_media(tmp_path: Path) -> None:
    src = tmp_path / "upload.mp4"
    src.write_bytes(os.urandom(64 * 1024))
    dest = tmp_path / "out"
    with pytest.raises(ClipError) as caught:
        ingest_clip(src, dest)
    assert caught.value.code == "not_media"
    assert not dest.exists() or list(dest.iterdir()) == []


def picture_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        b"just some text, named like a video\n" * 40,
        picture_bytes(),  # FFmpeg itself would open a JPEG as a one-frame video
        b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://127.0.0.1:9/clip.ts\n#EXT-X-ENDLIST\n",
    ],
    ids=["text", "jpeg", "hls"],
)
def test_text_pictures_and_playlists_are_not_media(tmp_path: Path, content: bytes) -> None:
    src = tmp_path / "upload.mov"
    src.write_bytes(content)
    with pytest.raises(ClipError) as caught:
        probe_clip(src)
    assert caught.value.code == "not_media"


def test_playlist_naming_a_real_clip_beside_it_is_not_media(make_clip: MakeClip, tmp_path: Path) -> None:
    (tmp_path / "inner.mp4").write_bytes(make_clip("h264_aac.mp4").read_bytes())
    playlist = tmp_path / "upload.mp4"
    playlist.write_bytes(b"ffconcat version 1.0\nfile 'inner.mp4'\n")
    with pytest.raises(ClipError) as caught:
        ingest_clip(playlist, tmp_path / "out")
    assert caught.value.code == "not_media"


def test_empty_and_oversized_files_are_refused_before_probing(make_clip: MakeClip, tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(ClipError) as caught:
        ingest_clip(empty, tmp_path / "out")
    assert caught.value.code == "empty"
    src = make_clip("h264_aac.mp4")
    with pytest.raises(ClipError) as caught:
        ingest_clip(src, tmp_path / "out", max_bytes=src.stat().st_size - 1)
    assert caught.value.code == "too_large" and "the limit is" in caught.value.message


def test_oversized_frames_are_refused_before_decoding(
    make_clip: MakeClip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clips, "MAX_VIDEO_PIXELS", 320 * 240 - 1)
    with pytest.raises(ClipError) as caught:
        ingest_clip(make_clip("vp9_opus.webm"), tmp_path)
    assert caught.value.code == "too_large" and "320 × 240 pixels" in caught.value.message


def test_clip_whose_video_cannot_be_decoded_is_undecodable(make_clip: MakeClip, tmp_path: Path) -> None:
    src = make_clip("vp9_opus.webm")
    data = bytearray(src.read_bytes())
    with av.open(str(src)) as container:  # scramble every video packet, keep the container intact
        spots = [(p.pos, p.size) for p in container.demux(video=0) if p.size and p.pos is not None]
    for pos, size in spots:
        data[pos : pos + size] = bytes((i * 131 + 7) % 256 for i in range(size))
    broken = tmp_path / "broken.webm"
    broken.write_bytes(bytes(data))
    with pytest.raises(ClipError) as caught:
        ingest_clip(broken, tmp_path / "out")
    assert caught.value.code == "undecodable"
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("sample", ["h264_aac.mp4", "vp9_opus.webm"])
def test_failure_midway_leaves_no_partial_file(make_clip: MakeClip, tmp_path: Path, sample: str) -> None:
    class Cancelled(Exception):
        pass

    def cancel_halfway(fraction: float) -> None:
        if fraction >= 0.5:
            raise Cancelled

    with pytest.raises(Cancelled):
        ingest_clip(make_clip(sample), tmp_path, progress=cancel_halfway)
    assert list(tmp_path.iterdir()) == []
