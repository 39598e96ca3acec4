"""The venue LAN address that QR codes and printed links carry (never loopback unless asked).

A venue laptop often has more interfaces than the venue's network: Docker's bridges, a VPN, a
link-local address of a cable that is not plugged in. None of those reaches a phone. The join URL uses
the address of the interface the default route leaves by (the one the venue's router is on), unless
``--interface`` names another; addresses of container, VPN and link-local interfaces are never chosen.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ifaddr

from stage.errors import StageError

log = logging.getLogger(__name__)

# Interfaces no phone reaches: container and VM bridges, VPN and overlay tunnels (by their usual names).
VIRTUAL = re.compile(r"^(lo|docker|br-|veth|virbr|vnet|vmnet|vboxnet|podman|cni|flannel|cali|kube|lxc|lxd|incus|"
                     r"tun|tap|wg|tailscale|zt|utun|ppp|ipsec|nordlynx|proton|gpd|cscotun)")
CGNAT = ipaddress.IPv4Network("100.64.0.0/10")  # Tailscale and carrier NAT: never a venue's Wi-Fi


@dataclass(frozen=True)
class Candidate:
    interface: str
    address: ipaddress.IPv4Address


def candidates(adapters: Iterable[ifaddr.Adapter]) -> list[Candidate]:
    """Every IPv4 address a phone on the LAN could reach: not loopback, link-local, CGNAT or a virtual interface."""
    out = []
    for adapter in adapters:
        name = adapter.nice_name or adapter.name
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue  # IPv6: a QR code carries IPv4 (every venue's phones have it)
            address = ipaddress.IPv4Address(ip.ip)
            if address.is_loopback or address.is_link_local or address in CGNAT or VIRTUAL.match(name):
                continue
            out.append(Candidate(name, address))
    return out


def default_route_interface(route_table: Path = Path("/proc/net/route")) -> str | None:
    """The interface of the IPv4 default route (Linux's routing table), or None."""
    try:
        lines = route_table.read_text().splitlines()[1:]
    except OSError:
        return None
    best: tuple[int, str] | None = None
    for line in lines:
        fields = line.split()
        if len(fields) >= 8 and fields[1] == "00000000" and fields[7] == "00000000":  # destination and mask 0
            metric = int(fields[6]) if fields[6].isdigit() else 0
            if best is None or metric < best[0]:
                best = (metric, fields[0])
    return best[1] if best else None


def choose(found: list[Candidate], default_interface: str | None, wanted: str | None) -> Candidate | None:
    """``--interface`` if given (an error when it has no usable address), else the default route's
    interface, else the first private address, else any."""
    if wanted:
        mine = [c for c in found if c.interface == wanted]
        if not mine:
            names = ", ".join(sorted({c.interface for c in found})) or "none"
            raise StageError(f"interface {wanted!r} has no address phones can reach (usable interfaces: {names})")
        return mine[0]
    for c in found:
        if c.interface == default_interface:
            return c
    return sorted(found, key=lambda c: not c.address.is_private)[0] if found else None


def named(adapters: Iterable[ifaddr.Adapter], interface: str) -> list[Candidate]:
    """Every non-loopback IPv4 address of one interface, whatever its name looks like: ``--interface`` is the
    operator's word (a bridge named br-lan, a hotspot in 100.64/10 can be the venue's network)."""
    return [Candidate(interface, ipaddress.IPv4Address(ip.ip)) for adapter in adapters
            if (adapter.nice_name or adapter.name) == interface for ip in adapter.ips
            if isinstance(ip.ip, str) and not ipaddress.IPv4Address(ip.ip).is_loopback]


def lan_address(interface: str | None = None) -> str | None:
    adapters = list(ifaddr.get_adapters())
    found = candidates(adapters)
    if interface:
        found = [c for c in found if c.interface != interface] + named(adapters, interface)
    chosen = choose(found, default_route_interface(), interface)
    if chosen is not None and len(found) > 1:
        others = ", ".join(f"{c.address} ({c.interface})" for c in found if c != chosen)
        log.info("join address %s (%s) chosen; also reachable here: %s; --interface NAME picks another",
                 chosen.address, chosen.interface, others)
    return str(chosen.address) if chosen else None


def public_url(configured: str | None, bind: str, port: int, scheme: str = "http", interface: str | None = None) -> str:
    """What phones are sent to: the configured URL, else <scheme>://<LAN address>:<port>."""
    if configured:
        return configured.rstrip("/")
    if bind not in ("0.0.0.0", "::", ""):
        return f"{scheme}://{bind}:{port}"
    address = lan_address(interface)
    if address is None:
        log.warning("no LAN address found: phones cannot reach this machine; pass --public-url")
        address = "127.0.0.1"
    return f"{scheme}://{address}:{port}"


def base_url(settings: Any) -> str:
    """The server's URL from its settings: https when it serves TLS, the chosen interface's address."""
    scheme = "https" if settings.tls_cert else "http"
    return public_url(settings.public_url, settings.bind, settings.port, scheme=scheme, interface=settings.interface)
