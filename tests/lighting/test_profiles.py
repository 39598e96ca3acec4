"""Console profiles and typed arguments, checked against liblo's oscdump as the receiving console."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stage.lighting.messages import OscMessage, OscMessageError, message
from stage.lighting.profiles import ProfileError, messages_for
from stage.lighting.sender import OscSender
from stage.show.models import OscArg, OscCue, OscTarget
from tests.lighting.osc_peers import OscDump


def cue(**fields: Any) -> OscCue:
    return OscCue.model_validate({"id": "7", "type": "osc", "target": "desk", **fields})


def desk(port: int, profile: str = "generic") -> OscTarget:
    return OscTarget(name="desk", host="127.0.0.1", port=port, profile=profile)  # type: ignore[arg-type]


# (profile, cue fields, what oscdump prints: "<address> <tags> <args>")
EXPRESSIBLE = [
    ("eos", {"intent": "go"}, ["/eos/key/go_0"]),
    ("eos", {"intent": "fire_cue", "list": 1, "cue": "12"}, ["/eos/cue/1/12/fire"]),
    ("eos", {"intent": "fire_cue", "cue": "4.5"}, ["/eos/cue/4.5/fire"]),
    ("eos", {"intent": "blackout"}, ['/eos/newcmd s "Go_To_Cue Out#"']),
    ("eos", {"intent": "release"}, ['/eos/newcmd s "Go_To_Cue 0#"']),
    ("eos", {"intent": "panic"}, ["/eos/key/stop_back"]),
    ("ma3", {"intent": "go", "list": 3}, ['/gma3/cmd s "Go+ Sequence 3"']),
    ("ma3", {"intent": "go"}, ['/gma3/cmd s "Go+"']),
    ("ma3", {"intent": "fire_cue", "list": 3, "cue": "5"}, ['/gma3/cmd s "Goto Sequence 3 Cue 5"']),
    ("ma3", {"intent": "release", "list": 3}, ['/gma3/cmd s "Off Sequence 3"']),
    ("qlab", {"intent": "go"}, ["/go"]),
    ("qlab", {"intent": "fire_cue", "cue": "12"}, ["/cue/12/start"]),
    ("qlab", {"intent": "panic"}, ["/panic"]),
    ("generic", {"intent": "go"}, ["/stage/go"]),
    ("generic", {"intent": "fire_cue", "cue": "5"}, ["/stage/cue/5/fire"]),
    ("generic", {"intent": "fire_cue", "list": 2, "cue": "5"}, ["/stage/cue/2/5/fire"]),
    ("generic", {"intent": "blackout"}, ["/stage/blackout"]),
    ("generic", {"intent": "release"}, ["/stage/release"]),
    ("generic", {"intent": "panic"}, ["/stage/panic"]),
    ("qlcplus", {"intent": "go"}, ["/stage/go f 1.000000", "/stage/go f 0.000000"]),
    ("qlcplus", {"intent": "fire_cue", "cue": "3"}, ["/stage/cue/3/fire f 1.000000", "/stage/cue/3/fire f 0.000000"]),
    ("qlcplus", {"intent": "blackout"}, ["/stage/blackout f 1.000000", "/stage/blackout f 0.000000"]),
    ("qlcplus", {"intent": "panic"}, ["/stage/panic f 1.000000", "/stage/panic f 0.000000"]),
]


@pytest.mark.parametrize(("profile", "fields", "printed"), EXPRESSIBLE,
                         ids=[f"{p}-{f['intent']}-{i}" for i, (p, f, _) in enumerate(EXPRESSIBLE)])
def test_intent_reaches_the_console_as_its_profile_says(
        profile: str, fields: dict[str, Any], printed: list[str], oscdump: OscDump,
        make_sender: Callable[..., OscSender]) -> None:
    sender = make_sender(desk(oscdump.port, profile))
    sent = sender.send_cue(cue(**fields))
    assert oscdump.take(len(printed)) == printed
    assert len(sent) == len(printed)


def test_raw_typed_arguments_arrive_with_their_type_tags(oscdump: OscDump,
                                                        make_sender: Callable[..., OscSender]) -> None:
    sender = make_sender(desk(oscdump.port, "eos"))  # a raw cue ignores the profile
    raw = cue(address="/x", args=[1, 0.5, "a", True, False, OscArg(type="d", value=1.5),
                                  OscArg(type="i", value=7), OscArg(type="f", value=2), OscArg(type="T"),
                                  OscArg(type="s", value="two words"), OscArg(type="b", value="AQI=")])
    sender.send_cue(raw)
    assert oscdump.next() == '/x ifsTFdifTsb 1 0.500000 "a" #T #F 1.500000 7 2.000000 #T "two words" [2b 0x1 0x2]'


def test_messages_built_in_code_arrive_typed(oscdump: OscDump, make_sender: Callable[..., OscSender]) -> None:
    sender = make_sender(desk(oscdump.port))
    sender.send("desk", [message("/show/time", 3), OscMessage("/show/clock", (("d", 0.25), ("s", "x")))])
    assert oscdump.take(2) == ["/show/time i 3", '/show/clock ds 0.250000 "x"']


@pytest.mark.parametrize(("profile", "fields"), [
    ("ma3", {"intent": "blackout"}),
    ("ma3", {"intent": "panic"}),
    ("ma3", {"intent": "release"}),  # needs the sequence
    ("qlab", {"intent": "blackout"}),
    ("qlab", {"intent": "release"}),
    ("qlab", {"intent": "fire_cue", "list": 1, "cue": "3"}),
])
def test_an_intent_the_profile_cannot_express_names_profile_and_intent(profile: str, fields: dict[str, Any]) -> None:
    with pytest.raises(ProfileError) as caught:
        messages_for(cue(**fields), desk(9, profile))
    assert f"'{profile}'" in caught.value.message
    assert fields["intent"] in caught.value.message or "list" in caught.value.message


def test_fire_cue_needs_a_cue_number_that_fits_an_address() -> None:
    with pytest.raises(ProfileError, match="needs 'cue'"):
        messages_for(cue(intent="fire_cue", list=1), desk(9, "eos"))
    with pytest.raises(ProfileError, match="cannot go into an OSC address"):
        messages_for(cue(intent="fire_cue", cue="1/2"), desk(9, "eos"))


def test_ma3_prefix_is_configurable() -> None:
    [msg] = messages_for(cue(intent="go", list=2), desk(9, "ma3"), ma3_prefix="")
    assert (msg.address, msg.args) == ("/cmd", (("s", "Go+ Sequence 2"),))


@pytest.mark.parametrize("arg", [
    OscArg(type="i", value="3"),
    OscArg(type="i", value=2**31),
    OscArg(type="s", value=3),
    OscArg(type="b", value="not base64!"),
    OscArg(type="T", value=False),
    OscArg(type="f", value="x"),
])
def test_an_argument_that_does_not_fit_its_type_is_refused(arg: OscArg) -> None:
    with pytest.raises(OscMessageError):
        messages_for(cue(address="/x", args=[arg]), desk(9))


def test_an_address_with_spaces_is_refused() -> None:
    with pytest.raises(OscMessageError):
        OscMessage("/two words")
