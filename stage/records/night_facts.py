"""What the post-show report tells, read from a night's store or export snapshot. Reads only; no HTML, no charts.

Only what may be shown counts (``stage.records.lineage``): a crew-only archive (``--include-withheld``) still
gets a report a producer can forward. Rehearsal phones are left out, and the night starts after the last
rehearsal cleanup, so an afternoon's load test does not stretch the night's timeline back to lunch.
Text here is English for the venue (the report is not an audience page); user text stays as it was given
and is escaped where the page is made.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

from stage.records import credits as credits_module, lineage as lineage_module
from stage.records.lineage import Lineage, Node, Queryable

AUDIENCE_KINDS = ("story", "drawing", "photo", "clip")
PLURALS = {"story": "stories", "drawing": "drawings", "photo": "photos", "clip": "clips"}
# Chart buckets, in minutes: the smallest that keeps a night to at most MAX_BUCKETS bars.
BUCKETS = (1, 2, 5, 10, 15, 30, 60)
MAX_BUCKETS = 40
FEATURED = 6  # most recommended pieces shown with their credits
MADE = 6  # remixes, and takes, shown each (the archive holds the rest)


@dataclass
class Piece:
    """One record as the report shows it: what it is, who made it, how the room took it."""

    node: Node
    recommendations: int = 0
    credits: list[tuple[str, list[str]]] = field(default_factory=list)  # (role, names) in credits order
    caption: str = ""  # a story's words, or the story a take or remix was made from
    thumb: str | None = None  # a data: URI, filled in by the page (stage.archive.thumbnails)


@dataclass
class Moment:
    at: float
    kind: str  # cue, doors, peak, take, remix, panic, last
    text: str  # English and plain: the page escapes it
    quote: str = ""  # user text that goes with it (a story's first words), shown as a quotation


@dataclass
class NightFacts:
    start: float
    end: float
    joins: list[float]
    contributions: list[tuple[str, float]]  # (kind, at) of every record a real phone sent
    approved: int
    waits: list[float]  # seconds from a phone's submission to the moderator's first decision on it
    recommendations: int
    cues: list[tuple[float, str]]  # (at, cue id) of every cue fired from the top of the list
    bucket_minutes: int
    moments: list[Moment]
    top: list[Piece]
    remixes: list[Piece]
    takes: list[Piece]
    more_remixes: int = 0
    more_takes: int = 0


def gather(store: Queryable, cue_names: dict[str, str] | None = None, now: float | None = None) -> NightFacts:
    shown = lineage_module.load(store)  # never the crew archive's withheld records, whatever the export kept
    cleanup = max((r["at"] for r in store.query("SELECT at FROM audit WHERE action = 'rehearsal_cleanup'")),
                  default=float("-inf"))
    joins = sorted(r["created_at"] for r in store.query("SELECT created_at FROM participants WHERE simulated = 0")
                   if r["created_at"] > cleanup)
    submitted = _submissions(store, cleanup)
    contributions = [(kind, at) for _, kind, at in submitted]
    cues = [(r["at"], r["subject"]) for r in store.query(
        "SELECT at, subject FROM audit WHERE action IN ('go', 'auto_follow', 'auto_continue') ORDER BY seq")
            if r["at"] > cleanup]
    visible = [n for n in shown.nodes.values() if shown.visible(n.id) and n.created_at > cleanup]
    events = joins + [at for _, at in contributions] + [at for at, _ in cues] + [n.created_at for n in visible]
    start = min(events, default=now if now is not None else time.time())
    end = max(events, default=start)
    bucket = bucket_minutes(end - start)
    ids = {record_id for record_id, _, _ in submitted}
    approved = sum(1 for i in ids if i in shown.nodes and shown.nodes[i].status == "approved" and shown.visible(i))
    recommended = _recommendations(store)
    pieces = {n.id: Piece(n, recommended.get(n.id, 0)) for n in visible}
    top = sorted((p for p in pieces.values() if p.recommendations), key=lambda p: (-p.recommendations,
                                                                                    p.node.created_at))[:FEATURED]
    remixes = [p for p in pieces.values() if p.node.kind == "remix"]
    takes = sorted((p for p in pieces.values() if p.node.kind == "take"),
                   key=lambda p: (not p.node.take["circled"], p.node.created_at))
    for piece in [*top, *remixes[:MADE], *takes[:MADE]]:
        if not piece.credits:
            _describe(piece, store, shown)
    facts = NightFacts(start, end, joins, contributions, approved, _waits(store, submitted),
                       sum(recommended.values()), cues, bucket, [], top, remixes[:MADE], takes[:MADE],
                       max(0, len(remixes) - MADE), max(0, len(takes) - MADE))
    facts.moments = _moments(store, facts, cue_names or {}, pieces, cleanup)
    return facts


def bucket_minutes(span_seconds: float) -> int:
    """The bar width of the night's charts: a short rehearsal gets minutes, a long night quarter hours."""
    minutes = span_seconds / 60
    return next((b for b in BUCKETS if minutes / b <= MAX_BUCKETS), BUCKETS[-1])


def bucket_start(at: float, minutes: int) -> float:
    """The local clock time the bucket holding ``at`` starts at (21:15, not 15 minutes after the doors)."""
    local = time.localtime(at)
    into = (local.tm_min % minutes) * 60 + local.tm_sec + (at % 1)
    return at - into


def peak(contributions: list[tuple[str, float]], minutes: int) -> tuple[float, int] | None:
    """The bucket with the most contributions (the earliest if several tie), and how many."""
    counts = Counter(bucket_start(at, minutes) for _, at in contributions)
    if not counts:
        return None
    most = max(counts.values())
    return min(at for at, n in counts.items() if n == most), most


