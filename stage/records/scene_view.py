"""The read model of a display: what its page receives for its current scene, the scene plus the
data it shows (the scene itself is kept by ``stage.records.scenes``)."""

from __future__ import annotations

from typing import Any

from stage.records import credits, curation, lookup, moderation
from stage.records.store import Store
from stage.show.models import Show, Wifi
from stage.show.prompts import STATE_KEY as OPEN_PROMPT_KEY

# The wall holds the newest two hundred: the page lays out as many as fill the frame at a size the back
# row reads (one large card, a balanced grid, or pages of six that turn calmly), never a scrolling list.
WALL_SIZE = 200
LEADERBOARD_SIZE = 6  # a 3 x 2 grid at wall size: eight cards in four columns were too small to read


def open_prompt(store: Store, show: Show | None) -> dict[str, Any] | None:
    """The prompt the phones answer now (its words only: the empty wall asks the room for it)."""
    prompt_id = store.get_state(OPEN_PROMPT_KEY) if show is not None else None
    prompt = show.prompt(prompt_id) if prompt_id else None
    return {"id": prompt.id, "text": prompt.text} if prompt is not None else None


def join_card(join_url: str, phones: int, wifi: Wifi | None) -> dict[str, Any]:
    card: dict[str, Any] = {"url": join_url, "qr": "/qr/join.svg", "phones": phones}
    if wifi is not None:
        card["wifi"] = {"ssid": wifi.ssid, "password": wifi.password, "qr": "/qr/wifi.svg"}
    return card


def for_display(display: str, scene: dict[str, Any], store: Store, join_url: str, phones: int,
                wifi: Wifi | None = None, show: Show | None = None) -> dict[str, Any]:
    """``show`` lets the wall name the open prompt; without it (older callers) the wall has none."""
    payload: dict[str, Any] = {"display": display, "scene": scene}
    if wifi is None and show is not None:
        wifi = show.wifi
    if scene["type"] == "join":
        payload["join"] = join_card(join_url, phones, wifi)
    elif scene["type"] == "wall":
        payload["records"] = [curation.public_with_lineage(store, r)
                              for r in moderation.approved(store, limit=WALL_SIZE, kinds=curation.WALL_KINDS)]
        payload["wall_size"] = WALL_SIZE
        # An empty wall is never a black screen: it asks for the open prompt and shows how to join.
        payload["join"] = join_card(join_url, phones, None)
        payload["prompt"] = open_prompt(store, show)
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
