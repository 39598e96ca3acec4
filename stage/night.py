"""The running night: the show, the store and the boards that act on them. No Flask, no Socket.IO.

``realtime`` gives it a listener and turns what it reports into emits.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from stage.display.board import RECORD_SCENES, DisplayBoard
from stage.display.keys import display_key
from stage.errors import CueError, InvalidInput, StageError
from stage.records import curation, moderation, participants, submissions, takes, volunteers
from stage.records.flags import Flagger
from stage.records.models import Participant, Record
from stage.records.sessions import ConsoleSessions
from stage.records.store import Store
from stage.settings import ROLES, Settings
from stage.show.clock import Clock
from stage.show.engine import CueEngine
from stage.lighting.messages import OscMessage
from stage.media import worker
from stage.media.library import MediaLibrary
from stage.lighting.sender import OscSender
from stage.phone_limits import PhoneLimits
from stage.rigs import Rigs
from stage.show.models import CueBase, DisplayCue, OscCue, OscTarget, Prompt, PromptCue, RecordCue, Show
from stage.show.prompts import PromptBoard

log = logging.getLogger(__name__)

CHOSEN_KEY = "chosen"  # chosen.story, chosen.image, chosen.media: what those scenes show
MAX_CLIP_SECONDS = 60
LONG_CLIP_SECONDS = 30
LARGE_UPLOAD_BYTES = 10_000_000


class NightListener(Protocol):
    def record_submitted(self, record: Record) -> None: ...

    def record_decided(self, record: Record) -> None: ...

    def prompt_changed(self, prompt: Prompt | None) -> None: ...

    def scene_changed(self, display: str, scene: dict[str, Any]) -> None: ...

    def cues_changed(self, snapshot: dict[str, Any]) -> None: ...

    def feed_changed(self, record_id: str) -> None: ...

    def volunteers_changed(self) -> None: ...

    def upload_progress(self, participant_id: str, record_id: str, fraction: float) -> None: ...

    def takes_changed(self, hidden: Sequence[str] = ()) -> None: ...

    def take_upload_progress(self, take_id: str, rig: str, received: int) -> None: ...


class Night:
    def __init__(self, settings: Settings, show: Show, store: Store, listener: NightListener, clock: Clock,
                 osc: OscSender) -> None:
        self.settings = settings
        self.show = show
        self.store = store
        self.listener = listener
        self.prompts = PromptBoard(show, store, listener.prompt_changed)
        self.displays = DisplayBoard(show, store, listener.scene_changed)
        self.engine = CueEngine(show, store, self, listener.cues_changed, clock)
        self.osc = osc
        self.media = MediaLibrary(settings.data_dir / "media")
        self.presence = Presence()
        self.rigs = Rigs(show, store, lambda: self.chosen_for("story"))
        self.flagger = Flagger(show.moderation)
        self.sessions = ConsoleSessions(store, settings.secret_key, settings.passphrase)
        self.sessions.revoke_changed_passphrases(ROLES)  # a new passphrase at this start logs that role out
        self._ingesting = 0  # uploads between their worker and their commit (see _drop_unused)
        self.limits = PhoneLimits()  # taken before the work, given back on refusal: see stage/phone_limits.py

    # -- cue actions (the engine calls these) ---------------------------------------------------

    def fire(self, cue: CueBase, actor: str) -> None:
        if isinstance(cue, PromptCue):
            if cue.action == "open":
                self.prompts.open(cue.prompt, actor)
            else:
                self.prompts.close(cue.prompt, actor)
        elif isinstance(cue, DisplayCue):
            self.displays.set_scene(cue.display, cue.scene, actor, text=cue.text, record=self.chosen_for(cue.scene),
                                    transition=cue.transition, fade=cue.fade, rig=cue.rig, end=cue.end)
        elif isinstance(cue, OscCue):
            self.osc.send_cue(cue)
        elif isinstance(cue, RecordCue):
            self.rigs.cue(cue, actor)
        else:
            raise CueError(f"'{cue.type}' cues cannot fire")

    def panic(self, actor: str) -> dict[str, Any]:
        """The show's panic: displays to the panic scene (unless it holds), panic OSC, takes stopped."""
        problems: list[str] = []
        if self.show.panic.scene != "hold":
            for display in self.show.displays:
                self.displays.set_scene(display.name, self.show.panic.scene, actor, text=self.show.panic.text)
        for cue in self.show.panic.osc:
            try:
                self.fire(cue, actor)
            except StageError as exc:
                problems.append(f"{cue.id}: {exc.message}")
        problems += self.rigs.panic(actor)
        return {"scene": self.show.panic.scene, "problems": problems}

    # -- audience ---------------------------------------------------------------------------------

    def join(self, device_key: str, name: str, simulated: bool = False) -> Participant:
        cap = self.show.limits.max_phones
        if cap is not None and self.presence.phones >= cap and not participants.known(self.store, device_key):
            raise InvalidInput(f"the show is full ({cap} phones); try again in a moment", code="full")
        participant, is_new = participants.join(self.store, device_key, name, simulated)
        log.info("phone %s as %r (participant %s)", "joined" if is_new else "rejoined", participant.name, participant.id)
        return participant

    def submit_story(self, participant_id: str, prompt_id: str, record_id: str, text: str,
                     sources: tuple[str, ...] = ()) -> Record:
        existing = submissions.retry(self.store, participant_id, record_id)
        if existing is not None:  # answer a retry with the first record, whatever changed since
            return existing
        prompt = self.prompts.require_open(prompt_id)
        with self.limits.submission(participant_id) as slot:
            record, slot.created = submissions.submit_story(self.store, participant_id, prompt, record_id, text,
                                                            self.flagger.flags, sources)
        return self._accepted(record, slot.created, prompt.auto_approve)

    def submit_media(self, participant_id: str, record_id: str, kind: str, prompt_id: str, upload: Path,
                     sources: tuple[str, ...] = ()) -> Record:
        """Ingest an uploaded drawing, photo or clip (in a worker process) and store it as pending.

        Everything that can refuse it is checked before the worker runs, so a refused upload writes
        nothing to media/. Callers hold ``limits.upload`` (stage/web/uploads.py does).
        """
        existing = submissions.retry(self.store, participant_id, record_id)
        if existing is not None:
            return existing
        prompt = self.prompts.require_open(prompt_id)
        if kind not in prompt.kinds:
            raise InvalidInput(f"this prompt does not take a {kind}", code="kind_not_open")
        submissions.check_sources(self.store, sources)
        self._ingesting += 1
        try:
            with self.limits.submission(participant_id) as slot:
                with self.limits.media_worker() as running:  # server-wide cap: busy (429) when every one runs
                    log.info("ingesting a %s upload for record %s (%d media workers running)", kind, record_id,
                             running)
                    result = worker.run(kind, upload, self.media.root, max_bytes=self.settings.max_upload_bytes,
                                        max_seconds=MAX_CLIP_SECONDS,
                                        on_progress=lambda f: self.listener.upload_progress(participant_id,
                                                                                            record_id, f))
                slot.worked = True
                if not result["ok"]:
                    raise InvalidInput(result["error"]["message"], code=result["error"]["code"])
                try:
                    record, slot.created = submissions.submit_media(
                        self.store, participant_id, record_id, kind, result["media"], prompt, sources,
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
        if self._ingesting > 1 or self.store.query("SELECT 1 FROM records WHERE media = ?", (name,)):
            log.info("kept %s after a refused upload: another record or upload may use it", name)
            return
        self.media.path(name).unlink(missing_ok=True)
        log.info("removed %s: its upload was refused after it was ingested", name)

    def submit_comment(self, participant_id: str, record_id: str, on: str, text: str) -> Record:
        existing = submissions.retry(self.store, participant_id, record_id)
        if existing is not None:
            return existing
        with self.limits.submission(participant_id) as slot:
            record, slot.created = submissions.submit_comment(self.store, participant_id, record_id, on, text,
                                                              self.flagger.flags)
        return self._accepted(record, slot.created, auto_approve=False)

    def _accepted(self, record: Record, created: bool, auto_approve: bool) -> Record:
        """A new record reaches the moderators, and skips them only when its prompt auto-approves and
        nothing flagged it."""
        if not created:
            return record
        self.listener.record_submitted(record)
        if auto_approve and not record.flags:
            record = self.decide(record.id, "approve", "auto-approve")
        return record

    def recommend(self, participant_id: str, record_id: str, on: bool) -> int:
        count = curation.recommend(self.store, participant_id, record_id, on)
        self.listener.feed_changed(record_id)
        return count

    def withdraw(self, participant_id: str, record_id: str) -> Record:
        record = curation.withdraw(self.store, participant_id, record_id)
        self.listener.record_decided(record)  # leaves the queue, the wall, a story screen, the feed
        return record

    def volunteer(self, participant_id: str, agreed_version: str, story_id: str | None) -> None:
        volunteers.volunteer(self.store, participant_id, self.show.consent, agreed_version, story_id)
        self.listener.volunteers_changed()

    def withdraw_consent(self, participant_id: str) -> None:
        if volunteers.withdraw_consent(self.store, participant_id):
            self.listener.volunteers_changed()
        hidden = takes.of_performer(self.store, participant_id)  # hidden now, for good
        if hidden:
            self.listener.takes_changed(hidden)

    # -- moderation -------------------------------------------------------------------------------

    def decide(self, record_id: str, decision: str, actor: str, reason: str | None = None) -> Record:
        record, changed = moderation.decide(self.store, record_id, decision, actor, reason)  # type: ignore[arg-type]
        if changed:
            self.listener.record_decided(record)
        return record

    def send_to_display(self, display: str, record_id: str, actor: str) -> dict[str, Any]:
        """Show an approved record on a display now, in the scene for its kind; it also becomes the
        chosen record for that scene's cues (story, image or media)."""
        record = submissions.get(self.store, record_id)
        if record is None or record.status != "approved":
            raise InvalidInput("only an approved record can go to a display", code="not_approved")
        scene = next((s for s, kinds in RECORD_SCENES.items() if record.kind in kinds), None)
        if scene is None:
            raise InvalidInput(f"a {record.kind} is not shown on its own", code="not_showable")
        with self.store.transaction() as db:
            Store.put_state(db, f"{CHOSEN_KEY}.{scene}", record_id)
        return self.displays.set_scene(display, scene, actor, record=record_id, transition="crossfade", fade=0.6)

    def chosen_for(self, scene: str) -> str | None:
        return self.store.get_state(f"{CHOSEN_KEY}.{scene}") if scene in RECORD_SCENES else None

    def osc_sent(self, target: OscTarget, message: OscMessage) -> None:
        """Every OSC message that left Stage goes in the audit log (the sender calls this)."""
        with self.store.transaction() as db:
            Store.audit(db, "osc", "osc_sent", target.name, message=str(message))

    def ban(self, participant_id: str, actor: str) -> list[str]:
        rejected = moderation.ban(self.store, participant_id, actor)
        for record_id in rejected:
            record = submissions.get(self.store, record_id)
            if record is not None:
                self.listener.record_decided(record)
        return rejected

    # -- displays ---------------------------------------------------------------------------------

    def display_key(self, name: str) -> str:
        return display_key(self.settings.secret_key, name)

    def check_display_key(self, name: str, key: str) -> bool:
        return self.show.display(name) is not None and hmac.compare_digest(self.display_key(name), key)

    def check_crew_token(self, token: str) -> bool:
        """Capture agents (Socket.IO and take uploads) present the crew passphrase; none set refuses all."""
        expected = self.settings.crew_password or ""
        return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "show": self.show.title,
            "phones": self.presence.phones,
            "displays": {d.name: self.presence.displays_online(d.name) for d in self.show.displays},
            "rigs": self.rigs.statuses(),
            "osc": {name: state["status"] for name, state in self.osc.status().items()},
            "cue": self.engine.standby,
            "pending": moderation.count_pending(self.store),
        }


