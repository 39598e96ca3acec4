"""The venue LAN address that QR codes and printed links carry (never loopback unless asked)."""

from __future__ import annotations

import ipaddress
import logging

import ifaddr

log = logging.getLogger(__name__)


def lan_address() -> str | None:
    """The first private IPv4 address of an interface that is not loopback, else any non-loopback one."""
    candidates: list[ipaddress.IPv4Address] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                address = ipaddress.IPv4Address(ip.ip)
                if not (address.is_loopback or address.is_link_local):
                    candidates.append(address)
    candidates.sort(key=lambda a: not a.is_private)
    return str(candidates[0]) if candidates else None


def public_url(configured: str | None, bind: str, port: int) -> str:
    """What phones are sent to: the configured URL, else http://<LAN address>:<port>."""
    if configured:
        return configured.rstrip("/")
    if bind not in ("0.0.0.0", "::", ""):
        return f"http://{bind}:{port}"
    address = lan_address()
    if address is None:
        log.warning("no LAN address found: phones cannot reach this machine; pass --public-url")
        address = "127.0.0.1"
    return f"http://{address}:{port}"