def _submissions(store: Queryable, after: float) -> list[tuple[str, str, float]]:
    """(record id, kind, at) of each record a real phone sent, from the audit log: an export has deleted
    the rejected ones, but the log (append-only) still says they were sent."""
    rows = store.query(
        "SELECT a.subject, a.detail, a.at FROM audit a JOIN participants p ON 'participant:' || p.id = a.actor"
        " WHERE a.action = 'submit' AND p.simulated = 0 ORDER BY a.seq")
    out = []
    for row in rows:
        kind = json.loads(row["detail"] or "{}").get("kind")
        if kind in AUDIENCE_KINDS and row["at"] > after:
            out.append((row["subject"], kind, row["at"]))
    return out


def _waits(store: Queryable, submitted: list[tuple[str, str, float]]) -> list[float]:
    sent = {record_id: at for record_id, _, at in submitted}
    first: dict[str, float] = {}
    for row in store.query("SELECT subject, at FROM audit WHERE action IN ('approve', 'reject') ORDER BY seq"):
        if row["subject"] in sent and row["subject"] not in first:
            first[row["subject"]] = max(0.0, row["at"] - sent[row["subject"]])
    return list(first.values())


def _recommendations(store: Queryable) -> dict[str, int]:
    return {r["record_id"]: r["n"] for r in store.query(
        "SELECT c.record_id, COUNT(*) AS n FROM recommendations c JOIN participants p ON p.id = c.participant_id"
        " WHERE p.simulated = 0 GROUP BY c.record_id")}


def _describe(piece: Piece, store: Queryable, shown: Lineage) -> None:
    """Its credits (stage.records.credits: the one truth of who made what) and its caption."""
    roles: dict[str, list[str]] = {}
    for person in credits_module.for_record(store, piece.node.id):
        for role in person["roles"]:
            roles.setdefault(role, []).append(person["name"])
    piece.credits = list(roles.items())
    if piece.node.kind == "story":
        piece.caption = piece.node.text or ""
    else:
        story = next((shown.nodes[i] for i in shown.ancestors(piece.node.id) if shown.nodes[i].kind == "story"), None)
        piece.caption = story.text or "" if story is not None else ""


def _moments(store: Queryable, facts: NightFacts, cue_names: dict[str, str], pieces: dict[str, Piece],
             after: float) -> list[Moment]:
    moments = [Moment(at, "cue", f"Cue {cue_id}" + (f" · {cue_names[cue_id]}" if cue_names.get(cue_id) else ""))
               for at, cue_id in facts.cues]
    if facts.joins:
        moments.append(Moment(facts.joins[0], "doors", "The first phone joined"))
    busiest = peak(facts.contributions, facts.bucket_minutes)
    if busiest is not None and busiest[1] > 1:
        at, n = busiest
        ends = time.strftime("%H:%M", time.localtime(at + facts.bucket_minutes * 60))
        moments.append(Moment(at, "peak", f"The busiest {_minutes(facts.bucket_minutes)}, to {ends}: "
                                          f"{n} contributions"))
    for row in store.query("SELECT at FROM audit WHERE action = 'panic' ORDER BY seq"):
        if row["at"] > after:
            moments.append(Moment(row["at"], "panic", "PANIC was pressed"))
    for piece in pieces.values():
        node = piece.node
        if node.kind == "take":
            performer = node.take["performer"] or "a volunteer"
            moments.append(Moment(node.created_at, "take", f"Take {node.take['number']}, performed by {performer}",
                                  _first_words(piece.caption or _caption(store, node))))
        elif node.kind == "remix":
            moments.append(Moment(node.created_at, "remix", f"A remix by {node.author}",
                                  _first_words(piece.caption)))
    if facts.contributions and len(facts.contributions) > 1:
        moments.append(Moment(facts.contributions[-1][1], "last", "The last contribution arrived"))
    order = {"doors": 0, "cue": 1, "peak": 2, "take": 3, "remix": 4, "panic": 5, "last": 6}
    return sorted(moments, key=lambda m: (m.at, order[m.kind]))


def _caption(store: Queryable, node: Node) -> str:
    rows = store.query("SELECT s.text FROM record_sources l JOIN records s ON s.id = l.source_id"
                       " WHERE l.record_id = ? AND s.kind = 'story' AND s.status = 'approved'", (node.id,))
    return rows[0]["text"] or "" if rows else ""


def _first_words(text: str, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _minutes(n: int) -> str:
    return "minute" if n == 1 else f"{n} minutes" if n < 60 else "hour"


def clock(at: float) -> str:
    return time.strftime("%H:%M", time.localtime(at))


def duration(seconds: float) -> str:
    """1 h 43 min, 12 min, 40 s: how long the night (or a wait) lasted, in words a producer reads."""
    seconds = max(1, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def figures(facts: NightFacts) -> list[tuple[int, str]]:
    """The headline figures, each with its label in the right number (1 phone, 2 phones)."""
    def label(n: int, one: str, many: str) -> tuple[int, str]:
        return n, one if n == 1 else many

    return [label(len(facts.joins), "phone joined", "phones joined"),
            label(len(facts.contributions), "contribution", "contributions"),
            label(facts.approved, "approved", "approved"),
            label(len(facts.remixes) + facts.more_remixes, "remix", "remixes"),
            label(len(facts.takes) + facts.more_takes, "take", "takes"),
            label(facts.recommendations, "recommendation", "recommendations")]


def kind_counts(contributions: list[tuple[str, float]]) -> list[tuple[str, str]]:
    """(kind, "12 stories") for each kind the audience sent, in the order the charts stack them."""
    counts = Counter(kind for kind, _ in contributions)
    return [(kind, f"{counts[kind]:,} {kind if counts[kind] == 1 else PLURALS[kind]}")
            for kind in AUDIENCE_KINDS if counts[kind]]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

