"""The night's book as files: a print-ready PDF, an HTML edition to share, and the share statement (CSV).

One Jinja template (``templates/book.html``, its sheet ``templates/book.css``) is typeset by WeasyPrint with CSS
paged media for print, and rendered again as the HTML edition with the printed page numbers the PDF got.
WeasyPrint embeds subsets of the fonts it uses (DejaVu Serif and Sans, Noto Color Emoji for emoji) and shapes
Arabic right to left; user text reaches the pages only through Jinja's autoescape.

Nothing is half-written: the three files are written under temporary names in the PDF's own folder and renamed
over the real names only once all three are complete, so a failure leaves the old files (or none) as they were.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from stage import __version__
from stage.book import edits, layout_check, pictures, share, typeset, weasy
from stage.book.contents import BookContents, Page, Picture
from stage.errors import InvalidInput, StageError

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
TEMPLATES = Path(__file__).resolve().parent / "templates"
_templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                         undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
TYPES = [chosen for _, chosen in typeset.SCALE] + [typeset.SMALLEST]


def templates() -> Environment:
    """The book's Jinja templates (autoescaped): the book, its stylesheet, the share statement page."""
    return _templates


@dataclass
class RenderResult:
    pdf: Path
    html: Path
    csv: Path
    pages: int  # printed pages in the PDF, the cover included
    printed: dict[str, list[int]]  # book page id -> the printed pages it is on
    left_out: list[str] = field(default_factory=list)


def outputs(out_pdf: Path) -> tuple[Path, Path, Path]:
    """The three files a render writes for ``--out``: ``<stem>.pdf``, ``<stem>.html``, ``<stem>-share.csv``."""
    out_pdf = Path(out_pdf)
    return (out_pdf.with_suffix(".pdf"), out_pdf.with_suffix(".html"),
            out_pdf.with_name(f"{out_pdf.stem}-share.csv"))


def render(contents: BookContents, out_pdf: Path, progress: Progress = lambda stage, done, total: None
           ) -> RenderResult:
    if not contents.pages:
        raise InvalidInput("the book has no pages yet", code="empty_book")
    pdf_path, html_path, csv_path = outputs(out_pdf)
    if not pdf_path.parent.is_dir():
        raise InvalidInput(f"{pdf_path.parent} is not a folder", code="no_folder")
    trim = _trim(contents.trim)
    with tempfile.TemporaryDirectory(prefix="stage-book-") as work:
        prepared = _prepare(contents, trim, Path(work), progress)
        document = _typeset(_page_html(contents, trim, prepared, None), _estimate(contents), progress)
        layout_check.check(document)
        printed = _printed(document, contents.pages)
        written: list[tuple[Path, Path]] = []
        try:
            progress("writing the PDF", 0, 1)
            written.append((_temporary(pdf_path), pdf_path))
            document.write_pdf(written[-1][0], finisher=_whole_bleed)
            progress("writing the PDF", 1, 1)
            written.append((_temporary(html_path), html_path))
            written[-1][0].write_text(_page_html(contents, trim, prepared, printed, progress), encoding="utf-8")
            progress("share statement", 0, 1)
            written.append((_temporary(csv_path), csv_path))
            written[-1][0].write_text(share.to_csv(share.rows(contents, printed)), encoding="utf-8", newline="")
            for temporary, final in written:
                os.replace(temporary, final)
            progress("share statement", 1, 1)
        except BaseException:
            for temporary, _final in written:
                temporary.unlink(missing_ok=True)
            raise
    log.info("book rendered: %s, %d printed pages, %d book pages", pdf_path, len(document.pages), len(printed))
    return RenderResult(pdf_path, html_path, csv_path, len(document.pages), printed, list(contents.left_out))


@dataclass(frozen=True)
class Trim:
    size: float
    margin: float
    bleed: float

    @property
    def area(self) -> float:
        """The type area's side: the page less its margins."""
        return round(self.size - 2 * self.margin, 2)


def _trim(trim: dict[str, float]) -> Trim:
    size, margin, bleed = (float(trim[k]) for k in ("size_mm", "margin_mm", "bleed_mm"))
    if not (size > 0 and 0 <= bleed and 0 <= margin and size - 2 * margin >= edits.SMALLEST_PRINTED_MM):
        raise InvalidInput(f"a {size:g} mm page with {margin:g} mm margins leaves no room to print on",
                           code="bad_trim")
    return Trim(size, margin, bleed)


