"""Display state without a browser: media end actions, live scenes, heartbeats, the Wi-Fi QR text."""

from __future__ import annotations


import pytest

from stage.display.board import DisplayBoard
from stage.display.heartbeats import STALE_AFTER, Heartbeats
from stage.errors import CueError
from stage.show.loader import parse_show
from stage.show.models import Wifi
from stage.web.assets import wifi_uri

SHOW = """
title: Board test
displays: [{name: main}]
rigs: [{name: stage}]
cues: [{type: note}]
"""


@pytest.fixture
def board(store):
    changes: list[tuple[str, dict]] = []
    return DisplayBoard(parse_show(SHOW), store, lambda name, scene: changes.append((name, scene))), changes


def test_media_end_action_runs_once_and_only_for_its_own_showing(board):
    displays, changes = board
    first = displays.set_scene("main", "media", "host", record="r1", end="wall")
    assert displays.media_ended("main", "not-this-showing", "display:main") is None
    after = displays.media_ended("main", first["id"], "display:main")
    assert after["type"] == "wall" and displays.scene("main")["type"] == "wall"
    assert displays.media_ended("main", first["id"], "display:main") is None  # a second report changes nothing
    held = displays.set_scene("main", "media", "host", record="r1", end="hold")
    assert displays.media_ended("main", held["id"], "display:main") is None
    assert displays.scene("main")["id"] == held["id"]
    assert [scene["type"] for _, scene in changes] == ["media", "wall", "media"]


def test_live_scene_names_one_of_the_shows_rigs(board):
    displays, _ = board
    assert displays.set_scene("main", "live", "host", rig="stage")["rig"] == "stage"
    with pytest.raises(CueError, match="rig"):
        displays.set_scene("main", "live", "host", rig="nowhere")
    with pytest.raises(CueError, match="rig"):
        displays.set_scene("main", "live", "host")


def test_each_showing_gets_its_own_id(board):
    displays, _ = board
    assert displays.set_scene("main", "wall", "host")["id"] != displays.set_scene("main", "wall", "host")["id"]


def test_a_display_that_stops_beating_goes_stale():
    now = [100.0]
    beats = Heartbeats(clock=lambda: now[0])
    assert beats.stale("main") and beats.showing("main") is None
    beats.connected("main")
    assert not beats.stale("main")
    beats.beat("main", "wall", "abc")
    now[0] += STALE_AFTER - 0.5
    assert not beats.stale("main") and beats.showing("main") == "wall"
    now[0] += 1
    assert beats.stale("main")
    beats.connected("main")  # a reconnect is a sign of life and keeps what it last showed
    assert not beats.stale("main") and beats.showing("main") == "wall"


def test_wifi_qr_text_escapes_what_the_format_reserves():
    assert wifi_uri(Wifi(ssid="Venue;Guest", password='p:a,s"s\\')) == 'WIFI:T:WPA;S:Venue\\;Guest;P:p\\:a\\,s\\"s\\\\;;'
    assert wifi_uri(Wifi(ssid="Open", security="nopass", password="ignored")) == "WIFI:T:nopass;S:Open;;"
    assert wifi_uri(Wifi(ssid="Hidden", password="x", hidden=True)) == "WIFI:T:WPA;S:Hidden;P:x;H:true;;"
