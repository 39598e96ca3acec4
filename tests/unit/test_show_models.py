"""The show models are split (stage.show.cues, stage.show.models); importers of either keep working."""

from __future__ import annotations

import stage.show.cues as cues
import stage.show.models as models
from stage.show.models import Show


def test_every_cue_model_is_still_importable_from_stage_show_models():
    for name in ("Cue", "CueBase", "DisplayCue", "PromptCue", "OscArg", "OscCue", "RecordCue", "WaitCue",
                 "NoteCue", "StopCue", "GroupCue", "SCENES"):
        assert getattr(models, name) is getattr(cues, name), name
    assert set(models.__all__) <= set(vars(models))


def test_flat_cues_puts_groups_before_their_children_in_show_order():
    show = Show.model_validate({
        "title": "t", "displays": [{"name": "main"}],
        "cues": [{"type": "note"},
                 {"type": "group", "cues": [{"type": "note"},
                                            {"type": "group", "cues": [{"type": "wait", "seconds": 1}]}]},
                 {"type": "stop"}],
    })
    assert [c.id for c in show.flat_cues()] == ["1", "2", "2.1", "2.2", "2.2.1", "3"]
