"""The command line: ``python -m stage serve SHOW`` and ``python -m stage check SHOW...``."""

from __future__ import annotations

import importlib
import logging
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from stage import collector, logs
from stage.errors import ShowFileError, StageError
from stage.banner import print_banner
from stage.local_rigs import LocalRigs
from stage.settings import Settings
from stage.shutdown import StopOnSignal
from stage.show.loader import load_show

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
log = logging.getLogger("stage")


def main(deferred_warnings: list[str] | None = None) -> None:
    cli(obj={"deferred_warnings": deferred_warnings or []})


class LazyGroup(click.Group):
    """Subcommands of their own modules, imported only when named (click's documented lazy group):
    `stage serve` started in 1.08 s, 0.2 s of it importing OpenCV, NumPy and PyAV for `stage capture`,
    and every test server and venue restart paid it. `stage --help` still lists them all."""

    LAZY = {"render": "stage.remix.cli:render_command", "export": "stage.archive.cli:export_command",
            "import": "stage.archive.cli:import_command", "capture": "stage.capture.cli:capture",
            "doctor": "stage.capture.cli:doctor", "rehearse": "stage.rehearse.cli:rehearse",
            "service": "stage.service:service_command", "book": "stage.book.cli:book_command"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            module, attr = self.LAZY[cmd_name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup)
@click.version_option(package_name=None, version=__import__("stage").__version__)
def cli() -> None:
    """Stage: the venue system for audience-made live shows."""


@cli.command()
# No dir_okay/exists checks here: the loader reports a missing file or a directory as file:line:col
# and exit status 1, like every other problem in a show, instead of click's usage error (exit 2).
@click.argument("shows", nargs=-1, required=True, type=click.Path(path_type=Path))
def check(shows: tuple[Path, ...]) -> None:
    """Validate show files without starting anything."""
    failed = 0
    for path in shows:
        try:
            show = load_show(path, resolve_nodes=True)
        except ShowFileError as exc:
            failed += 1
            for problem in exc.problems:
                err_console.print(str(problem), markup=False)
            continue
        console.print(f"{path}: ok — {show.title!r}, {len(show.flat_cues())} cues, {len(show.displays)} display(s)",
                      markup=False)
    if failed:
        sys.exit(1)


@cli.command()
@click.argument("name")
@click.argument("show_path", metavar="SHOW", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), help="Data directory.")
@click.option("--public-url", help="The server's URL as the projector machine reaches it.")
def display(name: str, show_path: Path, data_dir: Path | None, public_url: str | None) -> None:
    """Print the command that opens display NAME full screen in Chromium (kiosk, sound allowed)."""
    from stage.display.keys import display_key, kiosk_command
    from stage.network import base_url

    show = _load_or_exit(show_path)
    if show.display(name) is None:
        err_console.print(f"stage: {show_path} has no display {name!r} "
                          f"(displays: {', '.join(d.name for d in show.displays)})", markup=False)
        sys.exit(1)
    settings = Settings.resolve(show_path, show, dict(os.environ), {"data_dir": data_dir, "public_url": public_url})
    settings = settings.with_credentials()
    base = base_url(settings)
    console.print(kiosk_command(f"{base}/display/{name}?key={display_key(settings.secret_key, name)}"), markup=False)


@cli.command()
@click.argument("show_path", metavar="SHOW", type=click.Path(path_type=Path))  # checked by the loader
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), help="Data directory.")
@click.option("--database", help="postgresql://user@host:port/dbname for the store (or STAGE_DATABASE_URL; "
              "default: SQLite in the data directory).")
@click.option("--redis", help="redis://host:port/0 shared by several serve processes on one night (or STAGE_REDIS_URL; "
              "needs --database postgresql://...).")
@click.option("--bind", help="Address to listen on (default 0.0.0.0: the whole LAN).")
@click.option("--port", type=int, help="Port (default 8080).")
@click.option("--async-mode", type=click.Choice(["gevent", "eventlet"]), help="Server async mode (default gevent).")
@click.option("--host-password", envvar="STAGE_HOST_PASSWORD", help="Host console passphrase (or STAGE_HOST_PASSWORD).")
@click.option("--moderator-password", envvar="STAGE_MODERATOR_PASSWORD",
              help="Moderation console passphrase (or STAGE_MODERATOR_PASSWORD).")
@click.option("--crew-password", envvar="STAGE_CREW_PASSWORD", help="Crew console passphrase (or STAGE_CREW_PASSWORD).")
@click.option("--public-url", help="URL that QR codes and links carry (default: http://<LAN address>:<port>).")
@click.option("--osc-port", type=int, help="Listen for OSC remote control on this UDP port (default: the show's).")
@click.option("--osc-dry-run", is_flag=True, default=None, help="Log OSC messages instead of sending them.")
@click.option("--dmx-dry-run", is_flag=True, default=None,
              help="Log DMX frames (sACN, Art-Net) instead of sending them.")
