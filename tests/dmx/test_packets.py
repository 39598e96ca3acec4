"""E1.31 and ArtDmx packets as Stage builds them, read back by decoders that are not Stage's: the ``sacn``
package for E1.31, the receivers' ArtDmx parser and golden bytes from the Art-Net 4 layout for Art-Net."""

from __future__ import annotations

import ipaddress
import uuid

import pytest
from sacn.messages.data_packet import DataPacket

from stage.dmx.packets import (ARTDMX_SIZE, E131_SIZE, ArtDmxPacket, E131Packet, fit_source_name, multicast_group,
                               port_address)
from tests.dmx.receivers import artnet_sequence_ok, parse_artdmx, sacn_sequence_ok

CID = uuid.UUID("6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b").bytes
DATA = bytes((i * 7 + 3) & 0xFF for i in range(512))


def test_an_e131_packet_is_the_one_sacn_builds_and_decodes() -> None:
    packet = E131Packet(7, CID, "Tiny Stories", priority=150)
    raw = bytes(packet.frame(DATA))
    reference = DataPacket(cid=tuple(CID), sourceName="Tiny Stories", universe=7, dmxData=tuple(DATA), priority=150)
    assert len(raw) == E131_SIZE
    assert raw == bytes(reference.getBytes())
    decoded = DataPacket.make_data_packet(raw)
    assert (decoded.universe, decoded.priority, decoded.sourceName, decoded.sequence) == (7, 150, "Tiny Stories", 0)
    assert decoded.cid == tuple(CID)
    assert bytes(decoded.dmxData) == DATA
    assert decoded.dmxStartCode == 0
    assert (decoded.option_StreamTerminated, decoded.option_PreviewData, decoded.syncAddr) == (False, False, 0)


def test_the_sequence_counts_per_frame_and_wraps_to_zero() -> None:
    packet = E131Packet(1, CID, "s")
    sequences = [DataPacket.make_data_packet(bytes(packet.frame(DATA))).sequence for _ in range(300)]
    assert sequences[:3] == [0, 1, 2] and sequences[255:258] == [255, 0, 1]
    assert sacn_sequence_ok(sequences)


def test_stream_terminated_sets_only_its_bit_and_the_next_frame_clears_it() -> None:
    packet = E131Packet(63999, CID, "s", priority=0)
    terminated = bytes(packet.frame(DATA, terminated=True))
    assert terminated[112] == 0x40
    decoded = DataPacket.make_data_packet(terminated)
    assert decoded.option_StreamTerminated and decoded.universe == 63999 and decoded.priority == 0
    assert bytes(decoded.dmxData) == DATA
    assert not DataPacket.make_data_packet(bytes(packet.frame(DATA))).option_StreamTerminated


def test_each_frame_patches_the_data_of_the_same_buffer() -> None:
    packet = E131Packet(2, CID, "s")
    first = bytes(packet.frame(DATA))
    second = packet.frame(bytes(512))
    assert first[:111] == bytes(second[:111]) and first[113:126] == bytes(second[113:126])
    assert bytes(second[126:]) == bytes(512) and second[111] == 1
    assert packet.frame(DATA) is second


def test_the_source_name_is_cut_to_63_bytes_on_a_character_boundary() -> None:
    assert fit_source_name("Stage: Tiny Stories") == "Stage: Tiny Stories"
    assert fit_source_name("x" * 80) == "x" * 63
    cut = fit_source_name("é" * 40)  # 2 bytes each: 31 fit, the 32nd would straddle byte 63
    assert cut == "é" * 31 and len(cut.encode()) == 62
    packet = E131Packet(1, CID, "Stage:" + "ü" * 40)  # 6 + 28 * 2 = 62 bytes fit
    raw = bytes(packet.frame(DATA))
    assert raw[44:44 + 62].decode() == "Stage:" + "ü" * 28 and raw[44 + 62:108] == bytes(2)
    assert DataPacket.make_data_packet(raw).sourceName == "Stage:" + "ü" * 28


@pytest.mark.parametrize("args, message", [
    ((0, CID, "s"), "1-63999"), ((64000, CID, "s"), "1-63999"), ((1, CID[:8], "s"), "16 bytes"),
    ((1, CID, "s", 201), "0-200"),
])
def test_an_e131_packet_refuses_what_the_standard_does_not_allow(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        E131Packet(*args)


def test_a_frame_is_512_slots() -> None:
    with pytest.raises(ValueError, match="512 slots"):
        E131Packet(1, CID, "s").frame(bytes(24))
    with pytest.raises(ValueError, match="512 slots"):
        ArtDmxPacket(0).frame(bytes(513))


def test_the_multicast_group_of_a_universe() -> None:
    # E1.31 §9.3.1: 239.255 then the universe's two bytes (computed here: nothing is sent to such an address)
    for universe in (1, 256, 63999):
        group = ipaddress.IPv4Address(multicast_group(universe))
        assert group.is_multicast and int(group) == (239 << 24 | 255 << 16 | universe)


def test_an_artdmx_packet_has_the_art_net_4_header() -> None:
    packet = ArtDmxPacket(0x1234)
    raw = bytes(packet.frame(DATA))
    assert len(raw) == ARTDMX_SIZE == 530
    # ID, OpCode 0x5000 low byte first, ProtVer 14 high byte first, Sequence 1, Physical 0, SubUni 0x34,
    # Net 0x12, Length 512 high byte first.
    assert raw[:18] == b"Art-Net\x00" + bytes([0x00, 0x50, 0x00, 0x0E, 0x01, 0x00, 0x34, 0x12, 0x02, 0x00])
    parsed = parse_artdmx(raw)
    assert (parsed.sequence, parsed.physical, parsed.universe, parsed.data) == (1, 0, 0x1234, DATA)


@pytest.mark.parametrize("universe, sub_uni, net", [(0, 0, 0), (1, 1, 0), (255, 255, 0), (256, 0, 1),
                                                    (32767, 255, 127)])
def test_the_port_address_splits_into_subuni_and_net(universe: int, sub_uni: int, net: int) -> None:
    assert port_address(universe) == (sub_uni, net)
    raw = bytes(ArtDmxPacket(universe).frame(DATA))
    assert (raw[14], raw[15]) == (sub_uni, net)
    assert parse_artdmx(raw).universe == universe


def test_the_artdmx_sequence_runs_1_to_255_and_never_0() -> None:
    packet = ArtDmxPacket(3)
    sequences = [parse_artdmx(bytes(packet.frame(DATA))).sequence for _ in range(600)]
    assert sequences[:2] == [1, 2] and sequences[254:257] == [255, 1, 2]
    assert artnet_sequence_ok(sequences)


def test_art_net_universes_are_15_bits() -> None:
    with pytest.raises(ValueError, match="0-32767"):
        ArtDmxPacket(32768)
    with pytest.raises(ValueError, match="0-32767"):
        ArtDmxPacket(-1)
