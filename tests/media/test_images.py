"""ingest_image on images made here with Pillow and pillow-heif; outputs are decoded again and inspected."""

from __future__ import annotations

import io
import struct
import zlib

import pillow_heif
import pytest
from PIL import Image, ImageCms, PngImagePlugin

from stage.media.images import ImageError, IngestedImage, ingest_image, sniff_format

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)
ORIENTATION, MAKE, GPS_IFD = 0x0112, 0x010F, 0x8825


def landscape(size: tuple[int, int] = (300, 200)) -> Image.Image:
    """Red, with a blue block in the top-left corner so turning it shows."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (0, 0, 60, 60))
    return image


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def phone_photo() -> bytes:
    """A JPEG as a phone stores a portrait shot: pixels landscape, EXIF orientation 6, GPS, XMP."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # "rotate 90° clockwise to display"
    exif[MAKE] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret-xmp/></x:xmpmeta>'
    return encode(landscape(), "JPEG", exif=exif, xmp=xmp, comment=b"secret-comment", quality=95)


def decode(result: IngestedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.data))
    image.load()
    return image


def assert_no_metadata(result: IngestedImage) -> None:
    image = decode(result)
    assert not image.getexif(), "EXIF survived"
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "Comment", "dpi"):
        assert key not in image.info, f"{key} survived"
    for needle in (b"Exif", b"PhoneMaker", b"secret", b"xmpmeta", b"ICC_PROFILE"):
        assert needle not in result.data, f"{needle!r} survived"


def assert_close(pixel: tuple, expected: tuple, tolerance: int = 40) -> None:
    assert all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected[:3], strict=True)), (pixel, expected)


def test_phone_photo_is_turned_upright_and_stripped() -> None:
    source = phone_photo()
    with Image.open(io.BytesIO(source)) as original:  # the sample really carries what must go
        assert original.getexif()[ORIENTATION] == 6 and original.getexif().get_ifd(GPS_IFD)
    result = ingest_image(source, purpose="photo")
    assert (result.mime, result.ext) == ("image/jpeg", "jpg")
    assert (result.width, result.height) == (200, 300)
    image = decode(result)
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == (200, 300)
    assert image.info.get("progressive") == 1
    # the blue block was top-left in the stored pixels; turned clockwise it is top-right
    assert_close(image.getpixel((190, 10)), BLUE)
    assert_close(image.getpixel((10, 10)), RED)
    assert_no_metadata(result)


def test_drawing_keeps_transparency_as_png() -> None:
    drawing = Image.new("RGBA", (120, 80), (0, 0, 0, 0))
    drawing.paste((0, 255, 0, 255), (10, 10, 50, 50))
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "secret-comment")
    result = ingest_image(encode(drawing, "PNG", pnginfo=text), purpose="drawing")
    assert (result.mime, result.ext, result.width, result.height) == ("image/png", "png", 120, 80)
    image = decode(result)
    assert image.format == "PNG" and image.mode == "RGBA"
    assert image.getpixel((20, 20)) == (0, 255, 0, 255)
    assert image.getpixel((100, 70))[3] == 0
    assert_no_metadata(result)


def test_transparent_picture_sent_as_photo_lies_on_white() -> None:
    picture = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    result = ingest_image(encode(picture, "PNG"), purpose="photo")
    assert_close(decode(result).getpixel((20, 20)), (255, 255, 255), tolerance=3)


def test_heic_from_an_iphone_is_accepted() -> None:
    heif = pillow_heif.from_pillow(landscape((256, 192)))
    out = io.BytesIO()
    heif.save(out, quality=90)
    data = out.getvalue()
    assert data[4:8] == b"ftyp"
    result = ingest_image(data, purpose="photo")
    assert (result.mime, result.width, result.height) == ("image/jpeg", 256, 192)
    assert_close(decode(result).getpixel((10, 10)), BLUE, tolerance=60)
    assert_close(decode(result).getpixel((200, 150)), RED, tolerance=60)


def test_webp_is_accepted() -> None:
    result = ingest_image(encode(landscape(), "WEBP", quality=90), purpose="photo")
    assert (result.mime, result.width, result.height) == ("image/jpeg", 300, 200)
    assert_close(decode(result).getpixel((10, 10)), BLUE)


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (64, 48), colour) for colour in (GREEN, BLUE, RED)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    result = ingest_image(data, purpose="drawing")
    assert (result.mime, result.width, result.height) == ("image/png", 64, 48)
    assert decode(result).getpixel((5, 5))[:3] == GREEN


def test_big_photo_is_scaled_to_max_side() -> None:
    result = ingest_image(encode(landscape((3000, 1000)), "JPEG"), purpose="photo")
    assert (result.width, result.height) == (2048, 683)
    smaller = ingest_image(encode(landscape((3000, 1000)), "JPEG"), purpose="photo", max_side=600)
    assert (smaller.width, smaller.height) == (600, 200)


