"""One pydantic model per incoming event: the boundary where payloads are validated."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from stage.records.submissions import MAX_SOURCES, sources_problem
from stage.remix.recipes import Recipe

Uuid = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]


def _sources_rule(sources: list[str]) -> list[str]:
    problem = sources_problem(sources)  # the same rule as uploads (stage/records/submissions.py)
    if problem is not None:
        raise ValueError(problem)
    return sources


Sources = Annotated[list[Uuid], Field(max_length=MAX_SOURCES), AfterValidator(_sources_rule)]
DeviceKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{16,128}$")]


class Payload(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Empty(Payload):
    """Events that take no arguments (go, back, stop, panic) still refuse anything else."""


class Join(Payload):
    device_key: DeviceKey
    name: str = Field(max_length=200)
    simulated: bool = False  # a rehearsal phone (stage rehearse): kept out of credits, removed by cleanup
    rehearsal: str | None = Field(default=None, max_length=64)  # the host's rehearsal token: no per-address cap


class SubmitStory(Payload):
    id: Uuid
    prompt: str = Field(max_length=40)
    text: str = Field(max_length=10_000)
    sources: Sources = []  # a remix: the records it was made from


class SubmitComment(Payload):
    id: Uuid
    on: Uuid
    text: str = Field(max_length=2_000)


class Feed(Payload):
    order: Literal["newest", "top"] = "newest"
    limit: int = Field(default=30, ge=1, le=100)


class Recommend(Payload):
    id: Uuid
    on: bool = True


class Withdraw(Payload):
    id: Uuid


class Volunteer(Payload):
    consent_version: str = Field(max_length=40)
    story: Uuid | None = None


class Moderate(Payload):
    id: Uuid
    decision: Literal["approve", "reject", "hide"]
    reason: str | None = Field(default=None, max_length=200)


class DisplayAuth(Payload):
    name: str = Field(max_length=40)
    key: str = Field(max_length=64)


class CaptureAuth(Payload):
    token: str = Field(max_length=200)
    rig: str = Field(max_length=40)


class Ban(Payload):
    participant: Uuid


class Jump(Payload):
    cue: str = Field(max_length=32)


class GrandMaster(Payload):
    """The host console's grand master for Stage's own DMX: 0-100 % of every intensity."""

    level: float = Field(ge=0, le=100, allow_inf_nan=False)


class SendToDisplay(Payload):
    display: str = Field(max_length=40)
    record: Uuid


class AuditQuery(Payload):
    action: str | None = Field(default=None, max_length=40)
    limit: int = Field(default=200, ge=1, le=1000)


class DisplayProblem(Payload):
    message: str = Field(max_length=300)


class DisplayHeartbeat(Payload):
    scene: str = Field(max_length=20)  # the scene the page shows now
    scene_id: str | None = Field(default=None, max_length=40)


class MediaEnded(Payload):
    scene_id: str = Field(max_length=40)


# -- /crew: rigs and takes
class RigName(Payload):
    rig: str = Field(max_length=40)


class SetOperator(Payload):
    rig: str = Field(max_length=40)
    operator: str | None = Field(default=None, max_length=40)  # the camera operator's name; blank or null: nobody


class WatchPreview(Payload):
    rig: str = Field(max_length=40)
    on: bool = True


class TakeId(Payload):
    id: Uuid


class Circle(Payload):
    id: Uuid
    circled: bool = True


class Trim(Payload):
    id: Uuid
    in_point: float | int | None = Field(default=None, ge=0)
    out_point: float | int | None = Field(default=None, ge=0)


# -- /crew: remixes
class RemixRender(Payload):
    model_config = Payload.model_config | {"strict": False}  # the recipe union validates itself
    recipe: Recipe


class RemixJob(Payload):
    job: Uuid


class RemixSubmit(Payload):
    job: Uuid
    approve: bool = False  # only when the show has remix.crew_approves_own


class LineageQuery(Payload):
    id: Uuid


class RemixSources(Payload):
    limit: int = Field(default=200, ge=1, le=1000)


# -- /crew: the night's book (stage/book/)

StillAt = Annotated[float, Field(ge=0, le=24 * 3600)]


class BookSettings(Payload):
    title: str | None = Field(default=None, max_length=120)
    foreword: str | None = Field(default=None, max_length=1200)  # what the title page holds under the title
    size_mm: float | None = Field(default=None, ge=76, le=305)  # 3 in to 12 in square
    margin_mm: float | None = Field(default=None, ge=5, le=40)
    bleed_mm: float | None = Field(default=None, ge=0, le=10)


class BookCover(Payload):
    record: Uuid | None = None
    at: StillAt | None = None


class BookPage(Payload):
    story: Uuid | None = None
    picture: Uuid | None = None
    at: StillAt | None = None  # the second of a still from a take or a clip
    index: int | None = Field(default=None, ge=0, le=1000)  # where it goes (unset: the end)


class BookPageUpdate(Payload):
    page: Uuid
    story: Uuid | None = None
    picture: Uuid | None = None
    at: StillAt | None = None


class BookPageRef(Payload):
    page: Uuid


class BookMove(Payload):
    page: Uuid
    index: int = Field(ge=0, le=1000)


# -- /capture: agents

MAX_PREVIEW_BYTES = 256 * 1024  # a 640 px JPEG is ~30-60 KiB; anything far bigger is not a preview


class Health(BaseModel):
    # Fields an agent adds beyond the contract are dropped, not refused: a newer agent still reports.
    model_config = ConfigDict(extra="ignore", frozen=True)
    recording: bool
    take_id: Uuid | None = None
    seconds: float = Field(default=0, ge=0)
    fps_in: float = Field(default=0, ge=0)
    fps_out: float = Field(default=0, ge=0)
    dropped: int = Field(default=0, ge=0)
    overflows: int = Field(default=0, ge=0)
    audio_db: float | None = None
    disk_free: int | None = Field(default=None, ge=0)
    camera: str = Field(default="", max_length=200)
    microphone: str = Field(default="", max_length=200)
    error: str | None = Field(default=None, max_length=300)


class TakeState(Payload):
    model_config = ConfigDict(strict=False, extra="forbid", frozen=True)
    take_id: Uuid
    state: Literal["recording", "stopped", "failed", "uploaded"]
    reason: str | None = Field(default=None, max_length=300)


class Preview(Payload):
    jpeg: bytes = Field(min_length=4, max_length=MAX_PREVIEW_BYTES)
