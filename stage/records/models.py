"""Records and participants as plain values, and their public (wire) form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

@dataclass(frozen=True)
class Participant:
    id: str
    name: str
    consent: bool
    banned: bool

    @classmethod
    def from_row(cls, row: Any) -> "Participant":
        return cls(row["id"], row["name"], bool(row["consent"]), bool(row["banned"]))

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class Record:
    id: str
    kind: str
    status: str
    author: str
    participant_id: str | None
    text: str | None
    media: str | None
    prompt_id: str | None
    reason: str | None
    created_at: float
    updated_at: float
    sources: tuple[str, ...] = field(default=())
    flags: tuple[str, ...] = field(default=())

    @classmethod
    def from_row(cls, row: Any, sources: tuple[str, ...] = ()) -> "Record":
        return cls(
            id=row["id"],
            kind=row["kind"],
            status=row["status"],
            author=row["author"],
            participant_id=row["participant_id"],
            text=row["text"],
            media=row["media"],
            prompt_id=row["prompt_id"],
            reason=row["reason"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            sources=sources,
            flags=tuple(json.loads(row["flags"])),
        )

    def public(self) -> dict[str, Any]:
        """What a phone, console or display may see of a record (no device keys, no ids of people)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "author": self.author,
            "text": self.text,
            "media": f"/media/{self.media}" if self.media else None,
            "mime": media_type(self.media) if self.media else None,
            "prompt": self.prompt_id,
            "reason": self.reason,
            "created_at": self.created_at,
            "sources": list(self.sources),
        }

    def for_moderators(self) -> dict[str, Any]:
        """What a moderation console sees: the public form plus who sent it and why it is flagged."""
        return {**self.public(), "participant": self.participant_id, "flags": list(self.flags)}


MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "mp4": "video/mp4", "m4a": "audio/mp4"}


def media_type(name: str) -> str:
    return MEDIA_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")


# Every record query selects these columns so Record.from_row can read them.
RECORD_COLUMNS = """
    r.id, r.kind, r.status, r.participant_id, r.text, r.media, r.prompt_id, r.reason, r.created_at, r.updated_at, r.flags,
    COALESCE(r.author_name, r.crew_author) AS author
"""
RECORD_FROM = "shown_records r"  # records, with hidden takes read as withdrawn (migration 4)
