"""Console profiles: an ``OscCue`` for an ``OscTarget`` becomes the messages that console understands.

A raw cue (``address`` + ``args``) is sent as written, whatever the profile. An intent cue (``go``,
``fire_cue``, ``blackout``, ``release``, ``panic``) is mapped by the target's profile; an intent a
profile cannot express raises ``ProfileError`` naming both, so ``stage check`` and GO say why.
The table of addresses is in docs/lighting.md; keep the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stage.errors import StageError
from stage.lighting.messages import OscMessage, typed_arg
from stage.show.models import OscCue, OscTarget

MA3_PREFIX = "gma3"
# A cue number goes into an OSC address (or a console command line): no spaces, no '/', no OSC
# pattern characters. Eos and MA take 12, 12.5; QLab cue numbers may also hold letters.
CUE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
PRESS, RELEASE = ("f", 1.0), ("f", 0.0)


class ProfileError(StageError):
    """A cue that the target's console profile cannot express."""

    code = "osc_profile"


def messages_for(cue: OscCue, target: OscTarget, *, ma3_prefix: str = MA3_PREFIX) -> list[OscMessage]:
    """The messages to send for ``cue`` to ``target``, in order."""
    if cue.address is not None:
        return [OscMessage(cue.address, tuple(typed_arg(a) for a in cue.args))]
    intent = cue.intent or ""
    if cue.args:
        raise ProfileError(f"cue {cue.id}: an intent cue takes no 'args' (give 'list'/'cue' instead)")
    if target.profile == "ma3":
        return _ma3(intent, cue, ma3_prefix)
    return _PROFILES[target.profile](intent, cue)


def _eos(intent: str, cue: OscCue) -> list[OscMessage]:
    if intent == "go":
        return [OscMessage("/eos/key/go_0")]  # the Go key of the master playback pair
    if intent == "fire_cue":
        number = _cue_number("eos", cue)
        if cue.cue_list is None:
            return [OscMessage(f"/eos/cue/{number}/fire")]  # the default cue list
        return [OscMessage(f"/eos/cue/{cue.cue_list}/{number}/fire")]
    if intent == "blackout":
        # "Go To Cue Out" fades the playback to the cue-out state; unlike the Blackout key, which
        # toggles, sending it twice keeps the stage dark.
        return [OscMessage("/eos/newcmd", (("s", "Go_To_Cue Out#"),))]
    if intent == "release":
        return [OscMessage("/eos/newcmd", (("s", "Go_To_Cue 0#"),))]  # reset the list to before cue 1
    if intent == "panic":
        return [OscMessage("/eos/key/stop_back")]  # Stop/Back: freeze every fade in progress
    raise _cannot("eos", intent)


def _ma3(intent: str, cue: OscCue, prefix: str) -> list[OscMessage]:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", prefix):
        raise ProfileError(f"ma3 OSC prefix {prefix!r} must be letters, digits, '_' or '-'")
    sequence = f" Sequence {cue.cue_list}" if cue.cue_list is not None else ""
    if intent == "go":
        command = f"Go+{sequence}"  # without a list: the selected sequence
    elif intent == "fire_cue":
        number = _cue_number("ma3", cue)
        command = f"Goto{sequence} Cue {number}" if sequence else f"Goto Cue {number}"
    elif intent == "release":
        if not sequence:
            raise ProfileError("profile 'ma3' cannot express intent 'release' without 'list' (the sequence)")
        command = f"Off{sequence}"
    else:
        raise _cannot("ma3", intent, hint=f"send a raw cue: address /{prefix}/cmd with your console's command")
    address = f"/{prefix}/cmd" if prefix else "/cmd"
    return [OscMessage(address, (("s", command),))]  # one command string; MA3 takes no bundles


def _qlab(intent: str, cue: OscCue) -> list[OscMessage]:
    if intent == "go":
        return [OscMessage("/go")]
    if intent == "fire_cue":
        if cue.cue_list is not None:
            raise ProfileError("profile 'qlab' addresses cues by number only; remove 'list'")
        return [OscMessage(f"/cue/{_cue_number('qlab', cue)}/start")]
    if intent == "panic":
        return [OscMessage("/panic")]
    raise _cannot("qlab", intent)


def _generic(intent: str, cue: OscCue) -> list[OscMessage]:
    return [OscMessage(_generic_address("generic", intent, cue))]


def _qlcplus(intent: str, cue: OscCue) -> list[OscMessage]:
    # QLC+ maps an OSC path to an input channel; virtual-console buttons and cue lists act on the
    # value's edge (non-zero = pressed, 0 = released), so each intent is a press and a release.
    address = _generic_address("qlcplus", intent, cue)
    return [OscMessage(address, (PRESS,)), OscMessage(address, (RELEASE,))]


def _generic_address(profile: str, intent: str, cue: OscCue) -> str:
    if intent in ("go", "blackout", "release", "panic"):
        return f"/stage/{intent}"
    if intent == "fire_cue":
        number = _cue_number(profile, cue)
        if cue.cue_list is None:
            return f"/stage/cue/{number}/fire"
        return f"/stage/cue/{cue.cue_list}/{number}/fire"
    raise _cannot(profile, intent)


def _cue_number(profile: str, cue: OscCue) -> str:
    if cue.cue_number is None:
        raise ProfileError(f"profile '{profile}' intent 'fire_cue' needs 'cue' (the cue number)")
    if not CUE_NUMBER.match(cue.cue_number):
        raise ProfileError(f"cue number {cue.cue_number!r} cannot go into an OSC address")
    if cue.cue_list is not None and cue.cue_list < 0:
        raise ProfileError(f"cue list {cue.cue_list} must not be negative")
    return cue.cue_number


def _cannot(profile: str, intent: str, hint: str = "send a raw cue with 'address' instead") -> ProfileError:
    return ProfileError(f"profile '{profile}' cannot express intent '{intent}'; {hint}")


_PROFILES: dict[str, Callable[[str, OscCue], list[OscMessage]]] = {
    "eos": _eos,
    "qlab": _qlab,
    "qlcplus": _qlcplus,
    "generic": _generic,
}
