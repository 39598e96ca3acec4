"""``/audience``: phones. Anyone may connect; a phone acts only after ``join`` with its device key."""

from __future__ import annotations

import functools
import logging
from typing import Any

from flask import request, session
from flask_socketio import join_room
from limits import parse as parse_limit

from stage.errors import Forbidden, InvalidInput, RateLimited
from stage.realtime import payloads
from stage.realtime.base import RoleNamespace, handler
from stage.records import curation, submissions, volunteers
from stage.records.participants import device_key_hash
from stage.realtime.rooms import participant_room, phone_room
from stage.web import rehearsal

log = logging.getLogger(__name__)

# A phone joins once per connection (a rename re-joins); a venue phone has its own LAN address.
JOIN_PER_SOCKET = parse_limit("10 per minute")


def prompt_public(prompt: Any) -> dict[str, Any] | None:
    if prompt is None:
        return None
    return {"id": prompt.id, "text": prompt.text, "kinds": list(prompt.kinds),
            "max_chars": prompt.max_chars, "max_words": prompt.max_words}


class AudienceNamespace(RoleNamespace):
    event_limit = parse_limit("20 per 2 seconds")  # per connection: a flooding phone is refused, others served

    @functools.cached_property
    def _joins_per_address(self) -> Any:
        return parse_limit(f"{self.night.show.limits.joins_per_address} per minute")

    def on_connect(self, auth: Any = None) -> None:
        log.debug("phone socket %s connected", request.sid)

    def on_disconnect(self, reason: Any = None) -> None:
        if self.hub.presence.left(request.sid):
            self.night.reports.counts_changed()

    @handler(payloads.Join)
    def on_join(self, payload: payloads.Join) -> dict[str, Any]:
        # A rehearsal runs thousands of phones from one machine: with the host's token it skips the per-address cap.
        rehearsing = payload.simulated and rehearsal.token_ok(self.night.settings.secret_key, payload.rehearsal)
        if not (self._limiter.hit(JOIN_PER_SOCKET, "join-sid", request.sid)
                and (rehearsing or self.night.limits.join(self._joins_per_address, request.remote_addr or "?"))):
            raise RateLimited("too many joins; wait a minute")
        key_hash = device_key_hash(payload.device_key)
        if session.get("device_key_hash") not in (None, key_hash):
            raise InvalidInput("this connection already joined as another phone", code="already_joined")
        participant = self.night.audience.join(payload.device_key, payload.name, payload.simulated)
        session["device_key_hash"] = key_hash
        session["participant_id"] = participant.id
        join_room(phone_room(request.sid))
        join_room(participant_room(participant.id))
        self.hub.presence.phone_joined(request.sid, participant.id)
        self.night.reports.counts_changed()
        consent = self.night.show.consent
        # standard: Stage's own text, which the phone shows in its language (docs/languages.md).
        consent_ack = {"version": consent.version, "text": consent.words, "standard": consent.text is None}
        return {"participant": participant.public(), "consent": consent_ack,
                **self._standing(participant.id)}

    @handler(payloads.Empty)
    def on_state(self, _: payloads.Empty) -> dict[str, Any]:
        """What a joined phone shows, read only (no join row written): its answer to ``resync``."""
        return self._standing(self._participant_id())

    def _standing(self, participant_id: str) -> dict[str, Any]:
        return {
            "prompt": prompt_public(self.night.prompts.current),
            "records": [r.public() for r in submissions.by_participant(self.night.store, participant_id)],
            "volunteer": volunteers.standing(self.night.store, participant_id),
        }

    @handler(payloads.SubmitStory)
    def on_submit_story(self, payload: payloads.SubmitStory) -> dict[str, Any]:
        record = self.night.audience.submit_story(self._participant_id(), payload.prompt, payload.id, payload.text,
                                         tuple(payload.sources))
        return {"record": record.public()}

    @handler(payloads.SubmitComment)
    def on_submit_comment(self, payload: payloads.SubmitComment) -> dict[str, Any]:
        record = self.night.audience.submit_comment(self._participant_id(), payload.id, payload.on, payload.text)
        return {"record": record.public()}

    @handler(payloads.Feed)
    def on_feed(self, payload: payloads.Feed) -> dict[str, Any]:
        return {"records": curation.feed(self.night.store, session.get("participant_id"), payload.order,
                                         payload.limit)}

    @handler(payloads.Recommend)
    def on_recommend(self, payload: payloads.Recommend) -> dict[str, Any]:
        count = self.night.audience.recommend(self._participant_id(), payload.id, payload.on)
        return {"id": payload.id, "count": count, "recommended": payload.on}

    @handler(payloads.Withdraw)
    def on_withdraw(self, payload: payloads.Withdraw) -> dict[str, Any]:
        return {"record": self.night.audience.withdraw(self._participant_id(), payload.id).public()}

    @handler(payloads.Volunteer)
    def on_volunteer(self, payload: payloads.Volunteer) -> dict[str, Any]:
        participant_id = self._participant_id()
        self.night.audience.volunteer(participant_id, payload.consent_version, payload.story)
        return {"volunteer": volunteers.standing(self.night.store, participant_id)}

    @handler(payloads.Empty)
    def on_withdraw_consent(self, _: payloads.Empty) -> dict[str, Any]:
        self.night.audience.withdraw_consent(self._participant_id())
        return {"volunteer": None}

    def _participant_id(self) -> str:
        participant_id = session.get("participant_id")
        if not participant_id:
            raise Forbidden("join first", code="not_joined")
        return participant_id
