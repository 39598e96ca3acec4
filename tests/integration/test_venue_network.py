"""Issue 19: behind the venue's reverse proxy each phone counts as itself (``--behind-proxy N``), and the join
URL never carries a Docker, VPN or link-local address (stage/network.py, with a made-up interface list)."""

from __future__ import annotations

import uuid
from pathlib import Path

import ifaddr
import pytest

from stage.errors import StageError
from stage.network import candidates, choose, default_route_interface, named
from tests.conftest import demo_show
from tests.peers import Peer
from tests.stage_process import StageProcess

CAP = 2  # joins per address a minute, for this test's show


def capped_show(tmp_path: Path) -> Path:
    show = demo_show(tmp_path)
    show.write_text(show.read_text().replace("\ndisplays:", f"\nlimits:\n  joins_per_address: {CAP}\n\ndisplays:", 1))
    return show


def join_from(server: StageProcess, forwarded_for: str, opened: list[Peer]) -> dict:
    phone = Peer(server.url, "/audience", headers={"X-Forwarded-For": forwarded_for})
    opened.append(phone)
    return phone.call("join", {"device_key": uuid.uuid4().hex, "name": "Ana"})


@pytest.mark.parametrize("hops", [1, 0])
def test_the_join_cap_counts_each_phone_behind_the_proxy(tmp_path: Path, hops: int) -> None:
    extra = ("--behind-proxy", str(hops)) if hops else ()
    server = StageProcess(capped_show(tmp_path), tmp_path / "data", extra_args=extra).start()
    opened: list[Peer] = []
    try:
        for _ in range(CAP):
            assert join_from(server, "192.168.1.10", opened)["ok"]
        refused = join_from(server, "192.168.1.10", opened)
        assert not refused["ok"] and refused["error"]["code"] == "rate_limited"
        # Another phone in the room: behind the proxy it is its own address; without --behind-proxy every request
        # is the proxy's (here 127.0.0.1), and the whole room shares the one cap.
        other = join_from(server, "192.168.1.11", opened)
        assert other["ok"] is bool(hops), other
    finally:
        server.stop()
        for peer in opened:
            peer.close()


def adapter(name: str, *addresses: str) -> ifaddr.Adapter:
    return ifaddr.Adapter(name, name, [ifaddr.IP(a, 24, name) for a in addresses])


VENUE_LAPTOP = [
    adapter("lo", "127.0.0.1"),
    adapter("docker0", "172.17.0.1"),
    adapter("br-3f2a9c", "172.18.0.1"),
    adapter("veth12ab", "169.254.3.4"),
    adapter("tun0", "10.8.0.6"),
    adapter("wg0", "10.66.66.2"),
    adapter("tailscale0", "100.101.102.103"),
    adapter("eth0", "169.254.20.30"),  # a cable not plugged in: link-local only
    adapter("wlp2s0", "192.168.1.42"),  # the venue's Wi-Fi
]


def test_the_join_url_never_carries_a_container_or_vpn_address() -> None:
    found = candidates(VENUE_LAPTOP)
    assert [(c.interface, str(c.address)) for c in found] == [("wlp2s0", "192.168.1.42")]
    # Even when the default route leaves by the VPN, the QR code carries the venue's address.
    assert str(choose(found, "tun0", None).address) == "192.168.1.42"


def test_the_default_routes_interface_wins_and_interface_chooses_another(tmp_path: Path) -> None:
    laptop = [*VENUE_LAPTOP, adapter("enp0s31f6", "10.20.0.5")]
    found = candidates(laptop)
    assert str(choose(found, "enp0s31f6", None).address) == "10.20.0.5"
    assert str(choose(found, "wlp2s0", None).address) == "192.168.1.42"
    assert str(choose(found, "enp0s31f6", "wlp2s0").address) == "192.168.1.42"
    with pytest.raises(StageError, match="interface 'docker0' has no address phones can reach"):
        choose(found, None, "docker0")
    table = tmp_path / "route"
    table.write_text(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        "docker0\tAC110000\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
        "wlp2s0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
        "enp0s31f6\t00000000\t0100140A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n")
    assert default_route_interface(table) == "enp0s31f6"  # the lowest metric of the default routes
    assert default_route_interface(tmp_path / "missing") is None


def test_interface_may_name_a_bridge_the_guess_would_skip() -> None:
    # A venue router's LAN bridge can be called br-lan: the operator's --interface is taken at its word.
    laptop = [*VENUE_LAPTOP, adapter("br-lan", "192.168.8.1")]
    assert "br-lan" not in {c.interface for c in candidates(laptop)}
    assert [str(c.address) for c in named(laptop, "br-lan")] == ["192.168.8.1"]
    assert str(choose([*candidates(laptop), *named(laptop, "br-lan")], "wlp2s0", "br-lan").address) == "192.168.8.1"
    assert named(laptop, "lo") == []  # loopback never, even when asked
