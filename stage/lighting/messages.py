"""The typed OSC message Stage sends, its encoding (python-osc) and its TCP framings.

An argument is a ``(type tag, value)`` pair. Stage sends the tags a show file may name:
``i`` int32, ``f`` float32, ``d`` float64, ``s`` string, ``T``/``F`` true/false (no payload) and ``b``
blob. Plain values in a show file are typed by their Python type (``bool`` -> ``T``/``F``, ``int`` ->
``i``, ``float`` -> ``f``, ``str`` -> ``s``); an explicit ``{type, value}`` picks the tag. A blob's value
in a show file is **base64 text** (YAML has no bytes), decoded strictly.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from typing import Literal

from pythonosc import slip
from pythonosc.osc_message_builder import BuildError, OscMessageBuilder

from stage.errors import StageError
from stage.show.models import OscArg

TYPE_TAGS = ("i", "f", "d", "s", "T", "F", "b")
Transport = Literal["udp", "tcp", "tcp-slip"]
INT32 = (-(2**31), 2**31 - 1)


class OscMessageError(StageError):
    """An OSC message or argument Stage refuses to build."""

    code = "osc_message"


@dataclass(frozen=True)
class OscMessage:
    """One OSC message: an address and typed arguments, e.g. ``(("i", 1), ("s", "wall"))``."""

    address: str
    args: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        if not self.address.startswith("/") or any(c.isspace() for c in self.address):
            raise OscMessageError(f"OSC address must start with '/' and hold no spaces: {self.address!r}")
        for tag, value in self.args:
            _check(tag, value)

    @property
    def type_tags(self) -> str:
        return "".join(tag for tag, _ in self.args)

    def encode(self) -> bytes:
        """The OSC 1.0 datagram, built by python-osc."""
        builder = OscMessageBuilder(address=self.address)
        for tag, value in self.args:
            builder.add_arg(value, tag)  # type: ignore[arg-type]
        try:
            return builder.build().dgram
        except BuildError as exc:
            raise OscMessageError(f"cannot encode {self}: {exc}") from exc

    def __str__(self) -> str:
        if not self.args:
            return self.address
        shown = " ".join(_show(tag, value) for tag, value in self.args)
        return f"{self.address} ,{self.type_tags} {shown}"


def message(address: str, *values: object) -> OscMessage:
    """A message from plain values typed by their Python type (see the module docstring)."""
    return OscMessage(address, tuple(typed_arg(v) for v in values))  # type: ignore[arg-type]


def typed_arg(arg: OscArg | int | float | str | bool) -> tuple[str, object]:
    """A show-file argument (plain value or ``OscArg``) as a ``(tag, value)`` pair."""
    if isinstance(arg, OscArg):
        return _explicit(arg.type, arg.value)
    if isinstance(arg, bool):  # before int: bool is an int in Python
        return ("T", True) if arg else ("F", False)
    if isinstance(arg, int):
        return ("i", arg)
    if isinstance(arg, float):
        return ("f", arg)
    if isinstance(arg, str):
        return ("s", arg)
    raise OscMessageError(f"cannot send {type(arg).__name__} {arg!r} as an OSC argument")


def frame(dgram: bytes, transport: Transport) -> bytes:
    """Frame a datagram for a stream: OSC 1.0 int32 length prefix (``tcp``) or OSC 1.1 SLIP (``tcp-slip``)."""
    if transport == "udp":
        return dgram
    if transport == "tcp":
        return struct.pack("!I", len(dgram)) + dgram
    if transport == "tcp-slip":
        return slip.encode(dgram)
    raise OscMessageError(f"unknown OSC transport {transport!r}")


def _explicit(tag: str, value: object) -> tuple[str, object]:
    if tag in ("T", "F"):
        if value not in (None, tag == "T"):
            raise OscMessageError(f"OSC type {tag} carries no value (got {value!r})")
        return tag, tag == "T"
    if tag == "i" and isinstance(value, float) and value.is_integer():
        value = int(value)
    elif tag in ("f", "d") and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif tag == "b" and isinstance(value, str):
        try:
            value = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise OscMessageError(f"blob value must be base64 text: {exc}") from exc
    _check(tag, value)
    return tag, value


def _check(tag: str, value: object) -> None:
    ok = {
        "i": isinstance(value, int) and not isinstance(value, bool) and INT32[0] <= value <= INT32[1],
        "f": isinstance(value, float),
        "d": isinstance(value, float),
        "s": isinstance(value, str),
        "T": value is True,
        "F": value is False,
        "b": isinstance(value, bytes),
    }.get(tag)
    if ok is None:
        raise OscMessageError(f"unsupported OSC type tag {tag!r} (use one of {', '.join(TYPE_TAGS)})")
    if not ok:
        raise OscMessageError(f"value {value!r} does not fit OSC type {tag!r}")


def _show(tag: str, value: object) -> str:
    if tag in ("T", "F"):
        return tag
    if tag == "s":
        return f'"{value}"'
    if tag == "b":
        return f"<{len(value)} bytes>"  # type: ignore[arg-type]
    return str(value)
