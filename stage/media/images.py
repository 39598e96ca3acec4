"""Images from phones: sniffed, size-capped, decoded, turned upright and re-encoded without metadata.

Every image a phone sends is decoded and drawn again from its pixels, so nothing of the original
file survives: no EXIF (GPS position, phone model), no XMP, no comments, no ICC profile (colours
are converted to sRGB first), no second frame, no trailing bytes. Photos become progressive JPEG,
drawings PNG with their transparency.
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
from dataclasses import dataclass
from typing import Literal

import pillow_heif
from PIL import Image, ImageCms, ImageOps

from stage.errors import StageError
from stage.media.sizes import describe_size

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

Purpose = Literal["photo", "drawing"]

ACCEPTED = "JPEG, PNG, WebP, GIF or HEIC"
JPEG_QUALITY = 85
# ISO-BMFF brands of HEIF stills (what iPhones send). AVIF shares the container but has no decoder here.
HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
AVIF_BRANDS = frozenset({b"avif", b"avis"})
# Errors Pillow and pillow-heif raise on broken or truncated data.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, RuntimeError, IndexError, KeyError)


MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo decodes; a bomb's header says far more


class ImageError(StageError):
    """An image Stage refuses. Codes: too_large, empty, too_many_pixels, unsupported, undecodable."""

    code = "image"


@dataclass(frozen=True)
class IngestedImage:
    data: bytes
    mime: str
    ext: str
    width: int
    height: int


def sniff_format(data: bytes) -> str | None:
    """The Pillow format name the bytes really are (never trust a file name), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":
        box_size = int.from_bytes(data[:4], "big")
        major = data[8:12]
        compatible = {data[i : i + 4] for i in range(16, min(box_size, 64), 4)}
        if major in AVIF_BRANDS:
            return None
        if major in HEIF_BRANDS or compatible & (HEIF_BRANDS - {b"mif1", b"msf1"}):
            return "HEIF"
    return None


def looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def ingest_image(
    data: bytes,
    *,
    purpose: Purpose,
    max_bytes: int = 25 * 1024 * 1024,
    max_pixels: int = MAX_PIXELS,
    max_side: int = 2048,
) -> IngestedImage:
    """Check, decode and re-encode one uploaded image; raise ImageError with a readable reason."""
    if purpose not in ("photo", "drawing"):
        raise ValueError(f"purpose must be 'photo' or 'drawing', not {purpose!r}")
    if not data:
        raise ImageError(f"That {purpose} is empty (0 bytes); please try again", code="empty")
    if len(data) > max_bytes:
        raise ImageError(
            f"That {purpose} is {describe_size(len(data))}; the limit is {describe_size(max_bytes)}",
            code="too_large",
        )
    kind = sniff_format(data)
    if kind is None:
        what = "SVG files are" if looks_like_svg(data) else "That file is"
        raise ImageError(f"{what} not accepted; please send a {ACCEPTED} picture", code="unsupported")
    image = decode_checked(data, kind, purpose, max_pixels)
    image = _upright(image)
    image = _to_srgb(image)
    image = _flatten(image, purpose)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    image.info.clear()  # some encoders copy info (ICC, EXIF, dpi, text) into the new file
    out = io.BytesIO()
    if purpose == "photo":
        image.save(out, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True)
        mime, ext = "image/jpeg", "jpg"
    else:
        image.save(out, "PNG", optimize=True)
        mime, ext = "image/png", "png"
    log.info("ingested %s: %s %d bytes -> %s %dx%d %d bytes", purpose, kind, len(data), ext, *image.size, out.tell())
    return IngestedImage(data=out.getvalue(), mime=mime, ext=ext, width=image.width, height=image.height)


def _too_many_pixels(purpose: str, size: tuple[int, int] | None, max_pixels: int) -> ImageError:
    limit = f"the limit is {max_pixels / 1e6:.0f} megapixels"
    if size is None:
        return ImageError(f"That {purpose} has too many pixels; {limit}", code="too_many_pixels")
    width, height = size
    return ImageError(
        f"That {purpose} is {width} × {height} pixels ({width * height / 1e6:.0f} megapixels); {limit}",
        code="too_many_pixels",
    )


def decode_checked(data: bytes, kind: str, purpose: str, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Read the header, refuse decompression bombs from it, and only then decode the pixels (uploads,
    and pictures an archive brings in)."""
    undecodable = ImageError(
        f"That {purpose} could not be read (the file may be damaged or cut short); please send it again",
        code="undecodable",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[kind])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(purpose, None, max_pixels) from None
        except DECODE_ERRORS as exc:
            log.info("undecodable %s header (%s): %s", kind, type(exc).__name__, exc)
            raise undecodable from None
        width, height = image.size
        if width <= 0 or height <= 0:
            raise undecodable
        if width * height > max_pixels:
            raise _too_many_pixels(purpose, image.size, max_pixels)
        try:
            image.seek(0)  # the first frame of an animated GIF or WebP
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(purpose, image.size, max_pixels) from None
        except DECODE_ERRORS as exc:
            log.info("undecodable %s pixels (%s): %s", kind, type(exc).__name__, exc)
            raise undecodable from None
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block keeps the picture as stored."""
    try:
        return ImageOps.exif_transpose(image)
    except DECODE_ERRORS + (TypeError,) as exc:
        log.warning("ignoring unreadable EXIF orientation: %s", exc)
        return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert colours from an embedded profile (Display P3 on phones) to sRGB before dropping it."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        log.warning("ignoring unusable ICC profile: %s", exc)
        return image
    return converted if converted is not None else image


def _flatten(image: Image.Image, purpose: str) -> Image.Image:
    """RGBA for drawings; RGB for photos, with any transparency laid on white rather than black."""
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
    if purpose == "drawing":
        return image.convert("RGBA")
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
