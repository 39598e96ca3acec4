"""What a display page receives for its current scene: the scene plus the data it shows."""

from __future__ import annotations

from typing import Any

from stage.records import curation, moderation, submissions
from stage.records.store import Store

WALL_SIZE = 24  # the wall shows this many newest approved records; older ones leave the DOM


def scene_payload(display: str, scene: dict[str, Any], store: Store, join_url: str, phones: int) -> dict[str, Any]:
    payload: dict[str, Any] = {"display": display, "scene": scene}
    if scene["type"] == "join":
        payload["join"] = {"url": join_url, "qr": "/qr/join.svg", "phones": phones}
    elif scene["type"] == "wall":
        payload["records"] = [curation.public_with_lineage(store, r) for r in moderation.approved(store, limit=WALL_SIZE)
                              if r.kind != "comment"]
        payload["wall_size"] = WALL_SIZE
    elif scene["type"] == "story":
        record = submissions.get(store, scene["record"])
        # Only an approved record is ever sent; one hidden since shows the fallback (nothing).
        approved = record is not None and record.status == "approved"
        payload["record"] = curation.public_with_lineage(store, record) if approved else None
    return payload
