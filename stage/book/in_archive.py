"""What the night's archive (``stage export``) keeps of the book: the stored book, its share statement as CSV
and as a page, and the last render's PDF and HTML edition when there is one. Nothing when no book was begun."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from stage.book import contents, jobs, share
from stage.records import book as book_store
from stage.records import lineage
from stage.records.lineage import Queryable


log = logging.getLogger(__name__)


def files(snapshot: Queryable, data_dir: Path) -> dict[str, bytes | Path]:
    stored = book_store.current(snapshot, "Stage night")
    if not stored["pages"] and not stored["revision"]:
        return {}
    # Read as the night is now (never with --include-withheld): the statement names only who may be credited.
    held = contents.read(snapshot, Path(data_dir) / "media", stored)
    statement = share.rows(held)
    out: dict[str, bytes | Path] = {
        "book/book.json": json.dumps(stored, indent=2, ensure_ascii=False).encode(),
        "book/share.csv": share.to_csv(statement).encode(),
        "book/share.html": share.to_html(held, statement).encode(),
    }
    rendered = jobs.folder_of(data_dir)
    if not (rendered / jobs.FILES["pdf"]).is_file():
        return out
    if not jobs.still_showable(rendered, lineage.load(snapshot)):
        log.warning("export: the last book render shows something that may no longer be shown; left out")
        return out
    for kind in ("pdf", "html"):
        path = rendered / jobs.FILES[kind]
        if path.is_file():
            out[f"book/{jobs.FILES[kind]}"] = path
    return out
