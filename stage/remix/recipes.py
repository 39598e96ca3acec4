"""Remix recipes and their checks: a recipe names records; :func:`resolve` turns it into a render plan.

Every record a recipe names must exist and be one lineage may show (approved, not withdrawn, not a
rehearsal phone's, not a take of a performer who withdrew consent). A take's in/out points must make
sense. Each refusal names the record and why, so the crew can pick another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from stage.errors import Conflict, InvalidInput, NotFound
from stage.records import lineage as lineage_module
from stage.records.lineage import Lineage, Node, Queryable
from stage.remix.plan import Clip, Plan, Still

RecordId = Annotated[str, Field(pattern=r"^[0-9a-fA-F-]{36}$")]
PICTURE_KINDS = ("drawing", "photo")


class _Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    resolution: Literal["720p", "1080p"] = "720p"


class Card(_Recipe):
    """A story beside a drawing or photo: a PNG and a short video of it."""

    recipe: Literal["card"]
    story: RecordId
    picture: RecordId
    seconds: float = Field(default=6.0, gt=0, le=30)


class CaptionedTake(_Recipe):
    """A take, trimmed to its in/out points, with the story it performs burned in as captions."""

    recipe: Literal["captioned-take"]
    take: RecordId


class Reel(_Recipe):
    """Several takes of one story, each after a title card naming the take and its performer."""

    recipe: Literal["reel"]
    takes: list[RecordId] = Field(min_length=1, max_length=12)
    title_seconds: float = Field(default=2.5, gt=0, le=10)


Recipe = Annotated[Union[Card, CaptionedTake, Reel], Field(discriminator="recipe")]
RECIPE = TypeAdapter(Recipe)


def parse(data: Any) -> Card | CaptionedTake | Reel:
    return RECIPE.validate_python(data)


def resolve(store: Queryable, recipe: Card | CaptionedTake | Reel, media_root: Path) -> tuple[Plan, list[str]]:
    """The plan to render and the records it uses (its sources), or a clear refusal."""
    lineage = lineage_module.load(store, include_withheld=True)
    shown = lineage_module.load(store)
    if isinstance(recipe, Card):
        story = _usable(lineage, shown, recipe.story, ("story",))
        picture = _usable(lineage, shown, recipe.picture, PICTURE_KINDS)
        role = "drawing" if picture.kind == "drawing" else "photo"
        credit = f"story by {story.author} · {role} by {picture.author}"
        still = Still(seconds=recipe.seconds, title=story.text or "", subtitle=credit,
                      picture=media_root / _media(picture))
        return Plan(recipe="card", resolution=recipe.resolution, segments=(still,), poster=True), [story.id, picture.id]
    if isinstance(recipe, CaptionedTake):
        take = _usable(lineage, shown, recipe.take, ("take",))
        story = _story_of(lineage, shown, take)
        clip = _clip(take, media_root, caption=story.text or "")
        return Plan(recipe="captioned-take", resolution=recipe.resolution, segments=(clip,)), [take.id, story.id]
    takes = [_usable(lineage, shown, take_id, ("take",)) for take_id in dict.fromkeys(recipe.takes)]
    story = _story_of(lineage, shown, takes[0])
    for take in takes[1:]:
        if _story_of(lineage, shown, take).id != story.id:
            raise InvalidInput(f"take {take.id} performs another story; a reel is renditions of one story",
                               code="mixed_stories")
    segments: list[Still | Clip] = [Still(seconds=recipe.title_seconds, title=story.text or "",
                                          subtitle=f"a story by {story.author}")]
    for take in takes:
        info = take.take or {}
        # Its people, as its credits name them: the performer, the camera operator if anyone was on camera.
        said = [f"performed by {info['performer']}" if info.get("performer") else "",
                f"filmed by {info['operator']}" if info.get("operator") else ""]
        segments.append(Still(seconds=recipe.title_seconds, title=f"Take {info.get('number', '')}",
                              subtitle=" · ".join(s for s in said if s)))
        segments.append(_clip(take, media_root, label=info.get("performer") or ""))
    plan = Plan(recipe="reel", resolution=recipe.resolution, segments=tuple(segments))
    return plan, [t.id for t in takes] + [story.id]


def _usable(lineage: Lineage, shown: Lineage, record_id: str, kinds: tuple[str, ...]) -> Node:
    node = lineage.nodes.get(record_id)
    if node is None:
        raise NotFound(f"there is no record {record_id}", code="unknown_record")
    if node.kind not in kinds:
        raise InvalidInput(f"record {record_id} is a {node.kind}; this needs a {' or '.join(kinds)}", code="wrong_kind")
    withheld = shown.nodes[record_id].withheld
    if withheld is not None:
        why = {"rejected": "was rejected", "withdrawn": "was withdrawn by its author", "pending": "is not approved yet",
               "consent_withdrawn": "is of a performer who withdrew consent", "deleted": "was deleted",
               "rehearsal": "was made in rehearsal"}.get(withheld, f"cannot be used ({withheld})")
        raise Conflict(f"the {node.kind} {record_id} {why}", code="not_usable")
    return node


def _story_of(lineage: Lineage, shown: Lineage, take: Node) -> Node:
    stories = [s for s in lineage.sources.get(take.id, ()) if lineage.nodes[s].kind == "story"]
    if not stories:
        raise InvalidInput(f"take {take.id} performs no story", code="no_story")
    return _usable(lineage, shown, stories[0], ("story",))


def _media(node: Node) -> str:
    if not node.media:
        raise InvalidInput(f"the {node.kind} {node.id} has no media file", code="no_media")
    return node.media


def _clip(take: Node, media_root: Path, caption: str = "", label: str = "") -> Clip:
    info = take.take or {}
    duration = info.get("duration")
    start = info.get("in_point") or 0.0
    end = info.get("out_point") if info.get("out_point") is not None else duration
    if end is None:
        raise InvalidInput(f"take {take.id} has no out point and no known duration", code="bad_trim")
    if start > end:
        raise InvalidInput(f"take {take.id} has its in point ({start:.2f}s) after its out point ({end:.2f}s)",
                           code="bad_trim")
    if duration is not None:
        end = min(end, duration)
    if end - start <= 0:
        raise InvalidInput(f"take {take.id} is trimmed to nothing", code="bad_trim")
    return Clip(path=media_root / _media(take), start=start, end=end, caption=caption, label=label)
