"""The ``dmx:`` section of a show file (issue 21): a good patch loads, and each bad input the issue names is
refused at its file:line:column with the field's path, by the loader that `stage check` and `stage serve` share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stage.dmx.patch import Channel, build_patch
from stage.errors import ShowFileError
from stage.show.loader import parse_show

GOOD = """\
title: Lights
displays: [{name: main}]
dmx:
  nodes:
    - {name: stage-left, protocol: sacn, address: 127.0.0.1, universes: [1]}
    - {name: bar, protocol: artnet, address: 127.0.0.1, universes: [0]}
  fixture_types:
    par-rgbw: {channels: [dimmer, red, green, blue, white, "raw:strobe"]}
  fixtures:
    - {name: par-1, type: par-rgbw, universe: 1, address: 1}
    - {name: par-2, type: par-rgbw, universe: 1, address: 7}
    - {name: wash, channels: [dimmer, dimmer_fine, ct], universe: 0, address: 101}
  groups: {front: [par-1, par-2]}
  looks:
    stage: {front: {dimmer: 80, red: 100, white: 40}, wash: {dimmer: 60, ct: 30}}
    preshow: {all: {dimmer: 20}}
cues:
  - {type: light, look: preshow, fade: 2}
  - {type: group, cues: [{type: light, look: stage, fade: 3, curve: s_curve}]}
