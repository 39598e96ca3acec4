"""The light mixer: every patched fixture parameter holds a static level or a fade, and a universe's 512 slots are
computed from them on demand (docs/plans/issue-21-dmx.md §2).

Pure: no I/O, no clock of its own. Every call takes ``now`` from the engine's injected clock, so FakeClock tests are
exact and the frame loop, the engine and the console agree on what a parameter reads at a given moment.

Levels are normalized 0..1 here (a raw channel's 0..255 is divided by 255 by the caller). The rule is LTP per
parameter: the latest fire owns what it targets and starts from the level the parameter had reached, so a takeover
never jumps. The grand master scales intensity only at output, so the level a takeover starts from never includes it.

The frame loop reads while the engine fires (another greenlet or thread): writers build a new :class:`_Snapshot`
(states and per-universe fade ends) and swap it in with one assignment, so a reader never sees half a fire.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stage.dmx.patch import Channel, Patch
from stage.errors import InvalidInput
from stage.show.dmx import INTENSITY

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (fixture, parameter)

CURVES: dict[str, Callable[[float], float]] = {
    "linear": lambda x: x,
    "s_curve": lambda x: x * x * (3.0 - 2.0 * x),  # 3x² − 2x³: starts and lands softly
    "ease_in": lambda x: x * x,
    "ease_out": lambda x: 1.0 - (1.0 - x) * (1.0 - x),
}
# A fade is over once t >= t0 + dur − EPSILON: the engine's end timer computes its moment as now + (ends − now),
# which in floats is not always ``ends``; without the slack the cue could end one timer tick before its fade.
EPSILON = 1e-9
PANIC = "panic"  # the owner of a blackout's fades
STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class _Level:
    """One parameter's state: a fade from ``v0`` to ``v1`` over ``dur`` s from ``t0``, or static at ``v1``
    (``dur`` 0, ``end`` −inf). Immutable: a change is a new object swapped in."""

    v0: float
    v1: float
    t0: float
    dur: float
    curve: str
    owner: str
    end: float  # when the fade is over (t0 + dur − EPSILON); −inf when static

    def at(self, t: float) -> float:
        if t >= self.end:
            return self.v1
        x = (t - self.t0) / self.dur
        if x <= 0.0:
            return self.v0
        return self.v0 + (self.v1 - self.v0) * CURVES[self.curve](x)


def _static(value: float, owner: str) -> _Level:
    return _Level(value, value, 0.0, 0.0, "linear", owner, -math.inf)


def _fade(v0: float, v1: float, t0: float, dur: float, curve: str, owner: str) -> _Level:
    """A fade lasts its time even from a level to the same level: its cue runs (and its follow waits) as long as
    the console's countdown says, as a desk's fade does."""
    if dur <= 0.0:
        return _static(v1, owner)
    return _Level(v0, v1, t0, dur, curve, owner, t0 + dur - EPSILON)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What readers see, swapped whole: each set parameter's level and, per universe, when its last fade ends."""

    states: dict[Key, _Level]
    ends: dict[int, float]


@dataclass(frozen=True, slots=True)
class _Slot:
    """A patched parameter as frame() writes it (precomputed once from the Patch)."""

    key: Key
    slot: int
    fine: int | None
    home: float  # normalized: what the parameter reads with nothing driving it
    intensity: bool


def is_intensity(parameter: str) -> bool:
    """Whether blackout and the grand master act on it: a light-making parameter, or the fine byte of one."""
    return parameter in INTENSITY or (parameter.endswith("_fine") and parameter[:-5] in INTENSITY)


def _home(channel: Channel) -> float:
    return channel.home / (65535.0 if channel.fine is not None else 255.0)