def test_colour_profile_is_not_carried_over() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    result = ingest_image(encode(landscape(), "JPEG", icc_profile=srgb), purpose="photo")
    assert_no_metadata(result)
    assert_close(decode(result).getpixel((150, 150)), RED)


def png_claiming(width: int, height: int) -> bytes:
    """A real, tiny 1x1 PNG whose IHDR then claims width x height (a decompression bomb's header)."""
    data = bytearray(encode(Image.new("RGB", (1, 1)), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_decompression_bomb_is_refused_from_its_header() -> None:
    with pytest.raises(ImageError) as caught:
        ingest_image(png_claiming(30000, 30000), purpose="photo")
    assert caught.value.code == "too_many_pixels" and "the limit is 40 megapixels" in caught.value.message
    with pytest.raises(ImageError) as caught:  # over our limit, under Pillow's own: our header check
        ingest_image(png_claiming(7000, 7000), purpose="photo")
    assert caught.value.code == "too_many_pixels"
    assert caught.value.message == "That photo is 7000 × 7000 pixels (49 megapixels); the limit is 40 megapixels"


@pytest.mark.parametrize("side", [10_000, 30_000])  # past Pillow's warning limit, past its error limit
def test_pillow_bomb_guards_map_to_too_many_pixels(side: int) -> None:
    with pytest.raises(ImageError) as caught:
        ingest_image(png_claiming(side, side), purpose="drawing", max_pixels=10**10)
    assert caught.value.code == "too_many_pixels"


def test_size_within_pixel_limit_then_decodes() -> None:
    with pytest.raises(ImageError) as caught:
        ingest_image(png_claiming(100, 100), purpose="photo", max_pixels=9_999)
    assert caught.value.code == "too_many_pixels"
    with pytest.raises(ImageError) as caught:  # allowed size, but the pixel data is for 1x1
        ingest_image(png_claiming(100, 100), purpose="photo")
    assert caught.value.code == "undecodable"


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
        b'  <svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ],
)
def test_svg_is_refused(data: bytes) -> None:
    with pytest.raises(ImageError) as caught:
        ingest_image(data, purpose="drawing")
    assert caught.value.code == "unsupported" and "SVG" in caught.value.message


@pytest.mark.parametrize(
    "data",
    [
        b"This is a text file someone named photo.jpg\n" * 20,
        encode(landscape(), "BMP"),
        encode(landscape(), "TIFF"),
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(100),
    ],
    ids=["text", "bmp", "tiff", "avif"],
)
def test_other_files_are_unsupported(data: bytes) -> None:
    with pytest.raises(ImageError) as caught:
        ingest_image(data, purpose="photo")
    assert caught.value.code == "unsupported"
    assert "JPEG, PNG, WebP, GIF or HEIC" in caught.value.message


def test_empty_upload() -> None:
    with pytest.raises(ImageError) as caught:
        ingest_image(b"", purpose="photo")
    assert caught.value.code == "empty"


def test_oversized_upload_is_refused_before_decoding() -> None:
    with pytest.raises(ImageError) as caught:
        ingest_image(b"\xff\xd8\xff" + bytes(31 * 1024 * 1024), purpose="photo")
    assert caught.value.code == "too_large"
    assert caught.value.message == "That photo is 31 MB; the limit is 25 MB"
    small = encode(landscape(), "PNG")
    with pytest.raises(ImageError) as caught:
        ingest_image(small, purpose="drawing", max_bytes=len(small) - 1)
    assert caught.value.code == "too_large" and caught.value.message.startswith("That drawing is")


def test_truncated_jpeg_is_undecodable() -> None:
    noisy = Image.effect_noise((400, 300), 80).convert("RGB")
    data = encode(noisy, "JPEG", quality=90)
    with pytest.raises(ImageError) as caught:
        ingest_image(data[: len(data) // 2], purpose="photo")
    assert caught.value.code == "undecodable"


def test_garbage_behind_a_png_signature_is_undecodable() -> None:
    with pytest.raises(ImageError) as caught:
        ingest_image(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50, purpose="drawing")
    assert caught.value.code == "undecodable"


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe0", "JPEG"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"GIF89a", "GIF"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WEBP"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIF"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "HEIF"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommp41", None),  # an MP4 video
        (b"BM", None),
    ],
)
def test_sniffing_reads_content_not_names(head: bytes, kind: str | None) -> None:
    assert sniff_format(head + bytes(32)) == kind


def test_purpose_must_be_photo_or_drawing() -> None:
    with pytest.raises(ValueError):
        ingest_image(encode(landscape(), "PNG"), purpose="avatar")  # type: ignore[arg-type]
