"""The crew console's rigs and take library, mixed into ``CrewNamespace``.

Record/stop (and a rig's camera operator) go through ``Night.recording``; circle, trim and delete go to ``Night.takes``,
which reports the new library to every crew console (``takes``).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_socketio import join_room, leave_room

from stage.realtime import payloads
from stage.realtime.base import handler
from stage.realtime.rooms import preview_room
from stage.errors import NotFound


class TakesMixin:
    """Crew events for rigs and takes (``self`` is a ``CrewNamespace``)."""

    night: Any
    actor: str

    def send_takes_state(self) -> None:
        self.reply("rigs", {"rigs": self.night.recording.listing()})  # type: ignore[attr-defined]
        self.reply("takes", {"takes": self.night.takes.library()})  # type: ignore[attr-defined]

    @handler(payloads.RigName)
    def on_record(self, payload: payloads.RigName) -> dict[str, Any]:
        started = self.night.recording.record(payload.rig, None, self.actor)
        self.night.reports.rigs_changed()
        return started

    @handler(payloads.RigName)
    def on_stop_recording(self, payload: payloads.RigName) -> dict[str, Any]:
        stopped = self.night.recording.stop(payload.rig, self.actor)
        self.night.reports.rigs_changed()
        return stopped

    @handler(payloads.SetOperator)
    def on_set_operator(self, payload: payloads.SetOperator) -> dict[str, Any]:
        """Who films with a rig tonight: the camera credit of its next takes (stored and audited)."""
        operator = self.night.recording.set_operator(payload.rig, payload.operator, self.actor)
        self.night.reports.rigs_changed()  # every crew console shows the new name
        return {"rig": payload.rig, "operator": operator}

    @handler(payloads.WatchPreview)
    def on_watch_preview(self, payload: payloads.WatchPreview) -> dict[str, Any]:
        """Previews cost bandwidth: a console gets a rig's only while it has that preview open."""
        if not self.night.recording.known(payload.rig):
            raise NotFound(f"the show has no rig '{payload.rig}'", code="unknown_rig")
        (join_room if payload.on else leave_room)(preview_room(payload.rig), sid=request.sid, namespace="/crew")
        return {"watching": payload.on}

    @handler(payloads.Empty)
    def on_takes(self, _: payloads.Empty) -> dict[str, Any]:
        return {"takes": self.night.takes.library()}

    @handler(payloads.Circle)
    def on_circle_take(self, payload: payloads.Circle) -> dict[str, Any]:
        return {"take": self.night.takes.circle(payload.id, payload.circled, self.actor)}

    @handler(payloads.Trim)
    def on_trim_take(self, payload: payloads.Trim) -> dict[str, Any]:
        return {"take": self.night.takes.trim(payload.id, _seconds(payload.in_point), _seconds(payload.out_point),
                                              self.actor)}

    @handler(payloads.TakeId)
    def on_delete_take(self, payload: payloads.TakeId) -> dict[str, Any]:
        self.night.takes.delete(payload.id, self.actor)
        return {"deleted": payload.id}


def _seconds(value: float | int | None) -> float | None:
    return None if value is None else float(value)