# -- pictures ---------------------------------------------------------------------------------------------------

Prepared = dict[str, pictures.Prepared]  # "cover" or a page id -> its picture, ready for print


def _prepare(contents: BookContents, trim: Trim, work: Path, progress: Progress) -> Prepared:
    positions = {stored["id"]: n for n, stored in enumerate(contents.raw.get("pages", []), start=1)}
    layouts = typeset.plan(contents.pages)
    wanted: list[tuple[str, str, Picture, bool]] = []
    if contents.cover is not None:
        wanted.append(("cover", "the cover", contents.cover, True))
    for page in contents.pages:
        if page.picture is not None:
            may_fill = layouts[page.id] == "facing"  # above a story or alone, a picture sits whole
            wanted.append((page.id, f"page {positions.get(page.id, page.entry)}", page.picture, may_fill))
    bleed_px, framed_px = pictures.print_pixels(trim.size + 2 * trim.bleed), pictures.print_pixels(trim.area)
    out: Prepared = {}
    for done, (key, where, picture, may_fill) in enumerate(wanted):
        progress("pictures", done, len(wanted))

        def fit(width: int, height: int, kind: str = picture.kind, may_fill: bool = may_fill) -> tuple[bool, int]:
            fills = may_fill and typeset.fills_page(kind, width, height)
            return fills, bleed_px if fills else framed_px

        out[key] = pictures.prepare(picture, where, work, fit)
    progress("pictures", len(wanted), len(wanted))
    return out


# -- the pages --------------------------------------------------------------------------------------------------

def _page_html(contents: BookContents, trim: Trim, prepared: Prepared, printed: dict[str, list[int]] | None,
               progress: Progress | None = None) -> str:
    """The book as HTML: for print (``printed`` None: file pictures, page numbers by WeasyPrint's counters) or
    as the HTML edition (pictures as data: URIs, the page numbers the PDF printed)."""
    screen = printed is not None
    done, total = 0, len(prepared)

    def source(key: str) -> str:
        nonlocal done
        if not screen:
            return prepared[key].path.as_uri()
        if progress:
            progress("HTML edition", done, total)
        done += 1
        return prepared[key].screen_uri()

    people = len(contents.contributors)
    summary = typeset.summary(contents.night_contributions, contents.night_people, len(contents.pages), people)
    layouts = typeset.plan(contents.pages)
    entries = [_entry(page, layouts[page.id], prepared, source, printed) for page in contents.pages]
    by_entry = {page.entry: page.id for page in contents.pages}
    index = [{"name": person.name, "dir": typeset.direction(person.name), "roles": typeset.roles_said(person.roles),
              "refs": [{"cover": True}] * person.cover + [
                  {"cover": False, "anchor": f"page-{by_entry[e]}",
                   "number": printed[by_entry[e]][0] if printed else None}
                  for e in sorted(person.entries)]} for person in contents.contributors]
    cover = None
    if contents.cover is not None:
        cover = {"src": source("cover"), "fills": prepared["cover"].fills,
                 "alt": typeset.credit_line(contents.cover.credits) or "The cover picture"}
    css = _templates.get_template("book.css").render(t=trim, types=TYPES)
    book: dict[str, Any] = {
        "edition": "screen" if screen else "print", "version": __version__, "css": Markup(css),
        "title": contents.title, "title_dir": typeset.direction(contents.title),
        "foreword": typeset.paragraphs(contents.foreword), "foreword_dir": typeset.direction(contents.foreword),
        "cover": cover, "cover_credits": typeset.credit_parts(contents.cover.credits) if contents.cover else [],
        "cover_line": f"Stories and pictures by {people} {'person' if people == 1 else 'people'}",
        "entries": entries, "index": index, "summary": summary}
    html = _templates.get_template("book.html").render(book=book)
    if progress and screen:
        progress("HTML edition", total, total)
    return html


