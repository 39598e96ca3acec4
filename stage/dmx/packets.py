"""The two DMX-over-IP packets Stage sends: an E1.31 (sACN) data packet and an Art-Net ArtDmx packet.

Each stream (one node, one universe) keeps one preformatted packet and patches only its sequence number,
options and 512 data bytes per frame: 0.31 µs a frame, where the ``sacn`` package's ``DataPacket`` takes
58 µs (docs/plans/issue-21-dmx.md §3). The ``sacn`` package is used only by the tests, as an independent
decoder. Every frame carries all 512 slots with start code 0 (null start code: dimmer data).
"""

from __future__ import annotations

import struct

SLOTS = 512

# E1.31-2016 data packet: root layer (ACN), framing layer, DMP layer, then the start code and 512 slots.
E131_SIZE = 638
ACN_IDENTIFIER = b"ASC-E1.17\x00\x00\x00"
VECTOR_ROOT_E131_DATA = 0x00000004
VECTOR_E131_DATA_PACKET = 0x00000002
VECTOR_DMP_SET_PROPERTY = 0x02
STREAM_TERMINATED = 0x40  # options bit 6: the source stops sending this universe (§6.2.6)
_E131_SEQUENCE, _E131_OPTIONS, _E131_DATA = 111, 112, 126

# Art-Net 4 ArtDmx: ID, OpCode (little-endian), ProtVer (big-endian), Sequence, Physical, SubUni, Net, Length.
ARTDMX_SIZE = 18 + SLOTS
ARTNET_ID = b"Art-Net\x00"
OP_DMX = 0x5000
PROTOCOL_VERSION = 14
_ARTDMX_SEQUENCE, _ARTDMX_DATA = 12, 18

SOURCE_NAME_BYTES = 63  # the 64-byte field keeps a NUL


def flags_and_length(length: int) -> bytes:
    """An ACN PDU's first two bytes: flags 0x7 in the top nibble, the PDU's length in the low 12 bits."""
    return struct.pack("!H", 0x7000 | (length & 0x0FFF))


def fit_source_name(name: str) -> str:
    """``name`` cut to 63 bytes of UTF-8 on a character boundary (a cut multi-byte character is dropped)."""
    return name.encode("utf-8")[:SOURCE_NAME_BYTES].decode("utf-8", errors="ignore")


def multicast_group(universe: int) -> str:
    """The sACN multicast address of a universe (E1.31 §9.3.1): 239.255.<high byte>.<low byte>."""
    return f"239.255.{(universe >> 8) & 0xFF}.{universe & 0xFF}"


def port_address(universe: int) -> tuple[int, int]:
    """Art-Net's 15-bit Port-Address split into (SubUni, Net): the low byte, then the top 7 bits."""
    return universe & 0xFF, (universe >> 8) & 0x7F


class E131Packet:
    """One universe's E1.31 data packet from one source (CID), kept formatted between frames."""

    def __init__(self, universe: int, cid: bytes, source_name: str, priority: int = 100) -> None:
        if len(cid) != 16:
            raise ValueError(f"an E1.31 CID is 16 bytes (a UUID), not {len(cid)}")
        if not 1 <= universe <= 63999:
            raise ValueError(f"sACN universes are 1-63999, not {universe}")
        if not 0 <= priority <= 200:
            raise ValueError(f"sACN priority is 0-200, not {priority}")
        name = fit_source_name(source_name).encode("utf-8")
        self.universe = universe
        self.sequence = 0  # of the next frame; receivers expect it to count up by one, wrapping at 255
        buf = bytearray(E131_SIZE)
        # Root layer: preamble size 16, postamble size 0, the ACN packet identifier.
        buf[0:16] = struct.pack("!HH", 0x0010, 0x0000) + ACN_IDENTIFIER
        buf[16:22] = flags_and_length(E131_SIZE - 16) + struct.pack("!I", VECTOR_ROOT_E131_DATA)
        buf[22:38] = cid
        # Framing layer: source name (NUL padded), priority, synchronization address 0 (none), sequence,
        # options, universe.
        buf[38:44] = flags_and_length(E131_SIZE - 38) + struct.pack("!I", VECTOR_E131_DATA_PACKET)
        buf[44:108] = name.ljust(64, b"\x00")
        buf[108] = priority
        buf[109:111] = b"\x00\x00"
        buf[113:115] = struct.pack("!H", universe)
        # DMP layer: set property, address and data type 0xa1, first address 0, increment 1, 513 values
        # (start code + 512 slots), start code 0.
        buf[115:117] = flags_and_length(E131_SIZE - 115)
        buf[117:125] = struct.pack("!BBHHH", VECTOR_DMP_SET_PROPERTY, 0xA1, 0x0000, 0x0001, SLOTS + 1)
        buf[125] = 0x00
        self._buf = buf

    def frame(self, data: bytes, *, terminated: bool = False) -> bytearray:
        """The packet for ``data`` (512 slots), numbered with the next sequence. The same buffer is returned
        each time, patched: send it before asking for the next frame."""
        if len(data) != SLOTS:
            raise ValueError(f"a DMX frame is {SLOTS} slots, not {len(data)}")
        buf = self._buf
        buf[_E131_SEQUENCE] = self.sequence
        buf[_E131_OPTIONS] = STREAM_TERMINATED if terminated else 0
        buf[_E131_DATA:] = data
        self.sequence = (self.sequence + 1) & 0xFF
        return buf


class ArtDmxPacket:
    """One universe's ArtDmx packet, kept formatted between frames."""

    def __init__(self, universe: int) -> None:
        if not 0 <= universe <= 0x7FFF:
            raise ValueError(f"Art-Net universes (15-bit Port-Address) are 0-32767, not {universe}")
        sub_uni, net = port_address(universe)
        self.universe = universe
        self.sequence = 1  # of the next frame: 1-255; 0 would tell the node not to reorder at all
        buf = bytearray(ARTDMX_SIZE)
        buf[0:8] = ARTNET_ID
        buf[8:18] = struct.pack("<H", OP_DMX) + struct.pack("!HBBBBH", PROTOCOL_VERSION, 0, 0, sub_uni, net, SLOTS)
        self._buf = buf

    def frame(self, data: bytes) -> bytearray:
        """Like :meth:`E131Packet.frame`: the one patched buffer, with the next sequence (255 is followed by 1)."""
        if len(data) != SLOTS:
            raise ValueError(f"a DMX frame is {SLOTS} slots, not {len(data)}")
        buf = self._buf
        buf[_ARTDMX_SEQUENCE] = self.sequence
        buf[_ARTDMX_DATA:] = data
        self.sequence = self.sequence % 255 + 1
        return buf