def media_flags(ingested: dict[str, Any], upload_bytes: int) -> tuple[str, ...]:
    """Size and duration flags for the moderation queue (a long clip takes stage time to check)."""
    flags = []
    if ingested.get("duration", 0) > LONG_CLIP_SECONDS:
        flags.append(f"long clip: {ingested['duration']:.0f} s")
    if upload_bytes > LARGE_UPLOAD_BYTES:
        flags.append(f"large upload: {upload_bytes / 1e6:.0f} MB")
    return tuple(flags)


class Presence:
    """Who is connected to this process: phones by participant, displays by name."""

    def __init__(self) -> None:
        self._phones: dict[str, str] = {}  # sid -> participant id
        self._displays: dict[str, str] = {}  # sid -> display name

    def phone_joined(self, sid: str, participant_id: str) -> None:
        self._phones[sid] = participant_id

    def display_connected(self, sid: str, name: str) -> None:
        self._displays[sid] = name

    def left(self, sid: str) -> bool:
        """Forget a socket; True when it was a joined phone or a display (the counts change)."""
        return self._phones.pop(sid, None) is not None or self._displays.pop(sid, None) is not None

    @property
    def phones(self) -> int:
        return len(set(self._phones.values()))

    def display_of(self, sid: str) -> str | None:
        return self._displays.get(sid)

    def display_sids(self, name: str) -> list[str]:
        return [sid for sid, n in self._displays.items() if n == name]

    def displays_online(self, name: str) -> int:
        return sum(1 for n in self._displays.values() if n == name)


class RemoteControl:
    """What an OSC remote (TouchOSC, Companion, a console) may do to the night: lighting.RemoteHandlers."""

    ACTOR = "osc-remote"

    def __init__(self, night: Night) -> None:
        self._night = night

    def go(self) -> str:
        fired = self._night.engine.go(self.ACTOR)
        return "debounced" if fired.get("debounced") else f"GO cue {fired['cue']}: {fired['state']}"

    def back(self) -> str:
        return f"standby {self._night.engine.back(self.ACTOR)}"

    def panic(self) -> str:
        self._night.engine.panic(self.ACTOR)
        return "panic"

    def cue_go(self, cue_id: str) -> str:
        self._night.engine.jump(cue_id, self.ACTOR)
        return self.go()

    def display_scene(self, display: str, scene: str) -> str:
        self._night.displays.set_scene(display, scene, self.ACTOR, record=self._night.chosen_for(scene))
        return f"{display}: {scene}"