"""


def problems_of(text: str, resolve: bool = False) -> list[str]:
    with pytest.raises(ShowFileError) as caught:
        parse_show(text, "show.yaml", resolve_nodes=resolve)
    return [str(p) for p in caught.value.problems]


def changed(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def test_a_good_patch_loads_and_resolves_slots():
    show = parse_show(GOOD, "show.yaml")
    patch = build_patch(show.dmx, Path("."))
    assert patch.channels[("par-2", "dimmer")] == Channel(universe=1, slot=6)
    assert patch.channels[("par-2", "raw:strobe")] == Channel(universe=1, slot=11)
    assert patch.channels[("wash", "dimmer")] == Channel(universe=0, slot=100, fine=101)
    assert ("wash", "dimmer_fine") not in patch.channels
    # the specific over the general: par-1 is in `front`, and `all` reaches only fixtures with the parameter
    assert patch.targets(show.dmx.looks["stage"], {"par-1": {"dimmer": 50}})[("par-1", "dimmer")] == 0.5
    assert patch.targets(show.dmx.looks["stage"])[("par-2", "white")] == 0.4
    assert patch.targets({"all": {"dimmer": 20, "ct": 50}}) == {
        ("par-1", "dimmer"): 0.2, ("par-2", "dimmer"): 0.2, ("wash", "dimmer"): 0.2, ("wash", "ct"): 0.5}
    assert patch.targets({"par-1": {"raw:strobe": 255}}) == {("par-1", "raw:strobe"): 1.0}


@pytest.mark.parametrize("old, new, expected", [
    ("address: 7}", "address: 5}",
     "show.yaml:11:59: dmx.fixtures[1].address: slots 5-10 of universe 1 overlap par-1"),
    ("type: par-rgbw, universe: 1, address: 7", "type: parr, universe: 1, address: 7",
     "show.yaml:11:27: dmx.fixtures[1].type: no fixture type 'parr' (types: dct, dimmer, drgb, drgbw, par-rgbw, "
     "rgb, rgbw, rgbwa)"),
    ("address: 101}", "address: 511}",
     "show.yaml:12:79: dmx.fixtures[2].address: 3 channels from address 511 end at 513, past the universe's 512"),
    ("universes: [1]", "universes: [64000]",
     "show.yaml:5:74: dmx.nodes[0].universes[0]: universe 64000 is out of range for sacn (1-63999)"),
    ("universes: [0]", "universes: [32768]", "show.yaml:6:69: dmx.nodes[1].universes[0]: universe 32768 is out of "
     "range for artnet (0-32767)"),
    ("universes: [1]", "universes: [0]", "show.yaml:5:74: dmx.nodes[0].universes[0]: universe 0 is out of range "
     "for sacn (1-63999)"),
    ("universe: 0, address: 101", "universe: 2, address: 101",
     "show.yaml:12:67: dmx.fixtures[2].universe: no node sends universe 2 (the nodes carry [0, 1])"),
    ("wash: {dimmer: 60, ct: 30}", "wsh: {dimmer: 60, ct: 30}",
     "show.yaml:15:60: dmx.looks.stage.wsh: no fixture or group named 'wsh'"),
    ("white: 40}", "amber: 40}",
     "show.yaml:15:50: dmx.looks.stage.front.amber: par-1 and par-2 have no 'amber' (it has blue, dimmer, green, "
     "raw:strobe, red, white)"),
    ("ct: 30}", "ct: 130}", "show.yaml:15:78: dmx.looks.stage.wash.ct: level 130 is out of range (0-100)"),
    ("dimmer: 20}", "dimmer: -1}", "show.yaml:16:29: dmx.looks.preshow.all.dimmer: level -1 is out of range (0-100)"),
    ("fade: 2}", "fade: -2}", "show.yaml:18:40: cues[0].fade: Input should be greater than or equal to 0"),
    ("look: stage,", "look: stag,", "show.yaml:19:46: cues[1].cues[0].look: no look named 'stag' (looks: "
     "['preshow', 'stage'])"),
    ("[par-1, par-2]", "[par-1, par-9]", "show.yaml:13:27: dmx.groups.front[1]: no fixture named 'par-9'"),
    ("{name: bar,", "{name: stage-left,", "show.yaml:6:14: dmx.nodes[1].name: duplicate name 'stage-left'"),
    ("[dimmer, dimmer_fine, ct]", "[dimmer, dimmer, ct]",
     "show.yaml:12:30: dmx.fixtures[2].channels: a fixture carries each parameter once; repeated: dimmer"),
    ("[dimmer, dimmer_fine, ct]", "[dimmer, dimmr, ct]", "show.yaml:12:30: dmx.fixtures[2].channels: Value error, "
     "unknown channel 'dimmr'"),
    ("source: x", "", ""),
])
def test_each_bad_input_is_refused_where_it_is(old, new, expected):
    if old == "source: x":  # the node knows the limit of E1.31's source name field
        text = changed("universes: [1]}", "universes: [1], source_name: " + "é" * 32 + "}")
        assert any("source_name is at most 63 bytes" in p for p in problems_of(text))
        return
    found = problems_of(changed(old, new))
    assert any(p.startswith(expected) for p in found), found


def test_a_light_cue_needs_a_dmx_section():
    text = ("title: T\ndisplays: [{name: main}]\npanic: {lights: blackout}\n"
            "cues:\n  - {type: light, levels: {a: {dimmer: 1}}}\n")
    found = problems_of(text)
    assert "show.yaml:5:12: cues[0].type: a light cue needs a 'dmx:' section (nodes, fixtures, looks)" in found
    assert any(p.startswith("show.yaml:3:17: panic.lights: panic.lights: blackout needs") for p in found), found


def test_a_light_cue_sets_something():
    found = problems_of(changed("{type: light, look: preshow, fade: 2}", "{type: light, fade: 2}"))
    assert any("a light cue needs 'look'" in p and p.startswith("show.yaml:18:5: cues[0]") for p in found), found


def test_a_node_address_that_does_not_resolve_is_refused_by_check_only():
    text = changed("address: 127.0.0.1, universes: [1]", "address: node.invalid, universes: [1]")
    parse_show(text, "show.yaml")  # serve starts anyway and retries (a DNS hiccup must not keep the doors shut)
    found = problems_of(text, resolve=True)
    assert any(p.startswith("show.yaml:5:51: dmx.nodes[0].address: the node address 'node.invalid' does not "
                            "resolve") for p in found), found


def test_stage_check_reports_dmx_problems_and_exits_1(tmp_path):
    show = tmp_path / "lights.yaml"
    show.write_text(changed("address: 7}", "address: 5}"))
    result = subprocess.run([sys.executable, "-m", "stage", "check", str(show)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert f"{show}:11:59: dmx.fixtures[1].address: slots 5-10 of universe 1 overlap par-1" in result.stderr
    show.write_text(GOOD)
    result = subprocess.run([sys.executable, "-m", "stage", "check", str(show)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


OFL = Path(__file__).resolve().parents[1] / "shows" / "ofl"


def test_an_open_fixture_library_type_is_patched_and_its_problems_located(tmp_path):
    (tmp_path / "spot.json").write_bytes((OFL / "generic-spot.json").read_bytes())
    text = changed("    par-rgbw:", '    spot: {ofl: spot.json, mode: "16 bit"}\n    par-rgbw:')
    spot = "    - {name: spot-1, type: spot, universe: 1, address: 200}\n"
    text = text.replace("    - {name: wash,", spot + "    - {name: wash,")
    show = parse_show(text, str(tmp_path / "show.yaml"))
    patch = build_patch(show.dmx, tmp_path)
    assert patch.channels[("spot-1", "pan")].fine is not None
    with pytest.raises(ShowFileError) as caught:
        parse_show(text.replace('mode: "16 bit"', 'mode: "17 bit"'), str(tmp_path / "show.yaml"))
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"{tmp_path}/show.yaml:8:") and "dmx.fixture_types.spot.mode:" in p and "16 bit" in p
               for p in found), found
