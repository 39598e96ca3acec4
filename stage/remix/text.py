"""Text drawn with Pillow for remixes: wrapped story text, caption strips, title cards and story cards.

The font is DejaVu Sans from Debian's ``fonts-dejavu-core`` (the Makefile installs it): it covers
accented Latin, Greek and Cyrillic, which audience names and stories use.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from stage.errors import StageError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
BACKGROUND = (16, 16, 24)
INK = (245, 245, 240)
MUTED = (170, 170, 185)


class FontMissing(StageError):
    code = "font_missing"


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = FONT_DIR / (BOLD if bold else REGULAR)
    if not path.exists():
        raise FontMissing(f"the remix font {path} is missing; install Debian's fonts-dejavu-core (make setup)")
    return ImageFont.truetype(str(path), size)


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels; a word longer than a line is cut into pieces."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            while face.getlength(word) > width:  # one enormous "word" (a URL, a keyboard smash)
                cut = max(1, next(i for i in range(len(word), 0, -1) if face.getlength(word[:i]) <= width))
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:cut])
                word = word[cut:]
            candidate = f"{line} {word}".strip()
            if face.getlength(candidate) <= width or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return [line for line in lines if line] or [""]


def fit(text: str, width: int, height: int, largest: int, smallest: int, bold: bool = False
        ) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest font (down to ``smallest``) whose wrapped text fits the box; cut with … if none does."""
    for size in range(largest, smallest - 1, -2):
        face = font(size, bold)
        lines = wrap(text, face, width)
        if len(lines) * line_height(face) <= height:
            return face, lines
    face = font(smallest, bold)
    lines = wrap(text, face, width)
    keep = max(1, height // line_height(face))
    if len(lines) > keep:
        lines = lines[:keep]
        lines[-1] = lines[-1].rstrip(".,;: ") + "…"
    return face, lines


def line_height(face: ImageFont.FreeTypeFont) -> int:
    return int(face.size * 1.3)


def caption_pages(text: str, width: int, height: int, lines_per_page: int = 2) -> list[tuple[list[str], int]]:
    """A story cut into caption pages of a few lines each, with each page's length in characters."""
    face = font(max(18, height // 20), bold=True)
    lines = wrap(text, face, int(width * 0.86))
    pages = [lines[i:i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    return [(page, sum(len(line) for line in page)) for page in pages]


def caption_strip(lines: list[str], width: int, height: int) -> tuple[Image.Image, int]:
    """An RGBA strip (text on a translucent band) for the bottom of a frame, and the row it goes at."""
    face = font(max(18, height // 20), bold=True)
    step = line_height(face)
    band = step * len(lines) + step // 2
    band += band % 2  # even rows: chroma planes are half height
    strip = Image.new("RGBA", (width, band), (0, 0, 0, 150))
    draw = ImageDraw.Draw(strip)
    for n, line in enumerate(lines):
        draw.text((width // 2, step // 4 + n * step + step // 2), line, font=face, fill=INK + (255,), anchor="mm")
    top = height - band - height // 18
    return strip, top - top % 2


def title_card(title: str, subtitle: str, width: int, height: int) -> Image.Image:
    """A full frame: the title (a story) large and centred, a subtitle (who, which take) under it."""
    card = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(card)
    face, lines = fit(title, int(width * 0.8), int(height * 0.6), height // 9, height // 30, bold=True)
    step = line_height(face)
    top = (height - step * len(lines)) // 2 - height // 12
    for n, line in enumerate(lines):
        draw.text((width // 2, top + n * step + step // 2), line, font=face, fill=INK, anchor="mm")
    small = font(max(14, height // 28))
    draw.text((width // 2, int(height * 0.82)), subtitle, font=small, fill=MUTED, anchor="mm")
    return card


def story_card(story: str, picture: Image.Image, credit: str, width: int, height: int) -> Image.Image:
    """A story beside its drawing or photo, with who made them along the bottom."""
    card = Image.new("RGB", (width, height), BACKGROUND)
    margin = height // 16
    box = (width // 2 - margin * 2, height - margin * 3)
    picture = ImageOps.exif_transpose(picture)
    if picture.mode in ("RGBA", "LA", "P"):  # a drawing's transparent canvas becomes paper white
        picture = picture.convert("RGBA")
        paper = Image.new("RGBA", picture.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(paper, picture)
    picture = ImageOps.contain(picture.convert("RGB"), box)
    card.paste(picture, (margin + (box[0] - picture.width) // 2, margin + (box[1] - picture.height) // 2))
    draw = ImageDraw.Draw(card)
    text_left = width // 2
    face, lines = fit(story, width // 2 - margin * 2, box[1], height // 12, height // 36, bold=True)
    step = line_height(face)
    top = margin + (box[1] - step * len(lines)) // 2
    for n, line in enumerate(lines):
        draw.text((text_left, top + n * step), line, font=face, fill=INK)
    small = font(max(14, height // 32))
    draw.text((width // 2, height - margin), credit, font=small, fill=MUTED, anchor="mm")
    return card
