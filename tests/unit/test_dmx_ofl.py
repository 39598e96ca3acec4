"""Open Fixture Library files read into a fixture type's channels and homes, and each file Stage refuses, with the
field (``ofl`` or ``mode``) the show check points at. The files are small OFL-schema fixtures in tests/shows/ofl/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stage.dmx.ofl import MAX_BYTES, OflError, OflType, read_ofl
from stage.errors import InvalidInput, StageError
from stage.show.dmx import CHANNEL

OFL = Path(__file__).resolve().parents[1] / "shows" / "ofl"


def _fixture(tmp_path: Path, channels: dict, modes: list, **extra) -> Path:
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps({"name": "Probe", "categories": ["Other"], "availableChannels": channels,
                                "modes": modes, **extra}), encoding="utf-8")
    return path


def test_no_mode_takes_the_first_and_maps_the_single_capability_channels():
    spot = read_ofl(OFL / "generic-spot.json", None)
    assert spot == OflType("Generic Spot", "8 bit", ("pan", "tilt", "dimmer", "raw:shutter-strobe", "raw:gobo-wheel"),
                           {0: 128, 1: 127, 3: 255})


def test_a_16_bit_mode_pairs_fine_aliases_and_keeps_null_slots():
    spot = read_ofl(OFL / "generic-spot.json", "16 bit")
    assert spot.channels == ("pan", "pan_fine", "tilt", "tilt_fine", "dimmer", "dimmer_fine", "ct",
                             "raw:shutter-strobe", "raw:unused-9", "raw:gobo-wheel")
    # Pan defaultValue 32768 (16-bit: the channel's finest); Tilt "50%" = floor(0.5 * 65535) = 32767; ct 200
    # given in 8 bit; the shutter open (255). Each entry is one slot's byte: a pair's home is coarse << 8 | fine.
    assert spot.homes == {0: 128, 2: 127, 3: 255, 6: 200, 7: 255}
    assert spot.homes[2] << 8 | spot.homes[3] == 32767


def test_a_mode_is_found_by_its_short_name_and_a_third_byte_stays_raw():
    deep = read_ofl(OFL / "generic-spot.json", "24bit")
    assert (deep.mode, deep.channels) == ("24 bit dimmer", ("dimmer", "dimmer_fine", "raw:dimmer-fine-2"))


def test_colours_and_what_stays_raw():
    par = read_ofl(OFL / "rgbw-par.json", "Full")
    assert par.channels == ("dimmer", "red", "green", "blue", "white", "amber", "uv",
                            "raw:lime",  # a colour Stage has no parameter for
                            "raw:reverse-dimmer",  # full at 0: a blackout must not light it
                            "raw:strobe", "raw:programme-speed-auto-mode-sound", "raw:macro-1", "raw:macro-1-2",
                            "raw:farbwahler")
    assert par.homes == {}
    assert all(re.match(CHANNEL, channel) for channel in par.channels)
    assert read_ofl(OFL / "rgbw-par.json", None).channels == ("red", "green", "blue", "white")


def test_raw_names_are_slugs_of_at_most_32_characters_and_unique(tmp_path):
    long_key = "Über-Effekt: Macro & Sound Speed Control, Part 2"
    channels = {long_key: {"capability": {"type": "Effect"}}, long_key + "!": {"capability": {"type": "Effect"}},
                "Unused 2": {"capability": {"type": "NoFunction"}}, "***": {"capability": {"type": "Generic"}}}
    path = _fixture(tmp_path, channels, [{"name": "All", "channels": [long_key, None, long_key + "!", "Unused 2",
                                                                      "***"]}])
    names = read_ofl(path, None).channels
    assert names == ("raw:uber-effekt-macro-sound-speed-co", "raw:unused-2", "raw:uber-effekt-macro-sound-speed-2",
                     "raw:unused-2-2", "raw:channel")
    assert all(re.match(CHANNEL, name) and len(name) <= len("raw:") + 32 for name in names)


def test_a_percent_default_and_an_8_bit_resolution_on_a_fine_channel(tmp_path):
    channels = {"Pan": {"fineChannelAliases": ["Pan fine"], "dmxValueResolution": "8bit", "defaultValue": 128,
                        "capability": {"type": "Pan"}},
                "Zoom": {"defaultValue": "100%", "capability": {"type": "Zoom"}}}
    ofl = read_ofl(_fixture(tmp_path, channels, [{"name": "M", "channels": ["Pan", "Pan fine", "Zoom"]}]), "M")
    assert ofl.channels == ("pan", "pan_fine", "raw:zoom")
    assert ofl.homes == {0: 128, 1: 128, 2: 255}  # 8-bit 128 at 16 bit repeats its byte, as OFL scales it


def test_a_switching_channel_alias_is_raw(tmp_path):
    channels = {"Mode": {"defaultValue": 0, "capabilities": [
        {"dmxRange": [0, 127], "type": "Generic", "switchChannels": {"Speed / Sens": "Speed"}},
        {"dmxRange": [128, 255], "type": "Generic", "switchChannels": {"Speed / Sens": "Sensitivity"}}]},
        "Speed": {"capability": {"type": "EffectSpeed"}}, "Sensitivity": {"capability": {"type": "SoundSensitivity"}}}
    ofl = read_ofl(_fixture(tmp_path, channels, [{"name": "M", "channels": ["Mode", "Speed / Sens"]}]), None)
    assert ofl.channels == ("raw:mode", "raw:speed-sens")


def _refused(path: Path, mode: str | None) -> OflError:
    with pytest.raises(OflError) as caught:
        read_ofl(path, mode)
    assert isinstance(caught.value, InvalidInput) and isinstance(caught.value, StageError)
    return caught.value


def test_refuses_a_missing_file(tmp_path):
    error = _refused(tmp_path / "nope.json", None)
    assert (error.field, error.message) == ("ofl", f"no Open Fixture Library file at {tmp_path / 'nope.json'}")


def test_refuses_a_file_that_is_not_json():
    error = _refused(OFL / "not-json.json", None)
    assert error.field == "ofl" and error.message.startswith("not-json.json is not JSON: ")


def test_refuses_a_file_over_512_kib(tmp_path):
    path = _fixture(tmp_path, {"Dimmer": {"capability": {"type": "Intensity"}}},
                    [{"name": "M", "channels": ["Dimmer"]}], comment="x" * MAX_BYTES)
    error = _refused(path, None)
    assert (error.field, error.message) == ("ofl", "fixture.json is over 512 KiB: not an Open Fixture Library fixture")
    path.write_bytes(path.read_bytes()[:MAX_BYTES - 2] + b'"}')  # the comment cut short: exactly 512 KiB
    assert path.stat().st_size == MAX_BYTES and read_ofl(path, None).channels == ("dimmer",)


def test_refuses_json_that_is_not_an_ofl_fixture(tmp_path):
    error = _refused(OFL / "not-a-fixture.json", None)
    assert (error.field, error.message) == (
        "ofl", "not-a-fixture.json is not an Open Fixture Library fixture (no availableChannels and modes)")
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    assert _refused(tmp_path / "list.json", None).field == "ofl"


def test_refuses_matrix_fixtures(tmp_path):
    error = _refused(OFL / "pixel-bar.json", None)
    assert (error.field, error.message) == (
        "ofl", "pixel-bar.json is a matrix (pixel) fixture; Stage drives fixtures without pixel templates")
    path = _fixture(tmp_path, {"Red $pixelKey": {"capability": {"type": "ColorIntensity", "color": "Red"}}},
                    [{"name": "M", "channels": ["Red $pixelKey"]}])
    assert _refused(path, None).field == "ofl"


def test_refuses_a_mode_not_in_the_file_and_lists_its_modes():
    error = _refused(OFL / "generic-spot.json", "32 bit")
    assert (error.field, error.message) == (
        "mode", "generic-spot.json has no mode '32 bit'; its modes: '8 bit', '16 bit', '24 bit dimmer'")


def test_refuses_two_channels_on_one_parameter_in_the_mode_asked_for():
    assert read_ofl(OFL / "two-dimmers.json", "Single").channels == ("dimmer",)
    error = _refused(OFL / "two-dimmers.json", "Double")
    assert (error.field, error.message) == (
        "mode", "mode 'Double' of two-dimmers.json: channels 'Dimmer' (1) and 'Master Dimmer' (2) are both dimmer; "
                "a fixture drives each parameter once")


def test_a_broken_first_mode_is_the_files_fault_when_the_show_names_no_mode(tmp_path):
    """The show file has no ``mode:`` line to point at then: the check points at ``ofl``."""
    channels = {"Dimmer": {"capability": {"type": "Intensity"}}, "Master": {"capability": {"type": "Intensity"}}}
    path = _fixture(tmp_path, channels, [{"name": "Both", "channels": ["Dimmer", "Master"]}])
    assert _refused(path, None).field == "ofl"
    assert _refused(path, "Both").field == "mode"


@pytest.mark.parametrize("channels, mode_channels, message", [
    ({"Dimmer": {"fineChannelAliases": ["Dimmer fine"], "capability": {"type": "Intensity"}}}, ["Dimmer fine"],
     "mode 'M' of fixture.json has the fine channel 'Dimmer fine' without 'Dimmer'"),
    ({"Dimmer": {"capability": {"type": "Intensity"}}}, ["Dimmer", "Ghost"],
     "mode 'M' of fixture.json names channel 'Ghost', which availableChannels lacks"),
    ({"Dimmer": {"capability": {"type": "Intensity"}}}, ["Dimmer", "Dimmer"],
     "mode 'M' of fixture.json lists channel 'Dimmer' twice"),
    ({"Dimmer": {"capability": {"type": "Intensity"}}}, [], "mode 'M' of fixture.json lists no channels"),
])
def test_refuses_a_mode_that_does_not_read(tmp_path, channels, mode_channels, message):
    error = _refused(_fixture(tmp_path, channels, [{"name": "M", "channels": mode_channels}]), "M")
    assert (error.field, error.message) == ("mode", message)


@pytest.mark.parametrize("default", [256, -1, "150%", "bright", True])
def test_refuses_a_default_value_out_of_range(tmp_path, default):
    path = _fixture(tmp_path, {"Strobe": {"defaultValue": default, "capability": {"type": "ShutterStrobe"}}},
                    [{"name": "M", "channels": ["Strobe"]}])
    error = _refused(path, None)
    assert error.field == "ofl" and error.message.startswith("fixture.json: channel 'Strobe' has defaultValue")
