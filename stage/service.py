"""``stage service SHOW [serve options]``: the systemd unit that starts ``stage serve`` at boot.

Printed by default (to read, or to hand to the venue's IT); ``--install`` writes it to /etc/systemd/system
(or ``--unit-dir``) and prints the two systemctl commands that enable and start it. It does not run them:
starting a show is the operator's call, and inside a container there is often no systemd to ask.

The unit carries no passphrase: ``stage serve`` keeps them in the data directory's credentials.json (mode
0600), made once and the same after every restart, so the unit file (world-readable) can be shown to anyone.
"""

from __future__ import annotations

import getpass
import os
import pwd
import re
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any, Mapping

import click
from rich.console import Console

from stage.errors import ShowFileError
from stage.settings import DEFAULT_PORT
from stage.show.loader import load_show

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

SYSTEM_UNITS = Path("/etc/systemd/system")
OPEN_FILES = 65536  # every phone is a socket: a house of thousands needs far more than the usual 1,024
SECRET_OPTIONS = ("--host-password", "--moderator-password", "--crew-password")


def unit_text(show_path: Path, title: str, data_dir: Path, user: str, serve_args: list[str],
              executable: str = sys.executable, low_ports: bool = False) -> str:
    """The unit: absolute paths only (systemd has no working directory of the operator's), restarts on
    failure but not in a loop, a clean stop on SIGTERM (stage/shutdown.py), hardening that leaves the data
    directory writable and the camera reachable."""
    command = [executable, "-m", "stage", "serve", str(show_path), "--data", str(data_dir), *serve_args]
    exec_start = " ".join(_quote(part) for part in command)
    # Ports below 1024 (443, 80) as an ordinary user: the one capability, kept across NoNewPrivileges.
    low_ports = ("AmbientCapabilities=CAP_NET_BIND_SERVICE\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"
                 if low_ports else "")
    return f"""[Unit]
Description=Stage: {_escape(title)}
After=network-online.target
Wants=network-online.target
# Five failed starts within a minute: stop trying and let `systemctl status` say why.
StartLimitIntervalSec=60
StartLimitBurst=5

[Service]
Type=simple
User={user}
WorkingDirectory={_escape(str(show_path.parent))}
ExecStart={exec_start}
Environment=PYTHONUNBUFFERED=1
Restart=on-failure
RestartSec=2
KillSignal=SIGTERM
TimeoutStopSec=30
LimitNOFILE={OPEN_FILES}
# DMX out's frame loop may take a real-time slot (docs/dmx.md): a steady 40 Hz beside a busy server
LimitRTPRIO=10
{low_ports}NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ReadWritePaths={_escape(str(data_dir))}

[Install]
WantedBy=multi-user.target
"""


def _escape(value: str) -> str:
    return value.replace("%", "%%")  # systemd expands %-specifiers in most settings


def _quote(part: str) -> str:
    """One ExecStart word: systemd splits on spaces and honours quotes as a shell does, and expands % and $."""
    return _escape(shlex.quote(part)).replace("$", "$$")


def service_user(given: str | None) -> str:
    """The user the show runs as: --user, else whoever ran sudo, else the current user. Never root unasked."""
    name = given or os.environ.get("SUDO_USER") or getpass.getuser()
    try:
        pwd.getpwnam(name)
    except KeyError:
        raise click.UsageError(f"no user {name!r} on this machine") from None
    if name == "root" and given != "root":
        raise click.UsageError("the show would run as root: pass --user NAME (an ordinary user), or --user root "
                               "if that is what you want")
    return name


PATH_OPTIONS = ("--data", "--tls-cert", "--tls-key")  # serve reads these relative to where it starts


def data_dir_of(show_path: Path, serve_args: list[str],
                env: Mapping[str, str] | None = None) -> tuple[Path, list[str]]:
    """The data directory as an absolute path (serve's default, ``data/<show>``, and STAGE_DATA are relative
    to where it starts; under systemd that is WorkingDirectory, not here), and the other serve options with
    --tls-cert and --tls-key made absolute too: the unit's serve resolves nothing against the operator's cwd."""
    env = os.environ if env is None else env
    rest: list[str] = []
    paths: dict[str, str] = {}
    args = iter(serve_args)
    for arg in args:
        option, equals, value = arg.partition("=")
        if option not in PATH_OPTIONS:
            rest.append(arg)
            continue
        value = value if equals else next(args, "")
        if not value:
            raise click.UsageError(f"{option} needs a path")
        paths[option] = value
    for option in ("--tls-cert", "--tls-key"):
        if option in paths:
            rest += [option, str(Path(paths[option]).resolve())]
    data = paths.get("--data") or env.get("STAGE_DATA") or Path("data") / show_path.stem
    return Path(data).resolve(), rest


