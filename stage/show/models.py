"""Immutable models of a show file: its sections and the ``Show`` that holds them.

The cue models live in :mod:`stage.show.cues` and are re-exported here, so ``from stage.show.models
import OscCue`` keeps working; what all models share (frozen, ``extra="forbid"``) is in
:mod:`stage.show.base`.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from stage import i18n
from stage.show.base import NAME, Model
from stage.show.cues import (SCENES, Cue, CueBase, DisplayCue, GroupCue, LightCue, NoteCue, OscArg, OscCue,
                             PromptCue, RecordCue, StopCue, WaitCue, flatten, numbered)
from stage.show.dmx import DmxSection

__all__ = [
    "NAME", "SCENES", "Model", "ServerSection", "Moderation", "Theme", "SafeArea", "RemixSettings", "Display",
    "Wifi", "Prompt", "OscTarget", "OscIn", "Rig", "Limits", "Consent", "Panic", "Show", "DmxSection",
    "Cue", "CueBase", "DisplayCue", "PromptCue", "OscArg", "OscCue", "RecordCue", "LightCue", "WaitCue", "NoteCue",
    "StopCue", "GroupCue",
]


class ServerSection(Model):
    """Server settings a show may carry; the environment and the CLI override them."""

    port: int | None = Field(default=None, ge=1, le=65535)
    public_url: str | None = None
    host_password: str | None = Field(default=None, min_length=6)
    moderator_password: str | None = Field(default=None, min_length=6)
    crew_password: str | None = Field(default=None, min_length=6)
    # The store: a postgresql:// URL; unset means the SQLite file in the data directory (stage/records/store.py).
    database: str | None = Field(default=None, max_length=2000)
    # Issue 19: the venue's network, HTTPS, a proxy in front, logs and metrics (docs/operations.md).
    interface: str | None = Field(default=None, max_length=64)  # the network interface the join URL uses
    tls_cert: str | None = Field(default=None, max_length=4096)  # PEM files, relative to the show file
    tls_key: str | None = Field(default=None, max_length=4096)
    http_port: int | None = Field(default=None, ge=1, le=65535)  # with TLS: plain HTTP here redirects to HTTPS
    behind_proxy: int | None = Field(default=None, ge=0, le=10)  # proxy hops whose X-Forwarded-* to trust
    log_level: Literal["debug", "info", "warning", "error"] | None = None
    metrics_bind: str | None = Field(default=None, max_length=300)  # host:port of an open /metrics listener


class Moderation(Model):
    """Flags that help moderators: a maintained profanity list plus the show's own words."""

    profanity: bool = True
    words: tuple[str, ...] = ()


COLOUR = r"^#[0-9a-fA-F]{6}$"


def shipped_language(value: str) -> str:
    tag = value.replace("_", "-").lower()
    if not i18n.known(tag):
        raise ValueError(f"no catalog for the language {value!r}; shipped: {', '.join(i18n.shipped())}")
    return tag


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours, 1 to 21."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# WCAG AA for body text. A projector in a lit room washes contrast out further, so less is never enough.
MIN_CONTRAST = 4.5


class Theme(Model):
    """How a display looks: colours, a font installed on the projector machine, an optional logo.

    Every colour that carries words (text, accent for names, muted for lineage) must read at
    MIN_CONTRAST on both the background and the card panels: a show whose theme the back row could
    not read does not validate (``stage check`` names the pair)."""

    background: str = Field(default="#000000", pattern=COLOUR)
    text: str = Field(default="#f4f1ea", pattern=COLOUR)
    accent: str = Field(default="#ffc94d", pattern=COLOUR)
    panel: str = Field(default="#1c1c24", pattern=COLOUR)
    muted: str = Field(default="#b8b3a8", pattern=COLOUR)  # secondary words: lineage, counts, hints
    font: str = Field(default="system-ui", pattern=r"^[A-Za-z0-9 ,_-]{1,80}$")  # CSS font families
    logo: str | None = Field(default=None, max_length=300)  # PNG or JPEG, relative to the show file

    @model_validator(mode="after")
    def _readable(self) -> "Theme":
        for words in ("text", "accent", "muted"):
            for ground in ("background", "panel"):
                ratio = contrast(getattr(self, words), getattr(self, ground))
                if ratio < MIN_CONTRAST:
                    raise ValueError(f"the {words} colour {getattr(self, words)} on the {ground} "
                                     f"{getattr(self, ground)} has a contrast of {ratio:.1f}:1; the back row needs "
                                     f"at least {MIN_CONTRAST}:1")
        return self


