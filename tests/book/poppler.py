"""The rendered book read back with poppler's tools, as a print shop's preflight would: text, pages, images, fonts."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tests.chromium import ARTIFACTS

BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    """The PDF's text, bidi marks taken out and every run of white space one space (lines wrap anywhere)."""
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    raw = _run("pdftotext", "-enc", "UTF-8", *pages, str(pdf), "-")
    return " ".join(unicodedata.normalize("NFC", raw.translate(BIDI_CONTROLS)).split())


def page_texts(pdf: Path) -> list[str]:
    return [text(pdf, n, n) for n in range(1, pages(pdf) + 1)]


def words(pdf: Path, first: int, last: int) -> str:
    """The text of these pages as one run, each page's number at its foot left out (a story read across pages)."""
    out = []
    for number in range(first, last + 1):
        page = text(pdf, number, number)
        out.append(page.removesuffix(f" {number}") if page != str(number) else "")
    return " ".join(out)


def pages(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(pdf)), re.M).group(1))  # type: ignore[union-attr]


def boxes(pdf: Path, page: int = 1) -> dict[str, tuple[float, ...]]:
    out = _run("pdfinfo", "-box", "-f", str(page), "-l", str(page), str(pdf))
    return {m.group(1): tuple(float(v) for v in m.group(2).split())
            for m in re.finditer(r"^Page\s+\d+\s+(\w+Box):\s+(.+)$", out, re.M)}


@dataclass(frozen=True)
class EmbeddedImage:
    page: int
    type: str
    width: int
    height: int
    x_ppi: int


def images(pdf: Path) -> list[EmbeddedImage]:
    rows = _run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    out = []
    for row in rows:
        cells = row.split()
        out.append(EmbeddedImage(int(cells[0]), cells[2], int(cells[3]), int(cells[4]), int(cells[12])))
    return out


def fonts(pdf: Path) -> list[tuple[str, bool]]:
    """(font name without its subset tag, embedded?) for every font the PDF uses."""
    rows = _run("pdffonts", str(pdf)).splitlines()[2:]
    found = []
    for row in rows:
        match = re.match(r"^(\S+)\s+.*?\s(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", row)
        assert match, row
        found.append((match.group(1).split("+", 1)[-1], match.group(2) == "yes"))
    return found


def snapshot(pdf: Path, name: str, pages_wanted: list[int]) -> list[Path]:
    """Pages as PNGs in test-artifacts/ (book-<name>-<page>.png) at 60 dpi: look at them."""
    ARTIFACTS.mkdir(exist_ok=True)
    made = []
    for page in pages_wanted:
        target = ARTIFACTS / f"book-{name}-{page:02d}"
        _run("pdftoppm", "-r", "60", "-png", "-singlefile", "-f", str(page), "-l", str(page), str(pdf), str(target))
        made.append(target.with_suffix(".png"))
    return made


def stage_book(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m stage book ...`` as a person or the console runs it."""
    return subprocess.run([sys.executable, "-m", "stage", "book", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)
