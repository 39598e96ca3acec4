"""The resolved patch: for each fixture parameter, its universe and slots, and how a look's levels (by fixture,
group or ``all``) become the mixer's targets. The checks a ``dmx:`` section must pass are :mod:`stage.dmx.checks`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stage.show.dmx import DmxSection, Fixture, Levels

# Fixture types every show has, as the channel orders cheap LED pars and dimmer packs use.
BUILT_IN_TYPES: dict[str, tuple[str, ...]] = {
    "dimmer": ("dimmer",),
    "rgb": ("red", "green", "blue"),
    "rgbw": ("red", "green", "blue", "white"),
    "rgbwa": ("red", "green", "blue", "white", "amber"),
    "drgb": ("dimmer", "red", "green", "blue"),
    "drgbw": ("dimmer", "red", "green", "blue", "white"),
    "dct": ("dimmer", "ct"),
}


@dataclass(frozen=True)
class Channel:
    """Where one fixture parameter lives: ``slot`` is 0-based (DMX address 1 is slot 0), ``fine`` the slot of
    its low byte for a 16-bit pair, ``home`` its value with nothing driving it (0-255, or 0-65535 with fine)."""

    universe: int
    slot: int
    fine: int | None = None
    home: int = 0


@dataclass
class Patch:
    """``channels[(fixture, parameter)]``; ``groups`` with the implicit ``all``; ``universes``: every universe
    a fixture is on."""

    channels: dict[tuple[str, str], Channel] = field(default_factory=dict)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    universes: frozenset[int] = frozenset()

    def parameters(self, fixture: str) -> list[str]:
        return [param for name, param in self.channels if name == fixture]

    def targets(self, *levels: Levels) -> dict[tuple[str, str], float]:
        """Each parameter's target, normalized 0-1 (levels are 0-100 %, a raw channel's 0-255). Later level
        sets win; within one, ``all`` first, then groups, then fixtures by name (the specific over the general,
        as a desk does). ``all`` sets a parameter only on the fixtures that have it."""
        out: dict[tuple[str, str], float] = {}
        for level_set in levels:
            ordered = sorted(level_set.items(), key=lambda item: (item[0] != "all", item[0] not in self.groups))
            for target, params in ordered:
                for fixture in self.groups.get(target, (target,)):
                    for param, value in params.items():
                        if (fixture, param) in self.channels:
                            out[(fixture, param)] = value / (255 if param.startswith("raw:") else 100)
        return out


def fixture_channels(dmx: DmxSection, fixture: Fixture, base: Path) -> tuple[tuple[str, ...], dict[int, int]]:
    """A fixture's channels in slot order and their home values (index -> 0-255); raises OflError."""
    if fixture.channels is not None:
        return fixture.channels, {}
    if fixture.type in BUILT_IN_TYPES:
        return BUILT_IN_TYPES[fixture.type], {}
    kind = dmx.fixture_types[fixture.type or ""]
    if kind.channels is not None:
        return kind.channels, {}
    from stage.dmx.ofl import read_ofl  # only shows with OFL files pay for reading them

    ofl = read_ofl(base / (kind.ofl or ""), kind.mode)
    return ofl.channels, ofl.homes


def build_patch(dmx: DmxSection, base: Path) -> Patch:
    """The patch of a section that passed :func:`stage.dmx.checks.problems`."""
    patch = Patch(groups={"all": tuple(f.name for f in dmx.fixtures), **dmx.groups},
                  universes=frozenset(f.universe for f in dmx.fixtures))
    for fixture in dmx.fixtures:
        channels, homes = fixture_channels(dmx, fixture, base)
        slots = {name: fixture.address - 1 + index for index, name in enumerate(channels)}
        for index, name in enumerate(channels):
            if name.endswith("_fine"):
                continue
            fine = slots.get(f"{name}_fine")
            home = homes.get(index, 0)
            if fine is not None:
                home = home * 256 + homes.get(fine - fixture.address + 1, 0)
            patch.channels[(fixture.name, name)] = Channel(fixture.universe, slots[name], fine, home)
    return patch
