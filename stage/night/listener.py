"""What the night reports, and the counts it reads back from this process's connections.

``realtime.broadcast.Broadcaster`` implements ``NightListener`` (it turns each report into emits);
``realtime.presence.Presence`` provides ``Headcount``. Domain code imports only these protocols.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from stage.records.models import Record
from stage.show.models import Prompt


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

    def close(self) -> None:
        """The night is ending (the server stops): nothing reported later goes out."""


class Headcount(Protocol):
    """Phones and displays connected to this process (the join cap and /health read it)."""

    @property
    def phones(self) -> int: ...

    def displays_online(self, name: str) -> int: ...
