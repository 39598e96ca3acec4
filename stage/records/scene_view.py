"""The read model of a display: what its page receives for its current scene, the scene plus the
data it shows (the scene itself is kept by ``stage.records.scenes``)."""

from __future__ import annotations

from typing import Any

from stage.records import credits, curation, lookup, moderation
from stage.records.store import Store
from stage.show.models import Wifi

WALL_SIZE = 12  # the wall shows the newest twelve (4 x 3 at any projector size); older ones leave the DOM
LEADERBOARD_SIZE = 8


def for_display(display: str, scene: dict[str, Any], store: Store, join_url: str, phones: int,
                  wifi: Wifi | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"display": display, "scene": scene}
    if scene["type"] == "join":
        payload["join"] = {"url": join_url, "qr": "/qr/join.svg", "phones": phones}
        if wifi is not None:
            payload["join"]["wifi"] = {"ssid": wifi.ssid, "password": wifi.password, "qr": "/qr/wifi.svg"}
    elif scene["type"] == "wall":
        payload["records"] = [curation.public_with_lineage(store, r)
                              for r in moderation.approved(store, limit=WALL_SIZE, kinds=curation.WALL_KINDS)]
        payload["wall_size"] = WALL_SIZE
    elif scene["type"] in ("story", "image", "media"):
        record = lookup.record(store, scene["record"])
        # Only an approved record is ever sent; one hidden since shows the fallback (nothing).
        approved = record is not None and record.status == "approved"
        payload["record"] = curation.public_with_lineage(store, record) if approved else None
        if approved and scene["type"] == "image":  # the remix card: a picture with the story it illustrates
            story = next((lookup.record(store, s) for s in record.sources), None)
            payload["caption"] = story.public() if story is not None and story.status == "approved" else None
    elif scene["type"] == "credits":
        payload["credits"] = credits.roll(store)
    elif scene["type"] == "live":
        payload["rig"] = scene["rig"]
    elif scene["type"] == "leaderboard":
        payload["records"] = curation.feed(store, None, "top", LEADERBOARD_SIZE)
    return payload
