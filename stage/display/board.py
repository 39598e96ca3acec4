"""The scene of every display, persisted in the store's state table."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from stage.errors import CueError, NotFound
from stage.records import scenes
from stage.records.store import Store
from stage.show.models import Show

log = logging.getLogger(__name__)

# Every scene the show schema names has a page that renders it.
SUPPORTED_SCENES = ("join", "wall", "blank", "message", "story", "image", "media", "leaderboard", "live", "credits")
RECORD_SCENES = {"story": ("story",), "image": ("drawing", "photo"), "media": ("clip", "take", "remix")}
END_SCENES = ("blank", "wall", "join")  # where a media scene may go by itself when its media ends

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
        return scenes.current(self._store, display) or {"type": spec.default_scene}

    def scenes(self) -> dict[str, dict[str, Any]]:
        return {d.name: self.scene(d.name) for d in self._show.displays}

    def set_scene(self, display: str, scene_type: str, actor: str, text: str | None = None,
                  record: str | None = None, transition: str = "cut", fade: float = 0, rig: str | None = None,
                  end: str = "hold") -> dict[str, Any]:
        if self._show.display(display) is None:
            raise NotFound(f"no display named '{display}'")
        if scene_type not in SUPPORTED_SCENES:
            raise CueError(f"the '{scene_type}' scene is not available in this version of Stage "
                           f"(available: {', '.join(SUPPORTED_SCENES)})")
        # The id tells one showing of a scene from the next: a display's report that its media ended
        # only counts for the showing it was about.
        scene: dict[str, Any] = {"type": scene_type, "id": uuid.uuid4().hex[:12],
                                 "transition": {"type": transition, "seconds": fade}}
        if scene_type == "message":
            scene["text"] = text or ""
        if scene_type == "live":
            if rig is None or all(r.name != rig for r in self._show.rigs):
                raise CueError(f"the live scene needs one of the show's rigs (got {rig!r})")
            scene["rig"] = rig
        if scene_type == "media":
            scene["end"] = end
        if scene_type in RECORD_SCENES:
            if record is None:
                raise CueError(f"nothing is chosen for the {scene_type} scene: send a record to a display from the "
                               "host console first")
            scene["record"] = record
        scenes.show(self._store, display, scene, actor)
        log.info("display %s now shows the %s scene", display, scene_type)
        self._on_change(display, scene)
        return scene

    def media_ended(self, display: str, scene_id: str, actor: str) -> dict[str, Any] | None:
        """The display's media reached its end: follow the scene's end action, once per showing."""
        scene = self.scene(display)
        if scene.get("type") != "media" or scene.get("id") != scene_id or scene.get("end") not in END_SCENES:
            return None
        log.info("display %s: the media ended; going to the %s scene", display, scene["end"])
        return self.set_scene(display, scene["end"], actor, transition="crossfade", fade=1.0)
