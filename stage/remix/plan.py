"""A render plan: what the worker draws and encodes, resolved to files and text (no store, no ids to look up).

The server (or the ``render`` CLI) turns a recipe into a plan after checking every record in it;
the worker process gets only the plan, as JSON, so it never opens the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080)}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Still(_Model):
    """A card held on screen: a title (and subtitle), or a story beside a picture."""

    type: Literal["still"] = "still"
    seconds: float = Field(gt=0, le=60)
    title: str = ""
    subtitle: str = ""
    picture: Path | None = None  # a drawing or photo: then ``title`` is the story and ``subtitle`` the credit


class Clip(_Model):
    """A stretch of a take from ``start`` to ``end`` seconds, with optional burned-in captions."""

    type: Literal["clip"] = "clip"
    path: Path
    start: float = Field(ge=0)
    end: float = Field(gt=0)
    caption: str = ""  # the story, paged across the clip
    label: str = ""  # a short line (who performs) shown for the first seconds


Segment = Annotated[Union[Still, Clip], Field(discriminator="type")]


class Plan(_Model):
    recipe: Literal["card", "captioned-take", "reel"]
    resolution: Literal["720p", "1080p"] = "720p"
    fps: int = Field(default=30, ge=10, le=60)
    preset: str = Field(default="veryfast", pattern=r"^[a-z]+$")
    segments: tuple[Segment, ...] = Field(min_length=1)
    poster: bool = False  # also write the first still as a PNG (the card recipe's image)

    @property
    def size(self) -> tuple[int, int]:
        return RESOLUTIONS[self.resolution]

    @property
    def seconds(self) -> float:
        return sum(s.seconds if isinstance(s, Still) else s.end - s.start for s in self.segments)
