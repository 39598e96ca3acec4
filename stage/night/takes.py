"""The crew's use cases for takes: circle, trim and delete, each reported to every crew console
(and a deleted take, with the remixes made from it, leaves every screen)."""

from __future__ import annotations

from typing import Any

from stage.night.reports import Reporter
from stage.records import takes
from stage.records.store import Store


class TakeUseCases:
    def __init__(self, store: Store, reports: Reporter) -> None:
        self._store = store
        self._reports = reports

    def library(self) -> list[dict[str, Any]]:
        return takes.library(self._store)

    def circle(self, take_id: str, circled: bool, actor: str) -> dict[str, Any]:
        take = takes.circle(self._store, take_id, circled, actor)
        self._reports.takes_changed()
        return take

    def trim(self, take_id: str, in_point: float | None, out_point: float | None, actor: str) -> dict[str, Any]:
        take = takes.set_points(self._store, take_id, in_point, out_point, actor)
        self._reports.takes_changed()
        return take

    def delete(self, take_id: str, actor: str) -> None:
        takes.delete(self._store, take_id, actor)
        self._reports.takes_changed(hidden=[take_id])
