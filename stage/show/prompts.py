"""Which prompt is open on the phones (one at a time), persisted so a restart keeps it open."""

from __future__ import annotations

import logging
from collections.abc import Callable

from stage.errors import InvalidInput, NotFound
from stage.records.store import Store
from stage.show.models import Prompt, Show

log = logging.getLogger(__name__)

STATE_KEY = "prompt.open"


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
        if current is None or current.id != prompt_id:
            raise InvalidInput("that prompt is closed", code="prompt_closed")
        return current

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
        self._set(None, actor, "prompt_close", prompt_id)
        log.info("prompt %s closed", prompt_id)
        self._on_change(None)

    def _set(self, value: str | None, actor: str, action: str, subject: str | None = None) -> None:
        with self._store.transaction() as db:
            Store.put_state(db, STATE_KEY, value)
            Store.audit(db, actor, action, subject or value)
