"""Open Fixture Library files: a fixture type's channels read from an OFL fixture definition (JSON, the schema of
open-fixture-library.org, docs/fixture-format.md there) and one of its modes, in the parameter names of
:mod:`stage.show.dmx`.

A channel with a single ``capability`` that says what the mixer can drive maps to a parameter (Intensity → dimmer,
ColorIntensity → its colour, ColorTemperature → ct, Pan, Tilt), and the first of its ``fineChannelAliases`` to
``<param>_fine``. Everything else (ranges of several capabilities: strobe, macros, gobos; a 24-bit channel's third
byte; an inverted dimmer, whose 0 is full) stays a ``raw:<key>`` channel that a look sets in DMX values.

Matrix fixtures (pixel templates) are refused: a pixel bar wants a pixel mapper, not a list of looks.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from stage.errors import InvalidInput

MAX_BYTES = 512 * 1024
COLOURS = {"Red": "red", "Green": "green", "Blue": "blue", "White": "white", "Amber": "amber", "UV": "uv"}
SIMPLE = {"Intensity": "dimmer", "ColorTemperature": "ct", "Pan": "pan", "Tilt": "tilt"}
RESOLUTIONS = {"8bit": 1, "16bit": 2, "24bit": 3}
BRIGHTNESS = {"off": 0.0, "dark": 1.0, "bright": 100.0}  # OFL's brightness keywords, in %
SLUG_LENGTH = 32  # stage.show.dmx.CHANNEL: raw:[a-z0-9][a-z0-9_-]{0,31}


class OflError(InvalidInput):
    """An OFL file Stage cannot use (an :class:`InvalidInput`, so a StageError with a message). ``field`` says which
    key of the fixture type is at fault, so the show check points at that line: ``mode`` for a mode not in the file
    or one that does not read; ``ofl`` for the file itself, and for its first mode when the show names none."""

    def __init__(self, message: str, field: Literal["ofl", "mode"]) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class OflType:
    """One mode of an OFL fixture: its channels in order, and ``homes``: channel index → the DMX value (0..255)
    that slot rests at, from ``defaultValue``. Every entry is one slot's byte, a 16-bit pair's included (its high
    byte on the coarse index, its low byte on the fine index), so a pair's 16-bit home is
    ``homes[coarse] << 8 | homes[fine]``. Slots that rest at 0 have no entry."""

    name: str
    mode: str
    channels: tuple[str, ...]
    homes: dict[int, int] = field(default_factory=dict)


def read_ofl(path: Path, mode: str | None) -> OflType:
    """Read ``path`` and take ``mode`` (its name or shortName; None: the first mode). Raises :class:`OflError`."""
    fixture = _load(path)
    channels: dict[str, Any] = fixture["availableChannels"]
    chosen = _mode(fixture["modes"], mode, path)
    keys = chosen.get("channels")
    name = str(chosen.get("name"))
    at: Literal["ofl", "mode"] = "ofl" if mode is None else "mode"  # the show names no mode: the file is at fault
    if not isinstance(keys, list) or not keys:
        raise OflError(f"mode {name!r} of {path.name} lists no channels", at)
    coarse_of = {alias: (key, rank) for key, channel in channels.items() if isinstance(channel, dict)
                 for rank, alias in enumerate(channel.get("fineChannelAliases") or (), start=1)}
    switching = {alias for channel in channels.values() if isinstance(channel, dict)
                 for capability in channel.get("capabilities") or () if isinstance(capability, dict)
                 for alias in capability.get("switchChannels") or {}}
    used = {f"unused-{index}" for index, key in enumerate(keys, start=1) if key is None}
    names: list[str] = []
    homes: dict[int, int] = {}
    seen: set[str] = set()
    for index, key in enumerate(keys):
        if key is None:
            names.append(f"raw:unused-{index + 1}")
            continue
        if not isinstance(key, str):
            raise OflError(f"mode {name!r} of {path.name}: channel {index + 1} is not a channel key", at)
        if key in seen:
            raise OflError(f"mode {name!r} of {path.name} lists channel {key!r} twice", at)
        seen.add(key)
        if key in channels:
            parameter = _parameter(channels[key]) or "raw:" + _slug(key, used)
            byte = _home_byte(channels[key], key, 0, path)
        elif key in coarse_of:
            coarse, rank = coarse_of[key]
            if coarse not in keys:
                raise OflError(f"mode {name!r} of {path.name} has the fine channel {key!r} without {coarse!r}", at)
            base = _parameter(channels[coarse])
            parameter = f"{base}_fine" if base and rank == 1 else "raw:" + _slug(key, used)
            byte = _home_byte(channels[coarse], coarse, rank, path)
        elif key in switching:
            parameter, byte = "raw:" + _slug(key, used), 0
        else:
            raise OflError(f"mode {name!r} of {path.name} names channel {key!r}, which availableChannels lacks", at)
        if parameter in names:
            other = keys[names.index(parameter)]
            raise OflError(f"mode {name!r} of {path.name}: channels {other!r} ({names.index(parameter) + 1}) and "
                           f"{key!r} ({index + 1}) are both {parameter}; a fixture drives each parameter once", at)
        names.append(parameter)
        if byte:
            homes[index] = byte
    return OflType(str(fixture.get("name") or path.stem), name, tuple(names), homes)


def _load(path: Path) -> dict[str, Any]:
    """The fixture's JSON, refused before parsing when it is missing, too big, or a matrix fixture."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise OflError(f"no Open Fixture Library file at {path}", "ofl") from None
    except OSError as exc:
        raise OflError(f"cannot read the Open Fixture Library file {path}: {exc.strerror or exc}", "ofl") from None
    if len(raw) > MAX_BYTES:
        raise OflError(f"{path.name} is over {MAX_BYTES // 1024} KiB: not an Open Fixture Library fixture", "ofl")
    try:
        fixture = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OflError(f"{path.name} is not JSON: {exc}", "ofl") from None
    if not isinstance(fixture, dict):
        raise OflError(f"{path.name} is not an Open Fixture Library fixture (no availableChannels and modes)", "ofl")
    if "matrix" in fixture or "templateChannels" in fixture or b"$pixelkey" in raw.lower():
        raise OflError(f"{path.name} is a matrix (pixel) fixture; Stage drives fixtures without pixel templates",
                       "ofl")
    if not isinstance(fixture.get("availableChannels"), dict) or not isinstance(fixture.get("modes"), list) \
            or not fixture["modes"]:
        raise OflError(f"{path.name} is not an Open Fixture Library fixture (no availableChannels and modes)", "ofl")
    return fixture


