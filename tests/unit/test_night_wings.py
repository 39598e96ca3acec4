"""The night split by wing: its SQL and audit writes live in records/, its adapters where they belong."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from typing import Any

import pytest

from stage.display import chosen
from stage.lighting.remote_control import RemoteControl
from stage.records import audit_log, participants, submissions
from stage.show.models import Prompt

STAGE = Path(__file__).parents[2] / "stage"
DOMAIN = ("night", "records", "show", "display", "lighting")
SERVER_SIDE = ("flask", "flask_socketio", "socketio", "engineio", "stage.realtime", "stage.web", "stage.server")


def test_a_file_a_record_points_at_is_in_use_and_another_is_not(store):
    author, _ = participants.join(store, uuid.uuid4().hex, "Author")
    prompt = Prompt(id="draw", text="Draw", kinds=("drawing",))
    submissions.submit_media(store, author.id, str(uuid.uuid4()), "drawing", "abc.png", prompt, (), ())
    assert submissions.media_in_use(store, "abc.png")
    assert not submissions.media_in_use(store, "other.png")


def test_every_osc_message_sent_is_one_audit_entry(store):
    audit_log.osc_sent(store, "desk", "/eos/key/go_0 ,i 1")
    [entry] = audit_log.entries(store, "osc_sent")
    assert (entry["actor"], entry["subject"], entry["detail"]) == ("osc", "desk", {"message": "/eos/key/go_0 ,i 1"})


def test_a_chosen_record_is_kept_per_record_scene_only(store):
    with store.transaction() as db:
        chosen.choose(db, "story", "r1")
    assert chosen.record_for(store, "story") == "r1"
    assert chosen.record_for(store, "image") is None
    assert chosen.record_for(store, "wall") is None  # a scene that shows no record


class Displays:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def set_scene(self, display: str, scene: str, actor: str, **kwargs: Any) -> dict[str, Any]:
        self.calls.append((display, scene, actor, kwargs))
        return {"type": scene}


def test_a_remote_scene_change_shows_the_chosen_record_as_the_osc_remote():
    displays = Displays()
    control = RemoteControl(engine=None, displays=displays, chosen_for={"story": "r7"}.get)  # type: ignore[arg-type]
    assert control.display_scene("main", "story") == "main: story"
    assert displays.calls == [("main", "story", "osc-remote", {"record": "r7"})]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_code_imports_nothing_of_flask_socketio_or_the_realtime_layer(package):
    for path in _modules(package):
        bad = {name for name in _imports(path) if name.split(".")[0] in SERVER_SIDE
               or any(name == s or name.startswith(s + ".") for s in SERVER_SIDE)}
        assert not bad, f"{path.relative_to(STAGE.parent)} imports {sorted(bad)}"


def _modules(package: str) -> list[Path]:
    """A package's files, or the single module of that name (stage/night.py before the split)."""
    files = sorted((STAGE / package).rglob("*.py")) + [p for p in [STAGE / f"{package}.py"] if p.exists()]
    assert files, package
    return files


@pytest.mark.parametrize("package", ("night", "lighting"))
def test_the_night_and_lighting_run_no_sql_and_write_no_audit_entries(package):
    for path in _modules(package):
        text = path.read_text()
        assert "execute(" not in text and ".audit(" not in text and "SELECT " not in text, path
