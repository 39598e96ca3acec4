"""The ``dmx:`` section of a show file: nodes that carry universes, fixtures patched onto them, groups and
named looks. Stage drives lights itself with it, for rooms with no console (docs/lighting.md, "DMX").

Only the shape and each field's range are checked here; what needs the whole section (overlaps, names a
look refers to, a fixture type's channels, an Open Fixture Library file) is :mod:`stage.dmx.patch`'s.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from stage.show.base import NAME, Model

# Parameters a fixture channel can carry; ``<param>_fine`` is the low byte of a 16-bit pair and ``raw:<name>``
# any other channel (strobe, macro, gobo). Levels are 0-100 % of range, a raw channel's 0-255.
PARAMETERS = ("dimmer", "red", "green", "blue", "white", "amber", "uv", "ct", "pan", "tilt")
# What blackout and the grand master act on: the parameters that make light.
INTENSITY = frozenset({"dimmer", "red", "green", "blue", "white", "amber", "uv"})
CHANNEL = r"^((dimmer|red|green|blue|white|amber|uv|ct|pan|tilt)(_fine)?|raw:[a-z0-9][a-z0-9_-]{0,31})$"
PORTS = {"sacn": 5568, "artnet": 6454}
UNIVERSES = {"sacn": (1, 63999), "artnet": (0, 32767)}  # E1.31 §6.2.7; Art-Net's 15-bit Port-Address


class DmxNode(Model):
    """A sACN or Art-Net node (or a console's input) that turns packets into DMX on its universes."""

    name: str = Field(pattern=NAME)
    protocol: Literal["sacn", "artnet"]
    address: str | None = Field(default=None, min_length=1, max_length=253)  # an IP or a host name
    port: int | None = Field(default=None, ge=1, le=65535)  # unset: the protocol's (5568, 6454)
    universes: tuple[int, ...] = Field(min_length=1, max_length=64)
    send: Literal["unicast", "multicast", "broadcast"] = "unicast"
    priority: int = Field(default=100, ge=0, le=200)  # sACN: a house desk at a higher priority wins at the node
    source_name: str | None = Field(default=None, min_length=1)
    ttl: int = Field(default=1, ge=1, le=32)  # multicast hops

    @property
    def dest_port(self) -> int:
        return self.port or PORTS[self.protocol]

    @field_validator("source_name")
    @classmethod
    def _fits_the_packet(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode("utf-8")) > 63:
            raise ValueError("source_name is at most 63 bytes of UTF-8 (E1.31 leaves 64 with its NUL)")
        return value

    @model_validator(mode="after")
    def _sendable(self) -> "DmxNode":
        if self.send == "unicast" and self.address is None:
            raise ValueError("a unicast node needs 'address' (or send: multicast for sACN, broadcast for Art-Net)")
        if (self.protocol, self.send) in {("sacn", "broadcast"), ("artnet", "multicast")}:
            raise ValueError(f"{self.protocol} does not {self.send}: sACN multicasts, Art-Net broadcasts")
        return self


def _known_channels(channels: tuple[str, ...]) -> tuple[str, ...]:
    for channel in channels:
        if not re.match(CHANNEL, channel):
            raise ValueError(f"unknown channel {channel!r}: one of {', '.join(PARAMETERS)}, <param>_fine, or "
                             "raw:<name>")
    return channels


Channels = Annotated[tuple[str, ...], Field(min_length=1, max_length=512), AfterValidator(_known_channels)]


class FixtureType(Model):
    """Channels in order, or an Open Fixture Library file (beside the show) and one of its modes."""

    channels: Channels | None = None
    ofl: str | None = Field(default=None, min_length=1, max_length=300)
    mode: str | None = Field(default=None, min_length=1, max_length=120)

    @model_validator(mode="after")
    def _one_source(self) -> "FixtureType":
        if (self.channels is None) == (self.ofl is None):
            raise ValueError("give exactly one of 'channels' or 'ofl' (an Open Fixture Library file)")
        if self.mode is not None and self.ofl is None:
            raise ValueError("'mode' applies to an 'ofl' fixture type")
        return self


class Fixture(Model):
    name: str = Field(pattern=NAME)
    type: str | None = Field(default=None, pattern=NAME)
    channels: Channels | None = None
    universe: int = Field(ge=0, le=63999)
    address: int = Field(ge=1, le=512)  # the first slot, as a lighting desk counts (1-512)

    @model_validator(mode="after")
    def _one_source(self) -> "Fixture":
        if (self.type is None) == (self.channels is None):
            raise ValueError("give exactly one of 'type' (a fixture type) or 'channels'")
        return self


Levels = dict[str, dict[str, float]]  # fixture or group -> parameter -> level


class DmxSection(Model):
    rate: int = Field(default=40, ge=1, le=44)  # Hz while a universe changes: DMX512 carries ~44 full frames/s
    nodes: tuple[DmxNode, ...] = Field(min_length=1)
    fixture_types: dict[str, FixtureType] = {}
    fixtures: tuple[Fixture, ...] = Field(min_length=1)
    groups: dict[str, tuple[str, ...]] = {}
    looks: dict[str, Levels] = {}

