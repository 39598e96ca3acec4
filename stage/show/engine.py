"""The cue engine: a playhead over the top-level cue list, with QLab's timing semantics.

GO fires the cue in standby and moves standby on. A fired cue waits its ``pre_wait``, then its action
runs (``running``: instant for most cues, ``seconds`` for a wait, until its children end for a group,
until its take ends for a record cue that starts one: ``Ongoing``). ``post_wait`` counts from the
action's start; ``auto_continue`` fires the next cue when the post-wait has elapsed, ``auto_follow``
when the action has ended. The cue is ``done`` once both have ended. A cue that cannot act ends in
``error`` with the reason and the show goes on; it is never silently skipped. Time comes from an
injected :class:`~stage.show.clock.Clock`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from stage.errors import CueError, StageError
from stage.records.store import Store
from stage.show.clock import Clock, Timer
from stage.show.models import CueBase, GroupCue, NoteCue, Show, StopCue, WaitCue
from stage.show.playback import HOLD_CHECK_SECONDS, Active, CueActions, State, groups_of, restored, snapshot

log = logging.getLogger(__name__)

PLAYHEAD_KEY = "cues.playhead"
STATES_KEY = "cues.states"


class CueEngine:
    def __init__(self, show: Show, store: Store, actions: CueActions, on_change: Callable[[dict[str, Any]], None],
                 clock: Clock) -> None:
        self._show, self._store, self._actions, self._on_change, self._clock = show, store, actions, on_change, clock
        self._debounce = show.go_debounce_ms / 1000
        self._lock = threading.RLock()
        self._ids = [cue.id for cue in show.cues]
        self._parents = groups_of(show.flat_cues())
        self._last_go = float("-inf")
        self.reload()

    def reload(self) -> None:
        """The playhead and cue states from the store: at start, and at a takeover (stage/cluster/conductor.py)."""
        with self._lock:
            saved = self.stored_standby()
            self._standby: str | None = saved if saved in self._ids or saved is None else self._ids[0]
            if self._standby != saved:
                log.warning("the saved standby cue %r is not in this show; standby is cue %s", saved, self._ids[0])
            self._states: dict[str, dict[str, Any]] = restored(self._store.get_state(STATES_KEY, {}))
            self._active: dict[str, Active] = {}

    def stored_standby(self) -> str | None:
        """The standby cue as the store has it (a process that does not run the show reports this one)."""
        return self._store.get_state(PLAYHEAD_KEY, self._ids[0])

    @property
    def standby(self) -> str | None:
        return self._standby

    # -- operator actions ---------------------------------------------------------------------------

    def go(self, actor: str) -> dict[str, Any]:
        """Fire the standby cue. A press within the show's debounce of the last one is logged, not fired."""
        with self._lock:
            now = self._clock.now()
            if now - self._last_go < self._debounce:
                self._audit(actor, "go_debounced", self._standby)
                log.info("GO from %s ignored: within %d ms of the last GO", actor, self._show.go_debounce_ms)
                return {"debounced": True, "standby": self._standby}
            if self._standby is None:
                raise CueError("the cue list has ended; nothing is in standby", code="end_of_list")
            self._last_go = now
            cue = self._show.cues[self._ids.index(self._standby)]
            log.info("GO cue %s (%s) by %s", cue.id, cue.name or cue.type, actor)
            self._audit(actor, "go", cue.id)
            self._fire_top(cue, actor)
            fired = {"cue": cue.id, **self._states[cue.id]}
        self._changed()
        return fired

    def back(self, actor: str) -> str | None:
        with self._lock:
            index = len(self._ids) if self._standby is None else self._ids.index(self._standby)
            self._standby = self._ids[max(index - 1, 0)]
            self._audit(actor, "back", self._standby)
        self._changed()
        return self._standby

    def jump(self, cue_id: str, actor: str) -> str:
        with self._lock:
            if cue_id not in self._ids:
                raise CueError(f"no top-level cue '{cue_id}' to jump to", code="not_found")
            self._standby = cue_id
            self._audit(actor, "jump", cue_id)
        self._changed()
        return cue_id

    def stop(self, actor: str, keep: str | None = None) -> list[str]:
        """Stop every running cue (cancel its waits); returns the ids stopped."""
        with self._lock:
            stopped = [cue_id for cue_id in list(self._active) if cue_id != keep]
            for cue_id in stopped:
                self._active.pop(cue_id).cancel()
                self._states[cue_id] = {"state": State.STOPPED.value}
            self._audit(actor, "stop", None, cues=stopped)
            if stopped:
                log.info("stopped cues %s (%s)", ", ".join(stopped), actor)
        self._changed()
        return stopped

    def panic(self, actor: str) -> dict[str, Any]:
        """One press: stop every cue, then the night's panic actions (OSC, displays, takes)."""
        stopped = self.stop(actor)
        with self._lock:
            self._audit(actor, "panic", None, cues=stopped)
        log.warning("PANIC by %s", actor)
        result = self._actions.panic(actor)
        self._changed()
        return {"stopped": stopped, **result}

    # -- firing ---------------------------------------------------------------------------------------

    def _fire_top(self, cue: CueBase, actor: str) -> None:
        index = self._ids.index(cue.id)
        if self._standby == cue.id:
            self._standby = self._ids[index + 1] if index + 1 < len(self._ids) else None
        self._trigger(cue, actor)

    def _trigger(self, cue: CueBase, actor: str) -> None:
        old = self._active.pop(cue.id, None)  # re-firing a running cue restarts it
        if old:
            old.cancel()
        active = Active(cue, actor)
        self._active[cue.id] = active
        if cue.pre_wait > 0:
            self._set(cue.id, State.PRE_WAIT, ends=self._clock.now() + cue.pre_wait)
            active.timers.append(self._later(cue.pre_wait, lambda: self._start(active, actor)))
        else:
            self._start(active, actor)

    def _start(self, active: Active, actor: str) -> None:
        cue = active.cue
        self._set(cue.id, State.RUNNING, started=self._clock.now())
        if cue.post_wait > 0:
            active.timers.append(self._later(cue.post_wait, lambda: self._post_wait_ended(active, actor)))
        else:
            active.post_wait_over = True
        try:
            self._act(active, actor)
        except StageError as exc:
            active.error = exc.message
            log.error("cue %s failed: %s", cue.id, exc.message)
            self._action_ended(active, actor)
        except Exception:
            active.error = "internal error (see the server log)"
            log.exception("cue %s failed", cue.id)
            self._action_ended(active, actor)
        if active.post_wait_over and cue.continue_mode == "auto_continue":
            self._continue_after(cue, actor)

    def _act(self, active: Active, actor: str) -> None:
        cue = active.cue
        if isinstance(cue, GroupCue):
            active.pending = list(cue.cues)
            first = active.pending if cue.mode == "parallel" else active.pending[:1]
            for child in list(first):
                self._trigger(child, actor)
            return
        if isinstance(cue, WaitCue):
            self._set(cue.id, State.RUNNING, ends=self._clock.now() + cue.seconds)
            active.timers.append(self._later(cue.seconds, lambda: self._action_ended(active, actor)))
            return
        if isinstance(cue, StopCue):
            self._stop_others(cue.id)
        elif not isinstance(cue, NoteCue):
            ongoing = self._actions.fire(cue, actor)
            if ongoing is not None:
                active.ongoing = ongoing
                self._states[cue.id].update(ongoing.detail)
                return self._watch(active)
        self._action_ended(active, actor)

    def _watch(self, active: Active) -> None:
        """Look again soon whether a lasting action has ended (a rig stopped by its agent tells no engine)."""
        def check() -> None:
            with self._lock:
                active.timers.remove(timer)  # one pending look at a time, however long the take
                if self._active.get(active.cue.id) is not active or active.action_over:
                    return
                if active.still_going():
                    return self._watch(active)
                self._action_ended(active, active.actor)
            self._changed()

        ends = active.ongoing.ends if active.ongoing else None  # a fade: look exactly when it ends, for its follow
        delay = HOLD_CHECK_SECONDS if ends is None else min(HOLD_CHECK_SECONDS, max(0.0, ends - self._clock.now()))
        timer = self._clock.call_later(delay, check)
        active.timers.append(timer)

    def _end_holds(self) -> None:
        """End every lasting action that is over (the stop cue that ended a take fired just now, say)."""
        for active in [a for a in self._active.values() if a.ongoing and not a.action_over and not a.still_going()]:
            self._action_ended(active, active.actor)

    def _stop_others(self, keep: str) -> None:
        keep_ids = {keep, *self._ancestors(keep)}
        for cue_id in [c for c in self._active if c not in keep_ids]:
            self._active.pop(cue_id).cancel()
            self._states[cue_id] = {"state": State.STOPPED.value}

    def _ancestors(self, cue_id: str) -> list[str]:
        out = []
        while cue_id in self._parents:
            cue_id = self._parents[cue_id].id
            out.append(cue_id)
        return out

    def _action_ended(self, active: Active, actor: str) -> None:
        if self._active.get(active.cue.id) is not active or active.action_over:
            return  # stopped or restarted meanwhile
        active.action_over = True
        self._settle(active)
        parent = self._parents.get(active.cue.id)
        if parent is not None and parent.id in self._active:
            self._child_ended(self._active[parent.id], active, actor)
        if active.cue.continue_mode == "auto_follow":
            self._continue_after(active.cue, actor)

    def _child_ended(self, group: Active, child: Active, actor: str) -> None:
        if child.error:
            group.failed.append(child.cue.id)
        group.pending = [c for c in group.pending if c.id != child.cue.id]
        assert isinstance(group.cue, GroupCue)
        if not group.pending:
            if group.failed:
                group.error = f"child cue(s) {', '.join(group.failed)} failed"
            self._action_ended(group, actor)
        elif group.cue.mode == "sequence":
            self._trigger(group.pending[0], actor)

    def _post_wait_ended(self, active: Active, actor: str) -> None:
        with self._lock:
            if self._active.get(active.cue.id) is not active:
                return
            active.post_wait_over = True
            self._settle(active)
            if active.cue.continue_mode == "auto_continue":
                self._continue_after(active.cue, actor)
        self._changed()

    def _settle(self, active: Active) -> None:
        """Set the state that follows from what has ended; drop the cue from the active set when done."""
        cue_id = active.cue.id
        if active.action_over and active.post_wait_over:
            self._active.pop(cue_id, None)
            state = {"state": State.ERROR.value, "error": active.error} if active.error else {"state": State.DONE.value}
            self._states[cue_id] = state
        elif active.action_over:
            started = self._states[cue_id].get("started", self._clock.now())
            self._set(cue_id, State.POST_WAIT, ends=started + active.cue.post_wait)

    def _continue_after(self, cue: CueBase, actor: str) -> None:
        if cue.id not in self._ids or self._ids.index(cue.id) + 1 >= len(self._ids):
            return
        follower = self._show.cues[self._ids.index(cue.id) + 1]
        log.info("cue %s continues into cue %s", cue.id, follower.id)
        self._audit("engine", cue.continue_mode, follower.id, after=cue.id)
        self._fire_top(follower, actor)

    # -- state ------------------------------------------------------------------------------------------

    def _later(self, delay: float, fn: Callable[[], None]) -> Timer:
        def run() -> None:
            with self._lock:
                fn()
            self._changed()

        return self._clock.call_later(delay, run)

    def _set(self, cue_id: str, state: State, **timing: float) -> None:
        self._states[cue_id] = {**{k: v for k, v in self._states.get(cue_id, {}).items() if k == "started"},
                                "state": state.value, **timing}

    def _audit(self, actor: str, action: str, subject: str | None, **detail: Any) -> None:
        with self._store.transaction() as db:
            Store.audit(db, actor, action, subject, **detail)

    def _changed(self) -> None:
        with self._lock:
            self._end_holds()
            snapshot = self.snapshot()
            with self._store.transaction() as db:
                Store.put_state(db, PLAYHEAD_KEY, self._standby)
                Store.put_state(db, STATES_KEY, self._states)
        self._on_change(snapshot)

    def snapshot(self) -> dict[str, Any]:
        """Every cue (children after their group, with depth), its state and its timers, for the consoles."""
        with self._lock:
            return snapshot(self._show.cues, self._states, self._standby, list(self._active), self._clock.now())
