"""Hypothesis fuzz of every event payload model: random JSON and mutations of a valid payload.

Models are enumerated from stage/realtime/payloads.py, so a model added there is fuzzed too (and
must get a valid example in VALID, or test_every_model_has_a_valid_example fails).
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, get_type_hints

import pytest
from flask import Flask, request
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from stage.realtime import payloads
from stage.realtime.audience import AudienceNamespace
from stage.realtime.base import handler

MODELS = sorted((m for m in vars(payloads).values()
                 if isinstance(m, type) and issubclass(m, payloads.Payload) and m is not payloads.Payload),
                key=lambda m: m.__name__)
ID = "0b5e8f3c-8a6e-4a58-9d55-0d8f4b1c2a77"
VALID: dict[str, dict[str, Any]] = {
    "Empty": {},
    "Join": {"device_key": "k" * 32, "name": "Ada"},
    "SubmitStory": {"id": ID, "prompt": "cape", "text": "A cape.", "sources": []},
    "SubmitComment": {"id": ID, "on": ID, "text": "Nice."},
    "Feed": {"order": "top", "limit": 5},
    "Recommend": {"id": ID, "on": True},
    "Withdraw": {"id": ID},
    "Volunteer": {"consent_version": "1", "story": ID},
    "SetOperator": {"rig": "stage", "operator": "Sam"},
    "Moderate": {"id": ID, "decision": "approve", "reason": None},
    "DisplayAuth": {"name": "main", "key": "k" * 24},
    "CaptureAuth": {"token": "t", "rig": "stage-left"},
    "Ban": {"participant": ID},
    "Jump": {"cue": "3"},
    "GrandMaster": {"level": 50},
    "SendToDisplay": {"display": "main", "record": ID},
    "AuditQuery": {"action": None, "limit": 10},
    "DisplayProblem": {"message": "the video stalled"},
    "DisplayHeartbeat": {"scene": "wall", "scene_id": "s1"},
    "MediaEnded": {"scene_id": "s1"},
    "RigName": {"rig": "stage"},
    "WatchPreview": {"rig": "stage", "on": True},
    "TakeId": {"id": ID},
    "Circle": {"id": ID, "circled": True},
    "Trim": {"id": ID, "in_point": 1.5, "out_point": 4},
    "RemixRender": {"recipe": {"recipe": "card", "story": ID, "picture": ID}},
    "RemixJob": {"job": ID},
    "RemixSubmit": {"job": ID, "approve": False},
    "LineageQuery": {"id": ID},
    "RemixSources": {"limit": 50},
    "BookSettings": {"title": "The Cape Book", "foreword": "Made tonight.", "size_mm": 127, "margin_mm": 12.5,
                     "bleed_mm": 3},
    "BookCover": {"record": ID, "at": 1.5},
    "BookPage": {"story": ID, "picture": ID, "at": 0.5, "index": 0},
    "BookPageUpdate": {"page": ID, "story": None, "picture": ID, "at": 2},
    "BookPageRef": {"page": ID},
    "BookMove": {"page": ID, "index": 3},
    "TakeState": {"take_id": ID, "state": "stopped", "reason": None},
    "Preview": {"jpeg": b"\xff\xd8\xff\xe0" + b"0" * 100},
}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
           | st.sampled_from(["", ID, ID.upper(), "\u200b\u200c\u200d\ufeff\u2060", "a" * 20_000, "cape", "-1"]))
# Texts an attacker tries on every text field: invisible-only, joiners inside real text, whitespace.
TRICKY = ["\u200b\u200c\u200d\ufeff\u2060", " \u200b\n\u2060 ", "\u3164", "👨\u200d👩\u200d👧", "Ada\u200f", "\t"]
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=6)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=15)


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any], id_pool: list[str] | None = None) -> Any:
    """A valid payload with a few keys dropped, added or given another value (or an id from id_pool)."""
    payload = dict(valid)
    for _ in range(draw(st.integers(1, 3))):
        # Weighted toward near-valid payloads, which get past validation into the use cases.
        action = draw(st.sampled_from(["drop", "value", "text", "text", "id", "ids", "ids", "fresh", "fresh"]))
        # Unknown keys only get random values; hostile texts and ids go to the model's own fields.
        key = draw(st.sampled_from(list(valid) + ["extra", "pad"] if action == "value" or not valid else list(valid)))
        if action == "drop":
            payload.pop(key, None)
        elif action == "text":
            payload[key] = draw(st.sampled_from(TRICKY))
        elif action == "value" or not id_pool:
            payload[key] = draw(json_values)
        elif action == "fresh":
            payload[key] = str(draw(st.uuids()))
        elif action == "id":
            payload[key] = draw(st.sampled_from(id_pool))
        else:
            payload[key] = draw(st.lists(st.sampled_from(id_pool), max_size=5))
    return payload


def outcome(model: type[BaseModel], value: Any) -> BaseModel | None:
    """The validated model, or None when refused: anything but ValidationError escapes (a failure)."""
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def test_every_model_has_a_valid_example():
    assert len(MODELS) >= 15 and {m.__name__ for m in MODELS} == set(VALID)
    for model in MODELS:
        assert outcome(model, VALID[model.__name__]) is not None, model.__name__


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@FUZZ
@given(data=st.data())
def test_random_and_mutated_payloads_validate_or_raise_validation_error(model, data):
    outcome(model, data.draw(json_values))
    outcome(model, data.draw(st.dictionaries(st.sampled_from([*model.model_fields, "x"]), json_values)))
    outcome(model, data.draw(mutated(VALID[model.__name__])))


_app = Flask(__name__)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@FUZZ
@given(data=st.data())
def test_the_handler_answers_every_invalid_payload_with_the_documented_ack(model, data):
    value = data.draw(json_values | mutated(VALID[model.__name__]))
    seen: list[BaseModel] = []

    @handler(model)
    def on_fuzzed(_self: Any, payload: BaseModel) -> dict[str, Any]:
        seen.append(payload)
        return {"echo": True}

    with _app.test_request_context():
        request.sid = "fuzz-sid"  # type: ignore[attr-defined]  # what Flask-SocketIO sets on its requests
        ack = on_fuzzed(SimpleNamespace(namespace="/fuzz"), value)
    expected = outcome(model, value)
    if expected is None:
        assert seen == [] and ack["ok"] is False and ack["error"]["code"] == "invalid_payload"
        assert set(ack["error"]) == {"code", "message"} and ack["error"]["message"], ack
    else:
        assert seen == [expected] and ack == {"ok": True, "echo": True}


# -- a refused event changes no state: the real audience namespace over a real Store -----------------

def _payload_model(method: Any) -> type[BaseModel]:
    """The model a ``@handler`` method validates with: the annotation of its one argument."""
    hints = get_type_hints(method.__wrapped__)
    return next(hint for name, hint in hints.items() if name != "return")


AUDIENCE_EVENTS = {name.removeprefix("on_"): _payload_model(getattr(AudienceNamespace, name))
                   for name in dir(AudienceNamespace)
                   if name.startswith("on_") and hasattr(getattr(AudienceNamespace, name), "__wrapped__")}


@pytest.fixture(scope="module")
def audience(tmp_path_factory):
    """An in-process app with an approved and a pending story: no OSC-in port, no local rigs, and gevent
    mode without monkey-patching (nothing is served; "threading" would import eventlet's transport guard)."""
    from stage.server import create_app
    from stage.settings import Settings
    from tests.conftest import demo_show

    tmp = tmp_path_factory.mktemp("fuzz")
    show = demo_show(tmp)  # every example joins from the test client's one address: lift the per-address cap
    show.write_text(show.read_text().replace("\ndisplays:", "\nlimits:\n  joins_per_address: 1000000\n\ndisplays:", 1))
    settings_ = Settings(show_path=show, data_dir=tmp / "data", bind="127.0.0.1", async_mode="gevent",
                         local_rigs=False, osc_dry_run=True, osc_port=None)
    app, socketio = create_app(settings_)
    night = app.extensions["stage.night"]
    night.prompts.open("cape", "fuzz")
    author = night.audience.join(uuid.uuid4().hex, "Author")
    approved = night.audience.submit_story(author.id, "cape", str(uuid.uuid4()), "On the wall.")
    night.moderation.decide(approved.id, "approve", "fuzz")
    pending = night.audience.submit_story(author.id, "cape", str(uuid.uuid4()), "Not yet.")
    yield SimpleNamespace(app=app, socketio=socketio, data=settings_.data_dir,
                          ids=dict(zip(ID_POOL, [approved.id, pending.id, author.id, str(uuid.uuid4())])))
    # The store stays open: a debounced counts broadcast may still read it after the last example.


DOCUMENTED_CODES = set(re.findall(r"`([a-z_]+)`", (Path(__file__).parents[2] / "docs" / "protocol.md").read_text()))


def looks_blank(text: str | None) -> bool:
    return text is not None and all(unicodedata.category(c)[0] in "CZ" for c in text)


def snapshot(data_dir: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Every row of every table, and every file in media/."""
    with sqlite3.connect(data_dir / "stage.db") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = {table: sorted(map(repr, db.execute(f'SELECT * FROM "{table}"'))) for table in tables}
    return rows, sorted(p.name for p in (data_dir / "media").iterdir())


def test_every_audience_event_is_fuzzed():
    expected = {"join", "submit_story", "submit_comment", "feed", "recommend", "withdraw", "volunteer"}
    assert expected <= set(AUDIENCE_EVENTS)


ID_POOL = ["@approved", "@pending", "@participant", "@unknown"]  # resolved against the fixture's records


def resolve(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    return value


audience_cases = st.sampled_from(sorted(AUDIENCE_EVENTS)).flatmap(
    lambda event: st.tuples(st.just(event), st.one_of(json_values, *[mutated(VALID[AUDIENCE_EVENTS[event].__name__],
                                                                            ID_POOL)] * 3)))


@settings(max_examples=120, deadline=None)
@given(joined=st.booleans(), case=audience_cases)
@example(joined=False, case=("join", {"device_key": "z" * 32, "name": TRICKY[0]}))  # finding 11
@example(joined=True, case=("submit_story", {"id": ID, "prompt": "cape", "text": TRICKY[1]}))  # finding 11
@example(joined=True, case=("submit_story", {"id": ID, "prompt": "cape", "text": "x",
                                             "sources": ["@approved", "@approved"]}))  # finding 11
def test_a_refused_audience_event_changes_no_state(audience, joined, case):
    event, payload = case[0], resolve(case[1], audience.ids)
    client = audience.socketio.test_client(audience.app, namespace="/audience")
    try:
        if joined:  # half the examples come from a joined phone
            ack = client.emit("join", {"device_key": uuid.uuid4().hex, "name": "Fuzz"}, namespace="/audience",
                              callback=True)
            assert ack["ok"], ack
        before = snapshot(audience.data)
        ack = client.emit(event, payload, namespace="/audience", callback=True)
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        if not ack["ok"]:
            assert ack["error"]["code"] in DOCUMENTED_CODES - {"internal"} and ack["error"]["message"], ack
            assert snapshot(audience.data) == before, f"{event} {payload!r} was refused but changed state"
        with sqlite3.connect(audience.data / "stage.db") as db:  # nothing accepted looks blank on a screen
            texts = db.execute("SELECT name FROM participants UNION ALL SELECT text FROM records").fetchall()
        assert not any(looks_blank(text) for (text,) in texts), f"{event} {payload!r} stored a blank text"
    finally:
        client.disconnect(namespace="/audience")
