"""What every show-file model shares: frozen, and strict about fields (``extra="forbid"``).

Only fields that Stage acts on are accepted: a misspelt or not-yet-supported field is an error at
``stage check`` time, never a silent no-op at GO time.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"  # displays, prompts, rigs, OSC targets (stage.lighting.commands copies it)


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
