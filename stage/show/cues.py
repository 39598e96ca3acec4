"""The cue models of a show file: a cue's ``type`` selects its model (``Cue`` is the tagged union).

Show-level sections (displays, prompts, targets, limits, the ``Show`` itself) are in
:mod:`stage.show.models`, which also re-exports every name here.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from stage.show.base import Model

SCENES = ("join", "wall", "story", "image", "media", "live", "credits", "message", "blank", "leaderboard")


class CueBase(Model):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
    name: str = ""
    pre_wait: float = Field(default=0, ge=0, le=3600)  # seconds between GO and the action
    post_wait: float = Field(default=0, ge=0, le=3600)  # counted from the action's start (QLab)
    continue_mode: Literal["none", "auto_continue", "auto_follow"] = Field(default="none", alias="continue")


class DisplayCue(CueBase):
    type: Literal["display"]
    display: str
    scene: Literal[SCENES]  # type: ignore[valid-type]
    text: str | None = Field(default=None, max_length=500)
    transition: Literal["cut", "crossfade"] = "cut"
    fade: float = Field(default=1.0, ge=0, le=10)  # seconds, for a crossfade
    rig: str | None = None  # the live scene: whose camera preview to show
    end: Literal["hold", "loop", "blank", "wall", "join"] = "hold"  # the media scene, when the media ends

    @model_validator(mode="after")
    def _live_needs_a_rig(self) -> "DisplayCue":
        if self.scene == "live" and self.rig is None:
            raise ValueError("a live scene needs 'rig': the rig whose camera it shows")
        if self.scene != "live" and self.rig is not None:
            raise ValueError("'rig' applies only to the live scene")
        return self


class PromptCue(CueBase):
    type: Literal["prompt"]
    prompt: str
    action: Literal["open", "close"] = "open"


class OscArg(Model):
    type: Literal["i", "f", "d", "s", "T", "F", "b"]
    value: int | float | str | bool | None = None


class OscCue(CueBase):
    type: Literal["osc"]
    target: str
    address: str | None = Field(default=None, pattern=r"^/\S*$")
    args: tuple[OscArg | int | float | str | bool, ...] = ()
    intent: Literal["go", "fire_cue", "blackout", "release", "panic"] | None = None
    cue_list: int | None = Field(default=None, alias="list")
    cue_number: str | None = Field(default=None, alias="cue")

    @model_validator(mode="after")
    def _address_or_intent(self) -> "OscCue":
        if (self.address is None) == (self.intent is None):
            raise ValueError("give exactly one of 'address' (raw OSC) or 'intent'")
        return self


class RecordCue(CueBase):
    type: Literal["record"]
    rig: str
    action: Literal["start", "stop"] = "start"


class WaitCue(CueBase):
    type: Literal["wait"]
    seconds: float = Field(gt=0, le=3600)


class NoteCue(CueBase):
    type: Literal["note"]
    text: str = ""


class StopCue(CueBase):
    type: Literal["stop"]


class LightCue(CueBase):
    """Fade to a look of ``dmx.looks`` (and/or ``levels`` on top of it) over ``fade`` seconds: Stage's own DMX."""

    type: Literal["light"]
    look: str | None = None
    levels: dict[str, dict[str, float]] = {}  # fixture or group -> parameter -> level (0-100; raw: 0-255)
    fade: float = Field(default=0, ge=0, le=3600)
    curve: Literal["linear", "s_curve", "ease_in", "ease_out"] = "linear"

    @model_validator(mode="after")
    def _sets_something(self) -> "LightCue":
        if self.look is None and not self.levels:
            raise ValueError("a light cue needs 'look' (a look of dmx.looks) or 'levels'")
        return self


class GroupCue(CueBase):
    type: Literal["group"]
    mode: Literal["parallel", "sequence"] = "parallel"
    cues: tuple["Cue", ...] = Field(min_length=1)


Cue = Annotated[
    Union[DisplayCue, PromptCue, OscCue, RecordCue, LightCue, WaitCue, NoteCue, StopCue, GroupCue],
    Field(discriminator="type"),
]
GroupCue.model_rebuild()


def flatten(cues: tuple[CueBase, ...]) -> list[CueBase]:
    """Every cue, groups before their children, in show order."""
    out: list[CueBase] = []
    for cue in cues:
        out.append(cue)
        if isinstance(cue, GroupCue):
            out += flatten(cue.cues)
    return out


def numbered(cues: list, prefix: str) -> list:
    """Raw cue entries with an ``id`` where the file gave none: their position (``3``, children ``3.1``)."""
    out = []
    for index, cue in enumerate(cues, start=1):
        if isinstance(cue, dict):
            if "id" not in cue:
                cue = {**cue, "id": f"{prefix}{index}"}
            if cue.get("type") == "group" and isinstance(cue.get("cues"), list):
                cue = {**cue, "cues": numbered(cue["cues"], f"{cue['id']}.")}
        out.append(cue)
    return out