def _entry(page: Page, layout: str, prepared: Prepared, source: Callable[[str], str],
           printed: dict[str, list[int]] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": page.id, "anchor": f"page-{page.id}", "end": f"end-{page.id}", "layout": layout,
                           "credits": typeset.credit_parts(page.credits), "picture": None, "story": None,
                           "numbers": printed[page.id] if printed else None}
    if printed:
        first, last = printed[page.id][0], printed[page.id][-1]
        out["numbers_said"] = str(first) if first == last else f"{first}–{last}"
    if page.picture is not None:
        out["picture"] = {"src": source(page.id), "fills": prepared[page.id].fills,
                          "alt": typeset.credit_line(page.picture.credits) or f"A {page.picture.kind}"}
    if page.text is not None:
        step = TYPES.index(typeset.type_for(page.text))
        out["story"] = {"paragraphs": typeset.paragraphs(page.text), "dir": typeset.direction(page.text),
                        "type": max(step, typeset.STACKED) if layout == "stacked" else step}
    return out


# -- typesetting ------------------------------------------------------------------------------------------------

def _estimate(contents: BookContents) -> int:
    """About how many pages the PDF will have (for the progress bar while WeasyPrint lays them out)."""
    pages = sum(2 if layout in ("facing", "spread") else 1 for layout in typeset.plan(contents.pages).values())
    return 3 + round(pages * 1.15) + 1 + len(contents.contributors) // 40


def _typeset(html: str, estimate: int, progress: Progress) -> Any:
    HTML, URLFetcher, _ = weasy.modules()  # noqa: N806  (classes)

    # Only our own local files and data: nothing in a book is fetched from a network, and a picture that cannot
    # be read stops the render (it was checked, so this is a fault of ours, not a hole in the book).
    fetcher = URLFetcher(allowed_protocols={"file", "data"}, fail_on_errors=True)
    watcher = _LayoutProgress(estimate, progress)
    progress("typesetting", 0, estimate)
    watcher.attach()
    try:
        document = HTML(string=html, base_url=str(TEMPLATES), url_fetcher=fetcher).render()
    except StageError:
        raise
    except Exception as exc:
        log.exception("typesetting the book failed")
        raise StageError(f"the book could not be typeset: {exc}", code="typeset_failed") from exc
    finally:
        watcher.detach()
    progress("typesetting", len(document.pages), len(document.pages))
    return document


class _LayoutProgress(logging.Handler):
    """Hears WeasyPrint's "Creating layout - Page N" lines (its progress logger) from this thread only. While it
    listens they go to it alone, not on to Stage's log: a line per page is progress, not news."""

    def __init__(self, estimate: int, progress: Progress) -> None:
        super().__init__(logging.INFO)
        self.estimate, self.progress, self.thread = max(1, estimate), progress, threading.get_ident()
        self.logger = logging.getLogger("weasyprint.progress")
        self.before = (self.logger.level, self.logger.propagate)

    def attach(self) -> None:
        self.logger.addHandler(self)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False

    def detach(self) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self.before[0])
        self.logger.propagate = self.before[1]

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread or not str(record.msg).startswith("Step 5 - Creating layout - Page %d"):
            return
        page = int(record.args[0]) if record.args else 0  # type: ignore[index]
        self.progress("typesetting", min(page, self.estimate - 1), self.estimate)


def _printed(document: Any, pages: list[Page]) -> dict[str, list[int]]:
    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    for number, page in enumerate(document.pages, start=1):
        for anchor in page.anchors:
            if anchor.startswith("page-"):
                starts.setdefault(anchor[5:], number)
            elif anchor.startswith("end-"):
                ends[anchor[4:]] = number
    missing = [page.id for page in pages if page.id not in starts or page.id not in ends]
    if missing:
        raise StageError(f"the typeset book lost the pages {', '.join(missing)}", code="typeset_failed")
    return {page.id: list(range(starts[page.id], ends[page.id] + 1)) for page in pages}


def _whole_bleed(_document: Any, pdf: Any) -> None:
    """Every page's BleedBox as wide as the bleed asked for. WeasyPrint makes the MediaBox the whole bleed but keeps
    the BleedBox within 10 pt (3.5 mm) of the trim, so 5 mm of bleed would preflight as 3.5 mm at a print shop."""
    for number in pdf.pages["Kids"][::3]:
        page = pdf.objects[number]
        page["BleedBox"] = page["MediaBox"]


def _temporary(final: Path) -> Path:
    handle, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".part")
    os.close(handle)
    os.chmod(name, 0o644)  # mkstemp's 0600 would make the book readable by this user only
    return Path(name)
