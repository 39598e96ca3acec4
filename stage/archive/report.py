"""``report.html``: the night's story on one page a producer would forward to the venue.

Self-contained (its CSS inline, charts and pictures as ``data:`` URIs) and printable; it needs no script and
its CSP allows none. Every piece of audience text goes through Jinja's autoescape, and names sit in
``<bdi>`` so an Arabic name does not turn a line of English around. Names and words are HTML (the
browser draws emoji and every script); the charts hold numbers only (stage/archive/charts.py).
"""

from __future__ import annotations

import base64
import logging
import statistics
import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from stage import __version__
from stage.archive import charts, thumbnails
from stage.records import night_facts as report_facts
from stage.records.night_facts import NightFacts, Piece, clock, duration
from stage.errors import StageError
from stage.records import archive as archive_db
from stage.records.lineage import Lineage, Queryable

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
_pages = Environment(loader=FileSystemLoader(HERE), autoescape=True, undefined=StrictUndefined,
                     trim_blocks=True, lstrip_blocks=True)

# The roles stage.records.credits gives (and, for archives made before issue 18, the nouns it gave), as the
# words of a credit line; capitalised, they head the roll's groups ("Written by", as on a film's roll).
CREDIT_PHRASES = {"wrote": "written by", "drew": "drawn by", "photographed": "photographed by",
                  "performed": "performed by", "filmed": "filmed by", "remix": "remixed by",
                  "writer": "written by", "illustrator": "drawn by", "photographer": "photographed by",
                  "clip maker": "filmed by", "performer": "performed by", "camera": "filmed by",
                  "remixer": "remixed by"}
KIND_LABELS = {"story": "Story", "drawing": "Drawing", "photo": "Photo", "clip": "Clip", "take": "Take",
               "remix": "Remix"}


def build(store: Queryable, lineage: Lineage | None, title: str, credits: list[dict[str, Any]],
          show: Any = None, made_at: float | None = None) -> str:
    """The page. ``show``: the night's show file (a path or a loaded ``Show``) for its title and cue names;
    without it the page is titled ``title``. ``lineage`` is unused: what may be shown is read again here, so a
    crew-only archive's report still leaves the withheld out. ``credits``: the roll (stage.records.credits)."""
    loaded = _show(show)
    cue_names = {cue.id: cue.name for cue in loaded.flat_cues() if cue.name} if loaded is not None else {}
    facts = report_facts.gather(store, cue_names)
    media = Path(store.data_dir) / "media" if getattr(store, "data_dir", None) else None
    for piece in [*facts.top, *facts.remixes, *facts.takes]:
        piece.thumb = _thumb(store, media, piece)
    made = made_at if made_at is not None else time.time()
    page = _pages.get_template("report_page.html")
    return page.render(
        title=loaded.title if loaded is not None else title, when=_when(facts), facts=facts,
        figures=report_facts.figures(facts), kinds=report_facts.kind_counts(facts.contributions),
        colours=charts.KIND_COLOURS, night_chart=_svg_uri(charts.night(
            facts.contributions, facts.joins, facts.start, facts.end, facts.bucket_minutes)),
        night_alt=_night_alt(facts), moments=[(clock(m.at), m) for m in facts.moments],
        pieces=lambda pieces: [_card(p) for p in pieces], moderation=_moderation(facts),
        roll=_roll(credits), made=time.strftime("%A %-d %B %Y at %H:%M", time.localtime(made)),
        version=__version__, css=(HERE / "report_page.css").read_text(encoding="utf-8"))


def _show(show: Any) -> Any:
    if show is None or hasattr(show, "title"):
        return show
    from stage.show.loader import load_show

    try:
        return load_show(Path(show))
    except (StageError, OSError) as exc:  # the night's data is what matters: a broken show file costs its title
        log.warning("report: cannot read the show file %s (%s); the report is titled by its name", show, exc)
        return None


def _when(facts: NightFacts) -> str:
    if not facts.joins and not facts.contributions and not facts.cues:
        return "Nothing happened on this night yet"
    day = time.strftime("%A %-d %B %Y", time.localtime(facts.start))
    return f"{day} · {clock(facts.start)}–{clock(facts.end)} ({duration(facts.end - facts.start)})"


def _svg_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def _night_alt(facts: NightFacts) -> str:
    """The chart in words, for a screen reader and for whoever reads the page without its pictures."""
    phones = len(facts.joins)
    text = (f"Contributions per {facts.bucket_minutes} minute{'s' if facts.bucket_minutes > 1 else ''} by kind, "
            f"and phones joined: {phones} phone{'' if phones == 1 else 's'} and "
            f"{len(facts.contributions)} contribution{'' if len(facts.contributions) == 1 else 's'} "
            f"between {clock(facts.start)} and {clock(facts.end)}")
    busiest = report_facts.peak(facts.contributions, facts.bucket_minutes)
    if busiest is not None:
        text += f"; the busiest from {clock(busiest[0])}, with {busiest[1]}"
    return text + "."


def _thumb(store: Queryable, media: Path | None, piece: Piece) -> str | None:
    node = piece.node
    if node.kind in ("drawing", "photo"):
        return thumbnails.picture(media, node.media)
    if node.kind == "remix":
        details = archive_db.remix_details(store, node.id) or {}  # type: ignore[arg-type]
        return thumbnails.picture(media, details.get("poster")) or thumbnails.picture(media, node.media)
    if node.kind in ("clip", "take"):
        at = (node.take or {}).get("in_point") or 0.0
        return thumbnails.picture(media, node.media, at_seconds=at + 1.0)
    return None


def _card(piece: Piece) -> dict[str, Any]:
    node = piece.node
    label = KIND_LABELS.get(node.kind, node.kind.capitalize())
    if node.kind == "take" and node.take:
        label = f"Take {node.take['number']}"
    credits = [(CREDIT_PHRASES.get(role, role), names) for role, names in piece.credits]
    if credits:
        credits[0] = (credits[0][0][:1].upper() + credits[0][0][1:], credits[0][1])
    return {"label": label, "kind": node.kind, "thumb": piece.thumb, "caption": piece.caption,
            "story": node.kind == "story", "recommendations": piece.recommendations, "credits": credits,
            "circled": bool(node.take and node.take.get("circled"))}


def _moderation(facts: NightFacts) -> dict[str, Any] | None:
    if not facts.waits:
        return None
    n = len(facts.waits)
    decided = f"Moderators decided on {n:,} contribution{'' if n == 1 else 's'}"
    if max(facts.waits) < 1:
        sentence = f"{decided}, each within a second."
    else:
        sentence = (f"{decided}: half within {duration(statistics.median(facts.waits))}, nine in ten within "
                    f"{duration(report_facts.percentile(facts.waits, 0.9))}; the longest wait was "
                    f"{duration(max(facts.waits))}.")
    return {"sentence": sentence, "chart": _svg_uri(charts.waits(facts.waits))}


def _roll(credits: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Everyone credited, grouped by role in the roll's own order (writers first, as on a film's roll)."""
    groups: dict[str, list[str]] = {}
    for person in credits:
        for role in person.get("roles") or []:
            heading = CREDIT_PHRASES.get(role, role).capitalize()
            if person["name"] not in groups.setdefault(heading, []):
                groups[heading].append(person["name"])
    return list(groups.items())
