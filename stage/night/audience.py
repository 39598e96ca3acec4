"""The audience's use cases: join, submit stories, media and comments, recommend, withdraw, volunteer.

A new record reaches the moderators through the reporter, and skips them only when its prompt
auto-approves and nothing flagged it (the moderation use cases then approve it as ``auto-approve``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from stage.errors import InvalidInput, StageError
from stage.media import worker
from stage.media.library import MediaLibrary
from stage.night.listener import Headcount
from stage.night.reports import Reporter
from stage.night.moderation import ModerationUseCases
from stage.phone_limits import PhoneLimits
from stage.records import curation, lookup, participants, submissions, takes, volunteers
from stage.records.flags import Flagger
from stage.records.models import Participant, Record
from stage.records.store import Store
from stage.settings import Settings
from stage.show.models import Show
from stage.show.prompts import PromptBoard

log = logging.getLogger(__name__)

MAX_CLIP_SECONDS = 60
LONG_CLIP_SECONDS = 30
LARGE_UPLOAD_BYTES = 10_000_000


class AudienceUseCases:
    def __init__(self, settings: Settings, show: Show, store: Store, reports: Reporter, *,
                 prompts: PromptBoard, moderation: ModerationUseCases, media: MediaLibrary, limits: PhoneLimits,
                 presence: Headcount) -> None:
        self._settings = settings
        self._show = show
        self._store = store
        self._reports = reports
        self._prompts = prompts
        self._moderation = moderation
        self._media = media
        self._limits = limits
        self._presence = presence
        self._flagger = Flagger(show.moderation)
        self._ingesting = 0  # uploads between their worker and their commit (see _drop_unused)

    def join(self, device_key: str, name: str, simulated: bool = False) -> Participant:
        cap = self._show.limits.max_phones
        if cap is not None and self._presence.phones >= cap and not participants.known(self._store, device_key):
            raise InvalidInput(f"the show is full ({cap} phones); try again in a moment", code="full")
        participant, is_new = participants.join(self._store, device_key, name, simulated)
        log.info("phone %s as %r (participant %s)", "joined" if is_new else "rejoined", participant.name,
                 participant.id)
        return participant

    def submit_story(self, participant_id: str, prompt_id: str, record_id: str, text: str,
                     sources: tuple[str, ...] = ()) -> Record:
        existing = lookup.resent(self._store, participant_id, record_id)
        if existing is not None:  # answer a retry with the first record, whatever changed since
            return existing
        prompt = self._prompts.require_open(prompt_id)
        with self._limits.submission(participant_id) as slot:
            record, slot.created = submissions.submit_story(self._store, participant_id, prompt, record_id, text,
                                                            self._flagger.flags, sources)
        return self._accepted(record, slot.created, prompt.auto_approve)

    def submit_media(self, participant_id: str, record_id: str, kind: str, prompt_id: str, upload: Path,
                     sources: tuple[str, ...] = ()) -> Record:
        """Ingest an uploaded drawing, photo or clip (in a worker process) and store it as pending.

        Everything that can refuse it is checked before the worker runs, so a refused upload writes
        nothing to media/. Callers hold ``limits.upload`` (stage/web/uploads.py does).
        """
        existing = lookup.resent(self._store, participant_id, record_id)
        if existing is not None:
            return existing
        prompt = self._prompts.require_open(prompt_id)
        if kind not in prompt.kinds:
            raise InvalidInput(f"this prompt does not take a {kind}", code="kind_not_open")
        submissions.check_sources(self._store, sources)
        self._ingesting += 1
        try:
            with self._limits.submission(participant_id) as slot:
                with self._limits.media_worker() as running:  # server-wide cap: busy (429) when every one runs
                    log.info("ingesting a %s upload for record %s (%d media workers running)", kind, record_id,
                             running)
                    result = worker.run(kind, upload, self._media.root, max_bytes=self._settings.max_upload_bytes,
                                        max_seconds=MAX_CLIP_SECONDS,
                                        on_progress=lambda f: self._reports.upload_progress(participant_id,
                                                                                             record_id, f))
                slot.worked = True
                if not result["ok"]:
                    raise InvalidInput(result["error"]["message"], code=result["error"]["code"])
                try:
                    record, slot.created = submissions.submit_media(
                        self._store, participant_id, record_id, kind, result["media"], prompt, sources,
                        media_flags(result, upload.stat().st_size))
                except StageError:
                    self._drop_unused(result["media"])
                    raise
        finally:
            self._ingesting -= 1
        return self._accepted(record, slot.created, prompt.auto_approve)

    def _drop_unused(self, name: str) -> None:
        """An upload refused after its worker ran (a source rejected or the phone banned meanwhile):
        its new file goes again, unless a record or another upload in flight may use the same bytes."""
        if self._ingesting > 1 or submissions.media_in_use(self._store, name):
            log.info("kept %s after a refused upload: another record or upload may use it", name)
            return
        self._media.path(name).unlink(missing_ok=True)
        log.info("removed %s: its upload was refused after it was ingested", name)

    def submit_comment(self, participant_id: str, record_id: str, on: str, text: str) -> Record:
        existing = lookup.resent(self._store, participant_id, record_id)
        if existing is not None:
            return existing
        with self._limits.submission(participant_id) as slot:
            record, slot.created = submissions.submit_comment(self._store, participant_id, record_id, on, text,
                                                              self._flagger.flags)
        return self._accepted(record, slot.created, auto_approve=False)

    def _accepted(self, record: Record, created: bool, auto_approve: bool) -> Record:
        if not created:
            return record
        self._reports.submitted(record)
        if auto_approve and not record.flags:
            record = self._moderation.decide(record.id, "approve", "auto-approve")
        return record

    def recommend(self, participant_id: str, record_id: str, on: bool) -> int:
        count = curation.recommend(self._store, participant_id, record_id, on)
        self._reports.feed_changed(record_id)
        return count

    def withdraw(self, participant_id: str, record_id: str) -> Record:
        record = curation.withdraw(self._store, participant_id, record_id)
        self._reports.decided(record)  # leaves the queue, the wall, a story screen, the feed
        return record

    def volunteer(self, participant_id: str, agreed_version: str, story_id: str | None) -> None:
        volunteers.volunteer(self._store, participant_id, self._show.consent, agreed_version, story_id)
        self._reports.volunteers_changed()

    def withdraw_consent(self, participant_id: str) -> None:
        if volunteers.withdraw_consent(self._store, participant_id):
            self._reports.volunteers_changed()
        hidden = takes.of_performer(self._store, participant_id)  # hidden now, for good
        if hidden:
            self._reports.takes_changed(hidden)


def media_flags(ingested: dict[str, Any], upload_bytes: int) -> tuple[str, ...]:
    """Size and duration flags for the moderation queue (a long clip takes stage time to check)."""
    flags = []
    if ingested.get("duration", 0) > LONG_CLIP_SECONDS:
        flags.append(f"long clip: {ingested['duration']:.0f} s")
    if upload_bytes > LARGE_UPLOAD_BYTES:
        flags.append(f"large upload: {upload_bytes / 1e6:.0f} MB")
    return tuple(flags)
