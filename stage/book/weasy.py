"""WeasyPrint, imported without its one process-wide side effect.

On import WeasyPrint sets Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES = True`` for the whole process
(weasyprint/images.py, 70.0). Stage's own image checks (stage/media/images.py, stage/book/pictures.py) rely on
Pillow refusing a truncated file: with the flag on, half a JPEG decodes as a picture with a grey bottom, and a
corrupt upload or book picture would pass. The book's pictures are checked and re-encoded before WeasyPrint sees
them, so WeasyPrint loses nothing by decoding strictly. Found when a test process that had typeset a book then
accepted a truncated JPEG upload.
"""

from __future__ import annotations

from typing import Any


def modules() -> tuple[Any, Any, Any]:
    """(HTML, URLFetcher, boxes) from WeasyPrint, with Pillow's truncated-image setting as it was before."""
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        from weasyprint import HTML
        from weasyprint.formatting_structure import boxes
        from weasyprint.urls import URLFetcher
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    return HTML, URLFetcher, boxes
