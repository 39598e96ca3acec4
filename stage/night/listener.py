"""What the night reports, and the counts it reads back from this process's connections.

``realtime.broadcast.Broadcaster`` implements ``NightListener`` (it turns each report into emits);
``stage.night.reports.Reporter`` is the one caller, and builds every payload it carries;
``realtime.presence.Presence`` provides ``Headcount``. Domain code imports only these protocols.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from stage.records.models import Record
from stage.show.models import Prompt


class NightListener(Protocol):
    """Each report carries what a client is sent (``stage.night.reports.Reporter`` builds it); the
    listener emits it and reads nothing back."""

    def record_submitted(self, record: Record, view: dict[str, Any]) -> None: ...

    def record_decided(self, record: Record, view: dict[str, Any] | None) -> None:
        """``view`` is the moderation view when the record is now approved, else None."""

    def wall_add(self, card: dict[str, Any]) -> None: ...

    def wall_remove(self, ids: Sequence[str]) -> None: ...

    def feed_update(self, items: list[dict[str, Any]], removed: list[str]) -> None: ...

    def counts_changed(self, counts: dict[str, Any]) -> None: ...

    def prompt_changed(self, prompt: Prompt | None) -> None: ...

    def scene_changed(self, display: str, scene: dict[str, Any], payload: dict[str, Any]) -> None: ...

    def displays_changed(self, displays: list[dict[str, Any]]) -> None: ...

    def cues_changed(self, snapshot: dict[str, Any]) -> None: ...

    def volunteers_changed(self, listing: list[dict[str, Any]]) -> None: ...

    def rigs_changed(self, listing: list[dict[str, Any]]) -> None: ...

    def takes_changed(self, library: list[dict[str, Any]]) -> None: ...

    def upload_progress(self, participant_id: str, record_id: str, fraction: float) -> None: ...

    def take_upload_progress(self, take_id: str, rig: str, received: int) -> None: ...

    def archive_progress(self, progress: dict[str, Any]) -> None:
        """The host console's export of the night (stage/archive/background.py) moved on, finished or failed."""

    def dmx_changed(self, status: dict[str, Any]) -> None:
        """Stage's DMX out: a node's status or the grand master changed (``Lights.status``)."""

    def book_changed(self, book: dict[str, Any]) -> None:
        """A record in the night's book may be shown again, or no longer: the book as the consoles show it."""


class Headcount(Protocol):
    """Phones and displays connected (the join cap and /health read it): this process's, or with several
    processes the whole house's phones (stage/cluster/headcount.py)."""

    @property
    def phones(self) -> int: ...

    def displays_online(self, name: str) -> int: ...