class SafeArea(Model):
    """Margins, in percent of the screen, that nothing is drawn in (projector keystone, overscan, a
    proscenium arch that cuts the image)."""

    top: float = Field(default=0, ge=0, le=25)
    right: float = Field(default=0, ge=0, le=25)
    bottom: float = Field(default=0, ge=0, le=25)
    left: float = Field(default=0, ge=0, le=25)


class RemixSettings(Model):
    """Remixes made on the crew console go through moderation unless the show trusts its crew."""

    crew_approves_own: bool = False


class Display(Model):
    name: str = Field(pattern=NAME)
    title: str | None = None
    resolution: str = Field(default="1920x1080", pattern=r"^\d{3,5}x\d{3,5}$")
    default_scene: Literal["join", "wall", "blank"] = "join"
    theme: Theme = Theme()
    safe_area: SafeArea = SafeArea()
    language: str | None = Field(default=None, max_length=20)  # unset: the show's language

    @field_validator("language")
    @classmethod
    def _language_is_shipped(cls, value: str | None) -> str | None:
        return value if value is None else shipped_language(value)

    @property
    def aspect(self) -> tuple[int, int]:
        width, height = self.resolution.split("x")
        return int(width), int(height)


class Wifi(Model):
    """The venue network, shown as a second QR code on the join scene (phones join it in one scan)."""

    ssid: str = Field(min_length=1, max_length=32)
    password: str | None = Field(default=None, max_length=63)
    security: Literal["WPA", "WEP", "nopass"] = "WPA"
    hidden: bool = False


class Prompt(Model):
    id: str = Field(pattern=NAME)
    text: str = Field(min_length=1, max_length=300)
    kinds: tuple[Literal["story", "drawing", "photo", "clip"], ...] = ("story",)
    max_chars: int = Field(default=280, ge=1, le=5000)
    max_words: int | None = Field(default=None, ge=1, le=1000)
    auto_approve: bool = False  # unflagged records skip the queue; flagged ones still wait


class OscTarget(Model):
    name: str = Field(pattern=NAME)
    host: str
    port: int = Field(ge=1, le=65535)
    transport: Literal["udp", "tcp", "tcp-slip"] = "udp"
    profile: Literal["generic", "eos", "ma3", "qlcplus", "qlab"] = "generic"


class OscIn(Model):
    """Remote control over OSC (TouchOSC, Companion, a console's feedback). Off unless a port is set."""

    port: int | None = Field(default=None, ge=1, le=65535)
    bind: str | None = None  # unset: where `serve --bind` listens (stage.lighting.remote.osc_in_bind)
    allow: tuple[str, ...] = ("127.0.0.1",)  # sender IPs or CIDR networks
    rate: str = "200 per second"  # per sender; a flood beyond it is dropped and logged


class Rig(Model):
    name: str = Field(pattern=NAME)
    camera: str = "test"
    microphone: str = "none"
    local: bool = False
    # Who films with this rig tonight: the camera credit of its takes (the crew console can change it).
    operator: str | None = Field(default=None, min_length=1, max_length=40)


class Limits(Model):
    """Show-level caps: how many phones may join, how large an upload may be."""

    max_phones: int | None = Field(default=None, ge=1, le=100_000)
    max_upload_mb: int = Field(default=25, ge=1, le=500)
    max_take_mb: int = Field(default=4096, ge=1, le=65_536)  # one take file from a capture agent
    joins_per_address: int = Field(default=60, ge=1, le=1_000_000)  # a minute; raise it behind NAT or a proxy


# Stage's own consent text, for shows that set none. The phone page carries its translation (audience.html);
# tests/unit/test_languages.py keeps the two the same words.
STANDARD_CONSENT = (
    "I agree to perform on stage tonight, to be filmed and recorded, to have the recording shown at "
    "this show and kept for remixes afterwards, and to be credited by my display name. I can withdraw "
    "this consent at any time from this page; my takes are then hidden.")


