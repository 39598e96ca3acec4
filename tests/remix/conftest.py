"""A small real night for remix tests: phone records through the real protocol, takes from real MP4s.

Ada writes a story, Bea draws it (the drawing's source is the story), Cy and Dee volunteer and
perform it (two takes, stored as the capture server does: Sam was on camera for Cy's, nobody for
Dee's), and the moderator approves everything.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageDraw

from tests.peers import Peer, go
from tests.remix.takes import insert_take, make_take_file

STORY = "Tell no one about this cape. It only flies on Tuesdays, and only when nobody is looking."


@dataclass
class RemixNight:
    stage: object
    peers: object
    moderator: Peer
    phones: dict[str, Peer] = field(default_factory=dict)
    story: str = ""
    drawing: str = ""
    takes: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.stage.data_dir  # type: ignore[attr-defined]

    def approve(self, record_id: str) -> None:
        ack = self.moderator.call("moderate", {"id": record_id, "decision": "approve"})
        assert ack["ok"], ack

    def reject(self, record_id: str) -> None:
        assert self.moderator.call("moderate", {"id": record_id, "decision": "reject", "reason": "test"})["ok"]

    def write_story(self, phone: str, text: str) -> str:
        record_id = str(uuid.uuid4())
        ack = self.phones[phone].call("submit_story", {"id": record_id, "prompt": "cape", "text": text})
        assert ack["ok"], ack
        return record_id

    def draw(self, phone: str, source: str) -> str:
        """A drawing of ``source`` from ``phone``, uploaded as a phone uploads it; its record id."""
        response = requests.post(f"{self.stage.url}/api/uploads", data={  # type: ignore[attr-defined]
            "id": str(uuid.uuid4()), "kind": "drawing", "prompt": "cape", "device_key": self.phones[phone].device_key,
            "sources": source}, files={"file": ("cape.png", drawing_png())}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()["record"]["id"]

    def take(self, performer: str, tmp: Path, number: int, **kwargs) -> str:
        source = make_take_file(tmp / f"take-{number}.mp4", seconds=kwargs.pop("seconds", 4.0))
        phone = self.phones[performer]
        return insert_take(self.data / "stage.db", self.data / "media", source, self.story,
                           phone.participant["id"], number=number, performer=performer, **kwargs)


def drawing_png() -> bytes:
    image = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 60, 450, 360), fill=(200, 30, 60, 255))  # a red cape, more or less
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def remix_night(stage, peers, tmp_path) -> RemixNight:
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host), go(host)  # join, prompt open, wall
    night = RemixNight(stage, peers, moderator)
    for name in ("Ada", "Bea", "Cy", "Dee"):
        night.phones[name] = peers.phone(name)
    night.story = night.write_story("Ada", STORY)
    night.approve(night.story)
    night.drawing = night.draw("Bea", night.story)
    night.approve(night.drawing)
    consent = night.phones["Cy"].joined["consent"]["version"]
    for name in ("Cy", "Dee"):
        ack = night.phones[name].call("volunteer", {"consent_version": consent, "story": night.story})
        assert ack["ok"], ack
    night.takes = [night.take("Cy", tmp_path, 1, in_point=0.5, out_point=3.5, circled=True, operator="Sam"),
                   night.take("Dee", tmp_path, 2)]
    return night