@click.option("--no-local-rigs", "local_rigs", flag_value=False, default=None,
              help="Do not start capture agents for the show's local rigs (an agent is started by hand).")
@click.option("--workers", type=click.IntRange(1, 64), help="Run N serve processes and HAProxy in front of them on "
              "--port (needs --redis and --database postgresql://...).")
@click.option("--print-proxy-config", is_flag=True, help="With --workers: print the HAProxy config and the commands "
              "instead of starting them.")
@click.option("--trusted-proxy", multiple=True, help="Take each phone's address from X-Forwarded-For when the request "
              "comes from this address (a reverse proxy in front).")
@click.option("--behind-proxy", type=click.IntRange(0, 10), help="Trust N reverse-proxy hops in front (nginx, Caddy): "
              "each phone's address, scheme and host from their X-Forwarded-* headers.")
@click.option("--interface", help="The network interface whose address the join URL carries (default: the default "
              "route's).")
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path), help="HTTPS: the certificate chain (PEM).")
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path), help="HTTPS: the certificate's key (PEM).")
@click.option("--http-port", type=click.IntRange(1, 65535), help="With HTTPS: plain HTTP on this port redirects to it.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
              help="Log level (default info).")
@click.option("--metrics-bind", help="host:port of a separate /metrics listener for Prometheus, without a login.")
@click.option("--worker-name", "worker", hidden=True)
@click.pass_obj
def serve(obj: dict[str, Any], show_path: Path, workers: int | None, print_proxy_config: bool,
          **options: Any) -> None:
    """Serve a show: phones, consoles and displays on this machine's LAN."""
    # Ctrl-C and SIGTERM from here on are a clean stop, never a KeyboardInterrupt traceback (stage/shutdown.py).
    stopper = StopOnSignal()
    stopper.catch()
    show = _load_or_exit(show_path)
    try:
        settings = Settings.resolve(show_path, show, dict(os.environ), options).with_credentials()
        if workers and not settings.redis:
            raise ValueError("--workers shares one night between processes: add --redis redis://host:port/0 and "
                             "--database postgresql://user@host/dbname")
        if workers and settings.tls_cert:  # HAProxy in front speaks plain HTTP to phones and workers alike
            raise ValueError("--workers does not terminate TLS itself: put Caddy or nginx in front for HTTPS "
                             "(docs/https.md) and give serve --behind-proxy 1 instead of --tls-cert")
    except (ValueError, StageError) as exc:
        err_console.print(f"stage: {getattr(exc, 'message', exc)}", markup=False)
        sys.exit(1)
    logs.configure(settings.data_dir, settings.worker, settings.log_level)
    if workers:
        from stage.cluster.supervisor import serve_workers

        if stopper.requested is not None:  # stopped while starting: the supervisor has its own handlers
            sys.exit(0)
        sys.exit(serve_workers(settings, show, workers, print_proxy_config, console))
    for warning in obj["deferred_warnings"]:
        log.info("async mode %s: %s", settings.async_mode, warning, extra={"log_file_only": True})
    try:
        _serve(settings, show, stopper)
    except StageError as exc:
        err_console.print(f"stage: {exc.message}", markup=False)
        sys.exit(1)
    finally:
        stopper.finished()  # a Ctrl-C pressed while the process exits is ignored, not a death by SIGINT


def _load_or_exit(path: Path) -> Any:
    """The show, or every problem in it as file:line:column and exit status 1."""
    try:
        return load_show(path)
    except ShowFileError as exc:
        for problem in exc.problems:
            err_console.print(str(problem), markup=False)
        sys.exit(1)


def _serve(settings: Any, show: Any, stopper: StopOnSignal) -> None:
    from stage.server import create_app
    from stage.web import listen

    if settings.tls_cert:  # a wrong certificate or key: one line before anything starts, not after the banner
        listen.tls_context(settings.tls_cert, settings.tls_key)
    app, socketio = create_app(settings, show)
    night = app.extensions["stage.night"]
    rigs = _local_rigs(settings, night, socketio)
    try:
        if stopper.requested is None:  # a Ctrl-C while the night loaded: close it again, serving nothing
            _serve_until_stopped(app, socketio, settings, night, rigs, stopper)
    finally:
        rigs.close()
        if app.extensions["stage.cluster"] is not None:
            app.extensions["stage.cluster"].stop()
        osc, remote = app.extensions["stage.osc"]
        if remote is not None:
            remote.close()
        osc.close()
        if app.extensions.get("stage.dmx") is not None:
            app.extensions["stage.dmx"].close()  # sACN's Stream_Terminated: nodes let go at once (stage/dmx/output.py)
        night.close()  # a batched report still due must not read the closed store
        app.extensions["stage.store"].close()
        _stopped(settings, night.store)