class Consent(Model):
    """What a volunteer agrees to before performing; the version is stored with every consent."""

    version: str = Field(default="1", max_length=40)
    text: str | None = Field(default=None, max_length=2000)  # unset: STANDARD_CONSENT, in the phone's language

    @property
    def words(self) -> str:
        """The text a volunteer agrees to, as stored with the consent (the standard one in English)."""
        return self.text or STANDARD_CONSENT


class Panic(Model):
    """What one press of PANIC does besides stopping every running cue."""

    scene: Literal["hold", "blank", "join", "wall", "message"] = "hold"  # hold: displays keep their scene
    text: str | None = Field(default=None, max_length=500)
    osc: tuple["Cue", ...] = ()  # osc cues sent on panic (their ids default to panic.1, ...)
    lights: Literal["hold", "blackout"] = "hold"  # Stage's DMX: hold the levels (a dark bar is a hazard) or fade out
    lights_fade: float = Field(default=0, ge=0, le=60)  # the blackout's fade, in seconds


class Show(Model):
    title: str = Field(min_length=1, max_length=120)
    # The audience's language (phones and displays; docs/languages.md): a shipped catalog's tag. Phones follow
    # their browser's Accept-Language among `languages` (unset: every shipped language) and may pick another.
    language: str = Field(default="en", max_length=20)
    languages: tuple[str, ...] | None = Field(default=None, min_length=1)
    server: ServerSection = ServerSection()
    go_debounce_ms: int = Field(default=200, ge=0, le=5000)
    moderation: Moderation = Moderation()
    consent: Consent = Consent()
    remix: RemixSettings = RemixSettings()
    limits: Limits = Limits()
    panic: Panic = Panic()
    displays: tuple[Display, ...] = Field(min_length=1)
    prompts: tuple[Prompt, ...] = ()
    osc_targets: tuple[OscTarget, ...] = ()
    osc_in: OscIn = OscIn()
    wifi: Wifi | None = None
    rigs: tuple[Rig, ...] = ()
    dmx: DmxSection | None = None  # Stage's own DMX out (stage/dmx/), for rooms with no lighting console
    cues: tuple[Cue, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _number_cues(cls, data: object) -> object:
        """Cues without an ``id`` get their position (``3``, group children ``3.1``)."""
        if isinstance(data, dict) and isinstance(data.get("cues"), list):
            data = {**data, "cues": numbered(data["cues"], "")}
        panic = data.get("panic") if isinstance(data, dict) else None
        if isinstance(panic, dict) and isinstance(panic.get("osc"), list):
            data = {**data, "panic": {**panic, "osc": numbered(panic["osc"], "panic.")}}
        return data

    @model_validator(mode="after")
    def _panic_sends_only_osc(self) -> "Show":
        if any(cue.type != "osc" for cue in self.panic.osc):
            raise ValueError("panic.osc takes only osc cues")
        return self

    @field_validator("language")
    @classmethod
    def _language_is_shipped(cls, value: str) -> str:
        return shipped_language(value)

    @field_validator("languages")
    @classmethod
    def _languages_are_shipped(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return value if value is None else tuple(dict.fromkeys(shipped_language(tag) for tag in value))

    @property
    def phone_languages(self) -> tuple[str, ...]:
        """The languages a phone may have, the show's own first."""
        offered = self.languages or i18n.shipped()
        return (self.language, *[tag for tag in offered if tag != self.language])

    @field_validator("title")
    @classmethod
    def _title_is_text(cls, value: str) -> str:
        if re.search(r"[\x00-\x1f]", value):
            raise ValueError("title must be a single line of text")
        return value

    def display(self, name: str) -> Display | None:
        return next((d for d in self.displays if d.name == name), None)

    def prompt(self, prompt_id: str) -> Prompt | None:
        return next((p for p in self.prompts if p.id == prompt_id), None)

    def flat_cues(self) -> list[CueBase]:
        """Every cue, groups before their children, in show order."""
        return flatten(self.cues)