def _mode(modes: list[Any], wanted: str | None, path: Path) -> dict[str, Any]:
    modes = [m for m in modes if isinstance(m, dict)]
    if not modes:
        raise OflError(f"{path.name} has no modes", "ofl")
    if wanted is None:
        return modes[0]
    for attribute in ("name", "shortName"):
        for candidate in modes:
            if candidate.get(attribute) == wanted:
                return candidate
    listed = ", ".join(repr(m.get("name")) for m in modes)
    raise OflError(f"{path.name} has no mode {wanted!r}; its modes: {listed}", "mode")


def _parameter(channel: Any) -> str | None:
    """The parameter a channel maps to, or None for a raw channel."""
    capability = channel.get("capability") if isinstance(channel, dict) else None
    if not isinstance(capability, dict) or "capabilities" in channel:
        return None
    kind = capability.get("type")
    if kind in ("Intensity", "ColorIntensity") and _inverted(capability):
        return None  # full at 0: as "dimmer" a blackout would light it
    if kind == "ColorIntensity":
        return COLOURS.get(capability.get("color"))
    return SIMPLE.get(kind)


def _inverted(capability: dict[str, Any]) -> bool:
    start, end = (_brightness(capability.get(k)) for k in ("brightnessStart", "brightnessEnd"))
    return start is not None and end is not None and start > end


def _brightness(value: Any) -> float | None:
    if isinstance(value, str) and value in BRIGHTNESS:
        return BRIGHTNESS[value]
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)%", value) if isinstance(value, str) else None
    return float(match.group(1)) if match else None


def _home_byte(channel: Any, key: str, rank: int, path: Path) -> int:
    """Byte ``rank`` (0: coarse, 1: first fine, ...) of the channel's defaultValue, at its finest resolution.

    OFL gives defaultValue in ``dmxValueResolution`` (default: the channel's finest) as a DMX value or "N%";
    scaling to a finer resolution repeats the last byte, as OFL's own model does (scale-dmx-values.js)."""
    if not isinstance(channel, dict):
        return 0
    finest = 1 + len(channel.get("fineChannelAliases") or ())
    given = RESOLUTIONS.get(channel.get("dmxValueResolution"), finest)
    raw = channel.get("defaultValue", 0)
    top = 256 ** given - 1
    if isinstance(raw, str):
        match = re.fullmatch(r"(\d+(?:\.\d+)?)%", raw.strip())
        percent = float(match.group(1)) if match else None
        if percent is None or percent > 100:
            raise OflError(f"{path.name}: channel {key!r} has defaultValue {raw!r}: a DMX value or a percentage",
                           "ofl")
        raw = int(percent / 100 * top)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= top:
        raise OflError(f"{path.name}: channel {key!r} has defaultValue {raw!r}, not a DMX value 0-{top}", "ofl")
    data = list(raw.to_bytes(given, "big"))
    data += [data[-1]] * (finest - given)
    return data[rank] if rank < len(data) else 0


def _slug(key: str, used: set[str]) -> str:
    """A ``raw:`` name from a channel key: lower-case [a-z0-9_-], at most 32 characters, unique in ``used``."""
    ascii_key = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode("ascii").lower()
    base = re.sub(r"[^a-z0-9_-]+", "-", ascii_key).strip("-_")[:SLUG_LENGTH].strip("-_") or "channel"
    slug, number = base, 1
    while slug in used:
        number += 1
        suffix = f"-{number}"
        slug = base[:SLUG_LENGTH - len(suffix)].rstrip("-_") + suffix
    used.add(slug)
    return slug
