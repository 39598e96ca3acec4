"""Commands the agent accepts from the server, validated with one pydantic model each."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Uuid = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]


class Slate(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)  # the server may add fields; they are kept
    show: str = Field(default="", max_length=200)
    cue: str | None = Field(default=None, max_length=64)
    story_id: str | None = Field(default=None, max_length=64)
    story: str | None = Field(default=None, max_length=2000)
    performer_id: str | None = Field(default=None, max_length=64)
    performer: str | None = Field(default=None, max_length=200)
    take: int = Field(default=1, ge=0)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    take_id: Uuid
    slate: Slate


class Stop(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    take_id: Uuid | None = None