class Mixer:
    """LTP levels and fades for every parameter of a :class:`Patch`; ``frame()`` renders one universe."""

    def __init__(self, patch: Patch) -> None:
        self._channels = dict(patch.channels)
        self._slots: dict[int, tuple[_Slot, ...]] = {}
        homes: dict[int, bytearray] = {}
        for key, channel in sorted(patch.channels.items(), key=lambda item: (item[1].universe, item[1].slot)):
            entry = _Slot(key, channel.slot, channel.fine, _home(channel), is_intensity(key[1]))
            self._slots[channel.universe] = self._slots.get(channel.universe, ()) + (entry,)
            data = homes.setdefault(channel.universe, bytearray(512))
            if channel.fine is None:
                data[channel.slot] = channel.home
            else:
                data[channel.slot], data[channel.fine] = channel.home >> 8, channel.home & 0xFF
        self._homes = {universe: bytes(data) for universe, data in homes.items()}
        self._universes = {key: channel.universe for key, channel in patch.channels.items()}
        self._snap = _Snapshot({}, {})
        self._write_lock = threading.Lock()  # writers only: two fires must not both start from the same snapshot

    # -- reading -------------------------------------------------------------------------------------------------

    def level(self, key: Key, now: float) -> float:
        """A parameter's level at ``now`` (normalized, before the grand master); its home when nothing set it."""
        state = self._snap.states.get(key)
        if state is not None:
            return state.at(now)
        channel = self._channels.get(key)
        if channel is None:
            raise InvalidInput(f"no patched parameter {key[1]!r} on fixture {key[0]!r}")
        return _home(channel)

    def running(self, owner: str, now: float) -> bool:
        """Whether any parameter ``owner`` still owns is mid-fade (a cue taken over entirely stops running)."""
        return any(s.owner == owner and now < s.end for s in self._snap.states.values())

    def changing(self, universe: int, now: float) -> bool:
        """Whether a fade on ``universe`` is mid-fade at ``now``: the output streams at the full rate meanwhile,
        even while its 8-bit values do not move (a slow fade)."""
        return now < self._snap.ends.get(universe, -math.inf)

    def frame(self, universe: int, now: float, grand_master: float = 1.0) -> bytes:
        """The universe's 512 slots at ``now``: homes, then each set parameter quantized (16-bit where the patch
        gives a fine slot), intensity times the grand master (0..1)."""
        data = bytearray(self._homes.get(universe, bytes(512)))
        states = self._snap.states
        master = min(1.0, max(0.0, grand_master))
        for entry in self._slots.get(universe, ()):
            state = states.get(entry.key)
            if state is None and not entry.intensity:
                continue  # its home is already in place
            value = entry.home if state is None else state.at(now)
            _write(data, entry, value * master if entry.intensity else value)
        return bytes(data)

    def levels(self, now: float) -> dict[str, dict[str, float]]:
        """Every patched parameter's level for the console and tests: 0..100 %, a ``raw:`` channel 0..255."""
        out: dict[str, dict[str, float]] = {}
        for key in self._channels:
            scale = 255.0 if key[1].startswith("raw:") else 100.0
            out.setdefault(key[0], {})[key[1]] = round(self.level(key, now) * scale, 6)
        return out

    # -- writing -------------------------------------------------------------------------------------------------

    def fire(self, owner: str, targets: dict[Key, float], fade: float, curve: str, now: float) -> None:
        """Each targeted parameter fades from its current level to its target over ``fade`` s (0: at once), owned
        by ``owner``; parameters it leaves alone keep their fade and owner."""
        if curve not in CURVES:
            raise InvalidInput(f"unknown curve {curve!r}: one of {', '.join(CURVES)}")
        if isinstance(fade, bool) or not (isinstance(fade, int | float) and 0.0 <= fade < math.inf):
            raise InvalidInput(f"a fade is a time of 0 s or more, not {fade!r}")
        for key, value in targets.items():
            if key not in self._channels:
                raise InvalidInput(f"no patched parameter {key[1]!r} on fixture {key[0]!r}")
            if isinstance(value, bool) or not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise InvalidInput(f"{key[0]}.{key[1]}: a level is 0..1 here, not {value!r}")
        with self._write_lock:
            states = self._snap.states
            changed = {key: _fade(self._at(states, key, now), float(value), now, float(fade), curve, owner)
                       for key, value in targets.items()}
            self._swap(changed)

    def freeze(self, owner: str, now: float) -> None:
        """Hold: every parameter ``owner`` owns becomes static at its level now (stop, a stop cue, panic: hold)."""
        with self._write_lock:
            self._swap({key: _static(state.at(now), owner) for key, state in self._snap.states.items()
                        if state.owner == owner and state.end > -math.inf})

    def blackout(self, now: float, fade: float) -> None:
        """Every intensity parameter to 0 over ``fade`` s, owned by ``panic``; colour temperature, pan, tilt and
        raw channels stay where they are."""
        targets = {key: 0.0 for key in self._channels if is_intensity(key[1])}
        self.fire(PANIC, targets, fade, "linear", now)

    def state(self, now: float) -> dict[str, Any]:
        """JSON-able: each set parameter's static level, or its fade with ``elapsed`` (seconds since its start) in
        place of t0, so it means the same in a process whose clock started elsewhere."""
        fixtures: dict[str, dict[str, dict[str, Any]]] = {}
        for (fixture, parameter), s in self._snap.states.items():
            if now >= s.end:
                entry: dict[str, Any] = {"level": s.at(now), "owner": s.owner}
            else:
                entry = {"from": s.v0, "to": s.v1, "elapsed": now - s.t0, "fade": s.dur, "curve": s.curve,
                         "owner": s.owner}
            fixtures.setdefault(fixture, {})[parameter] = entry
        return {"version": STATE_VERSION, "fixtures": fixtures}

    def restore(self, state: dict[str, Any], now: float, hold: bool = True) -> None:
        """After a restart: every parameter holds the level its saved state reads ``elapsed`` s into its fade; no
        fade continues (its cue reads ``stopped``). To hold where a fade had got to by now, age the saved state
        first (:func:`aged`). Parameters the patch no longer has, or entries that do not read, are skipped and
        logged: a stale state must not keep the night from starting. ``hold=False`` (DMX out's own process, fed
        the server's mixer): fades go on from where they are, as if started ``elapsed`` s before ``now``."""
        restored: dict[Key, _Level] = {}
        fixtures = state.get("fixtures") if isinstance(state, dict) else None
        for fixture, parameters in (fixtures if isinstance(fixtures, dict) else {}).items():
            for parameter, entry in (parameters if isinstance(parameters, dict) else {}).items():
                key = (fixture, parameter)
                value = _saved_level(entry)
                if key not in self._channels or value is None:
                    log.warning("DMX state: skipping %s.%s (%r)", fixture, parameter, entry)
                    continue
                owner = str(entry.get("owner", "restored"))
                if hold or "elapsed" not in entry:
                    restored[key] = _static(value, owner)
                else:
                    restored[key] = _fade(float(entry["from"]), float(entry["to"]), now - float(entry["elapsed"]),
                                          float(entry["fade"]), entry.get("curve", "linear"), owner)
        ends: dict[int, float] = {}
        for key, level in restored.items():
            ends[self._universes[key]] = max(ends.get(self._universes[key], -math.inf), level.end)
        with self._write_lock:
            self._snap = _Snapshot(restored, ends)

    # -- inside --------------------------------------------------------------------------------------------------

    def _at(self, states: dict[Key, _Level], key: Key, now: float) -> float:
        state = states.get(key)
        return state.at(now) if state is not None else _home(self._channels[key])

    def _swap(self, changed: dict[Key, _Level]) -> None:
        """Publish a new snapshot with ``changed`` applied; the caller holds the write lock."""
        if not changed:
            return
        states = {**self._snap.states, **changed}
        touched = {self._universes[key] for key in changed}
        ends = dict(self._snap.ends)
        for universe in touched:
            ends[universe] = max((states[e.key].end for e in self._slots[universe] if e.key in states),
                                 default=-math.inf)
        self._snap = _Snapshot(states, ends)


