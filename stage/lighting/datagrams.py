"""Strict decoding of the OSC datagrams Stage receives (OSC in): all of a datagram, or nothing.

Why not python-osc's ``OscPacket`` (1.10.2, the newest release): its parser is lenient where OSC in
must not be. It drops a type tag it does not know with one ``logging.warning`` **on the root logger
per character** (``,`` + 16,000 ``x`` wrote 16,000 lines per datagram), so ``/stage/go ,x`` plus 4
data bytes parsed as an argument-less press and fired GO; it pads a truncated float with zeros,
ignores bytes after the last argument, never checks padding, and takes a negative blob size. The
warning has been in python-osc since 2017 (attwad/python-osc PR #42 kept it); no release raises
instead. So Stage decodes the few types it supports itself, with ``struct``, and refuses the whole
datagram on the first thing that is not exactly OSC 1.0. python-osc's parser never sees a received
datagram, so its warning cannot reach the log. The OSC 1.0 spec says the same: "an OSC application
should discard any message whose OSC Type Tag String contains any unrecognized OSC Type Tags".

Accepted: a message (``/address``, a ``,``-type tag string of ``i f d s T F b``, exactly the argument
bytes those tags describe, zero padding) or a bundle (``#bundle``, an 8-byte time tag, elements of a
positive multiple of 4 bytes) of at most ``MAX_MESSAGES`` messages nested at most ``MAX_DEPTH`` deep,
in at most ``MAX_DATAGRAM_BYTES``. A message with no type tag string at all has no arguments (OSC 1.0
asks receivers to accept that from old senders).
"""

from __future__ import annotations

import struct

from stage.errors import StageError
from stage.lighting.messages import TYPE_TAGS, OscMessage, OscMessageError

MAX_DATAGRAM_BYTES = 8192  # a remote's command is < 100 bytes, an Eos feedback line < 1 KiB
MAX_DEPTH = 4  # bundles in bundles
MAX_MESSAGES = 32  # per datagram: the rate limit counts datagrams, so a bundle must not hold a night of GOs
BUNDLE = b"#bundle\0"
SUPPORTED = frozenset(TYPE_TAGS)
FIXED = {"i": ">i", "f": ">f", "d": ">d"}


class DatagramError(StageError):
    """A received datagram that is not exactly an OSC 1.0 packet Stage supports; nothing of it runs."""

    code = "osc_datagram"


def decode(data: bytes) -> tuple[OscMessage, ...]:
    """Every message of the datagram, in order; ``DatagramError`` if any part of it is not valid."""
    if len(data) > MAX_DATAGRAM_BYTES:
        raise DatagramError(f"datagram of {len(data)} bytes is over {MAX_DATAGRAM_BYTES}")
    messages: list[OscMessage] = []
    _packet(data, 0, messages)
    return tuple(messages)


def _packet(data: bytes, depth: int, out: list[OscMessage]) -> None:
    if data.startswith(BUNDLE):
        _bundle(data, depth, out)
    elif data.startswith(b"/"):
        out.append(_message(data))
        if len(out) > MAX_MESSAGES:
            raise DatagramError(f"more than {MAX_MESSAGES} messages in one datagram")
    else:
        raise DatagramError("neither an OSC message ('/...') nor a bundle ('#bundle')")


def _bundle(data: bytes, depth: int, out: list[OscMessage]) -> None:
    if depth >= MAX_DEPTH:
        raise DatagramError(f"bundles nested more than {MAX_DEPTH} deep")
    index = len(BUNDLE) + 8  # the time tag is ignored: a bundle's messages run at once
    if len(data) < index:
        raise DatagramError("bundle without its time tag")
    while index < len(data):
        size, index = _fixed(data, index, "i")
        if not isinstance(size, int) or size <= 0 or size % 4 or index + size > len(data):
            raise DatagramError(f"bundle element size {size} does not fit the {len(data) - index} bytes left")
        _packet(data[index:index + size], depth + 1, out)
        index += size


def _message(data: bytes) -> OscMessage:
    address, index = _string(data, 0, "address")
    if not address.isprintable():
        raise DatagramError("address holds control characters")
    if index == len(data):
        return _build(address, ())
    tags, index = _string(data, index, "type tag string")
    if not tags.startswith(","):
        raise DatagramError(f"type tag string must start with ',' (address {address[:60]!r})")
    unsupported = next((tag for tag in tags[1:] if tag not in SUPPORTED), None)
    if unsupported is not None:
        raise DatagramError(f"unsupported OSC type tag {unsupported!r} (Stage takes {' '.join(TYPE_TAGS)}) "
                            f"in {address[:60]!r}")
    args = []
    for tag in tags[1:]:
        value, index = _value(data, index, tag)
        args.append((tag, value))
    if index != len(data):
        raise DatagramError(f"{len(data) - index} bytes after the arguments ,{tags[1:17]} describes")
    return _build(address, tuple(args))


def _build(address: str, args: tuple[tuple[str, object], ...]) -> OscMessage:
    try:
        return OscMessage(address, args)
    except OscMessageError as exc:
        raise DatagramError(exc.message) from exc


def _value(data: bytes, index: int, tag: str) -> tuple[object, int]:
    if tag in FIXED:
        return _fixed(data, index, tag)
    if tag == "s":
        return _string(data, index, "string argument")
    if tag == "b":
        return _blob(data, index)
    return tag == "T", index  # T and F carry no bytes


def _fixed(data: bytes, index: int, tag: str) -> tuple[int | float, int]:
    fmt = FIXED[tag]
    end = index + struct.calcsize(fmt)
    if end > len(data):
        raise DatagramError(f"truncated: ,{tag} needs {end - index} bytes, {len(data) - index} left")
    return struct.unpack(fmt, data[index:end])[0], end


def _string(data: bytes, index: int, what: str) -> tuple[str, int]:
    nul = data.find(b"\0", index)
    if nul < 0:
        raise DatagramError(f"{what} is not NUL-terminated")
    end = nul + 1 + (-(nul + 1 - index) % 4)
    if end > len(data) or data[nul:end].strip(b"\0"):
        raise DatagramError(f"{what} is not padded with NULs to 4 bytes")
    try:
        return data[index:nul].decode("utf-8"), end
    except UnicodeDecodeError as exc:
        raise DatagramError(f"{what} is not UTF-8 ({exc.reason})") from exc


def _blob(data: bytes, index: int) -> tuple[bytes, int]:
    size, index = _fixed(data, index, "i")
    assert isinstance(size, int)
    end = index + size + (-size % 4)
    if size < 0 or end > len(data) or data[index + size:end].strip(b"\0"):
        raise DatagramError(f"blob of {size} bytes does not fit the {len(data) - index} bytes left")
    return data[index:index + size], end
