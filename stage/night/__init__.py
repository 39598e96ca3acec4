"""The night: one running show, its store and the boards that act on them. No Flask, no Socket.IO.

``Night`` is the composition object, built once per server process by ``stage.server.create_app``:
it wires the show's boards (prompts, displays, recording on the rigs, the cue engine) and the use
cases of each wing, and holds what the web and realtime layers reach through it:

- ``night.audience`` (:mod:`stage.night.audience`): join, submissions, recommend, withdraw, volunteer;
- ``night.moderation`` (:mod:`stage.night.moderation`): decide, ban, send a record to a display;
- ``night.cues`` (:mod:`stage.night.cues`): what a fired cue does, the panic actions, the chosen records;
- ``night.recording`` (:mod:`stage.night.recording`): agents online, record and stop on a rig;
- ``night.takes`` (:mod:`stage.night.takes`): circle, trim and delete a take;
- ``night.reports`` (:mod:`stage.night.reports`): what the listener is told, with every payload built;
- ``health()`` and the display keys, which need the whole night.

``realtime`` gives it a listener (:mod:`stage.night.listener`) and turns what it reports into emits
(the listener holds no night: calls go down from ``realtime`` to the night, reports go up with data);
the per-process socket registry is ``realtime.presence.Presence``, of which the night reads only
the counts. The OSC remote-control adapter is ``stage.lighting.remote_control``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from stage.display.board import DisplayBoard
from stage.display.keys import display_key
from stage.lighting.sender import OscSender
from stage.media.library import MediaLibrary
from stage.night.audience import AudienceUseCases
from stage.night.cues import CueDispatch
from stage.night.lights import Lights
from stage.night.listener import Headcount, NightListener
from stage.night.moderation import ModerationUseCases
from stage.night.reports import Reporter
from stage.night.takes import TakeUseCases
from stage.phone_limits import PhoneLimits
from stage.records import moderation
from stage.records.sessions import ConsoleSessions
from stage.records.store import Store
from stage.night.recording import Recording
from stage.settings import ROLES, Settings
from stage.show.clock import Clock
from stage.show.engine import CueEngine
from stage.show.models import Show
from stage.show.prompts import PromptBoard

__all__ = ["Headcount", "Night", "NightListener"]


class Night:
    def __init__(self, settings: Settings, show: Show, store: Store, listener: NightListener, clock: Clock,
                 osc: OscSender, presence: Headcount, join_url: str,
                 message_queue: Callable[[], str] | None = None, conducting: Callable[[], bool] = lambda: True,
                 limits: PhoneLimits | None = None) -> None:
        self.settings = settings
        self.message_queue = message_queue  # with --redis: "up" or "down" (stage/realtime/queue.py)
        self.conducting = conducting  # whether this process runs the show (stage/cluster/conductor.py)
        self.show = show
        self.store = store
        self.osc = osc
        self.presence = presence
        self.media = MediaLibrary(settings.data_dir / "media")
        self.limits = limits or PhoneLimits()  # taken before the work, given back on refusal: stage/phone_limits.py
        # The listener hears the night only through the reporter, which builds what each report carries.
        self.reports = Reporter(show, store, listener, clock, join_url, presence, scenes=lambda: self.displays.scenes(),
                                counts=self.counts, rigs=lambda: self.recording.listing(), conducting=conducting)
        self.prompts = PromptBoard(show, store, listener.prompt_changed)
        self.displays = DisplayBoard(show, store, self.reports.scene_changed)
        self.recording = Recording(show, store, lambda: self.cues.chosen_for("story"))
        # Stage's own DMX (show.dmx): DMX out itself is a conducting duty the server attaches (stage/server.py).
        self.lights = Lights(show, store, clock, settings.show_path.parent, listener.dmx_changed) if show.dmx else None
        self.cues = CueDispatch(show, store, self.prompts, self.displays, osc, self.recording, self.lights)
        self.engine = CueEngine(show, store, self.cues, listener.cues_changed, clock)
        self.moderation = ModerationUseCases(store, self.displays, self.reports)
        self.audience = AudienceUseCases(settings, show, store, self.reports, prompts=self.prompts,
                                         moderation=self.moderation, media=self.media, limits=self.limits,
                                         presence=presence)
        self.takes = TakeUseCases(store, self.reports)
        self.sessions = ConsoleSessions(store, settings.secret_key, settings.passphrase)
        self.sessions.revoke_changed_passphrases(ROLES)  # a new passphrase at this start logs that role out

    def close(self) -> None:
        """The night is ending (the server stops): nothing reported later goes out, and no batch still
        due reads the store after it closed."""
        self.reports.close()

    def counts(self) -> dict[str, Any]:
        """The consoles' counters (``counts``): the parts of :meth:`health` that change all night."""
        health = self.health()
        return {key: health[key] for key in ("phones", "pending", "displays", "rigs", "message_queue") if key in health}

    def display_key(self, name: str) -> str:
        return display_key(self.settings.secret_key, name)

    def check_display_key(self, name: str, key: str) -> bool:
        return self.show.display(name) is not None and hmac.compare_digest(self.display_key(name), key)

    def health(self) -> dict[str, Any]:
        health = {
            "status": "ok",
            "show": self.show.title,
            "phones": self.presence.phones,
            "displays": {d.name: self.presence.displays_online(d.name) for d in self.show.displays},
            "rigs": self.recording.statuses(),
            "osc": {name: state["status"] for name, state in self.osc.status().items()},
            "cue": self.engine.standby if self.conducting() else self.engine.stored_standby(),
            "pending": moderation.count_pending(self.store),
        }
        if self.lights is not None:
            health["dmx"] = {name: node["status"] for name, node in self.lights.status()["nodes"].items()}
        if self.message_queue is not None:
            health["message_queue"] = self.message_queue()
        return health
