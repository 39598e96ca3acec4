"""The moderation panel offers "Show on <display>" for the kinds the server shows: the two lists stay alike."""

from __future__ import annotations

import json
import re
from pathlib import Path

from stage.display.board import RECORD_SCENES

MODERATION_JS = Path(__file__).resolve().parents[2] / "audience_web" / "static" / "js" / "moderation.js"


def test_the_console_offers_a_display_exactly_the_kinds_send_to_display_accepts():
    found = re.search(r"SHOWN_ON_DISPLAYS = new Set\((\[[^\]]*\])\)", MODERATION_JS.read_text())
    assert found, "moderation.js names the kinds it offers for a display in SHOWN_ON_DISPLAYS"
    offered = set(json.loads(found.group(1)))
    assert offered == {kind for kinds in RECORD_SCENES.values() for kind in kinds}
    assert "comment" not in offered  # the server refuses it (not_showable): never offered
