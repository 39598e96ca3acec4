"""What each display shows, as the store keeps it: the scene in ``state`` and its audit row.

The display board (``stage.display.board``) decides what a scene is; this module only keeps it, so
the state row and the audit row of one scene change commit together or not at all.
"""

from __future__ import annotations

from typing import Any

from stage.records.store import Store

KEY = "display.{}.scene"  # state key of one display's current scene


def current(store: Store, display: str) -> dict[str, Any] | None:
    """The scene this display last showed, or None when it never showed one (it shows its default)."""
    return store.get_state(KEY.format(display))


def show(store: Store, display: str, scene: dict[str, Any], actor: str) -> None:
    """Keep ``scene`` as the display's scene and audit who put it there, in one transaction."""
    with store.transaction() as db:
        Store.put_state(db, KEY.format(display), scene)
        # The record too: what people put on a projector is what the night's book suggests first.
        Store.audit(db, actor, "scene", display, scene=scene["type"],
                    **({"record": scene["record"]} if scene.get("record") else {}))
