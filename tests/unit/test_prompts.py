
import pytest

from stage.errors import InvalidInput
from stage.show import prompts as prompts_module
from stage.show.loader import parse_show
from stage.show.prompts import LATE_GRACE_SECONDS, PromptBoard

SHOW = parse_show("title: t\ndisplays: [{name: main}]\nprompts: [{id: cape, text: A cape}, {id: hat, text: A hat}]\n"
                  "cues: [{type: note}]\n")


def test_one_prompt_open_and_late_stories_within_the_grace(store, monkeypatch):
    changes = []
    board = PromptBoard(SHOW, store, changes.append)
    now = [5000.0]
    monkeypatch.setattr(prompts_module.time, "time", lambda: now[0])
    with pytest.raises(InvalidInput):
        board.require_open("cape")
    board.open("cape", "host")
    assert board.require_open("cape").id == "cape"
    with pytest.raises(InvalidInput):
        board.require_open("hat")
    board.close("cape", "host")
    assert changes[-1] is None and board.current is None
    now[0] += LATE_GRACE_SECONDS
    assert board.require_open("cape").id == "cape", "a story written before the close still counts"
    now[0] += 1
    with pytest.raises(InvalidInput) as info:
        board.require_open("cape")
    assert info.value.code == "prompt_closed"
    store.close()


def test_media_flags_mark_long_clips_and_large_uploads():
    from stage.night.audience import media_flags

    assert media_flags({"duration": 12.0}, 2_000_000) == ()
    assert media_flags({"duration": 45.2}, 12_500_000) == ("long clip: 45 s", "large upload: 12 MB")
    assert media_flags({"width": 800}, 100) == ()