def _serve_until_stopped(app: Any, socketio: Any, settings: Any, night: Any, rigs: LocalRigs,
                         stopper: StopOnSignal) -> None:
    from stage.server import start_serving
    from stage.web import listen

    start_serving(app, duties=(rigs.start,) if settings.local_rigs else ())  # the rigs' agents: where the show runs
    remote = app.extensions["stage.osc"][1]
    if settings.behind_proxy and settings.bind not in ("127.0.0.1", "::1", "localhost"):
        log.warning("--behind-proxy %d believes X-Forwarded-For from anyone who reaches %s:%d: make sure only the "
                    "proxy can (or --bind 127.0.0.1 with the proxy on this machine)", settings.behind_proxy,
                    settings.bind, settings.port)
    if settings.worker:  # under --workers: the supervisor printed the banner once, for the proxy's URL
        log.info("worker %s serving on %s:%d", settings.worker, settings.bind, settings.port)
    else:
        print_banner(console, app.extensions["stage.join_url"], settings, night.show, night.display_key,
                     store=f"{night.store.kind} {night.store.location}",
                     osc_in=f"udp {remote.bind}:{remote.port}" if remote is not None else None)

    stopper.install(socketio)  # SIGTERM and Ctrl-C: a stop no greenlet can swallow (see stage/shutdown.py)
    # Every phone is a socket: the usual soft limit of 1,024 descriptors would refuse phones past ~1,000.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        log.info("open files limit raised from %d to %s", soft, "unlimited" if hard == resource.RLIM_INFINITY else hard)
    _check_phone_room(hard, night.show.limits.max_phones)
    collector.tune()  # raised GC thresholds, and a full collection a minute (stage/collector.py says why)
    socketio.start_background_task(collector.collect_forever, socketio.sleep)
    try:  # returns when the stopper stopped the server: SIGINT never raises KeyboardInterrupt in here
        listen.serve(app, socketio, settings)
    except OSError as exc:
        raise StageError(f"cannot listen on {settings.bind}:{settings.port}: {exc.strerror}") from exc


def _stopped(settings: Any, store: Any) -> None:
    """The one line that ends every stop: the show stopped, and where the night's data is (for the export)."""
    if store.kind == "sqlite":
        log.info("Stage stopped; the night's data is in %s", settings.data_dir)
    else:
        log.info("Stage stopped; the night's data is in %s %s, its media in %s", store.kind, store.location,
                 settings.data_dir)


def _local_rigs(settings: Any, night: Any, socketio: Any) -> LocalRigs:
    """The show's local capture agents, talking to this server over loopback (started where the show runs)."""
    host = "127.0.0.1" if settings.bind in ("0.0.0.0", "", "localhost") else settings.bind
    # Over HTTPS the agent does not check the certificate on loopback only (stage/capture/link.py verifies_tls).
    scheme = "https" if settings.tls_cert else "http"
    rigs = LocalRigs(night.show.rigs, f"{scheme}://{host}:{settings.port}", settings.crew_password or "",
                     socketio.start_background_task, socketio.sleep, time.monotonic,
                     spool_root=settings.data_dir / "capture-spool")
    return rigs


# Descriptors a server needs besides its phones: the store, logs, displays, consoles, rigs, uploads, workers.
SPARE_DESCRIPTORS = 200
FULL_HOUSE = 2_000  # phones to expect when the show sets no limits.max_phones


def _check_phone_room(open_files_limit: int, max_phones: int | None) -> None:
    """Every phone holds one open socket: say how many this process can take, and warn when that is
    below the show's own phone cap, or below a full house when the show sets none (phones past it would
    fail to connect)."""
    if open_files_limit == resource.RLIM_INFINITY:
        return
    room = max(0, open_files_limit - SPARE_DESCRIPTORS)
    wanted = max_phones if max_phones is not None else FULL_HOUSE
    if room < wanted:
        log.warning("this process can hold about %d phones (open files limit %d), fewer than %s; raise the hard "
                    "limit (ulimit -Hn, /etc/security/limits.conf)", room, open_files_limit,
                    f"the show's max_phones {max_phones}" if max_phones is not None else f"a house of {FULL_HOUSE}")
    else:
        log.info("room for about %d phones (open files limit %d)", room, open_files_limit)
