"""The banner ``stage serve`` prints at start (once, by the supervisor, under ``--workers``)."""

from __future__ import annotations

import io
import shlex
from collections.abc import Callable
from typing import Any

import qrcode
from rich.console import Console

from stage.local_rigs import agent_command
from stage.show.models import Show


def print_banner(console: Console, join_url: str, settings: Any, show: Show, display_key: Callable[[str], str],
                 store: str, osc_in: str | None, listening: str | None = None) -> None:
    """What the operator needs at doors: the QR code, every console with its passphrase, each display's URL."""
    base = join_url.rstrip("/")
    qr = qrcode.QRCode(border=1)
    qr.add_data(join_url)
    text = io.StringIO()
    qr.print_ascii(out=text, invert=True)
    console.print(f"\n[bold]{show.title}[/bold]")
    console.print(text.getvalue(), markup=False)
    console.print(f"Phones join at   [bold]{join_url}[/bold]")
    console.print(f"Host console     {base}/host     passphrase: [bold]{settings.host_password}[/bold]")
    console.print(f"Moderation       {base}/moderate passphrase: [bold]{settings.moderator_password}[/bold]")
    console.print(f"Crew console     {base}/crew     passphrase: [bold]{settings.crew_password}[/bold]")
    for display in show.displays:
        console.print(f"Display {display.name:<8} {base}/display/{display.name}?key={display_key(display.name)}")
    if osc_in is not None:  # where it really listens: osc_in.bind may follow --bind
        console.print(f"OSC remote       {osc_in}  (/stage/go, /stage/back, ...)")
    if settings.osc_dry_run:
        console.print("OSC dry run      messages are logged, not sent")
    if show.dmx is not None:
        nodes = ", ".join(f"{n.name} ({n.protocol} {n.address or n.send})" for n in show.dmx.nodes)
        console.print(f"DMX out          {'dry run: frames are logged, not sent' if settings.dmx_dry_run else nodes}",
                      markup=False)
    for rig in show.rigs:
        started = rig.local and settings.local_rigs
        how = "agent started here" if started else "start its agent with: STAGE_CREW_PASSWORD=<crew passphrase> " \
            + shlex.join(["python", *agent_command(rig, base)[1:]])
        console.print(f"Rig {rig.name:<12} {how}", markup=False)
    console.print(f"Data directory   {settings.data_dir.resolve()}")
    console.print(f"Store            {store}", markup=False)
    listening = listening or f"{settings.bind}:{settings.port} ({settings.async_mode})"
    console.print(f"Listening on     {listening}; Ctrl-C stops\n")
