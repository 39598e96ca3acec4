"""``/audience``: phones. Anyone may connect; a phone acts only after ``join`` with its device key."""

from __future__ import annotations

import logging
from typing import Any

from flask import request, session
from flask_socketio import join_room

from stage.errors import Forbidden
from stage.realtime import payloads
from stage.realtime.base import RoleNamespace, handler
from stage.records import submissions

log = logging.getLogger(__name__)

ROOM = "phones"


def prompt_public(prompt: Any) -> dict[str, Any] | None:
    if prompt is None:
        return None
    return {"id": prompt.id, "text": prompt.text, "kinds": list(prompt.kinds),
            "max_chars": prompt.max_chars, "max_words": prompt.max_words}


class AudienceNamespace(RoleNamespace):
    def on_connect(self, auth: Any = None) -> None:
        log.debug("phone socket %s connected", request.sid)

    def on_disconnect(self, reason: Any = None) -> None:
        self.night.presence.left(request.sid)
        self.hub.counts_changed()

    @handler(payloads.Join)
    def on_join(self, payload: payloads.Join) -> dict[str, Any]:
        participant = self.night.join(payload.device_key, payload.name)
        session["participant_id"] = participant.id
        join_room(ROOM)
        join_room(f"participant:{participant.id}")
        self.night.presence.phone_joined(request.sid, participant.id)
        self.hub.counts_changed()
        return {
            "participant": participant.public(),
            "prompt": prompt_public(self.night.prompts.current),
            "records": [r.public() for r in submissions.by_participant(self.night.store, participant.id)],
        }

    @handler(payloads.SubmitStory)
    def on_submit_story(self, payload: payloads.SubmitStory) -> dict[str, Any]:
        record = self.night.submit_story(self._participant_id(), payload.prompt, payload.id, payload.text)
        return {"record": record.public()}

    def _participant_id(self) -> str:
        participant_id = session.get("participant_id")
        if not participant_id:
            raise Forbidden("join first", code="not_joined")
        return participant_id