def aged(state: dict[str, Any], seconds: float) -> dict[str, Any]:
    """A saved state as it reads ``seconds`` later (the wall-clock time between saving and restoring): every fade's
    ``elapsed`` grows by that much, so :meth:`Mixer.restore` holds the level the fade had reached by now."""
    fixtures = state.get("fixtures", {}) if isinstance(state, dict) else {}
    return {**state, "fixtures": {
        fixture: {parameter: ({**entry, "elapsed": entry["elapsed"] + seconds}
                              if isinstance(entry, dict) and isinstance(entry.get("elapsed"), int | float) else entry)
                  for parameter, entry in parameters.items()}
        for fixture, parameters in fixtures.items() if isinstance(parameters, dict)}}


def _saved_level(entry: Any) -> float | None:
    """The level a saved entry reads (a static level, or a fade ``elapsed`` s in), or None if it does not read."""
    if not isinstance(entry, dict):
        return None
    if "level" in entry:
        value = entry["level"]
    else:
        try:
            v0, v1, elapsed, dur = (float(entry[k]) for k in ("from", "to", "elapsed", "fade"))
            curve = entry.get("curve", "linear")
            if curve not in CURVES or not dur > 0:
                return None
            value = _fade(v0, v1, 0.0, dur, curve, "").at(elapsed)
        except (KeyError, TypeError, ValueError):
            return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        return None
    return float(value)


def _write(data: bytearray, entry: _Slot, value: float) -> None:
    if entry.fine is None:
        data[entry.slot] = int(value * 255 + 0.5)
    else:
        coarse_fine = int(value * 65535 + 0.5)
        data[entry.slot] = coarse_fine >> 8
        data[entry.fine] = coarse_fine & 0xFF
