"""What the night tells its listener, with the data each client needs; ``realtime`` only emits it.

Every payload is built here, on the domain side: a record's moderation view, a wall card, a display's
scene, the phones' feed items, the consoles' counters and display states. The listener
(``realtime.broadcast.Broadcaster``) holds no night and no store, so it cannot read back into either.

Two reports are batched because they change with every join, recommendation and decision: the feed
(at most every ``FEED_INTERVAL`` seconds, one broadcast to every phone) and the counters (every
``COUNTS_INTERVAL``). Their timers run on the night's clock (a ``FakeClock`` in unit tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from stage.display.heartbeats import Heartbeats
from stage.errors import StoreError
from stage.night.listener import Headcount, NightListener
from stage.book import view as book_view
from stage.records import book as book_store
from stage.records import curation, lineage, scene_view, takes, volunteers
from stage.records.models import Record
from stage.records.store import Store
from stage.show.clock import Clock
from stage.show.models import Show

log = logging.getLogger(__name__)

COUNTS_INTERVAL = 0.5
FEED_INTERVAL = 1.0

Scenes = Callable[[], dict[str, dict[str, Any]]]


class Reporter:
    def __init__(self, show: Show, store: Store, listener: NightListener, clock: Clock, join_url: str,
                 headcount: Headcount, scenes: Scenes, counts: Callable[[], dict[str, Any]],
                 rigs: Callable[[], list[dict[str, Any]]], conducting: Callable[[], bool] = lambda: True) -> None:
        self._show, self._store, self._listener, self._clock = show, store, listener, clock
        # Counters and display states are the conductor's to send (stage/cluster/conductor.py): they read
        # displays and rigs, which only it holds; it sends what the other processes changed on its tick.
        self._conducting = conducting
        self._sent_counts: dict[str, Any] | None = None
        self._sent_displays: list[dict[str, Any]] | None = None
        self._join_url, self._headcount = join_url, headcount
        self._scenes, self._counts, self._rigs = scenes, counts, rigs
        self.heartbeats = Heartbeats()  # what each display connected to this process last said it shows
        self._feed_due = self._counts_due = False
        self._feed_dirty: set[str] = set()
        self._feed_removed: set[str] = set()
        self._closed = False

    def close(self) -> None:
        """The night is ending (the server stops, a test's app is done): a batch still due reads and
        sends nothing, so none reads the store after it closed."""
        self._closed = True

    # -- records ------------------------------------------------------------------------------------

    def submitted(self, record: Record) -> None:
        self._listener.record_submitted(record, curation.moderation_view(self._store, record))
        self.counts_changed()

    def decided(self, record: Record) -> None:
        """A record was approved, rejected or withdrawn: the queues, its phone, the walls and feeds;
        remixes made from a record that is no longer shown read as withdrawn and leave with it."""
        approved = record.status == "approved"
        self._listener.record_decided(record, curation.moderation_view(self._store, record) if approved else None)
        if approved:
            self._book_touched([record.id])  # shown again (a hidden record approved once more): back in the book
        if record.kind == "comment":  # comments travel with their record on phones, never to displays
            self.feed_changed(record.sources[0])
        elif approved:
            self.feed_changed(record.id)
            if record.kind in curation.WALL_KINDS:
                self._listener.wall_add(curation.public_with_lineage(self._store, record))
        else:
            self.hidden([record.id, *(r.id for r in curation.remixes_of(self._store, record.id))])
        self.counts_changed()

    def hidden(self, ids: Iterable[str]) -> None:
        """Records (or takes) that may no longer be shown leave every wall and feed, and a display
        showing one gets its scene again (now without it)."""
        ids = list(ids)
        self._feed_removed.update(ids)
        self.feed_changed(None)
        self._listener.wall_remove(ids)
        for name, scene in self._scenes().items():
            if scene.get("record") in ids:
                self.scene_changed(name, scene)
        self._book_touched(ids)  # last: the walls and displays first, whatever happens here

    def _book_touched(self, ids: list[str]) -> None:
        """The crew's book pages on these records come or go without an edit: the book consoles hear it. One
        state read per decision; the book is read against the night only when it names one of ``ids``."""
        try:
            book = book_store.current(self._store, self._show.title)
            if book_store.names(book) & set(ids):
                self._listener.book_changed(book_view.console_view(self._store, book, lineage.load(self._store)))
        except Exception:  # the book consoles miss one update (they read the book again on reconnect); never more
            log.exception("the book consoles could not be told that a page came or went")

    def takes_changed(self, hidden: Iterable[str] = ()) -> None:
        """A take was stored, edited or hidden: crew libraries update; the takes just ``hidden`` (a
        deletion, a withdrawn consent), and the remixes made from them, leave every screen."""
        self._listener.takes_changed(takes.library(self._store))
        hidden = list(hidden)
        if hidden:
            self.hidden([*hidden, *(r.id for take_id in hidden for r in curation.remixes_of(self._store, take_id))])

    def take_upload_progress(self, take_id: str, rig: str, received: int) -> None:
        self._listener.take_upload_progress(take_id, rig, received)

    def upload_progress(self, participant_id: str, record_id: str, fraction: float) -> None:
        self._listener.upload_progress(participant_id, record_id, fraction)

    def archive_progress(self, progress: dict[str, Any]) -> None:
        """The night's archive being made for the host console: its step, or where to download it."""
        if not self._closed:
            self._listener.archive_progress(progress)

    def volunteers_changed(self) -> None:
        self._listener.volunteers_changed(volunteers.listing(self._store))

    # -- the feed, batched --------------------------------------------------------------------------

    def feed_changed(self, record_id: str | None) -> None:
        if record_id is not None:
            self._feed_dirty.add(record_id)
        if not self._feed_due:
            self._feed_due = True
            self._clock.call_later(FEED_INTERVAL, self._send_feed)

    def _send_feed(self) -> None:
        self._feed_due = False
        if self._closed:
            return
        dirty, removed = self._feed_dirty - self._feed_removed, self._feed_removed
        self._feed_dirty, self._feed_removed = set(), set()
        try:
            items, gone = curation.feed_changes(self._store, dirty, removed)
        except StoreError as exc:  # the database is away: keep the changes for the next batch
            log.warning("feed update postponed: %s", exc.message)
            self._feed_dirty |= dirty
            self._feed_removed |= removed
            self.feed_changed(None)
            return
        if items or gone:  # a change to records phones never see (a take, a display-only card) sends nothing
            self._listener.feed_update(items, gone)

    # -- counters and displays ----------------------------------------------------------------------

    def counts_changed(self) -> None:
        if self._counts_due:
            return
        self._counts_due = True
        self._clock.call_later(COUNTS_INTERVAL, self._send_counts)

    def _send_counts(self) -> None:
        self._counts_due = False
        if not self._closed and self._conducting():
            self._sent_counts = self._counts()
            self._listener.counts_changed(self._sent_counts)

    def tick(self) -> None:
        """The conductor's look, twice a second, at what other processes changed (phones joined there, a
        story submitted there, a scene changed there): counters and display states go out when they differ."""
        if self._closed:
            return
        if self._counts() != self._sent_counts:
            self._send_counts()
        if self.display_states() != self._sent_displays:
            self.displays_changed()

    def rigs_changed(self) -> None:
        self._listener.rigs_changed(self._rigs())
        self.counts_changed()

    def scene_changed(self, display: str, scene: dict[str, Any]) -> None:
        self._listener.scene_changed(display, scene, self.scene_payload(display, scene))
        self.displays_changed()

    def scenes_changed(self) -> None:
        """Every display gets its scene again (after a rehearsal's records were removed)."""
        for name, scene in self._scenes().items():
            self.scene_changed(name, scene)

    def scene_payload(self, display: str, scene: dict[str, Any]) -> dict[str, Any]:
        return scene_view.for_display(display, scene, self._store, self._join_url, self._headcount.phones,
                                      show=self._show)

    def displays_changed(self) -> None:
        if self._conducting():
            self._sent_displays = self.display_states()
            self._listener.displays_changed(self._sent_displays)
        self.counts_changed()

    def display_states(self) -> list[dict[str, Any]]:
        """Each display: connected, answering its heartbeats, the scene it should show and the one it
        says it shows (they differ for a moment after a GO, and for good when a page is stuck)."""
        out = []
        for name, scene in self._scenes().items():
            online = self._headcount.displays_online(name) > 0
            out.append({"name": name, "online": online, "scene": scene["type"],
                        "responding": online and not self.heartbeats.stale(name),
                        "showing": self.heartbeats.showing(name) if online else None})
        return out

    def stale_displays(self) -> dict[str, bool]:
        """Which displays are connected but have stopped answering (the display watcher polls this)."""
        return {d.name: self._headcount.displays_online(d.name) > 0 and self.heartbeats.stale(d.name)
                for d in self._show.displays}
