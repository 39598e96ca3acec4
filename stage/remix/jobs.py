"""Renders the crew started from the console: each in a worker process, watched by a background task.

No Flask here: the namespace gives ``spawn`` (``socketio.start_background_task``) and ``emit`` (to the
crew room). A finished render is a *draft* (its files are in the media library, no record yet) until
the crew sends it to moderation (:func:`stage.remix.saving.save`). Drafts live in memory: after a
restart their files stay in the library but the crew renders again.
"""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stage.errors import Conflict, NotFound
from stage.records import credits, lineage, remixes
from stage.records.models import Record
from stage.records.store import Store
from stage.remix import recipes, saving
from stage.remix.worker import Job

log = logging.getLogger(__name__)
Emit = Callable[[str, dict[str, Any]], None]
_BY_NIGHT: "weakref.WeakKeyDictionary[Any, RenderJobs]" = weakref.WeakKeyDictionary()


def for_night(night: Any, spawn: Callable[..., Any] | None = None, emit: Emit | None = None) -> "RenderJobs":
    """The one job board of a night (the crew namespace makes it; the draft-preview route reads it)."""
    if night not in _BY_NIGHT:
        if spawn is None or emit is None:
            raise NotFound("no renders yet")
        _BY_NIGHT[night] = RenderJobs(night.store, night.media.root, spawn, emit)
    return _BY_NIGHT[night]


class RenderJobs:
    def __init__(self, store: Store, media_root: Path, spawn: Callable[..., Any], emit: Emit) -> None:
        self.store = store
        self.media_root = Path(media_root)
        self.spawn = spawn
        self.emit = emit
        self.running: dict[str, Job] = {}
        self.drafts: dict[str, dict[str, Any]] = {}

    def start(self, recipe: recipes.Card | recipes.CaptionedTake | recipes.Reel, actor: str) -> dict[str, Any]:
        """Check the recipe now (the crew hears at once what is wrong), then render in the background."""
        plan, sources = recipes.resolve(self.store, recipe, self.media_root)
        job_id = str(uuid.uuid4())
        job = Job(plan, self.media_root, self.media_root)
        self.running[job_id] = job
        self.spawn(self._run, job_id, job, recipe, sources, actor)
        log.info("render %s (%s of %s) started by %s", job_id, recipe.recipe, ", ".join(sources), actor)
        return {"job": job_id, "recipe": recipe.recipe, "sources": sources, "seconds": plan.seconds}

    def _run(self, job_id: str, job: Job, recipe: Any, sources: list[str], actor: str) -> None:
        try:
            result = job.run(lambda fraction: self.emit("remix_progress", {"job": job_id, "fraction": fraction}))
        except Exception:
            log.exception("render %s failed", job_id)
            result = {"ok": False, "error": {"code": "render_failed", "message": "the render worker could not run"}}
        finally:
            self.running.pop(job_id, None)
        if not result.get("ok"):
            log.info("render %s did not finish: %s", job_id, result["error"]["message"])
            self.emit("remix_failed", {"job": job_id, "error": result["error"]})
            return
        story = self._title(sources)
        draft = {"job": job_id, "recipe": recipe.model_dump(), "sources": sources, "media": result["media"],
                 "poster": result.get("poster"), "duration": result.get("duration"), "title": story, "by": actor}
        self.drafts[job_id] = draft
        log.info("render %s finished: %s (%.1f s)", job_id, result["media"], result.get("duration") or 0)
        self.emit("remix_done", self.view(draft))

    def view(self, draft: dict[str, Any]) -> dict[str, Any]:
        """A draft as the crew console sees it: files to preview, its lineage and its credits."""
        graph = lineage.load(self.store).upstream(draft["sources"])
        graph["nodes"].append({"id": draft["job"], "kind": "remix", "author": saving.CREW_AUTHOR,
                               "text": draft["title"],
                               "media": None, "created_at": None, "draft": True})
        graph["edges"] += [{"from": s, "to": draft["job"]} for s in draft["sources"]]
        graph["root"] = draft["job"]
        return {"job": draft["job"], "recipe": draft["recipe"]["recipe"], "duration": draft["duration"],
                "media": f"/crew/remix/draft/{draft['media']}",
                "poster": f"/crew/remix/draft/{draft['poster']}" if draft["poster"] else None,
                "lineage": graph, "credits": credits.for_sources(self.store, draft["sources"])}

    def cancel(self, job_id: str) -> bool:
        job = self.running.get(job_id)
        if job is None:
            raise NotFound(f"no render {job_id} is running", code="not_running")
        job.cancel()
        log.info("render %s cancelled", job_id)
        return True

    def submit(self, job_id: str, actor: str, approve: bool, allowed: bool) -> Record:
        draft = self.drafts.get(job_id)
        if draft is None:
            raise NotFound(f"no finished render {job_id}", code="no_draft")
        now = lineage.load(self.store)  # a source may have been hidden or withdrawn while the crew watched
        for source in draft["sources"]:
            if not now.visible(source):
                raise Conflict(f"the source {source} can no longer be shown; render again without it",
                               code="not_usable")
        record = saving.save(self.store, draft, actor, approve=approve, allowed=allowed)
        del self.drafts[job_id]
        return record

    def is_draft_file(self, name: str) -> bool:
        return any(name in (d["media"], d["poster"]) for d in self.drafts.values())

    def _title(self, sources: list[str]) -> str:
        return remixes.story_among(self.store, sources)  # whole: a page that lacks room shortens it itself
