"""Crew events for remixes (mixed into ``CrewNamespace``): sources, render, cancel, submit, lineage.

Rendering never runs here: :class:`stage.remix.jobs.RenderJobs` starts a worker process and a
background task relays its progress to the crew room.
"""

from __future__ import annotations

from typing import Any

from stage.realtime import payloads
from stage.realtime.base import handler
from stage.realtime.rooms import CREW
from stage.records import credits, lineage
from stage.remix import jobs


class RemixEvents:
    """Needs ``self.night``, ``self.socketio`` and ``self.actor`` from the namespace."""

    def _remix_jobs(self) -> jobs.RenderJobs:
        socketio = self.socketio  # type: ignore[attr-defined]

        def emit(event: str, data: dict[str, Any]) -> None:
            socketio.emit(event, data, namespace="/crew", to=CREW)

        return jobs.for_night(self.night, spawn=socketio.start_background_task, emit=emit)  # type: ignore[attr-defined]

    @handler(payloads.RemixSources)
    def on_remix_sources(self, payload: payloads.RemixSources) -> dict[str, Any]:
        """What a recipe may use: approved stories, drawings, photos and takes that may be shown."""
        night_lineage = lineage.load(self.night.store)  # type: ignore[attr-defined]
        usable = [n for n in night_lineage.nodes.values()
                  if night_lineage.visible(n.id) and n.kind in ("story", "drawing", "photo", "take")]
        usable.sort(key=lambda n: n.created_at, reverse=True)
        return {"records": [_option(night_lineage, n) for n in usable[:payload.limit]],
                "crew_approves_own": self.night.show.remix.crew_approves_own}  # type: ignore[attr-defined]

    @handler(payloads.RemixRender)
    def on_remix_render(self, payload: payloads.RemixRender) -> dict[str, Any]:
        return self._remix_jobs().start(payload.recipe, self.actor)  # type: ignore[attr-defined]

    @handler(payloads.RemixJob)
    def on_remix_cancel(self, payload: payloads.RemixJob) -> dict[str, Any]:
        return {"cancelled": self._remix_jobs().cancel(payload.job)}

    @handler(payloads.RemixSubmit)
    def on_remix_submit(self, payload: payloads.RemixSubmit) -> dict[str, Any]:
        record = self._remix_jobs().submit(payload.job, self.actor, payload.approve,  # type: ignore[attr-defined]
                                           self.night.show.remix.crew_approves_own)  # type: ignore[attr-defined]
        if record.status == "approved":
            self.night.reports.decided(record)  # type: ignore[attr-defined]
        else:
            self.night.reports.submitted(record)  # type: ignore[attr-defined]
        return {"record": record.public()}

    @handler(payloads.LineageQuery)
    def on_lineage(self, payload: payloads.LineageQuery) -> dict[str, Any]:
        store = self.night.store  # type: ignore[attr-defined]
        return {"lineage": lineage.graph(store, payload.id), "credits": credits.for_record(store, payload.id)}


def _option(night_lineage: lineage.Lineage, node: lineage.Node) -> dict[str, Any]:
    out = node.public()
    if node.kind == "take":
        stories = [s for s in night_lineage.sources.get(node.id, ()) if night_lineage.nodes[s].kind == "story"]
        out["story"] = stories[0] if stories else None
    return out
