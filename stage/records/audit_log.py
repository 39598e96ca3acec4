"""Reading the audit log, and the entries written on their own.

Most entries are written inside the transaction that makes the change (``Store.audit``); an OSC
message or an export begun from the console has no such transaction, so those open their own.

The log keeps ids (they stay true after a rename); :func:`entries` adds the names a person reads on the
host console: ``who`` (a phone's display name, a role) and ``about`` (the record, phone, cue or take).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from stage.records.store import Store
from stage.records.takes import STARTED

COLUMNS = ("seq", "at", "actor", "action", "subject", "detail")
ROLES = ("host", "moderator", "crew")  # a console actor is "<role>:<session or socket prefix>"
SYSTEM = {"engine": "cue engine", "osc": "OSC out", "osc-remote": "OSC remote", "stage": "Stage",
          "auto-approve": "auto-approve"}
CUE_ACTIONS = {"go", "go_debounced", "back", "jump", "auto_continue", "auto_follow", "light_fired"}
EXCERPT = 40  # characters of a record's text that name it in the log


def entries(store: Store, action: str | None = None, limit: int = 200,
            cues: Mapping[str, str | None] | None = None) -> list[dict[str, Any]]:
    """The newest entries first, optionally only one action, each with ``who`` and ``about`` (``cues``:
    the show's cue names by id, for the GO, back and jump entries)."""
    where, params = ("WHERE action = ?", (action,)) if action else ("", ())
    rows = store.query(f"SELECT {', '.join(COLUMNS)} FROM audit {where} ORDER BY seq DESC LIMIT ?", (*params, limit))
    found = [{**dict(row), "detail": json.loads(row["detail"]) if row["detail"] else None} for row in rows]
    return named(store, found, cues or {})


def named(store: Store, found: list[dict[str, Any]], cues: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """``found`` with ``who`` and ``about`` added: one read per table for every id in it, not one per entry."""
    ids = {e["subject"] for e in found} | {_participant(e["actor"]) for e in found}
    ids |= {e["detail"].get("story") for e in found if e["action"] == "take_start" and e["detail"]}
    ids.discard(None)
    people = _people(store, ids)
    things = {**_records(store, ids), **_started(store, ids), **_takes(store, ids)}
    for entry in found:
        entry["who"] = _who(entry["actor"], people)
        entry["about"] = _about(entry, people, things, cues)
    return found


def _participant(actor: str) -> str | None:
    return actor.split(":", 1)[1] if actor.startswith("participant:") else None


def _who(actor: str, people: Mapping[str, str]) -> str:
    role, _, rest = actor.partition(":")
    if role == "participant":
        return people.get(rest, "a phone")
    if role in ROLES:
        return role
    if role == "rig" and rest:
        return f"rig {rest}"
    return SYSTEM.get(actor, actor)


def _about(entry: dict[str, Any], people: Mapping[str, str], things: Mapping[str, str],
           cues: Mapping[str, str | None]) -> str:
    subject, detail = entry["subject"], entry["detail"] or {}
    if not subject:
        return ""
    if entry["action"] in CUE_ACTIONS:
        name = cues.get(subject)
        return f"cue {subject} · {name}" if name else f"cue {subject}"
    if subject in people:
        rejected = detail.get("rejected") if entry["action"] == "ban" else None
        return f"{people[subject]} ({len(rejected)} waiting rejected)" if rejected else people[subject]
    if subject in things:
        return things[subject]
    if entry["action"] == "take_start" and "take" in detail:  # a take since forgotten (the agent refused it)
        return f"take {detail['take']}"
    if entry["action"].startswith("take"):
        return "a take"  # refused before it was made: no slate left to name it by
    if entry["action"] == "scene" and detail.get("scene"):
        return f"{subject} → {detail['scene']}"
    if entry["action"] == "osc_sent" and detail.get("message"):
        return f"{subject} {detail['message']}"
    return subject


def _rows(store: Store, sql: str, ids: Iterable[str]) -> list:
    """The rows of ``sql`` (its ``{marks}`` the placeholders) for ``ids``: none without asking when there are none."""
    values = tuple(sorted(ids))
    if not values:
        return []
    return store.query(sql.format(marks=",".join("?" * len(values))), values)


def _people(store: Store, ids: set[str]) -> dict[str, str]:
    return {row["id"]: row["name"] for row in _rows(store, "SELECT id, name FROM participants WHERE id IN ({marks})",
                                                    ids)}


def _records(store: Store, ids: set[str]) -> dict[str, str]:
    """Every record among ``ids`` as "story by Ada: “The cape…”" (hidden and rejected ones too: it is a log)."""
    rows = _rows(store, "SELECT id, kind, text, COALESCE(author_name, crew_author) AS author FROM records"
                        " WHERE id IN ({marks})", ids)
    out = {}
    for row in rows:
        words = f": “{_excerpt(row['text'])}”" if row["text"] else ""
        out[row["id"]] = f"{row['kind']} by {row['author'] or 'crew'}{words}"
    return out


def _takes(store: Store, ids: set[str]) -> dict[str, str]:
    """Every uploaded take among ``ids`` as "take 2 of “The cape…”"."""
    rows = _rows(store, "SELECT t.record_id, t.number, s.text AS story FROM takes t"
                        " LEFT JOIN records s ON s.id = t.story_id WHERE t.record_id IN ({marks})", ids)
    return {row["record_id"]: f"take {row['number']}" + (f" of “{_excerpt(row['story'])}”" if row["story"] else "")
            for row in rows}


def _started(store: Store, ids: set[str]) -> dict[str, str]:
    """Every take among ``ids`` started and not uploaded yet, by its slate: "take 2 of “The cape…”"."""
    out = {}
    for row in _rows(store, "SELECT key, value FROM state WHERE key IN ({marks})", (STARTED + i for i in ids)):
        slate = json.loads(row["value"]).get("slate") or {}
        story = f" of “{_excerpt(slate['story'])}”" if slate.get("story") else ""
        out[row["key"][len(STARTED):]] = f"take {slate.get('take', '?')}{story}"
    return out


def _excerpt(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= EXCERPT else words[:EXCERPT - 1].rstrip() + "…"


def osc_sent(store: Store, target: str, message: str) -> None:
    """Every OSC message that left Stage goes in the audit log (``OscSender``'s ``on_sent`` calls this)."""
    with store.transaction() as db:
        Store.audit(db, "osc", "osc_sent", target, message=message)


def archive_started(store: Store, actor: str, file: str) -> None:
    """An export of the night begun from the host console (stage/web/night_archive.py)."""
    with store.transaction() as db:
        Store.audit(db, actor, "export", file)


def to_csv(store: Store, action: str | None = None) -> str:
    """The whole log (or one action) oldest first, as CSV for a spreadsheet."""
    where, params = ("WHERE action = ?", (action,)) if action else ("", ())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in store.query(f"SELECT {', '.join(COLUMNS)} FROM audit {where} ORDER BY seq", params):
        writer.writerow([_safe(value) for value in row])
    return out.getvalue()


def _safe(value: Any) -> Any:
    """Defuse spreadsheet formulas in user-made text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