def _check_serve_options(show_path: Path, serve_args: list[str]) -> dict[str, Any]:
    """Parse them as ``stage serve`` would, so a typo is an error now rather than a unit that fails at boot;
    the parsed options. Nothing secret may go on ExecStart: the unit file is world-readable, and ps shows it."""
    from stage.cli import serve

    for arg in serve_args:
        if arg.split("=", 1)[0] in SECRET_OPTIONS:
            raise click.UsageError(f"{arg.split('=', 1)[0]} would put a passphrase in a world-readable unit file: "
                                   "set it in the show file (server.host_password, ...) or let Stage make one "
                                   "(kept in the data directory's credentials.json)")
    params = serve.make_context("serve", [str(show_path), *serve_args], resilient_parsing=False).params
    for option in ("database", "redis"):
        if params.get(option) and urlsplit(params[option]).password:
            raise click.UsageError(f"--{option} carries a password, which would be world-readable in the unit: "
                                   "leave it out of the URL (PostgreSQL: ~/.pgpass of the show's user; Redis: an "
                                   "EnvironmentFile= of mode 0600 with STAGE_REDIS_URL, added to the unit by hand)")
    return params


@click.command("service", context_settings={"ignore_unknown_options": True})
@click.argument("show_path", metavar="SHOW", type=click.Path(path_type=Path))
@click.option("--user", help="Run the show as this user (default: the one who ran sudo, else you).")
@click.option("--name", help="The unit's name (default: stage-<show file name>).")
@click.option("--install", is_flag=True, help="Write the unit (to /etc/systemd/system or --unit-dir) instead of "
              "printing it.")
@click.option("--unit-dir", type=click.Path(file_okay=False, path_type=Path), help="Where --install writes.")
@click.argument("serve_args", nargs=-1, type=click.UNPROCESSED)
def service_command(show_path: Path, user: str | None, name: str | None, install: bool, unit_dir: Path | None,
                    serve_args: tuple[str, ...]) -> None:
    """Print (or --install) a systemd unit that starts `stage serve SHOW [serve options]` at boot."""
    try:
        show = load_show(show_path)
    except ShowFileError as exc:
        for problem in exc.problems:
            err_console.print(str(problem), markup=False)
        sys.exit(1)
    show_path = show_path.resolve()
    data_dir, rest = data_dir_of(show_path, list(serve_args))
    params = _check_serve_options(show_path, rest)
    ports = (params.get("port") or show.server.port or DEFAULT_PORT, params.get("http_port") or show.server.http_port)
    unit_name = name or f"stage-{re.sub(r'[^A-Za-z0-9_.-]', '-', show_path.stem)}"
    # This interpreter: the one Stage is installed in (a checkout's .venv, a pipx venv), whatever PATH holds at boot.
    text = unit_text(show_path, show.title, data_dir, service_user(user), rest,
                     low_ports=any(port is not None and port < 1024 for port in ports))
    if not install:
        console.print(text, markup=False, end="")
        return
    target_dir = unit_dir or SYSTEM_UNITS
    target = target_dir / f"{unit_name}.service"
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(0o644)
        # ReadWritePaths must exist when the unit starts, and belong to the show's user.
        data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam(service_user(user))
            os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    except OSError as exc:
        err_console.print(f"stage: cannot write {target}: {exc.strerror} (run it with sudo)", markup=False)
        sys.exit(1)
    console.print(f"Wrote {target}. Start it now and at every boot with:", markup=False)
    console.print(f"  sudo systemctl daemon-reload && sudo systemctl enable --now {unit_name}", markup=False)
    console.print(f"Its log: journalctl -u {unit_name} -f, and {data_dir / 'stage.log'}", markup=False)
