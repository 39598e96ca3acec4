"""The OSC addresses a remote may send (``/stage/...``) and the handler each one calls.

Buttons on TouchOSC, Open Stage Control or Companion send ``,f 1.0`` when pressed and ``,f 0.0``
when released. So ``go``, ``back``, ``panic`` and ``cue/<id>/go`` accept no argument (fire), or one
number or boolean: non-zero/true fires, zero/false (the release) is ignored. A release must never be
a second GO.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from stage.errors import StageError

PREFIX = "/stage"
REPLY_PREFIX = "/stage/reply"
CUE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")  # as stage.show.cues.CueBase.id
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # as stage.show.base.NAME
SCENE = re.compile(r"^[a-z]{1,20}$")


class RemoteHandlers(Protocol):
    """What a remote can do (``stage.lighting.remote_control.RemoteControl``). Each returns a short result
    for the reply (``"GO cue 3"``) or raises ``StageError`` whose message becomes the error reply."""

    def go(self) -> str: ...

    def back(self) -> str: ...

    def panic(self) -> str: ...

    def cue_go(self, cue_id: str) -> str: ...

    def display_scene(self, display: str, scene: str) -> str: ...


class CommandError(StageError):
    """An address Stage does not know, or arguments of the wrong type for it."""

    code = "osc_command"

    def __init__(self, message: str, *, unknown: bool = False) -> None:
        super().__init__(message, code="osc_unknown" if unknown else None)
        self.unknown = unknown


@dataclass(frozen=True)
class Command:
    """A parsed remote command: ``call`` is ``None`` for a button release (nothing to do)."""

    address: str
    call: Callable[[], str] | None

    @property
    def reply_address(self) -> str:
        return reply_address(self.address)


def reply_address(address: str) -> str:
    """``/stage/cue/5/go`` is answered on ``/stage/reply/cue/5/go``; other addresses under ``/stage/reply``."""
    rest = address[len(PREFIX):] if address.startswith(PREFIX + "/") else address
    return REPLY_PREFIX + (rest if rest.startswith("/") else "/" + rest)


def parse(address: str, args: list[Any], handlers: RemoteHandlers) -> Command:
    """The command for ``address`` with ``args``; raises ``CommandError`` for anything else."""
    parts = address.split("/")[1:]  # "/stage/cue/5/go" -> ["stage", "cue", "5", "go"]
    if not parts or parts[0] != PREFIX[1:]:
        raise CommandError(f"unknown address {address!r} (Stage listens under {PREFIX}/)", unknown=True)
    verbs: dict[str, Callable[[], str]] = {
        "go": handlers.go, "back": handlers.back, "panic": handlers.panic, "ping": lambda: "pong",
    }
    if len(parts) == 2 and parts[1] in verbs:
        return Command(address, verbs[parts[1]] if _pressed(address, args) else None)
    if len(parts) == 4 and parts[1] == "cue" and parts[3] == "go":
        cue_id = parts[2]
        if not CUE_ID.match(cue_id):
            raise CommandError(f"{address!r}: {cue_id!r} is not a cue id")
        return Command(address, (lambda: handlers.cue_go(cue_id)) if _pressed(address, args) else None)
    if len(parts) == 4 and parts[1] == "display" and parts[3] == "scene":
        display = parts[2]
        if not NAME.match(display):
            raise CommandError(f"{address!r}: {display!r} is not a display name")
        if len(args) != 1 or not isinstance(args[0], str) or not SCENE.match(args[0]):
            raise CommandError(f"{address!r} takes one string argument, the scene (,s wall)")
        scene = args[0]
        return Command(address, lambda: handlers.display_scene(display, scene))
    raise CommandError(f"unknown address {address!r}", unknown=True)


def _pressed(address: str, args: list[Any]) -> bool:
    """True to fire: no argument, or a non-zero number / true. False for a button's release."""
    if not args:
        return True
    value = args[0]
    if len(args) == 1 and isinstance(value, float) and not math.isfinite(value):
        raise CommandError(f"{address!r}: {value} is neither a press nor a release")  # NaN would be truthy
    if len(args) == 1 and isinstance(value, (bool, int, float)):
        return bool(value)
    raise CommandError(f"{address!r} takes no argument or one number (1 = press, 0 = release)")
