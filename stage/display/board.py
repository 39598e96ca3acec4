"""The scene of every display, persisted in the store's state table."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from stage.errors import CueError, NotFound
from stage.records.store import Store
from stage.show.models import Show

log = logging.getLogger(__name__)

# Scenes this version renders; the show schema names more (story, media, credits...), which fail
# their cue with a clear error until the display pages learn them.
SUPPORTED_SCENES = ("join", "wall", "blank", "message", "story", "image", "media", "leaderboard")
RECORD_SCENES = {"story": ("story",), "image": ("drawing", "photo"), "media": ("clip", "take", "remix")}

SceneListener = Callable[[str, dict[str, Any]], None]


class DisplayBoard:
    def __init__(self, show: Show, store: Store, on_change: SceneListener) -> None:
        self._show = show
        self._store = store
        self._on_change = on_change

    def scene(self, display: str) -> dict[str, Any]:
        spec = self._show.display(display)
        if spec is None:
            raise NotFound(f"no display named '{display}'")
        return self._store.get_state(f"display.{display}.scene") or {"type": spec.default_scene}

    def scenes(self) -> dict[str, dict[str, Any]]:
        return {d.name: self.scene(d.name) for d in self._show.displays}

    def set_scene(self, display: str, scene_type: str, actor: str, text: str | None = None,
                  record: str | None = None, transition: str = "cut", fade: float = 0) -> dict[str, Any]:
        if self._show.display(display) is None:
            raise NotFound(f"no display named '{display}'")
        if scene_type not in SUPPORTED_SCENES:
            raise CueError(f"the '{scene_type}' scene is not available in this version of Stage "
                           f"(available: {', '.join(SUPPORTED_SCENES)})")
        scene: dict[str, Any] = {"type": scene_type, "transition": {"type": transition, "seconds": fade}}
        if scene_type == "message":
            scene["text"] = text or ""
        if scene_type in RECORD_SCENES:
            if record is None:
                raise CueError(f"nothing is chosen for the {scene_type} scene: send a record to a display from the "
                               "host console first")
            scene["record"] = record
        with self._store.transaction() as db:
            Store.put_state(db, f"display.{display}.scene", scene)
            Store.audit(db, actor, "scene", display, scene=scene_type)
        log.info("display %s now shows the %s scene", display, scene_type)
        self._on_change(display, scene)
        return scene
