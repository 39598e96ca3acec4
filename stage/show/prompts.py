"""Which prompt is open on the phones (one at a time), persisted so a restart keeps it open."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from stage.errors import InvalidInput, NotFound
from stage.records.store import Store
from stage.show.models import Prompt, Show

log = logging.getLogger(__name__)

STATE_KEY = "prompt.open"
CLOSED_KEY = "prompt.closed_at"
# A phone that wrote its story while the prompt was open, then lost Wi-Fi, sends it late from its
# outbox: accept stories for a prompt closed at most this long ago.
LATE_GRACE_SECONDS = 180


class PromptBoard:
    def __init__(self, show: Show, store: Store, on_change: Callable[[Prompt | None], None]) -> None:
        self._show = show
        self._store = store
        self._on_change = on_change

    @property
    def current(self) -> Prompt | None:
        prompt_id = self._store.get_state(STATE_KEY)
        return self._show.prompt(prompt_id) if prompt_id else None

    def require_open(self, prompt_id: str) -> Prompt:
        current = self.current
        if current is not None and current.id == prompt_id:
            return current
        closed_at = self._store.get_state(CLOSED_KEY, {}).get(prompt_id)
        prompt = self._show.prompt(prompt_id)
        if prompt is not None and closed_at is not None and time.time() - closed_at <= LATE_GRACE_SECONDS:
            log.info("late story for prompt %s accepted (closed %.0f s ago)", prompt_id, time.time() - closed_at)
            return prompt
        raise InvalidInput("that prompt is closed", code="prompt_closed")

    def open(self, prompt_id: str, actor: str) -> Prompt:
        prompt = self._show.prompt(prompt_id)
        if prompt is None:
            raise NotFound(f"no prompt '{prompt_id}'")
        self._set(prompt.id, actor, "prompt_open")
        log.info("prompt %s opened", prompt.id)
        self._on_change(prompt)
        return prompt

    def close(self, prompt_id: str, actor: str) -> None:
        current = self.current
        if current is None or current.id != prompt_id:
            return
        with self._store.transaction() as db:
            closed = {**self._store.get_state(CLOSED_KEY, {}), prompt_id: time.time()}
            Store.put_state(db, CLOSED_KEY, closed)
        self._set(None, actor, "prompt_close", prompt_id)
        log.info("prompt %s closed", prompt_id)
        self._on_change(None)

    def _set(self, value: str | None, actor: str, action: str, subject: str | None = None) -> None:
        with self._store.transaction() as db:
            Store.put_state(db, STATE_KEY, value)
            Store.audit(db, actor, action, subject or value)
