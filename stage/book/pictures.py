"""The book's pictures, ready for print and for the screen edition.

Print: the stored file as it is when it is no finer than 300 dpi at the size it is printed (WeasyPrint embeds
a JPEG as it is and a PNG losslessly); a finer one is downscaled to 300 dpi, never upscaled. A take or a clip
gives a still at the page's chosen second (:mod:`stage.book.stills`). Screen: about 1200 px on the long side,
as a ``data:`` URI, so the HTML edition is one file that opens anywhere.

Every file is opened and fully decoded here, before anything is typeset: a missing or corrupt file stops the
render with a message naming the page, instead of WeasyPrint leaving a hole in a printed book.
"""

from __future__ import annotations

import base64
import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from stage.book import edits, stills
from stage.book.contents import Picture
from stage.errors import InvalidInput

log = logging.getLogger(__name__)

PRINT_DPI = 300
SCREEN_PX = 1200
JPEG_QUALITY = 90
SCREEN_QUALITY = 85
VIDEO_SUFFIXES = edits.MOVING_SUFFIXES
KIND_WORDS = {"drawing": "drawing", "photo": "photo", "remix": "remix card", "take": "take", "clip": "clip"}


@dataclass(frozen=True)
class Prepared:
    path: Path  # the file the PDF embeds
    width: int
    height: int
    alpha: bool  # a drawing's transparent canvas: kept as PNG
    fills: bool = False  # cropped to fill its page into the bleed (else framed whole inside the margins)

    def screen_uri(self, longest: int = SCREEN_PX) -> str:
        with Image.open(self.path) as image:
            if max(image.size) <= longest and image.format in ("PNG", "JPEG"):  # small enough as it is
                mime = "image/png" if image.format == "PNG" else "image/jpeg"
                return f"data:{mime};base64,{base64.b64encode(self.path.read_bytes()).decode('ascii')}"
            image.load()
            image.thumbnail((longest, longest), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            if self.alpha:
                image.save(out, "PNG", optimize=True)
                mime = "image/png"
            else:
                image.convert("RGB").save(out, "JPEG", quality=SCREEN_QUALITY, optimize=True, progressive=True)
                mime = "image/jpeg"
        return f"data:{mime};base64,{base64.b64encode(out.getvalue()).decode('ascii')}"


def print_pixels(printed_mm: float) -> int:
    """How many pixels 300 dpi puts across ``printed_mm``: more than that is finer than a press prints."""
    return math.ceil(printed_mm / 25.4 * PRINT_DPI)


# Given a picture's (width, height): whether it fills its page, and the most pixels print needs on its long side
# (framed) or on its short side (filling: the short side spans the page, the long one is cropped).
Fit = Callable[[int, int], tuple[bool, int]]


def prepare(picture: Picture, where: str, work: Path, fit: Fit) -> Prepared:
    """The picture for print, no finer than ``fit`` says. ``where`` names it in errors ("page 3", "the cover")."""
    what = KIND_WORDS.get(picture.kind, picture.kind)
    media = picture.media
    if not media.is_file():
        raise InvalidInput(f"{where}: the {what}'s file is missing ({media.name or 'no file'})", code="media_missing")
    stem = f"{picture.record}-{round((picture.at or 0) * 1000)}-{where.replace(' ', '-')}"
    if picture.is_still or media.suffix.lower() in VIDEO_SUFFIXES:
        still = work / f"{stem}-still.jpg"
        try:
            stills.extract(media, picture.at or 0.0, still, JPEG_QUALITY)
        except stills.StillError as exc:
            raise InvalidInput(f"{where}: the {what}'s video is corrupt: {exc}", code="media_corrupt") from exc
        media = still
    try:
        with Image.open(media) as image:
            image.load()
            fills, most = fit(*image.size)
            return _fitted(image, media, work / stem, fills, most)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput(f"{where}: the {what}'s file is corrupt (it cannot be read as a picture)",
                           code="media_corrupt") from exc


def _fitted(image: Image.Image, source: Path, stem: Path, fills: bool, most: int) -> Prepared:
    alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    scale = min(1.0, most / (min(image.size) if fills else max(image.size)))
    usable = image.format in ("JPEG", "PNG") and image.mode in ("RGB", "RGBA", "L", "LA", "P")
    if scale >= 1.0 and usable:
        return Prepared(source, image.width, image.height, alpha, fills)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    converted = image.convert("RGBA" if alpha else "RGB")
    resized = converted.resize(size, Image.Resampling.LANCZOS) if size != image.size else converted
    if alpha:
        out = stem.with_suffix(".png")
        resized.save(out, "PNG", optimize=True)
    else:
        out = stem.with_suffix(".jpg")
        resized.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    log.debug("%s: %dx%d -> %dx%d for print", source.name, image.width, image.height, *size)
    return Prepared(out, size[0], size[1], alpha, fills)
